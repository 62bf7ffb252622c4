"""A local Lambda runtime: the deployed function code in warm worker processes.

Each function version gets up to ``max_workers`` processes (``worker.py``) that
import the handler once and then serve invocations; ``capacity`` decides who
runs, so a caller here rarely waits for a process. The runtime enforces the
function's timeout (the worker is killed, as AWS ends the execution
environment), reports crashes as ``Runtime.ExitError``, and writes START, END
and REPORT lines plus everything the function printed to CloudWatch Logs
``/aws/lambda/<name>``.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orders_lib.sandbox.chaos import Chaos

LOG = logging.getLogger(__name__)
WORKER_SCRIPT = Path(__file__).with_name("worker.py")
STARTUP_TIMEOUT_S = 30.0

LogSink = Callable[[str, str, str, list[tuple[int, str]]], None]  # function, group, stream, [(epoch ms, message)]
# function name -> the credentials its environment gets (AWS_ACCESS_KEY_ID, ...)
Credentials = Callable[[str], dict[str, str]]
# after each invocation: function name, duration (ms), function error?, invocations running then
Observer = Callable[[str, float, bool, int], None]


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    arn: str
    handler: str
    timeout_s: float
    memory_mb: int
    environment: dict[str, str]
    code_sha: str
    code_zip: Callable[[], bytes] = field(compare=False, repr=False)


@dataclass
class Invocation:
    request_id: str
    payload: bytes
    function_error: str | None
    log_text: str
    duration_ms: float
    init_ms: float | None = None


class _Worker:
    def __init__(self, spec: FunctionSpec, code_dir: Path, env: dict[str, str], log_dir: Path):
        self.spec = spec
        self.stream_name = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self.log_path = log_dir / f"{spec.name}-{uuid.uuid4().hex[:8]}.log"
        started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-u", str(WORKER_SCRIPT), str(code_dir), spec.handler, str(self.log_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**env, "AWS_LAMBDA_LOG_STREAM_NAME": self.stream_name},
            cwd=code_dir,
            start_new_session=True,
        )
        self.log_offset = 0
        line = self._read_line(STARTUP_TIMEOUT_S)
        if line is None:
            self.kill()
            raise RuntimeError(f"worker for {spec.name} did not start: {self.read_log()[-2000:]}")
        self.init_ms: float | None = (time.monotonic() - started) * 1000

    def _read_line(self, timeout: float) -> bytes | None:
        assert self.process.stdout is not None
        try:
            ready, _, _ = select.select([self.process.stdout], [], [], max(0.0, timeout))
            return (self.process.stdout.readline() or None) if ready else None
        except (ValueError, OSError):  # the worker was killed (shutdown, chaos) while we waited
            return None

    def call(self, request: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """Send one invocation; None when the worker timed out or died."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, ValueError):  # gone, or its pipe closed by a kill
            return None
        line = self._read_line(timeout)
        return json.loads(line) if line else None

    def read_log(self) -> str:
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(self.log_offset)
                data = handle.read()
        except FileNotFoundError:
            return ""
        self.log_offset += len(data)
        return data.decode("utf-8", "replace")

    def max_memory_mb(self) -> int:
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
        except (OSError, ValueError):
            pass
        return 0

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.alive:
            with contextlib.suppress(ProcessLookupError):  # it ended by itself meanwhile
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream:
                stream.close()
        self.log_path.unlink(missing_ok=True)


class LambdaRuntime:
    def __init__(
        self,
        state_dir: Path,
        endpoint_url: str,
        region: str,
        log_sink: LogSink,
        chaos: Chaos | None = None,
        max_workers: int = 4,
        credentials: Credentials | None = None,
        observer: Observer | None = None,
    ):
        state_dir = Path(state_dir).resolve()
        self.code_root = state_dir / "functions"
        self.log_dir = state_dir / "worker-logs"
        self.code_root.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.endpoint_url, self.region = endpoint_url, region
        self.log_sink = log_sink
        self.chaos = chaos or Chaos()
        self.max_workers = max_workers
        self.credentials = credentials
        self.observer = observer
        self._running: dict[str, int] = {}
        self._idle: dict[tuple[str, str], list[_Worker]] = {}
        self._count: dict[tuple[str, str], int] = {}
        self._live: set[_Worker] = set()
        self._condition = threading.Condition()
        self._closed = False

    # -- workers -------------------------------------------------------------------
    def _code_dir(self, spec: FunctionSpec) -> Path:
        target = self.code_root / f"{spec.name}-{spec.code_sha[:16]}"
        if not target.exists():
            staging = target.with_name(target.name + f".{uuid.uuid4().hex[:6]}.tmp")
            with zipfile.ZipFile(io.BytesIO(spec.code_zip())) as archive:
                archive.extractall(staging)
            try:
                staging.rename(target)
            except OSError:  # another thread won the race
                shutil.rmtree(staging, ignore_errors=True)
        return target

    def _environment(self, spec: FunctionSpec) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "TZ": "UTC",
            "PYTHONDONTWRITEBYTECODE": "1",
            "_HANDLER": spec.handler,
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(spec.timeout_s)),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "SANDBOX_FUNCTION_ARN": spec.arn,
        }
        if self.credentials:  # the function's own identity, as Lambda gives it its role's session
            env.update(self.credentials(spec.name))
        env.update(spec.environment)
        return env

    def _acquire(self, spec: FunctionSpec) -> _Worker:
        key = (spec.name, spec.code_sha)
        with self._condition:
            while True:
                if self._closed:
                    raise RuntimeError("the runtime is shutting down")
                idle = self._idle.setdefault(key, [])
                while idle:
                    worker = idle.pop()
                    if worker.alive and worker.spec == spec:
                        return worker
                    self._count[key] -= 1
                    worker.kill()
                if self._count.get(key, 0) < self.max_workers:
                    self._count[key] = self._count.get(key, 0) + 1
                    break
                self._condition.wait(1.0)
        try:
            worker = _Worker(spec, self._code_dir(spec), self._environment(spec), self.log_dir)
            with self._condition:
                self._live.add(worker)
            return worker
        except Exception:
            with self._condition:
                self._count[key] -= 1
                self._condition.notify()
            raise

    def _release(self, worker: _Worker, keep: bool) -> None:
        key = (worker.spec.name, worker.spec.code_sha)
        with self._condition:
            if keep and worker.alive and not self._closed:
                self._idle.setdefault(key, []).append(worker)
            else:
                self._count[key] -= 1
                self._live.discard(worker)
                worker.kill()
            self._condition.notify()

    # -- invocation ------------------------------------------------------------------
    def worker_pids(self, function_name: str | None = None) -> list[int]:
        """Process ids of live workers (the reliability tests kill one)."""
        with self._condition:
            return [w.process.pid for w in self._live if function_name in (None, w.spec.name) and w.alive]

    def invoke(self, spec: FunctionSpec, event: bytes | str | None) -> Invocation:
        request_id = str(uuid.uuid4())
        worker = self._acquire(spec)
        with self._condition:
            self._running[spec.name] = running = self._running.get(spec.name, 0) + 1
        init_ms, worker.init_ms = worker.init_ms, None
        started, started_at = time.monotonic(), time.time()
        delay = self.chaos.delay_s(spec.name)
        if delay:
            time.sleep(min(delay, spec.timeout_s))
        crash = self.chaos.take_crash(spec.name)
        request = {
            "request_id": request_id,
            "event": event.decode() if isinstance(event, bytes) else (event or ""),
            "deadline_ms": time.time() * 1000 + (spec.timeout_s - delay) * 1000,
            "crash_after_ms": self.chaos.crash_after_ms if crash else None,
        }
        reply = worker.call(request, max(0.0, spec.timeout_s - delay))
        if reply is None and crash:
            worker.process.wait(timeout=5)
        duration_ms = (time.monotonic() - started) * 1000
        function_log = worker.read_log()
        keep = reply is not None
        if reply is None and worker.alive:
            message = f"{_now_iso()} {request_id} Task timed out after {spec.timeout_s:.2f} seconds"
            payload, error = {"errorMessage": message, "errorType": "Sandbox.Timedout"}, "Unhandled"
            function_log += message + "\n"
        elif reply is None:
            signal_name = "killed" if crash or worker.process.returncode == -signal.SIGKILL else f"exit status {worker.process.returncode}"
            message = f"RequestId: {request_id} Error: Runtime exited with error: signal: {signal_name}"
            payload, error = {"errorMessage": message, "errorType": "Runtime.ExitError"}, "Unhandled"
            function_log += message + "\n"
        elif "error" in reply:
            payload, error = reply["error"], "Unhandled"
        else:
            payload, error = None, None
        body = json.dumps(payload).encode() if error else reply["payload"].encode()  # type: ignore[index]
        memory = worker.max_memory_mb()
        self._release(worker, keep)
        with self._condition:
            self._running[spec.name] -= 1
        if self.observer:
            self.observer(spec.name, duration_ms, error is not None, running)
        self._write_logs(spec, worker.stream_name, request_id, function_log, started_at, duration_ms, memory, init_ms)
        return Invocation(request_id, body, error, function_log, duration_ms, init_ms)

    def _write_logs(
        self,
        spec: FunctionSpec,
        stream: str,
        request_id: str,
        text: str,
        started_at: float,
        duration_ms: float,
        memory: int,
        init_ms: float | None,
    ) -> None:
        """START at the invocation's start, as Lambda writes it; the function's lines (read from
        the worker once it answered) and END/REPORT at its end."""
        start_ms = int(started_at * 1000)
        end_ms = max(start_ms, int(started_at * 1000 + duration_ms))
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {int(duration_ms) + 1} ms\t"
            f"Memory Size: {spec.memory_mb} MB\tMax Memory Used: {memory} MB"
        )
        if init_ms is not None:
            report += f"\tInit Duration: {init_ms:.2f} ms"
        lines = [f"START RequestId: {request_id} Version: $LATEST"]
        lines += [line for line in text.splitlines() if line.strip()]
        lines += [f"END RequestId: {request_id}", report]
        try:
            self.log_sink(
                spec.name, f"/aws/lambda/{spec.name}", stream, [(start_ms if n == 0 else end_ms, line) for n, line in enumerate(lines)]
            )
        except Exception:  # losing a log line must not fail an invocation
            LOG.exception("could not write logs for %s", spec.name)

    def shutdown(self) -> None:
        with self._condition:
            self._closed = True
            workers = list(self._live)
            self._live.clear()
            self._idle.clear()
            self._condition.notify_all()
        for worker in workers:
            worker.kill()


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

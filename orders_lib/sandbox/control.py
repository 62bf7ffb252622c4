"""Start, stop and inspect the background sandbox process.

The process writes ``<state dir>/sandbox.json`` (pid, port, endpoint, status,
stack outputs) once it is ready and removes it when it stops. A state file
whose pid is gone (a killed process) is stale: it is reported and removed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_PORT = 4566
DEFAULT_STATE_DIR = Path(os.environ.get("ORDERS_SANDBOX_DIR", ".sandbox"))
STATE_FILE = "sandbox.json"
LOG_FILE = "sandbox.log"
START_TIMEOUT_S = 90.0


class SandboxError(RuntimeError):
    pass


@dataclass
class SandboxState:
    pid: int
    port: int
    endpoint: str
    status: str
    outputs: dict[str, str]
    stack_name: str | None = None

    @classmethod
    def read(cls, state_dir: Path) -> SandboxState | None:
        try:
            data = json.loads((state_dir / STATE_FILE).read_text())
        except (FileNotFoundError, ValueError):
            return None
        return cls(**data)

    def write(self, state_dir: Path) -> None:
        path = state_dir / STATE_FILE
        path.with_suffix(".tmp").write_text(json.dumps(vars(self), indent=2))
        path.with_suffix(".tmp").replace(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a reused pid that is not ours counts as gone
        return b"orders_lib.sandbox" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True


def running(state_dir: Path = DEFAULT_STATE_DIR) -> SandboxState | None:
    """The live sandbox's state; a stale state file is removed."""
    state = SandboxState.read(state_dir)
    if state is None:
        return None
    if not _alive(state.pid):
        (state_dir / STATE_FILE).unlink(missing_ok=True)
        return None
    return state


def serve(
    port: int,
    state_dir: Path,
    *,
    deploy: bool = True,
    stop: threading.Event,
    max_workers: int | None = None,
    max_queue: int | None = None,
    ttl_interval_s: float | None = None,
    iam: str | None = None,
) -> int:
    """Run the sandbox until ``stop`` is set (the body of the background process)."""
    from orders_lib.sandbox.dynamodb.ttl import DEFAULT_INTERVAL_S
    from orders_lib.sandbox.lambda_.invocation.capacity import Limits

    from .server import Sandbox  # moto is heavy: only the server process imports it

    interval = ttl_interval_s or float(os.environ.get("ORDERS_SANDBOX_TTL_INTERVAL") or DEFAULT_INTERVAL_S)
    sandbox = Sandbox(
        state_dir,
        port=port,
        limits=Limits.from_env(max_workers=max_workers, max_queue=max_queue),
        ttl_interval_s=interval,
        iam=iam or os.environ.get("ORDERS_SANDBOX_IAM") or "enforce",
    )
    sandbox.start()
    state = SandboxState(os.getpid(), sandbox.port, sandbox.endpoint, "starting", {})
    state.write(state_dir)
    try:
        if deploy:
            from orders_lib.sandbox.cloudformation.stack import deploy_into

            state.stack_name, state.outputs = deploy_into(sandbox)
        state.status = "ready"
        sandbox.status = {"status": "ready", "outputs": state.outputs}
        state.write(state_dir)
        print(f"sandbox ready on {sandbox.endpoint}", flush=True)
        stop.wait()
        return 0
    except Exception as error:
        sandbox.status = {"status": "failed", "error": str(error)}
        print(f"sandbox failed: {error}", file=sys.stderr, flush=True)
        raise
    finally:
        sandbox.stop()
        (state_dir / STATE_FILE).unlink(missing_ok=True)


def start(
    port: int = DEFAULT_PORT,
    state_dir: Path = DEFAULT_STATE_DIR,
    *,
    deploy: bool = True,
    timeout_s: float = START_TIMEOUT_S,
    max_workers: int | None = None,
    max_queue: int | None = None,
    ttl_interval_s: float | None = None,
    iam: str | None = None,
) -> tuple[SandboxState, bool]:
    """Start the background process; returns (state, started_now).

    ``max_workers`` (warm processes per function) and ``max_queue`` (synchronous
    invocations waiting per function) default to ``ORDERS_SANDBOX_MAX_WORKERS``
    and ``ORDERS_SANDBOX_MAX_QUEUE``, else to ``capacity.Limits``' defaults;
    ``ttl_interval_s`` (how often expired items are deleted) to
    ``ORDERS_SANDBOX_TTL_INTERVAL``, else 10 s; ``iam`` (``enforce``, ``soft`` or
    ``off``: how the functions' execution roles are applied) to ``ORDERS_SANDBOX_IAM``,
    else ``enforce``.
    """
    existing = running(state_dir)
    if existing:
        return existing, False
    state_dir.mkdir(parents=True, exist_ok=True)
    log = open(state_dir / LOG_FILE, "ab")  # noqa: SIM115 - handed to the child
    command = [sys.executable, "-m", "orders_lib.sandbox", "serve", "--port", str(port), "--state-dir", str(state_dir)]
    if not deploy:
        command.append("--no-deploy")
    for option, value in (("--max-workers", max_workers), ("--max-queue", max_queue), ("--ttl-interval", ttl_interval_s), ("--iam", iam)):
        if value is not None:
            command += [option, str(value)]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    log.close()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SandboxError(f"the sandbox exited with code {process.returncode}:\n{tail(state_dir)}")
        state = SandboxState.read(state_dir)
        if state and state.pid == process.pid and state.status == "ready":
            return state, True
        time.sleep(0.1)
    process.terminate()
    raise SandboxError(f"the sandbox was not ready after {timeout_s:.0f} s:\n{tail(state_dir)}")


def stop(state_dir: Path = DEFAULT_STATE_DIR, timeout_s: float = 15.0) -> bool:
    """Stop the sandbox; False if none was running."""
    state = running(state_dir)
    if state is None:
        return False
    os.kill(state.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and _alive(state.pid):
        time.sleep(0.1)
    if _alive(state.pid):
        os.killpg(state.pid, signal.SIGKILL)
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    return True


def tail(state_dir: Path, lines: int = 30) -> str:
    try:
        return "\n".join((state_dir / LOG_FILE).read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def control(endpoint: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Call the sandbox's control API (``/_sandbox/<path>``)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{endpoint}/_sandbox/{path}", data=data, method="POST" if data else "GET", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())

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
CODE_CHANGED = (
    "the stack's or the functions' code changed since this state was deployed: `orders sandbox deploy` updates the "
    "stack in place, `make sandbox-start FRESH=1` starts empty with the new code"
)


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
    fresh: bool = False,
    strict: bool = False,
    snapshot_interval_s: float | None = None,
) -> int:
    """Run the sandbox until ``stop`` is set (the body of the background process).

    The state in ``state_dir`` is restored (``fresh``: the last snapshot is kept aside as
    ``<snapshot>.previous`` and the sandbox starts empty); a restored stack is not deployed again."""
    from orders_lib.sandbox.dynamodb.ttl import DEFAULT_INTERVAL_S
    from orders_lib.sandbox.lambda_.invocation.capacity import Limits

    from .persistence.snapshots import DEFAULT_INTERVAL_S as SNAPSHOT_INTERVAL_S
    from .server import Sandbox  # moto is heavy: only the server process imports it

    interval = ttl_interval_s or float(os.environ.get("ORDERS_SANDBOX_TTL_INTERVAL") or DEFAULT_INTERVAL_S)
    if snapshot_interval_s is None:
        snapshot_interval_s = float(os.environ.get("ORDERS_SANDBOX_SNAPSHOT_INTERVAL") or SNAPSHOT_INTERVAL_S)
    if fresh:
        keep_aside(state_dir)
    sandbox = Sandbox(
        state_dir,
        port=port,
        limits=Limits.from_env(max_workers=max_workers, max_queue=max_queue),
        ttl_interval_s=interval,
        iam=iam or os.environ.get("ORDERS_SANDBOX_IAM") or "enforce",
        strict=strict,
        snapshot_interval_s=snapshot_interval_s,
    )
    sandbox.start()
    state = SandboxState(os.getpid(), sandbox.port, sandbox.endpoint, "starting", {})
    state.write(state_dir)
    try:
        restored = deployed_stack(sandbox) if sandbox.restored else None
        if restored:
            state.stack_name, state.outputs = restored
            print(f"restored from {sandbox.state_dir}: stack {state.stack_name} as it was left (not deployed again)", flush=True)
            if sandbox.code_changed():
                print(f"WARNING: {CODE_CHANGED}", flush=True)
        elif deploy:
            state.stack_name, state.outputs = sandbox.deploy()
        state.status = "ready"
        sandbox.status = {"status": "ready", "outputs": state.outputs}
        if restored and sandbox.code_changed():
            sandbox.status["warning"] = CODE_CHANGED
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


def deployed_stack(sandbox: Any) -> tuple[str, dict[str, str]] | None:
    """The default stack's name and outputs if the (restored) sandbox holds it, complete."""
    from botocore.exceptions import ClientError

    from orders_lib.deploy.naming import names_for

    name = names_for(None).stack
    try:
        stack = sandbox.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    except ClientError:
        return None
    if not stack["StackStatus"].endswith("_COMPLETE") or "ROLLBACK" in stack["StackStatus"]:
        return None
    return name, {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def keep_aside(state_dir: Path) -> Path | None:
    """``--fresh``: the last snapshot becomes ``<name>.previous`` (one kept), so the start is empty."""
    from .persistence.snapshots import SNAPSHOT_FILE

    snapshot = state_dir / SNAPSHOT_FILE
    if not snapshot.exists():
        return None
    previous = snapshot.with_name(snapshot.name + ".previous")
    snapshot.replace(previous)
    return previous


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
    fresh: bool = False,
    strict: bool = False,
    snapshot_interval_s: float | None = None,
) -> tuple[SandboxState, bool]:
    """Start the background process; returns (state, started_now).

    ``max_workers`` (warm processes per function) and ``max_queue`` (synchronous
    invocations waiting per function) default to ``ORDERS_SANDBOX_MAX_WORKERS``
    and ``ORDERS_SANDBOX_MAX_QUEUE``, else to ``capacity.Limits``' defaults;
    ``ttl_interval_s`` (how often expired items are deleted) to
    ``ORDERS_SANDBOX_TTL_INTERVAL``, else 10 s; ``iam`` (``enforce``, ``soft`` or
    ``off``: how the functions' execution roles are applied) to ``ORDERS_SANDBOX_IAM``,
    else ``enforce``. The sandbox starts from the state it was stopped (or crashed) with in
    ``state_dir``; ``fresh`` starts it empty (the last snapshot kept as ``.previous``),
    ``strict`` refuses to start when the snapshot cannot be loaded.
    """
    existing = running(state_dir)
    if existing:
        return existing, False
    state_dir.mkdir(parents=True, exist_ok=True)
    log = open(state_dir / LOG_FILE, "ab")  # noqa: SIM115 - handed to the child
    command = [sys.executable, "-m", "orders_lib.sandbox", "serve", "--port", str(port), "--state-dir", str(state_dir)]
    for flag, wanted in (("--no-deploy", not deploy), ("--fresh", fresh), ("--strict", strict)):
        if wanted:
            command.append(flag)
    options = (
        ("--max-workers", max_workers),
        ("--max-queue", max_queue),
        ("--ttl-interval", ttl_interval_s),
        ("--iam", iam),
        ("--snapshot-interval", snapshot_interval_s),
    )
    for option, value in options:
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


def redeploy(state_dir: Path = DEFAULT_STATE_DIR, timeout_s: float = 180.0) -> SandboxState:
    """Deploy the current code into the running sandbox (a stack update; its data stays)."""
    live = running(state_dir)
    if live is None:
        raise SandboxError("no sandbox running: make sandbox-start")
    control(live.endpoint, "deploy", {})
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        deploying = control(live.endpoint, "health").get("deploy", {})
        if deploying.get("state") == "done":
            live.stack_name, live.outputs = deploying["stack"], deploying["outputs"]
            live.write(state_dir)
            return live
        if deploying.get("state") == "failed":
            raise SandboxError(f"the deploy failed: {deploying.get('error')}")
        time.sleep(0.3)
    raise SandboxError(f"the deploy did not finish within {timeout_s:.0f} s")


def save_snapshot(file: Path, state_dir: Path = DEFAULT_STATE_DIR, timeout_s: float = 120.0) -> dict[str, Any]:
    """Copy the sandbox's whole state to ``file``: a snapshot taken now if it runs, else its last one."""
    import shutil

    from .persistence.snapshots import SNAPSHOT_FILE

    live = running(state_dir)
    if live is not None:
        asked = control(live.endpoint, "snapshot", {})
        deadline = time.monotonic() + timeout_s
        while True:
            persistence = control(live.endpoint, "health")["persistence"]
            if persistence["snapshots"] > asked["snapshots"]:
                break
            if persistence["failures"] > asked["failures"] or persistence["skipped_busy"] > asked["skipped_busy"]:
                raise SandboxError(f"the snapshot was not taken: {persistence.get('last_error') or 'the sandbox stayed busy'}")
            if time.monotonic() > deadline:
                raise SandboxError(f"no snapshot after {timeout_s:.0f} s")
            time.sleep(0.2)
    source = state_dir / SNAPSHOT_FILE
    if not source.exists():
        raise SandboxError(f"no saved state in {state_dir}/ (start the sandbox, or stop it once, first)")
    file.parent.mkdir(parents=True, exist_ok=True)
    partial = file.with_name(f".{file.name}.partial")
    shutil.copyfile(source, partial)
    partial.replace(file)
    return {"size_bytes": file.stat().st_size, "taken": "now" if live else "when the sandbox last stopped"}


def load_snapshot(file: Path, state_dir: Path = DEFAULT_STATE_DIR, **start_options: Any) -> SandboxState:
    """Make ``file`` the sandbox's state: checked first, the running sandbox stopped (its own last
    state kept as ``.previous``), the file copied in, the sandbox started from it."""
    import shutil

    from .persistence import snapshot_file
    from .persistence.snapshots import SNAPSHOT_FILE

    try:
        snapshot_file.read_header(file)
    except (OSError, snapshot_file.SnapshotError) as error:
        raise SandboxError(f"{file} cannot be loaded: {error}") from error
    stop(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    keep_aside(state_dir)
    target = state_dir / SNAPSHOT_FILE
    partial = target.with_name(f".{target.name}.partial")
    shutil.copyfile(file, partial)
    partial.replace(target)
    state, _ = start(state_dir=state_dir, strict=True, **start_options)
    return state


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

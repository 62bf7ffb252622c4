"""One warm Lambda execution environment: a process that imports a handler once
and runs invocations sent by the runtime, one at a time.

Run as a script (``python worker.py CODE_DIR HANDLER``), standard library only,
so the function's own copy of its packages (from the deployed asset) is what
gets imported. Protocol: one JSON line in (``request_id``, ``event``,
``deadline_ms``), one JSON line out (``payload`` or ``error``). The handler's
stdout/stderr go to a log file the runtime reads after each invocation.
"""

import importlib
import json
import os
import signal
import sys
import threading
import time
import traceback
from typing import Any


class Context:
    """The parts of the Lambda context object handlers use."""

    def __init__(self, request_id, deadline_ms):
        self.aws_request_id = request_id
        self._deadline_ms = deadline_ms
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.invoked_function_arn = os.environ.get("SANDBOX_FUNCTION_ARN", "")
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))


def _error(exc):
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def main(code_dir, handler_spec, log_path):
    protocol_in = sys.stdin.buffer
    protocol_out = os.fdopen(os.dup(1), "wb", buffering=0)
    # Everything the function prints, at the file-descriptor level, goes to the log file.
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    sys.stdout = os.fdopen(1, "w", buffering=1)
    sys.stderr = os.fdopen(2, "w", buffering=1)
    # An editable install of the project would shadow the asset's own packages.
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__.lower()]
    sys.path.insert(0, code_dir)
    module_name, _, function_name = handler_spec.rpartition(".")
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
        init_error = None
    except Exception as exc:  # noqa: BLE001 - reported to the caller as Runtime.ImportModuleError, as AWS does
        traceback.print_exc()
        handler, init_error = (
            None,
            {"errorMessage": f"Unable to import module '{module_name}': {exc}", "errorType": "Runtime.ImportModuleError"},
        )
    protocol_out.write(b'{"ready": true}\n')
    for line in protocol_in:
        request = json.loads(line)
        if request.get("crash_after_ms") is not None:
            # Chaos: the environment dies mid-invocation, whatever the handler is doing.
            threading.Timer(request["crash_after_ms"] / 1000, os.kill, (os.getpid(), signal.SIGKILL)).start()
        reply: dict[str, Any]
        if init_error:
            reply = {"error": init_error}
        else:
            try:
                event = json.loads(request["event"]) if request["event"] else {}
                result = handler(event, Context(request["request_id"], request["deadline_ms"]))
                reply = {"payload": json.dumps(result)}
            except Exception as exc:  # noqa: BLE001 - an unhandled function error, returned as AWS does
                print(f"[ERROR] {type(exc).__name__}: {exc}", file=sys.stderr)
                traceback.print_exc()
                reply = {"error": _error(exc)}
        sys.stdout.flush()
        sys.stderr.flush()
        if request.get("crash_after_ms") is not None:
            time.sleep(3600)  # never answer: the timer ends the process
        protocol_out.write(json.dumps(reply).encode() + b"\n")


if __name__ == "__main__":
    main(*sys.argv[1:4])

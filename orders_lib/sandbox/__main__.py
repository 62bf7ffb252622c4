"""``python -m orders_lib.sandbox serve``: run the sandbox in the foreground."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from .control import DEFAULT_PORT, DEFAULT_STATE_DIR, serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orders_lib.sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve", help="run the sandbox in the foreground until SIGTERM or Ctrl-C")
    run.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    run.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    run.add_argument("--no-deploy", action="store_true", help="serve the APIs only, without deploying the stack")
    run.add_argument("--max-workers", type=int, help="warm processes per function (ORDERS_SANDBOX_MAX_WORKERS)")
    run.add_argument("--max-queue", type=int, help="synchronous invocations waiting per function (ORDERS_SANDBOX_MAX_QUEUE)")
    run.add_argument("--ttl-interval", type=float, help="seconds between TTL sweeps (ORDERS_SANDBOX_TTL_INTERVAL, default 10)")
    run.add_argument(
        "--iam",
        choices=("enforce", "soft", "off"),
        help="the functions' execution roles: refuse, log only, or ignore (ORDERS_SANDBOX_IAM, default enforce)",
    )
    run.add_argument("--fresh", action="store_true", help="start empty (the last snapshot is kept as .previous)")
    run.add_argument("--strict", action="store_true", help="refuse to start if the snapshot cannot be loaded")
    run.add_argument(
        "--snapshot-interval",
        type=float,
        help="seconds between snapshots while the state changes; 0: only on stop (ORDERS_SANDBOX_SNAPSHOT_INTERVAL, default 5)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    return serve(
        args.port,
        args.state_dir,
        deploy=not args.no_deploy,
        stop=stop,
        max_workers=args.max_workers,
        max_queue=args.max_queue,
        ttl_interval_s=args.ttl_interval,
        iam=args.iam,
        fresh=args.fresh,
        strict=args.strict,
        snapshot_interval_s=args.snapshot_interval,
    )


if __name__ == "__main__":
    sys.exit(main())

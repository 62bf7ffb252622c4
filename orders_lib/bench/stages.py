"""``make test``'s stages, timed: each stage runs through here, and the run ends with a table of
every stage's wall and CPU time, so a slow stage is seen where it happens.

``make test`` runs its stages in lanes at once (see the Makefile), so each stage keeps its own
record, ``build/test-stages/<name>.json``: ``start`` clears them, ``run NAME -- COMMAND...``
runs one stage and writes its record (a failing stage prints the table so far and exits with
the stage's code), ``report`` prints the table: each stage, the wall time of the whole run
from the first start to the last end, and the stages' time summed (the difference is what the
lanes saved).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

RECORDS = Path(__file__).resolve().parents[2] / "build" / "test-stages"


def _children_cpu_s() -> float:
    """CPU time (user and system) of every process this one waited for, and those they waited
    for: the stage's test runner, kernels and workers. A sandbox started in a session of its
    own and stopped by signal is never waited for, so its CPU is not counted."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def start(records: Path | None = None) -> None:
    records = records or RECORDS
    shutil.rmtree(records, ignore_errors=True)
    records.mkdir(parents=True)


def load(records: Path | None = None) -> list[dict[str, Any]]:
    """Every recorded stage, in the order they started."""
    records = records or RECORDS
    stages = [json.loads(path.read_text()) for path in records.glob("*.json")] if records.exists() else []
    return sorted(stages, key=lambda stage: stage["started"])


def table(stages: list[dict[str, Any]]) -> str:
    """One line per stage (wall seconds, CPU seconds), then the run's wall time and the sum."""
    lines = [f"{'stage':<14} {'seconds':>8} {'cpu s':>7}"]
    for stage in stages:
        status = "" if stage["code"] == 0 else f"  FAILED (exit {stage['code']})"
        lines.append(f"{stage['name']:<14} {stage['seconds']:>8.1f} {stage['cpu_seconds']:>7.1f}{status}")
    summed = sum(stage["seconds"] for stage in stages)
    wall = max(s["started"] + s["seconds"] for s in stages) - min(s["started"] for s in stages) if stages else 0.0
    cpu = sum(stage["cpu_seconds"] for stage in stages)
    lines.append(f"{'stages summed':<14} {summed:>8.1f} {cpu:>7.1f}")
    lines.append(f"{'wall time':<14} {wall:>8.1f}          ({wall / 60:.1f} min, stages in lanes at once)")
    return "\n".join(lines)


def run(name: str, command: list[str], records: Path | None = None) -> int:
    records = records or RECORDS
    print(f"── {name}: {' '.join(command)}", flush=True)
    started, cpu_before = time.time(), _children_cpu_s()
    code = subprocess.call(command)
    stage = {
        "name": name,
        "started": started,
        "seconds": round(time.time() - started, 1),
        "cpu_seconds": round(_children_cpu_s() - cpu_before, 1),
        "code": code,
    }
    records.mkdir(parents=True, exist_ok=True)
    (records / f"{name}.json").write_text(json.dumps(stage))
    if code != 0:
        print(f"\nmake test: stage {name!r} failed:\n{table(load(records))}", flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orders_lib.bench.stages")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("start", help="forget the stages of the last run")
    stage = sub.add_parser("run", help="run one stage and record its wall and CPU time")
    stage.add_argument("name")
    stage.add_argument("command", nargs=argparse.REMAINDER, help="-- then the stage's command")
    sub.add_parser("report", help="print the recorded stages and the run's wall time")
    args = parser.parse_args(argv)
    if args.action == "start":
        start()
        return 0
    if args.action == "report":
        print(f"\nmake test, time per stage:\n{table(load())}")
        return 0
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("a stage needs a command after --")
    return run(args.name, command)


if __name__ == "__main__":
    sys.exit(main())

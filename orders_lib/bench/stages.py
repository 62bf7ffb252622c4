"""``make test``'s stages, timed: each stage runs through here, and the last line of the run is
a table of every stage's wall time and the total, so a slow stage is seen where it happens.

``python -m orders_lib.bench.stages run NAME -- COMMAND...`` runs one stage (``--first``
starts a new record) and appends its time to ``build/test-stages.json``; a failing stage
prints the table so far and exits with the stage's code. ``... report`` prints the table.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

RECORD = Path(__file__).resolve().parents[2] / "build" / "test-stages.json"


def _children_cpu_s() -> float:
    """CPU time (user and system) of every process this one waited for: the stage, its
    sandboxes, workers and kernels included once they have ended."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load(record: Path | None = None) -> list[dict[str, object]]:
    record = record or RECORD
    return json.loads(record.read_text()) if record.exists() else []


def table(stages: list[dict[str, object]]) -> str:
    """One line per stage (seconds, share of the total), then the total."""
    total = sum(float(str(stage["seconds"])) for stage in stages)
    cpu_total = sum(float(str(stage.get("cpu_seconds", 0))) for stage in stages)
    lines = [f"{'stage':<14} {'seconds':>8} {'share':>6} {'cpu s':>7}"]
    for stage in stages:
        seconds, cpu = float(str(stage["seconds"])), float(str(stage.get("cpu_seconds", 0)))
        status = "" if stage["code"] == 0 else f"  FAILED (exit {stage['code']})"
        lines.append(f"{stage['name']!s:<14} {seconds:>8.1f} {seconds / total if total else 0:>6.0%} {cpu:>7.1f}{status}")
    lines.append(f"{'total':<14} {total:>8.1f}        {cpu_total:>7.1f}   ({total / 60:.1f} min)")
    return "\n".join(lines)


def run(name: str, command: list[str], *, first: bool, record: Path | None = None) -> int:
    record = record or RECORD
    stages = [] if first else load(record)
    print(f"── {name}: {' '.join(command)}", flush=True)
    started, cpu_before = time.monotonic(), _children_cpu_s()
    code = subprocess.call(command)
    seconds, cpu = time.monotonic() - started, _children_cpu_s() - cpu_before
    stages.append({"name": name, "seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1), "code": code})
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(stages, indent=1))
    if code != 0:
        print(f"\nmake test stopped at stage {name!r}:\n{table(stages)}", flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orders_lib.bench.stages")
    sub = parser.add_subparsers(dest="action", required=True)
    stage = sub.add_parser("run", help="run one stage and record its wall time")
    stage.add_argument("name")
    stage.add_argument("--first", action="store_true", help="start a new record (the first stage of a run)")
    stage.add_argument("command", nargs=argparse.REMAINDER, help="-- then the stage's command")
    sub.add_parser("report", help="print the recorded stages and their total")
    args = parser.parse_args(argv)
    if args.action == "report":
        print(f"\nmake test, wall time per stage:\n{table(load())}")
        return 0
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("a stage needs a command after --")
    return run(args.name, command, first=args.first)


if __name__ == "__main__":
    sys.exit(main())

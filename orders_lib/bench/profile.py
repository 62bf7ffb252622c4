"""``make profile``: where the sandbox process's CPU goes under ``make bench``'s pipeline load.

A fresh sandbox is started and deployed, warmed with a few orders (every function has a warm
worker), then py-spy samples it and its function workers (``--subprocesses``) while ``bench.run.pipeline_rate`` writes N orders and
waits until all are notified. Only the thread holding the GIL is sampled (``--gil``): the sandbox
is one interpreter, so what holds the GIL is what bounds it (``--all-threads`` samples every
running thread, but a thread just woken from ``select`` counts as running). The samples are sorted
into kinds of work by ``cpu_shares``; CPU milliseconds per order come from ``/proc`` (sandbox and
workers apart) and are split by those shares. The raw samples are kept (``reports/profile.raw``:
flamegraph.pl or speedscope read them).
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .cpu_shares import OTHER, SANDBOX_RULES, WORKER_RULES, Rule, Sample, hottest, is_worker, parse_raw, shares

ROOT = Path(__file__).resolve().parents[2]
REPORT_DIR = ROOT / "reports"


def py_spy() -> str:
    found = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if not found:
        raise SystemExit("py-spy is not installed: pip install py-spy (it is in the project's dev extra)")
    return found


def _cpu_of(pids: list[int]) -> float:
    from .run import cpu_seconds

    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def breakdown(samples: list[Sample], rules: tuple[Rule, ...], cpu_ms_per_order: float) -> list[dict[str, Any]]:
    counts = shares(samples, rules)
    total = sum(counts.values()) or 1
    return [
        {
            "category": name,
            "share_%": round(100 * n / total, 1),
            "ms_per_order": round(cpu_ms_per_order * n / total, 2),
            "samples": n,
        }
        for name, n in counts.items()
    ]


def profile(orders: int, warm_orders: int, rate: int, raw_path: Path, gil: bool = True) -> dict[str, Any]:
    from ..sandbox import control
    from .run import _clients, cpu_seconds, moto_put_item_rate, pipeline_rate

    spy = py_spy()
    with tempfile.TemporaryDirectory(prefix="profile-sandbox-") as state_dir:
        state, _ = control.start(port=0, state_dir=Path(state_dir), deploy=True, timeout_s=120)
        try:
            aws, table = _clients(state.endpoint), state.outputs["TableName"]
            pipeline_rate(aws, table, warm_orders)  # every function has a warm worker now
            workers = control.control(state.endpoint, "workers")["pids"]
            sandbox_before, workers_before = cpu_seconds(state.pid), _cpu_of(workers)
            command = [spy, "record", "--pid", str(state.pid), "--subprocesses", "--nonblocking", "--threads", "--full-filenames"]
            command += ["--rate", str(rate), "--format", "raw", "--output", str(raw_path)] + (["--gil"] if gil else [])
            recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            time.sleep(1.0)  # py-spy attaches
            rate_result = pipeline_rate(aws, table, orders)
            sandbox_cpu = cpu_seconds(state.pid) - sandbox_before
            workers_now = control.control(state.endpoint, "workers")["pids"]
            workers_cpu = _cpu_of(workers_now) - workers_before if set(workers_now) == set(workers) else None
            recorder.send_signal(signal.SIGINT)
            _, errors = recorder.communicate(timeout=60)
            if not raw_path.exists():
                raise SystemExit(f"py-spy wrote no profile: {errors.strip()}")
        finally:
            control.stop(Path(state_dir))
    result: dict[str, Any] = {
        **rate_result,
        **moto_put_item_rate(),
        "orders": orders,
        "sandbox_cpu_ms_per_order": round(1000 * sandbox_cpu / orders, 2),
        "workers_cpu_ms_per_order": None if workers_cpu is None else round(1000 * workers_cpu / orders, 2),
    }
    result["pipeline_vs_moto_put_item"] = round(result["pipeline_orders_per_s"] / result["moto_in_process_put_item_per_s"], 3)
    result["sandbox_cpu_per_order_in_put_items"] = round(result["sandbox_cpu_ms_per_order"] / result["moto_in_process_put_item_cpu_ms"], 1)
    return result


def report(result: dict[str, Any], samples: list[Sample]) -> dict[str, Any]:
    sandbox = [s for s in samples if not is_worker(s)]
    workers = [s for s in samples if is_worker(s)]
    result["sandbox"] = breakdown(sandbox, SANDBOX_RULES, result["sandbox_cpu_ms_per_order"])
    result["workers"] = breakdown(workers, WORKER_RULES, result["workers_cpu_ms_per_order"] or 0.0)
    result["sandbox_hottest"] = {row["category"]: hottest(sandbox, row["category"], SANDBOX_RULES, 5) for row in result["sandbox"]}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orders_lib.bench.profile", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500, help="orders written while sampling (as make bench's throughput run)")
    parser.add_argument("--warm-orders", type=int, default=50, help="orders through the pipeline before sampling starts")
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument(
        "--all-threads",
        action="store_true",
        help="sample every running thread, not only the one holding the GIL (threads just woken count as running: noisier)",
    )
    parser.add_argument("--raw", type=Path, help="re-read a raw profile kept by an earlier run instead of profiling")
    parser.add_argument("--output", type=Path, default=REPORT_DIR / "profile.json")
    args = parser.parse_args(argv)
    raw_path = args.output.with_suffix(".raw")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    if args.raw:  # the figures of the run that wrote it, when its report is beside it
        kept = args.raw.with_suffix(".json")
        result: dict[str, Any] = {"sandbox_cpu_ms_per_order": 0.0, "workers_cpu_ms_per_order": 0.0}
        if kept.exists():
            result.update({k: v for k, v in json.loads(kept.read_text()).items() if not isinstance(v, (list, dict))})
        raw_path = args.raw
    else:
        result = profile(args.orders, args.warm_orders, args.rate, raw_path, gil=not args.all_threads)
    samples = parse_raw(raw_path.read_text(errors="replace").splitlines())
    report(result, samples)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    _print(result)
    return 0


def _print(result: dict[str, Any]) -> None:
    from ..ops.orders import format_table

    figures = ["pipeline_orders_per_s", "moto_in_process_put_item_per_s", "pipeline_vs_moto_put_item"]
    figures += [
        "moto_in_process_put_item_cpu_ms",
        "sandbox_cpu_ms_per_order",
        "sandbox_cpu_per_order_in_put_items",
        "workers_cpu_ms_per_order",
    ]
    print(format_table([{"measure": k, "value": result[k]} for k in figures if k in result]))
    print("\nthe sandbox process's CPU by kind of work")
    print(format_table(result["sandbox"]))
    print("\nthe function workers' CPU (other processes: they do not share the sandbox's core)")
    print(format_table(result["workers"]))
    print("\nhottest frames per kind of work (sandbox)")
    for name, frames in result["sandbox_hottest"].items():
        if name != OTHER or frames:
            print(f"  {name}: " + "; ".join(f"{frame} {n}" for frame, n in frames))


if __name__ == "__main__":
    sys.exit(main())

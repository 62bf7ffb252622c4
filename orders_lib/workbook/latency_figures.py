"""03_latency's figures in ``latency.json``: the pipeline's capacity, the sample's latency at the
rate it was written at (one the pipeline sustains), and where the sweep fell behind.

The notebook writes them; ``make demo``'s summary, index and closing lines read them, so the
headline is the sample's latency at its rate and the saturation point a figure of its own, never
a percentile over every order in the table (which would mix the sweep's queueing in).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from ..ops.capacity import Capacity
from ..ops.orders import BulkReport
from .latency import saturation, share_of

FILE = "latency.json"
NOT_MEASURED = [("write → PROCESSED latency", "not measured (03_latency did not run)")]


def figures(found: Capacity, rate: float, given: bool, sample: BulkReport, timings: pd.DataFrame, sweep: pd.DataFrame) -> dict[str, Any]:
    """What ``latency.json`` holds, from the ramp, the sample (its bulk report and timings) and the sweep."""
    waits = timings["write → processed"].dropna()
    point = saturation(sweep)
    kept = sweep[sweep["offered_per_s"] < point] if point is not None else sweep
    return {
        "capacity_per_s": found.orders_per_s,
        "capacity_is_lower_bound": found.fell_behind_at is None,
        "ramp_s": found.seconds,
        "sample": {
            "orders": int(waits.count()),
            "rate_per_s": rate,
            "rate_given": given,
            "written_per_s": round(sample.created / sample.seconds, 1) if sample.seconds else None,
            "write_to_processed_ms": {p: round(share_of(waits, q), 1) for p, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))},
        },
        "saturation": {
            "kept_up_per_s": float(kept["offered_per_s"].max()) if not kept.empty else None,
            "fell_behind_per_s": point,
        },
    }


def save(report_dir: Path | str, measured: dict[str, Any]) -> Path:
    path = Path(report_dir) / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(measured, indent=2) + "\n")
    return path


def load(report_dir: Path | str) -> dict[str, Any] | None:
    """The figures of the last 03_latency run into ``report_dir``; None if it did not run there."""
    try:
        return dict(json.loads((Path(report_dir) / FILE).read_text()))
    except (FileNotFoundError, ValueError):
        return None


def headline(measured: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(label, value) lines for the run's index and closing summary: latency at the sample's
    rate, the capacity, and where the pipeline fell behind."""
    if not measured:
        return NOT_MEASURED
    sample, behind = measured["sample"], measured.get("saturation") or {}
    rate, latency = sample["rate_per_s"], sample["write_to_processed_ms"]
    capacity = f"{'at least ' if measured.get('capacity_is_lower_bound') else ''}{measured['capacity_per_s']:g} orders/s"
    if behind.get("fell_behind_per_s") is None:
        saturation = f"kept up with every rate offered, up to {behind.get('kept_up_per_s') or 0:g} orders/s"
    elif behind.get("kept_up_per_s") is None:
        saturation = f"fell behind at {behind['fell_behind_per_s']:g} orders/s offered, the lowest rate tried"
    else:
        saturation = f"between {behind['kept_up_per_s']:g} and {behind['fell_behind_per_s']:g} orders/s offered"
    return [
        (f"write → PROCESSED p50 at {rate:g} orders/s", f"{latency['p50']} ms"),
        (f"write → PROCESSED p99 at {rate:g} orders/s", f"{latency['p99']} ms"),
        ("capacity (short ramp)", capacity),
        ("falls behind (load sweep)", saturation),
    ]

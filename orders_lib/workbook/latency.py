"""03_latency: per-order timings, stage percentiles, charts and a written reading.

Stages, from the order's own timestamps plus two outside observations: the
stream record's ``ApproximateCreationDateTime`` (when DynamoDB Streams saw the
write) and the time the SQS subscriber received the notification
(``SentTimestamp``). On AWS the stream time is rounded to the second, so the
two stages around it are coarse there; the end-to-end figures are not.

Every percentile here, in tables, text and charts, is ``domain.percentiles``' nearest rank, the
definition ``make bench`` and ``orders create-bulk`` report, not pandas' interpolated quantile:
the same orders give the same p99 everywhere, and "99% within 120 ms" is then literally true.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from ..domain.percentiles import percentile
from ..ops.capacity import KEEPS_UP, Capacity, measure_rate, ramp
from ..ops.notifications import Subscription, receive
from .bench import Workbench

# processedAt is when ProcessOrder took the order, notifiedAt when SNS accepted its
# notification; both are written together afterwards (one write per order), so a
# subscriber may receive the message before notifiedAt: "received" is measured from "processed".
STAGES = {
    "write → stream": ("created", "stream"),
    "stream → processed": ("stream", "processed"),
    "processed → notified": ("processed", "notified"),
    "processed → received": ("processed", "received"),
    "write → processed": ("created", "processed"),
    "write → received": ("created", "received"),
}


def stream_arrivals(streams: Any, stream_arn: str) -> dict[str, pd.Timestamp]:
    """orderId -> when the stream recorded its INSERT."""
    from ..ops.reconcile import read_stream

    return {
        record["dynamodb"]["Keys"]["orderId"]["S"]: pd.Timestamp(record["dynamodb"]["ApproximateCreationDateTime"], unit="s", tz="UTC")
        for record in read_stream(streams, stream_arn)
        if record["eventName"] == "INSERT" and "ApproximateCreationDateTime" in record["dynamodb"]
    }


def collect_notifications(
    bench: Workbench, subscription: Subscription, order_ids: list[str], timeout_s: float = 20.0
) -> dict[str, pd.Timestamp]:
    """orderId -> first time the subscriber received its notification."""
    wanted, received = set(order_ids), dict[str, pd.Timestamp]()
    deadline = time.monotonic() + timeout_s
    while wanted - received.keys() and time.monotonic() < deadline:
        for note in receive(bench.client("sqs"), subscription.queue_url, wait_s=1):
            if note.get("orderId") in wanted and note["orderId"] not in received:
                received[note["orderId"]] = pd.Timestamp(note["receivedAt"], unit="ms", tz="UTC")
    return received


def timings_frame(items: list[dict[str, Any]], arrivals: dict[str, pd.Timestamp], received: dict[str, pd.Timestamp]) -> pd.DataFrame:
    """One row per order with each observed moment, and each stage in milliseconds."""
    rows = []
    for item in items:
        order_id = item.get("orderId")
        if not isinstance(order_id, str) or not item.get("createdAt"):
            continue
        rows.append(
            {
                "orderId": order_id,
                "created": pd.Timestamp(item["createdAt"]),
                "stream": arrivals.get(order_id),
                "processed": pd.Timestamp(item["processedAt"]) if item.get("processedAt") else None,
                "notified": pd.Timestamp(item["notifiedAt"]) if item.get("notifiedAt") else None,
                "received": received.get(order_id),
            }
        )
    frame = pd.DataFrame(rows, columns=["orderId", "created", "stream", "processed", "notified", "received"])
    for column in ("created", "stream", "processed", "notified", "received"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    for stage, (start, end) in STAGES.items():
        frame[stage] = (frame[end] - frame[start]).dt.total_seconds() * 1000
    return frame


def share_of(values: Iterable[float], share: float) -> float:
    """The ``share`` percentile (``domain.percentiles``) of the values seen, NaN (not seen) left
    out; NaN when none was seen, as pandas would give, so a chart leaves that bar or point out."""
    seen = [v for v in values if not math.isnan(v)]
    return percentile(seen, share) if seen else math.nan


def stage_percentiles(frame: pd.DataFrame) -> pd.DataFrame:
    """p50/p90/p99 and max per stage, in milliseconds, over the orders where both ends were seen."""
    table = {}
    for stage in STAGES:
        values = frame[stage].dropna()
        if values.empty:
            continue
        table[stage] = {
            "orders": int(values.count()),
            "p50": share_of(values, 0.5),
            "p90": share_of(values, 0.9),
            "p99": share_of(values, 0.99),
            "max": values.max(),
        }
    return pd.DataFrame.from_dict(table, orient="index").round(1)


def throughput(frame: pd.DataFrame, bucket: str = "500ms") -> pd.DataFrame:
    """Orders written and processed per second, counted in ``bucket``-wide slots."""
    per_second = pd.Timedelta("1s") / pd.Timedelta(bucket)
    written = frame.set_index("created").resample(bucket).size().rename("written")
    processed = frame.dropna(subset=["processed"]).set_index("processed").resample(bucket).size().rename("processed")
    return (pd.concat([written, processed], axis=1).fillna(0) * per_second).round(1)


def save_charts(frame: pd.DataFrame, report_dir: Path) -> list[Path]:
    """A histogram of write → processed and a throughput-over-time chart, as PNGs."""
    import matplotlib

    if not _inline():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)

    def chart(name: str, title: str, xlabel: str, ylabel: str, draw: Any) -> Path:
        figure, axis = plt.subplots(figsize=(7, 3.5))
        draw(axis)
        axis.set(title=title, xlabel=xlabel, ylabel=ylabel)
        figure.tight_layout()
        figure.savefig(report_dir / name, dpi=110)
        plt.show()
        return report_dir / name

    def histogram(axis: Any) -> None:
        frame["write → processed"].dropna().plot.hist(bins=30, ax=axis, color="#2b6cb0")

    def rates(axis: Any) -> None:
        per_second = throughput(frame)
        seconds = (per_second.index - per_second.index[0]).total_seconds()
        axis.step(seconds, per_second["written"], where="post", label="written", linestyle="--", color="#718096")
        axis.step(seconds, per_second["processed"], where="post", label="PROCESSED", color="#2b6cb0")
        axis.set_ylim(bottom=0)
        axis.legend()

    return [
        chart("latency_histogram.png", "Processing latency", "write → PROCESSED (ms)", "orders", histogram),
        chart("throughput.png", "Throughput", "seconds since the first order", "orders per second", rates),
    ]


def _inline() -> bool:
    try:
        from IPython import get_ipython

        return get_ipython() is not None
    except ImportError:
        return False


def reading(stats: pd.DataFrame, frame: pd.DataFrame, rate_per_s: float | None = None) -> str:
    """A few sentences a reader can act on, computed from the numbers (``rate_per_s``: the rate
    the sample was written at)."""
    if "write → processed" not in stats.index:
        return "No order reached PROCESSED: nothing to read yet."
    end = stats.loc["write → processed"]
    inner = stats.drop(index=[s for s in ("write → processed", "write → received") if s in stats.index])
    slowest = inner["p50"].idxmax() if not inner.empty else "n/a"
    missing = int(frame["processed"].isna().sum())
    at = f" at {rate_per_s:g} orders/s" if rate_per_s else ""
    lines = [
        (
            f"{int(end['orders'])} orders{at}: half were PROCESSED within {end['p50']:.0f} ms of being written, "
            f"90% within {end['p90']:.0f} ms, 99% within {end['p99']:.0f} ms."
        ),
        f"The slowest stage at the median is '{slowest}' ({inner.loc[slowest, 'p50']:.0f} ms)." if slowest != "n/a" else "",
        f"The tail (p99 / p50 = {end['p99'] / max(end['p50'], 1):.1f}x) comes from retries, batching and cold starts of new workers.",
    ]
    if "write → received" in stats.index:
        lines.append(f"Subscribers received the notification {stats.loc['write → received', 'p50']:.0f} ms after the write at the median.")
    if missing:
        lines.append(f"{missing} order(s) were not PROCESSED when measured: look in the DLQ notebook.")
    return "\n".join(line for line in lines if line)


# -- capacity, and latency against load ---------------------------------------------------------

SWEEP_FACTORS = (0.5, 0.8, 1.25, 2.0)  # offered rates as shares of the capacity: they bracket it
SWEEP_COLUMNS = ["offered_per_s", "achieved_per_s", "orders", "p50_ms", "p99_ms"]


def measure_capacity(bench: Workbench, clients: int = 4, seed: int = 500) -> Capacity:
    """The pipeline's capacity on this target, from a short ramp of offered rates (``ops.capacity``)."""
    return ramp(bench.client("lambda"), bench.outputs.create_function, bench.repository, clients=clients, seed=seed)


def sweep_rates(capacity_per_s: float, factors: Iterable[float] = SWEEP_FACTORS) -> tuple[float, ...]:
    """Offered rates around the capacity (1 decimal, at least 1 order/s)."""
    return tuple(max(1.0, round(f * capacity_per_s, 1)) for f in factors)


def load_sweep(bench: Workbench, rates: Iterable[float], per_rate: int = 40, clients: int = 4, seed: int = 100) -> pd.DataFrame:
    """For each offered rate: ``per_rate`` orders from ``clients`` callers, then write → PROCESSED
    p50/p99 and the rate achieved (orders PROCESSED per second, as ``ops.capacity`` counts it)."""
    lambda_client, function, repository = bench.client("lambda"), bench.outputs.create_function, bench.repository
    rows = []
    for rate in rates:
        step = measure_rate(lambda_client, function, repository, rate, per_rate, clients=clients, seed=seed + int(rate * 10))
        if step.orders:
            rows.append({column: getattr(step, column) for column in SWEEP_COLUMNS})
    return pd.DataFrame(rows, columns=SWEEP_COLUMNS)


def saturation(sweep: pd.DataFrame) -> float | None:
    """The lowest offered rate the pipeline did not keep up with (None: it kept up with all)."""
    behind = sweep[sweep["achieved_per_s"] < KEEPS_UP * sweep["offered_per_s"]]
    return float(behind["offered_per_s"].min()) if not behind.empty else None


def save_load_charts(frame: pd.DataFrame, sweep: pd.DataFrame, report_dir: Path) -> list[Path]:
    """Per-stage breakdown, latency over the run with a rolling p99, and latency against load, as PNGs."""
    from matplotlib.figure import Figure

    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    paths = []

    figure = Figure(figsize=(7, 3.5))
    axis = figure.subplots()
    inner = [s for s in ("write → stream", "stream → processed", "processed → notified", "processed → received") if s in frame]
    p50 = [share_of(frame[s], 0.5) for s in inner]
    p99 = [share_of(frame[s], 0.99) for s in inner]
    positions = range(len(inner))
    axis.barh([p + 0.2 for p in positions], p99, height=0.4, label="p99", color="#90cdf4")
    axis.barh([p - 0.2 for p in positions], p50, height=0.4, label="p50", color="#2b6cb0")
    axis.set_yticks(list(positions), inner)
    axis.invert_yaxis()
    axis.set(title="Where the time goes, per stage", xlabel="milliseconds")
    axis.legend()
    figure.tight_layout()
    paths.append(report_dir / "stages.png")
    figure.savefig(paths[-1], dpi=110)

    figure = Figure(figsize=(7, 3.5))
    axis = figure.subplots()
    ordered = frame.dropna(subset=["processed"]).sort_values("created")
    seconds = (ordered["created"] - ordered["created"].iloc[0]).dt.total_seconds()
    axis.scatter(seconds, ordered["write → processed"], s=6, color="#a0aec0", label="each order")
    window = max(10, len(ordered) // 10)
    axis.plot(
        seconds,
        ordered["write → processed"].rolling(window, min_periods=window // 2).apply(lambda last: share_of(last, 0.99), raw=True),
        color="#c53030",
        label=f"rolling p99 ({window} orders)",
    )
    axis.set(title="Latency over the run", xlabel="seconds since the first order", ylabel="write → PROCESSED (ms)")
    axis.set_ylim(bottom=0)
    axis.legend()
    figure.tight_layout()
    paths.append(report_dir / "latency_over_run.png")
    figure.savefig(paths[-1], dpi=110)

    figure = Figure(figsize=(7, 3.5))
    axis = figure.subplots()
    axis.plot(sweep["offered_per_s"], sweep["p50_ms"], marker="o", label="p50", color="#2b6cb0")
    axis.plot(sweep["offered_per_s"], sweep["p99_ms"], marker="o", label="p99", color="#c53030")
    axis.set(xscale="log", title="Latency against load", xlabel="offered orders/s", ylabel="write → PROCESSED (ms)")
    axis.set_xticks(list(sweep["offered_per_s"]), [f"{r:g}" for r in sweep["offered_per_s"]])
    rates = axis.twinx()
    rates.plot(sweep["offered_per_s"], sweep["achieved_per_s"], marker="s", linestyle="--", color="#718096", label="achieved/s")
    rates.set_ylabel("achieved orders/s")
    point = saturation(sweep)
    if point is not None:
        axis.axvline(point, color="#dd6b20", linestyle=":", label=f"falls behind at {point:g}/s")
    lines = axis.get_legend_handles_labels()[0] + rates.get_legend_handles_labels()[0]
    axis.legend(lines, [str(line.get_label()) for line in lines], fontsize=8, loc="upper left")
    figure.tight_layout()
    paths.append(report_dir / "latency_vs_load.png")
    figure.savefig(paths[-1], dpi=110)
    return paths


def load_reading(sweep: pd.DataFrame) -> str:
    """Where the pipeline saturates, from the sweep's numbers."""
    if sweep.empty:
        return "No sweep was measured."
    point = saturation(sweep)
    kept = sweep[sweep["offered_per_s"] < point] if point is not None else sweep
    best = kept.iloc[-1] if not kept.empty else sweep.iloc[0]
    if point is None:
        return (
            f"It kept up with every offered rate up to {sweep['offered_per_s'].max():g} orders/s "
            f"(p99 {sweep['p99_ms'].iloc[-1]:.1f} ms there): no saturation in this range."
        )
    at = sweep[sweep["offered_per_s"] == point].iloc[0]
    return (
        f"It kept up to {best['offered_per_s']:g} orders/s offered (p99 {best['p99_ms']:.1f} ms). "
        f"At {point:g}/s it fell behind: {at['achieved_per_s']:g} orders/s achieved, p99 {at['p99_ms']:.1f} ms, "
        f"so this target saturates between {best['offered_per_s']:g} and {point:g} orders/s."
    )

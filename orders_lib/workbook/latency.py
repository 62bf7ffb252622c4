"""03_latency: per-order timings, stage percentiles, charts and a written reading.

Stages, from the order's own timestamps plus two outside observations: the
stream record's ``ApproximateCreationDateTime`` (when DynamoDB Streams saw the
write) and the time the SQS subscriber received the notification
(``SentTimestamp``). On AWS the stream time is rounded to the second, so the
two stages around it are coarse there; the end-to-end figures are not.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd

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
PERCENTILES = (0.5, 0.9, 0.99)


def stream_arrivals(streams: Any, stream_arn: str) -> dict[str, pd.Timestamp]:
    """orderId -> when the stream recorded its INSERT."""
    from ..ops.reconcile import read_stream

    return {
        record["dynamodb"]["Keys"]["orderId"]["S"]: pd.Timestamp(record["dynamodb"]["ApproximateCreationDateTime"], unit="s", tz="UTC")
        for record in read_stream(streams, stream_arn)
        if record["eventName"] == "INSERT" and "ApproximateCreationDateTime" in record["dynamodb"]
    }


def collect_notifications(bench: Workbench, subscription: Subscription, order_ids: list[str], timeout_s: float = 20.0) -> dict[str, pd.Timestamp]:
    """orderId -> first time the subscriber received its notification."""
    wanted, received = set(order_ids), {}
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
        if not item.get("createdAt"):
            continue
        rows.append({
            "orderId": order_id,
            "created": pd.Timestamp(item["createdAt"]),
            "stream": arrivals.get(order_id),
            "processed": pd.Timestamp(item["processedAt"]) if item.get("processedAt") else None,
            "notified": pd.Timestamp(item["notifiedAt"]) if item.get("notifiedAt") else None,
            "received": received.get(order_id),
        })
    frame = pd.DataFrame(rows, columns=["orderId", "created", "stream", "processed", "notified", "received"])
    for column in ("created", "stream", "processed", "notified", "received"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    for stage, (start, end) in STAGES.items():
        frame[stage] = (frame[end] - frame[start]).dt.total_seconds() * 1000
    return frame


def stage_percentiles(frame: pd.DataFrame) -> pd.DataFrame:
    """p50/p90/p99 and max per stage, in milliseconds, over the orders where both ends were seen."""
    table = {}
    for stage in STAGES:
        values = frame[stage].dropna()
        if values.empty:
            continue
        quantiles = values.quantile(list(PERCENTILES))
        table[stage] = {"orders": int(values.count()), "p50": quantiles[0.5], "p90": quantiles[0.9], "p99": quantiles[0.99], "max": values.max()}
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


def reading(stats: pd.DataFrame, frame: pd.DataFrame) -> str:
    """A few sentences a reader can act on, computed from the numbers."""
    if "write → processed" not in stats.index:
        return "No order reached PROCESSED: nothing to read yet."
    end = stats.loc["write → processed"]
    inner = stats.drop(index=[s for s in ("write → processed", "write → received") if s in stats.index])
    slowest = inner["p50"].idxmax() if not inner.empty else "n/a"
    missing = int(frame["processed"].isna().sum())
    lines = [
        f"{int(end['orders'])} orders: half were PROCESSED within {end['p50']:.0f} ms of being written, 90% within {end['p90']:.0f} ms, 99% within {end['p99']:.0f} ms.",
        f"The slowest stage at the median is '{slowest}' ({inner.loc[slowest, 'p50']:.0f} ms)." if slowest != "n/a" else "",
        f"The tail (p99 / p50 = {end['p99'] / max(end['p50'], 1):.1f}x) comes from retries, batching and cold starts of new workers.",
    ]
    if "write → received" in stats.index:
        lines.append(f"Subscribers received the notification {stats.loc['write → received', 'p50']:.0f} ms after the write at the median.")
    if missing:
        lines.append(f"{missing} order(s) were not PROCESSED when measured: look in the DLQ notebook.")
    return "\n".join(line for line in lines if line)

import pandas as pd
import pytest

from orders_lib.bench import run as bench
from orders_lib.workbook.latency import reading, stage_percentiles, throughput, timings_frame


def ts(ms):
    return pd.Timestamp("2026-11-26T12:00:00Z") + pd.Timedelta(milliseconds=ms)


def iso(ms):
    return ts(ms).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@pytest.fixture
def frame():
    # Ten orders written 100 ms apart; each seen by the stream 5 ms later,
    # PROCESSED 10*(n+1) ms after the write, notified 20 ms after that.
    items, arrivals, received = [], {}, {}
    for n in range(10):
        written = n * 100
        items.append(
            {
                "orderId": f"o{n}",
                "createdAt": iso(written),
                "processedAt": iso(written + 10 * (n + 1)),
                "notifiedAt": iso(written + 10 * (n + 1) + 20),
            }
        )
        arrivals[f"o{n}"] = ts(written + 5)
        received[f"o{n}"] = ts(written + 10 * (n + 1) + 15)
    items.append({"orderId": "stuck", "createdAt": iso(2000)})
    items.append({"orderId": "no-created-at", "status": "NEW"})
    return timings_frame(items, arrivals, received)


def test_each_stage_is_the_difference_of_two_moments(frame):
    first = frame.set_index("orderId").loc["o0"]
    assert first["write → stream"] == 5 and first["stream → processed"] == 5
    assert first["processed → notified"] == 20 and first["processed → received"] == 15
    assert first["write → processed"] == 10 and first["write → received"] == 25
    assert len(frame) == 11  # an item without createdAt is not an order to time


def test_percentiles_count_only_orders_where_both_ends_were_seen(frame):
    stats = stage_percentiles(frame)
    end_to_end = stats.loc["write → processed"]
    assert end_to_end["orders"] == 10  # "stuck" has no processedAt
    assert end_to_end["p50"] == 50 and end_to_end["max"] == 100  # nearest rank: 5 of the 10 took at most 50 ms
    assert end_to_end["p90"] == 90 and end_to_end["p99"] == 100
    assert stats.loc["write → stream", "p99"] == 5


def test_the_workbook_reports_the_percentiles_the_benchmark_reports(frame):
    stats = stage_percentiles(frame)
    values = frame["write → processed"].dropna().tolist()
    for column, share in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
        assert stats.loc["write → processed", column] == round(bench.percentile(values, share), 1)


def test_throughput_counts_per_second(frame):
    rates = throughput(frame, bucket="500ms")
    assert rates["written"].iloc[0] == 10.0  # 5 orders in the first half second = 10/s
    assert rates["written"].sum() * 0.5 == len(frame)
    assert rates["processed"].sum() * 0.5 == 10


def test_reading_states_the_numbers_and_what_is_missing(frame):
    text = reading(stage_percentiles(frame), frame)
    assert "10 orders: half were PROCESSED within 50 ms of being written, 90% within 90 ms, 99% within 100 ms." in text
    assert "1 order(s) were not PROCESSED" in text
    assert "slowest stage at the median is 'stream → processed'" in text
    assert reading(stage_percentiles(frame), frame, rate_per_s=24.5).startswith("10 orders at 24.5 orders/s: half were PROCESSED")


def test_reading_without_processed_orders():
    empty = timings_frame([{"orderId": "a", "createdAt": iso(0)}], {}, {})
    assert reading(stage_percentiles(empty), empty) == "No order reached PROCESSED: nothing to read yet."


def test_charts_are_saved_as_png(frame, tmp_path):
    from orders_lib.workbook.latency import save_charts

    paths = save_charts(frame, tmp_path / "report")
    assert [p.name for p in paths] == ["latency_histogram.png", "throughput.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5000 for p in paths)

"""The bench's verdicts and the security run's config checks (no sandbox, no checkov)."""

from pathlib import Path

from orders_lib.bench import run, security

ROOT = Path(__file__).resolve().parents[2]


def test_percentiles_are_nearest_rank():
    values = list(range(1, 101))
    assert [run.percentile(values, q) for q in (0.5, 0.95, 0.99)] == [50, 95, 99]
    assert run.percentile([7.0], 0.99) == 7.0


def test_every_target_gets_a_verdict_and_a_miss_says_why():
    results = {"throughput_ratio": 0.9, "latency_ms": {"p50": 120.0, "p99": 300.0}, "api_calls_per_order": 2.1}
    rows = {row["target"]: row for row in run.verdicts(results)}
    assert rows["pipeline / emulator bound"]["result"] == "OK"
    p50 = rows["write -> PROCESSED p50 at latency_rate_per_s (ms)"]
    assert p50["result"] == "MISSED" and "half the pipeline's own rate" in p50["why"]
    assert rows["write -> PROCESSED p99 at latency_rate_per_s (ms)"]["result"] == "OK"
    assert (
        rows["API calls per order (ProcessOrder)"]["result"] == "MISSED"
        and "per batch" in rows["API calls per order (ProcessOrder)"]["why"]
    )
    cold = rows["handler import / boto3 creating the same clients"]
    assert cold == {**cold, "measured": "n/a", "result": "MISSED"}


def test_checkov_skips_are_read_with_their_reasons():
    text = (
        "framework:\n  - cloudformation\n"
        "skip-check:\n  - CKV_AWS_1  # reason: because of a long and written reason\n  - CKV_AWS_2\n"
        "quiet: true\n"
    )
    assert security.skipped_checks(text) == {"CKV_AWS_1": "because of a long and written reason", "CKV_AWS_2": ""}


def test_the_projects_checkov_skips_each_have_a_reason():
    skips = security.skipped_checks((ROOT / ".checkov.yaml").read_text())
    assert skips and all(len(reason) >= security.MIN_REASON for reason in skips.values())


def test_waiting_for_notifications_reads_the_orders_only_once_the_last_is_notified(monkeypatch):
    """While the last order is not yet notified, waiting costs one GetItem a second; then the
    orders' times are read by key (OrderRepository.items), never by a scan."""
    states = iter([None, {"orderId": "b"}, {"orderId": "b", "notifiedAt": "t"}, {"orderId": "b", "notifiedAt": "t"}])
    reads = iter(
        [
            {"a": {"orderId": "a"}, "b": {"orderId": "b", "notifiedAt": "t"}},  # "a" not yet notified
            {"a": {"orderId": "a", "notifiedAt": "t"}, "b": {"orderId": "b", "notifiedAt": "t"}},
        ]
    )
    calls = []

    class Repo:
        def get_item(self, order_id):
            calls.append(f"get {order_id}")
            return next(states)

        def items(self, order_ids, attributes):
            calls.append(f"items {','.join(order_ids)}: {','.join(attributes)}")
            return next(reads)

    monkeypatch.setattr(run.time, "sleep", lambda s: None)
    items = run._wait_notified(Repo(), ["a", "b"])
    read = "items a,b: createdAt,processedAt,notifiedAt"
    assert calls == ["get b", "get b", "get b", read, "get b", read]
    assert sorted(i["orderId"] for i in items) == ["a", "b"] and all(i["notifiedAt"] == "t" for i in items)


def test_the_run_time_is_judged_as_it_would_be_on_the_slowest_known_machine():
    assert run.scaled_run_time(80.0, 195.0) == {"bench_s_on_slow_machine": 240.0}  # three times as slow there
    rows = {row["target"]: row for row in run.verdicts({"bench_s_on_slow_machine": 241.0})}
    assert rows["make bench's run time scaled to the slowest known machine (s)"]["result"] == "MISSED"


def test_sections_time_each_part_of_the_run_even_one_that_fails():
    sections = run.Sections()
    with sections("quick"):
        pass
    try:
        with sections("failing"):
            raise RuntimeError("the sandbox went away")
    except RuntimeError:
        pass
    assert set(sections.seconds) == {"quick", "failing"} and all(s >= 0 for s in sections.seconds.values())

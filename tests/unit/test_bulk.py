"""The bulk generator: concurrent clients sharing one rate, every outcome counted
(throttled and failed requests included), the same requests whatever the client count."""

from __future__ import annotations

import io
import json
import random
import threading
import time
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError
from botocore.response import StreamingBody

from orders_lib import cli
from orders_lib.bench import run as bench
from orders_lib.domain.validation import ValidationFailed, validate_order_request
from orders_lib.ops.orders import BulkReport, bulk_requests, create_bulk
from orders_lib.pipeline.create import handle_create_event, order_id_for
from orders_lib.workbook.forms import BulkForm

FUNCTION = "techtest-create-order"


def is_valid(request):
    try:
        validate_order_request(request)
    except ValidationFailed:
        return False
    return True


def keys(requests):
    return [r["idempotencyKey"] for r in requests]


class FakeLambda:
    """CreateOrder in-process (the real create logic over a dict), answering as boto3 does.

    Requests whose idempotency key is in ``throttle`` fail as Lambda's throttling does
    once the client's retries are spent; ``crash`` keys end in a function error and
    ``deny`` keys in another AWS error. Records what arrived, when, and peak concurrency.
    """

    def __init__(self, throttle=(), crash=(), deny=(), delay_s=0.0):
        self.throttle, self.crash, self.deny, self.delay_s = set(throttle), set(crash), set(deny), delay_s
        self.orders = {}
        self.received = []  # (monotonic time, FunctionName, request)
        self.lock = threading.Lock()
        self.active = self.max_active = 0

    def create(self, order):  # the repository CreateOrder writes through
        with self.lock:
            stored = self.orders.setdefault(order.order_id, order)
        return stored, stored is order

    def invoke(self, FunctionName, Payload):
        request = json.loads(Payload)
        with self.lock:
            self.received.append((time.monotonic(), FunctionName, request))
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            time.sleep(self.delay_s)
            key = request.get("idempotencyKey")
            if key in self.throttle:
                raise ClientError({"Error": {"Code": "TooManyRequestsException", "Message": "Rate Exceeded."}}, "Invoke")
            if key in self.deny:
                raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "Invoke")
            if key in self.crash:
                return self.answer({"errorMessage": "boom", "errorType": "RuntimeError"}, FunctionError="Unhandled")
            return self.answer(handle_create_event(request, self))
        finally:
            with self.lock:
                self.active -= 1

    @staticmethod
    def answer(payload, **extra):
        raw = json.dumps(payload).encode()
        return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": StreamingBody(io.BytesIO(raw), len(raw)), **extra}

    def requests(self):
        return [request for _, _, request in self.received]


def test_every_outcome_is_counted_and_created_orders_are_kept():
    requests = bulk_requests(40, invalid_share=0.25, seed=3)
    valid = [r for r in requests if is_valid(r)]
    invalid = [r for r in requests if not is_valid(r)]
    assert invalid and len(valid) > 4
    throttled = keys(valid[:3]) + keys(invalid[:1])
    fake = FakeLambda(throttle=throttled, crash=keys(valid[3:4]))
    report = create_bulk(fake, FUNCTION, 40, rate_per_s=0, clients=4, invalid_share=0.25, seed=3)
    assert report.counts() == {"created": len(valid) - 4, "repeated": 0, "rejected": len(invalid) - 1, "throttled": 4, "errors": 1}
    assert sorted(report.order_ids) == sorted(order_id_for(k) for k in keys(valid[4:]))
    assert len(report.latencies_ms) == 40 and report.seconds > 0

    again = create_bulk(fake, FUNCTION, 40, rate_per_s=0, clients=4, invalid_share=0.25, seed=3)
    assert again.repeated == len(valid) - 4 and again.created == 0 and again.order_ids == []


def test_the_report_gives_counts_rate_and_latency_percentiles():
    report = BulkReport(created=2, rejected=1, throttled=1, latencies_ms=[10.0, 20.0, 30.0, 40.0], seconds=2.0)
    assert report.as_dict() == {
        "created": 2,
        "repeated": 0,
        "rejected": 1,
        "throttled": 1,
        "errors": 0,
        "requests_per_s": 2.0,
        "latency_p50_ms": 20.0,  # nearest rank: always a latency that was measured
        "latency_p99_ms": 40.0,
    }
    assert "throttled 1" in report.summary() and "p99 40.0 ms" in report.summary()


def test_create_bulk_and_the_benchmark_report_the_same_percentiles_for_the_same_latencies():
    rng = random.Random(11)
    latencies = [round(rng.lognormvariate(3, 1), 3) for _ in range(137)]
    report = BulkReport(created=137, latencies_ms=latencies, seconds=1.0)
    assert report.as_dict()["latency_p50_ms"] == round(bench.percentile(latencies, 0.5), 1)
    assert report.as_dict()["latency_p99_ms"] == round(bench.percentile(latencies, 0.99), 1)
    assert f"p99 {round(bench.percentile(latencies, 0.99), 1)} ms" in report.summary()


def test_clients_call_concurrently():
    fake = FakeLambda(delay_s=0.02)
    create_bulk(fake, FUNCTION, 32, rate_per_s=0, clients=8)
    assert 1 < fake.max_active <= 8
    alone = FakeLambda(delay_s=0.005)
    create_bulk(alone, FUNCTION, 8, rate_per_s=0, clients=1)
    assert alone.max_active == 1


def test_clients_share_one_schedule_at_the_given_rate():
    fake = FakeLambda()
    started = time.monotonic()
    report = create_bulk(fake, FUNCTION, 20, rate_per_s=200, clients=4)
    arrivals = sorted(at for at, _, _ in fake.received)
    assert all(at - started >= index / 200 - 0.002 for index, at in enumerate(arrivals))
    assert report.seconds >= 19 / 200


def test_the_same_seed_sends_the_same_requests_for_any_client_count():
    sent = {}
    for clients in (1, 8):
        fake = FakeLambda()
        create_bulk(fake, FUNCTION, 30, rate_per_s=0, clients=clients, invalid_share=0.2, seed=11)
        sent[clients] = sorted(json.dumps(r, sort_keys=True) for r in fake.requests())
    assert sent[1] == sent[8] == sorted(json.dumps(r, sort_keys=True) for r in bulk_requests(30, 0.2, 11))
    assert sent[1] != sorted(json.dumps(r, sort_keys=True) for r in bulk_requests(30, 0.2, 12))


def test_other_failures_are_counted_with_their_first_messages_not_raised():
    requests = bulk_requests(20, seed=5)
    fake = FakeLambda(crash=keys(requests[:4]), deny=keys(requests[4:8]))
    report = create_bulk(fake, FUNCTION, 20, rate_per_s=0, clients=4, seed=5)
    assert report.errors == 8 and report.created == 12 and len(fake.received) == 20
    assert len(report.error_messages) == BulkReport.KEEP_MESSAGES
    assert all("boom" in m or "AccessDeniedException" in m for m in report.error_messages)
    single = create_bulk(FakeLambda(deny=keys(requests[:1])), FUNCTION, 1, rate_per_s=0, seed=5)
    assert single.errors == 1 and "AccessDeniedException" in single.error_messages[0]


def test_a_bug_is_raised_not_counted():
    class Broken(FakeLambda):
        def invoke(self, FunctionName, Payload):
            return self.answer({"unexpected": True})

    with pytest.raises(KeyError):
        create_bulk(Broken(), FUNCTION, 3, rate_per_s=0, clients=2)


def test_live_counts_follow_every_finished_request():
    requests = bulk_requests(24, invalid_share=0.3, seed=2)
    fake = FakeLambda(throttle=keys(requests[:5]))
    snapshots, steps = [], []
    report = create_bulk(
        fake,
        FUNCTION,
        24,
        rate_per_s=0,
        clients=6,
        invalid_share=0.3,
        seed=2,
        progress=steps.append,
        on_update=lambda r: snapshots.append(r.counts()),
    )
    assert [sum(s.values()) for s in snapshots] == list(range(1, 25))
    assert snapshots[-1] == report.counts() and snapshots[-1]["throttled"] == 5
    assert steps == [1] * 24


def test_at_least_one_client_is_needed():
    with pytest.raises(ValueError, match="clients must be at least 1"):
        create_bulk(FakeLambda(), FUNCTION, 1, clients=0)


# -- the command line and the form --------------------------------------------------------


@pytest.fixture
def fake_target(monkeypatch):
    """The CLI's Context answering with a fake lambda client and stack outputs."""
    used = {}

    def client(self, service):
        used.setdefault("clients", []).append((service, self.settings.target))
        return used["fake"]

    monkeypatch.setattr(cli.Context, "client", client)
    monkeypatch.setattr(cli.Context, "new_client", client)
    monkeypatch.setattr(cli.Context, "outputs", property(lambda self: SimpleNamespace(create_function=FUNCTION)))
    return used


def table(out):
    lines = out.splitlines()
    return dict(zip(lines[0].split(), lines[2].split(), strict=True))


def test_create_bulk_command_prints_the_counts(fake_target, capsys):
    requests = bulk_requests(12, invalid_share=0.25, seed=5)
    fake_target["fake"] = fake = FakeLambda(throttle=keys(requests[:2]), delay_s=0.01)
    code = cli.main(
        ["--target", "aws", "create-bulk", "--count", "12", "--rate", "0", "--clients", "3", "--invalid-share", "0.25", "--seed", "5"]
    )
    captured = capsys.readouterr()
    row = table(captured.out)
    rejected = sum(not is_valid(r) for r in requests[2:])
    assert code == 0
    assert {k: int(row[k]) for k in ("created", "repeated", "rejected", "throttled", "errors")} == {
        "created": 10 - rejected,
        "repeated": 0,
        "rejected": rejected,
        "throttled": 2,
        "errors": 0,
    }
    assert "latency_p99_ms" in row and "--seed 5" in captured.out
    assert fake_target["clients"] == [("lambda", "aws")] * 3, "one client per concurrent caller, for AWS"
    assert {name for _, name, _ in fake.received} == {FUNCTION}
    assert 1 < fake.max_active <= 3
    assert "throttled=2" in captured.err  # the progress bar's live counts


def test_create_bulk_command_fails_when_requests_failed(fake_target, capsys):
    requests = bulk_requests(4, seed=1)
    fake_target["fake"] = FakeLambda(crash=keys(requests[:1]))
    assert cli.main(["create-bulk", "--count", "4", "--rate", "0", "--seed", "1"]) == 1
    assert "boom" in capsys.readouterr().out


def test_create_bulk_command_needs_a_client(capsys):
    with pytest.raises(SystemExit):
        cli.main(["create-bulk", "--clients", "0"])
    assert "must be at least 1" in capsys.readouterr().err


class FakeBench:
    def __init__(self, fake):
        self.fake, self.outputs = fake, SimpleNamespace(create_function=FUNCTION)

    def client(self, service):
        assert service == "lambda"
        return self.fake

    new_client = client


def test_bulk_form_runs_with_its_clients_and_shows_live_counts():
    requests = bulk_requests(16, invalid_share=0.25, seed=7)
    fake = FakeLambda(throttle=keys(requests[:3]), delay_s=0.01)
    form = BulkForm(FakeBench(fake), count=16, rate=500, invalid_share=0.25, seed=7, clients=4)
    labels = []
    form.counts.observe(lambda change: labels.append(change["new"]), "value")
    form.run_button.click()
    report = form.last_report
    assert (form.clients.min, form.clients.max, form.clients.value) == (1, 500, 4)
    assert 1 < fake.max_active <= 4 and form.progress.value == 16
    assert len(labels) >= 16 and labels[-1] == " · ".join(f"{k} {v}" for k, v in report.counts().items())
    assert "throttled 3" in labels[-1]
    assert form.output.outputs[0]["text"].startswith(
        f"created {report.created}, repeated 0, rejected {report.rejected}, throttled 3, errors 0"
    )

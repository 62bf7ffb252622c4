"""make bench's ``trace`` section: ``orders trace`` on a sandbox holding 10,000 orders and their
logs, every AWS call it makes counted.

Sending 10,000 orders through the pipeline takes minutes, so the table and the functions' log
groups are filled up to ``TRACE_AT_ORDERS`` with copies of one real order of the run: its item
(PROCESSED, so the mapping's filter drops the INSERT and nothing is invoked; the stream keeps
the record) and its invocations' log events with every UUID in them (order, request and message
ids) replaced, spread over the time the run has taken so far, so that the traced orders' time
windows hold them all. Then ``TRACED`` real orders of the run, created at different times, are
traced as the CLI traces them.
"""

from __future__ import annotations

import contextlib
import re
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

TRACE_AT_ORDERS = 10_000
TRACED = 5
FILL_STREAM = "bench/trace-fill"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_PUT_LOG_EVENTS_MAX = (10_000, 1_048_576)  # events and bytes per PutLogEvents call (26 bytes of overhead per event)


def count_items(ddb: Any, table: str) -> int:
    total, pages = 0, ddb.get_paginator("scan").paginate(TableName=table, Select="COUNT")
    for page in pages:
        total += page["Count"]
    return total


def notified_orders(ddb: Any, table: str, wanted: int) -> list[str]:
    """``wanted`` notified orders, spread from the oldest to the newest by createdAt."""
    found = []
    for page in ddb.get_paginator("scan").paginate(TableName=table, ProjectionExpression="orderId, createdAt, notifiedAt"):
        found += [(i["createdAt"]["S"], i["orderId"]["S"]) for i in page["Items"] if "notifiedAt" in i and "createdAt" in i]
    found.sort()
    if len(found) <= wanted:
        return [order_id for _, order_id in found]
    step = (len(found) - 1) / (wanted - 1) if wanted > 1 else 0
    return [found[round(n * step)][1] for n in range(wanted)]


def _renamed(message: str, names: dict[str, str]) -> str:
    return _UUID.sub(lambda m: names.setdefault(m.group(0), str(uuid.uuid4())), message)


def _put_events(logs: Any, group: str, events: list[tuple[int, str]]) -> None:
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_stream(logGroupName=group, logStreamName=FILL_STREAM)
    batch: list[dict[str, Any]] = []
    size = 0
    for timestamp, message in sorted(events):
        cost = len(message.encode()) + 26
        if batch and (len(batch) == _PUT_LOG_EVENTS_MAX[0] or size + cost > _PUT_LOG_EVENTS_MAX[1]):
            logs.put_log_events(logGroupName=group, logStreamName=FILL_STREAM, logEvents=batch)
            batch, size = [], 0
        batch.append({"timestamp": timestamp, "message": message})
        size += cost
    if batch:
        logs.put_log_events(logGroupName=group, logStreamName=FILL_STREAM, logEvents=batch)


def fill(aws: Callable[[str], Any], target: Any, template: str, total: int, since_ms: int) -> dict[str, Any]:
    """Copies of order ``template`` until the table holds ``total`` orders (see the module)."""
    from ..ops import trace_logs

    ddb, logs = aws("dynamodb"), aws("logs")
    started = time.perf_counter()
    missing = max(0, total - count_items(ddb, target.table_name))
    item = ddb.get_item(TableName=target.table_name, Key={"orderId": {"S": template}}, ConsistentRead=True)["Item"]
    now_ms = int(time.time() * 1000)
    groups = {
        target.create_log_group: trace_logs.invocations(logs, "CreateOrder", target.create_log_group, template, since_ms, now_ms),
        target.process_log_group: trace_logs.invocations(logs, "ProcessOrder", target.process_log_group, template, since_ms, now_ms),
    }
    template_events = {group: [e for i in found for e in i.events] for group, found in groups.items()}
    first = min((e["timestamp"] for events in template_events.values() for e in events), default=now_ms)
    span = max((e["timestamp"] for events in template_events.values() for e in events), default=now_ms) - first
    spacing = max(0.0, (now_ms - span - since_ms) / max(missing, 1))
    copies: dict[str, list[tuple[int, str]]] = {group: [] for group in template_events}
    requests = []
    for n in range(missing):
        names = {template: str(uuid.uuid4())}
        shift = since_ms + int(n * spacing) - first
        for group, events in template_events.items():
            copies[group] += [(e["timestamp"] + shift, _renamed(e["message"], names)) for e in events]
        requests.append({"PutRequest": {"Item": {**item, "orderId": {"S": names[template]}}}})
    for start in range(0, len(requests), 25):
        pending = {target.table_name: requests[start : start + 25]}
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    for group, copied in copies.items():
        _put_events(logs, group, copied)
    return {
        "orders_added": missing,
        "log_events_added": sum(len(events) for events in copies.values()),
        "fill_s": round(time.perf_counter() - started, 1),
    }


class CountingClients:
    """Clients of their own, every API call counted and timed by operation (botocore hooks)."""

    def __init__(self, make: Callable[[str], Any]) -> None:
        self.make = make
        self._clients: dict[str, Any] = {}
        self.calls: Counter[str] = Counter()
        self.seconds: dict[str, float] = {}
        self._started: dict[str, float] = {}

    def __call__(self, service: str) -> Any:
        if service not in self._clients:
            client = self._clients[service] = self.make(service)
            client.meta.events.register("before-call", self._before)
            client.meta.events.register("after-call", self._after)
        return self._clients[service]

    @staticmethod
    def _name(model: Any) -> str:
        return f"{model.service_model.service_name}.{model.name}"

    def _before(self, model: Any, **_: Any) -> None:
        self.calls[self._name(model)] += 1
        self._started[self._name(model)] = time.perf_counter()

    def _after(self, model: Any, **_: Any) -> None:
        name = self._name(model)
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - self._started.pop(name, time.perf_counter())


def trace_section(
    aws: Callable[[str], Any], new_client: Callable[[str], Any], outputs: dict[str, str], since_ms: int, total: int = TRACE_AT_ORDERS
) -> dict[str, Any]:
    """Fill to ``total`` orders, then trace ``TRACED`` real orders: seconds per trace and the calls each made."""
    from ..ops.stack import StackOutputs
    from ..ops.trace import TraceTarget, trace

    target = TraceTarget.from_outputs(StackOutputs(dict(outputs)))
    chosen = notified_orders(aws("dynamodb"), target.table_name, TRACED)
    if not chosen:
        raise RuntimeError("no notified order to trace: the run's earlier sections sent none")
    result: dict[str, Any] = {"orders_in_table": total, **fill(aws, target, chosen[0], total, since_ms)}
    seconds, calls, verdicts = [], [], []
    call_seconds: dict[str, float] = {}
    for order_id in chosen:
        counted = CountingClients(new_client)
        for service in ("logs", "dynamodb", "dynamodbstreams", "sqs", "cloudwatch"):
            counted(service)  # clients made before the clock starts: the trace is timed, not botocore
        started = time.perf_counter()
        traced = trace(order_id, counted, target)
        seconds.append(time.perf_counter() - started)
        calls.append(counted.calls)
        for name, spent in counted.seconds.items():
            call_seconds[name] = call_seconds.get(name, 0.0) + spent
        verdicts.append(traced.verdict.split(",")[0])
    per_operation: Counter[str] = Counter()
    for counted_calls in calls:
        per_operation.update(counted_calls)
    result.update(
        traces=len(chosen),
        trace_s_median=round(statistics.median(seconds), 3),
        trace_s_max=round(max(seconds), 3),
        calls_per_trace=round(sum(sum(c.values()) for c in calls) / len(calls), 1),
        calls_by_operation={k: round(v / len(calls), 1) for k, v in sorted(per_operation.items())},
        seconds_by_operation={k: round(v / len(calls), 3) for k, v in sorted(call_seconds.items())},
        verdicts=sorted(set(verdicts)),
    )
    return result

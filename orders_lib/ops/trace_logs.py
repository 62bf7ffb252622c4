"""The order trace's CloudWatch Logs part: the invocations whose log lines name one order.

Two ``FilterLogEvents`` queries per function, the same on the sandbox and on AWS:

1. ``{ $.orderId = "ID" || $.orderIds[*] = "ID" }`` over the log group finds the handlers'
   JSON lines about the order (``orderId``) or about a batch holding it (``orderIds``); each
   carries Powertools' ``function_request_id``;
2. per request id, the id as a quoted term, bounded in time, finds the rest of that
   invocation's lines: Lambda's own ``START``/``END``/``REPORT`` (no order id in them) and a
   runtime's crash or timeout line.

FilterLogEvents answers at most 10,000 events or 1 MB a page and may answer an empty page with
a ``nextToken`` (a time-bounded scan window), so pages are followed, up to ``max_pages``:
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
Pattern syntax (JSON selectors, ``[*]``, quoted terms):
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
The REPORT line's fields (Duration, Billed Duration, Memory Size, Max Memory Used, Init Duration):
https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

MAX_FUNCTION_MS = 15 * 60 * 1000  # Lambda's longest timeout: an invocation's lines lie within it
REPORT = re.compile(r"^REPORT RequestId: (?P<id>\S+)")
_REPORT_FIELD = re.compile(r"(?P<name>Duration|Billed Duration|Memory Size|Max Memory Used|Init Duration): (?P<value>[\d.]+) (?:ms|MB)")
_FIELD_NAMES = {
    "Duration": "duration_ms",
    "Billed Duration": "billed_ms",
    "Memory Size": "memory_mb",
    "Max Memory Used": "max_memory_mb",
    "Init Duration": "init_ms",
}
CRASH_MARKERS = ("Runtime exited with error", "Task timed out", "Runtime.ExitError", "Sandbox.Timedout")


@dataclass(frozen=True)
class Report:
    """Lambda's REPORT line: what the invocation took and was billed."""

    request_id: str
    duration_ms: float
    billed_ms: float
    memory_mb: int
    max_memory_mb: int
    init_ms: float | None = None


def parse_report(message: str) -> Report | None:
    """The REPORT line's figures, or None if ``message`` is no REPORT line. Fields are tab
    separated; each is looked up by name, so an order change or a missing one does no harm."""
    head = REPORT.match(message.strip())
    if head is None:
        return None
    values = {_FIELD_NAMES[m["name"]]: float(m["value"]) for m in _REPORT_FIELD.finditer(message)}
    if "duration_ms" not in values:
        return None
    return Report(
        request_id=head["id"],
        duration_ms=values["duration_ms"],
        billed_ms=values.get("billed_ms", values["duration_ms"]),
        memory_mb=int(values.get("memory_mb", 0)),
        max_memory_mb=int(values.get("max_memory_mb", 0)),
        init_ms=values.get("init_ms"),
    )


def json_line(message: str) -> dict[str, Any] | None:
    """A structured (Powertools) log line as a dict, or None for plain text."""
    text = message.strip()
    if not text.startswith("{"):
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


@dataclass
class Invocation:
    """One function invocation that touched the order: its lines, oldest first, and REPORT."""

    function: str
    request_id: str
    events: list[dict[str, Any]] = field(default_factory=list)  # FilterLogEvents events
    report: Report | None = None

    @property
    def lines(self) -> list[dict[str, Any]]:
        """The structured lines (Powertools' JSON) of the invocation."""
        return [line for line in (json_line(e["message"]) for e in self.events) if line is not None]

    @property
    def ended_ms(self) -> int:
        return max(e["timestamp"] for e in self.events) if self.events else 0

    @property
    def started_ms(self) -> int:
        """When it started: the START line, or (lines written at the end, as the sandbox writes
        them) the REPORT line's time less its duration, whichever is earlier."""
        starts = [e["timestamp"] for e in self.events if e["message"].startswith("START RequestId:")]
        first = min(starts or [self.ended_ms])
        if self.report is not None:
            first = min(first, self.ended_ms - round(self.report.duration_ms))
        return first

    def line(self, message: str) -> dict[str, Any] | None:
        """The first structured line with this ``message``."""
        return next((line for line in self.lines if line.get("message") == message), None)

    def errors(self) -> list[str]:
        """What went wrong in it: ERROR lines' messages (with their reason) and runtime crashes."""
        found = []
        for event in self.events:
            line = json_line(event["message"])
            if line is not None and line.get("level") in ("ERROR", "CRITICAL"):
                detail = line.get("problems") or line.get("reason") or line.get("exception") or ""
                found.append(f"{line.get('message')}: {'; '.join(detail) if isinstance(detail, list) else detail}".rstrip(": "))
            elif line is None and any(marker in event["message"] for marker in CRASH_MARKERS):
                found.append(event["message"].strip())
        return found


def order_pattern(order_id: str) -> str:
    """The JSON filter pattern of the lines about one order, or about a batch holding it."""
    quoted = json.dumps(order_id)
    return f"{{ $.orderId = {quoted} || $.orderIds[*] = {quoted} }}"


def filter_events(logs: Any, group: str, pattern: str | None, start_ms: int, end_ms: int, max_pages: int = 20) -> list[dict[str, Any]]:
    """Every event of ``group`` matching ``pattern`` (None: every event) in [start, end], oldest first."""
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"logGroupName": group, "startTime": start_ms, "endTime": end_ms}
    if pattern is not None:
        kwargs["filterPattern"] = pattern
    for _ in range(max_pages):
        response = logs.filter_log_events(**kwargs)
        events += response.get("events", [])
        token = response.get("nextToken")
        if not token or token == kwargs.get("nextToken"):
            break
        kwargs["nextToken"] = token
    unique = {(e.get("logStreamName"), e.get("eventId"), e["timestamp"], e["message"]): e for e in events}  # pages may overlap
    return sorted(unique.values(), key=lambda e: (e["timestamp"], e.get("ingestionTime", 0)))


def invocations(logs: Any, function: str, group: str, order_id: str, start_ms: int, end_ms: int) -> list[Invocation]:
    """The invocations of ``function`` whose lines name ``order_id``, oldest first, each with
    all its lines and its REPORT (one more query per invocation, within Lambda's longest run)."""
    tagged = filter_events(logs, group, order_pattern(order_id), start_ms, end_ms)
    found: dict[str, Invocation] = {}
    for event in tagged:
        line = json_line(event["message"]) or {}
        request_id = line.get("function_request_id")
        if isinstance(request_id, str) and request_id:
            found.setdefault(request_id, Invocation(function, request_id)).events.append(event)
    for invocation in found.values():
        first, last = invocation.events[0]["timestamp"], invocation.events[-1]["timestamp"]
        around = filter_events(logs, group, json.dumps(invocation.request_id), first - MAX_FUNCTION_MS, last + MAX_FUNCTION_MS)
        if around:
            invocation.events = around
        invocation.report = next((r for r in (parse_report(e["message"]) for e in invocation.events) if r is not None), None)
    return sorted(found.values(), key=lambda i: i.started_ms)

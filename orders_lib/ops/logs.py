"""Recent log events of a function (CloudWatch Logs, sandbox or AWS)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any


def recent_events(logs: Any, group: str, minutes: int = 15, limit: int = 200) -> list[dict[str, Any]]:
    start = int((time.time() - minutes * 60) * 1000)
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"logGroupName": group, "startTime": start, "limit": min(limit, 10_000)}
    while len(events) < limit:
        response = logs.filter_log_events(**kwargs)
        events += response.get("events", [])
        if not response.get("nextToken") or response["nextToken"] == kwargs.get("nextToken"):
            break
        kwargs["nextToken"] = response["nextToken"]
    events.sort(key=lambda e: (e["timestamp"], e.get("ingestionTime", 0)))
    return events[-limit:]


def format_events(events: list[dict[str, Any]]) -> str:
    return (
        "\n".join(f"{datetime.fromtimestamp(e['timestamp'] / 1000, UTC):%H:%M:%S.%f}"[:-3] + f"  {e['message'].rstrip()}" for e in events)
        or "(no log events)"
    )

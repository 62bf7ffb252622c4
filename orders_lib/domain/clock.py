"""UTC time in the one textual form the project stores and shows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_iso(moment: datetime) -> str:
    """ISO-8601 in UTC with microseconds, e.g. ``2026-11-26T20:10:00.123456Z`` (stage times a
    fraction of a millisecond apart stay apart; see 03_latency)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_iso(text: str) -> datetime:
    """Inverse of :func:`to_iso`; accepts any ISO-8601 form Python understands."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {text!r}")
    return moment.astimezone(UTC)

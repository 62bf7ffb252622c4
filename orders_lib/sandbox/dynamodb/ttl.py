"""DynamoDB Time to Live in the sandbox: expired items deleted, as the TTL process does it.

Every ``interval_s`` the sweeper deletes, from each table whose TTL is enabled,
the items whose TTL attribute is a number of epoch seconds at or before the
sandbox clock, skipping values more than five years in the past (DynamoDB
ignores those). Each deletion writes the ``REMOVE`` stream record the TTL
process writes, with ``userIdentity`` ``{"Type": "Service", "PrincipalId":
"dynamodb.amazonaws.com"}``
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-streams.html).
AWS deletes within a few days; the sandbox within one sweep.

The sandbox clock is the machine's clock plus an offset that only the sweeper
reads: ``orders sandbox clock --advance 7d`` makes a week pass for TTL without
touching timestamps anything else writes.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from decimal import Decimal, InvalidOperation
from typing import Any

LOG = logging.getLogger(__name__)
DEFAULT_INTERVAL_S = 10.0
FIVE_YEARS_S = 5 * 365 * 24 * 3600
TTL_IDENTITY = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

_deleting = threading.local()


def parse_duration(text: str) -> float:
    """``7d``, ``7d1h``, ``12h``, ``30m``, ``90s``, ``1w`` or plain seconds; a leading ``-`` goes back."""
    compact = (text or "").replace(" ", "")
    sign, body = (-1, compact[1:]) if compact.startswith("-") else (1, compact)
    parts = re.findall(r"(\d+(?:\.\d+)?)([smhdw]?)", body)
    if not body or "".join(number + unit for number, unit in parts) != body or (len(parts) > 1 and not all(u for _, u in parts)):
        raise ValueError(f"not a duration: {text!r} (examples: 7d, 7d1h, 12h, 30m, 90s)")
    return sign * sum(float(number) * _UNITS[unit or "s"] for number, unit in parts)


class SandboxClock:
    """Wall-clock time plus an offset that can be advanced (never the system clock)."""

    def __init__(self, source: Callable[[], float] = time.time):
        self._source, self.offset_s = source, 0.0

    def now(self) -> float:
        return self._source() + self.offset_s

    def advance(self, seconds: float) -> None:
        self.offset_s += seconds

    def reset(self) -> None:
        self.offset_s = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"offset_s": self.offset_s, "now": self.now()}


@contextmanager
def as_ttl_process() -> Iterator[None]:
    """Deletions in this block are the TTL process's (stream records carry its identity)."""
    _deleting.active = True
    try:
        yield
    finally:
        _deleting.active = False


def user_identity() -> dict[str, str] | None:
    """The identity to stamp on a stream record written now, if it is a TTL deletion."""
    return dict(TTL_IDENTITY) if getattr(_deleting, "active", False) else None


def expiry_of(value: Any) -> float | None:
    """The epoch seconds in a TTL attribute (``{"N": "..."}``), or None when it is not a number."""
    if not isinstance(value, dict) or "N" not in value:
        return None
    try:
        return float(Decimal(value["N"]))
    except (InvalidOperation, ValueError):
        return None


def is_expired(expiry: float | None, now: float) -> bool:
    return expiry is not None and now - FIVE_YEARS_S <= expiry <= now


class TtlSweeper:
    """Deletes expired items every ``interval_s``; at each sweep it also runs ``housekeeping(now)``
    (the streams' retention), so that the sandbox clock drives both."""

    def __init__(
        self,
        account: str,
        region: str,
        clock: SandboxClock,
        interval_s: float = DEFAULT_INTERVAL_S,
        housekeeping: Callable[[float], Any] | None = None,
        section: Callable[[], AbstractContextManager[Any]] = nullcontext,
    ):
        self.account, self.region, self.clock, self.interval_s = account, region, clock, interval_s
        self.section = section  # each deletion and each housekeeping round runs in it (the snapshot gate)
        self.housekeeping = housekeeping
        self.deleted = 0
        self.wake = threading.Event()

    def sweep(self) -> int:
        """Delete every expired item now; returns how many."""
        from moto.dynamodb.models import dynamodb_backends

        backend = dynamodb_backends[self.account][self.region]
        now, count = self.clock.now(), 0
        for table in list(backend.tables.values()):
            ttl = table.ttl or {}
            attribute = ttl.get("AttributeName")
            if ttl.get("TimeToLiveStatus") != "ENABLED" or not attribute:
                continue
            expired = [
                item
                for item in list(table.all_items())
                if is_expired(expiry_of(item.attrs[attribute].to_json()) if attribute in item.attrs else None, now)
            ]
            for item in expired:
                key = {table.hash_key_attr: item.hash_key.to_json()}
                if table.range_key_attr and item.range_key is not None:
                    key[table.range_key_attr] = item.range_key.to_json()
                with self.section(), as_ttl_process():  # one short section per deletion, not the whole scan
                    backend.delete_item(table.name, key)
                count += 1
        if count:
            LOG.info("TTL deleted %d expired item(s)", count)
        self.deleted += count
        if self.housekeeping:
            with self.section():
                self.housekeeping(now)
        return count

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.sweep()
            except Exception:  # keep sweeping as the TTL process does; the cause is logged
                LOG.exception("TTL sweep failed")
            self.wake.wait(self.interval_s)
            self.wake.clear()

"""The one lock the sandbox's DynamoDB item writes take, and what must not interleave with them.

DynamoDB's conditional writes are atomic on AWS; moto checks a condition and then writes, with
nothing in between, so two concurrent ``UpdateItem`` calls could both pass ``#status = NEW``.
Every item write runs under ``ITEM_WRITES`` (``serialized``), as cheap as it is correct in one
interpreter. A stream shard's records are appended by those writes, so whatever reads a shard's
records by sequence number while they may be trimmed takes the same lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

ITEM_WRITES = threading.RLock()  # transactions call the single-item writes: re-entrant


def serialized(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` run under the one lock every item write takes."""

    def write(self: Any, *args: Any, **kwargs: Any) -> Any:
        with ITEM_WRITES:
            return method(self, *args, **kwargs)

    write.__wrapped__ = method  # type: ignore[attr-defined]
    return write

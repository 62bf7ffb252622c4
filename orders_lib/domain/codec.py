"""JSON with exact money: the one serialisation used by handlers, notebooks and tests."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


class NonFiniteNumber(ValueError):
    """A Decimal infinity or NaN: JSON has no such number, so it is never written.

    ``str()`` would write ``"NaN"`` and ``"Infinity"`` as strings that read back as
    text, not numbers; ``loads`` refuses them as bare constants for the same reason.
    """

    def __init__(self, value: Decimal):
        super().__init__(f"cannot encode {value} as JSON: numbers must be finite")
        self.value = value


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise NonFiniteNumber(value)
        # Integral values written without a fraction (quantities, epoch seconds read
        # back from DynamoDB) stay integers; money keeps its two places as a string.
        exponent = value.as_tuple().exponent  # an int once finite ('n', 'N', 'F' mark NaN, sNaN, Infinity)
        return int(value) if isinstance(exponent, int) and exponent >= 0 else str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def dumps(value: Any, *, indent: int | None = None) -> str:
    return json.dumps(value, default=_default, indent=indent, sort_keys=indent is not None, ensure_ascii=False)


def canonical(value: Any) -> str:
    """Stable compact form, for hashing requests."""
    return json.dumps(value, default=_default, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def loads(text: str | bytes) -> Any:
    """Parse JSON keeping decimals exact and refusing NaN and Infinity."""
    return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)

"""Orders as CreateOrder makes them, from generated requests, without a table: the load of make bench
and of 06_capacity's check against the sandbox."""

from __future__ import annotations

import random
from typing import Any


def sample_orders(count: int, seed: int) -> list[Any]:
    """``count`` valid orders from requests generated with ``seed`` (the same seed, the same ids)."""
    from ..ops.orders import random_request
    from ..pipeline.create import create_order

    class Keep:
        def create(self, order: Any) -> tuple[Any, bool]:
            return order, True

    rng = random.Random(seed)
    return [create_order(random_request(rng), Keep()).order for _ in range(count)]

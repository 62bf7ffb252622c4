"""The ``load`` section of ``make bench``: CreateOrder under 10, 50 and 200 concurrent clients.

Each client is a boto3 client of its own with the standard retry mode, sending
as fast as it gets answers (no rate limit): the figure is what the sandbox
serves, not what was offered. For each level: orders created per second,
invoke latency as the clients saw it (queueing and retries included), and
throttles, both as the clients finally saw them and as the sandbox counted
them (a throttle the client's retries absorbed counts only on the sandbox side).
"""

from __future__ import annotations

from typing import Any

from botocore.config import Config

LEVELS = (10, 50, 200)


def requests_for(clients: int) -> int:
    """Enough requests per level that every client sends three or more (its first pays the
    connection; the others are the steady state), and at least 150 in all."""
    return max(150, 3 * clients)


def measure(endpoint: str, outputs: dict[str, str], levels: tuple[int, ...] = LEVELS, wait_processed: Any = None) -> dict[str, Any]:
    """One row per level of concurrency; ``wait_processed(ids)`` drains the pipeline between levels."""
    from ..aws.clients import new_client
    from ..ops.orders import create_bulk
    from ..sandbox import control
    from ..settings import Settings

    settings = Settings(target="sandbox", endpoint_url=endpoint)
    config = Config(retries={"mode": "standard"}, max_pool_connections=1, read_timeout=60)
    function = outputs["CreateOrderFunctionName"]
    rows: dict[str, Any] = {}
    for level, clients in enumerate(levels):
        before = control.control(endpoint, "capacity")["functions"].get(function, {})
        report = create_bulk(
            None,
            function,
            requests_for(clients),
            rate_per_s=0,
            clients=clients,
            seed=700 + level,
            client_factory=lambda: new_client("lambda", settings, config),
        )
        after = control.control(endpoint, "capacity")
        stats = after["functions"][function]
        rows[str(clients)] = {
            "requests": report.finished,
            "orders_per_s": round(report.created / report.seconds, 1) if report.seconds else 0.0,
            "invoke_ms_p50": round(report.latency_ms(0.5) or 0.0, 1),
            "invoke_ms_p99": round(report.latency_ms(0.99) or 0.0, 1),
            "throttled_after_retries": report.throttled,
            "throttles_in_sandbox": stats["throttled"] - before.get("throttled", 0),
            "errors": report.errors,
            "peak_waiting": stats["peak_waiting"],
        }
        if wait_processed:
            wait_processed(report.order_ids)
    return {"max_workers": after["max_workers"], "max_queue": after["max_queue"], "clients": rows}

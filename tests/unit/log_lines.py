"""Log lines as the order pipeline's functions write them: Powertools Logger's JSON lines and the
Lambda service's START and REPORT lines."""

from __future__ import annotations

import json

ORDER_ID = "8a0b6c2e-1f3d-4e5a-9b7c-0d1e2f3a4b5c"
REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e812345678"


def powertools(message: str, order_id: str = ORDER_ID, **extra: object) -> str:
    """A line as Powertools Logger writes it from the create-order handler."""
    line = {
        "level": "INFO",
        "location": "handler:28",
        "message": message,
        "timestamp": "2026-11-30 07:00:00,123+0000",
        "service": "orders",
        "cold_start": True,
        "function_name": "techtest-create-order",
        "function_memory_size": "256",
        "function_request_id": REQUEST_ID,
        "orderId": order_id,
        "status_code": 201,
        "latency_ms": 12.5,
        "xray_trace_id": None,
        "items": [{"sku": "SKU-1", "quantity": 2}, {"sku": "SKU-2", "quantity": 3}],
    }
    return json.dumps({**line, **extra})


CREATED = powertools("order created")
OTHER_ORDER = powertools("order created", order_id="0f1e2d3c-0000-4000-8000-000000000000")
START = f"START RequestId: {REQUEST_ID} Version: $LATEST"
REPORT = f"REPORT RequestId: {REQUEST_ID}\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 256 MB\tMax Memory Used: 80 MB\t"

"""The table as deployed (TTL, point-in-time recovery, encryption) and orders expiring after their 7 days.

On the sandbox the demonstration moves the sandbox's TTL clock (only the TTL
sweeper reads it) past an order's ``expiresAt`` and watches the TTL process
delete it, with the ``REMOVE`` stream record DynamoDB writes for TTL. On AWS
it only reads: DynamoDB deletes expired items within a few days, and no clock
can be moved.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from ..domain.clock import from_iso, to_iso
from ..ops.reconcile import read_stream
from ..sandbox import control
from .bench import Workbench


def table_settings(bench: Workbench) -> dict[str, Any]:
    """What DynamoDB reports for the deployed table: TTL, PITR and encryption."""
    ddb, table = bench.client("dynamodb"), bench.outputs.table_name
    ttl = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    pitr = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    sse = ddb.describe_table(TableName=table)["Table"].get("SSEDescription", {})
    return {
        "ttl": f"{ttl.get('TimeToLiveStatus')} on {ttl.get('AttributeName')}",
        "point_in_time_recovery": pitr.get("PointInTimeRecoveryStatus"),
        "encryption": f"{sse.get('Status', 'AWS owned key')} {sse.get('SSEType', '')}".strip(),
        "customer_managed_key": sse.get("KMSMasterKeyArn", "").split(":key/")[0] + ":key/…" if sse.get("KMSMasterKeyArn") else None,
    }


def order_expiry(bench: Workbench, order_id: str) -> dict[str, Any] | None:
    """When an order expires, read from its ``expiresAt`` (epoch seconds)."""
    item = bench.repository.get_item(order_id)
    if not item:
        return None
    expires = int(item["expiresAt"])
    created = from_iso(str(item["createdAt"]))
    return {
        "orderId": order_id,
        "status": item["status"],
        "expiresAt": to_iso(datetime.fromtimestamp(expires, UTC)),
        "days_after_creation": round((expires - created.timestamp()) / 86400, 2),
    }


def expire(bench: Workbench, order_id: str, advance: str = "7d1h", timeout_s: float = 30.0) -> dict[str, Any]:
    """Sandbox only: let ``advance`` pass on the TTL clock, wait for the order to go, put the clock back."""
    if not bench.settings.is_sandbox:
        raise RuntimeError("the TTL clock exists only on the sandbox: on AWS, DynamoDB deletes expired items within a few days")
    endpoint = bench.settings.endpoint_url or ""
    control.control(endpoint, "clock", {"advance": advance})
    started = time.monotonic()
    try:
        while bench.repository.get_item(order_id) is not None:
            if time.monotonic() - started > timeout_s:
                raise TimeoutError(f"order {order_id} still there {timeout_s:.0f} s after the clock moved {advance}")
            time.sleep(0.2)
    finally:
        control.control(endpoint, "clock", {"reset": True})
    return {"orderId": order_id, "clock_moved": advance, "gone_after_s": round(time.monotonic() - started, 1)}


def ttl_removal(bench: Workbench, order_id: str) -> dict[str, Any] | None:
    """The ``REMOVE`` stream record of the order, and who wrote it."""
    for record in read_stream(bench.client("dynamodbstreams"), bench.outputs["TableStreamArn"]):
        keys = record.get("dynamodb", {}).get("Keys", {})
        if record.get("eventName") == "REMOVE" and keys.get("orderId", {}).get("S") == order_id:
            return {"eventName": "REMOVE", "orderId": order_id, "userIdentity": record.get("userIdentity")}
    return None


def demonstrate(bench: Workbench, order_id: str) -> dict[str, Any]:
    """Sandbox: the order expires and the TTL process's REMOVE record is shown. AWS: read only."""
    if not bench.settings.is_sandbox:
        return {"orderId": order_id, "note": "on AWS, DynamoDB deletes an expired order within a few days of its expiresAt"}
    expired = expire(bench, order_id)
    removal = ttl_removal(bench, order_id) or {}
    return {
        "orderId": order_id,
        "clock_moved": expired["clock_moved"],
        "still_in_table": bench.repository.get_item(order_id) is not None,
        "stream": removal.get("eventName"),
        "deleted_by": removal.get("userIdentity"),
    }

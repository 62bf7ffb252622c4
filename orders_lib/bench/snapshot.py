"""What keeping the sandbox's state costs: the pause a snapshot makes requests wait, its file,
and the restore, at 1,000 and 10,000 orders.

The state is built in this process, through moto's DynamoDB backend with the sandbox's patches
in: each order's item as CreateOrder writes it, then as ProcessOrder leaves it, so the table
holds the item and the stream its INSERT and MODIFY records, as a live sandbox does. Sending
10,000 orders through the pipeline for this would take minutes. What the table does not hold
(log events, messages, metrics) grows the file, not the pause.

* ``pause_ms``: what requests wait for on a live sandbox, the fork of a process holding that
  state (the gate's wait for running requests is 0 here: there are none). The periodic
  snapshot serialises in the forked child, so this is the part that could grow with the data.
* ``write_ms`` and ``size_mb``: the child's work, ``capture`` into the file (fsync, rename).
* ``restore_ms``: ``open_payload`` and ``restore`` into an empty moto, as a start does.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

SIZES = (1_000, 10_000)
TABLE = "bench-orders"


def _fill(orders: int) -> None:
    from moto.dynamodb.models import dynamodb_backends

    from ..aws.repository import to_attribute_map
    from ..ops.sample_orders import sample_orders

    backend = dynamodb_backends["123456789012"]["us-east-1"]
    backend.create_table(
        TABLE,
        schema=[{"AttributeName": "orderId", "KeyType": "HASH"}],
        throughput=None,
        attr=[{"AttributeName": "orderId", "AttributeType": "S"}],
        global_indexes=None,
        indexes=None,
        streams={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        billing_mode="PAY_PER_REQUEST",
        sse_specification=None,
        tags=[],
        deletion_protection_enabled=False,
        warm_throughput=None,
    )
    for order in sample_orders(orders, seed=31):
        item = to_attribute_map(order.to_item())
        backend.put_item(TABLE, item)
        processed = {**item, "status": {"S": "PROCESSED"}, "processedAt": item["createdAt"], "notifiedAt": item["createdAt"]}
        backend.put_item(TABLE, processed)


def _fork_ms() -> float:
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    elapsed = time.perf_counter() - started
    os.waitpid(pid, 0)
    return 1000 * elapsed


def measure(orders: int) -> dict[str, Any]:
    """The figures above for a state of ``orders`` orders (best fork of three)."""
    from moto import mock_aws

    from ..sandbox import moto_core
    from ..sandbox.dynamodb import moto_patches as dynamodb_patches
    from ..sandbox.persistence import moto_state, snapshot_file

    moto_core.install()
    dynamodb_patches.install(lambda table: None)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-snapshot-") as folder, mock_aws():
            _fill(orders)
            path = Path(folder) / "state.snapshot"
            pause_ms = min(_fork_ms() for _ in range(3))
            started = time.perf_counter()
            snapshot_file.write(path, lambda file: moto_state.capture(file, {}))
            write_ms = 1000 * (time.perf_counter() - started)
            size_mb = path.stat().st_size / 1e6
            started = time.perf_counter()
            _, payload = snapshot_file.open_payload(path)
            with payload:
                moto_state.restore(payload)
            restore_ms = 1000 * (time.perf_counter() - started)
    finally:
        dynamodb_patches.uninstall()
        moto_core.uninstall()
    return {
        "orders": orders,
        "pause_ms": round(pause_ms, 1),
        "write_ms": round(write_ms),
        "size_mb": round(size_mb, 1),
        "restore_ms": round(restore_ms),
    }


def snapshot_section(sizes: tuple[int, ...] = SIZES) -> dict[str, Any]:
    rows = [measure(orders) for orders in sizes]
    first, last = rows[0], rows[-1]
    return {
        "rows": rows,
        "pause_ms_at_most_orders": last["pause_ms"],
        "pause_growth": round(last["pause_ms"] / first["pause_ms"], 2) if first["pause_ms"] else None,
        "write_growth": round(last["write_ms"] / first["write_ms"], 2) if first["write_ms"] else None,
    }

"""Which of a shard's concurrent batches a stream record may travel in, when ``ParallelizationFactor``
is above 1.

Lambda "can process up to 10 batches in each shard simultaneously" and, doing so, "still ensures
in-order processing at the item (partition and sort key) level". The sandbox keeps that promise
with one *lane* per unit of the factor: every record of an item goes to the same lane (the item is
its ``Keys``, partition and sort key together), and a lane runs one invocation at a time, in
sequence order, with its own retries. The lane is chosen by a stable hash of the keys (CRC-32, not
Python's per-process salted ``hash``), so a restarted sandbox sends an item to the lane it used
before. How AWS assigns items to its concurrent batches is not documented; which items share a
lane here is the sandbox's choice.
https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
"""

from __future__ import annotations

import json
import zlib
from typing import Any


def item_key(record: dict[str, Any]) -> str:
    """The item a DynamoDB stream record is about: its ``Keys`` (partition and sort key), canonical."""
    return json.dumps(record.get("dynamodb", {}).get("Keys") or {}, sort_keys=True, separators=(",", ":"))


def lane_of(record: dict[str, Any], lanes: int) -> int:
    """The lane (0 .. lanes-1) every record of this record's item travels in."""
    if lanes <= 1:
        return 0
    return zlib.crc32(item_key(record).encode()) % lanes

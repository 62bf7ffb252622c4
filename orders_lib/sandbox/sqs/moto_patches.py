"""Where the sandbox's SQS plugs into moto (5.2.x).

* ``ReceiveMessage`` checked each message's retention by computing all the queue's attributes,
  which walks every message: O(n²) per receive, 70 ms a message with 1,000 in a subscriber
  queue. ``message_within_retention`` reads the one attribute it needs.
* A long poll (``WaitTimeSeconds``) steps out of the snapshot gate while it waits.
* A queue remembers the receipt handles of deleted messages so that deleting one again succeeds,
  as on AWS; moto kept every one for the queue's life (each message consumed grew it for good).
  ``DeletedHandles`` keeps the latest ``DELETED_HANDLES_KEPT`` per queue.
* Every message sent (the API or an SNS delivery) is reported, for CloudWatch's
  ``AWS/SQS NumberOfMessagesSent``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from moto.core.utils import unix_time
from moto.sqs.models import Message, Queue, SQSBackend

from orders_lib.sandbox.patching import Patches

_PATCHES = Patches("SQS")
DELETED_HANDLES_KEPT = 10_000


class DeletedHandles:
    """The set moto keeps of a queue's deleted receipt handles, bounded: the oldest are forgotten
    first (a delete with a forgotten handle is refused as invalid, as for any unknown handle)."""

    def __init__(self, limit: int | None = None):
        self.limit = DELETED_HANDLES_KEPT if limit is None else limit
        self._handles: dict[str, None] = {}

    def __contains__(self, handle: object) -> bool:
        return handle in self._handles

    def __len__(self) -> int:
        return len(self._handles)

    def add(self, handle: str) -> None:
        self._handles[handle] = None
        while len(self._handles) > self.limit:
            del self._handles[next(iter(self._handles))]

    def update(self, handles: Any) -> None:
        for handle in handles:
            self.add(handle)


def message_within_retention(self: SQSBackend, queue_name: str, message: Message) -> bool:
    """moto's retention check, without building every attribute of the queue."""
    retention_s = int(self.get_queue(queue_name).message_retention_period)  # type: ignore[attr-defined]  # set from the queue attributes
    return retention_s + message.sent_timestamp / 1000 > unix_time()  # type: ignore[operator]


def install(message_sent: Callable[[str], None], released: Callable[[], AbstractContextManager[Any]] = nullcontext) -> None:
    """``message_sent(queue_name)`` is called once for every message a queue accepts; ``released``
    is stepped into while a long poll waits for messages (the snapshot gate)."""
    _PATCHES.begin()
    moto_wait = Queue.wait_for_messages

    def wait_for_messages(self: Queue, timeout: int) -> None:
        with released():
            moto_wait(self, timeout)

    _PATCHES.replace(Queue, "wait_for_messages", wait_for_messages)
    moto_init = Queue.__init__

    def init(self: Queue, *args: Any, **kwargs: Any) -> None:
        moto_init(self, *args, **kwargs)
        self.deleted_messages = DeletedHandles()  # type: ignore[assignment]  # what moto reads of it: in, update

    _PATCHES.replace(Queue, "__init__", init)
    moto_send = SQSBackend.send_message

    def send_message(self: SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        message = moto_send(self, queue_name, *args, **kwargs)
        message_sent(queue_name)
        return message

    _PATCHES.replace(SQSBackend, "is_message_valid_based_on_retention_period", message_within_retention)
    _PATCHES.replace(SQSBackend, "send_message", send_message)


def uninstall() -> None:
    _PATCHES.restore()

"""Where the sandbox's SNS plugs into moto (5.2.x): publishing honours the chaos switch.

The pipeline's own publishes (``Publish`` and each ``PublishBatch`` entry) fail while the
switch says so, as a throttled or failing SNS would fail them. Publishes made by AWS services
(CloudWatch's alarm actions) go past it: ``publish_as_service``.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.sns.exceptions import InternalError
from moto.sns.models import SNSBackend, sns_backends

from orders_lib.sandbox.chaos import Chaos
from orders_lib.sandbox.patching import Patches

_PATCHES = Patches("SNS")
_local = threading.local()  # set while a publish must not meet the chaos switch


def install(chaos: Chaos) -> None:
    _PATCHES.begin()
    moto_publish, moto_publish_batch = SNSBackend.publish, SNSBackend.publish_batch

    def publish(self: SNSBackend, message: str, arn: str | None, *args: Any, **kwargs: Any) -> str:
        if not getattr(_local, "skip_chaos", False) and arn and ":sns:" in arn and chaos.fail_publish():
            raise InternalError("Injected by the sandbox's chaos switch: publish failed")
        return moto_publish(self, message, arn, *args, **kwargs)

    def publish_batch(self: SNSBackend, topic_arn: str, publish_batch_request_entries: list[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
        entries = publish_batch_request_entries
        failing = [entry for entry in entries if chaos.fail_publish()]
        kept = [entry for entry in entries if entry not in failing]
        _local.skip_chaos = True  # moto's batch calls publish per entry: decided above already
        try:
            successful, failed = moto_publish_batch(self, topic_arn, kept) if kept else ([], [])
        finally:
            _local.skip_chaos = False
        failed += [{"Id": e["Id"], "Code": "InternalError", "Message": "Injected publish failure", "SenderFault": False} for e in failing]
        return successful, failed

    _PATCHES.replace(SNSBackend, "publish", publish)
    _PATCHES.replace(SNSBackend, "publish_batch", publish_batch)


def publish_as_service(account: str, region: str, topic_arn: str, subject: str, message: str) -> None:
    """Publish as an AWS service does (CloudWatch's alarm actions): the chaos switch, which fails
    the pipeline's own publishes, does not apply."""
    _local.skip_chaos = True
    try:
        sns_backends[account][region].publish(message, arn=topic_arn, subject=subject)
    finally:
        _local.skip_chaos = False


def uninstall() -> None:
    _PATCHES.restore()

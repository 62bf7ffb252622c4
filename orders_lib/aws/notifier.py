"""ORDER_PROCESSED notifications through SNS ``PublishBatch`` (at most 10 a call)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from ..domain.model import Order
from ..domain.notification import build_notification

SNS_BATCH_LIMIT = 10


@dataclass
class PublishReport:
    published: list[str] = field(default_factory=list)  # order ids
    failed: dict[str, str] = field(default_factory=dict)  # order id -> reason
    message_ids: dict[str, str] = field(default_factory=dict)  # order id -> the SNS MessageId (logged: the trace shows it)


class SnsNotifier:
    def __init__(self, client: Any, topic_arn: str):
        self._client = client
        self.topic_arn = topic_arn

    def publish(self, orders: Sequence[Order]) -> PublishReport:
        report = PublishReport()
        for start in range(0, len(orders), SNS_BATCH_LIMIT):
            chunk = [build_notification(order) for order in orders[start : start + SNS_BATCH_LIMIT]]
            # Entry ids only need to be unique within one call.
            entries = [
                {"Id": f"n{index}", "Message": note.message, "MessageAttributes": note.sns_attributes()} for index, note in enumerate(chunk)
            ]
            try:
                response = self._client.publish_batch(TopicArn=self.topic_arn, PublishBatchRequestEntries=entries)
            except (ClientError, BotoCoreError, ResponseParserError) as error:  # an unreadable answer fails the chunk too
                for note in chunk:
                    report.failed[note.order_id] = f"{type(error).__name__}: {error}"
                continue
            for ok in response.get("Successful", []):
                order_id = chunk[int(ok["Id"][1:])].order_id
                report.published.append(order_id)
                if ok.get("MessageId"):
                    report.message_ids[order_id] = ok["MessageId"]
            for bad in response.get("Failed", []):
                report.failed[chunk[int(bad["Id"][1:])].order_id] = f"{bad.get('Code')}: {bad.get('Message', '')}"
        return report

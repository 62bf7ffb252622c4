"""On-failure records, sent as Lambda sends them: to the mapping's SQS queue or SNS topic, signed
with the function's execution role, so a role without ``sqs:SendMessage`` (or ``sns:Publish``)
loses them, as on AWS.
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3

from orders_lib.sandbox.lambda_.event_source_mapping.retries import InvokeResult, Record, sequence

LOG = logging.getLogger(__name__)
Credentials = Callable[[str], dict[str, str]]  # function name -> AWS_ACCESS_KEY_ID, ... as the runtime gets them


class OnFailureDestinations:
    def __init__(self, region: str, endpoint_url: Callable[[], str], credentials: Credentials):
        self.region, self._endpoint_url, self._credentials = region, endpoint_url, credentials
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def sender(self, function_arn: str) -> Callable[[str, dict[str, Any]], None]:
        """What a mapping of ``function_arn`` calls with ``(destination ARN, record)``."""
        return lambda destination_arn, record: self.send(function_arn, destination_arn, record)

    def send(self, function_arn: str, destination_arn: str, record: dict[str, Any]) -> None:
        _, _, service, _, account, name = destination_arn.split(":")[:6]
        function = function_arn.split(":")[6]
        if service == "sqs":
            url = f"{self._endpoint_url()}/{account}/{name}"
            self._client(function, "sqs").send_message(QueueUrl=url, MessageBody=json.dumps(record))
        elif service == "sns":
            self._client(function, "sns").publish(TopicArn=destination_arn, Message=json.dumps(record))
        else:
            LOG.error("on-failure destination %s is not SQS or SNS; record dropped", destination_arn)

    def _client(self, function: str, service: str) -> Any:
        """A client signed with ``function``'s credentials, so the call runs under its role."""
        key = (function, service)
        with self._lock:
            if key not in self._clients:
                credentials = self._credentials(function)
                self._clients[key] = boto3.session.Session().client(
                    service,
                    region_name=self.region,
                    endpoint_url=self._endpoint_url(),
                    aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
                    aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
                    aws_session_token=credentials["AWS_SESSION_TOKEN"],
                )
            return self._clients[key]


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(epoch_s * 1000) % 1000:03d}Z"


def on_failure_record(
    records: list[Record],
    condition: str,
    result: InvokeResult | None,
    attempts: int,
    *,
    function_arn: str,
    stream_arn: str,
    shard_id: str,
    now: float,
) -> dict[str, Any]:
    """The record Lambda sends for discarded stream records: ``requestContext``,
    ``responseContext`` and ``DDBStreamBatchInfo`` (the records themselves are not in it).
    https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html#services-dynamodb-errors"""
    arrivals = [r["dynamodb"].get("ApproximateCreationDateTime", now) for r in records]
    response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if result is not None and result.function_error:
        response["functionError"] = result.function_error
    return {
        "requestContext": {
            "requestId": result.request_id if result else str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": _iso(now),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": sequence(records[0]),
            "endSequenceNumber": sequence(records[-1]),
            "approximateArrivalOfFirstRecord": _iso(min(arrivals)),
            "approximateArrivalOfLastRecord": _iso(max(arrivals)),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    }

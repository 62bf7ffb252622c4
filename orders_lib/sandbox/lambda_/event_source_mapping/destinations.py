"""On-failure records, sent as Lambda sends them: to the mapping's SQS queue or SNS topic, signed
with the function's execution role, so a role without ``sqs:SendMessage`` (or ``sns:Publish``)
loses them, as on AWS.
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import boto3

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

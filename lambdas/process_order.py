"""ProcessOrder Lambda: DynamoDB stream batch -> PROCESSED + SNS notification.

Returns ``batchItemFailures`` so the event source mapping retries from the
first failed record and, after its retries, sends the batch's on-failure
record to the DLQ.
"""

import os

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from orders_lib.aws.clients import client
from orders_lib.aws.notifier import SnsNotifier
from orders_lib.aws.repository import OrderRepository
from orders_lib.pipeline.metrics import pipeline_metrics, record_batch
from orders_lib.pipeline.process import process_records

logger = Logger(service="process-order")
metrics = pipeline_metrics()
repository = OrderRepository(client("dynamodb"), os.environ["TABLE_NAME"])
notifier = SnsNotifier(client("sns"), os.environ["TOPIC_ARN"])


@metrics.log_metrics  # one EMF line per invocation, in the log: no API call
@logger.inject_lambda_context(clear_state=True)  # no key of one invocation reaches the next
def handler(event, context):
    if isinstance(event, dict) and isinstance(event.get("redrive"), dict):  # sent again from the DLQ (orders_lib.ops.dlq.redrive)
        logger.append_keys(redrive=event["redrive"])
    result = process_records(DynamoDBStreamEvent(event).records, repository, notifier, log=logger)
    record_batch(metrics, result)
    return result.response()

"""CreateOrder Lambda: validate a request and write the order (status NEW) once.

Accepts a direct-invoke JSON payload or an API Gateway / Function URL proxy
event; answers 201 (created), 200 (idempotent repeat), 400 (every invalid
field) or 409 (idempotency key reused for a different request).

Its answer is logged with the order's id as a top-level ``orderId`` key (and the metrics line
carries it as metadata), per line, never as a key that could outlive the invocation.
"""

import os

from aws_lambda_powertools import Logger

from orders_lib.aws.clients import client
from orders_lib.aws.repository import OrderRepository
from orders_lib.pipeline.create import answer_create_event, http_response
from orders_lib.pipeline.metrics import pipeline_metrics, record_create

logger = Logger(service="create-order")
metrics = pipeline_metrics()
repository = OrderRepository(client("dynamodb"), os.environ["TABLE_NAME"])
TTL_DAYS = int(os.environ.get("TTL_DAYS", "7"))


@metrics.log_metrics  # one EMF line per invocation, in the log: no API call
@logger.inject_lambda_context(clear_state=True)  # no key of one invocation reaches the next
def handler(event, context):
    outcome = answer_create_event(event, repository, ttl_days=TTL_DAYS)
    response = http_response(outcome.status_code, outcome.body())
    record_create(metrics, response)
    if outcome.order_id:  # the EMF line is about this order too: metadata is a top-level key of it
        metrics.add_metadata(key="orderId", value=outcome.order_id)
    logger.info("create-order answered", extra=outcome.log_fields())
    return response

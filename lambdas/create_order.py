"""CreateOrder Lambda: validate a request and write the order (status NEW) once.

Accepts a direct-invoke JSON payload or an API Gateway / Function URL proxy
event; answers 201 (created), 200 (idempotent repeat), 400 (every invalid
field) or 409 (idempotency key reused for a different request).
"""

import os

from aws_lambda_powertools import Logger

from orders_lib.aws.clients import client
from orders_lib.aws.repository import OrderRepository
from orders_lib.pipeline.create import handle_create_event
from orders_lib.pipeline.metrics import pipeline_metrics, record_create

logger = Logger(service="create-order")
metrics = pipeline_metrics()
repository = OrderRepository(client("dynamodb"), os.environ["TABLE_NAME"])
TTL_DAYS = int(os.environ.get("TTL_DAYS", "7"))


@metrics.log_metrics  # one EMF line per invocation, in the log: no API call
@logger.inject_lambda_context
def handler(event, context):
    response = handle_create_event(event, repository, ttl_days=TTL_DAYS)
    record_create(metrics, response)
    logger.info("create-order answered", extra={"status_code": response["statusCode"]})
    return response

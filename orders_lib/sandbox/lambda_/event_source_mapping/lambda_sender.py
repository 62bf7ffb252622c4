"""How a mapping hands a batch to its function: a synchronous invocation within the function's
concurrency, as Lambda's poller makes it. A throttle is reported as such (not a function
error), so the poller backs off without spending a retry attempt."""

from __future__ import annotations

import json
from typing import Any

from orders_lib.sandbox.lambda_.event_source_mapping.retries import InvokeResult
from orders_lib.sandbox.lambda_.invocation.capacity import Throttled
from orders_lib.sandbox.lambda_.invocation.invoker import Invocations
from orders_lib.sandbox.lambda_.moto_patches import function_named, function_reserved, function_spec


class LambdaSender:
    def __init__(self, account: str, region: str, invocations: Invocations):
        self.account, self.region, self.invocations = account, region, invocations

    def __call__(self, function_arn: str, event: dict[str, Any]) -> InvokeResult:
        function = function_named(self.account, self.region, function_arn)
        try:
            result = self.invocations.sync(function_spec(function), json.dumps(event), function_reserved(function))
        except Throttled as throttled:
            return InvokeResult("", None, throttled=throttled.reason)
        try:
            payload = json.loads(result.payload) if result.payload else None
        except ValueError:
            payload = None
        return InvokeResult(result.request_id, payload, result.function_error)

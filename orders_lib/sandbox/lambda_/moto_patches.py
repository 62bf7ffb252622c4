"""Where the sandbox's Lambda plugs into moto (5.2.x).

* ``LambdaFunction.invoke`` runs the function in the sandbox's runtime instead of Docker,
  within its concurrency (``invocation.invoker``); a throttle is answered as Lambda answers it
  (429 ``TooManyRequestsException`` with ``Reason`` and ``Type``).
* moto's own stream -> Lambda path (``LambdaBackend.send_dynamodb_items``, called synchronously
  from every table write, needing Docker and clearing the shard's records) is switched off: the
  event source mappings' pollers read the stream instead (``event_source_mapping``).
* A function's layers from another account (the public Powertools layer) are unknown to moto:
  creating through CloudFormation ignored them, updating failed. ``layers_as_given`` keeps
  unknown layer ARNs as given; the runtime uses the project's installed packages instead.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any
from urllib.parse import parse_qs, unquote

from moto.awslambda.models import LambdaBackend, LambdaFunction, lambda_backends
from moto.core.exceptions import JsonRESTError

from orders_lib.sandbox.lambda_.invocation.capacity import Throttled, reserved_concurrency
from orders_lib.sandbox.lambda_.invocation.invoker import Invocations
from orders_lib.sandbox.lambda_.invocation.runtime import FunctionSpec
from orders_lib.sandbox.patching import Patches

_PATCHES = Patches("Lambda")
_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
_REGION = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[a-z0-9-]+)/")
LOG_TAIL_LINES, LOG_TAIL_BYTES = 40, 4096  # what ``LogType=Tail`` returns: the last 4 KB of the log


class TooManyRequests(JsonRESTError):
    """Lambda's 429, with the ``Reason`` and ``Type`` fields botocore reads."""

    code = 429

    def __init__(self, throttled: Throttled):
        super().__init__("TooManyRequestsException", "Rate Exceeded.")
        self.description = throttled.body().decode()


def function_spec(fn: LambdaFunction) -> FunctionSpec:
    """What the runtime needs to run a function moto keeps."""
    return FunctionSpec(
        name=fn.function_name,
        arn=fn.function_arn,
        handler=fn.handler or "index.handler",
        timeout_s=float(fn.timeout or 3),
        memory_mb=int(fn.memory_size or 128),
        environment={k: str(v) for k, v in (fn.environment_vars or {}).items()},
        code_sha=fn.code_sha_256 or "none",
        code_zip=lambda: fn.code_bytes,
    )


def function_reserved(fn: LambdaFunction) -> int | None:
    return reserved_concurrency(getattr(fn, "reserved_concurrency", None))


def function_named(account: str, region: str, name_or_arn: str, qualifier: str | None = None) -> LambdaFunction:
    return lambda_backends[account][region].get_function(name_or_arn, qualifier)


def invoke_target(account: str, default_region: str, method: str, path: str, query: str, headers: dict[str, str]) -> LambdaFunction | None:
    """The function a synchronous ``Invoke`` request names, or None (anything else, or unknown: moto answers)."""
    match = _INVOKE_PATH.match(path)
    if method != "POST" or not match or headers.get("x-amz-invocation-type", "RequestResponse") != "RequestResponse":
        return None
    region_match = _REGION.search(headers.get("authorization", ""))
    region = region_match.group("region") if region_match else default_region
    qualifier = next(iter(parse_qs(query).get("Qualifier", [])), None)
    try:
        return function_named(account, region, unquote(match.group("name")), qualifier)
    except Exception:  # noqa: BLE001 - moto answers the request itself with the right error
        return None


def layers_as_given(self: LambdaFunction, arns: list[str]) -> list[Any]:
    """Known layer versions as moto describes them; any other layer version ARN as given."""
    backend = lambda_backends[self.account_id][self.region]
    layers = []
    for arn in arns:
        known = backend.layers_versions_by_arn(arn)
        layers.append({"Arn": known.arn, "CodeSize": known.code_size} if known else {"Arn": arn, "CodeSize": 0})
    return layers


def install(invocations: Invocations, released: Callable[[], AbstractContextManager[Any]] = nullcontext) -> None:
    """``released`` is stepped into while a synchronous invocation runs its function (the snapshot
    gate: the function's own calls are sections of their own)."""
    _PATCHES.begin()

    def invoke(self: LambdaFunction, body: Any, request_headers: Any, response_headers: dict[str, str]) -> bytes:
        spec = function_spec(self)
        payload = body.decode() if isinstance(body, bytes) else (body or "")
        invocation_type = request_headers.get("X-Amz-Invocation-Type")
        if invocation_type == "Event":
            invocations.event(spec, payload, function_reserved(self))
            return b""
        if invocation_type == "DryRun":
            return b""
        try:
            with released():
                result = invocations.sync(spec, payload, function_reserved(self))
        except Throttled as throttled:
            raise TooManyRequests(throttled) from None
        if result.function_error:
            response_headers["x-amz-function-error"] = result.function_error
        tail = "\n".join(result.log_text.splitlines()[-LOG_TAIL_LINES:]).encode()[-LOG_TAIL_BYTES:]
        response_headers["x-amz-log-result"] = base64.b64encode(tail).decode()
        response_headers["x-amz-executed-version"] = "$LATEST"
        response_headers["x-amzn-requestid"] = result.request_id
        return result.payload

    def no_stream_delivery(self: LambdaBackend, *args: Any, **kwargs: Any) -> None:
        return None  # returning nothing also keeps moto from clearing the shard

    _PATCHES.replace(LambdaFunction, "invoke", invoke)
    _PATCHES.replace(LambdaBackend, "send_dynamodb_items", no_stream_delivery)
    _PATCHES.replace(LambdaFunction, "_get_layers_data", layers_as_given)


def uninstall() -> None:
    _PATCHES.restore()

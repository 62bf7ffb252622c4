"""Where the sandbox plugs into moto (5.2.x), in one place.

* moto's own stream -> Lambda path (``LambdaBackend.send_dynamodb_items``,
  called synchronously from every write, needing Docker and clearing the
  shard's records) is switched off; our pollers read the stream instead, and
  ``StreamShard.add`` only wakes them.
* ``LambdaFunction.invoke`` runs the function in our runtime instead of Docker,
  within its concurrency (``invocations``); a throttle is answered as Lambda
  answers it.
* SNS publishing honours the chaos switch for failed publishes.
* stream records are stored compressed (see ``streams.CompactStreamRecord``).
* moto's ``BaseModel`` keeps every model instance it ever made in a class list
  (for its dashboard); every copy of every DynamoDB item and stream record
  stayed alive, about 50 KB per order. Only S3, which reads those lists to
  clean up, keeps tracking.
* SQS ``ReceiveMessage`` checked each message's retention by computing all the
  queue's attributes, which walks every message: O(n²) per receive, 70 ms a
  message with 1,000 in a subscriber queue. ``message_within_retention`` reads
  the one attribute it needs.
* A function's layers from another account (the public Powertools layer) are
  unknown to moto: creating through CloudFormation ignored them, updating
  failed. ``layers_as_given`` keeps unknown layer ARNs as given; the runtime
  uses the project's installed packages instead of layers (see the README).
* CloudFormation change sets (how the CDK CLI deploys) behave as AWS documents
  them: see ``moto_cloudformation``.
* ``Fn::GetAtt LogGroup.Arn`` is the group's ARN with ``:*`` after it on AWS (the form IAM
  policies use for its streams); moto gave it without, so a role granting ``logs:PutLogEvents``
  on it covered no stream once IAM was enforced. ``log_group_attribute`` adds it.
* DynamoDB's conditional writes are atomic on AWS; moto checks a condition and then writes,
  with nothing in between, so two concurrent ``UpdateItem`` calls could both pass
  ``#status = NEW``. Item writes take one lock (``_ITEM_WRITES``), as cheap as it is
  correct in one interpreter.
* ``AWS::CloudWatch::Alarm`` in a template creates the alarm, and CloudWatch's data plane
  reads the sandbox's metric store (``moto_cloudwatch``); every SQS message sent (API or SNS
  delivery) counts in ``NumberOfMessagesSent``.
* moto's server lists its own package folder on every request, under a lock,
  to route it (``list_of_moto_modules``); the list is fixed, so it is cached.
"""

from __future__ import annotations

import base64
import re
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

import moto.backends
from moto.awslambda.models import LambdaBackend, LambdaFunction, lambda_backends
from moto.cloudformation.models import ChangeSet, Stack
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.common_models import BaseModel
from moto.core.exceptions import JsonRESTError
from moto.core.utils import unix_time
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import StreamShard, Table
from moto.logs.models import LogGroup
from moto.sns.exceptions import InternalError
from moto.sns.models import SNSBackend
from moto.sqs.models import Message, SQSBackend

from orders_lib.sandbox.cloudformation import moto_patches as cfn
from orders_lib.sandbox.cloudwatch import moto_patches as moto_cloudwatch
from orders_lib.sandbox.lambda_.invocation.capacity import Throttled, reserved_concurrency
from orders_lib.sandbox.lambda_.invocation.runtime import FunctionSpec
from orders_lib.sandbox.dynamodb.streams import compact_new_records
from orders_lib.sandbox.dynamodb.ttl import user_identity

if TYPE_CHECKING:
    from .server import Sandbox

_ORIGINALS: dict[str, Any] = {}
_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
_REGION = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[a-z0-9-]+)/")


class TooManyRequests(JsonRESTError):
    """Lambda's 429, with the ``Reason`` and ``Type`` fields botocore reads."""

    code = 429

    def __init__(self, throttled: Throttled):
        super().__init__("TooManyRequestsException", "Rate Exceeded.")
        self.description = throttled.body().decode()


def function_spec(fn: LambdaFunction) -> FunctionSpec:
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


def invoke_target(account: str, default_region: str, method: str, path: str, query: str, headers: dict[str, str]) -> LambdaFunction | None:
    """The function a synchronous ``Invoke`` request names, or None (anything else, or unknown: moto answers)."""
    match = _INVOKE_PATH.match(path)
    if method != "POST" or not match or headers.get("x-amz-invocation-type", "RequestResponse") != "RequestResponse":
        return None
    region_match = _REGION.search(headers.get("authorization", ""))
    region = region_match.group("region") if region_match else default_region
    qualifier = (parse_qs(query).get("Qualifier") or [None])[0]
    try:
        return lambda_backends[account][region].get_function(unquote(match.group("name")), qualifier)
    except Exception:  # noqa: BLE001 - moto answers the request itself with the right error
        return None


def message_within_retention(self: SQSBackend, queue_name: str, message: Message) -> bool:
    """moto's retention check, without building every attribute of the queue."""
    retention_s = int(self.get_queue(queue_name).message_retention_period)
    return retention_s + message.sent_timestamp / 1000 > unix_time()  # type: ignore[operator]


def layers_as_given(self: LambdaFunction, arns: list[str]) -> list[dict[str, Any]]:
    """Known layer versions as moto describes them; any other layer version ARN as given."""
    backend = lambda_backends[self.account_id][self.region]
    layers = []
    for arn in arns:
        known = backend.layers_versions_by_arn(arn)
        layers.append({"Arn": known.arn, "CodeSize": known.code_size} if known else {"Arn": arn, "CodeSize": 0})
    return layers


def log_group_attribute(self: LogGroup, attribute_name: str) -> str:
    """CloudFormation's ``Arn`` of a log group, ending in ``:*`` as AWS documents it."""
    if attribute_name == "Arn":
        return f"{self.arn}:*"
    return _ORIGINALS["log_group_attribute"](self, attribute_name)


def install(sandbox: Sandbox) -> None:
    if _ORIGINALS:
        raise RuntimeError("moto hooks are already installed in this process")
    _ORIGINALS.update(
        send=LambdaBackend.send_dynamodb_items,
        add=StreamShard.add,
        invoke=LambdaFunction.invoke,
        publish=SNSBackend.publish,
        publish_batch=SNSBackend.publish_batch,
        modules=moto.backends.list_of_moto_modules,
        new=BaseModel.__dict__["__new__"],
        retention=SQSBackend.is_message_valid_based_on_retention_period,
        apply=ChangeSet.apply,
        layers=LambdaFunction._get_layers_data,
        create_table=Table.__dict__["create_from_cloudformation_json"],
        describe_change_set=CloudFormationResponse.describe_change_set,
        delete_change_set=CloudFormationResponse.delete_change_set,
        execute_change_set=CloudFormationResponse.execute_change_set,
        log_group_attribute=LogGroup.get_cfn_attribute,
        send_message=SQSBackend.send_message,
    )
    modules = tuple(_ORIGINALS["modules"]())
    moto_cloudwatch.register()
    moto_cloudwatch.install(sandbox.cloudwatch)

    def send_message(self: SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        message = _ORIGINALS["send_message"](self, queue_name, *args, **kwargs)
        sandbox.cloudwatch.messages_sent(queue_name)  # AWS/SQS NumberOfMessagesSent
        return message

    def send_dynamodb_items(self: LambdaBackend, *args: Any, **kwargs: Any) -> None:
        return None  # returning nothing also keeps moto from clearing the shard

    def add(self: StreamShard, old: Any, new: Any) -> None:
        _ORIGINALS["add"](self, old, new)
        compact_new_records(self.items, user_identity())
        sandbox.stream_written(self.table.name)

    def invoke(self: LambdaFunction, body: Any, request_headers: Any, response_headers: dict[str, str]) -> bytes:
        spec = function_spec(self)
        payload = body.decode() if isinstance(body, bytes) else (body or "")
        if request_headers.get("X-Amz-Invocation-Type") == "Event":
            sandbox.invocations.event(spec, payload, function_reserved(self))
            return b""
        if request_headers.get("X-Amz-Invocation-Type") == "DryRun":
            return b""
        try:
            result = sandbox.invocations.sync(spec, payload, function_reserved(self))
        except Throttled as throttled:
            raise TooManyRequests(throttled) from None
        if result.function_error:
            response_headers["x-amz-function-error"] = result.function_error
        tail = "\n".join(result.log_text.splitlines()[-40:]).encode()[-4096:]
        response_headers["x-amz-log-result"] = base64.b64encode(tail).decode()
        response_headers["x-amz-executed-version"] = "$LATEST"
        response_headers["x-amzn-requestid"] = result.request_id
        return result.payload

    def publish(self: SNSBackend, message: str, arn: str | None, *args: Any, **kwargs: Any) -> str:
        if arn and ":sns:" in arn and sandbox.chaos.fail_publish():
            raise InternalError("Injected by the sandbox's chaos switch: publish failed")
        return _ORIGINALS["publish"](self, message, arn, *args, **kwargs)

    def publish_batch(self: SNSBackend, topic_arn: str, publish_batch_request_entries: list[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
        entries = publish_batch_request_entries
        failing = [entry for entry in entries if sandbox.chaos.fail_publish()]
        kept = [entry for entry in entries if entry not in failing]
        _local.skip_chaos = True
        try:
            successful, failed = _ORIGINALS["publish_batch"](self, topic_arn, kept) if kept else ([], [])
        finally:
            _local.skip_chaos = False
        failed += [{"Id": e["Id"], "Code": "InternalError", "Message": "Injected publish failure", "SenderFault": False} for e in failing]
        return successful, failed

    def publish_guarded(self: SNSBackend, message: str, arn: str | None, *args: Any, **kwargs: Any) -> str:
        if getattr(_local, "skip_chaos", False):
            return _ORIGINALS["publish"](self, message, arn, *args, **kwargs)
        return publish(self, message, arn, *args, **kwargs)

    def new_model(cls: type, *args: Any, **kwargs: Any) -> Any:
        if cls.__module__.startswith("moto.s3."):
            return _ORIGINALS["new"].__func__(cls, *args, **kwargs)
        return object.__new__(cls)

    for name in _WRITE_METHODS:
        _ORIGINALS[f"ddb_{name}"] = getattr(DynamoDBBackend, name)
        setattr(DynamoDBBackend, name, _serialized(_ORIGINALS[f"ddb_{name}"]))
    moto.backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]
    BaseModel.__new__ = staticmethod(new_model)  # type: ignore[assignment]
    LambdaBackend.send_dynamodb_items = send_dynamodb_items  # type: ignore[method-assign]
    StreamShard.add = add  # type: ignore[method-assign]
    LambdaFunction.invoke = invoke  # type: ignore[method-assign]
    SNSBackend.publish = publish_guarded  # type: ignore[method-assign]
    SNSBackend.publish_batch = publish_batch  # type: ignore[method-assign]
    SQSBackend.is_message_valid_based_on_retention_period = message_within_retention  # type: ignore[method-assign]
    ChangeSet.apply = cfn.apply_change_set  # type: ignore[method-assign]
    LambdaFunction._get_layers_data = layers_as_given  # type: ignore[method-assign]
    Table.create_from_cloudformation_json = classmethod(cfn.create_table_from_template)  # type: ignore[method-assign,assignment]
    LogGroup.get_cfn_attribute = log_group_attribute  # type: ignore[method-assign]
    SQSBackend.send_message = send_message  # type: ignore[method-assign]
    Stack.stack_parameters = property(cfn.previous_parameters)  # type: ignore[method-assign,assignment]
    for name in ("describe_change_set", "delete_change_set", "execute_change_set"):
        setattr(CloudFormationResponse, name, getattr(cfn, name))


_local = threading.local()
_ITEM_WRITES = threading.RLock()  # transactions call the single-item writes: re-entrant
_WRITE_METHODS = ("put_item", "update_item", "delete_item", "transact_write_items")


def _serialized(method: Any) -> Any:
    def write(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _ITEM_WRITES:
            return method(self, *args, **kwargs)

    write.__wrapped__ = method  # type: ignore[attr-defined]
    return write


def publish_past_chaos(account: str, region: str, topic_arn: str, subject: str, message: str) -> None:
    """Publish as an AWS service does (CloudWatch's alarm actions): the chaos switch, which fails
    the pipeline's own publishes, does not apply."""
    from moto.sns.models import sns_backends

    _local.skip_chaos = True
    try:
        sns_backends[account][region].publish(message, arn=topic_arn, subject=subject)
    finally:
        _local.skip_chaos = False


def uninstall() -> None:
    if not _ORIGINALS:
        return
    LambdaBackend.send_dynamodb_items = _ORIGINALS["send"]  # type: ignore[method-assign]
    StreamShard.add = _ORIGINALS["add"]  # type: ignore[method-assign]
    LambdaFunction.invoke = _ORIGINALS["invoke"]  # type: ignore[method-assign]
    SNSBackend.publish = _ORIGINALS["publish"]  # type: ignore[method-assign]
    SNSBackend.publish_batch = _ORIGINALS["publish_batch"]  # type: ignore[method-assign]
    moto.backends.list_of_moto_modules = _ORIGINALS["modules"]  # type: ignore[assignment]
    for name in _WRITE_METHODS:
        setattr(DynamoDBBackend, name, _ORIGINALS[f"ddb_{name}"])
    BaseModel.__new__ = _ORIGINALS["new"]  # type: ignore[assignment]
    SQSBackend.is_message_valid_based_on_retention_period = _ORIGINALS["retention"]  # type: ignore[method-assign]
    ChangeSet.apply = _ORIGINALS["apply"]  # type: ignore[method-assign]
    LambdaFunction._get_layers_data = _ORIGINALS["layers"]  # type: ignore[method-assign]
    Table.create_from_cloudformation_json = _ORIGINALS["create_table"]  # type: ignore[method-assign]
    LogGroup.get_cfn_attribute = _ORIGINALS["log_group_attribute"]  # type: ignore[method-assign]
    SQSBackend.send_message = _ORIGINALS["send_message"]  # type: ignore[method-assign]
    moto_cloudwatch.uninstall()
    Stack.stack_parameters = cfn.MOTO_STACK_PARAMETERS  # type: ignore[method-assign]
    for name in ("describe_change_set", "delete_change_set", "execute_change_set"):
        setattr(CloudFormationResponse, name, _ORIGINALS[name])
    _ORIGINALS.clear()

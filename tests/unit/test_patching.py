"""Each service's moto patches come off as they went on, so moto is moto again after a sandbox."""

from __future__ import annotations

import moto.core.responses
import moto.dynamodb.comparisons
import moto.dynamodb.models
import moto.dynamodb.responses
import moto.logs.models
import pytest
from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.cloudformation.models import ChangeSet, Stack
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.common_models import BaseModel
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import StreamShard, Table
from moto.dynamodb.parsing.expressions import UpdateExpressionParser
from moto.dynamodbstreams.models import DynamoDBStreamsBackend, ShardIterator
from moto.logs.models import LogGroup, LogsBackend, LogStream
from moto.sns.models import SNSBackend
from moto.sqs.models import Queue, SQSBackend

from orders_lib.sandbox import moto_core
from orders_lib.sandbox.chaos import Chaos
from orders_lib.sandbox.cloudformation import moto_patches as cloudformation_patches
from orders_lib.sandbox.dynamodb import moto_patches as dynamodb_patches
from orders_lib.sandbox.logs import moto_patches as logs_patches
from orders_lib.sandbox.patching import AlreadyPatched, Patches
from orders_lib.sandbox.sns import moto_patches as sns_patches
from orders_lib.sandbox.sqs import moto_patches as sqs_patches

WATCHED = [
    (BaseModel, "__new__"),
    (LambdaFunction, "invoke"),
    (LambdaBackend, "send_dynamodb_items"),
    (StreamShard, "add"),
    (StreamShard, "get"),
    (ShardIterator, "__init__"),
    (DynamoDBStreamsBackend, "get_shard_iterator"),
    (DynamoDBStreamsBackend, "get_records"),
    (UpdateExpressionParser, "make"),
    (moto.dynamodb.responses, "create_condition_expression_parser"),
    (moto.dynamodb.models, "create_condition_expression_parser"),
    (moto.dynamodb.comparisons, "create_condition_expression_parser"),
    (DynamoDBBackend, "update_item"),
    (SNSBackend, "publish"),
    (SQSBackend, "send_message"),
    (Queue, "__init__"),
    (Queue, "wait_for_messages"),
    (ChangeSet, "apply"),
    (Table, "create_from_cloudformation_json"),
    (Stack, "stack_parameters"),
    (moto.core.responses, "get_serializer_class"),
    (moto.core.responses, "method_names_from_class"),
    (LogGroup, "get_cfn_attribute"),
    (moto.logs.models, "EventMessageFilter"),
    (LogsBackend, "filter_log_events"),
    (LogsBackend, "put_subscription_filter"),
    (LogsBackend, "put_metric_filter"),
    (LogStream, "_send_log_events"),
]


def _snapshot() -> list[object]:
    return [vars(owner).get(name) for owner, name in WATCHED]


def test_installing_and_removing_the_patches_leaves_moto_as_it_was():
    before = _snapshot()
    moto_core.install()
    dynamodb_patches.install(lambda table: None)
    sns_patches.install(Chaos())
    sqs_patches.install(lambda queue: None)
    cloudformation_patches.install()
    logs_patches.install()
    try:
        assert _snapshot() != before
        assert isinstance(vars(Table)["create_from_cloudformation_json"], classmethod)
    finally:
        for module in (logs_patches, cloudformation_patches, sqs_patches, sns_patches, dynamodb_patches, moto_core):
            module.uninstall()
    assert _snapshot() == before
    assert isinstance(vars(BaseModel)["__new__"], staticmethod)


def test_a_second_installation_in_one_process_is_refused():
    sqs_patches.install(lambda queue: None)
    try:
        with pytest.raises(AlreadyPatched, match="SQS"):
            sqs_patches.install(lambda queue: None)
    finally:
        sqs_patches.uninstall()


def test_an_attribute_the_class_only_inherited_is_removed_again():
    class Base:
        def hello(self) -> str:
            return "base"

    class Child(Base):
        pass

    patches = Patches("example")
    previous = patches.replace(Child, "hello", lambda self: "patched")
    assert Child().hello() == "patched" and previous(Child()) == "base"
    patches.replace(CloudWatchResponse, "not_in_moto", 1)
    patches.restore()
    assert "hello" not in vars(Child) and Child().hello() == "base"
    assert not hasattr(CloudWatchResponse, "not_in_moto")

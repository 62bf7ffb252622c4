"""Lambda refuses bad ``FilterCriteria`` when a mapping is created or updated: checked on moto in process."""

from __future__ import annotations

import io
import json
import zipfile

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError
from moto import mock_aws
from moto.awslambda.models import LambdaBackend, lambda_backends

from orders_lib.sandbox.lambda_.event_source_mapping import moto_patches
from orders_lib.sandbox.lambda_.event_source_mapping.config import MappingConfig

WILDCARD = {"Filters": [{"Pattern": json.dumps({"dynamodb": {"Keys": {"pk": {"S": [{"wildcard": "order-*"}]}}}})}]}
INSERTS = {"Filters": [{"Pattern": json.dumps({"eventName": ["INSERT"]})}]}


def zip_source():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


@pytest.fixture
def aws():
    """moto with the patches, a table with a stream and a function: what a mapping needs."""
    moto_patches.install()
    try:
        with mock_aws():
            role = boto3.client("iam", region_name="us-east-1").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
            table = boto3.client("dynamodb", region_name="us-east-1").create_table(
                TableName="orders",
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
            )["TableDescription"]
            lambda_ = boto3.client("lambda", region_name="us-east-1")
            lambda_.create_function(
                FunctionName="fn", Runtime="python3.12", Role=role, Handler="index.handler", Code={"ZipFile": zip_source()}
            )
            yield lambda_, table["LatestStreamArn"]
    finally:
        moto_patches.uninstall()


def mapping(stream_arn, **settings):
    return dict(EventSourceArn=stream_arn, FunctionName="fn", StartingPosition="TRIM_HORIZON", **settings)


def test_creating_a_mapping_with_a_bad_filter_is_refused(aws):
    lambda_, stream_arn = aws
    with pytest.raises(ClientError) as refused:
        lambda_.create_event_source_mapping(**mapping(stream_arn, FilterCriteria=WILDCARD))
    error = refused.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "InvalidParameterValueException"
    assert "Filters[0].Pattern" in error["Error"]["Message"] and "'wildcard'" in error["Error"]["Message"]
    assert lambda_.list_event_source_mappings()["EventSourceMappings"] == []


def test_updating_a_mapping_with_a_bad_filter_is_refused_and_changes_nothing(aws):
    lambda_, stream_arn = aws
    uuid = lambda_.create_event_source_mapping(**mapping(stream_arn, FilterCriteria=INSERTS, BatchSize=10))["UUID"]
    with pytest.raises(ClientError) as refused:
        lambda_.update_event_source_mapping(UUID=uuid, BatchSize=20, FilterCriteria=WILDCARD)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    kept = lambda_.get_event_source_mapping(UUID=uuid)
    assert kept["FilterCriteria"] == INSERTS and kept["BatchSize"] == 10
    lambda_.update_event_source_mapping(UUID=uuid, FilterCriteria={})  # how Lambda removes the filters
    assert not lambda_.get_event_source_mapping(UUID=uuid).get("FilterCriteria")


def test_a_template_with_a_bad_filter_fails_and_creates_no_mapping(aws):
    """CloudFormation creates the mapping through the same backend method. moto answers the
    stack call with Lambda's JSON error (no CREATE_FAILED stack as on AWS), which botocore
    cannot read as CloudFormation's XML; the refusal is in what it quotes."""
    lambda_, stream_arn = aws
    template = {
        "Resources": {"Mapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": mapping(stream_arn, FilterCriteria=WILDCARD)}}
    }
    with pytest.raises((ClientError, ResponseParserError), match=r"InvalidParameterValueException.*operator .*wildcard"):
        boto3.client("cloudformation", region_name="us-east-1").create_stack(StackName="orders", TemplateBody=json.dumps(template))
    assert lambda_.list_event_source_mappings()["EventSourceMappings"] == []


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ({"ParallelizationFactor": 11}, "Value '11' at 'parallelizationFactor' failed to satisfy constraint: Member must have value less"),
        ({"ParallelizationFactor": 0}, "Member must have value greater than or equal to 1"),
        ({"MaximumBatchingWindowInSeconds": 301}, "at 'maximumBatchingWindowInSeconds' failed to satisfy constraint"),
    ],
)
def test_a_factor_or_window_out_of_range_is_refused_on_create_and_update(aws, setting, words):
    _, stream_arn = aws
    # botocore itself refuses a value under the minimum: this client lets it reach the service
    lambda_ = boto3.client("lambda", region_name="us-east-1", config=Config(parameter_validation=False))
    with pytest.raises(ClientError) as refused:
        lambda_.create_event_source_mapping(**mapping(stream_arn, **setting))
    assert refused.value.response["Error"]["Code"] == "ValidationException" and words in refused.value.response["Error"]["Message"]
    uuid = lambda_.create_event_source_mapping(**mapping(stream_arn))["UUID"]
    with pytest.raises(ClientError, match="ValidationException"):
        lambda_.update_event_source_mapping(UUID=uuid, **setting)
    assert "ParallelizationFactor" not in lambda_.get_event_source_mapping(UUID=uuid)


def test_a_templates_factor_and_window_reach_the_poller_config(aws):
    """The sandbox deploys the CDK template: CloudFormation's mapping keeps ParallelizationFactor
    and the batching window, and the pollers read them from the mapping's configuration."""
    _, stream_arn = aws
    properties = mapping(stream_arn, ParallelizationFactor=4, MaximumBatchingWindowInSeconds=1, BatchSize=10)
    template = {"Resources": {"Mapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": properties}}}
    boto3.client("cloudformation", region_name="us-east-1").create_stack(StackName="orders", TemplateBody=json.dumps(template))
    [esm] = lambda_backends["123456789012"]["us-east-1"].list_event_source_mappings(event_source_arn=None, function_name=None)
    config = MappingConfig.from_api(esm.get_configuration())
    assert (config.parallelization_factor, config.batching_window_s, config.batch_size) == (4, 1.0, 10)


def test_uninstall_gives_moto_its_methods_back():
    create, update = LambdaBackend.create_event_source_mapping, LambdaBackend.update_event_source_mapping
    moto_patches.install()
    assert LambdaBackend.create_event_source_mapping is not create
    moto_patches.uninstall()
    assert (LambdaBackend.create_event_source_mapping, LambdaBackend.update_event_source_mapping) == (create, update)

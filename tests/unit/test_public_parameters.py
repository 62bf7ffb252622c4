"""The sandbox holds Powertools' public layer parameter, and moto's CloudFormation resolves it."""

from __future__ import annotations

import json
from importlib import metadata

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from orders_lib.deploy import powertools
from orders_lib.sandbox.ssm import public_parameters

REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield lambda service: boto3.client(service, region_name=REGION)


def test_the_parameter_names_the_installed_release():
    version = metadata.version("aws-lambda-powertools")
    assert public_parameters.powertools_layer_parameter() == f"/aws/service/powertools/python/arm64/python3.12/{version}"


def test_it_is_there_once_and_readable_as_on_aws(aws):
    name = public_parameters.add_to(DEFAULT_ACCOUNT_ID, REGION)
    assert public_parameters.add_to(DEFAULT_ACCOUNT_ID, REGION) == name
    (parameter,) = aws("ssm").get_parameters(Names=[name])["Parameters"]
    assert parameter["Version"] == 1 and parameter["Type"] == "String"
    assert parameter["Value"] == public_parameters.stand_in_layer_arn(DEFAULT_ACCOUNT_ID, REGION)
    assert parameter["Value"].startswith(f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT_ID}:layer:aws-lambda-powertools-")


def test_cloudformation_resolves_it_as_the_stack_asks(aws):
    """The stack's template form: a parameter of SSM type whose default is the parameter's name."""
    name = public_parameters.add_to(DEFAULT_ACCOUNT_ID, REGION)
    template = {
        "Parameters": {"PowertoolsLayer": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": name}},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"Layer": {"Value": {"Ref": "PowertoolsLayer"}}},
    }
    aws("cloudformation").create_stack(StackName="layer", TemplateBody=json.dumps(template))
    (stack,) = aws("cloudformation").describe_stacks(StackName="layer")["Stacks"]
    assert stack["Outputs"] == [{"OutputKey": "Layer", "OutputValue": public_parameters.stand_in_layer_arn(DEFAULT_ACCOUNT_ID, REGION)}]


def test_without_powertools_installed_the_synth_says_what_to_do(monkeypatch):
    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    with pytest.raises(RuntimeError, match=r"aws-lambda-powertools is not installed.*make setup"):
        powertools.installed_version()

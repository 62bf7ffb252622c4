"""Context: stage suffixes every name; sandbox drops the bootstrap rule and retains nothing."""

from __future__ import annotations

import pytest

from .conftest import build_template, only, resources


@pytest.fixture(scope="module")
def dev(tmp_path_factory):
    return build_template(tmp_path_factory.mktemp("dev"), stage="dev")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    return build_template(tmp_path_factory.mktemp("sandbox"), sandbox="true")


def test_stage_suffixes_stack_and_every_name(dev):
    _, raw, stack = dev
    assert stack.stack_name == "techtest-orders-dev"
    assert only(raw, "AWS::DynamoDB::Table")["Properties"]["TableName"] == "techtest-orders-dev"
    topics = {t["Properties"]["TopicName"] for t in resources(raw, "AWS::SNS::Topic").values()}
    assert topics == {"techtest-order-notifications-dev", "techtest-orders-alarms-dev"}
    alarms = {a["Properties"]["AlarmName"] for a in resources(raw, "AWS::CloudWatch::Alarm").values()}
    assert alarms and all(name.startswith("techtest-orders-") and name.endswith("-dev") for name in alarms)
    assert only(raw, "AWS::CloudWatch::Dashboard")["Properties"]["DashboardName"] == "techtest-orders-dev"
    assert only(raw, "AWS::SQS::Queue")["Properties"]["QueueName"] == "techtest-orders-dlq-dev"
    assert only(raw, "AWS::KMS::Alias")["Properties"]["AliasName"] == "alias/techtest-orders-dev"
    names = {f["Properties"]["FunctionName"] for f in resources(raw, "AWS::Lambda::Function").values()}
    assert names == {"techtest-create-order-dev", "techtest-process-order-dev"}
    groups = {g["Properties"]["LogGroupName"] for g in resources(raw, "AWS::Logs::LogGroup").values()}
    assert groups == {"/aws/lambda/techtest-create-order-dev", "/aws/lambda/techtest-process-order-dev"}


def test_stage_stacks_are_ephemeral_by_default(dev):
    _, raw, _ = dev
    assert all(r.get("DeletionPolicy", "Delete") == "Delete" for r in raw["Resources"].values())
    assert "CheckBootstrapVersion" in raw.get("Rules", {})  # a real account: bootstrap still checked


def test_sandbox_destroys_everything_and_skips_the_bootstrap_rule(sandbox):
    _, raw, stack = sandbox
    assert stack.stack_name == "techtest-orders"
    assert all(r.get("DeletionPolicy", "Delete") == "Delete" for r in raw["Resources"].values())
    assert "CheckBootstrapVersion" not in raw.get("Rules", {}) and "BootstrapVersion" not in raw.get("Parameters", {})


def test_a_production_stage_can_retain_its_data(tmp_path):
    _, raw, stack = build_template(tmp_path, stage="prod", removal="retain")
    assert stack.stack_name == "techtest-orders-prod"
    for type_name in ("AWS::KMS::Key", "AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::Logs::LogGroup"):
        assert all(r["DeletionPolicy"] == "Retain" for r in resources(raw, type_name).values()), type_name

"""DynamoDB TTL in the sandbox: durations, the sandbox clock, which items count as expired,
and the table settings a template asks for."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models.table import Table

from orders_lib.sandbox.cloudformation import moto_patches as moto_cloudformation
from orders_lib.sandbox.dynamodb.ttl import FIVE_YEARS_S, SandboxClock, as_ttl_process, expiry_of, is_expired, parse_duration, user_identity


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("7d", 604800),
        ("12h", 43200),
        ("30m", 1800),
        ("90s", 90),
        ("90", 90),
        ("1w", 604800),
        ("-1d", -86400),
        ("1.5h", 5400),
        ("7d1h", 608400),
        ("1h30m", 5400),
    ],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "7 days", "d7", "7d1", "-", "1h-2m"])
def test_bad_durations_say_what_is_expected(text):
    with pytest.raises(ValueError, match="examples: 7d"):
        parse_duration(text)


def test_the_clock_moves_only_by_its_offset():
    clock = SandboxClock(source=lambda: 1_000.0)
    clock.advance(parse_duration("7d"))
    assert clock.now() == 1_000 + 604_800 and clock.to_dict()["offset_s"] == 604_800
    clock.reset()
    assert clock.now() == 1_000


def test_only_numbers_at_or_before_now_and_within_five_years_are_expired():
    now = 2_000_000_000.0
    assert expiry_of({"N": "1999999999"}) == 1_999_999_999 and expiry_of({"S": "1999999999"}) is None
    assert expiry_of({"N": "not-a-number"}) is None and expiry_of(None) is None
    assert is_expired(now, now) and is_expired(now - 1, now)
    assert not is_expired(now + 1, now), "in the future"
    assert not is_expired(now - FIVE_YEARS_S - 1, now), "DynamoDB ignores TTL values more than five years old"
    assert not is_expired(None, now)


def test_deletions_are_the_ttl_process_only_inside_the_block():
    assert user_identity() is None
    with as_ttl_process():
        assert user_identity() == {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
    assert user_identity() is None


def test_a_table_from_a_template_reports_ttl_pitr_and_encryption(monkeypatch):
    monkeypatch.setattr(Table, "create_from_cloudformation_json", classmethod(moto_cloudformation.create_table_from_template))
    template = {
        "Resources": {
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Version": "2012-10-17", "Statement": []}}},
            "Orders": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "TableName": "orders",
                    "BillingMode": "PAY_PER_REQUEST",
                    "KeySchema": [{"AttributeName": "orderId", "KeyType": "HASH"}],
                    "AttributeDefinitions": [{"AttributeName": "orderId", "AttributeType": "S"}],
                    "TimeToLiveSpecification": {"AttributeName": "expiresAt", "Enabled": True},
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                    "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": {"Fn::GetAtt": ["Key", "Arn"]}},
                },
            },
        }
    }
    with mock_aws():
        boto3.client("cloudformation", region_name="us-east-1").create_stack(StackName="tables", TemplateBody=json.dumps(template))
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        assert ddb.describe_time_to_live(TableName="orders")["TimeToLiveDescription"] == {
            "TimeToLiveStatus": "ENABLED",
            "AttributeName": "expiresAt",
        }
        backups = ddb.describe_continuous_backups(TableName="orders")["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
        sse = ddb.describe_table(TableName="orders")["Table"]["SSEDescription"]
        key_arn = boto3.client("kms", region_name="us-east-1").list_keys()["Keys"][0]["KeyArn"]
        assert sse == {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": key_arn}

"""Filter patterns through the CloudWatch Logs API, boto3 against moto in process with the
sandbox's patches: FilterLogEvents returns the events a pattern matches, and an invalid pattern
is a 400 InvalidParameterException, as on AWS; subscription filters deliver only what they match."""

from __future__ import annotations

import time

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from orders_lib.sandbox.logs import moto_patches

from .log_lines import ORDER_ID, OTHER_ORDER, REPORT, START, powertools

GROUP = "/aws/lambda/techtest-create-order"
DESTINATION = "arn:aws:logs:us-east-1:123456789012:log-group:/dst:*"
NOW = int(time.time() * 1000)  # moto, as AWS, drops events older than 14 days


@pytest.fixture
def logs(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    moto_patches.install()
    try:
        with mock_aws():
            yield boto3.client("logs", region_name="us-east-1")
    finally:
        moto_patches.uninstall()


def _put(logs, group: str, stream: str, messages: list[str], start: int = NOW) -> None:
    events = [{"timestamp": start + i, "message": message} for i, message in enumerate(messages)]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


@pytest.fixture
def function_logs(logs):
    """Two invocations' streams: the traced order's lines among another order's and Lambda's own."""
    logs.create_log_group(logGroupName=GROUP)
    for stream in ("2026/11/30/[$LATEST]a", "2026/11/30/[$LATEST]b"):
        logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    _put(logs, GROUP, "2026/11/30/[$LATEST]a", [START, powertools("order received"), OTHER_ORDER, REPORT])
    _put(logs, GROUP, "2026/11/30/[$LATEST]b", [START, powertools("order created"), REPORT], start=NOW + 100)
    return logs


def test_a_json_pattern_returns_exactly_the_events_of_the_order(function_logs):
    found = function_logs.filter_log_events(logGroupName=GROUP, filterPattern=f'{{ $.orderId = "{ORDER_ID}" }}', interleaved=True)
    assert [e["message"] for e in found["events"]] == [powertools("order received"), powertools("order created")]
    assert [e["logStreamName"] for e in found["events"]] == ["2026/11/30/[$LATEST]a", "2026/11/30/[$LATEST]b"]


def test_terms_and_patterns_moto_did_not_read_select_as_on_aws(function_logs):
    def messages(pattern: str) -> list[str]:
        return [e["message"] for e in function_logs.filter_log_events(logGroupName=GROUP, filterPattern=pattern)["events"]]

    assert messages('REPORT "Max Memory Used"') == [REPORT, REPORT]
    assert messages("?START ?REPORT") == [START, REPORT, START, REPORT]
    assert messages('{ $.message = "order created" && $.status_code = 201 }') == [OTHER_ORDER, powertools("order created")]
    assert messages("[type=START, ...]") == [START, START]
    assert messages("") == [START, powertools("order received"), OTHER_ORDER, REPORT, START, powertools("order created"), REPORT]


@pytest.mark.parametrize("pattern", ["RequestId:", "{ $.orderId EXISTS }", "%(a|b)%"])
def test_an_invalid_pattern_is_a_400_invalid_parameter_exception(logs, pattern):
    logs.create_log_group(logGroupName="/empty")  # no stream, no event: refused all the same
    with pytest.raises(ClientError) as refused:
        logs.filter_log_events(logGroupName="/empty", filterPattern=pattern)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert refused.value.response["Error"]["Message"].startswith("Invalid filter pattern: ")


def test_subscription_and_metric_filters_refuse_an_invalid_pattern(logs):
    logs.create_log_group(logGroupName="/src")
    logs.create_log_group(logGroupName="/dst")
    for put in (
        lambda: logs.put_subscription_filter(logGroupName="/src", filterName="f", filterPattern="-ERROR", destinationArn=DESTINATION),
        lambda: logs.put_metric_filter(
            logGroupName="/src",
            filterName="m",
            filterPattern="{ $.a = }",
            metricTransformations=[{"metricName": "M", "metricNamespace": "N", "metricValue": "1"}],
        ),
    ):
        with pytest.raises(ClientError) as refused:
            put()
        assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
    assert logs.describe_subscription_filters(logGroupName="/src")["subscriptionFilters"] == []
    assert logs.describe_metric_filters(logGroupName="/src")["metricFilters"] == []


def test_a_subscription_filter_delivers_only_the_events_its_pattern_matches(logs):
    for group in ("/src", "/dst"):
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="s")
    logs.put_subscription_filter(
        logGroupName="/src",
        filterName="errors",
        filterPattern='{ $.level = "ERROR" }',
        destinationArn=DESTINATION,
    )
    _put(logs, "/src", "s", [powertools("fine"), powertools("boom", level="ERROR"), START])
    _put(logs, "/src", "s", [REPORT], start=NOW + 100)  # matches nothing
    delivered = logs.get_log_events(logGroupName="/dst", logStreamName="s")["events"]
    assert [e["message"] for e in delivered] == [powertools("boom", level="ERROR")]

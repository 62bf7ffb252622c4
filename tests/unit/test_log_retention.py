"""CloudWatch Logs retention in the sandbox: expired events deleted, groups without retention kept."""

from __future__ import annotations

import time

import boto3
from moto import mock_aws

from orders_lib.sandbox.logs.retention import DAY_S, LogRetention


def test_events_older_than_their_groups_retention_are_deleted():
    now = time.time()
    with mock_aws():
        logs = boto3.client("logs", region_name="us-east-1")
        for group, retention in (("/aws/lambda/kept-a-day", 1), ("/aws/lambda/kept-forever", None)):
            logs.create_log_group(logGroupName=group)
            if retention:
                logs.put_retention_policy(logGroupName=group, retentionInDays=retention)
            logs.create_log_stream(logGroupName=group, logStreamName="s")
            events = [{"timestamp": int((now - age) * 1000), "message": f"{age}"} for age in (3 * DAY_S, 2 * DAY_S, 60)]
            logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=events)
        retention = LogRetention("123456789012", "us-east-1")
        assert retention.sweep(now) == 2 and retention.sweep(now) == 0
        kept = {
            g: [e["message"] for e in logs.filter_log_events(logGroupName=g)["events"]]
            for g in ("/aws/lambda/kept-a-day", "/aws/lambda/kept-forever")
        }
        assert kept == {"/aws/lambda/kept-a-day": ["60"], "/aws/lambda/kept-forever": [str(3 * DAY_S), str(2 * DAY_S), "60"]}
        assert retention.sweep(now + DAY_S) == 1 and retention.deleted == 3  # the sandbox clock moved a day

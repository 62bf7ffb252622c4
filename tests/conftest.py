"""Test-wide safety: fake credentials, a fixed region, no real AWS by accident.
Only ``ORDERS_TARGET=aws`` (integration tests on a deployed stack) keeps the
caller's real credentials and profile."""

import os

if os.environ.get("ORDERS_TARGET") != "aws":
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SECURITY_TOKEN": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
        }
    )
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

"""Stop AWS commands at once, with what to configure, when there are no usable
credentials: ``python -m orders_lib.deploy.credentials`` exits 0 and names the
account, or exits 2 with a message (never a stack trace). With ``--environment``
it also prints ``aws://ACCOUNT/REGION`` alone on standard output (the name going
to standard error), for ``cdk bootstrap``: given its environment, the CDK CLI
bootstraps without synthesizing the app first."""

from __future__ import annotations

import os
import sys
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

HELP = (
    "Configure AWS credentials first, for example `aws configure sso` or `aws configure`, "
    "or export AWS_PROFILE (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and AWS_REGION. "
    "The local sandbox needs none of this: see `make sandbox-start`."
)
_CONFIG = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1, "mode": "standard"})


class NoAwsCredentials(RuntimeError):
    pass


def caller_identity(session: Any | None = None) -> dict[str, str]:
    """The STS caller identity, or :class:`NoAwsCredentials` saying what to set up."""
    session = session or boto3.session.Session()
    if session.get_credentials() is None:
        raise NoAwsCredentials(f"No AWS credentials found. {HELP}")
    region = session.region_name or "us-east-1"
    try:
        identity = session.client("sts", region_name=region, config=_CONFIG).get_caller_identity()
    except NoCredentialsError as error:
        raise NoAwsCredentials(f"No AWS credentials found. {HELP}") from error
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        raise NoAwsCredentials(f"AWS rejected the credentials ({code}: {error}). {HELP}") from error
    except (NoRegionError, BotoCoreError) as error:
        raise NoAwsCredentials(f"AWS STS could not be reached to check the credentials ({error}). {HELP}") from error
    return {"account": identity["Account"], "arn": identity["Arn"], "region": region}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        identity = caller_identity()
    except NoAwsCredentials as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    where = f", endpoint {endpoint}: the sandbox or another AWS emulator" if endpoint else ""
    line = f"AWS account {identity['account']} as {identity['arn']} ({identity['region']}{where})"
    if "--environment" in args:
        print(line, file=sys.stderr)
        print(f"aws://{identity['account']}/{identity['region']}")
    else:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

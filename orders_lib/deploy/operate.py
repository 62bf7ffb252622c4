"""Operate a deployed stack from the shell (``make invoke-create``, ``logs-create``,
``logs-process``, ``check-dlq``). Every name comes from the stack's outputs.

``python -m orders_lib.deploy.operate [--stage dev] COMMAND``; on AWS the
credentials are checked first (see :mod:`orders_lib.deploy.credentials`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..aws.clients import client
from ..settings import Settings
from .credentials import NoAwsCredentials, caller_identity
from .naming import names_for

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_ORDER = ROOT / "examples" / "order.json"


def stack_outputs(stack_name: str, settings: Settings) -> dict[str, str]:
    try:
        stacks = client("cloudformation", settings).describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        raise SystemExit(f"error: stack {stack_name} not found ({error}); deploy it first: make deploy") from None
    return {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}


def invoke_create(outputs: dict[str, str], settings: Settings, payload_file: Path) -> int:
    payload = payload_file.read_bytes()
    response = client("lambda", settings).invoke(FunctionName=outputs["CreateOrderFunctionName"], Payload=payload)
    body = json.loads(response["Payload"].read() or b"null")
    print(json.dumps(body, indent=2))
    return 1 if response.get("FunctionError") else 0


def tail_logs(log_group: str, settings: Settings, minutes: int) -> int:
    logs = client("logs", settings)
    start = int((time.time() - minutes * 60) * 1000)
    count = 0
    for page in logs.get_paginator("filter_log_events").paginate(logGroupName=log_group, startTime=start):
        for event in page.get("events", []):
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(event["timestamp"] / 1000))
            print(f"{stamp} {event['message'].rstrip()}")
            count += 1
    print(f"-- {count} event(s) in {log_group} from the last {minutes} min", file=sys.stderr)
    return 0


def check_dlq(outputs: dict[str, str], settings: Settings, peek: int) -> int:
    sqs = client("sqs", settings)
    url = outputs["DlqUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    print(f"{outputs['DlqName']}: {attributes['ApproximateNumberOfMessages']} message(s)")
    if peek:
        # VisibilityTimeout=0 leaves the messages where they are for redrive.
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(peek, 10), VisibilityTimeout=0).get("Messages", [])
        for message in messages:
            body: Any = json.loads(message["Body"])
            print(json.dumps(body, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orders_lib.deploy.operate", description=__doc__)
    parser.add_argument("--stage", default=None)
    parser.add_argument("--target", choices=("aws", "sandbox"), default="aws")
    commands = parser.add_subparsers(dest="command", required=True)
    invoke = commands.add_parser("invoke-create", help="invoke CreateOrder with a request file")
    invoke.add_argument("file", nargs="?", type=Path, default=EXAMPLE_ORDER)
    for name in ("logs-create", "logs-process"):
        logs = commands.add_parser(name, help=f"recent log events of the {name[5:]} function")
        logs.add_argument("--minutes", type=int, default=30)
    dlq = commands.add_parser("check-dlq", help="messages waiting in the DLQ")
    dlq.add_argument("--peek", type=int, default=3, help="show up to this many messages (0: count only)")
    args = parser.parse_args(argv)

    stack = names_for(args.stage).stack
    settings = Settings.from_env(target=args.target, stack_name=stack)
    try:
        if args.target == "aws":
            caller_identity()
        outputs = stack_outputs(stack, settings)
        if args.command == "invoke-create":
            return invoke_create(outputs, settings, args.file)
        if args.command in ("logs-create", "logs-process"):
            key = "CreateOrderLogGroupName" if args.command == "logs-create" else "ProcessOrderLogGroupName"
            return tail_logs(outputs[key], settings, args.minutes)
        return check_dlq(outputs, settings, args.peek)
    except NoAwsCredentials as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError) as error:
        print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

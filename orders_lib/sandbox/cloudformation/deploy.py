"""Deploy the synthesized CDK stack into the sandbox through CloudFormation.

The template is the single source of truth for both targets: the asset
directories are zipped into the bootstrap bucket the template names, and the
stack is created (or updated) from the template body, as ``cdk deploy
--method=direct`` would.
"""

from __future__ import annotations

import io
import os
import time
import zipfile
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
MAX_BODY = 51_200


class DeployFailed(RuntimeError):
    pass


def zip_directory(source: Path) -> bytes:
    """A zip of ``source`` with fixed timestamps, so equal code gives equal bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(source.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                info = zipfile.ZipInfo(str(path.relative_to(source)), date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = (os.stat(path).st_mode & 0o777) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def _substitute(text: str, account: str, region: str) -> str:
    return text.replace("${AWS::AccountId}", account).replace("${AWS::Region}", region).replace("${AWS::Partition}", "aws")


def upload_assets(s3: Any, file_assets: list[Any], account: str, region: str) -> None:
    for asset in file_assets:
        bucket = _substitute(asset.bucket_name, account, region)
        try:
            s3.head_bucket(Bucket=bucket)
        except ClientError:
            s3.create_bucket(Bucket=bucket)
        source = Path(asset.source_path)
        body = zip_directory(source) if source.is_dir() else source.read_bytes()
        s3.put_object(Bucket=bucket, Key=_substitute(asset.object_key, account, region), Body=body)


def _stack_status(cfn: Any, name: str) -> str | None:
    try:
        return cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise


def _failure_reasons(cfn: Any, name: str) -> str:
    events = cfn.describe_stack_events(StackName=name).get("StackEvents", [])
    reasons = [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}" for e in events if "FAILED" in e.get("ResourceStatus", "")]
    return "; ".join(reasons[:5]) or "no reason recorded"


def deploy_stack(cfn: Any, s3: Any, assembly: Any, account: str, region: str, *, timeout_s: float = 60.0) -> dict[str, str]:
    """Upload the assets, then create or update the stack; return its outputs."""
    upload_assets(s3, assembly.file_assets, account, region)
    body = Path(assembly.template_path).read_text()
    template: dict[str, Any] = {"TemplateBody": body}
    if len(body) > MAX_BODY:
        bucket = _substitute(assembly.file_assets[0].bucket_name, account, region) if assembly.file_assets else "sandbox-templates"
        key = f"templates/{assembly.stack_name}.json"
        try:
            s3.head_bucket(Bucket=bucket)
        except ClientError:
            s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode())
        template = {"TemplateURL": f"{s3.meta.endpoint_url}/{bucket}/{key}"}
    return deploy_template(cfn, assembly.stack_name, template=template, timeout_s=timeout_s)


def deploy_template(
    cfn: Any, stack_name: str, body: str | None = None, *, template: dict[str, Any] | None = None, timeout_s: float = 60.0
) -> dict[str, str]:
    """Create or update ``stack_name`` from a template body (or ``TemplateURL``); return its outputs."""
    template = template or {"TemplateBody": body}
    status = _stack_status(cfn, stack_name)
    if status is None:
        cfn.create_stack(StackName=stack_name, Capabilities=CAPABILITIES, **template)
    else:
        try:
            cfn.update_stack(StackName=stack_name, Capabilities=CAPABILITIES, **template)
        except ClientError as error:
            if "No updates are to be performed" not in str(error):
                raise
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = _stack_status(cfn, stack_name) or "MISSING"
        if status.endswith("_COMPLETE") and "ROLLBACK" not in status:
            return stack_outputs(cfn, stack_name)
        if "FAILED" in status or "ROLLBACK" in status:
            raise DeployFailed(f"stack {stack_name} is {status}: {_failure_reasons(cfn, stack_name)}")
        time.sleep(0.2)
    raise DeployFailed(f"stack {stack_name} not ready after {timeout_s:.0f} s (last status {status})")


def stack_outputs(cfn: Any, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

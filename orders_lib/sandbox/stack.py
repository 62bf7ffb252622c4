"""Synthesize the CDK app for the sandbox and deploy it through CloudFormation."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .deploy import deploy_stack

if TYPE_CHECKING:
    from .server import Sandbox

SANDBOX_ASSEMBLY_DIR = Path("build") / "cdk.out.sandbox"


def deploy_into(sandbox: Sandbox, stage: str | None = None) -> tuple[str, dict[str, str]]:
    from ..deploy.synth import synthesize

    assembly = synthesize(SANDBOX_ASSEMBLY_DIR, stage=stage, sandbox=True)
    outputs = deploy_stack(sandbox.client("cloudformation"), sandbox.client("s3"), assembly, sandbox.account, sandbox.region)
    sandbox.sync_mappings()
    return assembly.stack_name, outputs

"""Synthesize the CDK app for the sandbox and deploy it through CloudFormation.

The synth (~5 s, most of a sandbox start) is skipped when nothing it reads has
changed since the last one: a fingerprint of the stack's and the Lambda
asset's sources is kept next to the cloud assembly.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .deploy import deploy_stack

if TYPE_CHECKING:
    from .server import Sandbox

SANDBOX_ASSEMBLY_DIR = Path("build") / "cdk.out.sandbox"
FINGERPRINT_FILE = "sandbox-fingerprint.txt"
# What the synthesized template and the Lambda asset are made from.
SOURCES = ("cdk/*.py", "cdk/cdk.json", "lambdas/*.py", "orders_lib/*.py", "orders_lib/domain/*.py", "orders_lib/aws/*.py",
           "orders_lib/pipeline/*.py", "orders_lib/deploy/*.py", "pyproject.toml")


def fingerprint(root: Path, stage: str | None) -> str:
    digest = hashlib.sha256(f"stage={stage}".encode())
    for pattern in SOURCES:
        for path in sorted(root.glob(pattern)):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def assembly_for_sandbox(stage: str | None = None) -> Any:
    from ..deploy.naming import names_for
    from ..deploy.synth import ROOT, read_assembly, synthesize

    outdir = ROOT / SANDBOX_ASSEMBLY_DIR
    marker = outdir / FINGERPRINT_FILE
    current = fingerprint(ROOT, stage)
    if marker.exists() and marker.read_text() == current:
        try:
            return read_assembly(outdir, names_for(stage).stack)
        except (OSError, ValueError):
            pass  # incomplete or damaged: synthesize again
    assembly = synthesize(outdir, stage=stage, sandbox=True)
    marker.write_text(current)
    return assembly


def deploy_into(sandbox: Sandbox, stage: str | None = None) -> tuple[str, dict[str, str]]:
    assembly = assembly_for_sandbox(stage)
    outputs = deploy_stack(sandbox.client("cloudformation"), sandbox.client("s3"), assembly, sandbox.account, sandbox.region)
    sandbox.sync_mappings()
    return assembly.stack_name, outputs

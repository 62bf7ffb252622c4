"""Bootstrap the sandbox as ``cdk bootstrap`` would, then deploy the stack through CloudFormation.

The bootstrap stack (``CDKToolkit``: asset bucket, roles, the
``/cdk-bootstrap/<qualifier>/version`` parameter) comes from the template the
installed CDK CLI ships, so the sandbox is an account on which the user's own
``cdk bootstrap`` finds nothing to change and ``cdk deploy`` finds what it
checks for.

The synth (~5 s, most of a sandbox start) is skipped when nothing it reads has
changed since the last one: a fingerprint of the stack's and the Lambda
asset's sources, of the installed Powertools release (whose layer the
template names) and of the mapping's scale levers in the environment
(``ORDERS_PARALLELIZATION_FACTOR``, ``ORDERS_BATCHING_WINDOW``), is kept next
to the cloud assembly.
"""

from __future__ import annotations

import fcntl
import hashlib
from pathlib import Path
from typing import Any, Protocol

from orders_lib.deploy import powertools
from orders_lib.deploy.mapping_scale import environment_fingerprint
from orders_lib.sandbox.cloudformation.deploy import deploy_stack, deploy_template


class Target(Protocol):
    """What a deploy needs of the sandbox it deploys into."""

    account: str
    region: str

    def client(self, service: str) -> Any: ...

    def sync_mappings(self) -> None: ...


SANDBOX_ASSEMBLY_DIR = Path("build") / "cdk.out.sandbox"
FINGERPRINT_FILE = "sandbox-fingerprint.txt"
# What the synthesized template and the Lambda asset are made from.
SOURCES = (
    "cdk/*.py",
    "cdk/cdk.json",
    "lambdas/*.py",
    "orders_lib/*.py",
    "orders_lib/domain/*.py",
    "orders_lib/aws/*.py",
    "orders_lib/pipeline/*.py",
    "orders_lib/deploy/*.py",
    "pyproject.toml",
)


def fingerprint(root: Path, stage: str | None) -> str:
    digest = hashlib.sha256(f"stage={stage} powertools={powertools.installed_version()} {environment_fingerprint()}".encode())
    for pattern in SOURCES:
        for path in sorted(root.glob(pattern)):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def assembly_dir(root: Path, stage: str | None) -> Path:
    """One folder per stage: stages share no file (the acknowledgments file is not named after
    its stack), and none synthesizes over another's cached assembly."""
    return root / SANDBOX_ASSEMBLY_DIR.with_name(SANDBOX_ASSEMBLY_DIR.name + (f"-{stage}" if stage else ""))


def assembly_for_sandbox(stage: str | None = None) -> Any:
    from orders_lib.deploy.naming import names_for
    from orders_lib.deploy.synth import ROOT, read_assembly, synthesize

    outdir = assembly_dir(ROOT, stage)
    marker = outdir / FINGERPRINT_FILE
    outdir.parent.mkdir(parents=True, exist_ok=True)
    # One synth at a time into the shared folder: sandboxes started at once (make test's lanes)
    # wait for the first one's assembly instead of writing over it.
    with (outdir.parent / f"{outdir.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = fingerprint(ROOT, stage)
        if marker.exists() and marker.read_text() == current:
            try:
                return read_assembly(outdir, names_for(stage).stack)
            except (OSError, ValueError):
                pass  # incomplete or damaged: synthesize again
        assembly = synthesize(outdir, stage=stage, sandbox=True)
        marker.write_text(current)
        return assembly


BOOTSTRAP_STACK = "CDKToolkit"
BOOTSTRAP_TEMPLATE = Path("node_modules") / "aws-cdk" / "lib" / "api" / "bootstrap" / "bootstrap-template.yaml"


def bootstrap_template(root: Path) -> str:
    path = root / BOOTSTRAP_TEMPLATE
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the CDK command line is not installed (make setup runs npm ci)")
    return path.read_text()


def bootstrap_into(sandbox: Target) -> dict[str, str]:
    """The ``CDKToolkit`` stack with the template's defaults, as a plain ``cdk bootstrap`` deploys it."""
    from orders_lib.deploy.synth import ROOT

    return deploy_template(sandbox.client("cloudformation"), BOOTSTRAP_STACK, bootstrap_template(ROOT))


def deploy_into(sandbox: Target, stage: str | None = None) -> tuple[str, dict[str, str]]:
    bootstrap_into(sandbox)
    assembly = assembly_for_sandbox(stage)
    outputs = deploy_stack(sandbox.client("cloudformation"), sandbox.client("s3"), assembly, sandbox.account, sandbox.region)
    sandbox.sync_mappings()
    return assembly.stack_name, outputs

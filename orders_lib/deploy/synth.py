"""Synthesize the CDK app into a cloud assembly and read back what callers need.

Runs ``cdk/app.py`` with this project's Python in a subprocess (the CDK's jsii
runtime stays out of the caller's process). Measured here: ~4.3 s per synth,
against ~5.2 s for ``npx cdk synth -q``, which starts Node first and then the
same Python app. cdk-nag runs inside the app: a finding without an
acknowledgment makes the synth fail with :class:`SynthFailed`.

``python -m orders_lib.deploy.synth [--stage dev] [--sandbox]`` prints the
template summary and the acknowledgments (``make synth``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from .naming import names_for
from .summary import format_rows, template_rows

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "cdk" / "app.py"
ACKNOWLEDGMENTS_FILE = "nag-acknowledgments.json"  # written by cdk/nag.py


class SynthFailed(RuntimeError):
    pass


class FileAsset(NamedTuple):
    source_path: Path
    packaging: str  # "zip" (a folder, zipped on upload) or "file"
    bucket_name: str  # may hold ${AWS::AccountId} / ${AWS::Region} placeholders
    object_key: str


@dataclass(frozen=True)
class Assembly:
    stack_name: str
    template: dict[str, Any]
    template_path: Path
    file_assets: list[FileAsset] = field(default_factory=list)
    acknowledgments: list[dict[str, str]] = field(default_factory=list)

    @property
    def outdir(self) -> Path:
        return self.template_path.parent


def _python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def synthesize(outdir: Path = Path("cdk.out"), *, stage: str | None = None, sandbox: bool = False, removal: str | None = None) -> Assembly:
    """Synthesize the stack (cdk-nag on) into ``outdir`` and return what it holds.

    ``removal`` ("retain" or "destroy") overrides the app's default: retain, or
    destroy for a stage or the sandbox. A relative ``outdir`` is taken from the
    project root, so a notebook and ``make synth`` share ``cdk.out``.
    """
    outdir = (ROOT / outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    context: dict[str, str] = {}
    if stage:
        context["stage"] = stage
    if sandbox:
        context["sandbox"] = "true"
    if removal:
        context["removal"] = removal
    env = {
        **os.environ,
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps(context),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": os.environ.get("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20"),
        "NODE_NO_WARNINGS": "1",
    }
    done = subprocess.run([_python(), str(APP)], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SynthFailed(_failure_message(done.stdout + done.stderr, outdir))
    return read_assembly(outdir, names_for(stage).stack)


def _failure_message(output: str, outdir: Path) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    findings = [line for line in lines if line.startswith(("ERROR", "   ")) or "Acknowledge with" in line]
    detail = "\n".join(findings) if findings else "\n".join(lines[-25:])
    return (
        f"cdk synth failed (report, if any: {outdir / 'validation-report.json'}):\n{detail}\n"
        "Fix the finding, or acknowledge it in cdk/order_stack.py with a reason a security reviewer accepts."
    )


def read_assembly(outdir: Path, stack_name: str) -> Assembly:
    outdir = Path(outdir)
    template_path = outdir / f"{stack_name}.template.json"
    template = json.loads(template_path.read_text())
    manifest = json.loads((outdir / f"{stack_name}.assets.json").read_text())
    assets = [
        FileAsset(outdir / entry["source"]["path"], entry["source"].get("packaging", "file"), target["bucketName"], target["objectKey"])
        for entry in manifest.get("files", {}).values()
        for target in entry.get("destinations", {}).values()
    ]
    acknowledgments_path = outdir / ACKNOWLEDGMENTS_FILE
    acknowledgments = json.loads(acknowledgments_path.read_text()) if acknowledgments_path.exists() else []
    return Assembly(stack_name, template, template_path, assets, acknowledgments)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orders_lib.deploy.synth", description="Synthesize the stack and summarise it.")
    parser.add_argument("--stage", default=None, help="stack and resource name suffix, e.g. dev")
    parser.add_argument("--sandbox", action="store_true", help="synthesize for the local sandbox (no bootstrap rule, DESTROY)")
    parser.add_argument("--removal", choices=("retain", "destroy"), default=None, help="override the removal policy")
    parser.add_argument("--outdir", type=Path, default=ROOT / "cdk.out")
    args = parser.parse_args(argv)
    try:
        assembly = synthesize(args.outdir, stage=args.stage or None, sandbox=args.sandbox, removal=args.removal)
    except (SynthFailed, ValueError) as error:
        print(error, file=sys.stderr)
        return 1
    print(f"{assembly.stack_name}: {assembly.template_path}")
    print(format_rows(template_rows(assembly.template)))
    print(f"\nOutputs: {', '.join(assembly.template.get('Outputs', {}))}")
    print(f"\ncdk-nag (AwsSolutions, Serverless): 0 unacknowledged findings, {len(assembly.acknowledgments)} acknowledged:")
    for ack in assembly.acknowledgments:
        print(f"  {ack['rule']} on {ack['resource']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

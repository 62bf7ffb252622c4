"""`make synth` as the deployer runs it: cdk-nag clean, cfn-lint clean, asset as specified."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from orders_lib.deploy.synth import synthesize

from .conftest import ROOT, load_app_module

# W3005 (DependsOn already enforced by a GetAtt): CDK adds an explicit DependsOn
# from each function to its role and role policy; redundant but harmless.
CFN_LINT_IGNORED = ["W3005"]
EXPECTED_ACKNOWLEDGMENTS = {
    ("AwsSolutions-IAM5[Resource::*]", "techtest-orders/ProcessOrderRole/DefaultPolicy"),
    ("AwsSolutions-SQS3", "techtest-orders/OrdersDlq"),
    ("Serverless-SQSRedrivePolicy", "techtest-orders/OrdersDlq"),
    *{
        (rule, f"techtest-orders/{function}")
        for rule in ("AwsSolutions-L1", "Serverless-LambdaLatestVersion", "Serverless-LambdaTracing", "Serverless-LambdaDLQ")
        for function in ("CreateOrderFunction", "ProcessOrderFunction")
    },
}
ALLOWED_ASSET_FILES = {
    "create_order.py", "process_order.py", "orders_lib/__init__.py", "orders_lib/settings.py",
    *(f"orders_lib/{p.relative_to(ROOT / 'orders_lib').as_posix()}"
      for package in ("domain", "aws", "pipeline") for p in (ROOT / "orders_lib" / package).glob("*.py")),
}  # fmt: skip


@pytest.fixture(scope="module")
def assembly(tmp_path_factory):
    return synthesize(tmp_path_factory.mktemp("cdk.out"))


def test_nag_has_no_unacknowledged_findings_and_every_acknowledgment_has_a_reason(assembly):
    # synthesize() raises SynthFailed on any unacknowledged AwsSolutions/Serverless finding
    assert {(a["rule"], a["resource"]) for a in assembly.acknowledgments} == EXPECTED_ACKNOWLEDGMENTS
    assert all(len(a["reason"]) > 80 for a in assembly.acknowledgments)
    report = assembly.outdir / "validation-report.json"
    if report.exists():
        import json

        assert all(r.get("summary", {}).get("status") != "failure" for r in json.loads(report.read_text())["pluginReports"])


def test_an_unacknowledged_finding_fails_the_synth(tmp_path):
    from aws_cdk import App
    from aws_cdk import aws_sqs as sqs

    app = App(outdir=str(tmp_path))
    stack = load_app_module().build(app)
    sqs.Queue(stack, "UnencryptedQueue", encryption=sqs.QueueEncryption.UNENCRYPTED)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()


def test_cfn_lint_finds_no_errors(assembly):
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    done = subprocess.run(
        [str(cfn_lint), "--ignore-checks", *CFN_LINT_IGNORED, "--", str(assembly.template_path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_assembly_lists_the_lambda_zip_and_template_assets(assembly):
    zips = [a for a in assembly.file_assets if a.packaging == "zip"]
    assert len(zips) == 1 and zips[0].source_path.is_dir()
    assert zips[0].bucket_name == "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"
    assert zips[0].object_key.endswith(".zip")
    code = {f["Properties"]["Code"]["S3Key"] for f in assembly.template["Resources"].values() if f["Type"] == "AWS::Lambda::Function"}
    assert code == {zips[0].object_key}
    shipped = {p.relative_to(zips[0].source_path).as_posix() for p in zips[0].source_path.rglob("*") if p.is_file()}
    assert shipped == ALLOWED_ASSET_FILES


def test_build_lambda_holds_exactly_the_allowed_files(assembly):
    build = ROOT / "build" / "lambda"
    files = {p.relative_to(build).as_posix() for p in build.rglob("*") if p.is_file()}
    assert files == ALLOWED_ASSET_FILES
    # no temporary folders or partial files left behind by the staging
    assert not [p for p in (ROOT / "build").iterdir() if p.name.startswith("lambda") and p.name != "lambda"]
    assert not [p for p in build.rglob("*") if p.is_dir() and not any(p.iterdir())]

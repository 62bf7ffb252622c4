"""Deploy helpers that need no synth: naming, template summary, assembly reading,
asset staging, and the credential check's message."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import boto3
import pytest

from orders_lib.deploy import credentials
from orders_lib.deploy.naming import ResourceNames, names_for
from orders_lib.deploy.summary import Row, format_rows, template_rows
from orders_lib.deploy.synth import read_assembly

ROOT = Path(__file__).resolve().parents[2]


def test_names_without_and_with_a_stage():
    plain, dev = names_for(None), names_for("dev")
    assert (plain.stack, plain.table, plain.topic, plain.dlq) == (
        "techtest-orders", "techtest-orders", "techtest-order-notifications", "techtest-orders-dlq")  # fmt: skip
    assert (plain.create_function, plain.process_function, plain.key_alias) == (
        "techtest-create-order", "techtest-process-order", "alias/techtest-orders")  # fmt: skip
    assert (dev.stack, dev.topic, dev.process_function, dev.key_alias) == (
        "techtest-orders-dev", "techtest-order-notifications-dev", "techtest-process-order-dev", "alias/techtest-orders-dev")  # fmt: skip


@pytest.mark.parametrize("stage", ["Dev", "1st", "dev_1", "x" * 21])
def test_a_stage_that_would_make_invalid_names_is_refused(stage):
    with pytest.raises(ValueError, match="lowercase"):
        ResourceNames(stage)


def test_template_rows_show_physical_names_where_set():
    template = {"Resources": {
        "Table1": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "techtest-orders"}},
        "Role1": {"Type": "AWS::IAM::Role", "Properties": {}},
        "Fn1": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": {"Ref": "X"}}},
    }}  # fmt: skip
    rows = template_rows(template)
    assert rows == [Row("Table1", "AWS::DynamoDB::Table", "techtest-orders"), Row("Role1", "AWS::IAM::Role", None),
                    Row("Fn1", "AWS::Lambda::Function", None)]  # fmt: skip
    assert format_rows(rows).splitlines()[1].split() == ["Table1", "AWS::DynamoDB::Table", "techtest-orders"]


def test_read_assembly_reports_assets_and_acknowledgments(tmp_path):
    (tmp_path / "s.template.json").write_text(json.dumps({"Resources": {}}))
    destination = {"bucketName": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}", "objectKey": "abc.zip"}
    manifest = {"files": {"abc": {"source": {"path": "asset.abc", "packaging": "zip"}, "destinations": {"d": destination}}}}
    (tmp_path / "s.assets.json").write_text(json.dumps(manifest))
    (tmp_path / "nag-acknowledgments.json").write_text(json.dumps([{"rule": "R", "resource": "s/x", "reason": "why"}]))
    assembly = read_assembly(tmp_path, "s")
    assert assembly.file_assets == [(tmp_path / "asset.abc", "zip", destination["bucketName"], "abc.zip")]
    assert assembly.acknowledgments == [{"rule": "R", "resource": "s/x", "reason": "why"}]
    assert assembly.stack_name == "s" and assembly.template == {"Resources": {}}


def test_lambda_asset_staging_keeps_only_the_lambda_side(tmp_path):
    spec = importlib.util.spec_from_file_location("lambda_asset_under_test", ROOT / "cdk" / "lambda_asset.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    target = tmp_path / "lambda"
    (target / "orders_lib" / "sandbox").mkdir(parents=True)
    (target / "orders_lib" / "sandbox" / "stale.py").write_text("left from an older build")
    module.stage_lambda_asset(ROOT, target)
    files = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()}
    assert {"create_order.py", "process_order.py", "orders_lib/__init__.py", "orders_lib/settings.py"} <= files
    assert {f.split("/")[1] for f in files if f.count("/") == 2} == {"domain", "aws", "pipeline"}
    assert not any("sandbox" in f or "cli.py" in f or "deploy" in f or "__pycache__" in f for f in files)
    assert [p for p in target.rglob("*") if p.is_dir()] and not (target / "orders_lib" / "sandbox").exists()


def test_credential_check_without_credentials_says_what_to_configure(monkeypatch, tmp_path, capsys):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(boto3.session.Session, "get_credentials", lambda self: None)
    assert credentials.main([]) == 2
    message = capsys.readouterr().err
    assert "No AWS credentials found" in message and "aws configure" in message and "Traceback" not in message


def test_the_environment_for_cdk_bootstrap_is_alone_on_standard_output(monkeypatch, capsys):
    identity = {"account": "123456789012", "arn": "arn:aws:iam::123456789012:user/dev", "region": "eu-west-1"}
    monkeypatch.setattr(credentials, "caller_identity", lambda: identity)
    assert credentials.main(["--environment"]) == 0
    printed = capsys.readouterr()
    assert printed.out == "aws://123456789012/eu-west-1\n" and "AWS account 123456789012" in printed.err
    assert credentials.main([]) == 0 and capsys.readouterr().out.startswith("AWS account 123456789012 as arn:aws:iam")


def test_the_workbook_on_aws_without_credentials_stops_in_its_first_cell(monkeypatch):
    from orders_lib.workbook.bench import Workbench

    monkeypatch.setattr(boto3.session.Session, "get_credentials", lambda self: None)
    with pytest.raises(credentials.NoAwsCredentials, match=r"No AWS credentials found.*aws configure"):
        Workbench.connect("aws")
    assert Workbench.connect("sandbox", endpoint="http://localhost:1").settings.is_sandbox  # the sandbox needs none

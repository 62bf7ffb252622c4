"""The AWS deploy path, run for real on a sandbox: the user's own commands with
``AWS_ENDPOINT_URL`` pointed at it. ``make bootstrap`` (``cdk bootstrap`` of the
credentials' account and region) finds the sandbox bootstrapped; ``make deploy STAGE=x`` deploys a stage stack beside the
sandbox's own through change sets with the bootstrap version check; an order
goes through it; a second deploy with changed code runs the new code;
``make destroy`` removes it and leaves the sandbox's stack alone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from sandbox_testing import Aws, wait_for

ROOT = Path(__file__).resolve().parents[2]
STAGE = "clitest"
STACK = f"techtest-orders-{STAGE}"
MARKER = "answered by the second deploy"


@pytest.fixture(scope="module")
def env(stack_sandbox):
    """The environment of a user with the project's virtualenv active after
    ``export AWS_ENDPOINT_URL=http://localhost:4566``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ORDERS_"))}
    base["PATH"] = f"{ROOT / '.venv' / 'bin'}:{base.get('PATH', '/usr/bin:/bin')}"
    return {
        **base,
        "AWS_ENDPOINT_URL": stack_sandbox.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def run(command: list[str], env: dict[str, str], cwd: Path = ROOT, timeout: int = 300) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def deployed(env, stack_aws):
    """Bootstrap, deploy the stage; destroy it when the module is done (and check it went)."""
    bootstrap = run(["make", "--no-print-directory", "bootstrap"], env)
    deploy = run(["make", "--no-print-directory", "deploy", f"STAGE={STAGE}", "CDK_APPROVAL=never"], env)
    outputs = json.loads((ROOT / "cdk.out" / f"outputs-{STAGE}.json").read_text())[STACK]
    yield {"bootstrap": bootstrap, "deploy": deploy, "outputs": outputs}
    destroy = run(["make", "--no-print-directory", "destroy", f"STAGE={STAGE}"], env)
    assert "destroyed" in destroy
    stacks = [s["StackName"] for s in stack_aws("cloudformation").describe_stacks()["Stacks"]]
    assert STACK not in stacks and "techtest-orders" in stacks
    functions = [f["FunctionName"] for f in stack_aws("lambda").list_functions()["Functions"]]
    assert not [name for name in functions if name.endswith(f"-{STAGE}")]


def test_cdk_bootstrap_finds_the_sandbox_bootstrapped(deployed):
    assert "bootstrapped (no changes)" in deployed["bootstrap"]


def test_the_stage_deploys_through_a_change_set_with_the_bootstrap_version_check(deployed, stack_aws):
    assert "creating CloudFormation changeset" in deployed["deploy"] or "changeset" in deployed["deploy"].lower()
    stack = stack_aws("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    template = stack_aws("cloudformation").get_template(StackName=STACK)["TemplateBody"]
    assert "CheckBootstrapVersion" in (template if isinstance(template, dict) else json.loads(template)).get("Rules", {})
    assert deployed["outputs"]["TableName"] == STACK and deployed["outputs"]["CreateOrderFunctionName"] == f"techtest-create-order-{STAGE}"
    assets = stack_aws("s3").list_objects_v2(Bucket="cdk-hnb659fds-assets-123456789012-us-east-1")["KeyCount"]
    assert assets >= 2, "the Lambda asset and the template were published to the bootstrap bucket"


def test_an_order_goes_through_the_stage_with_the_users_make_targets(deployed, env, stack_aws):
    created = run(["make", "--no-print-directory", "invoke-create", f"STAGE={STAGE}"], env)
    assert "created" in created and "status NEW" in created
    table = deployed["outputs"]["TableName"]

    def notified():
        items = stack_aws("dynamodb").scan(TableName=table, ConsistentRead=True)["Items"]
        return items and all(i["status"]["S"] == "PROCESSED" and "notifiedAt" in i for i in items)

    wait_for(notified, timeout=30, message="the stage's order PROCESSED and notified")
    assert "batch done" in run(["make", "--no-print-directory", "logs-process", f"STAGE={STAGE}"], env)
    assert "The DLQ is empty" in run(["make", "--no-print-directory", "check-dlq", f"STAGE={STAGE}"], env)


def test_a_second_deploy_with_changed_code_runs_the_new_code(deployed, env, tmp_path, stack_aws):
    copy = tmp_path / "project"
    for name in ("cdk", "lambdas", "orders_lib"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__", "cdk.out"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    (copy / "node_modules").symlink_to(ROOT / "node_modules")
    handler = copy / "lambdas" / "create_order.py"
    handler.write_text(handler.read_text().replace('"create-order answered"', f'"create-order {MARKER}"'))
    output = run(
        [str(copy / "node_modules" / ".bin" / "cdk"), "deploy", "-c", f"stage={STAGE}", "--require-approval", "never"],
        env,
        cwd=copy / "cdk",
    )
    assert STACK in output
    assert stack_aws("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    run(["make", "--no-print-directory", "invoke-create", f"STAGE={STAGE}"], env)
    logs = Aws(env["AWS_ENDPOINT_URL"])("logs")
    wait_for(
        lambda: any(
            MARKER in e["message"] for e in logs.filter_log_events(logGroupName=f"/aws/lambda/techtest-create-order-{STAGE}")["events"]
        ),
        timeout=20,
        message="a log line only the new code writes",
    )

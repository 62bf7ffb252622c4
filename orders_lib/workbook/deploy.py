"""01_deploy: synthesize, show the stack and its cdk-nag result, deploy, smoke-check."""

from __future__ import annotations

import os
import subprocess
import time
from typing import Any

import pandas as pd

from orders_lib.sandbox.cloudformation.deploy import deploy_stack

from ..deploy.summary import template_rows
from ..deploy.synth import ROOT, Assembly, synthesize
from ..ops.orders import build_request
from ..sandbox import control
from ..sandbox.cloudformation.stack import assembly_for_sandbox
from .bench import Workbench

SANDBOX_ACCOUNT = "123456789012"


def synthesize_for(bench: Workbench) -> Assembly:
    stage = None if bench.settings.stack_name == "techtest-orders" else bench.settings.stack_name.removeprefix("techtest-orders-")
    if bench.settings.is_sandbox:  # the sandbox's own synth: reused while the sources are unchanged, one at a time
        return assembly_for_sandbox(stage)
    return synthesize(ROOT / "build" / "cdk.out", stage=stage)


def resources_frame(assembly: Assembly) -> pd.DataFrame:
    return pd.DataFrame(template_rows(assembly.template))


def nag_frame(assembly: Assembly) -> pd.DataFrame:
    """Every acknowledged cdk-nag finding with its reason (unacknowledged ones fail the synth)."""
    return pd.DataFrame(assembly.acknowledgments, columns=["rule", "resource", "reason"])


def ensure_sandbox(bench: Workbench) -> str:
    """Start the local sandbox (without the stack) if nothing answers at the endpoint."""
    if not bench.settings.is_sandbox:
        return "target is AWS: no sandbox needed"
    try:
        control.control(bench.settings.endpoint_url or "", "health")
        return f"sandbox already running at {bench.settings.endpoint_url}"
    except OSError:
        port = int((bench.settings.endpoint_url or "").rsplit(":", 1)[-1])
        state, _ = control.start(port=port, deploy=False)
        return f"sandbox started at {state.endpoint}"


def deploy(bench: Workbench, assembly: Assembly, *, via_cdk_cli: bool = False) -> dict[str, str]:
    """Sandbox: CloudFormation through boto3, or with ``via_cdk_cli`` the CDK command line
    pointed at the sandbox (``AWS_ENDPOINT_URL``), as on AWS. AWS: `make deploy`."""
    if bench.settings.is_sandbox and not via_cdk_cli:
        outputs = deploy_stack(bench.client("cloudformation"), bench.client("s3"), assembly, SANDBOX_ACCOUNT, bench.settings.region)
    else:
        stage = assembly.stack_name.removeprefix("techtest-orders").lstrip("-")
        env = {**os.environ, **(sandbox_environment(bench) if bench.settings.is_sandbox else {})}
        # A sandbox started without the stack is a fresh account: bootstrap it first, as
        # anyone would once per account (on AWS that stays a deliberate, separate step).
        targets = (["bootstrap"] if bench.settings.is_sandbox else []) + ["deploy"]
        for target in targets:
            command = ["make", "--no-print-directory", target, "CDK_APPROVAL=never"] + ([f"STAGE={stage}"] if stage else [])
            done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"`{' '.join(command)}` failed:\n{(done.stdout + done.stderr)[-3000:]}")
        outputs = {}
    bench.refresh()
    return outputs or dict(bench.outputs.values)


def sandbox_environment(bench: Workbench) -> dict[str, str]:
    """What a shell user exports to point the AWS CLI, boto3 and the CDK CLI at the sandbox."""
    return {
        "AWS_ENDPOINT_URL": bench.settings.endpoint_url or "",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": bench.settings.region,
        "AWS_DEFAULT_REGION": bench.settings.region,
    }


def outputs_frame(bench: Workbench) -> pd.DataFrame:
    return pd.DataFrame(sorted(bench.outputs.values.items()), columns=["output", "value"])


def smoke_check(bench: Workbench, timeout_s: float = 30.0) -> dict[str, Any]:
    """One order end to end: created, PROCESSED, notified."""
    started = time.monotonic()
    request = build_request("C-SMOKE", "Smoke Test", "smoke@example.com", [("NB-A5", "Notebook A5", 1, "4.50")], "EUR", "smoke-check-1")
    result = bench.create(request)
    if not result.ok or not result.order:
        return {"created": False, "status": result.status_code, "errors": result.errors}
    order_id = result.order["orderId"]
    tally = bench.wait_processed([order_id], timeout_s)
    item = bench.repository.get_item(order_id) or {}
    return {
        "created": True,
        "orderId": order_id,
        "status": item.get("status"),
        "notified": bool(item.get("notifiedAt")),
        "passed": tally["pending"] == 0,
        "seconds": round(time.monotonic() - started, 2),
    }


def stack_ready(bench: Workbench) -> bool:
    try:
        bench.refresh()
        return bool(bench.outputs.values)
    except Exception:  # noqa: BLE001 - "not deployed" has several shapes; the notebook deploys then
        return False

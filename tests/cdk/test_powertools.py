"""The Powertools on AWS is the release tested here: the stack's layer, the lock's pin and the
installed package name one version, and the sandbox holds the parameter the stack reads."""

from __future__ import annotations

import re
from importlib import metadata

import pytest

from orders_lib.deploy import powertools
from orders_lib.sandbox.ssm import public_parameters

from .conftest import ROOT, resources


@pytest.fixture(scope="module")
def raw(default_stack):
    return default_stack[1]


def locked_version() -> str:
    pins = re.findall(r"^aws-lambda-powertools==(\S+)", (ROOT / "requirements.lock").read_text(), flags=re.MULTILINE)
    assert len(pins) == 1, f"requirements.lock should pin aws-lambda-powertools once, found {pins}"
    return pins[0]


def deployed_layer_parameters(raw) -> set[str]:
    """The SSM parameter each function's one layer is resolved from, as the function's build names it."""
    found = set()
    for function in resources(raw, "AWS::Lambda::Function").values():
        props = function["Properties"]
        (layer,) = props["Layers"]
        parameter = raw["Parameters"][layer["Ref"]]
        assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
        (architecture,) = props["Architectures"]
        prefix = f"/aws/service/powertools/python/{architecture}/{props['Runtime']}/"
        assert parameter["Default"].startswith(prefix), f"{parameter['Default']} is not the layer for {prefix}"
        found.add(parameter["Default"])
    return found


def test_the_stack_deploys_the_layer_of_the_locked_and_installed_release(raw):
    (parameter,) = deployed_layer_parameters(raw)
    deployed = parameter.rsplit("/", 1)[1]
    assert deployed == locked_version() == metadata.version("aws-lambda-powertools"), (
        f"the stack deploys Powertools {deployed}, requirements.lock pins {locked_version()}, "
        f"{metadata.version('aws-lambda-powertools')} is installed: run make setup"
    )


def test_the_sandbox_holds_the_parameter_the_stack_reads(raw):
    assert deployed_layer_parameters(raw) == {public_parameters.powertools_layer_parameter()}


def test_the_layer_follows_the_installed_release(tmp_path, monkeypatch):
    from .conftest import build_template

    monkeypatch.setattr(powertools, "installed_version", lambda: "3.99.1")
    _, raw, _ = build_template(tmp_path)
    assert deployed_layer_parameters(raw) == {"/aws/service/powertools/python/arm64/python3.12/3.99.1"}

"""CDK test fixtures: build the app in this process (one synth per module) or
synthesize it as `make synth` does (a subprocess, cdk-nag included)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

ROOT = Path(__file__).resolve().parents[2]
CDK_DIR = ROOT / "cdk"


def load_app_module():
    """cdk/app.py as a module (its own imports put cdk/ on sys.path)."""
    if "orders_cdk_app" not in sys.modules:
        spec = importlib.util.spec_from_file_location("orders_cdk_app", CDK_DIR / "app.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["orders_cdk_app"] = module
        spec.loader.exec_module(module)
    return sys.modules["orders_cdk_app"]


def build_template(outdir: Path, **context: str):
    """(Template, template dict, stack) for the app with this context."""
    from aws_cdk import App
    from aws_cdk.assertions import Template

    app = App(context=context, outdir=str(outdir))
    stack = load_app_module().build(app)
    template = Template.from_stack(stack)
    return template, template.to_json(), stack


def resources(template: dict, type_name: str) -> dict[str, dict]:
    return {key: value for key, value in template["Resources"].items() if value["Type"] == type_name}


def only(template: dict, type_name: str) -> dict:
    found = list(resources(template, type_name).values())
    assert len(found) == 1, f"expected one {type_name}, found {len(found)}"
    return found[0]


@pytest.fixture(scope="module")
def default_stack(tmp_path_factory):
    return build_template(tmp_path_factory.mktemp("cdk"))

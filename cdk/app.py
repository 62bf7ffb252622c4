#!/usr/bin/env python3
"""The CDK app: one order-pipeline stack, checked by cdk-nag on every synth.

Context (``-c key=value``, or CDK_CONTEXT_JSON):
  stage    optional; names the stack and every resource with a ``-<stage>`` suffix
  sandbox  "true": no bootstrap-version rule (the local sandbox has no bootstrap
           stack) and removal policy DESTROY everywhere
  removal  "retain" | "destroy"; default retain, destroy when sandbox or stage is set
  parallelization_factor  ProcessOrder's stream mapping: concurrent batches per shard, 1-10
           (default 1; or ORDERS_PARALLELIZATION_FACTOR)
  batching_window  the same mapping's MaximumBatchingWindowInSeconds, 0-300 (default 0; or
           ORDERS_BATCHING_WINDOW)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # cdk/ modules and orders_lib, from any working directory

from aws_cdk import App, DefaultStackSynthesizer, Environment, RemovalPolicy  # noqa: E402
from aws_cdk.aws_lambda import Function  # noqa: E402,F401 - imported early: fails fast if aws-cdk-lib is missing

import nag  # noqa: E402
from lambda_asset import stage_lambda_asset  # noqa: E402
from order_stack import OrderStack  # noqa: E402
from orders_lib.deploy.mapping_scale import InvalidScale, MappingScale  # noqa: E402
from orders_lib.deploy.naming import names_for  # noqa: E402

REMOVAL = {"retain": RemovalPolicy.RETAIN, "destroy": RemovalPolicy.DESTROY}


def _flag(value: object) -> bool:
    return str(value).lower() in ("1", "true", "yes")


def build(app: App) -> OrderStack:
    stage = app.node.try_get_context("stage") or None
    sandbox = _flag(app.node.try_get_context("sandbox"))
    removal_name = app.node.try_get_context("removal") or ("destroy" if sandbox or stage else "retain")
    if removal_name not in REMOVAL:
        raise SystemExit(f"context removal={removal_name!r} is unknown: use retain or destroy")
    if sandbox:
        removal_name = "destroy"
    try:
        scale = MappingScale.read(app.node.try_get_context)
    except InvalidScale as refused:
        raise SystemExit(str(refused)) from None
    account, region = os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")
    stack = OrderStack(
        app,
        names_for(stage).stack,
        names=names_for(stage),
        removal=REMOVAL[removal_name],
        asset_dir=stage_lambda_asset(),
        scale=scale,
        synthesizer=DefaultStackSynthesizer(generate_bootstrap_version_rule=False) if sandbox else None,
        env=Environment(account=account, region=region) if account and region else None,
    )
    nag.add_checks(app)
    return stack


def main() -> None:
    app = App()
    stack = build(app)
    try:
        app.synth()
    finally:
        nag.write_acknowledgments(app.outdir, stack.acknowledgments)


if __name__ == "__main__":
    main()

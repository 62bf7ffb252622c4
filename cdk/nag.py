"""cdk-nag on every synth, and the stack's acknowledgments with their reasons.

Each acknowledgment goes through CDK's ``Validations.of(construct).acknowledge``
and is also returned as a record, so the app can write them next to the template
(``nag-acknowledgments.json``) for ``make synth`` and the deploy notebook.
"""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from constructs import IConstruct

ACKNOWLEDGMENTS_FILE = "nag-acknowledgments.json"


def add_checks(app: App) -> None:
    """AwsSolutions and Serverless packs; an unacknowledged finding fails the synth."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))


def acknowledge(construct: IConstruct, rule: str, reason: str) -> dict[str, str]:
    """Acknowledge one finding on ``construct``; return the record of it."""
    Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))
    return {"rule": rule, "resource": construct.node.path, "reason": reason}


def write_acknowledgments(outdir: str | Path, acknowledgments: list[dict[str, str]]) -> Path:
    path = Path(outdir) / ACKNOWLEDGMENTS_FILE
    path.write_text(json.dumps(acknowledgments, indent=2) + "\n")
    return path

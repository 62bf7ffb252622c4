"""Powertools' public layer parameter, which every AWS account can read and moto's SSM lacks.

The stack names Powertools' layer by the public SSM parameter of the installed
release (``orders_lib/deploy/powertools.py``), and CloudFormation resolves it
on deploy; moto's CloudFormation resolves such parameters from moto's SSM,
through ``cdk deploy`` as through boto3. So the sandbox, like an AWS account,
has that parameter from its start, before anything is deployed (a sandbox
started with ``--no-deploy`` is deployed to later, by the CDK CLI too).

Its value names a stand-in for the layer in the sandbox's account, not AWS's
layer: a release's public layer number is not derivable from the release (the
reason the stack asks SSM), so the sandbox, offline, cannot give it; and the
sandbox ignores layers anyway: its functions import the installed Powertools,
this same release (see the README).
``PutParameter`` refuses names under ``/aws/``, as AWS does, so the parameter
goes into moto's backend, as moto loads its own public parameters (AMI ids).
"""

from __future__ import annotations

from moto.core.utils import utcnow
from moto.ssm.models import Parameter, ssm_backends

from orders_lib.deploy import powertools

# The layer build the stack deploys: its functions' runtime and architecture
# (cdk/order_stack.py RUNTIME and ARCHITECTURE; tests/cdk check that they agree).
PYTHON = "python3.12"
ARCHITECTURE = "arm64"


def powertools_layer_parameter() -> str:
    """The parameter the stack reads: the installed release's layer for the stack's build."""
    return powertools.layer_parameter(PYTHON, ARCHITECTURE, powertools.installed_version())


def stand_in_layer_arn(account_id: str, region: str) -> str:
    """A layer version ARN in the sandbox's account that says what the functions run instead."""
    release = powertools.installed_version().replace(".", "_")
    return f"arn:aws:lambda:{region}:{account_id}:layer:{powertools.DISTRIBUTION}-{release}-installed:1"


def add_to(account_id: str, region: str) -> str:
    """Put the parameter into moto's SSM for this account and region (once); returns its name."""
    name = powertools_layer_parameter()
    parameters = ssm_backends[account_id][region]._parameters
    if name not in parameters:
        parameters[name].append(
            # moto's Parameter leaves two CloudFormation hooks abstract in its typing only;
            # moto builds its own public parameters (AMI ids) the same way.
            Parameter(  # type: ignore[abstract]
                account_id=account_id,
                name=name,
                value=stand_in_layer_arn(account_id, region),
                parameter_type="String",
                description=None,
                allowed_pattern=None,
                keyid=None,
                last_modified_date=utcnow(),
                version=1,
                data_type="text",
            )
        )
    return name

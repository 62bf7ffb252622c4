"""Which Powertools for AWS Lambda (Python) the functions run on AWS: the release installed here.

The unit tests and the sandbox's functions import the installed
``aws-lambda-powertools``, which requirements.lock pins; on AWS the functions
import it from Powertools' public Lambda layer. Layers are numbered per build,
not per release, so the stack does not name a layer number: Powertools
publishes each release's layer version ARN as a public SSM parameter named
after the release (``/aws/service/powertools/python/<architecture>/<python>/<version>``,
in every commercial region; its "Lambda Layers" documentation), and the stack
reads the one of the installed release as a CloudFormation parameter of type
``AWS::SSM::Parameter::Value<String>``, which CloudFormation resolves on every
deploy. So synth stays offline (no lookup, no credentials), there is no table
of layer numbers to keep up, and a release whose parameter is missing fails
the deploy instead of deploying another release.
"""

from __future__ import annotations

from importlib import metadata

DISTRIBUTION = "aws-lambda-powertools"
PARAMETER_PREFIX = "/aws/service/powertools/python"


def installed_version() -> str:
    """The installed release: what the tests ran, and so the layer the stack deploys."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise RuntimeError(
            f"{DISTRIBUTION} is not installed in this Python: the stack deploys the Powertools layer of the installed "
            "release (make setup installs requirements.lock)"
        ) from None


def layer_parameter(python: str, architecture: str, version: str) -> str:
    """The public SSM parameter holding the layer version ARN of ``version`` for that runtime and architecture.

    >>> layer_parameter("python3.12", "arm64", "3.37.0")
    '/aws/service/powertools/python/arm64/python3.12/3.37.0'
    """
    return f"{PARAMETER_PREFIX}/{architecture}/{python}/{version}"

"""A sandbox is an account as AWS has it before anything is deployed: Powertools' public
layer parameter, which the stack's template reads, is there from the start."""

from __future__ import annotations

from orders_lib.sandbox.ssm import public_parameters

ACCOUNT = "123456789012"


def test_a_fresh_sandbox_answers_the_powertools_layer_parameter(aws):
    name = public_parameters.powertools_layer_parameter()
    parameter = aws("ssm").get_parameter(Name=name)["Parameter"]
    assert parameter["Value"] == public_parameters.stand_in_layer_arn(ACCOUNT, "us-east-1")

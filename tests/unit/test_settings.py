import pytest

from orders_lib.settings import ConfigurationError, Settings


def test_defaults_to_the_sandbox_outside_lambda():
    settings = Settings.from_env({})
    assert settings.target == "sandbox" and settings.endpoint_url == "http://localhost:4566"


def test_inside_lambda_the_target_is_aws_and_the_standard_endpoint_variable_counts():
    assert Settings.from_env({"AWS_LAMBDA_FUNCTION_NAME": "f"}).endpoint_url is None
    settings = Settings.from_env({"AWS_LAMBDA_FUNCTION_NAME": "f", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"})
    assert settings.target == "aws" and settings.endpoint_url == "http://127.0.0.1:5000"


def test_one_setting_switches_target_region_stack_and_endpoint():
    env = {"ORDERS_TARGET": "sandbox", "ORDERS_ENDPOINT_URL": "http://localhost:4999", "AWS_REGION": "eu-west-1", "ORDERS_STACK": "dev"}
    settings = Settings.from_env(env)
    assert (settings.endpoint_url, settings.region, settings.stack_name) == ("http://localhost:4999", "eu-west-1", "dev")
    assert Settings.from_env(env, target="aws").endpoint_url is None
    assert settings.with_endpoint("http://localhost:1").endpoint_url == "http://localhost:1"


def test_unknown_target_says_what_is_allowed():
    with pytest.raises(ConfigurationError, match="use one of sandbox, aws"):
        Settings.from_env({"ORDERS_TARGET": "prod"})

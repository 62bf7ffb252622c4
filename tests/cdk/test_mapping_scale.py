"""ProcessOrder's stream mapping scale levers: ParallelizationFactor and the batching window come
from CDK context or the environment, default to Lambda's defaults, and are refused out of range."""

from __future__ import annotations

import pytest

from orders_lib.deploy.mapping_scale import LEVERS, InvalidScale, MappingScale

from .conftest import build_template, only

ENVIRONMENT = [variable for variable, *_ in LEVERS.values()]


def mapping_properties(outdir, **context):
    with pytest.MonkeyPatch.context() as patch:
        for variable in ENVIRONMENT:
            patch.delenv(variable, raising=False)
        _, raw, _ = build_template(outdir, **context)
    return only(raw, "AWS::Lambda::EventSourceMapping")["Properties"]


def test_the_template_carries_the_factor_and_window_given_as_context(tmp_path):
    mapping = mapping_properties(tmp_path, parallelization_factor="4", batching_window="1")
    assert mapping["ParallelizationFactor"] == 4
    assert mapping["MaximumBatchingWindowInSeconds"] == 1
    assert mapping["BatchSize"] == 10 and mapping["MaximumRetryAttempts"] == 3  # the rest unchanged


def test_without_context_the_mapping_keeps_one_batch_per_shard_and_no_window(tmp_path):
    mapping = mapping_properties(tmp_path)
    assert mapping["ParallelizationFactor"] == 1
    assert mapping["MaximumBatchingWindowInSeconds"] == 0


@pytest.mark.parametrize(
    ("context", "words"),
    [
        ({"parallelization_factor": "11"}, "context parallelization_factor='11' is not allowed"),
        ({"parallelization_factor": "0"}, "from 1 to 10"),
        ({"parallelization_factor": "two"}, "a whole number from 1 to 10"),
        ({"batching_window": "301"}, "context batching_window='301' is not allowed"),
        ({"batching_window": "-1"}, "from 0 to 300"),
        ({"batching_window": "0.5"}, "a whole number from 0 to 300"),
    ],
)
def test_a_value_out_of_lambdas_range_stops_the_synth_with_what_is_allowed(tmp_path, context, words):
    with pytest.raises(SystemExit) as refused:
        mapping_properties(tmp_path, **context)
    assert words in str(refused.value)


def test_the_environment_sets_a_lever_the_context_leaves_unset():
    environ = {"ORDERS_PARALLELIZATION_FACTOR": "3", "ORDERS_BATCHING_WINDOW": "5"}
    assert MappingScale.read(lambda key: None, environ) == MappingScale(3, 5)
    assert MappingScale.read({"parallelization_factor": 2}.get, environ) == MappingScale(2, 5)  # context wins
    assert MappingScale.read(lambda key: None, {}) == MappingScale(1, 0)
    with pytest.raises(InvalidScale, match="ORDERS_BATCHING_WINDOW='900' is not allowed"):
        MappingScale.read(lambda key: None, {"ORDERS_BATCHING_WINDOW": "900"})

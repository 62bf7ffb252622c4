"""The sandbox's event source mappings behave as AWS documents them."""

import json

import pytest
from botocore.exceptions import ClientError

from orders_lib.sandbox import control
from sandbox_testing import wait_for


def test_records_reach_the_function_in_order_in_batches(scenario):
    s = scenario(BatchSize=3)
    for n in range(7):
        s.put(f"k{n}")
    wait_for(lambda: len(s.delivered_keys()) >= 7, message="7 records delivered")
    assert s.delivered_keys() == [f"k{n}" for n in range(7)]
    assert all(len(b["keys"]) <= 3 for b in s.invocations())
    assert s.dlq() == []


def test_filter_criteria_keep_other_events_from_the_function(scenario):
    pattern = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"mode": {"S": [{"anything-but": ["skip"]}]}}}}
    s = scenario(FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]})
    s.put("a")
    s.put("b", mode="skip")
    s.put("a", mode="ok")  # a MODIFY
    s.put("c")
    wait_for(lambda: "c" in s.delivered_keys(), message="c delivered")
    assert s.delivered_keys() == ["a", "c"]
    assert {name for b in s.invocations() for name in b["names"]} == {"INSERT"}


def test_an_or_filter_delivers_the_records_any_of_its_branches_matches(scenario):
    branches = [{"mode": {"S": ["express"]}}, {"pk": {"S": [{"prefix": "vip-"}]}}]
    pattern = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"$or": branches}}}
    s = scenario(FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]})
    s.put("a")  # neither branch
    s.put("vip-1")  # the second
    s.put("b", mode="express")  # the first
    s.put("vip-1", mode="express")  # both, but a MODIFY
    s.put("vip-last")
    wait_for(lambda: "vip-last" in s.delivered_keys(), message="vip-last delivered")
    assert s.delivered_keys() == ["vip-1", "b", "vip-last"]


def test_a_filter_lambda_refuses_is_refused_when_the_mapping_is_created_or_updated(scenario, aws):
    s = scenario()
    refused_patterns = {
        "wildcard": ({"dynamodb": {"Keys": {"pk": {"S": [{"wildcard": "k*"}]}}}}, "operator 'wildcard' is not supported"),
        "prefix ignoring case": (
            {"dynamodb": {"Keys": {"pk": {"S": [{"prefix": {"equals-ignore-case": "K"}}]}}}},
            "'prefix' takes a string",
        ),
        "not JSON": ("{eventName: [INSERT]}", "is not valid JSON"),
    }
    for case, (pattern, words) in refused_patterns.items():
        criteria = {"Filters": [{"Pattern": pattern if isinstance(pattern, str) else json.dumps(pattern)}]}
        for call, kwargs in [
            (
                aws("lambda").create_event_source_mapping,
                {"EventSourceArn": s.stream_arn, "FunctionName": f"{s.name}-fn", "StartingPosition": "TRIM_HORIZON"},
            ),
            (aws("lambda").update_event_source_mapping, {"UUID": s.mapping["UUID"]}),
        ]:
            with pytest.raises(ClientError) as refused:
                call(FilterCriteria=criteria, **kwargs)
            error = refused.value.response
            assert error["Error"]["Code"] == "InvalidParameterValueException", case
            assert error["ResponseMetadata"]["HTTPStatusCode"] == 400, case
            assert "Filters[0].Pattern" in error["Error"]["Message"] and words in error["Error"]["Message"], case
    assert len(aws("lambda").list_event_source_mappings(FunctionName=f"{s.name}-fn")["EventSourceMappings"]) == 1
    assert "FilterCriteria" not in aws("lambda").get_event_source_mapping(UUID=s.mapping["UUID"])
    s.put("still-delivered")
    wait_for(lambda: "still-delivered" in s.delivered_keys(), message="the unchanged mapping still delivering")


def test_function_error_is_retried_then_the_batch_goes_to_the_dlq(scenario):
    s = scenario(
        MaximumRetryAttempts=2, BisectBatchOnFunctionError=False, BatchSize=2, MaximumBatchingWindowInSeconds=1
    )  # one batch of both
    s.put("good-1")
    s.put("bad", mode="raise")
    [record] = wait_for(s.dlq, message="an on-failure record")
    # one batch of two, invoked 1 + 2 times
    assert [b["keys"] for b in s.invocations()] == [["good-1", "bad"]] * 3
    context, info = record["requestContext"], record["DDBStreamBatchInfo"]
    assert context["condition"] == "RetryAttemptsExhausted" and context["approximateInvokeCount"] == 3
    assert context["functionArn"] == s.function["FunctionArn"]
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert info["batchSize"] == 2 and info["streamArn"] == s.stream_arn
    assert info["startSequenceNumber"] == s.invocations()[0]["seqs"][0]
    assert info["endSequenceNumber"] == s.invocations()[0]["seqs"][1]
    assert info["shardId"].startswith("shardId-") and record["version"] == "1.0"
    # the shard moved on
    s.put("after")
    wait_for(lambda: "after" in s.delivered_keys(), message="later records delivered")


def test_bisect_isolates_the_poison_record(scenario):
    s = scenario(MaximumRetryAttempts=3, BisectBatchOnFunctionError=True, BatchSize=4, MaximumBatchingWindowInSeconds=1)
    for key, mode in [("a", "ok"), ("b", "ok"), ("c", "raise"), ("d", "ok")]:
        s.put(key, mode)
    [record] = wait_for(s.dlq, message="an on-failure record")
    sizes = [len(b["keys"]) for b in s.invocations()]
    assert sizes[0] == 4 and 1 in sizes  # split down to the poison record
    assert record["DDBStreamBatchInfo"]["batchSize"] == 1
    wait_for(
        lambda: {"a", "b", "d"} <= {k for b in s.invocations() if "c" not in b["keys"] for k in b["keys"]},
        message="good records succeed in halves without the poison",
    )


def test_partial_batch_response_resumes_from_the_first_failed_record(scenario):
    s = scenario(FunctionResponseTypes=["ReportBatchItemFailures"], MaximumRetryAttempts=1, BatchSize=5, MaximumBatchingWindowInSeconds=1)
    for key, mode in [("a", "ok"), ("b", "fail-item"), ("c", "ok")]:
        s.put(key, mode)
    [record] = wait_for(s.dlq, message="an on-failure record")
    assert [b["keys"] for b in s.invocations()] == [["a", "b", "c"], ["b", "c"]]
    assert record["DDBStreamBatchInfo"]["batchSize"] == 2
    assert "functionError" not in record["responseContext"]


def test_malformed_partial_response_fails_the_whole_batch(scenario):
    s = scenario(FunctionResponseTypes=["ReportBatchItemFailures"], MaximumRetryAttempts=1)
    s.put("x", mode="bad-id")
    [record] = wait_for(s.dlq, message="an on-failure record")
    assert [b["keys"] for b in s.invocations()] == [["x"], ["x"]]
    assert record["requestContext"]["approximateInvokeCount"] == 2


def test_timeouts_and_crashes_are_function_errors(scenario):
    s = scenario(MaximumRetryAttempts=0, timeout=1)
    s.put("slow", mode="sleep")
    s.put("crash", mode="exit")
    records = wait_for(lambda: s.dlq() or None, timeout=20, message="on-failure records")
    assert records[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_several_mappings_on_one_stream_each_get_every_record(scenario, aws):
    s = scenario()
    second = aws("lambda").create_event_source_mapping(
        EventSourceArn=s.stream_arn, FunctionName=f"{s.name}-fn", StartingPosition="TRIM_HORIZON", BatchSize=10
    )
    assert second["UUID"] != s.mapping["UUID"]
    for n in range(5):
        s.put(f"k{n}")
    wait_for(lambda: len(s.delivered_keys()) >= 10, message="each record delivered to both mappings")
    assert sorted(s.delivered_keys()) == sorted([f"k{n}" for n in range(5)] * 2)


def test_no_record_is_dropped_under_a_burst(scenario):
    s = scenario(BatchSize=10)
    for n in range(200):
        s.put(f"k{n:03d}")
    wait_for(lambda: len(s.delivered_keys()) >= 200, timeout=30, message="200 records delivered")
    assert s.delivered_keys() == [f"k{n:03d}" for n in range(200)]


def test_a_function_writing_to_its_own_table_neither_hangs_nor_loses_records(scenario):
    s = scenario()
    s.put("first", mode="echo")
    s.put("second")
    wait_for(lambda: "first-echo" in s.delivered_keys(), message="the function's own write delivered")
    assert s.delivered_keys()[:2] == ["first", "second"] and s.dlq() == []


def test_an_updated_mapping_carries_on_after_its_checkpoint(scenario, aws, bare_sandbox):
    """Changing a mapping (here its ParallelizationFactor and batch size) restarts its pollers
    where the old ones stopped: nothing delivered is delivered again, nothing is skipped."""
    s = scenario(BatchSize=2)
    for n in range(3):
        s.put(f"before-{n}")
    wait_for(lambda: len(s.delivered_keys()) >= 3, message="3 records delivered")
    aws("lambda").update_event_source_mapping(UUID=s.mapping["UUID"], ParallelizationFactor=2, BatchSize=5)
    pollers = lambda: control.control(bare_sandbox.endpoint, "mappings").get(s.mapping["UUID"], {})
    wait_for(lambda: pollers().get("parallelization_factor") == 2, message="the mapping's pollers restarted with the change")
    s.put("after")
    wait_for(lambda: "after" in s.delivered_keys(), message="the record written after the update")
    after = [seq for b in s.invocations() for key, seq in zip(b["keys"], b["seqs"], strict=True) if key == "after"]
    wait_for(lambda: pollers()["shards"][0]["checkpoint"] == after[0], message="the new pollers' checkpoint at the last record")
    assert s.delivered_keys() == ["before-0", "before-1", "before-2", "after"]

"""py-spy's samples sorted into kinds of work by the rules in ``bench.cpu_shares``."""

from __future__ import annotations

import pytest

from orders_lib.bench.cpu_shares import OTHER, SANDBOX_RULES, WORKER_RULES, category, hottest, is_worker, parse_raw, shares

SITE = "/venv/lib/python3.11/site-packages"
STD = "/usr/lib/python3.11"
SANDBOX = 'process 10:"python -m orders_lib.sandbox serve --port 0"'
WORKER = 'process 11:"python -u /w/orders_lib/sandbox/lambda_/invocation/worker.py /s/functions/fn process_order.handler /s/log"'
POOL = [f"Thread._bootstrap ({STD}/threading.py:1002)", f"_worker ({STD}/concurrent/futures/thread.py:83)"]
MOTO = [
    "_call_wsgi (/w/orders_lib/sandbox/http/listener.py:90)",
    f"DomainDispatcherApplication.__call__ ({SITE}/moto/moto_server/werkzeug_app.py:270)",
    f"BaseResponse.dispatch ({SITE}/moto/core/responses.py:183)",
    f"DynamoHandler.call_action ({SITE}/moto/dynamodb/responses.py:324)",
]


def _frames(*frames: str) -> tuple[str, ...]:
    return (*POOL, *frames)


@pytest.mark.parametrize(
    ("leaf", "expected"),
    [
        ([f"ResponseSerializer.serialize ({SITE}/moto/core/serialize.py:275)"], "moto dispatch + (de)serialisation"),
        (
            [f"Table.put_item ({SITE}/moto/dynamodb/models/table.py:600)", f"deepcopy ({STD}/copy.py:128)"],
            "moto service models (the emulation)",
        ),
        (
            [f"Table.put_item ({SITE}/moto/dynamodb/models/table.py:600)", f"StreamShard.add ({SITE}/moto/dynamodb/models/table.py:160)"],
            "stream records/pollers",
        ),
        (["write (/w/orders_lib/sandbox/dynamodb/moto_patches.py:36)"], "our moto patches/hooks"),
        (
            [
                "write (/w/orders_lib/sandbox/dynamodb/moto_patches.py:36)",
                "add (/w/orders_lib/sandbox/dynamodb/moto_patches.py:50)",
                "CompactStreamRecord.__init__ (/w/orders_lib/sandbox/dynamodb/streams.py:40)",
                f"dumps ({STD}/json/__init__.py:238)",
            ],
            "stream records/pollers",
        ),
    ],
)
def test_the_innermost_frame_a_rule_names_decides(leaf, expected):
    assert category(_frames(*MOTO, *leaf), SANDBOX_RULES) == expected


def test_a_purpose_claims_the_moto_code_it_calls():
    record = f"StreamRecord.__init__ ({SITE}/moto/dynamodb/models/table.py:120)"
    assert category(_frames(*MOTO, record, f"DynamoType.to_json ({SITE}/moto/dynamodb/models/dynamo_type.py:300)"), SANDBOX_RULES) == (
        "stream records/pollers"
    )


def test_the_innermost_purpose_wins_over_the_one_that_called_it():
    poller = ("ShardPoller.run (/w/orders_lib/sandbox/lambda_/event_source_mapping/shard_poller.py:270)",)
    invoke = (*poller, "LambdaRuntime.invoke (/w/orders_lib/sandbox/lambda_/invocation/runtime.py:300)")
    logs = (*invoke, "LambdaRuntime._write_logs (/w/orders_lib/sandbox/lambda_/invocation/runtime.py:320)")
    assert category(_frames(*logs, f"LogStream.put_log_events ({SITE}/moto/logs/models.py:200)"), SANDBOX_RULES) == "logs"
    assert category(_frames(*invoke, f"dumps ({STD}/json/__init__.py:238)"), SANDBOX_RULES) == "Lambda invoke/runtime handoff"
    assert category(_frames(*poller, f"dumps ({STD}/json/__init__.py:238)"), SANDBOX_RULES) == "stream records/pollers"


def test_alarms_are_told_from_the_metrics_beside_them():
    alarm = _frames(
        "SandboxCloudWatch.run (/w/orders_lib/sandbox/cloudwatch/service.py:120)",
        "SandboxCloudWatch.evaluate_alarms (/w/orders_lib/sandbox/cloudwatch/service.py:140)",
    )
    metric = _frames(
        "LambdaRuntime.invoke (/w/orders_lib/sandbox/lambda_/invocation/runtime.py:300)",
        "SandboxCloudWatch.log_lines (/w/orders_lib/sandbox/cloudwatch/service.py:100)",
        "metrics_in (/w/orders_lib/sandbox/cloudwatch/emf.py:30)",
    )
    assert category(alarm, SANDBOX_RULES) == "alarms"
    assert category(metric, SANDBOX_RULES) == "metrics/EMF"


def test_log_writes_iam_checks_and_the_runtime_handoff_have_their_own_kinds():
    invoke = "LambdaRuntime.invoke (/w/orders_lib/sandbox/lambda_/invocation/runtime.py:300)"
    assert (
        category(_frames(invoke, "LambdaRuntime._write_logs (/w/orders_lib/sandbox/lambda_/invocation/runtime.py:320)"), SANDBOX_RULES)
        == "logs"
    )
    assert (
        category(
            _frames(
                invoke,
                "FunctionLogs.write (/w/orders_lib/sandbox/logs/function_logs.py:30)",
                "Guard.refuses (/w/orders_lib/sandbox/iam/enforce.py:160)",
            ),
            SANDBOX_RULES,
        )
        == "IAM checks"
    )
    assert category(_frames(invoke, f"dumps ({STD}/json/__init__.py:238)"), SANDBOX_RULES) == "Lambda invoke/runtime handoff"


def test_the_event_loop_is_the_http_front_and_unnamed_code_is_other():
    loop = (
        f"BaseEventLoop.run_forever ({STD}/asyncio/base_events.py:607)",
        f"HttpToolsProtocol.data_received ({SITE}/uvicorn/protocols/http/httptools_impl.py:120)",
    )
    assert category(loop, SANDBOX_RULES) == "HTTP front (uvicorn, asyncio, WSGI bridge)"
    assert category((f"Thread._bootstrap ({STD}/threading.py:1002)", f"emit ({STD}/logging/__init__.py:1100)"), SANDBOX_RULES) == OTHER


def test_worker_frames_are_sorted_by_their_own_rules():
    handler = "handler (/s/functions/fn/process_order.py:40)"
    assert category(
        (
            "main (/w/orders_lib/sandbox/lambda_/invocation/worker.py:80)",
            handler,
            f"BaseClient._make_api_call ({SITE}/botocore/client.py:998)",
        ),
        WORKER_RULES,
    ).startswith("boto3/botocore")
    assert category(("main (/w/orders_lib/sandbox/lambda_/invocation/worker.py:80)", handler), WORKER_RULES) == "handler and pipeline code"


def test_raw_lines_are_parsed_with_their_process_and_counted():
    raw = [
        f"{SANDBOX};thread (12): api_0;{';'.join(_frames(*MOTO))} 3",
        f"{SANDBOX};{WORKER};thread (13);main (/w/orders_lib/sandbox/lambda_/invocation/worker.py:80) 2",
        "",
        "garbage",
    ]
    samples = parse_raw(raw)
    assert [s.count for s in samples] == [3, 2]
    assert [is_worker(s) for s in samples] == [False, True]
    assert not any(f.startswith(("process ", "thread (")) for s in samples for f in s.frames)
    assert shares(samples[:1], SANDBOX_RULES) == {"moto dispatch + (de)serialisation": 3}
    assert hottest(samples[:1], "moto dispatch + (de)serialisation", SANDBOX_RULES) == [
        ("DynamoHandler.call_action (moto/dynamodb/responses.py)", 3)
    ]

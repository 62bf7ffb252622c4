"""The sandbox's HTTP front end on a real socket: waiting invocations hold no thread,
the control API answers whatever the clients do, throttles go out as Lambda's 429."""

from __future__ import annotations

import http.client
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from orders_lib.sandbox.http.listener import Front, Listener
from orders_lib.sandbox.lambda_.invocation.capacity import Capacity, Limits, admitted_ticket

INVOKE = "/2015-03-31/functions/fn/invocations"


class FakeApi:
    """A WSGI app: ``/slow`` blocks until released, ``/echo`` and invocations answer what they got."""

    def __init__(self) -> None:
        self.release_slow = threading.Event()
        self.running = 0
        self.peak_running = 0
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"] == "/slow":
            self.release_slow.wait(10)
        if environ["PATH_INFO"] == INVOKE:
            with self._lock:
                self.running += 1
                self.peak_running = max(self.peak_running, self.running)
            time.sleep(0.01)
            with self._lock:
                self.running -= 1
        body = json.dumps(
            {
                "path": environ["PATH_INFO"],
                "query": environ["QUERY_STRING"],
                "body": environ["wsgi.input"].read().decode(),
                "type": environ.get("CONTENT_TYPE"),
                "target": environ.get("HTTP_X_AMZ_TARGET"),
                "admitted": admitted_ticket() is not None,
            }
        ).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def call(port: int, method: str, path: str, body: bytes = b"", headers: dict | None = None, timeout: float = 30):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.fixture
def served():
    api, capacity = FakeApi(), Capacity(Limits(max_workers=2, max_queue=150))

    def gate(method, path, query, headers):
        return capacity.request("fn") if method == "POST" and path == INVOKE else None

    front = Front(
        api,
        threads=2,
        control=lambda method, path, query, body: (200, {"path": path, "method": method}),
        gate=gate,
        release=capacity.release,
        name="test",
    )
    listener = Listener(front, "127.0.0.1", 0, "test-http")
    listener.start()
    yield listener.port, api, capacity
    api.release_slow.set()
    listener.stop()


def test_requests_reach_the_wsgi_app_whole(served):
    port, _, _ = served
    status, _, body = call(
        port,
        "POST",
        "/echo?a=1&b=2",
        b'{"x": 1}',
        {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.PutItem"},
    )
    assert status == 200
    assert json.loads(body) == {
        "path": "/echo",
        "query": "a=1&b=2",
        "body": '{"x": 1}',
        "type": "application/x-amz-json-1.0",
        "target": "DynamoDB_20120810.PutItem",
        "admitted": False,
    }


def test_the_control_api_answers_while_every_api_thread_is_busy_and_invocations_wait(served):
    port, api, capacity = served
    with ThreadPoolExecutor(140) as pool:
        slow = [pool.submit(call, port, "GET", "/slow") for _ in range(2)]  # both API threads taken
        invocations = [pool.submit(call, port, "POST", INVOKE, b"{}") for _ in range(120)]
        time.sleep(0.3)
        started = time.monotonic()
        status, _, body = call(port, "GET", "/_sandbox/health", timeout=5)
        assert status == 200 and json.loads(body)["path"] == "health"
        assert time.monotonic() - started < 1.0
        api.release_slow.set()
        results = [future.result(timeout=30) for future in slow + invocations]
    assert all(status == 200 for status, _, _ in results)
    assert all(json.loads(body)["admitted"] for _, _, body in results[2:]), "an invocation ran without its slot"
    assert api.peak_running <= 2, "more invocations ran at once than the function has workers"
    assert capacity.snapshot()["functions"]["fn"]["running"] == 0


def test_past_the_bound_an_invocation_gets_lambdas_429_at_once(served):
    port, _, capacity = served
    held = [capacity.request("fn") for _ in range(152)]  # 2 running + 150 waiting: the limit
    started = time.monotonic()
    status, headers, body = call(port, "POST", INVOKE, b"{}")
    assert time.monotonic() - started < 1.0
    assert status == 429
    assert {k.lower(): v for k, v in headers.items()}["x-amzn-errortype"] == "TooManyRequestsException"
    assert json.loads(body) == {"Reason": "ConcurrentInvocationLimitExceeded", "Type": "User", "message": "Rate Exceeded."}
    capacity.close()
    assert len(held) == 152

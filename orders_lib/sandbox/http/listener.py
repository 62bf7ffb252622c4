"""How the sandbox is served over HTTP: an asyncio front end (uvicorn) before moto's WSGI app.

Why asyncio in front: a synchronous ``Invoke`` that waits for a free function
worker must not hold a thread while it waits, or enough waiting clients take
every thread and the function's own AWS calls, the stream pollers and
``/_sandbox/health`` queue behind them (the sandbox used to wedge this way
with 60 clients). Here a connection costs no thread; the control API answers
on the event loop; waiting invocations are futures; only running work takes
a thread, from the pool that serves its kind of traffic.

``WsgiBridge`` is ours rather than ``a2wsgi``: moto's responses are small and
whole, so one hop to a thread per request is enough, and ``a2wsgi``'s streaming
bridge measured ~30 % slower here (PutItem 430/s against 630/s with waitress
and 680/s with this bridge, one client).
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import Any

import uvicorn

from orders_lib.sandbox.lambda_.invocation.capacity import Throttled, Ticket, admitted

LOG = logging.getLogger(__name__)
KEEP_ALIVE_S = 300  # clients keep pooled connections; closing idle ones early races their reuse

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Any]
Scope = dict[str, Any]
Send = Callable[[dict[str, Any]], Awaitable[None]]
# method, path, query string, body -> (HTTP status, JSON body)
ControlHandler = Callable[[str, str, str, bytes], tuple[int, Any]]
# method, path, query string, headers -> a future slot for an invocation to gate, or None
InvokeGate = Callable[[str, str, str, dict[str, str]], "Future[Ticket] | None"]
# method, path, query string, headers, body -> a refusal to answer instead (status, headers, body), or None
Authorizer = Callable[[str, str, str, dict[str, str], bytes], "tuple[int, list[tuple[str, str]], bytes] | None"]


class InSection:
    """A WSGI app whose every request runs, its body included, inside ``section()`` (the snapshot
    gate's shared section: a snapshot never sees a request half-applied)."""

    def __init__(self, app: WsgiApp, section: Callable[[], AbstractContextManager[Any]]):
        self.app, self.section = app, section

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self.section():
            result = self.app(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                getattr(result, "close", lambda: None)()


def _environ(scope: Scope, body: bytes) -> dict[str, Any]:
    """The WSGI environ (PEP 3333) for one ASGI HTTP request."""
    server = scope.get("server") or ("127.0.0.1", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": "",
        "PATH_INFO": scope["path"],
        "QUERY_STRING": scope["query_string"].decode("latin-1"),
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope['http_version']}",
        "REMOTE_ADDR": (scope.get("client") or ("", 0))[0],
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").upper().replace("-", "_"), raw_value.decode("latin-1")
        if name == "CONTENT_LENGTH":
            continue
        key = name if name == "CONTENT_TYPE" else f"HTTP_{name}"
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def _call_wsgi(app: WsgiApp, environ: dict[str, Any], ticket: Ticket | None = None) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    started: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        started["status"], started["headers"] = status, headers
        return lambda chunk: None

    with admitted(ticket):
        result = app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
    headers = [(k.encode("latin-1"), str(v).encode("latin-1")) for k, v in started["headers"]]
    return int(started["status"].split(" ", 1)[0]), headers, body


async def _read_body(receive: Callable[[], Awaitable[dict[str, Any]]]) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _respond(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Front:
    """The ASGI app: control API on the loop, gated invocations, everything else to moto in a pool."""

    def __init__(
        self,
        api: WsgiApp,
        *,
        threads: int,
        control: ControlHandler | None = None,
        gate: InvokeGate | None = None,
        release: Callable[[Ticket], None] | None = None,
        name: str = "api",
        authorize: Authorizer | None = None,
    ):
        self.api, self.control, self.gate, self.release, self.authorize = api, control, gate, release, authorize
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix=name)
        # Running invocations hold a thread for as long as the function runs; they
        # get their own pool so they never take one from plain API calls.
        self.invoke_pool = ThreadPoolExecutor(64, thread_name_prefix=f"{name}-invoke") if gate else None

    async def __call__(self, scope: Scope, receive: Any, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        method, path, query = scope["method"], scope["path"], scope["query_string"].decode("latin-1")
        loop = asyncio.get_running_loop()
        if self.control and path.startswith("/_sandbox/"):
            status, payload = self.control(method, path.removeprefix("/_sandbox/"), query, body)
            await _respond(send, status, [(b"content-type", b"application/json")], json.dumps(payload, default=str).encode())
            return
        slot = None
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.authorize:  # on the loop: a dictionary look-up for anyone but a function
            refusal = self.authorize(method, path, query, headers, body)
            if refusal is not None:
                status, refusal_headers, refusal_body = refusal
                await _respond(send, status, [(k.encode(), v.encode()) for k, v in refusal_headers], refusal_body)
                return
        if self.gate:
            try:
                slot = self.gate(method, path, query, headers)
            except Throttled as throttled:
                await _respond(send, 429, [(k.lower().encode(), v.encode()) for k, v in throttled.headers()], throttled.body())
                return
        if slot is None:
            await _respond(send, *await loop.run_in_executor(self.pool, _call_wsgi, self.api, _environ(scope, body)))
            return
        ticket = await _await_slot(slot, self.release)
        try:
            reply = await loop.run_in_executor(self.invoke_pool, _call_wsgi, self.api, _environ(scope, body), ticket)
        finally:
            if self.release:
                self.release(ticket)
        await _respond(send, *reply)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        if self.invoke_pool:
            self.invoke_pool.shutdown(wait=False, cancel_futures=True)


async def _await_slot(slot: Future[Ticket], release: Callable[[Ticket], None] | None) -> Ticket:
    try:
        return await asyncio.wrap_future(slot)
    except asyncio.CancelledError:
        # Cancelled after the slot was granted (shutdown): give it back.
        if slot.done() and not slot.cancelled() and slot.exception() is None and release:
            release(slot.result())
        raise


class Listener:
    """One uvicorn server on its own thread and event loop, bound to one socket."""

    def __init__(self, app: Front, host: str, port: int, name: str):
        self.app, self.name = app, name
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit it: without it each response (headers, then
        # body) waited ~40 ms for the client's delayed ACK on a kept-alive connection.
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.socket.bind((host, port))
        self.host, self.port = self.socket.getsockname()[:2]
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            http="httptools",
            loop="asyncio",
            timeout_keep_alive=KEEP_ALIVE_S,
            backlog=2048,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, name=name, daemon=True)

    def start(self, timeout_s: float = 10.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the {self.name} listener on {self.host}:{self.port} did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.app.close()
        self.socket.close()

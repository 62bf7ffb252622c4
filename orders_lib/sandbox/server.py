"""The sandbox process: moto's AWS APIs on 127.0.0.1, our Lambda runtime and the
event source mappings, plus a small control API under ``/_sandbox/``.

Two listeners, each with its own threads: the public one (clients: CLI,
notebooks, tests) and an internal one on a free port that only the functions
(their ``AWS_ENDPOINT_URL``) and the sandbox's own calls use, so no number of
clients can starve the calls a running function makes. See ``listener`` for
why invocations wait without holding a thread, and ``capacity`` for the rule.

``python -m orders_lib.sandbox serve`` runs it in the foreground; ``orders
sandbox start`` runs that in the background (see ``control``).
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import boto3
from moto.awslambda.models import lambda_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.cloudwatch.models import cloudwatch_backends
from moto.logs.models import logs_backends
from moto.sqs.models import sqs_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from ..aws.clients import client
from ..settings import Settings
from . import moto_hooks
from orders_lib.sandbox.lambda_.invocation.capacity import Capacity, Limits, Throttled
from .chaos import Chaos
from orders_lib.sandbox.cloudwatch.service import DEFAULT_INTERVAL_S as ALARM_INTERVAL_S
from orders_lib.sandbox.cloudwatch.service import SandboxCloudWatch
from orders_lib.sandbox.lambda_.event_source_mapping.shard_poller import InvokeResult, MappingConfig, ShardPoller
from .iam.enforce import Guard, Mode
from .iam.moto_roles import role_source
from orders_lib.sandbox.lambda_.event_source_mapping.authorized_reader import AuthorizedReader
from orders_lib.sandbox.lambda_.invocation.invoker import Invocations
from orders_lib.sandbox.http.listener import Front, Listener
from orders_lib.sandbox.lambda_.invocation.runtime import LambdaRuntime
from orders_lib.sandbox.dynamodb.streams import MotoStreamReader
from orders_lib.sandbox.dynamodb.ttl import DEFAULT_INTERVAL_S, SandboxClock, TtlSweeper, parse_duration

LOG = logging.getLogger(__name__)
SYNC_INTERVAL_S = 0.5
# Threads for plain API calls on each listener, made as needed. Most calls are
# short; an SQS long poll (WaitTimeSeconds) holds its thread while it waits.
API_THREADS = 64


class Sandbox:
    def __init__(
        self,
        state_dir: Path,
        host: str = "127.0.0.1",
        port: int = 4566,
        region: str = "us-east-1",
        limits: Limits | None = None,
        ttl_interval_s: float = DEFAULT_INTERVAL_S,
        iam: Mode | str = Mode.ENFORCE,
        alarm_interval_s: float = ALARM_INTERVAL_S,
    ):
        self.state_dir, self.host, self.port, self.region = Path(state_dir).resolve(), host, port, region
        self.account = DEFAULT_ACCOUNT_ID
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.chaos = Chaos()
        self.status: dict[str, Any] = {"status": "starting"}
        self.cloudwatch = SandboxCloudWatch(
            self.account,
            region,
            publish=functools.partial(moto_hooks.publish_past_chaos, self.account, region),
            alarms=lambda: list(cloudwatch_backends[self.account][region].alarms.values()),
            queues=self._queue_depths,
            interval_s=alarm_interval_s,
        )
        self.capacity = Capacity(limits, on_throttle=self.cloudwatch.throttle)
        self.guard = Guard(self.account, region, role_source(self.account, region), iam)
        self.runtime = LambdaRuntime(
            self.state_dir,
            "",
            region,
            self._write_logs,
            self.chaos,
            max_workers=self.capacity.limits.max_workers,
            credentials=self.guard.identities.credentials,
            observer=self._invoked,
        )
        self.invocations = Invocations(self.runtime, self.capacity)
        self.clock = SandboxClock()
        self.ttl = TtlSweeper(self.account, region, self.clock, ttl_interval_s)
        self._listeners: list[Listener] = []
        self.internal_port = 0
        self._stop = threading.Event()
        self._pollers: dict[str, tuple[MappingConfig, list[ShardPoller], threading.Event, list[threading.Thread]]] = {}
        self._pollers_lock = threading.Lock()
        self._function_clients: dict[tuple[str, str], Any] = {}

    @property
    def endpoint(self) -> str:
        # "localhost", not 127.0.0.1: moto reads S3 URLs as bucket-in-path only for localhost.
        return f"http://localhost:{self.port}"

    @property
    def internal_endpoint(self) -> str:
        """Where the functions and the sandbox itself send their AWS calls."""
        return f"http://localhost:{self.internal_port}"

    def client(self, service: str) -> Any:
        """The project's client factory, pointed at the internal listener (deploys, on-failure records)."""
        return client(service, Settings(target="sandbox", region=self.region, endpoint_url=f"http://{self.host}:{self.internal_port}"))

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        moto_hooks.install(self)
        backend_app = DomainDispatcherApplication(create_backend_app)
        public = Front(
            backend_app,
            threads=API_THREADS,
            control=self._control,
            gate=self._gate_invoke,
            release=self.capacity.release,
            name="api",
            authorize=self.guard.check_http,
        )
        internal = Front(
            backend_app,
            threads=API_THREADS,
            gate=self._gate_invoke,
            release=self.capacity.release,
            name="fn-api",
            authorize=self.guard.check_http,
        )
        self._listeners = [Listener(public, self.host, self.port, "http"), Listener(internal, self.host, 0, "http-functions")]
        for listener in self._listeners:
            listener.start()
        self.port, self.internal_port = self._listeners[0].port, self._listeners[1].port
        self.runtime.endpoint_url = self.internal_endpoint
        threading.Thread(target=self._supervise, name="mappings", daemon=True).start()
        threading.Thread(target=self.ttl.run, args=(self._stop,), name="ttl", daemon=True).start()
        threading.Thread(target=self.cloudwatch.run, args=(self._stop,), name="alarms", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        self.ttl.wake.set()
        with self._pollers_lock:
            for _, _, stop, threads in self._pollers.values():
                stop.set()
            pollers = list(self._pollers.values())
            self._pollers.clear()
        for _, _, _, threads in pollers:
            for thread in threads:
                thread.join(timeout=5)
        self.invocations.close()
        self.runtime.shutdown()
        for listener in self._listeners:
            listener.stop()
        moto_hooks.uninstall()

    # -- HTTP hooks: the control API and the invocation gate -------------------------------
    def _control(self, method: str, path: str, query: str, body: bytes) -> tuple[int, Any]:
        """``/_sandbox/<path>``, answered on the event loop: it must stay quick and never block."""
        args = {key: values[0] for key, values in parse_qs(query).items()}
        try:
            changes = (json.loads(body) if body else {}) if method == "POST" else None
            if changes is not None and not isinstance(changes, dict):
                raise ValueError("the body must be a JSON object")
            if path == "health":
                return 200, self.status
            if path == "chaos":
                if changes is not None:
                    self.chaos.reset() if changes.pop("reset", False) else None
                    self.chaos.update(changes)
                return 200, self.chaos.to_dict()
            if path == "capacity":
                if changes is not None:
                    limits = self.capacity.set_limits(changes.pop("max_workers", None), changes.pop("max_queue", None))
                    self.runtime.max_workers = limits.max_workers
                    if changes:
                        raise ValueError(f"unknown capacity settings: {sorted(changes)}")
                return 200, self.capacity.snapshot()
            if path == "clock":
                if changes is not None:
                    self.clock.reset() if changes.pop("reset", False) else None
                    self.clock.advance(parse_duration(str(changes.pop("advance", "0"))))
                    if changes:
                        raise ValueError(f"unknown clock settings: {sorted(changes)}")
                    self.ttl.wake.set()  # sweep now, not at the next interval
                return 200, {**self.clock.to_dict(), "ttl_interval_s": self.ttl.interval_s, "ttl_deleted": self.ttl.deleted}
            if path == "iam":
                if changes is not None:
                    self.guard.reset() if changes.pop("reset", False) else None
                    self.guard.set_mode(changes.pop("mode", self.guard.mode))
                    if changes:
                        raise ValueError(f"unknown IAM settings: {sorted(changes)}")
                if "function" in args:  # to try a call as the function makes it (tests, troubleshooting)
                    return 200, {**self.guard.snapshot(), "credentials": self.guard.identities.credentials(args["function"])}
                return 200, self.guard.snapshot()
            if path == "workers":
                return 200, {"pids": self.runtime.worker_pids(args.get("function"))}
            if path == "mappings":
                return 200, self.mapping_stats()
            return 404, {"error": f"unknown control path {path!r}"}
        except (ValueError, TypeError) as error:
            return 400, {"error": str(error)}

    def _gate_invoke(self, method: str, path: str, query: str, headers: dict[str, str]) -> Any:
        """A future slot for a synchronous ``Invoke``; ``Throttled`` past the function's limit."""
        function = moto_hooks.invoke_target(self.account, self.region, method, path, query, headers)
        if function is None:
            return None
        return self.capacity.request(function.function_name, "sync", moto_hooks.function_reserved(function))

    # -- logs ----------------------------------------------------------------------------
    def _write_logs(self, function: str, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        """The runtime's log writes, under the function's role: without ``logs:CreateLogGroup`` (for a
        group that does not exist yet), ``logs:CreateLogStream`` or ``logs:PutLogEvents`` the lines
        are lost without a word to the function, as on AWS (the refusal is in the sandbox's log)."""
        logs = logs_backends[self.account][self.region]
        group_arn = f"arn:aws:logs:{self.region}:{self.account}:log-group:{group}"
        stream_arn = f"{group_arn}:log-stream:{stream}"
        if group not in logs.groups:
            if self.guard.refuses(function, "logs:CreateLogGroup", group_arn):
                return
            logs.ensure_log_group(group)
        if stream not in logs.groups[group].streams:
            if self.guard.refuses(function, "logs:CreateLogStream", stream_arn):
                return
            logs.create_log_stream(group, stream)
        if self.guard.refuses(function, "logs:PutLogEvents", stream_arn):
            return
        self.cloudwatch.log_lines(message for _, message in events)  # embedded metrics, once ingested
        logs.put_log_events(group, stream, [{"timestamp": ts, "message": message} for ts, message in events])

    # -- event source mappings ----------------------------------------------------------
    def stream_written(self, table_name: str) -> None:
        """Called by moto on every stream write: wake the pollers of that table."""
        marker = f":table/{table_name}/stream/"
        with self._pollers_lock:
            for config, pollers, _, _ in self._pollers.values():
                if marker in config.stream_arn:
                    for poller in pollers:
                        poller.wake.set()

    def _invoke(self, function_arn: str, event: dict[str, Any]) -> InvokeResult:
        function = lambda_backends[self.account][self.region].get_function(function_arn)
        try:
            result = self.invocations.sync(moto_hooks.function_spec(function), json.dumps(event), moto_hooks.function_reserved(function))
        except Throttled as throttled:
            return InvokeResult("", None, throttled=throttled.reason)
        try:
            payload = json.loads(result.payload) if result.payload else None
        except ValueError:
            payload = None
        return InvokeResult(result.request_id, payload, result.function_error)

    def _invoked(self, function: str, duration_ms: float, error: bool, running: int) -> None:
        self.cloudwatch.invocation(function, duration_ms, error)
        self.cloudwatch.concurrency(function, running)

    def _queue_depths(self) -> list[tuple[str, int]]:
        return [(name, queue.approximate_number_of_messages) for name, queue in sqs_backends[self.account][self.region].queues.items()]

    def _function_client(self, function: str, service: str) -> Any:
        """A client signed with ``function``'s credentials, so the call runs under its role."""
        key = (function, service)
        if key not in self._function_clients:
            credentials = self.guard.identities.credentials(function)
            self._function_clients[key] = boto3.session.Session().client(
                service,
                region_name=self.region,
                endpoint_url=f"http://{self.host}:{self.internal_port}",
                aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
                aws_session_token=credentials["AWS_SESSION_TOKEN"],
            )
        return self._function_clients[key]

    def _send_failure(self, function_arn: str, destination_arn: str, record: dict[str, Any]) -> None:
        """The on-failure record, sent as Lambda sends it: with the function's execution role."""
        service, account, name = destination_arn.split(":")[2], destination_arn.split(":")[4], destination_arn.split(":")[5]
        function = function_arn.split(":")[6]
        if service == "sqs":
            url = f"http://{self.host}:{self.internal_port}/{account}/{name}"
            self._function_client(function, "sqs").send_message(QueueUrl=url, MessageBody=json.dumps(record))
        elif service == "sns":
            self._function_client(function, "sns").publish(TopicArn=destination_arn, Message=json.dumps(record))
        else:
            LOG.error("on-failure destination %s is not SQS or SNS; record dropped", destination_arn)

    def _supervise(self) -> None:
        while not self._stop.wait(SYNC_INTERVAL_S):
            try:
                self.sync_mappings()
            except Exception:  # noqa: BLE001 - keep supervising; the cause is logged
                LOG.exception("syncing event source mappings failed")

    def sync_mappings(self) -> None:
        backend = lambda_backends[self.account][self.region]
        wanted = {}
        for esm in backend.list_event_source_mappings(event_source_arn=None, function_name=None):  # type: ignore[arg-type]
            config = MappingConfig.from_api(esm.get_configuration())
            if ":dynamodb:" in config.stream_arn and config.enabled:
                wanted[config.uuid] = config
        with self._pollers_lock:
            for uuid_, (config, _, stop, _) in list(self._pollers.items()):
                if wanted.get(uuid_) != config:
                    stop.set()
                    del self._pollers[uuid_]
            for uuid_, config in wanted.items():
                if uuid_ not in self._pollers:
                    self._pollers[uuid_] = self._start_pollers(config)

    def _start_pollers(self, config: MappingConfig) -> tuple[MappingConfig, list[ShardPoller], threading.Event, list[threading.Thread]]:
        function = config.function_arn.split(":")[6]
        reader = AuthorizedReader(MotoStreamReader(self.account, self.region), self.guard, function)
        stop = threading.Event()
        send_failure = functools.partial(self._send_failure, config.function_arn)
        observe_age = functools.partial(self.cloudwatch.iterator_age, function)
        pollers = [
            ShardPoller(config, shard, reader, self._invoke, send_failure, region=self.region, observe_age=observe_age)
            for shard in reader.shard_ids(config.stream_arn)
        ]
        threads = [threading.Thread(target=p.run, args=(stop,), name=f"esm-{config.uuid[:8]}", daemon=True) for p in pollers]
        for thread in threads:
            thread.start()
        return config, pollers, stop, threads

    def mapping_stats(self) -> dict[str, Any]:
        with self._pollers_lock:
            return {
                uuid_: {
                    "function": config.function_arn,
                    "shards": [dict(vars(p.stats), shard=p.shard_id, checkpoint=p.checkpoint, pending=p.pending) for p in pollers],
                }
                for uuid_, (config, pollers, _, _) in self._pollers.items()
            }

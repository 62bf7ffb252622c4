"""The sandbox process: moto's AWS APIs on 127.0.0.1, our Lambda runtime and the
event source mappings, plus a small control API under ``/_sandbox/``.

``python -m orders_lib.sandbox serve`` runs it in the foreground; ``orders
sandbox start`` runs that in the background (see ``control``).
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

from moto.awslambda.models import lambda_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.logs.models import logs_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from waitress.server import create_server
from werkzeug.wrappers import Request, Response

from ..aws.clients import client
from ..settings import Settings
from . import moto_hooks
from .chaos import Chaos
from .event_source import InvokeResult, MappingConfig, ShardPoller
from .runtime import LambdaRuntime
from .streams import MotoStreamReader

LOG = logging.getLogger(__name__)
SYNC_INTERVAL_S = 0.5
# Request threads. A function invocation holds one while the function's own AWS
# calls need others, so this must stay well above the runtime's worker count.
HTTP_THREADS = 48


class Sandbox:
    def __init__(self, state_dir: Path, host: str = "127.0.0.1", port: int = 4566, region: str = "us-east-1"):
        self.state_dir, self.host, self.port, self.region = Path(state_dir).resolve(), host, port, region
        self.account = DEFAULT_ACCOUNT_ID
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.chaos = Chaos()
        self.status: dict[str, Any] = {"status": "starting"}
        self.runtime = LambdaRuntime(self.state_dir, self.endpoint, region, self._write_logs, self.chaos)
        self._server: Any = None
        self._stop = threading.Event()
        self._pollers: dict[str, tuple[MappingConfig, list[ShardPoller], threading.Event, list[threading.Thread]]] = {}
        self._pollers_lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        # "localhost", not 127.0.0.1: moto reads S3 URLs as bucket-in-path only for localhost.
        return f"http://localhost:{self.port}"

    def client(self, service: str) -> Any:
        """The project's client factory, pointed at this sandbox (deploys, on-failure records)."""
        return client(service, Settings(target="sandbox", region=self.region, endpoint_url=f"http://{self.host}:{self.port}"))

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        moto_hooks.install(self)
        backend_app = DomainDispatcherApplication(create_backend_app)
        # waitress rather than werkzeug's development server: it keeps HTTP/1.1
        # connections alive (werkzeug closes every one) and sets TCP_NODELAY, which
        # took a third off each API call's latency here.
        self._server = create_server(self._app(backend_app), host=self.host, port=self.port, threads=HTTP_THREADS,
                                     channel_timeout=300, ident="orders-sandbox", clear_untrusted_proxy_headers=True)
        self.port = int(self._server.effective_port)
        self.runtime.endpoint_url = self.endpoint
        threading.Thread(target=self._server.run, name="http", daemon=True).start()
        threading.Thread(target=self._supervise, name="mappings", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        with self._pollers_lock:
            for _, _, stop, threads in self._pollers.values():
                stop.set()
            pollers = list(self._pollers.values())
            self._pollers.clear()
        for _, _, _, threads in pollers:
            for thread in threads:
                thread.join(timeout=5)
        self.runtime.shutdown()
        if self._server:
            self._server.close()
        moto_hooks.uninstall()

    # -- control API -------------------------------------------------------------------
    def _app(self, backend_app: Any) -> Any:
        def app(environ: dict[str, Any], start_response: Any) -> Any:
            if not environ.get("PATH_INFO", "").startswith("/_sandbox/"):
                return backend_app(environ, start_response)
            return self._control(Request(environ))(environ, start_response)

        return app

    def _control(self, request: Request) -> Response:
        path = request.path.removeprefix("/_sandbox/")
        try:
            if path == "health":
                body: Any = self.status
            elif path == "chaos" and request.method == "POST":
                changes = request.get_json(force=True) or {}
                self.chaos.reset() if changes.pop("reset", False) else None
                self.chaos.update(changes)
                body = self.chaos.to_dict()
            elif path == "chaos":
                body = self.chaos.to_dict()
            elif path == "workers":
                body = {"pids": self.runtime.worker_pids(request.args.get("function"))}
            elif path == "mappings":
                body = self.mapping_stats()
            else:
                return Response(json.dumps({"error": f"unknown control path {path!r}"}), 404, mimetype="application/json")
        except (ValueError, TypeError) as error:
            return Response(json.dumps({"error": str(error)}), 400, mimetype="application/json")
        return Response(json.dumps(body, default=str), 200, mimetype="application/json")

    # -- logs ----------------------------------------------------------------------------
    def _write_logs(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        logs = logs_backends[self.account][self.region]
        logs.ensure_log_group(group)
        if stream not in logs.groups[group].streams:
            logs.create_log_stream(group, stream)
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
        result = self.runtime.invoke(moto_hooks.function_spec(function), json.dumps(event))
        try:
            payload = json.loads(result.payload) if result.payload else None
        except ValueError:
            payload = None
        return InvokeResult(result.request_id, payload, result.function_error)

    def _send_failure(self, destination_arn: str, record: dict[str, Any]) -> None:
        service, name = destination_arn.split(":")[2], destination_arn.split(":")[5]
        if service == "sqs":
            url = self.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
            self.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps(record))
        elif service == "sns":
            self.client("sns").publish(TopicArn=destination_arn, Message=json.dumps(record))
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
        reader = MotoStreamReader(self.account, self.region)
        stop = threading.Event()
        pollers = [
            ShardPoller(config, shard, reader, self._invoke, self._send_failure, region=self.region)
            for shard in reader.shard_ids(config.stream_arn)
        ]
        threads = [threading.Thread(target=p.run, args=(stop,), name=f"esm-{config.uuid[:8]}", daemon=True) for p in pollers]
        for thread in threads:
            thread.start()
        return config, pollers, stop, threads

    def mapping_stats(self) -> dict[str, Any]:
        with self._pollers_lock:
            return {
                uuid_: {"function": config.function_arn, "shards": [dict(vars(p.stats), shard=p.shard_id, checkpoint=p.checkpoint, pending=p.pending) for p in pollers]}
                for uuid_, (config, pollers, _, _) in self._pollers.items()
            }

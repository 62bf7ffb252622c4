"""The sandbox process, assembled: moto's AWS APIs on 127.0.0.1, the services' extensions in
their packages, and the threads that run them. This module wires the parts together; none of
them imports it.

Two listeners, each with its own threads (``http``): the public one (clients: CLI, notebooks,
tests) and an internal one on a free port that only the functions (their ``AWS_ENDPOINT_URL``)
and the sandbox's own calls use, so no number of clients can starve the calls a running
function makes.

``python -m orders_lib.sandbox serve`` runs it in the foreground; ``orders sandbox start`` runs
that in the background (see ``control``).
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.sqs.models import sqs_backends

from orders_lib.aws.clients import client
from orders_lib.sandbox import moto_core
from orders_lib.sandbox.chaos import Chaos
from orders_lib.sandbox.cloudformation import moto_patches as cloudformation_patches
from orders_lib.sandbox.cloudwatch import moto_patches as cloudwatch_patches
from orders_lib.sandbox.cloudwatch.service import DEFAULT_INTERVAL_S as ALARM_INTERVAL_S
from orders_lib.sandbox.cloudwatch.service import SandboxCloudWatch
from orders_lib.sandbox.dynamodb import moto_patches as dynamodb_patches
from orders_lib.sandbox.dynamodb.retention import StreamRetention
from orders_lib.sandbox.dynamodb.streams import MotoStreamReader
from orders_lib.sandbox.dynamodb.ttl import DEFAULT_INTERVAL_S, SandboxClock, TtlSweeper
from orders_lib.sandbox.dynamodb.wsgi import DirectDynamoDB
from orders_lib.sandbox.http.control_api import ControlApi
from orders_lib.sandbox.http.listener import Front, InSection, Listener
from orders_lib.sandbox.iam.enforce import Guard, Mode
from orders_lib.sandbox.iam.moto_roles import role_source
from orders_lib.sandbox.lambda_ import moto_patches as lambda_patches
from orders_lib.sandbox.lambda_.event_source_mapping import moto_patches as event_source_mapping_patches
from orders_lib.sandbox.lambda_.event_source_mapping.authorized_reader import AuthorizedReader
from orders_lib.sandbox.lambda_.event_source_mapping.destinations import OnFailureDestinations
from orders_lib.sandbox.lambda_.event_source_mapping.lambda_sender import LambdaSender
from orders_lib.sandbox.lambda_.event_source_mapping.supervisor import MappingSupervisor
from orders_lib.sandbox.lambda_.invocation.capacity import Capacity, Limits
from orders_lib.sandbox.lambda_.invocation.invoker import Invocations
from orders_lib.sandbox.lambda_.invocation.runtime import LambdaRuntime
from orders_lib.sandbox.logs import moto_patches as logs_patches
from orders_lib.sandbox.logs.function_logs import FunctionLogs
from orders_lib.sandbox.logs.retention import LogRetention
from orders_lib.sandbox.persistence.gate import StateGate
from orders_lib.sandbox.persistence.snapshots import DEFAULT_INTERVAL_S as SNAPSHOT_INTERVAL_S
from orders_lib.sandbox.persistence.snapshots import Snapshots
from orders_lib.sandbox.sns import moto_patches as sns_patches
from orders_lib.sandbox.sqs import moto_patches as sqs_patches
from orders_lib.sandbox.ssm import public_parameters
from orders_lib.settings import Settings

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
        persist: bool = True,
        restore: bool = True,
        strict: bool = False,
        snapshot_interval_s: float = SNAPSHOT_INTERVAL_S,
    ):
        """``persist``: keep the state in ``state_dir`` (snapshots every ``snapshot_interval_s``
        while it changes, and on stop); ``restore``: start from the snapshot there (``strict``:
        refuse to start if it cannot be loaded, instead of moving it aside and starting empty)."""
        self.state_dir, self.host, self.port, self.region = Path(state_dir).resolve(), host, port, region
        self.account = account = DEFAULT_ACCOUNT_ID
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.gate = StateGate()
        self.restore, self.strict, self.restored = restore, strict, False
        self.deployed_fingerprint: str | None = None  # the sources the stack in this state was deployed from
        self._deploying: dict[str, Any] = {}
        self.chaos = Chaos()
        self.status: dict[str, Any] = {"status": "starting"}
        self.cloudwatch = SandboxCloudWatch(
            account,
            region,
            publish=functools.partial(sns_patches.publish_as_service, account, region),
            alarms=lambda: list(cloudwatch_backends[account][region].alarms.values()),
            queues=lambda: [(name, q.approximate_number_of_messages) for name, q in sqs_backends[account][region].queues.items()],
            interval_s=alarm_interval_s,
            section=self.gate.shared,
        )
        self.capacity = Capacity(limits, on_throttle=self.cloudwatch.throttle)
        self.guard = Guard(account, region, role_source(account, region), iam)
        self.logs = FunctionLogs(account, region, refuses=self.guard.refuses, ingested=self.cloudwatch.log_lines, section=self.gate.shared)
        self.runtime = LambdaRuntime(
            self.state_dir,
            "",
            region,
            self.logs.write,
            self.chaos,
            max_workers=self.capacity.limits.max_workers,
            credentials=self.guard.identities.credentials,
            observer=self._invoked,
        )
        self.invocations = Invocations(self.runtime, self.capacity)
        self.clock = SandboxClock()
        self.stream_retention = StreamRetention(account, region)
        self.log_retention = LogRetention(account, region)
        self.ttl = TtlSweeper(account, region, self.clock, ttl_interval_s, housekeeping=self._retention, section=self.gate.shared)
        self.destinations = OnFailureDestinations(region, lambda: self._own_endpoint, self.guard.identities.credentials)
        self.mappings = MappingSupervisor(
            account,
            region,
            reader_for=lambda function_arn: AuthorizedReader(MotoStreamReader(account, region), self.guard, function_arn.split(":")[6]),
            invoke=LambdaSender(account, region, self.invocations),
            send_failure=self.destinations.sender,
            observe_age=lambda function_arn: functools.partial(self.cloudwatch.iterator_age, function_arn.split(":")[6]),
        )
        self.snapshots = (
            Snapshots(self.state_dir, self.gate, self._own_state, locks=self.cloudwatch.locks, interval_s=snapshot_interval_s)
            if persist
            else None
        )
        self.control = ControlApi(
            status=self._status,
            chaos=self.chaos,
            capacity=self.capacity,
            runtime=self.runtime,
            clock=self.clock,
            ttl=self.ttl,
            guard=self.guard,
            mappings=self.mappings.stats,
            retention=self.stream_retention,
            snapshot=self._snapshot_soon if self.snapshots else None,
            deploy=self._deploy_soon,
        )
        self._listeners: list[Listener] = []
        self.internal_port = 0
        self._stop = threading.Event()
        self._uninstall: list[Callable[[], None]] = []

    @property
    def endpoint(self) -> str:
        # "localhost", not 127.0.0.1: moto reads S3 URLs as bucket-in-path only for localhost.
        return f"http://localhost:{self.port}"

    @property
    def internal_endpoint(self) -> str:
        """Where the functions send their AWS calls (their ``AWS_ENDPOINT_URL``)."""
        return f"http://localhost:{self.internal_port}"

    @property
    def _own_endpoint(self) -> str:
        """Where the sandbox sends its own calls (deploys, on-failure records): the internal listener."""
        return f"http://{self.host}:{self.internal_port}"

    def client(self, service: str) -> Any:
        """The project's client factory, pointed at the internal listener (deploys)."""
        return client(service, Settings(target="sandbox", region=self.region, endpoint_url=self._own_endpoint))

    def sync_mappings(self) -> None:
        """Start the pollers of mappings made just now (a deploy), without waiting for the next sync."""
        self.mappings.sync()

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        self._install_patches()
        if self.snapshots and self.restore:  # after the patches, before anything is served
            own = self.snapshots.restore(strict=self.strict)
            if own is not None:
                self._load_own_state(own)
                self.restored = True
        public_parameters.add_to(self.account, self.region)  # the Powertools layer parameter the stack reads
        backend_app = InSection(DirectDynamoDB(DomainDispatcherApplication(create_backend_app)), self.gate.shared)
        public = Front(
            backend_app,
            threads=API_THREADS,
            control=self.control,
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
        loops = [("mappings", self.mappings.run), ("ttl", self.ttl.run), ("alarms", self.cloudwatch.run)]
        if self.snapshots:
            loops.append(("snapshots", self.snapshots.run))
        for name, run in loops:
            threading.Thread(target=run, args=(self._stop,), name=name, daemon=True).start()

    def _install_patches(self) -> None:
        """Each service's changes to moto, in the order they depend on nothing but moto."""
        installs: list[tuple[Callable[[], None], Callable[[], None]]] = [
            (moto_core.install, moto_core.uninstall),
            (lambda: lambda_patches.install(self.invocations, released=self.gate.released), lambda_patches.uninstall),
            (event_source_mapping_patches.install, event_source_mapping_patches.uninstall),
            (lambda: dynamodb_patches.install(self.mappings.stream_written, now=self.clock.now), dynamodb_patches.uninstall),
            (lambda: sns_patches.install(self.chaos), sns_patches.uninstall),
            (lambda: sqs_patches.install(self.cloudwatch.messages_sent, released=self.gate.released), sqs_patches.uninstall),
            (logs_patches.install, logs_patches.uninstall),
            (cloudformation_patches.install, cloudformation_patches.uninstall),
            (lambda: cloudwatch_patches.install(self.cloudwatch), cloudwatch_patches.uninstall),
        ]
        for install, uninstall in installs:
            install()
            self._uninstall.append(uninstall)

    def stop(self) -> None:
        self._stop.set()
        self.ttl.wake.set()
        self.mappings.stop()
        self.invocations.close()
        self.runtime.shutdown()
        for listener in self._listeners:
            listener.stop()
        if self.snapshots:  # everything has stopped: the last cut is the state as it was left
            self.snapshots.take_in_process()
        while self._uninstall:
            self._uninstall.pop()()

    # -- state that lasts ------------------------------------------------------------
    def _status(self) -> dict[str, Any]:
        persistence = self.snapshots.status.to_dict() if self.snapshots else {"enabled": False}
        # The process's own CPU (every thread): the sandbox is one interpreter, so this is its one
        # core's use, which the capacity workbook divides by the orders of a run.
        process = {"pid": os.getpid(), "cpu_s": round(time.process_time(), 3)}
        return {**self.status, "persistence": persistence, "process": process, **({"deploy": self._deploying} if self._deploying else {})}

    def deploy(self) -> tuple[str, dict[str, str]]:
        """Deploy the stack from the current sources (create, or update in place); its name and outputs."""
        from orders_lib.deploy.synth import ROOT
        from orders_lib.sandbox.cloudformation.stack import deploy_into, fingerprint

        name, outputs = deploy_into(self)
        self.deployed_fingerprint = fingerprint(ROOT, None)
        return name, outputs

    def code_changed(self) -> bool:
        """Whether the sources differ from those the stack in this (restored) state was deployed from."""
        from orders_lib.deploy.synth import ROOT
        from orders_lib.sandbox.cloudformation.stack import fingerprint

        return self.deployed_fingerprint is not None and self.deployed_fingerprint != fingerprint(ROOT, None)

    def _deploy_soon(self) -> dict[str, Any]:
        """``POST /_sandbox/deploy``: a deploy in the background; the health endpoint shows how it went."""
        if self._deploying.get("state") == "running":
            raise ValueError("a deploy is already running")
        self._deploying = {"state": "running"}

        def run() -> None:
            try:
                name, outputs = self.deploy()
                self.status.pop("warning", None)
                self.status["outputs"] = outputs
                self._deploying = {"state": "done", "stack": name, "outputs": outputs}
            except Exception as error:  # noqa: BLE001 - reported to the caller through the health endpoint
                self._deploying = {"state": "failed", "error": repr(error)}

        threading.Thread(target=run, name="deploy", daemon=True).start()
        return dict(self._deploying)

    def _retention(self, now: float) -> None:
        """What AWS deletes by age, at each TTL sweep: stream records (24 h), log events (their group's retention)."""
        self.stream_retention.sweep(now)
        self.log_retention.sweep(now)

    def _snapshot_soon(self) -> dict[str, Any]:
        """A snapshot now, off the event loop (the control API answers at once; health shows it)."""
        assert self.snapshots is not None
        before = self.snapshots.status.to_dict()
        threading.Thread(target=self.snapshots.take_forked, name="snapshot-now", daemon=True).start()
        return {"requested": True, "snapshots": before["snapshots"], "failures": before["failures"], "skipped_busy": before["skipped_busy"]}

    def _own_state(self) -> dict[str, Any]:
        """What a snapshot keeps besides moto's backends (taken inside the cut)."""
        return {
            "clock_offset_s": self.clock.offset_s,
            "cloudwatch": self.cloudwatch.export(),
            "mappings": self.mappings.resume_points(),
            "ttl_deleted": self.ttl.deleted,
            "deployed_fingerprint": self.deployed_fingerprint,
            "stream_retention": {"trimmed": self.stream_retention.trimmed, "expired_iterators": self.stream_retention.expired_iterators},
        }

    def _load_own_state(self, own: dict[str, Any]) -> None:
        self.clock.offset_s = float(own["clock_offset_s"])
        self.cloudwatch.load(own["cloudwatch"])
        self.mappings.resume_from(own["mappings"])
        self.ttl.deleted = int(own["ttl_deleted"])
        self.deployed_fingerprint = own.get("deployed_fingerprint")
        self.stream_retention.trimmed = int(own["stream_retention"]["trimmed"])
        self.stream_retention.expired_iterators = int(own["stream_retention"]["expired_iterators"])

    # -- wiring ----------------------------------------------------------------------
    def _gate_invoke(self, method: str, path: str, query: str, headers: dict[str, str]) -> Any:
        """A future slot for a synchronous ``Invoke``; ``Throttled`` past the function's limit."""
        function = lambda_patches.invoke_target(self.account, self.region, method, path, query, headers)
        if function is None:
            return None
        return self.capacity.request(function.function_name, "sync", lambda_patches.function_reserved(function))

    def _invoked(self, function: str, duration_ms: float, error: bool, running: int) -> None:
        self.cloudwatch.invocation(function, duration_ms, error)
        self.cloudwatch.concurrency(function, running)

"""Which pollers run: one ``ShardPoller`` per shard of every enabled DynamoDB-stream mapping.

The mappings are the ones moto's Lambda keeps (made by ``CreateEventSourceMapping`` or a
template); every half second they are compared with the running pollers, so a mapping that
is created, changed, disabled or deleted starts, restarts or stops its pollers. A changed or
re-enabled mapping carries on after the checkpoints of its stopped pollers, and only once they
have finished the batches they were running: no record is delivered twice by the change, and no
item is in two running batches, old and new. A table write wakes its stream's pollers at once
(``stream_written``), so a record does not wait for the next poll.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.awslambda.models import lambda_backends

from orders_lib.sandbox.lambda_.event_source_mapping.config import MappingConfig
from orders_lib.sandbox.lambda_.event_source_mapping.shard_poller import FailureSink, Invoker, ShardPoller, StreamReader

LOG = logging.getLogger(__name__)
SYNC_INTERVAL_S = 0.5


@dataclass
class _Running:
    config: MappingConfig
    pollers: list[ShardPoller]
    stop: threading.Event
    threads: list[threading.Thread]


class MappingSupervisor:
    def __init__(
        self,
        account: str,
        region: str,
        *,
        reader_for: Callable[[str], StreamReader],
        invoke: Invoker,
        send_failure: Callable[[str], FailureSink],
        observe_age: Callable[[str], Callable[[float], None]],
    ):
        """The callables give, for a function name or ARN, what its pollers use: the stream
        reader (under its role), the sender of on-failure records, the iterator-age metric."""
        self.account, self.region = account, region
        self._reader_for, self._invoke = reader_for, invoke
        self._send_failure, self._observe_age = send_failure, observe_age
        self._running: dict[str, _Running] = {}
        self._stopping: dict[str, _Running] = {}  # stopped, still finishing a batch: not restarted yet
        self._resume: dict[str, dict[str, dict[str, str | None]]] = {}  # mapping -> shard -> resume point
        self._lock = threading.Lock()

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(SYNC_INTERVAL_S):
            try:
                self.sync()
            except Exception:  # keep supervising; the cause is logged
                LOG.exception("syncing event source mappings failed")

    def sync(self) -> None:
        backend = lambda_backends[self.account][self.region]
        wanted, existing = {}, set()
        for esm in backend.list_event_source_mappings(event_source_arn=None, function_name=None):  # type: ignore[arg-type]
            existing.add(esm.uuid)
            config = MappingConfig.from_api(esm.get_configuration())
            if ":dynamodb:" in config.stream_arn and config.enabled:
                wanted[config.uuid] = config
        with self._lock:
            for uuid_, running in list(self._running.items()):
                if wanted.get(uuid_) != running.config:
                    running.stop.set()
                    for poller in running.pollers:
                        poller.wake.set()
                    self._stopping[uuid_] = running
                    del self._running[uuid_]
            for uuid_, stopping in list(self._stopping.items()):
                if not any(thread.is_alive() for thread in stopping.threads):
                    if uuid_ in existing:  # changed or disabled: it carries on from here when it runs again
                        self._resume[uuid_] = {p.shard_id: p.resume_point() for p in stopping.pollers}
                    else:
                        self._resume.pop(uuid_, None)  # deleted
                    del self._stopping[uuid_]
            for uuid_, config in wanted.items():
                if uuid_ not in self._running and uuid_ not in self._stopping:
                    self._running[uuid_] = self._start(config)

    def _start(self, config: MappingConfig) -> _Running:
        reader = self._reader_for(config.function_arn)
        pollers = [
            ShardPoller(
                config,
                shard,
                reader,
                self._invoke,
                self._send_failure(config.function_arn),
                region=self.region,
                observe_age=self._observe_age(config.function_arn),
                resume=self._resume.get(config.uuid, {}).get(shard),
            )
            for shard in reader.shard_ids(config.stream_arn)
        ]
        stop = threading.Event()
        threads = [threading.Thread(target=p.run, args=(stop,), name=f"esm-{config.uuid[:8]}", daemon=True) for p in pollers]
        for thread in threads:
            thread.start()
        return _Running(config, pollers, stop, threads)

    def stream_written(self, table_name: str) -> None:
        """Called on every stream write: wake the pollers of that table's stream."""
        marker = f":table/{table_name}/stream/"
        with self._lock:
            for running in self._running.values():
                if marker in running.config.stream_arn:
                    for poller in running.pollers:
                        poller.wake.set()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                uuid_: {
                    "function": running.config.function_arn,
                    "parallelization_factor": running.config.parallelization_factor,
                    "shards": [dict(vars(p.stats), shard=p.shard_id, checkpoint=p.checkpoint, pending=p.pending) for p in running.pollers],
                }
                for uuid_, running in self._running.items()
            }

    def resume_points(self) -> dict[str, dict[str, dict[str, str | None]]]:
        """Each running poller's ``resume_point``, by mapping and shard (kept in snapshots)."""
        with self._lock:
            points = {uuid_: dict(shards) for uuid_, shards in self._resume.items()}
            for uuid_, running in [*self._stopping.items(), *self._running.items()]:
                points[uuid_] = {p.shard_id: p.resume_point() for p in running.pollers}
            return points

    def resume_from(self, points: dict[str, dict[str, dict[str, str | None]]]) -> None:
        """Before the first sync after a restore: pollers then start where these left off."""
        with self._lock:
            self._resume = {uuid_: dict(shards) for uuid_, shards in points.items()}

    def stop(self, timeout_s: float = 5) -> None:
        with self._lock:
            running = [*self._stopping.values(), *self._running.values()]
            self._running.clear()
            self._stopping.clear()
        for mapping in running:
            mapping.stop.set()
        for mapping in running:
            for thread in mapping.threads:
                thread.join(timeout=timeout_s)
        with self._lock:  # where the stopped pollers got to: the snapshot taken after a stop keeps it
            for mapping in running:
                self._resume[mapping.config.uuid] = {p.shard_id: p.resume_point() for p in mapping.pollers}

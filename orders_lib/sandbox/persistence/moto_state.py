"""moto's state, every service at once, as one pickle: ``capture`` and ``restore``.

``capture`` takes every registry in use (``registries.in_use``: the ``BackendDict`` objects
moto itself lists as used, that hold a backend) and the sandbox's own ``extra`` in one
``Pickler.dump``. One pass, because backends share objects: a DynamoDB Streams iterator holds
its table's shard, an event source mapping its function, a CloudFormation stack the resources it
made, an STS assumed role the IAM access key it issued. Pickled apart, each would come back as
two objects, the stale one answering for the other.

``restore`` resets moto as ``mock_aws`` does between tests (``BackendDict.reset``: S3 closes
its keys' files, every registry empties), forgets the instances moto's models tracked
(``reset_model_data``, as ``mock_aws`` does when it stops), loads, and puts each backend into
the live registry of the same name. Everything moto answers from is in those registries: an
access key resolves to its account by a search of ``iam_backends`` (``moto.iam.models.
get_account_id_from``), STS's assumed roles are in ``sts_backends``, S3's bucket names in the
``s3_backends`` registry's own ``bucket_accounts``.

One thing moto keeps outside them that restored state depends on: CloudWatch Logs numbers every
log event from a counter on the ``LogEvent`` class (its ``eventId``, also the position a
``GetLogEvents`` or ``FilterLogEvents`` next token names). A new process counts from 0 again, so
new events would repeat the ids of restored ones; ``COUNTERS`` are captured and continued.

Call ``restore`` after the sandbox's patches are installed (``moto_core.install`` among them):
loading makes every model through ``BaseModel.__new__``, which moto's own version records in
its class's ``instances_tracked`` list and the sandbox's only for S3 (which reads that list
when it resets). Both capture and restore expect requests held back by the caller.
"""

from __future__ import annotations

import importlib
import pickle
import sys
from typing import Any, BinaryIO

from moto.core.base_backend import BackendDict
from moto.core.model_instances import reset_model_data

from orders_lib.sandbox.persistence import registries
from orders_lib.sandbox.persistence.reductions import StatePickler

PROTOCOL = 5
COUNTERS = (("moto.logs.models", "LogEvent", "_event_id"),)  # (module, class, attribute) moto counts on


def capture(file: BinaryIO, extra: dict[str, Any]) -> None:
    """Pickle every registry in use and ``extra`` (plain data) into ``file``, in one pass."""
    state = {name: registries.state_of(registry) for name, registry in registries.in_use().items()}
    counters = {where: getattr(getattr(sys.modules[where[0]], where[1]), where[2]) for where in COUNTERS if where[0] in sys.modules}
    StatePickler(file, PROTOCOL).dump({"registries": state, "counters": counters, "extra": extra})


def restore(file: BinaryIO) -> dict[str, Any]:
    """Replace moto's state with the one ``capture`` wrote to ``file``; returns its ``extra``.

    moto is reset before loading (a model may refer to a live registry, which must be the emptied
    one), so a payload that fails to load half-way leaves moto empty: restore into a sandbox just
    started, from a file whose header ``snapshot_file.open_payload`` has checked."""
    BackendDict.reset()
    reset_model_data()
    payload = pickle.load(file)
    for name, state in payload["registries"].items():
        registries.fill(registries.live(name), state)
    for (module, name, attribute), value in payload["counters"].items():
        owner = getattr(importlib.import_module(module), name)
        setattr(owner, attribute, max(getattr(owner, attribute), value))
    return payload["extra"]

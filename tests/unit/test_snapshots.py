"""When snapshots are taken and what a start does with one it cannot load."""

from __future__ import annotations

import json
import threading

import boto3
import pytest
from moto import mock_aws

from orders_lib.sandbox import moto_core
from orders_lib.sandbox.persistence import snapshot_file
from orders_lib.sandbox.persistence.gate import StateGate
from orders_lib.sandbox.persistence.snapshots import SNAPSHOT_FILE, Snapshots


@pytest.fixture
def moto():
    moto_core.install()
    try:
        with mock_aws():
            yield boto3.client("sqs", region_name="us-east-1")
    finally:
        moto_core.uninstall()


def _snapshots(tmp_path, own=None, interval_s=5.0):
    return Snapshots(tmp_path, StateGate(), lambda: dict(own or {"clock_offset_s": 60.0}), interval_s=interval_s)


def test_taken_in_process_and_forked_both_restore_the_same_state(moto, tmp_path):
    url = moto.create_queue(QueueName="kept")["QueueUrl"]
    moto.send_message(QueueUrl=url, MessageBody="one")
    snapshots = _snapshots(tmp_path)
    assert snapshots.take_in_process()
    moto.send_message(QueueUrl=url, MessageBody="two")
    assert snapshots.take_forked()  # the child writes; the parent waits here only because this is a test
    status = snapshots.status.to_dict()
    assert status["snapshots"] == 2 and status["failures"] == 0 and status["last_size_bytes"] > 0
    assert status["last_pause_ms"] is not None and status["max_pause_ms"] >= status["last_pause_ms"]
    moto.delete_queue(QueueUrl=url)
    assert _snapshots(tmp_path).restore() == {"clock_offset_s": 60.0}
    bodies = [m["Body"] for m in moto.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    assert sorted(bodies) == ["one", "two"]


def test_periodic_snapshots_only_when_something_changed(moto, tmp_path):
    snapshots = _snapshots(tmp_path, interval_s=0.05)
    stop = threading.Event()
    runner = threading.Thread(target=snapshots.run, args=(stop,))
    runner.start()
    try:
        with snapshots.gate.shared():  # a request
            moto.create_queue(QueueName="changed")
        for _ in range(100):
            if snapshots.status.snapshots:
                break
            stop.wait(0.05)
        stop.wait(0.3)  # several intervals with nothing changing
        assert snapshots.status.snapshots == 1
    finally:
        stop.set()
        runner.join(5)


def _rewrite_schema(path):
    magic, line, rest = path.read_bytes().split(b"\n", 2)
    path.write_bytes(magic + b"\n" + json.dumps({**json.loads(line), "schema": 999}).encode() + b"\n" + rest)


def test_a_snapshot_of_another_schema_is_moved_aside_and_the_start_is_empty(moto, tmp_path):
    moto.create_queue(QueueName="from-another-version")
    assert _snapshots(tmp_path).take_in_process()
    path = tmp_path / SNAPSHOT_FILE
    _rewrite_schema(path)
    with pytest.raises(snapshot_file.IncompatibleSnapshot, match="schema"):
        _snapshots(tmp_path).restore(strict=True)  # --strict: refused, left where it is
    assert path.exists()
    snapshots = _snapshots(tmp_path)
    assert snapshots.restore() is None
    assert not path.exists() and "schema" in snapshots.status.refused
    aside = list(tmp_path.glob(f"{SNAPSHOT_FILE}.refused-*"))
    assert len([p for p in aside if not p.name.endswith(".why")]) == 1


def test_no_snapshot_is_an_empty_start(tmp_path):
    assert _snapshots(tmp_path).restore() is None

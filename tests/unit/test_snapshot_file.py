"""The snapshot file: atomic replacement, a header checked before anything is unpickled, refused
files kept aside."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

import pytest

from orders_lib.sandbox.persistence import snapshot_file
from orders_lib.sandbox.persistence.snapshot_file import (
    MAGIC,
    SCHEMA_VERSION,
    IncompatibleSnapshot,
    SnapshotError,
    UnreadableSnapshot,
    move_aside,
    open_payload,
    read_header,
    write,
)


def payload(value):
    return lambda file: pickle.dump(value, file, protocol=5)


def test_a_written_snapshot_reads_back_with_its_header_and_payload(tmp_path):
    path = tmp_path / "moto.snapshot"
    info = write(path, payload({"orders": [1, 2]}), orders=2, services=["dynamodb"])
    assert info.path == path and info.size == path.stat().st_size and info.total_s >= info.fill_s >= 0
    header, file = open_payload(path)
    with file:
        assert pickle.load(file) == {"orders": [1, 2]}
    assert header.schema == SCHEMA_VERSION and header.fields == {"orders": 2, "services": ["dynamodb"]}
    assert header.moto == snapshot_file.moto_version() and header.python == snapshot_file.python_version()
    assert header.orders_lib and header.created > 0
    assert read_header(path) == header
    assert [p.name for p in tmp_path.iterdir()] == ["moto.snapshot"]


def test_a_fill_that_fails_midway_leaves_the_previous_snapshot_and_no_temporary_file(tmp_path):
    path = tmp_path / "moto.snapshot"
    write(path, payload("previous"))
    before = path.read_bytes()

    def crash(file):
        file.write(b"\x80\x05 half a pickle" * 10_000)
        raise RuntimeError("killed midway")

    with pytest.raises(RuntimeError, match="killed midway"):
        write(path, crash)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["moto.snapshot"]


def test_a_dead_writers_temporary_file_is_removed_by_the_next_write(tmp_path):
    path = tmp_path / "moto.snapshot"
    writer = subprocess.Popen([sys.executable, "-c", ""])
    writer.wait()
    (tmp_path / f".moto.snapshot.{writer.pid}.tmp").write_bytes(b"left by a crash")
    write(path, payload(1))
    assert [p.name for p in tmp_path.iterdir()] == ["moto.snapshot"]


def rewrite_header(path, **changes):
    magic, line, rest = path.read_bytes().split(b"\n", 2)
    header = {**json.loads(line), **changes}
    path.write_bytes(magic + b"\n" + json.dumps(header).encode() + b"\n" + rest)


@pytest.mark.parametrize(("field", "value"), [("schema", SCHEMA_VERSION + 1), ("moto", "5.2.4"), ("python", "3.10")])
def test_a_header_from_another_sandbox_is_incompatible_and_names_the_field(tmp_path, field, value):
    path = tmp_path / "moto.snapshot"
    write(path, payload(1))
    rewrite_header(path, **{field: value})
    for read in (read_header, open_payload):
        with pytest.raises(IncompatibleSnapshot) as refused:
            read(path)
        assert refused.value.fields == [field]
        assert field in str(refused.value) and repr(value) in str(refused.value) and str(path) in str(refused.value)
    assert read_header(path, check=False).fields == {}  # still shown when asked not to check


@pytest.mark.parametrize(
    "content",
    [
        b"",
        MAGIC[:5],
        b"\x80\x05not a snapshot at all",
        MAGIC + b'{"schema": 1, "moto": "5.2.5"',  # cut inside the header
        MAGIC + b"not json\n" + b"x",
        MAGIC + b'{"schema": 1}\n' + b"x",  # fields missing
    ],
)
def test_garbage_and_truncated_files_are_unreadable(tmp_path, content):
    path = tmp_path / "moto.snapshot"
    path.write_bytes(content)
    with pytest.raises(UnreadableSnapshot) as refused:
        open_payload(path)
    assert isinstance(refused.value, SnapshotError) and str(path) in str(refused.value)


def test_a_header_without_its_payload_is_unreadable(tmp_path):
    path = tmp_path / "moto.snapshot"
    write(path, lambda file: None)
    read_header(path)  # the header alone is sound
    with pytest.raises(UnreadableSnapshot, match="no payload"):
        open_payload(path)


def test_moving_aside_keeps_the_bytes_and_says_why(tmp_path):
    path = tmp_path / "moto.snapshot"
    write(path, payload({"orders": 3}))
    content = path.read_bytes()
    first = move_aside(path, "moto 5.2.4 in the file, 5.2.5 here")
    assert not path.exists() and first.read_bytes() == content
    assert first.name.startswith("moto.snapshot.refused-") and first.name.endswith("Z")
    assert first.with_name(first.name + ".why").read_text() == "moto 5.2.4 in the file, 5.2.5 here\n"
    path.write_bytes(b"another")
    second = move_aside(path, "garbage")  # within the same second: a new name, nothing overwritten
    assert second != first and second.read_bytes() == b"another" and first.read_bytes() == content

"""A snapshot on disk: a short header that says what made it, then the pickle (``moto_state``).

A snapshot is a pickle, and loading a pickle runs what it names: load only files you made or
trust. The header is checked first so that a file from another format, moto or Python is refused
before any of it is unpickled (moto's classes change between versions; a pickle names them).

Layout: the magic line ``MAGIC``, then one line of JSON (``schema``: ``SCHEMA_VERSION``, bumped
when this layout or the shape of the sandbox's own state changes; ``moto``: its version;
``python``: major.minor; ``created``: epoch seconds; ``orders_lib``: which code wrote it, for
people; ``fields``: the caller's, such as counts), then the payload to the end of the file.

``write`` never leaves a half-written snapshot where a good one was: it writes a temporary file
beside the target, flushes and fsyncs it, renames it over the target (``os.replace``, atomic on
POSIX) and fsyncs the directory so the rename itself survives a power cut. It uses plain ``os``
calls, no thread or logging, so a forked child may call it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

MAGIC = b"orders-sandbox-snapshot\n"
SCHEMA_VERSION = 1
MAX_HEADER_BYTES = 64 * 1024


class SnapshotError(Exception):
    """A snapshot that cannot be loaded; the message says which file and why."""


class UnreadableSnapshot(SnapshotError):
    """Not a snapshot, or a damaged one: wrong magic, a truncated or malformed header, no payload."""


class IncompatibleSnapshot(SnapshotError):
    """A sound snapshot made by another format, moto or Python. ``mismatches``: (field, in the
    file, in this process) for each field that differs."""

    def __init__(self, path: Path, mismatches: list[tuple[str, Any, Any]]):
        self.path, self.mismatches = path, mismatches
        self.fields = [name for name, _, _ in mismatches]
        differences = "; ".join(f"{name} {found!r} in the file, {current!r} here" for name, found, current in mismatches)
        super().__init__(f"{path} was written by another sandbox ({differences}): it cannot be loaded by this one")


@dataclass(frozen=True)
class Header:
    schema: int
    moto: str
    python: str
    created: float
    orders_lib: str | None
    fields: dict[str, Any] = field(default_factory=dict)
    payload_offset: int = 0  # where the pickle starts in the file


@dataclass(frozen=True)
class SnapshotInfo:
    path: Path
    size: int  # bytes, header included
    fill_s: float  # writing the header and the payload
    sync_s: float  # fsync of the file, rename, fsync of the directory
    total_s: float


@functools.cache
def moto_version() -> str:
    return importlib.metadata.version("moto")


def python_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


@functools.cache
def code_identity() -> str:
    """The distribution's version and a digest of the package's sources (no git: a copy works too)."""
    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    try:
        version = importlib.metadata.version("orders-workbook")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return f"{version}+{digest.hexdigest()[:12]}"


def current() -> dict[str, Any]:
    """The header fields this process writes and expects."""
    return {"schema": SCHEMA_VERSION, "moto": moto_version(), "python": python_version()}


def header_bytes(fields: dict[str, Any]) -> bytes:
    header = {**current(), "created": time.time(), "orders_lib": code_identity(), "fields": fields}
    return MAGIC + json.dumps(header, separators=(",", ":"), sort_keys=True).encode() + b"\n"


def write(path: Path, fill: Callable[[BinaryIO], None], **fields: Any) -> SnapshotInfo:
    """Write a snapshot to ``path`` atomically: ``fill(file)`` writes the payload after the header.
    If anything fails, the previous file at ``path`` is left as it was and the temporary file removed."""
    started = time.monotonic()
    path = Path(path)
    header = header_bytes(fields)  # before the file exists: fields that are not JSON fail here
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    _remove_stale_temporaries(path)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(header)
            fill(file)
            file.flush()
            filled = time.monotonic()
            os.fsync(file.fileno())
            size = file.tell()
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(path.parent)
    done = time.monotonic()
    return SnapshotInfo(path, size, filled - started, done - filled, done - started)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _remove_stale_temporaries(path: Path) -> None:
    """Temporary files of writers that died mid-write (a crash): their process is gone."""
    for temporary in path.parent.glob(f".{path.name}.*.tmp"):
        pid = temporary.name.removeprefix(f".{path.name}.").removesuffix(".tmp")
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_header(path: Path, *, check: bool = True) -> Header:
    """The header of the snapshot at ``path``. ``UnreadableSnapshot`` if it is not one;
    ``IncompatibleSnapshot`` if it is another sandbox's (unless ``check`` is false: to show it)."""
    with open(path, "rb") as file:
        return _header(file, Path(path), check)


def open_payload(path: Path) -> tuple[Header, BinaryIO]:
    """The checked header and the file, positioned at the payload's first byte; the caller closes it."""
    path = Path(path)
    file = open(path, "rb")  # noqa: SIM115 - handed to the caller
    try:
        header = _header(file, path, check=True)
        if not file.peek(1)[:1]:
            raise UnreadableSnapshot(f"{path} has a header but no payload: it was cut short")
    except BaseException:
        file.close()
        raise
    return header, file


def _header(file: Any, path: Path, check: bool) -> Header:
    magic = file.read(len(MAGIC))
    if magic != MAGIC and MAGIC.startswith(magic):
        raise UnreadableSnapshot(f"{path} is cut short: {len(magic)} bytes, less than a header")
    if magic != MAGIC:
        raise UnreadableSnapshot(f"{path} is not a sandbox snapshot (it starts with {magic[:24]!r}, not {MAGIC!r})")
    line = file.readline(MAX_HEADER_BYTES)
    if not line.endswith(b"\n"):
        raise UnreadableSnapshot(f"{path}: its header is cut short or longer than {MAX_HEADER_BYTES} bytes")
    try:
        data = json.loads(line)
        header = Header(
            schema=int(data["schema"]),
            moto=str(data["moto"]),
            python=str(data["python"]),
            created=float(data["created"]),
            orders_lib=data.get("orders_lib"),
            fields=dict(data.get("fields") or {}),
            payload_offset=len(MAGIC) + len(line),
        )
    except (ValueError, TypeError, KeyError) as error:
        raise UnreadableSnapshot(f"{path}: its header is not valid ({error})") from None
    if check:
        mismatches = [(name, getattr(header, name), expected) for name, expected in current().items() if getattr(header, name) != expected]
        if mismatches:
            raise IncompatibleSnapshot(path, mismatches)
    return header


def move_aside(path: Path, reason: str) -> Path:
    """Rename a refused snapshot to ``<name>.refused-<UTC time>`` (never deleted: it is the user's
    state) with ``reason`` in a ``.why`` file beside it; returns the new path."""
    path = Path(path)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.refused-{stamp}")
    counter = 1
    while target.exists():
        target = path.with_name(f"{path.name}.refused-{stamp}-{counter}")
        counter += 1
    os.rename(path, target)
    with contextlib.suppress(OSError):  # the file is safe already; the note is a courtesy
        target.with_name(target.name + ".why").write_text(reason.rstrip("\n") + "\n")
    return target

"""nbval on the outputs of the papermill run, instead of a second execution.

``make test`` executes every notebook once, under papermill (``tests/notebooks``);
nbval then compares those executed outputs with the committed ones. nbval drives
a kernel through a small interface (execute a cell's source, then read the
kernel's iopub messages until it is idle); :class:`ReplayKernel` answers that
interface from an executed notebook, cell by cell, so nbval's own collection,
tags, sanitizing and comparison are unchanged and only the execution is shared.

nbval has no hook for another kernel: :func:`use_replay` swaps its per-notebook
setup (``IPyNbFile.setup``), and :func:`restore` puts it back.
``make test-nbval`` still runs a live kernel of its own.
"""

from __future__ import annotations

import itertools
from collections import deque
from pathlib import Path
from queue import Empty
from typing import Any

import nbformat

INJECTED_TAG = "injected-parameters"  # the cell papermill adds after the parameters cell


class ReplayError(RuntimeError):
    pass


def _message(msg_type: str, parent: str, content: dict[str, Any]) -> dict[str, Any]:
    return {"msg_type": msg_type, "header": {"msg_type": msg_type}, "parent_header": {"msg_id": parent}, "content": content}


def output_message(output: dict[str, Any], parent: str) -> dict[str, Any]:
    """One stored output as the iopub message a kernel sent for it."""
    kind = output["output_type"]
    if kind == "stream":
        return _message(kind, parent, {"name": output["name"], "text": output["text"]})
    if kind == "display_data":
        return _message(kind, parent, {"data": output.get("data", {}), "metadata": output.get("metadata", {})})
    if kind == "execute_result":
        content = {"data": output.get("data", {}), "metadata": output.get("metadata", {}), "execution_count": output.get("execution_count")}
        return _message(kind, parent, content)
    if kind == "error":
        return _message(kind, parent, {"ename": output["ename"], "evalue": output["evalue"], "traceback": output.get("traceback", [])})
    raise ReplayError(f"unknown output type {kind!r}")


class ReplayKernel:
    """The executed notebook's code cells, answered in order as a kernel would have answered them."""

    def __init__(self, executed: Path):
        if not executed.exists():
            raise ReplayError(f"{executed} does not exist: the papermill run (make test-notebooks) writes it first")
        book = nbformat.read(executed, as_version=4)
        self.path = executed
        self.cells = deque(c for c in book.cells if c.cell_type == "code" and INJECTED_TAG not in c.metadata.get("tags", []))
        self.messages: deque[dict[str, Any]] = deque()
        self.ids = (f"replay-{n}" for n in itertools.count(1))
        self.alive = True

    def execute_cell_input(self, cell_input: str, allow_stdin: bool | None = None) -> str:
        msg_id = next(self.ids)
        if not self.cells:
            raise ReplayError(f"{self.path.name} has fewer code cells than the notebook nbval collected")
        cell = self.cells.popleft()
        if cell.source != cell_input:
            raise ReplayError(f"{self.path.name} was executed from another version of this cell:\n{cell.source[:300]}")
        self.messages.append(_message("status", msg_id, {"execution_state": "busy"}))
        if cell.execution_count is None and not cell.outputs:
            error = {"ename": "NotExecuted", "evalue": "the papermill run stopped before this cell (an earlier cell failed)"}
            self.messages.append(_message("error", msg_id, {**error, "traceback": []}))
        self.messages.extend(output_message(output, msg_id) for output in cell.outputs)
        self.messages.append(_message("status", msg_id, {"execution_state": "idle"}))
        return msg_id

    def get_message(self, stream: str = "iopub", timeout: float | None = None) -> dict[str, Any]:
        if stream != "iopub" or not self.messages:
            raise Empty
        return self.messages.popleft()

    def await_reply(self, msg_id: str, timeout: float | None = None) -> None:
        return None  # the replies were all there before the question

    def await_idle(self, parent_id: str, timeout: float | None = None) -> None:
        while self.messages:  # nbval drains after an error
            if self.messages.popleft()["content"].get("execution_state") == "idle":
                return

    def is_alive(self) -> bool:
        return self.alive

    def interrupt(self) -> None:
        return None

    def stop(self) -> None:
        self.alive = False


_ORIGINAL: dict[str, Any] = {}


def use_replay(executed_dir: Path) -> None:
    """Make nbval read each notebook's outputs from ``executed_dir/<name>.ipynb``."""
    from nbval.plugin import IPyNbFile

    def setup(self: Any) -> None:
        self.kernel = ReplayKernel(executed_dir / Path(str(self.fspath)).name)
        self.setup_sanitize_files()

    _ORIGINAL.setdefault("setup", IPyNbFile.setup)
    IPyNbFile.setup = setup


def restore() -> None:
    from nbval.plugin import IPyNbFile

    if "setup" in _ORIGINAL:
        IPyNbFile.setup = _ORIGINAL.pop("setup")

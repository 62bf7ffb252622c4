"""Re-run the committed notebooks in place on a fresh sandbox, so their stored
outputs are those of a real run (``make notebooks-refresh``), and strip what
changes on every run without meaning anything (papermill timings, widget state)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import nbformat

from ..sandbox import control
from .run import NOTEBOOK_DIR, NOTEBOOKS


def strip_volatile(path: Path) -> None:
    book = nbformat.read(path, as_version=4)
    book.metadata.pop("papermill", None)
    book.metadata.pop("widgets", None)
    count = 0
    for cell in book.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            count += 1  # run order, renumbered from 1 (nbval refuses outputs without a count)
            cell.execution_count = count
            for output in cell.get("outputs", []):
                if output.get("output_type") == "execute_result":
                    output["execution_count"] = count
    nbformat.write(book, path)


def refresh(names: tuple[str, ...] = NOTEBOOKS) -> None:
    import sys

    import papermill

    from .lab import write_kernel_config

    write_kernel_config(Path(sys.prefix))
    with tempfile.TemporaryDirectory(prefix="nb-refresh-") as state:
        sandbox, _ = control.start(port=0, state_dir=Path(state), deploy=False)
        previous = os.environ.get("ORDERS_ENDPOINT_URL")
        os.environ["ORDERS_ENDPOINT_URL"] = sandbox.endpoint  # the kernels inherit it; no parameters injected
        try:
            for name in names:
                path = NOTEBOOK_DIR / f"{name}.ipynb"
                papermill.execute_notebook(
                    str(path), str(path), cwd=str(NOTEBOOK_DIR), kernel_name="python3", progress_bar=False, execution_timeout=120
                )
                strip_volatile(path)
                print(f"refreshed {path.name}")
        finally:
            if previous is None:
                os.environ.pop("ORDERS_ENDPOINT_URL", None)
            else:
                os.environ["ORDERS_ENDPOINT_URL"] = previous
            control.stop(Path(state))


if __name__ == "__main__":
    refresh()

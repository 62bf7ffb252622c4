"""nbval on papermill's executed notebooks: the replayed messages, and nbval itself
passing and failing on them as it would on a live kernel."""

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from orders_lib.workbook.replay import ReplayError, ReplayKernel

ROOT = Path(__file__).resolve().parents[2]


def book(*cells):
    return new_notebook(cells=list(cells), metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


def cell(source, outputs=(), tags=(), count=1):
    made = new_code_cell(source, outputs=list(outputs), execution_count=count)
    made.metadata["tags"] = list(tags)
    return made


def write(path, notebook):
    nbformat.write(notebook, path)
    return path


def replies(kernel, source):
    msg_id = kernel.execute_cell_input(source)
    messages = []
    while True:
        message = kernel.get_message("iopub")
        assert message["parent_header"]["msg_id"] == msg_id
        messages.append(message)
        if message["content"].get("execution_state") == "idle":
            return messages


def test_each_output_comes_back_as_its_kernel_message_and_the_injected_cell_is_skipped(tmp_path):
    executed = write(
        tmp_path / "n.ipynb",
        book(
            cell("rate = 1", tags=["parameters"]),
            cell("rate = 5", tags=["injected-parameters"]),
            cell(
                "print(rate); rate",
                [
                    new_output("stream", name="stdout", text="5\n"),
                    new_output("execute_result", data={"text/plain": "5"}, execution_count=3),
                    new_output("display_data", data={"image/png": "iVBOR"}),
                ],
            ),
        ),
    )
    kernel = ReplayKernel(executed)
    assert [m["msg_type"] for m in replies(kernel, "rate = 1")] == ["status", "status"]
    messages = replies(kernel, "print(rate); rate")
    assert [m["msg_type"] for m in messages] == ["status", "stream", "execute_result", "display_data", "status"]
    assert messages[1]["content"] == {"name": "stdout", "text": "5\n"}
    assert messages[2]["content"]["data"] == {"text/plain": "5"} and messages[2]["content"]["execution_count"] == 3
    with pytest.raises(ReplayError, match="fewer code cells"):
        kernel.execute_cell_input("more")


def test_a_cell_papermill_never_ran_is_an_error_and_a_changed_cell_is_refused(tmp_path):
    failed = cell("1 / 0", [new_output("error", ename="ZeroDivisionError", evalue="x")])
    executed = write(tmp_path / "n.ipynb", book(failed, cell("2", count=None)))
    kernel = ReplayKernel(executed)
    assert [m["msg_type"] for m in replies(kernel, "1 / 0")] == ["status", "error", "status"]
    not_run = replies(kernel, "2")
    assert not_run[1]["content"]["ename"] == "NotExecuted"
    with pytest.raises(ReplayError, match="another version"):
        ReplayKernel(executed).execute_cell_input("1 / 1")
    with pytest.raises(ReplayError, match="does not exist"):
        ReplayKernel(tmp_path / "missing.ipynb")


def test_nbval_passes_on_matching_outputs_and_fails_on_changed_ones(tmp_path):
    """The real nbval plugin, through notebooks/conftest.py's --nbval-replay (one run, two notebooks)."""
    committed_dir, executed_dir = tmp_path / "committed", tmp_path / "executed"
    committed_dir.mkdir()
    executed_dir.mkdir()
    shutil.copy(ROOT / "notebooks" / "conftest.py", committed_dir / "conftest.py")
    source, checked = "print('total 12.75 EUR')", ["nbval-check-output"]
    for name, executed_text in (("same", "total 12.75 EUR\n"), ("changed", "total 13.00 EUR\n")):
        write(committed_dir / f"{name}.ipynb", book(cell(source, [new_output("stream", name="stdout", text="total 12.75 EUR\n")], checked)))
        write(executed_dir / f"{name}.ipynb", book(cell(source, [new_output("stream", name="stdout", text=executed_text)], checked)))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--nbval-lax", f"--nbval-replay={executed_dir}", ".", "-rA"],
        cwd=committed_dir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "PASSED same.ipynb::Cell 0" in run.stdout and "FAILED changed.ipynb::Cell 0" in run.stdout, run.stdout
    assert "Cell outputs differ" in run.stdout

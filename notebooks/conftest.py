"""nbval runs the committed notebooks against a fresh sandbox of its own.

The sandbox starts before collection (nbval starts each notebook's kernel while
collecting), on a free port, and the kernels find it through
ORDERS_ENDPOINT_URL; it is stopped when the session ends.

With ``--nbval-replay DIR`` (``make test``) nothing is executed again: nbval
compares the outputs of the notebooks papermill executed into DIR
(``tests/notebooks``) with the committed ones (see orders_lib.workbook.replay)."""

import os
import sys
import tempfile
from pathlib import Path

from orders_lib.sandbox import control

_STATE: dict[str, Path] = {}


def pytest_addoption(parser):
    parser.addoption("--nbval-replay", type=Path, default=None, metavar="DIR", help="compare the notebooks executed into DIR")


def pytest_configure(config):
    if not config.pluginmanager.hasplugin("nbval") or not config.getoption("nbval_lax", default=False):
        return
    if config.getoption("nbval_replay"):
        from orders_lib.workbook import replay

        _STATE["replay"] = config.getoption("nbval_replay").resolve()
        replay.use_replay(_STATE["replay"])
        return
    from orders_lib.workbook.lab import write_kernel_config

    write_kernel_config(Path(sys.prefix))  # quiet kernels, as in make demo (see lab.py)
    state_dir = Path(tempfile.mkdtemp(prefix="nbval-sandbox-"))
    sandbox, _ = control.start(port=0, state_dir=state_dir, deploy=False)
    os.environ["ORDERS_ENDPOINT_URL"] = sandbox.endpoint
    _STATE["dir"] = state_dir


def pytest_unconfigure(config):
    if "replay" in _STATE:
        del _STATE["replay"]
        from orders_lib.workbook import replay

        replay.restore()
    if "dir" in _STATE:
        control.stop(_STATE.pop("dir"))

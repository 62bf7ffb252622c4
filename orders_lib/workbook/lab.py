"""Starting JupyterLab for the workbook (``make lab``, the browser test), and the kernel
settings every run of the notebooks shares (JupyterLab, papermill, nbval)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..deploy.synth import ROOT

# No news or update checks: our machines have no internet, and the pop-up hides the notebook.
OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


# ipykernel 7 logs "Kernel is running over TCP without encryption" at every kernel start when the
# kernel talks to its manager over TCP, which is how jupyter_client starts kernels unless told
# otherwise (nbval's kernel manager cannot be told). The workbook's kernels listen on 127.0.0.1
# for the one user who started them, so the advice does not apply, and users cannot act on it.
# This filter drops that one message from the kernel's own log; everything else still shows.
KERNEL_CONFIG = """\
# Written by orders_lib.workbook.lab.write_kernel_config; see the comment there.
import logging


class _LocalTcpNotice(logging.Filter):
    def filter(self, record):
        return "running over TCP without encryption" not in record.getMessage()


logging.getLogger("IPKernelApp").addFilter(_LocalTcpNotice())
"""


def write_kernel_config(prefix: Path) -> Path:
    """``ipython_kernel_config.py`` in the environment's IPython config folder, which every
    kernel of this environment reads at start (idempotent)."""
    path = prefix / "etc" / "ipython" / "ipython_kernel_config.py"
    if not path.exists() or path.read_text() != KERNEL_CONFIG:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(KERNEL_CONFIG)
    return path


def write_overrides(prefix: Path) -> Path:
    settings = prefix / "share" / "jupyter" / "lab" / "settings"
    settings.mkdir(parents=True, exist_ok=True)
    path = settings / "overrides.json"
    path.write_text(json.dumps(OVERRIDES, indent=2))
    return path


def lab_command(python: str, port: int, token: str) -> list[str]:
    command = [
        python,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        f"--ServerApp.token={token}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={ROOT / 'notebooks'}",
    ]
    if os.geteuid() == 0:  # CI and containers run as root; Jupyter refuses that unless told
        command.append("--allow-root")
    return command

"""Starting JupyterLab for the workbook (``make lab``, the browser test)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..deploy.synth import ROOT

# No news or update checks: our machines have no internet, and the pop-up hides the notebook.
OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def write_overrides(prefix: Path) -> Path:
    settings = prefix / "share" / "jupyter" / "lab" / "settings"
    settings.mkdir(parents=True, exist_ok=True)
    path = settings / "overrides.json"
    path.write_text(json.dumps(OVERRIDES, indent=2))
    return path


def lab_command(python: str, port: int, token: str) -> list[str]:
    command = [
        python, "-m", "jupyterlab", "--no-browser", "--ip", "127.0.0.1", "--port", str(port),
        f"--ServerApp.token={token}", "--ServerApp.port_retries=0", f"--ServerApp.root_dir={ROOT / 'notebooks'}",
    ]
    if os.geteuid() == 0:  # CI and containers run as root; Jupyter refuses that unless told
        command.append("--allow-root")
    return command

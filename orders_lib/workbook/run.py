"""Run the workbook unattended: every notebook through papermill, HTML reports (code hidden),
charts, a summary.json and an index.html in ``reports/`` (``make demo``, ``make test-notebooks``)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..deploy.synth import ROOT
from ..settings import DEFAULT_SANDBOX_ENDPOINT
from . import latency_figures
from .bench import Workbench
from .report import export_report, write_index

NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = ("01_deploy", "02_create_orders", "03_latency", "04_dlq", "05_operations", "06_capacity")


@dataclass
class NotebookRun:
    name: str
    seconds: float
    output: Path
    html: Path | None


def run_notebook(name: str, output_dir: Path, parameters: dict[str, Any], *, html: bool = True, timeout_s: int = 120) -> NotebookRun:
    import sys

    import papermill

    from .lab import write_kernel_config

    write_kernel_config(Path(sys.prefix))
    output_dir.mkdir(parents=True, exist_ok=True)
    output = output_dir / f"{name}.ipynb"
    started = time.monotonic()
    papermill.execute_notebook(
        str(NOTEBOOK_DIR / f"{name}.ipynb"),
        str(output),
        parameters=parameters,
        cwd=str(NOTEBOOK_DIR),
        kernel_name="python3",
        progress_bar=False,
        execution_timeout=timeout_s,
        log_output=False,
    )
    seconds = time.monotonic() - started
    return NotebookRun(name, seconds, output, export_report(output) if html else None)


def summarize(bench: Workbench, report_dir: Path | None = None) -> dict[str, Any]:
    """Orders by status and DLQ depth, from the target itself, and 03_latency's figures from
    ``report_dir`` (``latency_figures``: the sample's latency at the rate it was written at, the
    capacity, the saturation point; empty when 03 did not write them there). No percentile is
    taken over the table's orders: those include the load sweep's, queued on purpose."""
    import pandas as pd

    items = bench.repository.list_items(max_items=100_000)
    statuses = pd.Series([str(i.get("status", "INVALID")) for i in items]).value_counts().to_dict()
    attributes = bench.client("sqs").get_queue_attributes(QueueUrl=bench.outputs.dlq_url, AttributeNames=["ApproximateNumberOfMessages"])
    return {
        "orders": len(items),
        "by_status": {k: int(v) for k, v in sorted(statuses.items())},
        "processed": int(statuses.get("PROCESSED", 0)),
        "notified": sum(1 for i in items if i.get("notifiedAt")),
        "dlq_messages": int(attributes["Attributes"]["ApproximateNumberOfMessages"]),
        "latency": (latency_figures.load(report_dir) if report_dir else None) or {},
    }


def run_all(output_dir: Path, parameters: dict[str, Any], names: tuple[str, ...] = NOTEBOOKS) -> dict[str, Any]:
    runs = [run_notebook(name, output_dir, {**parameters, "report_dir": str(output_dir.resolve())}) for name in names]
    bench = Workbench.connect(parameters.get("target", "sandbox"), parameters.get("stack"), parameters.get("endpoint"))
    summary = {"target": bench.settings.target, "notebooks": {r.name: round(r.seconds, 1) for r in runs}, **summarize(bench, output_dir)}
    if bench.settings.is_sandbox:
        from ..sandbox import control

        iam = control.control(bench.settings.endpoint_url or DEFAULT_SANDBOX_ENDPOINT, "iam")
        summary["iam"] = {key: iam[key] for key in ("mode", "checked", "refused")}
    (output_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    write_index(output_dir, summary)
    return summary

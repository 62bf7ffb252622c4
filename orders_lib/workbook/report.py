"""``reports/index.html``: one page to open after ``make demo`` or to send round. The run's
figures, the charts inline, and a link to each notebook's report (rendered without code: the
executed notebooks beside them keep it)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from .latency_figures import headline

CHART_TITLES = {
    "latency_vs_load.png": "Latency against load, and where the pipeline falls behind",
    "stages.png": "Where the time goes, per stage",
    "latency_over_run.png": "Latency over the run (each order, rolling p99)",
    "latency_histogram.png": "Write → PROCESSED latency",
    "throughput.png": "Throughput over time",
    "operations.png": "Operations: the pipeline's metrics through the incident",
    "trace-created-order.png": "One order's journey: created, processed, notified",
    "trace-dlq-entry.png": "A record traced to the DLQ: its attempts and the reason",
    "trace-incident-failed.png": "The incident: an order whose notification failed, in the DLQ",
    "trace-incident-recovered.png": "The incident: an order that recovered through the redrive",
    "capacity_sweep.png": "The model on AWS: offered vs processed, and the first limit hit",
    "capacity_grid.png": "Sustainable rate vs ParallelizationFactor and BatchSize",
    "capacity_cost.png": "Cost per month by service (list prices)",
}
NOTEBOOK_TITLES = {
    "01_deploy": "Deploy the stack",
    "02_create_orders": "Create orders",
    "03_latency": "Processing latency",
    "04_dlq": "The dead-letter queue",
    "05_operations": "Operations",
    "06_capacity": "Capacity and cost",
}


def export_report(notebook: Path) -> Path:
    """The notebook as HTML for readers: outputs only, code hidden (the .ipynb keeps it)."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nbformat.read(notebook, as_version=4))
    target = notebook.with_suffix(".html")
    target.write_text(body, encoding="utf-8")
    return target


def write_index(report_dir: Path, summary: dict[str, Any]) -> Path:
    """``index.html`` in ``report_dir`` from the run's ``summary`` (see ``run.summarize``)."""
    figures: list[tuple[str, Any]] = [
        ("orders", summary.get("orders")),
        ("processed", summary.get("processed")),
        ("notified", summary.get("notified")),
        ("in the DLQ", summary.get("dlq_messages")),
        *headline(summary.get("latency")),
    ]
    if "iam" in summary:
        figures.append(("IAM refusals", summary["iam"].get("refused")))
    rows = "".join(f"<tr><th>{html.escape(label)}</th><td>{html.escape(str(value))}</td></tr>" for label, value in figures)
    notebooks = "".join(
        f'<li><a href="{name}.html">{html.escape(NOTEBOOK_TITLES.get(name, name))}</a> '
        f'<span class="muted">({seconds:g} s, <a href="{name}.ipynb">notebook</a>)</span></li>'
        for name, seconds in summary.get("notebooks", {}).items()
        if (report_dir / f"{name}.html").exists()
    )
    charts = "".join(
        f'<figure><img src="{name}" alt="{html.escape(title)}"><figcaption>{html.escape(title)}</figcaption></figure>'
        for name, title in CHART_TITLES.items()
        if (report_dir / name).exists()
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Order pipeline: workbook run</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #222; }}
table {{ border-collapse: collapse; }} th, td {{ padding: .3rem .8rem; border-bottom: 1px solid #ddd; text-align: left; }}
td {{ font-variant-numeric: tabular-nums; }} .muted {{ color: #777; }}
figure {{ margin: 1.5rem 0; }} img {{ max-width: 100%; border: 1px solid #eee; }}
</style></head><body>
<h1>Order pipeline: workbook run</h1>
<p class="muted">Target: {html.escape(str(summary.get("target", "sandbox")))}. Every figure below was measured in this run.</p>
<h2>Figures</h2><table>{rows}</table>
<h2>Reports</h2><ul>{notebooks}</ul>
<h2>Charts</h2>{charts or '<p class="muted">No charts in this run.</p>'}
</body></html>
"""
    path = report_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path

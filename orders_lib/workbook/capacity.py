"""``06_capacity``'s cells: the capacity and cost model fed with figures measured in the run,
its tables and charts, and its check against the sandbox (``orders_lib.planning``)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure  # no pyplot: nothing is drawn inline behind our back

from ..planning import capacity_model, cost_model, sandbox_check
from ..planning.figures import MappingSettings, PipelineFigures
from ..planning.measure import Measurement
from ..planning.prices import PriceTable
from .bench import Workbench

CHARTS = ("capacity_sweep.png", "capacity_grid.png", "capacity_cost.png")
SERVICE_COLOURS = {
    "Lambda": "#dd6b20",
    "DynamoDB": "#2b6cb0",
    "DynamoDB Streams": "#90cdf4",
    "SNS": "#d53f8c",
    "SQS": "#805ad5",
    "KMS": "#718096",
    "CloudWatch": "#38a169",
}
RED = "color: #c53030; font-weight: bold"


def sandbox_control(bench: Workbench) -> Any:
    """The sandbox's control API as a function of a path; None on AWS."""
    if not bench.settings.is_sandbox:
        return None
    from ..sandbox import control
    from ..settings import DEFAULT_SANDBOX_ENDPOINT

    endpoint = bench.settings.endpoint_url or DEFAULT_SANDBOX_ENDPOINT
    return lambda path: control.control(endpoint, path)


def measure(bench: Workbench, count: int, *, rate_per_s: float = 0.0, clients: int = 4, seed: int = 60) -> Measurement:
    from ..planning.measure import measure as run

    return run(
        bench.client,
        bench.outputs,
        bench.repository,
        count,
        rate_per_s=rate_per_s,
        clients=clients,
        seed=seed,
        control=sandbox_control(bench),
    )


def measured_table(measurement: Measurement, default: PipelineFigures | None = None) -> pd.DataFrame:
    return pd.DataFrame(measurement.rows(default)).set_index("figure")


def rate_sweep(figures: PipelineFigures, settings: MappingSettings, rates: Sequence[float]) -> pd.DataFrame:
    frame = capacity_model.sweep(rates, figures, settings)
    return frame[
        ["rate", "keeps_up", "processed_per_s", "age_after_10_min_s", "create_concurrency", "process_concurrency", "limit", "setting"]
    ]


def first_behind(figures: PipelineFigures, settings: MappingSettings) -> str:
    """Where the settings stop keeping up, the limit and the setting to change, in one line."""
    holds = capacity_model.sustainable_rate(figures, settings)
    if math.isinf(holds):
        return "keeps up at every rate the model checks"
    verdict = capacity_model.assess(holds * 1.01, figures, settings)
    return (
        f"ParallelizationFactor {settings.parallelization_factor}, BatchSize {settings.batch_size}: keeps up to {holds:,.0f} orders/s; "
        f"above, the limit is {verdict.limit.name}; setting: {verdict.setting}"
    )


def grid_frame(figures: PipelineFigures, settings: MappingSettings, factors: Sequence[int], batch_sizes: Sequence[int]) -> pd.DataFrame:
    """Sustainable orders/s, one row per ParallelizationFactor, one column per batch size."""
    frame = capacity_model.grid(factors, batch_sizes, figures, settings)
    return frame.pivot(index="factor", columns="batch_size", values="sustainable_rate")


def cost_frame(figures: PipelineFigures, settings: MappingSettings, rates: Sequence[float], prices: PriceTable) -> pd.DataFrame:
    """USD a month per service at each rate, and per million orders."""
    rows = []
    for rate in rates:
        estimate = cost_model.estimate(rate, figures, settings, prices)
        by_service = estimate.by_service()
        rows.append(
            {
                "rate": rate,
                **{service: month for service, (month, _) in by_service.items()},
                "per_month": estimate.per_month,
                "per_million": estimate.per_million,
            }
        )
    return pd.DataFrame(rows).set_index("rate")


def prices_line(prices: PriceTable) -> str:
    return (
        f"prices: {prices.basis}, read {prices.read_on.isoformat()} ({len(prices.unverified())} of {len(prices.prices)} "
        "not yet verified on their source page): list prices, not an invoice"
    )


def save_charts(
    sweep: pd.DataFrame, grid: pd.DataFrame, costs: pd.DataFrame, settings: MappingSettings, report_dir: Path | str
) -> list[Path]:
    """The three charts as PNGs in ``report_dir``: the rate sweep with the first limit marked,
    the sustainable rate over factor × batch size, and the monthly cost stacked by service."""
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    paths = []

    figure = Figure(figsize=(7, 3.8))
    axis = figure.subplots()
    axis.loglog(sweep["rate"], sweep["rate"], linestyle="--", color="#718096", label="offered")
    axis.loglog(sweep["rate"], sweep["processed_per_s"], marker="o", color="#2b6cb0", label="processed (model)")
    behind = sweep[~sweep["keeps_up"]]
    if not behind.empty:
        first = behind.iloc[0]
        axis.axvline(first["rate"], color="#c53030", linewidth=1)
        axis.annotate(
            f"falls behind at {first['rate']:,.0f}/s\n{first['limit']}\n→ {first['setting']}",
            (first["rate"], first["processed_per_s"]),
            xytext=(0.03, 0.97),
            textcoords="axes fraction",
            va="top",
            fontsize=8,
            color="#c53030",
            wrap=True,
        )
    axis.set(
        title=f"Offered vs processed (factor {settings.parallelization_factor}, batch {settings.batch_size})",
        xlabel="offered orders/s",
        ylabel="orders/s",
    )
    axis.legend(loc="lower right")
    figure.tight_layout()
    paths.append(_save(figure, report_dir / CHARTS[0]))

    figure = Figure(figsize=(7, 3.8))
    axis = figure.subplots()
    for size in grid.columns:
        axis.plot(grid.index, grid[size].replace(math.inf, float("nan")), marker="o", label=f"batch {size}")
    axis.set_yscale("log")
    axis.set(title="Sustainable rate vs ParallelizationFactor and BatchSize", xlabel="ParallelizationFactor", ylabel="orders/s")
    axis.legend(fontsize=8, ncol=2)
    figure.tight_layout()
    paths.append(_save(figure, report_dir / CHARTS[1]))

    figure = Figure(figsize=(7, 3.8))
    axis = figure.subplots()
    services = [c for c in costs.columns if c not in ("per_month", "per_million")]
    axis.stackplot(costs.index, [costs[s] for s in services], labels=services, colors=[SERVICE_COLOURS.get(s, "#a0aec0") for s in services])
    axis.set_xscale("log")
    axis.set(title="Cost per month by service (list prices)", xlabel="orders/s", ylabel="USD per month")
    axis.yaxis.set_major_formatter(lambda value, _: f"${value:,.0f}")
    axis.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    paths.append(_save(figure, report_dir / CHARTS[2]))
    return paths


def _save(figure: Figure, path: Path) -> Path:
    figure.savefig(path, dpi=110)
    return path


# -- the check against the sandbox ------------------------------------------------------


@dataclass(frozen=True)
class SandboxCheck:
    """One check of the model against the sandbox: its settings, the prediction at the rate
    offered, the run, and the rows compared."""

    settings: sandbox_check.SandboxSettings
    prediction: sandbox_check.Prediction
    run: sandbox_check.Run
    rows: list[sandbox_check.Row]

    def lines(self, figures: PipelineFigures) -> list[str]:
        return validation_lines(self.prediction, self.run, self.rows, self.settings, figures)


def check_sandbox(
    bench: Workbench, measurement: Measurement, figures: PipelineFigures, *, orders: int, writers: int, seed: int
) -> SandboxCheck | None:
    """``orders`` written straight into the table faster than one lane takes them, then the model
    given the sandbox's own settings (its mapping's factor and batch size, one shard) and the
    run's batch durations, lane gap and CPU per order, and the PROCESSED rate and IteratorAge
    compared (``sandbox_check``). None on AWS: the check runs on the sandbox only."""
    if not bench.settings.is_sandbox:
        return None
    control = sandbox_control(bench)
    sandbox = sandbox_check.read_settings(bench.client("lambda"), bench.outputs["EventSourceMappingId"], control)
    run = sandbox_check.run(
        bench.client, bench.new_client, bench.outputs, bench.repository, orders, writers=writers, seed=seed, control=control
    )
    one_lane = sandbox.parallelization_factor == 1
    gap = (run.gap_ms if run.gap_ms is not None else measurement.lane_gap_ms) if one_lane else None
    at_run = sandbox_check.run_figures(figures, run, sandbox.batch_size)
    prediction = sandbox_check.predict(at_run, sandbox, run.sandbox_cpu_ms_per_order, run.offered_per_s, gap, through_create=False)
    return SandboxCheck(sandbox, prediction, run, list(sandbox_check.compare(prediction, run)))


def validation_frame(rows: Sequence[sandbox_check.Row]) -> Any:
    """Model and measurement side by side, a disagreement over 25 % in red."""
    frame = pd.DataFrame(
        [
            {
                "quantity": r.quantity,
                "model": round(r.model, 2),
                "measured": round(r.measured, 2),
                "model / measured": round(r.ratio, 2),
                "verdict": r.verdict,
            }
            for r in rows
        ]
    ).set_index("quantity")
    return frame.style.apply(lambda row: [RED if "DISAGREES" in row["verdict"] else ""] * len(row), axis=1)


def validation_lines(
    prediction: sandbox_check.Prediction,
    run: sandbox_check.Run,
    rows: Sequence[sandbox_check.Row],
    settings: sandbox_check.SandboxSettings,
    figures: PipelineFigures,
) -> list[str]:
    lines = [f"offered {run.offered_per_s:.1f} orders/s for {run.offering_s:.1f} s ({run.orders} orders)"]
    lines += [f"bound: {b.name}: {b.orders_per_s:.1f} orders/s ({b.detail})" for b in prediction.bounds]
    if run.batch_ms:
        lines.append(
            f"durations: the run's own: a full batch {run.batch_ms:.0f} ms, {run.gap_ms or 0:.0f} ms between batches "
            f"(the sample, through CreateOrder: {figures.process_ms(settings.batch_size):.0f} ms a full batch)"
        )
    for row in rows:
        lines.append(f"{row.quantity}: model {row.model:.2f}, measured {row.measured:.2f}, ratio {row.ratio:.2f}: {row.verdict}")
    return lines


def sample_line(measurement: Measurement) -> str:
    """What the sample was, in words that stay the same from run to run."""
    sizes = measurement.fit.sizes
    return (
        f"{measurement.orders} orders notified; ProcessOrder batches of {min(sizes)} to {max(sizes)} records; "
        f"fixed and per-record parts separated: {measurement.fit.separable}"
    )


def save_figures(
    report_dir: Path | str,
    measurement: Measurement,
    figures: PipelineFigures,
    settings: MappingSettings,
    prices: PriceTable,
    costs: pd.DataFrame,
    check: Sequence[sandbox_check.Row] | None,
    bounds: Sequence[sandbox_check.Bound] = (),
) -> Path:
    """``capacity.json``: the measured inputs, the model's headline and the check, for reports."""
    data = {
        "measured": measurement.rows(),
        "cpu_ms_per_order": measurement.cpu_ms_per_order(),
        "figures": figures,
        "first_behind": first_behind(figures, settings),
        "sustainable_rate": capacity_model.sustainable_rate(figures, settings),
        "prices_read_on": prices.read_on.isoformat(),
        "per_million": costs["per_million"].to_dict(),
        "per_month": costs.drop(columns=["per_million"]).to_dict(orient="index"),
        "check": [
            {"quantity": r.quantity, "model": r.model, "measured": r.measured, "ratio": r.ratio, "agrees": r.agrees} for r in check or []
        ],
        "check_bounds": [asdict(b) for b in bounds],
    }
    path = Path(report_dir) / "capacity.json"
    path.write_text(json.dumps(data, indent=2, default=_plain))
    return path


def _plain(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    if isinstance(value, float) and math.isinf(value):
        return None
    return str(value)

"""The text ``orders capacity`` prints: the verdict at a rate, then the cost lines."""

from __future__ import annotations

import math

from .capacity_model import Verdict, duration_text
from .cost_model import CostEstimate
from .figures import MappingSettings


def verdict_line(verdict: Verdict) -> str:
    """One line: keeps up or not, the wait (or how fast it grows), concurrency, the limit met
    first and the setting to change."""
    if verdict.keeps_up:
        head = f"KEEPS UP at {verdict.rate:,.0f} orders/s: records wait ~{verdict.lag_s:.2f} s"
    else:
        head = (
            f"FALLS BEHIND at {verdict.rate:,.0f} orders/s: processes {verdict.processed_per_s:,.0f}/s, "
            f"iterator age grows {verdict.age_growth_per_s:.2f} s per s ({duration_text(verdict.age_after(3600))} after an hour)"
        )
    limit = verdict.limit
    held = "no limit" if math.isinf(limit.holds_up_to) else f"{limit.holds_up_to:,.0f} orders/s"
    return (
        f"{head}; concurrency {verdict.concurrency:,.0f} of {verdict.available_concurrency:,}; "
        f"limit hit first: {limit.name} (holds up to {held}); setting: {verdict.setting}"
    )


def verdict_lines(verdict: Verdict, settings: MappingSettings) -> list[str]:
    settings_line = (
        f"  settings: ParallelizationFactor {settings.parallelization_factor}, BatchSize {settings.batch_size}, "
        f"MaximumBatchingWindowInSeconds {settings.batching_window_s:g}, {settings.region}"
    )
    stream_line = (
        f"  stream: {verdict.shards} shard(s) (estimate), {verdict.shard_capacity_per_s:,.0f} orders/s each with a backlog, "
        f"{verdict.batch_records:.1f} records per batch"
    )
    concurrency_line = (
        f"  concurrency: CreateOrder {verdict.create_concurrency:,.1f}, ProcessOrder {verdict.process_concurrency:,.1f} "
        f"(at most {verdict.process_slots:,} batches at once)"
    )
    lines = [
        verdict_line(verdict),
        settings_line,
        stream_line,
        concurrency_line,
        f"  limit: {verdict.limit.detail} ({verdict.limit.source})",
    ]
    lines += [f"  note: {note}" for note in verdict.notes]
    return lines


def cost_lines(estimate: CostEstimate) -> list[str]:
    prices = estimate.prices
    unverified = prices.unverified()
    head = (
        f"cost at {estimate.rate:,.0f} orders/s ({estimate.orders_per_month / 1e6:,.0f} million orders a month): "
        f"{prices.basis}, read {prices.read_on.isoformat()} ({prices.path}); "
        f"{len(unverified)} of {len(prices.prices)} prices not verified on their source (marked *)"
    )
    lines = [head, f"  {'service':<17}{'item':<34}{'per month':>14}{'per 1M orders':>15}"]
    for line in estimate.lines:
        mark = "" if line.verified else "*"
        lines.append(f"  {line.service:<17}{line.item + mark:<34}{_usd(line.per_month):>14}{_usd(line.per_million):>15}")
    lines.append(f"  {'total':<51}{_usd(estimate.per_month):>14}{_usd(estimate.per_million):>15}")
    lines.append(f"  (without the fixed monthly lines: {_usd(estimate.usage_per_million)} per million orders)")
    return lines


def capacity_report(verdict: Verdict, settings: MappingSettings, estimate: CostEstimate, figures_label: str) -> str:
    return "\n".join([*verdict_lines(verdict, settings), f"  figures: {figures_label}", "", *cost_lines(estimate)])


def _usd(value: float) -> str:
    """Dollars: cents from 1 cent up, two significant digits below."""
    if value == 0:
        return "$0.00"
    if abs(value) >= 0.01:
        return f"${value:,.2f}"
    digits = 1 - math.floor(math.log10(abs(value)))
    return f"${value:.{digits}f}"

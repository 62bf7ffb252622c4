"""Metrics in CloudWatch's embedded metric format, read from log lines as CloudWatch Logs
extracts them: a JSON object whose ``_aws.CloudWatchMetrics`` directives name, per namespace,
the metrics (values at the root, one number or a list) and the dimension sets (root keys).
A metric definition's ``StorageResolution`` 1 makes the metric high-resolution; absent, 60 or
anything else, standard resolution (the values PutMetricData takes are 1 and 60).
Writers exist (Powertools, aws-embedded-metrics); nothing reads, hence this.
Specification: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EmfValue:
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    values: tuple[float, ...]
    unit: str | None
    timestamp_ms: int | None
    storage_resolution: int = 60

    @property
    def high_resolution(self) -> bool:
        return self.storage_resolution == 1


def metrics_in(line: str) -> list[EmfValue]:
    """Every metric value a log line carries; [] for any line that is not valid EMF (as
    CloudWatch, which ingests such a line as an ordinary log event)."""
    text = line.strip()
    if not (text.startswith("{") and '"_aws"' in text):
        return []
    try:
        document = json.loads(text)
        directives = document["_aws"]["CloudWatchMetrics"]
        timestamp = document["_aws"].get("Timestamp")
    except (ValueError, KeyError, TypeError):
        return []
    found: list[EmfValue] = []
    for directive in directives if isinstance(directives, list) else []:
        found.extend(_directive(document, directive, timestamp))
    return found


def _directive(document: dict[str, Any], directive: Any, timestamp: Any) -> list[EmfValue]:
    if not isinstance(directive, dict) or not isinstance(directive.get("Namespace"), str):
        return []
    dimension_sets = directive.get("Dimensions") or [[]]
    if not isinstance(dimension_sets, list):
        return []
    found = []
    for metric in directive.get("Metrics") or []:
        name = metric.get("Name") if isinstance(metric, dict) else None
        if not isinstance(name, str):
            continue
        values = _numbers(document.get(name))
        if not values:
            continue
        for dimension_set in dimension_sets:
            if not isinstance(dimension_set, list) or not all(isinstance(document.get(d), str) for d in dimension_set):
                continue
            dimensions = tuple(sorted((d, document[d]) for d in dimension_set))
            found.append(
                EmfValue(
                    directive["Namespace"],
                    name,
                    dimensions,
                    values,
                    metric.get("Unit"),
                    int(timestamp) if isinstance(timestamp, (int, float)) else None,
                    1 if metric.get("StorageResolution") == 1 else 60,
                )
            )
    return found


def _numbers(value: Any) -> tuple[float, ...]:
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
        return ()
    return tuple(float(v) for v in items)

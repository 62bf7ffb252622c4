"""An event source mapping's settings, as Lambda reads them from the mapping's configuration.
https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orders_lib.sandbox.lambda_.event_source_mapping.filtering import parse_filter_criteria


@dataclass(frozen=True)
class MappingConfig:
    uuid: str
    function_arn: str
    stream_arn: str
    batch_size: int = 100
    batching_window_s: float = 0.0
    parallelization_factor: int = 1  # batches of one shard in flight at once (1-10)
    starting_position: str = "TRIM_HORIZON"
    max_retry_attempts: int = -1
    bisect_on_error: bool = False
    report_batch_item_failures: bool = False
    max_record_age_s: int = -1
    on_failure_arn: str | None = None
    filters: list[dict[str, Any]] = field(default_factory=list)
    enabled: bool = True

    @classmethod
    def from_api(cls, config: dict[str, Any]) -> MappingConfig:
        """From a ``GetEventSourceMapping`` / ``ListEventSourceMappings`` entry."""
        destination = (config.get("DestinationConfig") or {}).get("OnFailure") or {}
        return cls(
            uuid=config["UUID"],
            function_arn=config["FunctionArn"],
            stream_arn=config["EventSourceArn"],
            batch_size=int(config.get("BatchSize") or 100),
            batching_window_s=float(config.get("MaximumBatchingWindowInSeconds") or 0),
            parallelization_factor=min(10, max(1, int(config.get("ParallelizationFactor") or 1))),
            starting_position=config.get("StartingPosition") or "TRIM_HORIZON",
            max_retry_attempts=int(config["MaximumRetryAttempts"]) if config.get("MaximumRetryAttempts") is not None else -1,
            bisect_on_error=bool(config.get("BisectBatchOnFunctionError")),
            report_batch_item_failures="ReportBatchItemFailures" in (config.get("FunctionResponseTypes") or []),
            max_record_age_s=int(config["MaximumRecordAgeInSeconds"]) if config.get("MaximumRecordAgeInSeconds") is not None else -1,
            on_failure_arn=destination.get("Destination"),
            filters=parse_filter_criteria(config.get("FilterCriteria")),
            enabled=config.get("State", "Enabled") in ("Enabled", "Enabling", "Updating") and config.get("Enabled", True) is not False,
        )

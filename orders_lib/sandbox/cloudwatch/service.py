"""CloudWatch in the sandbox, as it behaves for this pipeline on AWS: the metrics AWS emits by
itself, the metrics functions embed in their logs, and alarms that evaluate and notify.

* ``AWS/Lambda`` per function (``FunctionName``): ``Invocations``, ``Errors``, ``Duration``,
  ``Throttles``, ``ConcurrentExecutions`` and, for a stream-mapped function, ``IteratorAge``
  (the age of a batch's last record when the mapping invokes). Recorded by the runtime, the
  capacity gate and the pollers as it happens.
* ``AWS/SQS`` per queue (``QueueName``): ``NumberOfMessagesSent`` as messages arrive, and
  ``ApproximateNumberOfMessagesVisible``, one datapoint a minute as on AWS, which is the latest
  sample (taken every evaluation interval): a purged queue reads 0 within the interval.
* Embedded metric format found in a function's log lines (``emf``), once the lines are written,
  at the resolution each metric definition asks for (``StorageResolution`` 1: high resolution).
* Alarms: every ``interval_s`` (10 s) each metric alarm is evaluated (``alarm_rules``); a state
  change is recorded with its reason, reason data and a history entry, and the alarm's actions
  for the new state publish AWS's alarm message to their SNS topics. A high-resolution alarm
  (period 10 or 30 s, PutMetricAlarm's other valid values being multiples of 60) reads the
  metric's 1-second data, so it too is evaluated every 10 s, as CloudWatch evaluates it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from typing import Any

from orders_lib.sandbox.cloudwatch.alarm_rules import ALARM, INSUFFICIENT, OK, AlarmRule, Unsupported, Verdict, evaluate
from orders_lib.sandbox.cloudwatch.emf import metrics_in
from orders_lib.sandbox.cloudwatch.metric_store import MetricKey, MetricStore

LOG = logging.getLogger(__name__)
DEFAULT_INTERVAL_S = 10.0
HISTORY = 100  # entries kept per alarm
REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "Europe (Ireland)",
    "eu-central-1": "Europe (Frankfurt)",
}

# topic ARN, subject, message
Publisher = Callable[[str, str, str], None]


def lambda_key(function: str, metric: str) -> MetricKey:
    return MetricKey.of("AWS/Lambda", metric, {"FunctionName": function})


def sqs_key(queue: str, metric: str) -> MetricKey:
    return MetricKey.of("AWS/SQS", metric, {"QueueName": queue})


class SandboxCloudWatch:
    def __init__(
        self,
        account: str,
        region: str,
        store: MetricStore | None = None,
        *,
        publish: Publisher | None = None,
        alarms: Callable[[], Iterable[Any]] = list,
        queues: Callable[[], Iterable[tuple[str, int]]] = list,
        interval_s: float = DEFAULT_INTERVAL_S,
        clock: Callable[[], float] = time.time,
        section: Callable[[], AbstractContextManager[Any]] = nullcontext,
    ):
        """``section`` wraps each evaluation round (the snapshot gate's shared section)."""
        self.account, self.region = account, region
        self.section = section
        self.store = store or MetricStore(clock=clock)
        self.publish, self.alarms, self.queues = publish, alarms, queues
        self.interval_s, self.clock = interval_s, clock
        self.history: dict[str, deque[dict[str, Any]]] = {}
        self.evaluations = 0
        self._unsupported: set[str] = set()
        self._lock = threading.Lock()

    # -- what AWS measures by itself ------------------------------------------------
    def invocation(self, function: str, duration_ms: float, error: bool) -> None:
        self.store.put(lambda_key(function, "Invocations"), 1, unit="Count")
        self.store.put(lambda_key(function, "Errors"), 1 if error else 0, unit="Count")
        self.store.put(lambda_key(function, "Duration"), duration_ms, unit="Milliseconds")

    def throttle(self, function: str) -> None:
        self.store.put(lambda_key(function, "Throttles"), 1, unit="Count")

    def concurrency(self, function: str, running: int) -> None:
        self.store.put(lambda_key(function, "ConcurrentExecutions"), running, unit="Count")

    def iterator_age(self, function: str, age_ms: float) -> None:
        self.store.put(lambda_key(function, "IteratorAge"), max(0.0, age_ms), unit="Milliseconds")

    def messages_sent(self, queue: str, count: int = 1) -> None:
        self.store.put(sqs_key(queue, "NumberOfMessagesSent"), count, unit="Count")

    def sample_queues(self) -> None:
        for queue, visible in self.queues():
            self.store.put_sample(sqs_key(queue, "ApproximateNumberOfMessagesVisible"), visible, unit="Count")

    # -- what functions embed in their logs ------------------------------------------------
    def log_lines(self, lines: Iterable[str]) -> int:
        """Metrics from the embedded-metric-format lines among ``lines``; returns how many values."""
        recorded = 0
        for line in lines:
            for metric in metrics_in(line):
                key = MetricKey(metric.namespace, metric.name, metric.dimensions)
                at = metric.timestamp_ms / 1000 if metric.timestamp_ms else None
                for value in metric.values:
                    self.store.put(key, value, at=at, unit=metric.unit, high_resolution=metric.high_resolution)
                    recorded += 1
        return recorded

    # -- alarms ---------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval_s):
            try:
                with self.section():
                    self.tick()
            except Exception:  # keep evaluating; the cause is logged
                LOG.exception("evaluating alarms failed")

    def tick(self) -> None:
        self.sample_queues()
        self.evaluate_alarms()

    def evaluate_alarms(self, now: float | None = None) -> list[tuple[str, str]]:
        """Evaluate every metric alarm once; returns (alarm, new state) for those that changed."""
        now = self.clock() if now is None else now
        changed = []
        with self._lock:
            self.evaluations += 1
            for alarm in list(self.alarms()):
                try:
                    rule = rule_of(alarm)
                except Unsupported as why:
                    if alarm.name not in self._unsupported:
                        self._unsupported.add(alarm.name)
                        LOG.warning("%s; its state is left as it is", why)
                    continue
                key = MetricKey.of(alarm.namespace, alarm.metric_name, {d.name: d.value for d in alarm.dimensions})
                start = rule.periods(now, current_has_data=False)[0]
                points = dict(self.store.series(key, rule.statistic, start, now + rule.period_s, rule.period_s))
                verdict = evaluate(rule, points, now, alarm.state_value)
                if verdict is None or verdict.state == alarm.state_value:
                    continue
                old = alarm.state_value
                alarm.update_state(verdict.reason, json.dumps(verdict.reason_data), verdict.state)
                self._remember(alarm, old, verdict)
                self._notify(alarm, old, verdict)
                changed.append((alarm.name, verdict.state))
        return changed

    def _remember(self, alarm: Any, old: str, verdict: Verdict) -> None:
        entry = {
            "AlarmName": alarm.name,
            "AlarmType": "MetricAlarm",
            "Timestamp": datetime.fromtimestamp(self.clock(), UTC),
            "HistoryItemType": "StateUpdate",
            "HistorySummary": f"Alarm updated from {old} to {verdict.state}",
            "HistoryData": json.dumps(
                {
                    "version": "1.0",
                    "oldState": {"stateValue": old},
                    "newState": {"stateValue": verdict.state, "stateReason": verdict.reason, "stateReasonData": verdict.reason_data},
                }
            ),
        }
        self.history.setdefault(alarm.name, deque(maxlen=HISTORY)).appendleft(entry)

    @property
    def locks(self) -> list[AbstractContextManager[Any]]:
        """The locks a snapshot holds while it takes its cut (each held only for short updates)."""
        return [self._lock, self.store.lock]

    def export(self) -> dict[str, Any]:
        """What a snapshot keeps of this (the alarms themselves are moto's): metrics, alarm history."""
        return {"metrics": self.store.export(), "history": self.history, "evaluations": self.evaluations}

    def load(self, state: dict[str, Any]) -> None:
        self.store.load(state["metrics"])
        with self._lock:
            self.history, self.evaluations = state["history"], state["evaluations"]

    def alarm_history(self, name: str | None = None, item_type: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            entries = [e for alarm, items in self.history.items() if name in (None, alarm) for e in items]
        return sorted((e for e in entries if item_type in (None, e["HistoryItemType"])), key=lambda e: e["Timestamp"], reverse=True)

    def _notify(self, alarm: Any, old: str, verdict: Verdict) -> None:
        if not alarm.actions_enabled or self.publish is None:
            return
        targets = {ALARM: alarm.alarm_actions, OK: alarm.ok_actions, INSUFFICIENT: alarm.insufficient_data_actions}[verdict.state]
        region = REGION_NAMES.get(self.region, self.region)
        subject = f'{verdict.state}: "{alarm.name}" in {region}'[:100]
        message = json.dumps(alarm_message(alarm, old, verdict, self.account, region, self.clock()))
        for target in targets or []:
            if ":sns:" not in target:
                LOG.warning("alarm %s: action %s is not an SNS topic; not run by the sandbox", alarm.name, target)
                continue
            try:
                self.publish(target, subject, message)
            except Exception as error:  # noqa: BLE001 - CloudWatch logs a failed action in the history
                LOG.error("alarm %s could not notify %s: %s", alarm.name, target, error)
                self.history.setdefault(alarm.name, deque(maxlen=HISTORY)).appendleft(
                    {
                        "AlarmName": alarm.name,
                        "AlarmType": "MetricAlarm",
                        "Timestamp": datetime.fromtimestamp(self.clock(), UTC),
                        "HistoryItemType": "Action",
                        "HistorySummary": f"Failed to execute action {target}",
                        "HistoryData": json.dumps({"actionState": "Failed", "notificationResource": target, "error": str(error)}),
                    }
                )


def rule_of(alarm: Any) -> AlarmRule:
    """The evaluation settings of one of moto's metric alarms."""
    if getattr(alarm, "metric_data_queries", None) or not alarm.metric_name:
        raise Unsupported(f"alarm {alarm.name}: metric-math alarms are not evaluated by the sandbox")
    statistic = alarm.extended_statistic or alarm.statistic
    if not statistic:
        raise Unsupported(f"alarm {alarm.name}: no statistic")
    periods = int(alarm.evaluation_periods)
    if not (int(alarm.period) in (10, 30) or (int(alarm.period) >= 60 and int(alarm.period) % 60 == 0)):
        raise Unsupported(f"alarm {alarm.name}: period {alarm.period} is not 10, 30 or a multiple of 60")
    return AlarmRule(
        name=alarm.name,
        statistic=statistic,
        period_s=int(alarm.period),
        evaluation_periods=periods,
        datapoints_to_alarm=int(alarm.datapoints_to_alarm or periods),
        threshold=float(alarm.threshold),
        comparison=alarm.comparison_operator,
        treat_missing=alarm.treat_missing_data or "missing",
    )


def alarm_message(alarm: Any, old: str, verdict: Verdict, account: str, region_name: str, now: float) -> dict[str, Any]:
    """The JSON CloudWatch publishes to an alarm's SNS topic.
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html"""
    iso = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description or None,
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": alarm.configuration_updated_timestamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000",
        "NewStateValue": verdict.state,
        "NewStateReason": verdict.reason,
        "StateChangeTime": iso,
        "Region": region_name,
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old,
        "OKActions": list(alarm.ok_actions or []),
        "AlarmActions": list(alarm.alarm_actions or []),
        "InsufficientDataActions": list(alarm.insufficient_data_actions or []),
        "Trigger": {
            "MetricName": alarm.metric_name,
            "Namespace": alarm.namespace,
            "StatisticType": "ExtendedStatistic" if alarm.extended_statistic else "Statistic",
            "Statistic": (alarm.extended_statistic or alarm.statistic or "").upper(),
            "Unit": alarm.unit,
            "Dimensions": [{"value": d.value, "name": d.name} for d in alarm.dimensions],
            "Period": int(alarm.period),
            "EvaluationPeriods": int(alarm.evaluation_periods),
            "DatapointsToAlarm": int(alarm.datapoints_to_alarm or alarm.evaluation_periods),
            "ComparisonOperator": alarm.comparison_operator,
            "Threshold": float(alarm.threshold),
            "TreatMissingData": alarm.treat_missing_data or "missing",
            "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile or "",
        },
    }

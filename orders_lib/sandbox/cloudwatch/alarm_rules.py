"""How a CloudWatch metric alarm decides its state from its metric's recent periods: the
statistic per period, M out of N datapoints breaching (``DatapointsToAlarm`` of
``EvaluationPeriods``), the comparison, and what missing data counts as. Pure: the runner
(``service``) feeds it datapoints and acts on the result.

Which periods: the ``EvaluationPeriods`` most recent, ending with the period the evaluation
falls in, or, while that period has no datapoint yet, with the one before it (CloudWatch waits
for late datapoints rather than reading a period that has only begun as missing). So a burst of
failures at the end of a minute still counts at the next evaluation, and a sum returns to OK
once a whole period passes without one.
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

OK, ALARM, INSUFFICIENT = "OK", "ALARM", "INSUFFICIENT_DATA"
_COMPARISONS = {
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", lambda value, threshold: value >= threshold),
    "GreaterThanThreshold": ("greater than", lambda value, threshold: value > threshold),
    "LessThanThreshold": ("less than", lambda value, threshold: value < threshold),
    "LessThanOrEqualToThreshold": ("less than or equal to", lambda value, threshold: value <= threshold),
}
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")


class Unsupported(ValueError):
    """An alarm the sandbox cannot evaluate (anomaly detection, metric math): reported, left alone."""


@dataclass(frozen=True)
class AlarmRule:
    name: str
    statistic: str
    period_s: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    treat_missing: str = "missing"

    def __post_init__(self) -> None:
        if self.comparison not in _COMPARISONS:
            raise Unsupported(f"alarm {self.name}: comparison {self.comparison} is not evaluated by the sandbox")
        if self.treat_missing not in TREATMENTS:
            raise Unsupported(f"alarm {self.name}: TreatMissingData {self.treat_missing!r} is unknown")

    def periods(self, now: float, current_has_data: bool = True) -> list[float]:
        """Starts of the ``evaluation_periods`` periods to evaluate, oldest first: ending with the
        period ``now`` falls in, or with the one before while the current has no datapoint."""
        current = int(now // self.period_s) * self.period_s
        last = current if current_has_data else current - self.period_s
        return [float(last - self.period_s * back) for back in range(self.evaluation_periods - 1, -1, -1)]


@dataclass(frozen=True)
class Verdict:
    state: str
    reason: str
    reason_data: dict[str, Any]


def evaluate(rule: AlarmRule, datapoints: Mapping[float, float], now: float, current_state: str) -> Verdict | None:
    """The state ``rule`` is in given ``datapoints`` (period start -> statistic); None to keep
    ``current_state`` (every datapoint missing and missing data ignored)."""
    wording, breaches = _COMPARISONS[rule.comparison]
    periods = rule.periods(now, rule.periods(now)[-1] in datapoints)
    present = [(start, datapoints[start]) for start in periods if start in datapoints]
    missing = len(periods) - len(present)
    data = {
        "version": "1.0",
        "queryDate": _iso(now),
        "startDate": _iso(periods[0]),
        "statistic": rule.statistic,
        "period": rule.period_s,
        "recentDatapoints": [value for _, value in present],
        "threshold": rule.threshold,
        "evaluatedDatapoints": [{"timestamp": _iso(start), "value": value} for start, value in reversed(present)],
    }
    if not present:
        plural = "s" if missing > 1 else ""
        if rule.treat_missing == "ignore":
            return None
        if rule.treat_missing == "missing":
            return Verdict(INSUFFICIENT, f"Insufficient Data: {missing} datapoint{plural} were unknown.", data)
        treated = "Breaching" if rule.treat_missing == "breaching" else "NonBreaching"
        state = ALARM if rule.treat_missing == "breaching" else OK
        reason = (
            f"Threshold Crossed: no datapoints were received for {missing} period{plural} and {missing} missing "
            f"datapoint{plural} {'was' if missing == 1 else 'were'} treated as [{treated}]."
        )
        return Verdict(state, reason, data)
    breaching = sum(1 for _, value in present if breaches(value, rule.threshold))
    if rule.treat_missing == "breaching":
        breaching += missing
    considered = len(present) + (missing if rule.treat_missing in ("breaching", "notBreaching") else 0)
    state = ALARM if breaching >= rule.datapoints_to_alarm else OK
    shown = ", ".join(f"{float(value)!r} ({_short(start)})" for start, value in reversed(present))
    transition = f"{current_state} -> {state}" if current_state != state else f"{state} -> {state}"
    if state == ALARM:
        reason = (
            f"Threshold Crossed: {breaching} out of the last {considered} datapoints [{shown}] "
            f"{'was' if breaching == 1 else 'were'} {wording} the threshold ({float(rule.threshold)!r}) "
            f"(minimum {rule.datapoints_to_alarm} datapoint{'s' if rule.datapoints_to_alarm > 1 else ''} "
            f"for {transition} transition)."
        )
    else:
        reason = (
            f"Threshold Crossed: {considered - breaching} out of the last {considered} datapoints [{shown}] "
            f"{'was' if considered - breaching == 1 else 'were'} not {wording} the threshold ({float(rule.threshold)!r}) "
            f"(minimum 1 datapoint for {transition} transition)."
        )
    return Verdict(state, reason, data)


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _short(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%d/%m/%y %H:%M:%S")

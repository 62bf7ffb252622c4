"""Where the sandbox's CloudWatch Logs plugs into moto (5.2.x).

* ``Fn::GetAtt LogGroup.Arn`` is the group's ARN with ``:*`` after it on AWS (the form IAM
  policies use for its streams); moto gave it without, so a role granting ``logs:PutLogEvents``
  on it covered no stream once IAM was enforced. ``log_group_attribute`` adds it.
  https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-logs-loggroup.html
* Filter patterns: moto's ``EventMessageFilter`` (``FilterLogEvents``, ``StartLiveTail``) read a
  single term or phrase and let anything else match every event. ``PatternFilter`` takes its
  place in ``moto.logs.models`` and reads the whole syntax (``filter_patterns``). An invalid
  pattern is refused as AWS refuses it, 400 ``InvalidParameterException``, by ``FilterLogEvents``
  (even on a group without events), ``PutSubscriptionFilter`` and ``PutMetricFilter``.
  A subscription filter's pattern also chooses the events it delivers (moto delivered all).
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
  moto still extracts no metric from a metric filter: its pattern is only checked.
"""

from __future__ import annotations

from typing import Any

import moto.logs.models
from moto.logs.exceptions import InvalidParameterException
from moto.logs.models import LogGroup, LogsBackend, LogStream

from orders_lib.sandbox.logs.filter_patterns import InvalidFilterPattern, Pattern, compile_pattern
from orders_lib.sandbox.patching import Patches

_PATCHES = Patches("CloudWatch Logs")
_moto_attribute = LogGroup.get_cfn_attribute
_moto_filter_log_events = LogsBackend.filter_log_events
_moto_put_subscription_filter = LogsBackend.put_subscription_filter
_moto_put_metric_filter = LogsBackend.put_metric_filter
_moto_send_log_events = LogStream._send_log_events


def log_group_attribute(self: LogGroup, attribute_name: str) -> str:
    """CloudFormation's ``Arn`` of a log group, ending in ``:*`` as AWS documents it."""
    if attribute_name == "Arn":
        return f"{self.arn}:*"
    return _moto_attribute(self, attribute_name)


def checked(pattern: str | None) -> Pattern:
    """The compiled pattern (none matches every event), or AWS's answer to an invalid one."""
    try:
        return compile_pattern(pattern or "")
    except InvalidFilterPattern as error:
        raise InvalidParameterException(str(error)) from error


class PatternFilter:
    """moto's ``EventMessageFilter``, made with the pattern and asked ``matches(message)``."""

    def __init__(self, pattern: str | None):
        self._pattern = checked(pattern)

    def matches(self, message: str) -> bool:
        return self._pattern.matches(message)


def filter_log_events(
    self: LogsBackend,
    log_group_name: str,
    log_stream_names: list[str],
    start_time: int,
    end_time: int,
    limit: int | None,
    next_token: str | None,
    filter_pattern: str,
    interleaved: bool,
) -> Any:
    """moto's, after the pattern is checked: AWS refuses an invalid one even where no event is read."""
    checked(filter_pattern)
    return _moto_filter_log_events(
        self, log_group_name, log_stream_names, start_time, end_time, limit, next_token, filter_pattern, interleaved
    )


def put_subscription_filter(
    self: LogsBackend, log_group_name: str, filter_name: str, filter_pattern: str, destination_arn: str, role_arn: str
) -> None:
    checked(filter_pattern)
    _moto_put_subscription_filter(self, log_group_name, filter_name, filter_pattern, destination_arn, role_arn)


def put_metric_filter(self: LogsBackend, filter_name: str, filter_pattern: str, log_group_name: str, metric_transformations: str) -> None:
    checked(filter_pattern)
    _moto_put_metric_filter(self, filter_name, filter_pattern, log_group_name, metric_transformations)


def send_log_events(self: LogStream, service: str, destination_arn: str, filter_name: str, log_events: list[dict[str, Any]]) -> None:
    """A subscription delivers the events its filter pattern matches, and nothing when none does."""
    subscription = self.log_group.subscription_filters.get(filter_name)
    if subscription is not None:
        pattern = checked(subscription.filter_pattern)
        log_events = [event for event in log_events if pattern.matches(event["message"])]
    if log_events:
        _moto_send_log_events(self, service=service, destination_arn=destination_arn, filter_name=filter_name, log_events=log_events)


def install() -> None:
    _PATCHES.begin()
    _PATCHES.replace(LogGroup, "get_cfn_attribute", log_group_attribute)
    _PATCHES.replace(moto.logs.models, "EventMessageFilter", PatternFilter)
    _PATCHES.replace(LogsBackend, "filter_log_events", filter_log_events)
    _PATCHES.replace(LogsBackend, "put_subscription_filter", put_subscription_filter)
    _PATCHES.replace(LogsBackend, "put_metric_filter", put_metric_filter)
    _PATCHES.replace(LogStream, "_send_log_events", send_log_events)


def uninstall() -> None:
    _PATCHES.restore()

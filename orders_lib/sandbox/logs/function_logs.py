"""A function's log lines as the Lambda service writes them: to ``/aws/lambda/<name>``, under the
function's execution role.

Without ``logs:CreateLogGroup`` (for a group that does not exist yet), ``logs:CreateLogStream``
or ``logs:PutLogEvents`` the lines are lost without a word to the function, as on AWS (the
refusal is in the sandbox's own log). Lines that reach the group are also read for embedded
metrics, as CloudWatch Logs extracts them on ingestion.
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from moto.logs.models import logs_backends

Refuses = Callable[[str, str, str], object]  # (function, action, resource ARN) -> a refusal, or None


class FunctionLogs:
    def __init__(
        self,
        account: str,
        region: str,
        refuses: Refuses,
        ingested: Callable[[Iterable[str]], object],
        section: Callable[[], AbstractContextManager[Any]] = nullcontext,
    ):
        """``section`` wraps each write (the snapshot gate's shared section)."""
        self.account, self.region = account, region
        self._refuses, self._ingested, self._section = refuses, ingested, section

    def write(self, function: str, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        """``events`` are ``(epoch milliseconds, message)`` pairs, oldest first."""
        with self._section():
            self._write(function, group, stream, events)

    def _write(self, function: str, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        logs = logs_backends[self.account][self.region]
        group_arn = f"arn:aws:logs:{self.region}:{self.account}:log-group:{group}"
        stream_arn = f"{group_arn}:log-stream:{stream}"
        if group not in logs.groups:
            if self._refuses(function, "logs:CreateLogGroup", group_arn):
                return
            logs.ensure_log_group(group)
        if stream not in logs.groups[group].streams:
            if self._refuses(function, "logs:CreateLogStream", stream_arn):
                return
            logs.create_log_stream(group, stream)
        if self._refuses(function, "logs:PutLogEvents", stream_arn):
            return
        self._ingested(message for _, message in events)
        logs.put_log_events(group, stream, [{"timestamp": ts, "message": message} for ts, message in events])

"""CloudWatch Logs' retention in the sandbox: the events of a log group with a retention setting
are deleted once older than it, as CloudWatch Logs deletes them.
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html#SettingLogRetention

moto stores ``RetentionInDays`` but never deletes an event, so a long-running sandbox's memory
(and its snapshots) grew with every log line. AWS deletes expired events within a few days; the
sandbox at the TTL sweeper's next round, on the sandbox clock (an event's age is its own
timestamp against ``orders sandbox clock``). A group without a retention setting keeps its
events forever, on AWS and here. Streams are trimmed from their oldest end, in place, so a line
appended meanwhile by a function is never lost.
"""

from __future__ import annotations

import logging

LOG = logging.getLogger(__name__)
DAY_S = 86_400


class LogRetention:
    def __init__(self, account: str, region: str):
        self.account, self.region = account, region
        self.deleted = 0

    def sweep(self, now: float) -> int:
        """Delete the events older than their group's retention at ``now`` (epoch seconds); how many."""
        from moto.logs.models import logs_backends

        deleted = 0
        for group in list(logs_backends[self.account][self.region].groups.values()):
            if not group.retention_in_days:
                continue
            cutoff_ms = (now - int(group.retention_in_days) * DAY_S) * 1000
            for stream in list(group.streams.values()):
                events = stream.events
                count = 0
                while count < len(events) and events[count].timestamp < cutoff_ms:
                    count += 1
                if count:
                    del events[:count]
                    deleted += count
        if deleted:
            LOG.info("log retention: %d event(s) past their group's retention deleted", deleted)
        self.deleted += deleted
        return deleted

"""AWS's documented limits and behaviours the capacity model follows, each with its source page.

Every figure here was read on the page named beside it (2026-11-30). Where AWS publishes no
figure (stream shards per table partition), the model says so where it estimates.
"""

from __future__ import annotations

# Lambda polls each shard of a DynamoDB stream "at a base rate of 4 times per second"; when it
# finds records it invokes the function, waits, and "resumes polling until it receives more
# records": a shard with a backlog is read again as soon as a batch is done, so the polling
# interval adds latency to a shard that is caught up, and does not cap one that is behind.
# It gathers a batch until it is full, the batching window (up to 5 minutes) expires, or the
# payload reaches 6 MB. https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
STREAM_POLLS_PER_S = 4.0

# ParallelizationFactor: concurrent batches per shard, 1 (default) to 10; BatchSize up to 10,000
# (default 100); MaximumBatchingWindowInSeconds default 0 (300 at most, API reference).
# https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html
PARALLELIZATION_FACTOR_MAX = 10
BATCH_SIZE_MAX = 10_000
BATCHING_WINDOW_MAX_S = 300.0

# "For single-Region tables ... up to two processes to read from the same DynamoDB Streams shard
# at the same time. Exceeding this limit can result in request throttling." One mapping is one
# reader, whatever its ParallelizationFactor.
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html
READERS_PER_SHARD = 2

# Stream records are kept 24 hours; "a shard might split in response to high levels of write
# activity on its parent table". AWS publishes no shard count: the model estimates one shard per
# table partition (below). https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html
STREAM_RETENTION_S = 24 * 3600.0

# GetRecords returns at most 1,000 records or 1 MB.
# https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetRecords.html
# (The "5 GetRecords calls a second per shard" often quoted is Kinesis Data Streams' quota; the
# DynamoDB Streams pages read here state none, so the model does not use it.)
GET_RECORDS_MAX_RECORDS = 1000

# One partition serves up to 1,000 write request units (or 3,000 read units) a second.
# https://repost.aws/knowledge-center/on-demand-table-throttling-dynamodb
PARTITION_WRITE_UNITS_PER_S = 1000.0

# A new on-demand table sustains up to 4,000 writes/s (12,000 reads/s) at once and instantly takes
# double its previous peak; growing past that faster than over 30 minutes may throttle
# (knowledge-center page above). Default table-level quota: 40,000 read and 40,000 write request
# units a second per table, raised on request.
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode.html
ON_DEMAND_NEW_TABLE_WRITE_UNITS_PER_S = 4000.0
TABLE_MAX_WRITE_UNITS_PER_S = 40_000.0

# Write request unit: one write of up to 1 KB; read request unit: one strongly consistent read of
# up to 4 KB, or two eventually consistent ones (same page).
# "If a ConditionExpression evaluates to false during a conditional write, DynamoDB still consumes
# write capacity from the table": one unit when the item does not exist, else by the item's size.
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html
WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096

# Concurrent executions: 1,000 per account and Region by default ("can be increased up to tens
# of thousands"; new accounts start lower). https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
ACCOUNT_CONCURRENCY = 1000

# Each function scales by at most 1,000 execution environments every 10 seconds.
# https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html
SCALING_ENVIRONMENTS_PER_10_S = 1000

# Lambda bills duration rounded up to the nearest 1 ms. https://aws.amazon.com/lambda/pricing/
BILLING_GRANULARITY_MS = 1.0

# SNS Publish + PublishBatch, messages per second per account and Region (standard topics), soft
# quotas; PublishBatch carries up to 10 messages and each counts.
# https://docs.aws.amazon.com/general/latest/gr/sns.html
SNS_PUBLISH_MESSAGES_PER_S = {
    "us-east-1": 30_000.0,
    "us-west-2": 9_000.0,
    "eu-west-1": 9_000.0,
    **dict.fromkeys(
        ("us-east-2", "us-west-1", "ap-south-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "eu-central-1"),
        1_500.0,
    ),
}
SNS_PUBLISH_MESSAGES_PER_S_ELSEWHERE = 300.0
SNS_PUBLISH_BATCH_MAX = 10


def sns_publish_quota(region: str) -> float:
    """Messages a second SNS accepts by default in ``region`` (standard topics)."""
    return SNS_PUBLISH_MESSAGES_PER_S.get(region, SNS_PUBLISH_MESSAGES_PER_S_ELSEWHERE)


SOURCES = {
    "stream processing": "https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html",
    "Lambda concurrency": "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html",
    "SNS publish quota": "https://docs.aws.amazon.com/general/latest/gr/sns.html",
    "DynamoDB table quota": "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode.html",
}

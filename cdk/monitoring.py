"""Operations for the order pipeline: alarms, the topic they notify and a dashboard.

Each alarm watches one way the pipeline fails, over 1-minute periods, treats missing data as
not breaching (no traffic is not a failure) and notifies ``techtest-orders-alarms`` on ALARM
and on OK. That topic is for operators, apart from the order notifications (customer events),
and is encrypted with the stack's key, whose policy lets CloudWatch use it for this topic.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from orders_lib.deploy.naming import ResourceNames
from orders_lib.pipeline import metrics as pipeline

PERIOD = Duration.minutes(1)
ITERATOR_AGE_LIMIT_MS = 60_000  # a minute behind the table is a stuck or failing mapping


@dataclass(frozen=True)
class Watched:
    """What the alarms and the dashboard look at."""

    create_function: lambda_.IFunction
    process_function: lambda_.IFunction
    dlq: sqs.IQueue


class OrderMonitoring(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, names: ResourceNames, key: kms.Key, watched: Watched, removal: RemovalPolicy
    ) -> None:
        super().__init__(scope, construct_id)
        self.names = names
        self.topic = sns.Topic(self, "AlarmsTopic", topic_name=names.alarms_topic, master_key=key, enforce_ssl=True)
        self.topic.apply_removal_policy(removal)
        # Alarms publish as CloudWatch; an encrypted topic needs the key to let it, for this topic only.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToUseTheAlarmsTopic",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],  # in a key policy, "*" means this key
                conditions={
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{Stack.of(self).partition}:cloudwatch:"
                        f"{Stack.of(self).region}:{Stack.of(self).account}:alarm:{names.alarm('*')}"
                    }
                },
            )
        )
        self.metrics = self._metrics(watched)
        specs = self._alarm_specs(watched)
        self.alarm_names = [spec[1] for spec in specs]
        self.alarms = [self._alarm(*spec) for spec in specs]
        self.dashboard = self._dashboard()

    def _metrics(self, watched: Watched) -> dict[str, cloudwatch.Metric]:
        def own(name: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=pipeline.NAMESPACE, metric_name=name, dimensions_map={"service": self.names.stack}, statistic="Sum", period=PERIOD
            )

        create, process = watched.create_function, watched.process_function
        found = {
            "create_invocations": create.metric_invocations(period=PERIOD, statistic="Sum"),
            "create_errors": create.metric_errors(period=PERIOD, statistic="Sum"),
            "create_throttles": create.metric_throttles(period=PERIOD, statistic="Sum"),
            "create_duration_p50": create.metric_duration(period=PERIOD, statistic="p50"),
            "create_duration_p99": create.metric_duration(period=PERIOD, statistic="p99"),
            "process_invocations": process.metric_invocations(period=PERIOD, statistic="Sum"),
            "process_errors": process.metric_errors(period=PERIOD, statistic="Sum"),
            "process_duration_p50": process.metric_duration(period=PERIOD, statistic="p50"),
            "process_duration_p99": process.metric_duration(period=PERIOD, statistic="p99"),
            "iterator_age": process.metric("IteratorAge", period=PERIOD, statistic="Maximum"),
            "dlq_visible": watched.dlq.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
        }
        found.update({name: own(name) for name in pipeline.ALL})
        return found

    def _alarm_specs(self, watched: Watched) -> list[tuple[str, str, cloudwatch.Metric, float, str]]:
        m = self.metrics
        return [
            (
                "DlqAlarm",
                "dlq-not-empty",
                m["dlq_visible"],
                1,
                "A batch of stream records failed every attempt and waits in the DLQ: make check-dlq, then redrive.",
            ),
            (
                "ProcessErrorsAlarm",
                "process-errors",
                m["process_errors"],
                1,
                "ProcessOrder failed an invocation (exception, timeout or crash); its batch is retried, then bisected.",
            ),
            (
                "IteratorAgeAlarm",
                "stream-lag",
                m["iterator_age"],
                ITERATOR_AGE_LIMIT_MS,
                "ProcessOrder is more than a minute behind the table's stream: failing or throttled.",
            ),
            (
                "CreateErrorsAlarm",
                "create-errors",
                m["create_errors"],
                1,
                "CreateOrder failed an invocation (not a 4xx answer: an exception, timeout or crash).",
            ),
            (
                "CreateThrottlesAlarm",
                "create-throttles",
                m["create_throttles"],
                1,
                "CreateOrder refused invocations at its concurrency limit (TooManyRequestsException).",
            ),
            (
                "NotificationsFailedAlarm",
                "notifications-failed",
                m[pipeline.NOTIFICATIONS_FAILED],
                1,
                "SNS refused order notifications; the records are retried and reach the DLQ if it persists.",
            ),
        ]

    def _alarm(self, construct_id: str, what: str, metric: cloudwatch.Metric, threshold: float, description: str) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_name=self.names.alarm(what),
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        alarm.add_ok_action(actions.SnsAction(self.topic))
        return alarm

    def _dashboard(self) -> cloudwatch.Dashboard:
        m = self.metrics

        def graph(title: str, *names: str, right: tuple[str, ...] = ()) -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(title=title, left=[m[n] for n in names], right=[m[n] for n in right], width=8, height=6)

        dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=self.names.dashboard, default_interval=Duration.hours(3))
        dashboard.add_widgets(cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24, height=4))
        dashboard.add_widgets(
            graph("Invocations", "create_invocations", "process_invocations"),
            graph("Errors and throttles", "create_errors", "create_throttles", "process_errors"),
            graph("Duration p50 / p99 (ms)", "create_duration_p50", "create_duration_p99", "process_duration_p50", "process_duration_p99"),
        )
        dashboard.add_widgets(
            graph("Stream lag: IteratorAge max (ms)", "iterator_age"),
            graph("DLQ: visible messages", "dlq_visible"),
            graph(
                "Orders",
                pipeline.ORDERS_CREATED,
                pipeline.ORDERS_REPEATED,
                pipeline.ORDERS_REJECTED,
                pipeline.ORDERS_PROCESSED,
                right=(pipeline.NOTIFICATIONS_PUBLISHED, pipeline.NOTIFICATIONS_FAILED),
            ),
        )
        return dashboard

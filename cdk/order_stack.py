"""The order pipeline stack: CMK, table with stream, topic, DLQ, two functions,
their roles and log groups, and the stream's event source mapping.

IAM is written statement by statement (no ``grant_*`` helpers, no managed
policies) so each role holds exactly the calls its code makes; see
``orders_lib/aws/repository.py`` and ``notifier.py`` for those calls.
"""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct, IConstruct

import nag
from monitoring import OrderMonitoring, Watched
from orders_lib.deploy import powertools
from orders_lib.deploy.mapping_scale import MappingScale
from orders_lib.deploy.naming import ResourceNames
from orders_lib.pipeline.metrics import NAMESPACE as METRICS_NAMESPACE

# The functions' runtime and architecture; they also choose the Powertools layer build.
RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
TTL_DAYS = 7
LOG_RETENTION = logs.RetentionDays.ONE_MONTH

# Filter criteria: only INSERTs of orders in NEW invoke ProcessOrder.
NEW_ORDER_INSERTS = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"status": {"S": ["NEW"]}}}}

# The key's data-plane actions a role needs to use CMK-encrypted DynamoDB items
# and stream records, SNS messages, SQS messages and its Lambda environment.
# Written out, without the wildcard forms (GenerateDataKey*, ReEncrypt*).
KEY_USE = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]


class OrderStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: ResourceNames,
        removal: RemovalPolicy,
        asset_dir: Path,
        scale: MappingScale | None = None,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, stack_name=names.stack, **kwargs)
        self.names = names
        self.removal = removal
        self.scale = scale or MappingScale()

        self.key = self._key()
        self.table = self._table()
        self.topic = self._topic()
        self.dlq = self._dlq()

        code = lambda_.Code.from_asset(str(asset_dir), exclude=["__pycache__", "*.pyc"])
        powertools_layer = self._powertools_layer()

        self.create_log_group = self._log_group("CreateOrderLogGroup", names.create_function)
        self.create_role = self._role("CreateOrderRole", "CreateOrder: conditional put of new orders", self.create_log_group)
        self.create_role.add_to_policy(
            iam.PolicyStatement(
                sid="PutNewOrdersReadBackDuplicates",
                # PutItem with attribute_not_exists(orderId); GetItem only when a
                # duplicate's failed condition returned no item (repository.create).
                actions=["dynamodb:PutItem", "dynamodb:GetItem"],
                resources=[self.table.table_arn],
            )
        )
        self.create_function = self._function(
            "CreateOrderFunction",
            name=names.create_function,
            handler="create_order.handler",
            timeout=Duration.seconds(30),
            environment={"TABLE_NAME": self.table.table_name, "TTL_DAYS": str(TTL_DAYS), **self._metrics_environment()},
            role=self.create_role,
            log_group=self.create_log_group,
            code=code,
            layer=powertools_layer,
        )

        self.process_log_group = self._log_group("ProcessOrderLogGroup", names.process_function)
        self.process_role = self._role(
            "ProcessOrderRole", "ProcessOrder: stream records to PROCESSED and SNS notifications", self.process_log_group
        )
        self._process_permissions(self.process_role)
        self.process_function = self._function(
            "ProcessOrderFunction",
            name=names.process_function,
            handler="process_order.handler",
            timeout=Duration.seconds(60),
            environment={"TABLE_NAME": self.table.table_name, "TOPIC_ARN": self.topic.topic_arn, **self._metrics_environment()},
            role=self.process_role,
            log_group=self.process_log_group,
            code=code,
            layer=powertools_layer,
        )
        self.mapping = self._event_source_mapping()
        self.monitoring = OrderMonitoring(
            self,
            "Monitoring",
            names=names,
            key=self.key,
            removal=self.removal,
            watched=Watched(self.create_function, self.process_function, self.dlq),
        )
        self._outputs()
        self._acknowledge()

    # --- data and messaging -------------------------------------------------

    def _key(self) -> kms.Key:
        key = kms.Key(
            self,
            "OrdersKey",
            description=f"Encrypts the {self.names.stack} table, stream, topic, DLQ, log groups and Lambda environments",
            enable_key_rotation=True,
            removal_policy=self.removal,
            pending_window=Duration.days(7) if self.removal == RemovalPolicy.DESTROY else Duration.days(30),
        )
        # CDK's default key policy gives this account's IAM the say (the roles'
        # statements below authorise DynamoDB, SNS, SQS and Lambda use on their
        # behalf). CloudWatch Logs encrypts as its own service principal, so it
        # needs a statement here, limited to this stack's two log groups.
        log_group_arns = [
            f"arn:{self.partition}:logs:{self.region}:{self.account}:log-group:{self.names.log_group(name)}"
            for name in (self.names.create_function, self.names.process_function)
        ]
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsForThisStacksLogGroups",
                principals=[iam.ServicePrincipal(f"logs.{self.region}.amazonaws.com")],
                actions=["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                resources=["*"],  # in a key policy, "*" means this key
                conditions={"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group_arns}},
            )
        )
        kms.Alias(self, "OrdersKeyAlias", alias_name=self.names.key_alias, target_key=key, removal_policy=self.removal)
        self.key_alias = self.names.key_alias
        return key

    def _table(self) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            "OrdersTable",
            table_name=self.names.table,
            partition_key=dynamodb.Attribute(name="orderId", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(point_in_time_recovery_enabled=True),
            time_to_live_attribute="expiresAt",
            removal_policy=self.removal,
        )

    @property
    def stream_arn(self) -> str:
        """The table's stream: CDK types it optional, for tables made without one; this table has one."""
        arn = self.table.table_stream_arn
        if arn is None:
            raise RuntimeError(f"{self.names.table} was made without its stream, which ProcessOrder reads")
        return arn

    def _topic(self) -> sns.Topic:
        topic = sns.Topic(self, "NotificationsTopic", topic_name=self.names.topic, master_key=self.key, enforce_ssl=True)
        topic.apply_removal_policy(self.removal)
        return topic

    def _dlq(self) -> sqs.Queue:
        return sqs.Queue(
            self,
            "OrdersDlq",
            queue_name=self.names.dlq,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=self.removal,
        )

    # --- functions ----------------------------------------------------------

    def _powertools_layer(self) -> lambda_.ILayerVersion:
        """Powertools' public layer of the installed release, the one the tests ran.

        Its ARN is the value of the public SSM parameter Powertools publishes for
        that release, resolved by CloudFormation on deploy (a template parameter of
        type ``AWS::SSM::Parameter::Value<String>``), instead of a layer number
        written here, which nothing tied to the release the tests run. Synth
        stays offline: ``value_from_lookup`` would need credentials.
        See ``orders_lib/deploy/powertools.py``.
        """
        parameter = powertools.layer_parameter(RUNTIME.name, ARCHITECTURE.name, powertools.installed_version())
        arn = ssm.StringParameter.value_for_string_parameter(self, parameter)
        return lambda_.LayerVersion.from_layer_version_arn(self, "PowertoolsLayer", arn)

    def _log_group(self, construct_id: str, function_name: str) -> logs.LogGroup:
        return logs.LogGroup(
            self,
            construct_id,
            log_group_name=self.names.log_group(function_name),
            retention=LOG_RETENTION,
            encryption_key=self.key,
            removal_policy=self.removal,
        )

    def _role(self, construct_id: str, description: str, log_group: logs.LogGroup) -> iam.Role:
        role = iam.Role(self, construct_id, assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description=description)
        # Instead of AWSLambdaBasicExecutionRole (logs:* on every log group):
        # write to the function's own log group only. The group's ARN attribute
        # ends in ":*", which covers its log streams.
        role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteOwnLogGroup",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            )
        )
        role.add_to_policy(iam.PolicyStatement(sid="UseOrdersKey", actions=KEY_USE, resources=[self.key.key_arn]))
        return role

    def _process_permissions(self, role: iam.Role) -> None:
        statements = [
            iam.PolicyStatement(
                sid="ReadTableStream",
                actions=["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                resources=[self.stream_arn],
            ),
            iam.PolicyStatement(
                sid="ListStreamsHasNoResourceLevelPermission",
                actions=["dynamodb:ListStreams"],
                resources=["*"],
            ),
            iam.PolicyStatement(
                # statuses (one consistent BatchGetItem per batch) and complete (the conditional
                # NEW -> PROCESSED write with processedAt and notifiedAt)
                sid="ReadAndCompleteOrders",
                actions=["dynamodb:BatchGetItem", "dynamodb:UpdateItem"],
                resources=[self.table.table_arn],
            ),
            iam.PolicyStatement(
                # PublishBatch is authorised by sns:Publish
                sid="PublishNotifications",
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
            ),
            iam.PolicyStatement(
                # the event source mapping sends its on-failure records with this role
                sid="SendFailedBatchesToDlq",
                actions=["sqs:SendMessage"],
                resources=[self.dlq.queue_arn],
            ),
        ]
        for statement in statements:
            role.add_to_policy(statement)

    def _metrics_environment(self) -> dict[str, str]:
        """The pipeline's own metrics (Powertools, in the logs): one namespace, the stack as ``service``."""
        return {"POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE, "POWERTOOLS_SERVICE_NAME": self.names.stack}

    def _function(
        self,
        construct_id: str,
        *,
        name: str,
        handler: str,
        timeout: Duration,
        environment: dict[str, str],
        role: iam.Role,
        log_group: logs.LogGroup,
        code: lambda_.Code,
        layer: lambda_.ILayerVersion,
    ) -> lambda_.Function:
        return lambda_.Function(
            self,
            construct_id,
            function_name=name,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            memory_size=256,
            timeout=timeout,
            handler=handler,
            code=code,
            layers=[layer],
            environment=environment,
            environment_encryption=self.key,
            role=role,
            log_group=log_group,
        )

    def _event_source_mapping(self) -> lambda_.CfnEventSourceMapping:
        # L1 on purpose: the L2 mapping and SqsDlq add grant_* statements
        # (GetQueueAttributes, GetQueueUrl, kms wildcards) that the explicit
        # role above already covers more narrowly.
        mapping = lambda_.CfnEventSourceMapping(
            self,
            "OrdersStreamMapping",
            function_name=self.process_function.function_name,
            event_source_arn=self.stream_arn,
            # TRIM_HORIZON: an order written between table and mapping creation
            # (first deploy, or a mapping re-created) is still processed; the
            # conditional NEW -> PROCESSED update makes a replay harmless.
            starting_position="TRIM_HORIZON",
            batch_size=10,
            maximum_retry_attempts=3,
            bisect_batch_on_function_error=True,
            maximum_record_age_in_seconds=3600,
            # Scale levers (MappingScale): concurrent batches per shard, records of one item
            # still in order; and how long to wait to fill a batch. Defaults: 1 and 0.
            parallelization_factor=self.scale.parallelization_factor,
            maximum_batching_window_in_seconds=self.scale.batching_window_s,
            function_response_types=["ReportBatchItemFailures"],
            destination_config=lambda_.CfnEventSourceMapping.DestinationConfigProperty(
                on_failure=lambda_.CfnEventSourceMapping.OnFailureProperty(destination=self.dlq.queue_arn)
            ),
            filter_criteria=lambda_.CfnEventSourceMapping.FilterCriteriaProperty(
                filters=[lambda_.CfnEventSourceMapping.FilterProperty(pattern=json.dumps(NEW_ORDER_INSERTS))]
            ),
        )
        # Lambda checks the role's stream and SQS permissions when the mapping is created.
        mapping.node.add_dependency(self.process_role)
        return mapping

    # --- outputs and acknowledgments ---------------------------------------

    def _outputs(self) -> None:
        values = {
            "TableName": self.table.table_name,
            "TableArn": self.table.table_arn,
            "TableStreamArn": self.stream_arn,
            "TopicArn": self.topic.topic_arn,
            "TopicName": self.topic.topic_name,
            "DlqUrl": self.dlq.queue_url,
            "DlqArn": self.dlq.queue_arn,
            "DlqName": self.dlq.queue_name,
            "CreateOrderFunctionName": self.create_function.function_name,
            "CreateOrderFunctionArn": self.create_function.function_arn,
            "ProcessOrderFunctionName": self.process_function.function_name,
            "ProcessOrderFunctionArn": self.process_function.function_arn,
            "CreateOrderLogGroupName": self.create_log_group.log_group_name,
            "ProcessOrderLogGroupName": self.process_log_group.log_group_name,
            "KeyArn": self.key.key_arn,
            "KeyAlias": self.key_alias,
            "EventSourceMappingId": self.mapping.ref,
            "AlarmsTopicArn": self.monitoring.topic.topic_arn,
            "AlarmNames": ",".join(self.names.alarm(spec) for spec in self.monitoring.alarm_names),
            "DashboardName": self.names.dashboard,
        }
        for output_id, value in values.items():
            CfnOutput(self, output_id, value=value)

    def _acknowledge(self) -> None:
        self.acknowledgments: list[dict[str, str]] = []

        def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
            self.acknowledgments.append(nag.acknowledge(construct, rule, reason))

        acknowledge(
            self.process_role.node.find_child("DefaultPolicy"),
            "AwsSolutions-IAM5[Resource::*]",
            "dynamodb:ListStreams has no resource-level permission (AWS Service Authorization Reference: no resource "
            "types), so it can only be granted on '*'; it lists stream ARNs, reads no data, and is the only action in "
            "that statement. Every other statement of this role names the table, stream, topic, queue or key.",
        )
        acknowledge(
            self.dlq,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue: the stream mapping's on-failure destination. A DLQ for the "
            "DLQ would only move the same records again; its 14-day retention and the check-dlq command cover it.",
        )
        acknowledge(
            self.dlq,
            "Serverless-SQSRedrivePolicy",
            "Same queue as AwsSolutions-SQS3: it is the dead-letter queue (on-failure destination of the stream "
            "mapping) and is not consumed by any function, so there is nothing to redrive it to.",
        )
        runtime_reason = (
            "Python 3.12 is required by the specification: the Powertools layer used is the python312-arm64 build "
            "and the code is tested on 3.12. 3.12 is a supported Lambda runtime with no deprecation date reached; "
            "moving to a newer runtime is a deliberate change together with the layer."
        )
        for function in (self.create_function, self.process_function):
            acknowledge(function, "AwsSolutions-L1", runtime_reason)
            acknowledge(function, "Serverless-LambdaLatestVersion", runtime_reason)
            acknowledge(
                function,
                "Serverless-LambdaTracing",
                "X-Ray tracing is off on purpose: it would add xray:PutTraceSegments/PutTelemetryRecords on Resource '*' "
                "to each role. Latency is measured from the orders' own createdAt/processedAt timestamps and the "
                "functions log structured JSON with the request id through Powertools Logger.",
            )
        acknowledge(
            self.create_function,
            "Serverless-LambdaDLQ",
            "CreateOrder is invoked synchronously (direct invoke or an HTTP proxy): the caller gets every error as the "
            "response, so there are no asynchronous events that an on-failure DLQ could catch.",
        )
        acknowledge(
            self.process_function,
            "Serverless-LambdaDLQ",
            "ProcessOrder is invoked only by the stream event source mapping, whose own on-failure destination is the "
            "SQS DLQ (DestinationConfig.OnFailure); a function-level DLQ applies only to asynchronous invokes.",
        )

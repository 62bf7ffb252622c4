"""IAM identity-policy evaluation for the sandbox: which action an API call needs, how policies
match actions, resources and conditions, what an explicit deny and a default deny look like, and
what a function's least-privilege role (ProcessOrder's) may and may not do."""

from __future__ import annotations

import json

import pytest

from orders_lib.sandbox.iam import (
    NotASingleAction,
    PolicyError,
    UnknownService,
    arn_matches,
    denial,
    error_message,
    evaluate,
    iam_action,
    parse_policy,
    requires_authorization,
    transact_actions,
)

ACCOUNT = "123456789012"
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"
STREAM = f"{TABLE}/stream/2026-11-27T05:53:27.448488"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:order-notifications"
OTHER_TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:marketing"
FUNCTION = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:techtest-process-order"


def policy(*statements: dict, name: str = "role-policy"):
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)}, name)


def allow(action, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


# --- actions and resources -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "action", "resource", "allowed"),
    [
        pytest.param(allow("dynamodb:GetItem", TABLE), "dynamodb:GetItem", TABLE, True, id="exact-action"),
        pytest.param(allow("dynamodb:GetItem", TABLE), "dynamodb:PutItem", TABLE, False, id="other-action"),
        pytest.param(allow("dynamodb:*", TABLE), "dynamodb:DeleteItem", TABLE, True, id="service-wildcard"),
        pytest.param(allow("dynamodb:*", "*"), "sns:Publish", TOPIC, False, id="service-wildcard-other-service"),
        pytest.param(allow("dynamodb:Get*", TABLE), "dynamodb:GetItem", TABLE, True, id="prefix-wildcard"),
        pytest.param(allow("dynamodb:Get*", STREAM), "dynamodb:GetRecords", STREAM, True, id="prefix-wildcard-2"),
        pytest.param(allow("dynamodb:Get*", TABLE), "dynamodb:PutItem", TABLE, False, id="prefix-wildcard-miss"),
        pytest.param(allow("sns:Pub?ish", TOPIC), "sns:Publish", TOPIC, True, id="single-char-wildcard"),
        pytest.param(allow("sns:Pub?ish", TOPIC), "sns:Puublish", TOPIC, False, id="single-char-is-one-char"),
        pytest.param(allow("*"), "kms:Decrypt", "arn:aws:kms:us-east-1:1:key/k", True, id="any-action"),
        pytest.param(allow("DynamoDB:getitem", TABLE), "dynamodb:GetItem", TABLE, True, id="action-case-insensitive"),
        pytest.param(allow("SNS:Publish", TOPIC), "sns:publish", TOPIC, True, id="prefix-case-insensitive"),
        pytest.param(allow("dynamodb:GetItem", f"{TABLE}*"), "dynamodb:GetItem", TABLE, True, id="table-star-table"),
        pytest.param(allow("dynamodb:GetRecords", f"{TABLE}*"), "dynamodb:GetRecords", STREAM, True, id="table-star-stream"),
        pytest.param(allow("dynamodb:GetItem", f"{TABLE}*"), "dynamodb:GetItem", f"{TABLE}-archive", True, id="table-star-sibling"),
        pytest.param(
            allow("dynamodb:GetItem", f"{TABLE}*"), "dynamodb:GetItem", TABLE.replace("orders", "customers"), False, id="table-star-miss"
        ),
        pytest.param(allow("dynamodb:GetRecords", f"{TABLE}/stream/*"), "dynamodb:GetRecords", STREAM, True, id="stream-star"),
        pytest.param(allow("dynamodb:GetRecords", f"{TABLE}/stream/*"), "dynamodb:GetRecords", TABLE, False, id="stream-star-not-table"),
        pytest.param(
            allow("dynamodb:GetItem", TABLE.replace("orders", "Orders")), "dynamodb:GetItem", TABLE, False, id="resource-case-sensitive"
        ),
        pytest.param(allow("sns:Publish", "*"), "sns:Publish", OTHER_TOPIC, True, id="resource-star"),
        pytest.param(allow("sns:Publish", [OTHER_TOPIC, TOPIC]), "sns:Publish", TOPIC, True, id="resource-list"),
        pytest.param(allow("sns:Publish", TOPIC), "sns:Publish", OTHER_TOPIC, False, id="other-resource"),
        pytest.param(
            {"Effect": "Allow", "NotAction": ["iam:*", "sts:*"], "Resource": "*"}, "sns:Publish", TOPIC, True, id="notaction-other"
        ),
        pytest.param(
            {"Effect": "Allow", "NotAction": ["iam:*", "sts:*"], "Resource": "*"},
            "IAM:createrole",
            "*",
            False,
            id="notaction-listed-any-case",
        ),
        pytest.param(
            {"Effect": "Allow", "Action": "sns:Publish", "NotResource": OTHER_TOPIC}, "sns:Publish", TOPIC, True, id="notresource-other"
        ),
        pytest.param(
            {"Effect": "Allow", "Action": "sns:Publish", "NotResource": OTHER_TOPIC},
            "sns:Publish",
            OTHER_TOPIC,
            False,
            id="notresource-listed",
        ),
    ],
)
def test_statements_match_actions_and_resources_as_iam_does(statement, action, resource, allowed):
    assert evaluate([policy(statement)], action, resource).allowed is allowed


@pytest.mark.parametrize(
    ("pattern", "arn", "matches"),
    [
        (
            f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/fn:*",
            f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/fn:log-stream:2026/01/01/[$LATEST]ab12",
            True,
        ),
        (
            f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/fn:*",
            f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/fn-2:log-stream:x",
            False,
        ),
        ("arn:aws:s3:::bucket/*/report", "arn:aws:s3:::bucket/2026/01/report", True),
        ("arn:aws:s3:::bucket/*/report", "arn:aws:s3:::bucket/a:b/report", False),
        (f"arn:aws:sns:*:{ACCOUNT}:order-notifications", TOPIC, True),
        (f"arn:aws:sns:us-east-1:{ACCOUNT}:order-?", f"arn:aws:sns:us-east-1:{ACCOUNT}:order-a", True),
        (f"arn:aws:sns:us-east-1:{ACCOUNT}:order-?", f"arn:aws:sns:us-east-1:{ACCOUNT}:order-ab", False),
        ("*", STREAM, True),
    ],
)
def test_arn_wildcards_stay_in_their_segment_unless_they_end_it(pattern, arn, matches):
    assert arn_matches(pattern, arn) is matches


# --- deny, allow and default deny ---------------------------------------------------------

BROAD = policy({"Sid": "EverythingOnOrders", **allow("dynamodb:*", f"{TABLE}*")}, name="broad")
GUARD = policy({"Sid": "NoDeletes", "Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": TABLE}, name="guard")


@pytest.mark.parametrize("order", [[BROAD, GUARD], [GUARD, BROAD]], ids=["deny-last", "deny-first"])
def test_an_explicit_deny_in_one_policy_beats_an_allow_in_another(order):
    decision = evaluate(order, "dynamodb:DeleteItem", TABLE)
    assert not decision.allowed
    assert decision.explicit_deny
    assert decision.reason == "explicit deny in policy guard statement NoDeletes"
    assert (decision.matched.policy, decision.matched.sid, decision.matched.effect) == ("guard", "NoDeletes", "Deny")


def test_the_deny_only_covers_its_action():
    decision = evaluate([BROAD, GUARD], "dynamodb:PutItem", TABLE)
    assert decision.allowed
    assert decision.reason == "allowed by policy broad statement EverythingOnOrders"


def test_a_deny_with_notaction_denies_everything_else():
    fence = policy({"Effect": "Deny", "NotAction": "dynamodb:GetItem", "Resource": TABLE}, name="read-only")
    assert not evaluate([BROAD, fence], "dynamodb:PutItem", TABLE).allowed
    assert evaluate([BROAD, fence], "dynamodb:GetItem", TABLE).allowed


@pytest.mark.parametrize("policies", [[], [BROAD]], ids=["no-policies", "nothing-matches"])
def test_without_an_allow_the_request_is_denied_by_default(policies):
    decision = evaluate(policies, "sqs:SendMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:dlq")
    assert not decision.allowed
    assert not decision.explicit_deny
    assert decision.matched is None
    assert decision.reason == "no identity-based policy allows the sqs:SendMessage action"


def test_a_statement_without_sid_is_named_by_its_position():
    decision = evaluate([policy(allow("sns:Subscribe", TOPIC), allow("sns:Publish", TOPIC))], "sns:Publish", TOPIC)
    assert decision.reason == "allowed by policy role-policy statement #2"


# --- parsing ------------------------------------------------------------------------------


def test_a_single_statement_object_and_string_fields_are_accepted():
    text = json.dumps({"Version": "2012-10-17", "Statement": {"Sid": "One", "Effect": "Allow", "Action": "sns:Publish", "Resource": TOPIC}})
    parsed = parse_policy(text, "from-json")
    assert [(s.sid, s.actions, s.resources) for s in parsed.statements] == [("One", ("sns:Publish",), (TOPIC,))]
    assert evaluate([parsed], "sns:Publish", TOPIC).reason == "allowed by policy from-json statement One"


def test_every_problem_in_a_policy_is_reported_at_once():
    document = {
        "Statement": [
            {"Effect": "allow", "Action": "sns:Publish", "Resource": TOPIC},
            {"Effect": "Allow", "Action": "sns:Publish", "NotAction": "sns:Subscribe", "Resource": TOPIC},
            {"Effect": "Deny", "Action": "sns:Publish", "Principal": "*"},
        ]
    }
    with pytest.raises(PolicyError) as raised:
        parse_policy(document, "broken")
    assert raised.value.problems == [
        "Statement[0].Effect must be 'Allow' or 'Deny', not 'allow'",
        "Statement[1] must have exactly one of Action or NotAction",
        "Statement[2].Principal is not allowed in an identity-based policy",
        "Statement[2] must have exactly one of Resource or NotResource",
    ]


def test_a_document_that_is_not_json_says_so():
    with pytest.raises(PolicyError, match="not JSON"):
        parse_policy("{Statement: []", "typo")


# --- conditions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "context", "allowed"),
    [
        ({"StringEquals": {"aws:PrincipalTag/team": "orders"}}, {"aws:PrincipalTag/team": "orders"}, True),
        ({"StringEquals": {"aws:PrincipalTag/team": "orders"}}, {"aws:PrincipalTag/team": "billing"}, False),
        ({"StringEquals": {"aws:PrincipalTag/team": ["billing", "orders"]}}, {"aws:PrincipalTag/team": "orders"}, True),
        ({"StringEquals": {"aws:PrincipalTag/team": "Orders"}}, {"aws:PrincipalTag/team": "orders"}, False),
        ({"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}}, {"aws:RequestedRegion": "us-east-1"}, True),
        ({"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}}, {"aws:RequestedRegion": "eu-west-1"}, False),
        ({"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "us-east-1"]}}, {"aws:RequestedRegion": "us-east-1"}, False),
        ({"StringLike": {"s3:prefix": "orders/*"}}, {"s3:prefix": "orders/2026/01"}, True),
        ({"StringLike": {"s3:prefix": "orders/*"}}, {"s3:prefix": "invoices/2026"}, False),
        ({"StringNotLike": {"s3:prefix": "private/*"}}, {"s3:prefix": "orders/2026"}, True),
        ({"StringNotLike": {"s3:prefix": "private/*"}}, {"s3:prefix": "private/keys"}, False),
        ({"ArnEquals": {"aws:SourceArn": FUNCTION}}, {"aws:SourceArn": FUNCTION}, True),
        ({"ArnEquals": {"aws:SourceArn": FUNCTION}}, {"aws:SourceArn": FUNCTION + "-2"}, False),
        ({"ArnLike": {"aws:SourceArn": f"arn:aws:lambda:*:{ACCOUNT}:function:techtest-*"}}, {"aws:SourceArn": FUNCTION}, True),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:lambda:*:999999999999:function:*"}}, {"aws:SourceArn": FUNCTION}, False),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:lambda:*"}}, {"aws:SourceArn": FUNCTION}, False),
        ({"ArnNotEquals": {"aws:SourceArn": FUNCTION}}, {"aws:SourceArn": FUNCTION + "-2"}, True),
        ({"ArnNotEquals": {"aws:SourceArn": FUNCTION}}, {"aws:SourceArn": FUNCTION}, False),
        ({"ArnNotLike": {"aws:SourceArn": "arn:aws:lambda:*:*:function:other-*"}}, {"aws:SourceArn": FUNCTION}, True),
        ({"ArnNotLike": {"aws:SourceArn": "arn:aws:lambda:*:*:function:techtest-*"}}, {"aws:SourceArn": FUNCTION}, False),
        ({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": "true"}, True),
        ({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": "false"}, False),
        ({"Bool": {"aws:SecureTransport": True}}, {"aws:SecureTransport": "True"}, True),
        ({"Null": {"aws:TokenIssueTime": "true"}}, {}, True),
        ({"Null": {"aws:TokenIssueTime": "true"}}, {"aws:TokenIssueTime": "2026-01-01T00:00:00Z"}, False),
        ({"Null": {"aws:TokenIssueTime": "false"}}, {"aws:TokenIssueTime": "2026-01-01T00:00:00Z"}, True),
        ({"Bool": {"AWS:SecureTransport": "true"}}, {"aws:securetransport": "true"}, True),
        ({"StringEqualsIfExists": {"aws:RequestedRegion": "us-east-1"}}, {}, True),
        ({"StringEqualsIfExists": {"aws:RequestedRegion": "us-east-1"}}, {"aws:RequestedRegion": "eu-west-1"}, False),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["env", "team"]}}, {"aws:TagKeys": ["team", "owner"]}, True),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["env", "team"]}}, {"aws:TagKeys": ["owner"]}, False),
        ({"ForAllValues:StringLike": {"aws:TagKeys": ["env*", "team"]}}, {"aws:TagKeys": ["env-x", "team"]}, True),
        ({"ForAllValues:StringLike": {"aws:TagKeys": ["env*", "team"]}}, {"aws:TagKeys": ["env", "owner"]}, False),
        (
            {"Bool": {"aws:SecureTransport": "true"}, "StringEquals": {"aws:RequestedRegion": "us-east-1"}},
            {"aws:SecureTransport": "true", "aws:RequestedRegion": "eu-west-1"},
            False,
        ),
    ],
)
def test_supported_conditions_are_evaluated_exactly(condition, context, allowed):
    decision = evaluate([policy(allow("sns:Publish", TOPIC, Condition=condition))], "sns:Publish", TOPIC, context)
    assert decision.allowed is allowed
    assert decision.unevaluated_conditions == []


@pytest.mark.parametrize(
    ("condition", "context", "reported"),
    [
        (
            {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}},
            {"aws:MultiFactorAuthAge": "60"},
            "cannot evaluate condition NumericLessThan aws:MultiFactorAuthAge (unsupported operator)",
        ),
        (
            {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
            {"aws:SourceIp": "10.1.2.3"},
            "cannot evaluate condition IpAddress aws:SourceIp (unsupported operator)",
        ),
        (
            {"StringEquals": {"aws:PrincipalTag/team": "orders"}},
            {},
            "cannot evaluate condition StringEquals aws:PrincipalTag/team (key not in the request context)",
        ),
        (
            {"StringLike": {"s3:prefix": "home/${aws:username}/*"}},
            {"s3:prefix": "home/ada/x"},
            "cannot evaluate condition StringLike s3:prefix (policy variable in value)",
        ),
        (
            {"StringEquals": {"aws:TagKeys": "team"}},
            {"aws:TagKeys": ["team", "env"]},
            "cannot evaluate condition StringEquals aws:TagKeys (multivalued key needs ForAnyValue or ForAllValues)",
        ),
    ],
)
def test_a_condition_that_cannot_be_evaluated_is_reported_and_grants_nothing(condition, context, reported):
    statement = {"Sid": "Conditional", **allow("sns:Publish", TOPIC, Condition=condition)}
    decision = evaluate([policy(statement)], "sns:Publish", TOPIC, context)
    assert not decision.allowed
    assert decision.unevaluated_conditions == [f"{reported} in policy role-policy statement Conditional"]


def test_a_false_condition_settles_the_statement_so_its_unknown_ones_are_not_reported():
    condition = {"Bool": {"aws:SecureTransport": "true"}, "NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}
    decision = evaluate([policy(allow("sns:Publish", TOPIC, Condition=condition))], "sns:Publish", TOPIC, {"aws:SecureTransport": "false"})
    assert not decision.allowed
    assert decision.unevaluated_conditions == []


def test_a_deny_that_cannot_be_evaluated_does_not_deny_but_is_reported():
    deny = {
        "Sid": "NoOldSessions",
        "Effect": "Deny",
        "Action": "*",
        "Resource": "*",
        "Condition": {"NumericGreaterThan": {"aws:MultiFactorAuthAge": "3600"}},
    }
    decision = evaluate([policy(allow("sns:Publish", TOPIC)), policy(deny, name="guard")], "sns:Publish", TOPIC)
    assert decision.allowed
    assert not decision.explicit_deny
    assert decision.unevaluated_conditions == [
        "cannot evaluate condition NumericGreaterThan aws:MultiFactorAuthAge (unsupported operator) in policy guard statement NoOldSessions"
    ]


def test_a_resource_with_a_policy_variable_is_reported_not_guessed():
    statement = allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*")
    decision = evaluate([policy(statement)], "s3:GetObject", "arn:aws:s3:::home/ada/notes.txt")
    assert not decision.allowed
    assert decision.unevaluated_conditions == [
        "cannot evaluate Resource arn:aws:s3:::home/${aws:username}/* (policy variable) in policy role-policy statement #1"
    ]


# --- error messages and denial shapes ------------------------------------------------------

PRINCIPAL = f"arn:aws:sts::{ACCOUNT}:assumed-role/ProcessOrderRole/techtest-process-order"


@pytest.mark.parametrize(
    ("explicit", "expected"),
    [
        (
            False,
            (
                f"User: {PRINCIPAL} is not authorized to perform: sns:Publish on resource: {TOPIC} "
                "because no identity-based policy allows the sns:Publish action"
            ),
        ),
        (
            True,
            (
                f"User: {PRINCIPAL} is not authorized to perform: sns:Publish on resource: {TOPIC} "
                "with an explicit deny in an identity-based policy"
            ),
        ),
    ],
    ids=["implicit", "explicit"],
)
def test_the_access_denied_text_is_awss(explicit, expected):
    assert error_message(PRINCIPAL, "sns:Publish", TOPIC, explicit_deny=explicit) == expected


def test_an_action_without_a_resource_leaves_out_on_resource():
    assert error_message(PRINCIPAL, "dynamodb:ListStreams", None) == (
        f"User: {PRINCIPAL} is not authorized to perform: dynamodb:ListStreams "
        "because no identity-based policy allows the dynamodb:ListStreams action"
    )


@pytest.mark.parametrize(
    ("service", "shape"),
    [
        ("dynamodb", ("AccessDeniedException", 400)),
        ("dynamodbstreams", ("AccessDeniedException", 400)),
        ("kms", ("AccessDeniedException", 400)),
        ("logs", ("AccessDeniedException", 400)),
        ("ssm", ("AccessDeniedException", 400)),
        ("lambda", ("AccessDeniedException", 403)),
        ("sns", ("AuthorizationError", 403)),
        ("sqs", ("AccessDenied", 403)),
        ("s3", ("AccessDenied", 403)),
        ("sts", ("AccessDenied", 403)),
        ("iam", ("AccessDenied", 403)),
        ("cloudformation", ("AccessDenied", 403)),
    ],
)
def test_each_service_denies_with_its_own_error_code_and_status(service, shape):
    assert denial(service) == shape


def test_an_unknown_service_has_no_invented_denial_shape():
    with pytest.raises(ValueError, match="known: cloudformation, dynamodb"):
        denial("ec2")


# --- which action authorizes a call --------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "operation", "action"),
    [
        ("sns", "Publish", "sns:Publish"),
        ("sns", "PublishBatch", "sns:Publish"),
        ("sqs", "SendMessageBatch", "sqs:SendMessage"),
        ("sqs", "DeleteMessageBatch", "sqs:DeleteMessage"),
        ("sqs", "ChangeMessageVisibilityBatch", "sqs:ChangeMessageVisibility"),
        ("sqs", "ReceiveMessage", "sqs:ReceiveMessage"),
        ("dynamodbstreams", "GetRecords", "dynamodb:GetRecords"),
        ("dynamodbstreams", "GetShardIterator", "dynamodb:GetShardIterator"),
        ("dynamodbstreams", "DescribeStream", "dynamodb:DescribeStream"),
        ("dynamodbstreams", "ListStreams", "dynamodb:ListStreams"),
        ("dynamodb", "BatchWriteItem", "dynamodb:BatchWriteItem"),
        ("dynamodb", "UpdateItem", "dynamodb:UpdateItem"),
        ("logs", "PutLogEvents", "logs:PutLogEvents"),
        ("logs", "CreateLogStream", "logs:CreateLogStream"),
        ("lambda", "Invoke", "lambda:InvokeFunction"),
        ("lambda", "InvokeWithResponseStream", "lambda:InvokeFunction"),
        # The Service Authorization Reference (list_lambda, "API operations") maps InvokeAsync to its own action.
        ("lambda", "InvokeAsync", "lambda:InvokeAsync"),
        ("s3", "GetObject", "s3:GetObject"),
        ("s3", "PutObject", "s3:PutObject"),
        ("s3", "HeadObject", "s3:GetObject"),
        ("s3", "ListObjectsV2", "s3:ListBucket"),
        ("s3", "HeadBucket", "s3:ListBucket"),
        ("s3", "ListBuckets", "s3:ListAllMyBuckets"),
        ("s3", "DeleteObjects", "s3:DeleteObject"),
        ("s3", "UploadPart", "s3:PutObject"),
        ("kms", "Decrypt", "kms:Decrypt"),
        ("kms", "GenerateDataKey", "kms:GenerateDataKey"),
        ("sts", "AssumeRole", "sts:AssumeRole"),
        ("ssm", "GetParameter", "ssm:GetParameter"),
        ("cloudformation", "DescribeStacks", "cloudformation:DescribeStacks"),
        ("iam", "GetRole", "iam:GetRole"),
    ],
)
def test_each_call_maps_to_the_action_aws_checks(service, operation, action):
    assert iam_action(service, operation) == action


@pytest.mark.parametrize(
    ("service", "operation", "explanation"),
    [
        ("dynamodb", "TransactWriteItems", "transact_actions"),
        ("dynamodb", "TransactGetItems", "dynamodb:GetItem"),
        ("dynamodb", "ExecuteStatement", "PartiQL"),
        ("kms", "ReEncrypt", "kms:ReEncryptFrom on the source key and kms:ReEncryptTo"),
        ("s3", "CopyObject", "s3:GetObject on the source object"),
    ],
)
def test_calls_that_no_single_action_authorizes_say_what_to_check(service, operation, explanation):
    with pytest.raises(NotASingleAction, match=explanation):
        iam_action(service, operation)


def test_an_unknown_service_prefix_is_not_guessed():
    with pytest.raises(UnknownService, match="known services: cloudformation, dynamodb"):
        iam_action("ec2", "RunInstances")


@pytest.mark.parametrize(("operation", "needed"), [("GetCallerIdentity", False), ("AssumeRole", True)])
def test_get_caller_identity_needs_no_permission(operation, needed):
    assert requires_authorization("sts", operation) is needed


CHECKOUT = {
    "TransactItems": [
        {
            "Put": {
                "TableName": "orders",
                "Item": {"orderId": {"S": "o-1"}, "status": {"S": "NEW"}},
                "ConditionExpression": "attribute_not_exists(orderId)",
            }
        },
        {
            "Update": {
                "TableName": "orders",
                "Key": {"orderId": {"S": "o-0"}},
                "UpdateExpression": "SET #s = :p",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":p": {"S": "PROCESSED"}},
            }
        },
        {
            "ConditionCheck": {
                "TableName": "customers",
                "Key": {"customerId": {"S": "C-1001"}},
                "ConditionExpression": "attribute_exists(customerId)",
            }
        },
        {"Delete": {"TableName": "carts", "Key": {"cartId": {"S": "cart-9"}}}},
    ],
    "ClientRequestToken": "checkout-o-1",
}


def test_a_transaction_lists_the_action_and_table_of_each_item():
    assert transact_actions(CHECKOUT) == [
        ("dynamodb:PutItem", "orders"),
        ("dynamodb:UpdateItem", "orders"),
        ("dynamodb:ConditionCheckItem", "customers"),
        ("dynamodb:DeleteItem", "carts"),
    ]
    reads = {"TransactItems": [{"Get": {"TableName": "orders", "Key": {"orderId": {"S": "o-1"}}}}]}
    assert transact_actions(reads) == [("dynamodb:GetItem", "orders")]


def test_a_transaction_is_allowed_only_when_every_item_is():
    role = policy(allow(["dynamodb:PutItem", "dynamodb:UpdateItem"], "arn:aws:dynamodb:us-east-1:123456789012:table/orders"))
    decisions = {
        (action, table): evaluate([role], action, f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{table}")
        for action, table in transact_actions(CHECKOUT)
    }
    assert [key for key, decision in decisions.items() if not decision.allowed] == [
        ("dynamodb:ConditionCheckItem", "customers"),
        ("dynamodb:DeleteItem", "carts"),
    ]


def test_malformed_transaction_items_are_all_reported():
    body = {"TransactItems": [{"Put": {"TableName": "orders"}, "Delete": {"TableName": "orders"}}, {"Update": {"Key": {}}}]}
    with pytest.raises(ValueError) as raised:
        transact_actions(body)
    assert str(raised.value) == (
        "TransactItems[0] must hold exactly one of Put, Update, Delete, ConditionCheck, Get; found ['Delete', 'Put']; "
        "TransactItems[1].Update.TableName is missing"
    )


# --- a least-privilege role: ProcessOrder --------------------------------------------------
# The statements of ProcessOrderRoleDefaultPolicy in cdk.out/techtest-orders-cli.template.json
# (cdk/order_stack.py: _role and _process_permissions), with the stack's ARNs filled in.

STACK_TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/techtest-orders-cli"
STACK_STREAM = f"{STACK_TABLE}/stream/2026-11-27T05:53:27.448488"
STACK_TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:techtest-order-notifications-cli"
STACK_DLQ = f"arn:aws:sqs:us-east-1:{ACCOUNT}:techtest-orders-dlq-cli"
STACK_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/94438b64-cb2e-4a96-b588-531093bf5fc6"
LOG_GROUP = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/techtest-process-order-cli"
PROCESS_ORDER = parse_policy(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WriteOwnLogGroup",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{LOG_GROUP}:*",
            },
            {
                "Sid": "UseOrdersKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                "Resource": STACK_KEY,
            },
            {
                "Sid": "ReadTableStream",
                "Effect": "Allow",
                "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                "Resource": STACK_STREAM,
            },
            {"Sid": "ListStreamsHasNoResourceLevelPermission", "Effect": "Allow", "Action": "dynamodb:ListStreams", "Resource": "*"},
            {"Sid": "UpdateOrderStatus", "Effect": "Allow", "Action": "dynamodb:UpdateItem", "Resource": STACK_TABLE},
            {"Sid": "PublishNotifications", "Effect": "Allow", "Action": "sns:Publish", "Resource": STACK_TOPIC},
            {"Sid": "SendFailedBatchesToDlq", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": STACK_DLQ},
        ],
    },
    "ProcessOrderRoleDefaultPolicy99DD2B1E",
)


@pytest.mark.parametrize(
    ("service", "operation", "resource", "reason"),
    [
        ("dynamodb", "UpdateItem", STACK_TABLE, "allowed by policy ProcessOrderRoleDefaultPolicy99DD2B1E statement UpdateOrderStatus"),
        ("sns", "PublishBatch", STACK_TOPIC, "allowed by policy ProcessOrderRoleDefaultPolicy99DD2B1E statement PublishNotifications"),
        (
            "dynamodbstreams",
            "GetRecords",
            STACK_STREAM,
            "allowed by policy ProcessOrderRoleDefaultPolicy99DD2B1E statement ReadTableStream",
        ),
        (
            "dynamodbstreams",
            "ListStreams",
            "*",
            "allowed by policy ProcessOrderRoleDefaultPolicy99DD2B1E statement ListStreamsHasNoResourceLevelPermission",
        ),
        (
            "logs",
            "PutLogEvents",
            f"{LOG_GROUP}:log-stream:2026/11/27/[$LATEST]0a1b2c",
            "allowed by policy ProcessOrderRoleDefaultPolicy99DD2B1E statement WriteOwnLogGroup",
        ),
        ("kms", "Decrypt", STACK_KEY, "allowed by policy ProcessOrderRoleDefaultPolicy99DD2B1E statement UseOrdersKey"),
        ("sqs", "SendMessageBatch", STACK_DLQ, "allowed by policy ProcessOrderRoleDefaultPolicy99DD2B1E statement SendFailedBatchesToDlq"),
        ("dynamodb", "DeleteItem", STACK_TABLE, "no identity-based policy allows the dynamodb:DeleteItem action"),
        ("dynamodb", "PutItem", STACK_TABLE, "no identity-based policy allows the dynamodb:PutItem action"),
        (
            "sns",
            "Publish",
            f"arn:aws:sns:us-east-1:{ACCOUNT}:techtest-order-notifications-dev",
            "no identity-based policy allows the sns:Publish action",
        ),
        (
            "dynamodbstreams",
            "GetRecords",
            STACK_STREAM.replace("techtest-orders-cli", "techtest-orders-dev"),
            "no identity-based policy allows the dynamodb:GetRecords action",
        ),
        (
            "logs",
            "PutLogEvents",
            f"{LOG_GROUP.replace('process', 'create')}:log-stream:x",
            "no identity-based policy allows the logs:PutLogEvents action",
        ),
    ],
)
def test_the_process_order_role_allows_exactly_its_calls(service, operation, resource, reason):
    decision = evaluate([PROCESS_ORDER], iam_action(service, operation), resource)
    assert decision.reason == reason
    assert decision.allowed is reason.startswith("allowed")


def test_a_denied_process_order_call_gets_awss_message_and_error_shape():
    principal = f"arn:aws:sts::{ACCOUNT}:assumed-role/ProcessOrderRole5AFAC7AB/techtest-process-order-cli"
    action = iam_action("dynamodb", "DeleteItem")
    decision = evaluate([PROCESS_ORDER], action, STACK_TABLE)
    assert error_message(principal, action, STACK_TABLE, explicit_deny=decision.explicit_deny) == (
        f"User: {principal} is not authorized to perform: dynamodb:DeleteItem on resource: {STACK_TABLE} "
        "because no identity-based policy allows the dynamodb:DeleteItem action"
    )
    assert denial("dynamodb") == ("AccessDeniedException", 400)

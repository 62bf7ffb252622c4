"""The error code and HTTP status each service returns when IAM denies a call, so a denied call
in the sandbox raises the same botocore ``ClientError`` code the function would see on AWS.

JSON-protocol services answer ``AccessDeniedException`` (Lambda with 403, the others with 400);
query/XML services answer ``AccessDenied`` with 403, except SNS, which has its own
``AuthorizationError``. Each row names where it was checked: the service's error page or
botocore's service model, or, where AWS documents only the generic "Common Errors" table, the
code and status the SDKs report for real identity-policy denials.
"""

from __future__ import annotations

_DENIALS: dict[str, tuple[str, int]] = {
    # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html (HTTP 400 group)
    "dynamodb": ("AccessDeniedException", 400),
    # same JSON 1.0 endpoint family as DynamoDB; assumed identical, no separate page
    "dynamodbstreams": ("AccessDeniedException", 400),
    # SDK reports: "Service: Kms, Status Code: 400, ... AccessDeniedException"
    "kms": ("AccessDeniedException", 400),
    # SDK reports: "Service: AWSLogs; Status Code: 400; Error Code: AccessDeniedException"
    "logs": ("AccessDeniedException", 400),
    # SDK reports: "Service: AWSSimpleSystemsManagement; Status Code: 400; Error Code: AccessDeniedException"
    "ssm": ("AccessDeniedException", 400),
    # SDK reports: "Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException"
    "lambda": ("AccessDeniedException", 403),
    # botocore sns service model: AuthorizationErrorException code AuthorizationError, httpStatusCode 403
    "sns": ("AuthorizationError", 403),
    # SDK reports: "Status Code: 403; Error Code: AccessDenied" (code kept by the JSON protocol's query compatibility)
    "sqs": ("AccessDenied", 403),
    # botocore s3 service model: AccessDenied, httpStatusCode 403
    "s3": ("AccessDenied", 403),
    # SDK reports: "Service: AWSSecurityTokenService; Status Code: 403; Error Code: AccessDenied"
    "sts": ("AccessDenied", 403),
    # SDK reports: "IAM: CreateRole, https response error StatusCode: 403 ... api error AccessDenied"
    "iam": ("AccessDenied", 403),
    # SDK reports: "CloudFormation: ListStacks, https response error StatusCode: 403 ... api error AccessDenied"
    "cloudformation": ("AccessDenied", 403),
}


def denial(service: str) -> tuple[str, int]:
    """(error code, HTTP status) for an IAM denial by botocore service ``service``."""
    try:
        return _DENIALS[service]
    except KeyError:
        known = ", ".join(sorted(_DENIALS))
        raise ValueError(f"no denial shape known for service {service!r}; known: {known}") from None

"""A CloudFormation template as rows (logical id, type, physical name) for
``make synth`` and the deploy notebook's table."""

from __future__ import annotations

from typing import Any, NamedTuple

# The property that holds a resource's physical name, where the stack sets one.
NAME_PROPERTIES = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::Policy": "PolicyName",
}


class Row(NamedTuple):
    logical_id: str
    type: str
    physical_name: str | None


def template_rows(template: dict[str, Any]) -> list[Row]:
    rows = []
    for logical_id, resource in template.get("Resources", {}).items():
        name = resource.get("Properties", {}).get(NAME_PROPERTIES.get(resource["Type"], ""))
        rows.append(Row(logical_id, resource["Type"], name if isinstance(name, str) else None))
    return rows


def format_rows(rows: list[Row]) -> str:
    header = Row("Logical id", "Type", "Name")
    table = [header, *rows]
    widths = [max(len(str(row[i] or "")) for row in table) for i in range(2)]
    return "\n".join(f"{row.logical_id:<{widths[0]}}  {row.type:<{widths[1]}}  {row.physical_name or '-'}".rstrip() for row in table)

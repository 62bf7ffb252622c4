"""``CreateEventSourceMapping`` and ``UpdateEventSourceMapping`` refuse ``FilterCriteria`` that Lambda
refuses, with ``InvalidParameterValueException`` (HTTP 400) naming the problem, as Lambda does when
the mapping is created or updated. moto stored any criteria; a pattern found bad only once records
arrived left the poller unable to evaluate them. They also refuse a ``ParallelizationFactor`` outside
1-10 and a ``MaximumBatchingWindowInSeconds`` outside 0-300 with Lambda's ``ValidationException``;
moto stored any number.
https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html

CloudFormation's ``AWS::Lambda::EventSourceMapping`` creates and updates through these same backend
methods, so a template with a bad filter fails with the same error.
"""

from __future__ import annotations

from typing import Any

from moto.awslambda.exceptions import InvalidParameterValueException, ValidationException
from moto.awslambda.models import EventSourceMapping, LambdaBackend

from orders_lib.sandbox.lambda_.event_source_mapping.filtering import InvalidFilterCriteria, validate_filter_criteria
from orders_lib.sandbox.patching import Patches

_PATCHES = Patches("event source mapping")
_moto_create = LambdaBackend.create_event_source_mapping
_moto_update = LambdaBackend.update_event_source_mapping


# API member -> (the name Lambda's validation message gives it, lowest, highest)
_RANGES = {
    "ParallelizationFactor": ("parallelizationFactor", 1, 10),
    "MaximumBatchingWindowInSeconds": ("maximumBatchingWindowInSeconds", 0, 300),
}


def _check(spec: dict[str, Any]) -> None:
    try:
        validate_filter_criteria(spec.get("FilterCriteria"))
    except InvalidFilterCriteria as refused:
        raise InvalidParameterValueException(str(refused)) from None
    for member, (name, lowest, highest) in _RANGES.items():
        value = spec.get(member)
        if value is None:
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValidationException(str(value), name, "Member must be a number") from None
        if number < lowest:
            raise ValidationException(str(value), name, f"Member must have value greater than or equal to {lowest}")
        if number > highest:
            raise ValidationException(str(value), name, f"Member must have value less than or equal to {highest}")


def create_event_source_mapping(self: LambdaBackend, spec: dict[str, Any]) -> EventSourceMapping:
    _check(spec)
    return _moto_create(self, spec)


def update_event_source_mapping(self: LambdaBackend, uuid: str, spec: dict[str, Any]) -> EventSourceMapping | None:
    _check(spec)  # before moto changes anything: a refused update leaves the mapping as it was
    return _moto_update(self, uuid, spec)


def install() -> None:
    _PATCHES.begin()
    _PATCHES.replace(LambdaBackend, "create_event_source_mapping", create_event_source_mapping)
    _PATCHES.replace(LambdaBackend, "update_event_source_mapping", update_event_source_mapping)


def uninstall() -> None:
    _PATCHES.restore()

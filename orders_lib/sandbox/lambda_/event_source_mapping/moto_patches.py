"""``CreateEventSourceMapping`` and ``UpdateEventSourceMapping`` refuse ``FilterCriteria`` that Lambda
refuses, with ``InvalidParameterValueException`` (HTTP 400) naming the problem, as Lambda does when
the mapping is created or updated. moto stored any criteria; a pattern found bad only once records
arrived left the poller unable to evaluate them.

CloudFormation's ``AWS::Lambda::EventSourceMapping`` creates and updates through these same backend
methods, so a template with a bad filter fails with the same error.
"""

from __future__ import annotations

from typing import Any

from moto.awslambda.exceptions import InvalidParameterValueException
from moto.awslambda.models import EventSourceMapping, LambdaBackend

from orders_lib.sandbox.lambda_.event_source_mapping.filtering import InvalidFilterCriteria, validate_filter_criteria
from orders_lib.sandbox.patching import Patches

_PATCHES = Patches("event source mapping")
_moto_create = LambdaBackend.create_event_source_mapping
_moto_update = LambdaBackend.update_event_source_mapping


def _check(spec: dict[str, Any]) -> None:
    try:
        validate_filter_criteria(spec.get("FilterCriteria"))
    except InvalidFilterCriteria as refused:
        raise InvalidParameterValueException(str(refused)) from None


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

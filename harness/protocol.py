"""The AWS JSON 1.1 protocol of the two Cognito services: botocore's models and input validation.

cognito-idp (user pools) and cognito-identity (identity pools) are both served on
``POST /``, told apart by the ``X-Amz-Target`` prefix (:data:`SERVICES`).
botocore's service model is the authority on shapes. Requests are checked
against it the way AWS does before any rule runs: a wrong JSON type is a
SerializationException, a missing member or a broken length, range, pattern
or enum constraint is an InvalidParameterException with AWS's
"N validation errors detected" message.
"""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass
from typing import Any

import regex
from botocore.loaders import Loader
from botocore.model import OperationModel, ServiceModel, Shape

from harness.errors import CognitoError, Err, validation_error

CONTENT_TYPE = "application/x-amz-json-1.1"
MAX_BODY_BYTES = 1024 * 1024
MAX_REPORTED_PROBLEMS = 10


@dataclass(frozen=True)
class Service:
    """One AWS service the emulator speaks: its botocore name and its ``X-Amz-Target`` prefix."""

    name: str
    target_prefix: str


COGNITO_IDP = Service("cognito-idp", "AWSCognitoIdentityProviderService")
COGNITO_IDENTITY = Service("cognito-identity", "AWSCognitoIdentityService")
SERVICES = {service.target_prefix: service for service in (COGNITO_IDP, COGNITO_IDENTITY)}
"""Target prefix -> service: how ``POST /`` tells the two APIs apart."""
TARGET_PREFIX = COGNITO_IDP.target_prefix


@functools.lru_cache(maxsize=None)
def service_model(service: Service = COGNITO_IDP) -> ServiceModel:
    """The installed botocore's model of ``service`` (loaded without a botocore session: faster start)."""
    return ServiceModel(Loader().load_service_model(service.name, "service-2"), service_name=service.name)


@functools.lru_cache(maxsize=None)
def operation_model(name: str, service: Service = COGNITO_IDP) -> OperationModel:
    return service_model(service).operation_model(name)


@functools.lru_cache(maxsize=None)
def _compiled(pattern: str) -> regex.Pattern[str]:
    return regex.compile(pattern)


def _path(parent: str, member: str) -> str:
    name = member[:1].lower() + member[1:]
    return f"{parent}.{name}" if parent else name


def _shown(shape: Shape, value: Any) -> str:
    if shape.metadata.get("sensitive"):
        return ""
    text = str(value)
    return f"'{text if len(text) <= 128 else text[:128] + '...'}' "


class _Validator:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def type_error(self, path: str, expected: str, value: Any) -> CognitoError:
        got = type(value).__name__ if value is not None else "null"
        got = {"str": "string", "int": "integer", "float": "number", "bool": "boolean",
               "dict": "object", "list": "array"}.get(got, got)
        return Err.SERIALIZATION.error(
            detail=f"Value at '{path or 'request'}' has the wrong type: expected {expected}, got {got}"
        )

    def check(self, shape: Shape, value: Any, path: str) -> None:
        kind = shape.type_name
        if kind == "structure":
            if not isinstance(value, dict):
                raise self.type_error(path, "object", value)
            for member in shape.required_members:
                if value.get(member) is None:
                    self.problems.append(
                        f"Value null at '{_path(path, member)}' failed to satisfy constraint: Member must not be null"
                    )
            for member, member_shape in shape.members.items():
                if member in value and value[member] is not None:
                    self.check(member_shape, value[member], _path(path, member))
        elif kind == "list":
            if not isinstance(value, list):
                raise self.type_error(path, "array", value)
            self._length(shape, value, path, "length")
            for i, item in enumerate(value, 1):
                if item is None:  # a dense list: the handlers read every member (AWS refuses nulls too)
                    self.problems.append(f"Value null at '{path}.{i}.member' failed to satisfy constraint: "
                                         "Member must not be null")
                    continue
                self.check(shape.member, item, f"{path}.{i}.member")
        elif kind == "map":
            if not isinstance(value, dict):
                raise self.type_error(path, "object", value)
            self._length(shape, value, path, "length")
            for k, v in value.items():
                self.check(shape.key, k, f"{path}.key")
                if v is None:
                    self.problems.append(f"Value null at '{path}.{k}.value' failed to satisfy constraint: "
                                         "Member must not be null")
                    continue
                self.check(shape.value, v, f"{path}.{k}.value")
        elif kind == "string":
            if not isinstance(value, str):
                raise self.type_error(path, "string", value)
            self._length(shape, value, path, "length")
            enum = shape.metadata.get("enum")
            if enum and value not in enum:
                self.problems.append(
                    f"Value {_shown(shape, value)}at '{path}' failed to satisfy constraint: "
                    f"Member must satisfy enum value set: [{', '.join(enum)}]"
                )
            pattern = shape.metadata.get("pattern")
            if pattern and not _compiled(pattern).fullmatch(value):
                self.problems.append(
                    f"Value {_shown(shape, value)}at '{path}' failed to satisfy constraint: "
                    f"Member must satisfy regular expression pattern: {pattern}"
                )
        elif kind in ("integer", "long"):
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                else:
                    raise self.type_error(path, "integer", value)
            self._range(shape, value, path)
        elif kind in ("double", "float"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.type_error(path, "number", value)
            self._range(shape, value, path)
        elif kind == "boolean":
            if not isinstance(value, bool):
                raise self.type_error(path, "boolean", value)
        elif kind == "timestamp":
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise self.type_error(path, "timestamp", value)
        elif kind == "blob":
            if not isinstance(value, str):
                raise self.type_error(path, "base64 string", value)
            try:
                base64.b64decode(value, validate=True)
            except ValueError:
                raise Err.SERIALIZATION.error(detail=f"Value at '{path}' is not valid base64") from None
            self._length(shape, value, path, "length")

    def _length(self, shape: Shape, value: Any, path: str, what: str) -> None:
        lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
        n = len(value)
        if lo is not None and n < lo:
            self.problems.append(
                f"Value {_shown(shape, value) if isinstance(value, str) else ''}at '{path}' failed to satisfy "
                f"constraint: Member must have {what} greater than or equal to {lo}"
            )
        if hi is not None and n > hi:
            self.problems.append(
                f"Value {_shown(shape, value) if isinstance(value, str) else ''}at '{path}' failed to satisfy "
                f"constraint: Member must have {what} less than or equal to {hi}"
            )

    def _range(self, shape: Shape, value: float, path: str) -> None:
        lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
        if lo is not None and value < lo:
            self.problems.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must have value greater than or equal to {lo}"
            )
        if hi is not None and value > hi:
            self.problems.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must have value less than or equal to {hi}"
            )


def validate_input(operation: str, params: Any, service: Service = COGNITO_IDP) -> dict[str, Any]:
    """Check request members against the model; return them or raise CognitoError."""
    shape = operation_model(operation, service).input_shape
    if shape is None:
        return {}
    validator = _Validator()
    validator.check(shape, params, "")
    if validator.problems:
        raise validation_error(validator.problems[:MAX_REPORTED_PROBLEMS])
    return params


@functools.lru_cache(maxsize=None)
def modeled_errors(operation: str, service: Service = COGNITO_IDP) -> frozenset[str]:
    """The error types the model lists for an operation."""
    return frozenset(e.name for e in operation_model(operation, service).error_shapes)


def is_known_operation(name: str, service: Service = COGNITO_IDP) -> bool:
    return name in service_model(service).operation_names

"""The AWS JSON 1.1 face: ``POST /`` with ``X-Amz-Target``, for cognito-idp and cognito-identity.

The target's prefix names the service (harness.protocol.SERVICES), so one
endpoint URL serves ``boto3.client("cognito-idp")`` and
``boto3.client("cognito-identity")`` alike, as ``AWS_ENDPOINT_URL`` promises.
Parses the request, validates it against that service's botocore model, calls the
engine, and writes the answer or the error exactly as a real pool does
(``{"__type", "message"}``, ``x-amzn-ErrorType`` with its trailing colon,
400, or 500 for InternalErrorException).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from harness.engine.store import Backend
from harness.errors import CognitoError, Err
from harness.protocol import CONTENT_TYPE, SERVICES, Service, is_known_operation, validate_input
from harness.web.http import (
    MAX_ECHOED_HEADER_CHARS,
    MAX_ECHOED_MESSAGE_CHARS,
    InvalidJSON,
    Request,
    Response,
    safe_header_value,
    truncate,
)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def error_response(error: CognitoError, request_id: str) -> Response:
    # messages echo request values: a 100 KB value must not become a 100 KB header or body
    body = json.dumps({**error.to_body(), "message": truncate(error.message, MAX_ECHOED_MESSAGE_CHARS)}).encode()
    return Response(
        error.status,
        body,
        {
            "Content-Type": CONTENT_TYPE,
            "x-amzn-RequestId": request_id,
            "x-amzn-ErrorType": f"{error.type}:",
            "x-amzn-ErrorMessage": safe_header_value(error.message, MAX_ECHOED_HEADER_CHARS),
        },
    )


def parse_call(request: Request) -> tuple[Service, str, dict[str, Any]]:
    """(service, operation, validated members) from a raw request, or a CognitoError."""
    target = request.header("x-amz-target")
    prefix, _, operation = target.partition(".")
    if not target:
        raise Err.UNKNOWN_OPERATION.error(detail="Missing X-Amz-Target header")
    service = SERVICES.get(prefix)
    if service is None or not is_known_operation(operation, service):
        raise Err.UNKNOWN_OPERATION.error(detail=f"Unknown operation {target}")
    try:
        params = request.json() if request.body.strip() else {}
    except InvalidJSON as exc:  # bad UTF-8 or syntax, nesting bombs, over-long integer literals
        raise Err.SERIALIZATION.error(detail=f"Request body is not valid JSON: {exc}") from None
    return service, operation, validate_input(operation, params, service)


def handle(backend: Backend, request: Request) -> Response:
    request_id = str(uuid.uuid4())
    try:
        service, operation, params = parse_call(request)
        result = backend.call(operation, params, service)
    except CognitoError as error:
        return error_response(error, request_id)
    body = json.dumps(result, default=_default, separators=(",", ":")).encode()
    return Response(200, body, {"Content-Type": CONTENT_TYPE, "x-amzn-RequestId": request_id})

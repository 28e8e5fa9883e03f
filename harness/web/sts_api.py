"""The STS face of the classic flow: ``POST /`` in the AWS query protocol, XML answers and errors.

``boto3.client("sts", endpoint_url=<emulator>)`` (or ``AWS_ENDPOINT_URL_STS``) sends
``Action=AssumeRoleWithWebIdentity&Version=2011-06-15&...`` form-encoded to ``/``, the path the
cognito-idp and cognito-identity JSON API also use: a form body with an ``Action`` and no
``X-Amz-Target`` is STS's, anything else goes on to the JSON face. The answer is the
``<AssumeRoleWithWebIdentityResponse>`` document botocore's sts model describes; an error is STS's
``<ErrorResponse><Error><Type>Sender</Type><Code>...`` with status 400 (403 for AccessDenied).
Only AssumeRoleWithWebIdentity is emulated; other actions answer InvalidAction naming them.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any
from xml.sax.saxutils import escape

from harness.engine.identity import sts
from harness.engine.store import Backend
from harness.errors import CognitoError
from harness.web.http import MAX_ECHOED_MESSAGE_CHARS, Request, Response, truncate

NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
VERSION = "2011-06-15"
FORM = "application/x-www-form-urlencoded"
ACTION = "AssumeRoleWithWebIdentity"
TIMESTAMP_MEMBERS = frozenset({"Expiration"})
STATUS = {"AccessDenied": 403}


def is_sts_request(request: Request) -> bool:
    return not request.header("x-amz-target") and request.header("content-type").startswith(FORM) \
        and "Action" in request.form()


def _xml(members: dict[str, Any]) -> str:
    parts = []
    for name, value in members.items():
        if isinstance(value, dict):
            text = _xml(value)
        elif name in TIMESTAMP_MEMBERS:
            text = datetime.fromtimestamp(float(value), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        else:
            text = escape(str(value))
        parts.append(f"<{name}>{text}</{name}>")
    return "".join(parts)


def _answer(status: int, document: str) -> Response:
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n{document}\n'.encode()
    return Response(status, body, {"Content-Type": "text/xml"})


def error_response(code: str, message: str, request_id: str, status: int = 400) -> Response:
    inner = _xml({"Type": "Sender", "Code": code, "Message": truncate(message, MAX_ECHOED_MESSAGE_CHARS)})
    return _answer(status, f'<ErrorResponse xmlns="{NAMESPACE}"><Error>{inner}</Error>'
                           f"<RequestId>{request_id}</RequestId></ErrorResponse>")


def handle(backend: Backend, request: Request) -> Response:
    request_id = str(uuid.uuid4())
    params = request.form()
    action = params.get("Action", "")
    if action != ACTION:
        return error_response("InvalidAction", f"Could not find operation {action} for version "
                              f"{params.get('Version', VERSION)} (cognito-harness emulates only {ACTION})",
                              request_id)
    try:
        with backend.transaction():
            result = sts.assume_role_with_web_identity(backend, params)
    except CognitoError as error:
        return error_response(error.type, error.message, request_id, STATUS.get(error.type, 400))
    return _answer(200, f'<{ACTION}Response xmlns="{NAMESPACE}"><{ACTION}Result>{_xml(result)}</{ACTION}Result>'
                        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
                        f"</{ACTION}Response>")

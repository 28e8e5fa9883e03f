"""Property-based: whatever is sent to POST /, the answer is a typed error or a success.

Payloads are drawn from the botocore model's input shapes, then bent: members
dropped, wrong JSON types, strings past their limits, garbage bodies. A real
pool answers all of these with a 400 and an ``__type``; the emulator must never
answer 500 or with a stack trace.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from botocore.model import Shape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.protocol import TARGET_PREFIX, modeled_errors, operation_model, service_model

PROTOCOL_ERRORS = {"SerializationException", "UnknownOperationException", "NotImplementedException"}
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False),
                         st.text(max_size=20))
ANY_JSON = st.recursive(JSON_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                              st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                        max_leaves=8)


def value_for(shape: Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    """Mostly well-typed values for a shape, sometimes wrong types or broken limits."""
    wrong = ANY_JSON
    kind = shape.type_name
    if depth > 3:
        return wrong
    if kind == "structure":
        members = {name: value_for(sub, depth + 1) for name, sub in shape.members.items()}
        good = st.fixed_dictionaries({}, optional=members)
    elif kind == "list":
        good = st.lists(value_for(shape.member, depth + 1), max_size=3)
    elif kind == "map":
        good = st.dictionaries(st.text(max_size=10), value_for(shape.value, depth + 1), max_size=3)
    elif kind == "string":
        enum = shape.metadata.get("enum")
        hi = shape.metadata.get("max", 64)
        good = st.one_of(
            st.sampled_from(enum) if enum else st.text(min_size=1, max_size=min(hi, 40)),
            st.text(min_size=hi + 1, max_size=hi + 3) if hi < 5000 else st.just(""),
        )
    elif kind in ("integer", "long"):
        good = st.integers(-10, 10**7)
    elif kind == "boolean":
        good = st.booleans()
    else:
        good = wrong
    return st.one_of(good, good, good, wrong)


OPERATIONS = sorted(service_model().operation_names)


@st.composite
def calls(draw: st.DrawFn) -> tuple[str, bytes]:
    op = draw(st.sampled_from(OPERATIONS))
    shape = operation_model(op).input_shape
    mode = draw(st.sampled_from(["shaped", "shaped", "shaped", "garbage", "json-scalar"]))
    if mode == "garbage":
        return op, draw(st.binary(max_size=64))
    if mode == "json-scalar":
        return op, json.dumps(draw(JSON_SCALARS)).encode()
    payload = draw(value_for(shape)) if shape is not None else {}
    return op, json.dumps(payload).encode()


@pytest.fixture(scope="module")
def live():
    from harness.server import Emulator

    with Emulator.start(seed=99) as emu:
        session = requests.Session()
        # a real pool and client so some calls get past validation into the rules
        emu.backend.call("CreateUserPool", {"PoolName": "fuzz"}) if "CreateUserPool" in emu.backend.operations else None
        yield emu, session
        assert emu.backend.unmodeled_errors == [], emu.backend.unmodeled_errors


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(call=calls())
def test_every_request_gets_a_typed_answer(live, call: tuple[str, bytes]) -> None:
    emu, session = live
    op, body = call
    r = session.post(emu.url + "/", data=body, timeout=20, headers={
        "X-Amz-Target": f"{TARGET_PREFIX}.{op}", "Content-Type": "application/x-amz-json-1.1"})
    assert r.status_code in (200, 400), (op, body[:200], r.status_code, r.text[:300])
    payload = r.json()
    if r.status_code == 400:
        error_type = payload["__type"]
        assert isinstance(payload["message"], str) and payload["message"]
        assert r.headers["x-amzn-ErrorType"] == f"{error_type}:"
        assert error_type in modeled_errors(op) | PROTOCOL_ERRORS, (op, error_type, payload["message"])
        assert "Traceback" not in r.text


@pytest.mark.parametrize("body, headers, expected", [
    (b"{}", {"X-Amz-Target": "AWSCognitoIdentityProviderService.NoSuchOp"}, "UnknownOperationException"),
    (b"{}", {"X-Amz-Target": "SomethingElse.SignUp"}, "UnknownOperationException"),
    (b"{}", {}, "UnknownOperationException"),
    (b"{not json", {"X-Amz-Target": "AWSCognitoIdentityProviderService.SignUp"}, "SerializationException"),
    (b"\xff\xfe", {"X-Amz-Target": "AWSCognitoIdentityProviderService.SignUp"}, "SerializationException"),
    (b"[1,2]", {"X-Amz-Target": "AWSCognitoIdentityProviderService.SignUp"}, "SerializationException"),
    (b'{"ClientId": 7, "Username": "u"}', {"X-Amz-Target": "AWSCognitoIdentityProviderService.SignUp"},
     "SerializationException"),
    (b'{"Username": "u"}', {"X-Amz-Target": "AWSCognitoIdentityProviderService.SignUp"},
     "InvalidParameterException"),
])
def test_malformed_requests(emulator, body: bytes, headers: dict[str, str], expected: str) -> None:
    r = requests.post(emulator.url + "/", data=body, headers=headers)
    assert r.status_code == 400
    assert r.json()["__type"] == expected
    assert r.headers["x-amzn-ErrorType"] == expected + ":"


def test_missing_member_message_is_awss(emulator) -> None:
    r = requests.post(emulator.url + "/", json={"Username": "u"},
                      headers={"X-Amz-Target": "AWSCognitoIdentityProviderService.SignUp"})
    assert r.json()["message"] == (
        "1 validation error detected: Value null at 'clientId' failed to satisfy constraint: "
        "Member must not be null")


def test_oversized_body_is_a_typed_400(emulator) -> None:
    big = b'{"ClientId": "' + b"a" * (3 * 1024 * 1024) + b'"}'
    r = requests.post(emulator.url + "/", data=big,
                      headers={"X-Amz-Target": "AWSCognitoIdentityProviderService.SignUp"})
    assert r.status_code == 400
    assert r.json()["__type"] == "InvalidParameterException"


def test_oversized_member_is_a_validation_error(emulator) -> None:
    r = requests.post(emulator.url + "/", json={"ClientId": "a" * 129, "Username": "u"},
                      headers={"X-Amz-Target": "AWSCognitoIdentityProviderService.SignUp"})
    assert r.status_code == 400
    body = r.json()
    assert body["__type"] == "InvalidParameterException"
    assert "Member must have length less than or equal to 128" in body["message"]


def test_not_yet_emulated_operation_is_named(emulator, idp) -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as info:
        idp.list_web_authn_credentials(AccessToken="x" * 30)
    assert info.value.response["Error"]["Code"] in ("NotImplementedException", "NotAuthorizedException")


def test_request_values_cannot_inject_response_headers(emulator) -> None:
    """Error messages echo request values; CR/LF in them must not split the response headers."""
    r = requests.post(emulator.url + "/", timeout=10,
                      json={"UserPoolId": "bad\r\nX-Injected: yes\r\n\r\n{}", "CustomAttributes": []},
                      headers={"X-Amz-Target": "AWSCognitoIdentityProviderService.AddCustomAttributes"})
    assert r.status_code == 400
    assert "X-Injected" not in r.headers
    assert r.json()["__type"] == "InvalidParameterException"
    assert "\r" not in r.headers["x-amzn-ErrorMessage"] and "\n" not in r.headers["x-amzn-ErrorMessage"]

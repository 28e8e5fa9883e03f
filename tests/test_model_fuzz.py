"""Model-driven fuzzing: every cognito-idp operation, the OAuth2 endpoints and the control plane.

Inputs come from the botocore service model's shapes (harness.protocol):
well-shaped values (with the fixture pool's real ids, names and tokens mixed
in so calls reach the rules), boundary lengths and ranges, wrong JSON types,
unicode (lone surrogates included) and huge strings. They are POSTed with the
real protocol to an in-process emulator. Asserted: never a 5xx, and every
cognito-idp error ``__type`` is one the model lists for the operation (or a
protocol error). Deterministic (``derandomize``), within a CI budget.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from botocore.model import Shape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.control import Control
from harness.engine.common import secret_hash
from harness.fake_idps import FakeIdPs
from harness.protocol import TARGET_PREFIX, modeled_errors, operation_model, service_model
from harness.server import Emulator
from tests.control_fuzz import EDGE_VALUES, FIELD_VALUES, PATH_VALUES, ROUTES, Route, encode_body

PROTOCOL_ERRORS = {"SerializationException", "UnknownOperationException", "NotImplementedException"}
OPERATIONS = sorted(service_model().operation_names)
SEARCH = int(os.environ.get("HARNESS_FUZZ_SEARCH", "0"))
"""0 (CI): the fixed, derandomized examples. N: N times as many, freshly random (a longer hunt by hand)."""
SCALE = max(SEARCH, 1)
FUZZ = settings(deadline=None, derandomize=not SEARCH, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.filter_too_much])

UNICODE = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["\ud800", "a\udfffb", "é", "秘密", "\U0001f511", "\x00", "\u202e", "ǅ", "İ", "ß"])
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), UNICODE)
ANY_JSON = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(UNICODE, inner, max_size=3), max_leaves=6)


class Fixture:
    """The emulator under fuzz and the real values a request may carry."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.control = Control(emu.backend)
        FakeIdPs(emu.backend).set_client_timeout(0.5)  # outbound calls to nowhere fail fast
        handle = self.control.load_pool()
        self.pool_id = handle["pool_id"]
        web, server = handle["clients"]["web"], handle["clients"]["server"]
        self.public_client, self.secret_client, self.secret = web["client_id"], server["client_id"], server["client_secret"]
        idp = emu.boto3_client()
        signed = idp.initiate_auth(ClientId=self.public_client, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": "alice", "PASSWORD": "Alice-Passw0rd!"})
        result = signed["AuthenticationResult"]
        self.access, self.refresh, self.id_token = result["AccessToken"], result["RefreshToken"], result["IdToken"]
        self.snapshot = self.control.snapshot(include_secrets=True)
        self.real: dict[str, list[str]] = {
            "UserPoolId": [self.pool_id], "ClientId": [self.public_client, self.secret_client],
            "Username": ["alice", "bob", "alice@acme.example"], "AccessToken": [self.access],
            "RefreshToken": [self.refresh], "Token": [self.refresh, self.access], "GroupName": ["admins"],
            "Password": ["Alice-Passw0rd!", "N3w-Passw0rd!"], "ProposedPassword": ["N3w-Passw0rd!"],
            "PreviousPassword": ["Alice-Passw0rd!"], "ClientSecret": [self.secret],
            "SecretHash": [secret_hash(self.secret_client, self.secret, "alice")],
            "ConfirmationCode": ["123456"], "AuthFlow": ["USER_PASSWORD_AUTH", "USER_SRP_AUTH", "REFRESH_TOKEN_AUTH"],
        }

    def restore(self) -> None:
        self.control.restore(self.snapshot)


@pytest.fixture(scope="module")
def fx() -> Any:
    with Emulator.start(seed=4242) as emu:
        yield Fixture(emu)
        assert emu.backend.unmodeled_errors == [], emu.backend.unmodeled_errors[:5]


# --- cognito-idp: inputs from the shapes ----------------------------------------------------


def _string(shape: Shape) -> st.SearchStrategy[str]:
    enum = shape.metadata.get("enum")
    low, high = shape.metadata.get("min", 0), shape.metadata.get("max", 2048)
    boundary = [n for n in {low, low - 1, min(high, 4096), min(high, 4096) + 1, 0, 1} if n >= 0]
    options = [st.text(min_size=low, max_size=max(low, min(high, 24))), UNICODE,
               st.sampled_from(boundary).map(lambda n: "a" * n), st.just("x" * 20_000)]
    if enum:
        options = [st.sampled_from(enum)] * 3 + options
    return st.one_of(*options)


def value_for(shape: Shape, real: dict[str, list[str]], name: str = "", depth: int = 0) -> st.SearchStrategy[Any]:
    """Mostly well-typed values of a shape, sometimes a real id, a boundary, a wrong type."""
    kind = shape.type_name
    if depth > 4:
        return ANY_JSON
    if kind == "structure":
        members = {m: value_for(sub, real, m, depth + 1) for m, sub in shape.members.items()}
        required = {m: members.pop(m) for m in shape.required_members if m in members}
        good: st.SearchStrategy[Any] = st.fixed_dictionaries(required, optional=members)
    elif kind == "list":
        member = value_for(shape.member, real, name, depth + 1)
        good = st.lists(member, max_size=3) | st.lists(member | st.none(), min_size=1, max_size=2)
    elif kind == "map":
        good = st.dictionaries(_string(shape.key) if shape.key.type_name == "string" else UNICODE,
                               value_for(shape.value, real, name, depth + 1), max_size=3)
    elif kind == "string":
        good = _string(shape)
        if name in real:
            good = st.sampled_from(real[name]) | good
    elif kind in ("integer", "long"):
        low, high = shape.metadata.get("min", -(2**31)), shape.metadata.get("max", 2**31)
        good = st.integers(low, high) | st.sampled_from([low - 1, high + 1, 0, -1, 2**63, -(2**63)])
    elif kind == "boolean":
        good = st.booleans()
    elif kind == "blob":
        good = st.binary(max_size=16).map(lambda b: base64.b64encode(b).decode()) | UNICODE
    elif kind == "timestamp":
        good = st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**40), 2**40) | UNICODE
    else:
        good = ANY_JSON
    return st.one_of(good, good, good, ANY_JSON) if depth else good


def _auth_parameters(real: dict[str, list[str]]) -> st.SearchStrategy[dict[str, str]]:
    """AuthParameters / ChallengeResponses as the flows read them."""
    keys = ["USERNAME", "PASSWORD", "SECRET_HASH", "SRP_A", "REFRESH_TOKEN", "DEVICE_KEY", "NEW_PASSWORD",
            "PASSWORD_CLAIM_SIGNATURE", "PASSWORD_CLAIM_SECRET_BLOCK", "TIMESTAMP", "ANSWER", "SESSION"]
    values = st.sampled_from(["alice", "Alice-Passw0rd!", "ab" * 128, "Tue Jan 1 00:00:00 UTC 2030",
                              real["RefreshToken"][0], real["SecretHash"][0], "", "0", "\ud800"]) | UNICODE
    return st.dictionaries(st.sampled_from(keys), values, max_size=5)


@st.composite
def call_bodies(draw: st.DrawFn, operation: str, real: dict[str, list[str]]) -> bytes:
    shape = operation_model(operation).input_shape
    mode = draw(st.sampled_from(["shaped"] * 6 + ["garbage", "scalar"]))
    if mode == "garbage":
        return draw(st.binary(max_size=40) | st.sampled_from([b"[" * 5000, b'{"a":' + b"1" * 5000 + b"}"]))
    if mode == "scalar":
        return encode_body(draw(JSON_SCALARS))
    payload = draw(value_for(shape, real)) if shape is not None else {}
    if isinstance(payload, dict):
        for member in ("AuthParameters", "ChallengeResponses"):
            if shape is not None and member in shape.members and draw(st.booleans()):
                payload[member] = draw(_auth_parameters(real))
    return encode_body(payload)


def _post(fx: Fixture, operation: str, body: bytes) -> requests.Response:
    return requests.post(fx.emu.url + "/", data=body, timeout=30, headers={
        "X-Amz-Target": f"{TARGET_PREFIX}.{operation}", "Content-Type": "application/x-amz-json-1.1"})


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_operation_answers_typed_and_modeled(fx: Fixture, operation: str) -> None:
    fx.restore()  # each operation starts from the same pool, users and tokens

    @settings(FUZZ, max_examples=8 * SCALE)
    @given(body=call_bodies(operation, fx.real))
    def fuzz(body: bytes) -> None:
        answer = _post(fx, operation, body)
        assert answer.status_code < 500, (operation, body[:300], answer.status_code, answer.text[:300])
        if answer.status_code >= 400:
            error = answer.json()["__type"]
            assert error in modeled_errors(operation) | PROTOCOL_ERRORS, (operation, error, answer.text[:300])

    fuzz()


# --- the OAuth2 endpoints and the hosted UI ------------------------------------------------------


OAUTH_KEYS = ["response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge",
              "code_challenge_method", "identity_provider", "idp_identifier", "grant_type", "code", "code_verifier",
              "refresh_token", "client_secret", "token", "username", "password", "logout_uri", "lang", "_csrf"]
OAUTH_VALUES = st.sampled_from(["code", "token", "authorization_code", "refresh_token", "client_credentials",
                                "http://localhost:3000/callback", "openid email", "S256", "plain", "COGNITO",
                                "Google", "alice", "Alice-Passw0rd!", "", "é" * 50, "x" * 5000]) | UNICODE
ENDPOINTS = [("GET", "/oauth2/authorize"), ("POST", "/oauth2/token"), ("POST", "/oauth2/revoke"),
             ("GET", "/oauth2/userInfo"), ("POST", "/oauth2/userInfo"), ("GET", "/login"), ("POST", "/login"),
             ("GET", "/logout"), ("GET", "/oauth2/idpresponse"), ("OPTIONS", "/oauth2/token")]


@st.composite
def oauth_requests(draw: st.DrawFn, fx: Fixture) -> tuple[str, str, dict[str, str], dict[str, str]]:
    method, path = draw(st.sampled_from(ENDPOINTS))
    values = OAUTH_VALUES | st.sampled_from([fx.public_client, fx.secret_client, fx.secret, fx.refresh])
    fields = draw(st.dictionaries(st.sampled_from(OAUTH_KEYS), values, max_size=7))
    headers = {}
    auth = draw(st.sampled_from(["none", "basic", "bearer", "garbage"]))
    if auth == "basic":
        user, password = draw(values), draw(values)
        token = base64.b64encode(f"{user}:{password}".encode("utf-8", "surrogatepass")).decode()
        headers["Authorization"] = f"Basic {token}"
    elif auth == "bearer":
        headers["Authorization"] = f"Bearer {draw(st.sampled_from([fx.access, fx.id_token, 'x.y.z', '']))}"
    elif auth == "garbage":
        headers["Authorization"] = draw(st.sampled_from(["Basic", "Basic !!!", "Basic " + "A" * 999, "Bearer", "x"]))
    if draw(st.booleans()):
        headers["Cookie"] = draw(st.sampled_from(["cognito=x", "XSRF-TOKEN=a", "cognito=" + "é" * 10, "=;;"]))
    pool = draw(st.sampled_from([fx.pool_id] * 4 + ["us-east-1_nope", "x"]))
    return method, f"/{pool}{path}", fields, headers


def _quoted(fields: dict[str, str]) -> str:
    return urlencode({k.encode("utf-8", "surrogatepass"): v.encode("utf-8", "surrogatepass")
                      for k, v in fields.items()})


@settings(FUZZ, max_examples=250 * SCALE)
@given(data=st.data())
def test_oauth2_endpoints_never_answer_5xx(fx: Fixture, data: st.DataObject) -> None:
    method, path, fields, headers = data.draw(oauth_requests(fx))
    url = fx.emu.url + path
    if method in ("GET", "OPTIONS"):
        answer = requests.request(method, f"{url}?{_quoted(fields)}", headers=headers, allow_redirects=False,
                                  timeout=30)
    else:
        answer = requests.post(url, data=_quoted(fields), allow_redirects=False, timeout=30,
                               headers={**headers, "Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code < 500, (method, path, fields, headers, answer.status_code, answer.text[:300])


# --- the control plane -------------------------------------------------------------------------------


def _member_value(name: str) -> st.SearchStrategy[Any]:
    edge = st.sampled_from(EDGE_VALUES) | JSON_SCALARS
    return st.sampled_from(FIELD_VALUES[name]) | edge if name in FIELD_VALUES else edge


@st.composite
def control_requests(draw: st.DrawFn, fx: Fixture) -> tuple[Route, str, Any]:
    route = draw(st.sampled_from([r for r in ROUTES if r.path != "/reset"]))
    path = route.path
    real = {"{pool_id}": fx.pool_id, "{kid}": "k", "{fault_id}": "1", "{name}": "g", "{sub}": "s"}
    for slot, value in real.items():
        if slot in path:
            path = path.replace(slot, draw(st.sampled_from([value, *PATH_VALUES])))
    members = draw(st.lists(st.sampled_from(route.members), unique=True)) if route.members else []
    body: Any = {m: draw(_member_value(m)) for m in members}
    if draw(st.integers(0, 9)) == 0:
        body = draw(ANY_JSON)
    return route, path, body


@settings(FUZZ, max_examples=400 * SCALE)
@given(data=st.data())
def test_control_plane_never_answers_5xx(fx: Fixture, data: st.DataObject) -> None:
    route, path, body = data.draw(control_requests(fx))
    url = fx.emu.url + "/_harness" + path
    if route.method == "GET":
        query = body if isinstance(body, dict) else {}
        text = {k: v if isinstance(v, str) else json.dumps(v) for k, v in query.items()}
        answer = requests.get(f"{url}?{_quoted(text)}", timeout=60)
    else:
        answer = requests.request(route.method, url, data=encode_body(body), timeout=60,
                                  headers={"Content-Type": "application/json"})
    assert answer.status_code < 500, (route, path, body, answer.status_code, answer.text[:300])
    if answer.status_code >= 400:
        error = answer.json()  # a typed JSON error; a route's own 400/404 names the field at fault
        assert error["error"] in ("bad_request", "not_found", "method_not_allowed", "unsupported_media_type"), error
        assert "field" in error or "path" in error, error
    if fx.pool_id not in fx.emu.backend.pools:  # a restore or a pool load replaced it: back to the fixture
        fx.restore()

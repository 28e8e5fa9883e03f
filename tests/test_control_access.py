"""Who gets into the control plane (/_harness): the control token and the browser protections.

Every request goes to a real emulator on 127.0.0.1 over HTTP (requests, raw
http.client for headers requests would not send). The refused requests are
also checked not to have changed anything.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from typing import Any

import pytest
import requests

import harness
from harness.control import Control, ControlError, RemoteControl
from harness.control.guard import TOKEN_ENV, TOKEN_HEADER, TokenError
from harness.pooldef import PoolHandle, load_pool
from harness.runner.backends import PoolPlan, RemoteBackend
from harness.server import Emulator

TOKEN = "test-control-token-0123456789abcdef"
JSON = {"Content-Type": "application/json"}
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def guarded() -> Iterator[Emulator]:
    """An emulator started with a control token, one pool loaded."""
    with Emulator.start(seed=5, control_token=TOKEN) as emu:
        load_pool(emu.backend)
        yield emu


@pytest.fixture()
def plain(emulator: Emulator) -> PoolHandle:
    """The shared fresh emulator (no token: loopback only, browser protections on), one pool loaded."""
    return load_pool(emulator.backend)


def call(emu: Emulator, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{emu.url}/_harness{path}", timeout=10, **kwargs)


def raw(emu: Emulator, method: str, path: str, headers: list[tuple[str, bytes]], skip_host: bool = False,
        body: bytes = b"") -> tuple[int, bytes]:
    """A request with header bytes exactly as given (non-ASCII, no Host...)."""
    connection = http.client.HTTPConnection(emu.http.host, emu.http.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_host=skip_host, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def assert_refused(response: requests.Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert body["error"] == error and body["message"] and body["field"], body
    assert TOKEN not in response.text and all(TOKEN not in v for v in response.headers.values())
    return body


# --- the control token ------------------------------------------------------------------------------


def test_every_control_route_needs_the_token(guarded: Emulator) -> None:
    pool_id = Control(guarded.backend).info()["pools"][0]["pool_id"]
    routes = [
        ("GET", ""), ("GET", "/snapshot"), ("GET", f"/pools/{pool_id}/keys"), ("GET", "/mailbox"),
        ("POST", f"/pools/{pool_id}/mint"), ("POST", "/reset"), ("POST", "/clock"), ("DELETE", "/faults"),
        ("GET", "/idps"), ("POST", "/idps"), ("POST", "/idp-settings"), ("GET", "/triggers"),
    ]
    for method, path in routes:
        for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"X-Other": TOKEN}):
            response = call(guarded, method, path, json={"action": "advance", "seconds": 9e6}, headers=headers)
            assert_refused(response, 401, "unauthorized")
            assert response.headers["WWW-Authenticate"].startswith("Bearer realm=")
        for wrong in ("wrong", TOKEN[:-1], TOKEN + "x", TOKEN.upper(), f"{TOKEN} {TOKEN}"):
            response = call(guarded, method, path, json={}, headers={"Authorization": f"Bearer {wrong}"})
            assert_refused(response, 401, "unauthorized")
            assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    info = Control(guarded.backend).info()  # nothing above reached the state
    assert info["seed"] == 5 and info["pools"][0]["pool_id"] == pool_id and info["clock"]["offset"] == 0
    assert info["faults"] == 0 and call(guarded, "GET", "/idps", headers=BEARER).json()["idps"] == []


def test_the_token_opens_it_by_either_header(guarded: Emulator) -> None:
    for headers in (BEARER, {"Authorization": f"bearer   {TOKEN}"}, {TOKEN_HEADER: TOKEN},
                    {"Authorization": "Basic dXNlcjpwYXNz", TOKEN_HEADER: TOKEN}):
        response = call(guarded, "GET", "", headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["seed"] == 5
        assert response.headers["Cache-Control"] == "no-store"
    written = call(guarded, "POST", "/faults", json={"kind": "throttle", "operation": "SignUp"}, headers=BEARER)
    assert written.status_code in (200, 201), written.text
    assert call(guarded, "DELETE", "/faults", headers={**BEARER, **JSON}).json()["cleared"] == 1


def test_a_non_ascii_token_is_refused_not_a_500(guarded: Emulator) -> None:
    for name, value in (("Authorization", "Bearer é-ü-ℤ-😀".encode()), ("Authorization", b"Bearer \xff\xfe\x80"),
                        (TOKEN_HEADER, "tökén".encode()), (TOKEN_HEADER, b"\xc3\x28" + TOKEN.encode())):
        status, body = raw(guarded, "GET", "/_harness/snapshot", [(name, value)])
        assert status == 401, (value, status, body)
        assert b'"unauthorized"' in body


def test_the_public_faces_need_no_token(guarded: Emulator) -> None:
    """Apps, AWS endpoint mode and ``run --backend URL`` use the cognito-idp API and the JWKS: never the token."""
    idp = guarded.boto3_client()
    pool_id = idp.list_user_pools(MaxResults=5)["UserPools"][0]["Id"]
    assert idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Id"] == pool_id
    jwks = requests.get(f"{guarded.url}/{pool_id}/.well-known/jwks.json", timeout=10,
                        headers={"Host": "cognito-idp.us-east-1.amazonaws.com", "Origin": "http://evil.example"})
    assert jwks.status_code == 200 and jwks.json()["keys"]
    backend = RemoteBackend(guarded.url, PoolPlan())
    backend.start()
    coords = backend.prepare(7)
    assert coords.pool_id in {p["Id"] for p in idp.list_user_pools(MaxResults=60)["UserPools"]}


def test_remote_control_sends_the_token(guarded: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with pytest.raises(ControlError) as refused:
        RemoteControl(guarded.url).info()
    assert refused.value.status == 401 and refused.value.field == "Authorization"
    assert TOKEN not in str(refused.value)

    explicit = RemoteControl(guarded.url, token=TOKEN)
    assert explicit.info()["seed"] == 5
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    remote = RemoteControl(guarded.url)  # from the environment, as `serve` reads it
    pool_id = remote.info()["pools"][0]["pool_id"]
    remote.freeze(1_700_000_000)
    assert remote.advance(60)["now"] == 1_700_000_060
    kid = remote.keys(pool_id)[0]["kid"]
    remote.unpublish_key(pool_id, kid)  # bodyless writes go as JSON too
    remote.publish_key(pool_id, kid)
    assert remote.clear_mailbox() == 0 and remote.clear_faults() == 0
    assert remote.mint(pool_id, "alice").count(".") == 2
    assert remote.snapshot()["pools"]
    with pytest.raises(ControlError) as refused:
        RemoteControl(guarded.url, token="").info()  # "" sends none, whatever the environment says
    assert refused.value.status == 401
    remote.unfreeze()


def test_an_emulator_with_a_token_works_with_its_own_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with harness.start(seed=3, control_token=TOKEN, pool=None) as emu:  # counts the pools it loads
        pool = load_pool(emu.backend)
        assert emu.remote_control().load_pool(definition={"pool": {"name": "second"}})["pool_id"]
        assert len(emu.remote_control().info()["pools"]) == 2
        assert Control(emu.backend).reset(3)["seed"] == 3  # in-process: no HTTP, no token
        pool = load_pool(emu.backend)
        assert emu.boto3_client().describe_user_pool(UserPoolId=pool.pool_id)["UserPool"]["Id"] == pool.pool_id
        assert call(emu, "GET", "").status_code == 401
    with harness.start(seed=3) as emu:  # without one, the same clients
        assert emu.remote_control().info()["seed"] == 3


def test_an_emulator_off_loopback_needs_a_token() -> None:
    """Refused before the socket is made (nothing here binds beyond loopback)."""
    for host in ("0.0.0.0", "::", "", "192.0.2.10", "example.com"):
        with pytest.raises(TokenError, match="not a loopback address"):
            Emulator(host=host)


def test_a_weak_token_is_refused_without_being_echoed() -> None:
    for token in ("", "short", "has spaces in it, 32 characters", "tab\tseparated-token-0123456789", "é" * 40):
        with pytest.raises(TokenError) as refused:
            Emulator(control_token=token)
        assert token not in str(refused.value) or not token


# --- browser protections (an emulator without a token: loopback only) -------------------------------


def test_writes_need_a_json_content_type(emulator: Emulator, plain: PoolHandle) -> None:
    """A page's text/plain or form POST needs no CORS preflight: it must not reset or skew the emulator."""
    remote = RemoteControl(emulator.url, token="")
    remote.freeze(1_700_000_000)
    advance = b'{"action": "advance", "seconds": 86400}'
    for content_type in ("text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
                         "multipart/form-data; boundary=x", "application/jsonx", "application/json-patch+json"):
        response = call(emulator, "POST", "/clock", data=advance, headers={"Content-Type": content_type})
        assert_refused(response, 415, "unsupported_media_type")
    for method, path in (("POST", "/reset"), ("DELETE", "/mailbox"), ("DELETE", "/faults"), ("PUT", "/clock"),
                         ("PATCH", "/clock")):
        assert_refused(call(emulator, method, path), 415, "unsupported_media_type")  # no body, no type
    assert remote.clock()["now"] == 1_700_000_000 and remote.info()["pools"]  # nothing moved, nothing reset
    ok = call(emulator, "POST", "/clock", data=advance, headers={"Content-Type": "Application/JSON; charset=utf-8"})
    assert ok.status_code == 200 and remote.clock()["now"] == 1_700_086_400
    assert call(emulator, "GET", "/clock", headers={"Content-Type": "text/plain"}).status_code == 200  # reads: any


def test_the_host_must_name_this_server(emulator: Emulator, plain: PoolHandle) -> None:
    """DNS rebinding: a page at http://attacker.example:PORT resolved to 127.0.0.1 still sends its own Host."""
    port = emulator.http.port
    for host in (f"attacker.example:{port}", "attacker.example", f"127.0.0.1.attacker.example:{port}",
                 f"localhost.attacker.example:{port}", f"[::2]:{port}", f"10.0.0.1:{port}", "", f"{port}",
                 f"127.0.0.1:{port}, attacker.example", "local host", f"127.0.0.1:{port}:1"):
        response = call(emulator, "GET", "/snapshot", headers={"Host": host})
        assert_refused(response, 403, "forbidden_host")
        assert "pools" not in response.json()
    status, body = raw(emulator, "GET", "/_harness/snapshot", [], skip_host=True)  # no Host at all (HTTP/1.0 style)
    assert status in (400, 403) and b"pools" not in body
    for host in (f"127.0.0.1:{port}", "127.0.0.1", f"localhost:{port}", f"LocalHost:{port}", f"[::1]:{port}",
                 "localhost:8080"):  # any port: a published container port differs from the one served
        assert call(emulator, "GET", "", headers={"Host": host}).status_code == 200, host


def test_the_api_and_well_known_answer_any_host(emulator: Emulator, plain: PoolHandle) -> None:
    """AWS endpoint mode reaches the same server as cognito-idp.<region>.amazonaws.com: untouched by the guard."""
    headers = {"Host": "cognito-idp.us-east-1.amazonaws.com", "Content-Type": "application/x-amz-json-1.1",
               "X-Amz-Target": "AWSCognitoIdentityProviderService.DescribeUserPool"}
    described = requests.post(emulator.url + "/", json={"UserPoolId": plain.pool_id}, headers=headers, timeout=10)
    assert described.status_code == 200 and described.json()["UserPool"]["Id"] == plain.pool_id
    jwks = requests.get(plain.jwks_url, headers={"Host": "attacker.example"}, timeout=10)
    assert jwks.status_code == 200 and jwks.json()["keys"]


def test_foreign_origins_are_refused(emulator: Emulator, plain: PoolHandle) -> None:
    port = emulator.http.port
    remote = RemoteControl(emulator.url, token="")
    remote.freeze(1_700_000_000)
    for origin in ("http://attacker.example", "null", f"http://localhost:{port + 1}", "http://localhost:3000",
                   f"http://attacker.example:{port}", "file://", f"http://127.0.0.1:{port}/path", "garbage"):
        for method, path, body in (("GET", "/snapshot", None), ("POST", "/reset", {}),
                                   ("POST", "/clock", {"action": "advance", "seconds": 60})):
            response = call(emulator, method, path, json=body, headers={"Origin": origin})
            assert_refused(response, 403, "forbidden_origin")
    for site in ("cross-site", "same-site"):
        response = call(emulator, "POST", "/clock", json={"action": "advance", "seconds": 60},
                        headers={"Sec-Fetch-Site": site})
        assert_refused(response, 403, "forbidden_origin")
    assert remote.clock()["now"] == 1_700_000_000 and remote.info()["pools"]
    own = {"Origin": f"http://127.0.0.1:{port}", "Sec-Fetch-Site": "same-origin"}
    assert call(emulator, "POST", "/clock", json={"action": "advance", "seconds": 60}, headers=own).status_code == 200
    typed = {"Host": f"localhost:{port}", "Sec-Fetch-Site": "none"}  # the developer opens /_harness in a tab
    assert call(emulator, "GET", "", headers=typed).status_code == 200
    assert remote.clock()["now"] == 1_700_000_060


def test_more_host_names_can_be_allowed() -> None:
    with Emulator.start(seed=1, allowed_hosts=["cognito", "emu.test:9229"]) as emu:
        emu.set_public_url("http://public.example:8443/")
        assert emu.backend.settings.public_url == "http://public.example:8443"
        for host in ("cognito:9229", "emu.test", "public.example:8443", "localhost"):
            assert call(emu, "GET", "", headers={"Host": host}).status_code == 200, host
        assert call(emu, "GET", "", headers={"Host": "other.example"}).status_code == 403


def test_guard_errors_are_json_with_no_500(emulator: Emulator) -> None:
    """Odd headers on the guard's inputs: always a 4xx JSON answer."""
    cases: list[list[tuple[str, bytes]]] = [
        [("Host", b"\xff\xfe:1")], [("Origin", b"http://\xc3\xa9.example")], [("Origin", "http://[::1".encode())],
        [("Sec-Fetch-Site", b"\xff")], [("Content-Type", b"\xff/json")], [("Host", b"[zz]:1")],
        [("Origin", b"http://127.0.0.1:99999")],
    ]
    for headers in cases:
        status, body = raw(emulator, "POST", "/_harness/reset", headers, skip_host=headers[0][0] == "Host")
        assert 400 <= status < 500, (headers, status, body)


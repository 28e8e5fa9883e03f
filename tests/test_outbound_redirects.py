"""Outbound calls stay on loopback on every hop: a redirect off the allow-list is never followed.

A real "redirector" on 127.0.0.1 answers every request with a redirect to a "target" server
bound on 127.0.0.9 (a loopback address, but not on the allow-list of 127.0.0.1 / localhost /
::1; in cloud CI it would be 169.254.169.254). The target records every request it gets: the
tests assert it never got one, through the real API (CreateIdentityProvider's discovery, the
PreSignUp trigger) and through the engine's OIDC client (JWKS, token, userinfo).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.exceptions import ClientError

from harness.engine import oidc_client, outbound
from harness.engine.models import IdentityProvider
from harness.engine.store import Backend
from harness.engine.triggers import set_trigger
from harness.server import Emulator

REACH = outbound.Reach(timeout=5)

OFF_LIST_HOST = "127.0.0.9"


class Recorder:
    """A loopback HTTP server that answers every request with ``reply(path)`` and records it."""

    def __init__(self, host: str, reply: Any) -> None:
        self.hits: list[tuple[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                outer.hits.append((self.command, self.path))
                status, headers, body = reply(self.path)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def target() -> Iterator[Recorder]:
    """What a redirect must never reach: it would answer 200 with a plausible body."""
    try:
        server = Recorder(OFF_LIST_HOST, lambda path: (200, {"Content-Type": "application/json"},
                                                       json.dumps({"keys": [], "ok": True}).encode()))
    except OSError as exc:  # pragma: no cover - every Linux routes 127.0.0.0/8 to lo
        pytest.skip(f"cannot bind {OFF_LIST_HOST}: {exc}")
    yield server
    server.stop()


@pytest.fixture()
def redirector(target: Recorder) -> Iterator[Recorder]:
    """On the allow-list (127.0.0.1): redirects every request to the same path on the target."""
    server = Recorder("127.0.0.1", lambda path: (302, {"Location": f"{target.url}{path}"}, b""))
    yield server
    server.stop()


def _endpoints(base: str) -> oidc_client.Endpoints:
    return oidc_client.Endpoints(issuer=base, authorize_url=f"{base}/authorize", token_url=f"{base}/token",
                                 attributes_url=f"{base}/userinfo", jwks_uri=f"{base}/jwks")


def _provider(method: str = "GET") -> IdentityProvider:
    return IdentityProvider(pool_id="p", name="Acme", provider_type="OIDC",
                            details={"client_id": "c", "client_secret": "s", "attributes_request_method": method})


def test_discovery_redirect_off_the_allow_list_is_refused_over_the_api(idp, redirector: Recorder,  # noqa: ANN001
                                                                       target: Recorder) -> None:
    pool = idp.create_user_pool(PoolName="fed")["UserPool"]["Id"]
    with pytest.raises(ClientError) as refused:
        idp.create_identity_provider(UserPoolId=pool, ProviderName="Acme", ProviderType="OIDC", ProviderDetails={
            "client_id": "c", "client_secret": "s", "authorize_scopes": "openid", "oidc_issuer": redirector.url,
            "attributes_request_method": "GET"})
    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidParameterException"
    assert target.url in error["Message"] and "not on loopback" in error["Message"], error["Message"]
    assert redirector.hits == [("GET", "/.well-known/openid-configuration")]
    assert target.hits == []


def test_jwks_token_and_userinfo_never_follow_off_list(redirector: Recorder, target: Recorder) -> None:
    backend = Backend(seed=0)
    endpoints = _endpoints(redirector.url)
    with pytest.raises(oidc_client.IdPError, match="redirect") as jwks:
        oidc_client.verify_id_token(backend, _provider(), endpoints,
                                    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.e30.c2ln", None, REACH)
    assert target.url in jwks.value.description
    with pytest.raises(oidc_client.IdPError, match="do not follow redirects") as token:
        oidc_client.exchange_code(_provider(), endpoints, "code", "http://localhost/cb", REACH, 0)
    assert target.url in token.value.description
    for method in ("GET", "POST"):
        with pytest.raises(oidc_client.IdPError, match="redirect"):
            oidc_client.fetch_userinfo(_provider(method), endpoints, "access-token", REACH)
    assert [hit[0] for hit in redirector.hits] == ["GET", "POST", "GET", "POST"]
    assert target.hits == []


def test_a_post_is_not_replayed_even_to_loopback() -> None:
    """307/308 would re-send the client secret; the token call refuses any redirect."""
    landing = Recorder("127.0.0.1", lambda path: (200, {"Content-Type": "application/json"},
                                                  b'{"id_token": "x"}'))
    bouncer = Recorder("127.0.0.1", lambda path: (307, {"Location": f"{landing.url}{path}"}, b""))
    try:
        with pytest.raises(oidc_client.IdPError, match="HTTP 307"):
            oidc_client.exchange_code(_provider(), _endpoints(bouncer.url), "code", "http://localhost/cb", REACH, 0)
        assert landing.hits == [] and len(bouncer.hits) == 1
    finally:
        landing.stop()
        bouncer.stop()


def test_redirects_that_stay_on_loopback_are_followed_for_gets() -> None:
    doc = {"keys": [{"kty": "RSA", "kid": "k"}]}
    landing = Recorder("127.0.0.1", lambda path: (200, {"Content-Type": "application/json"}, json.dumps(doc).encode()))
    hop = Recorder("127.0.0.1", lambda path: (301, {"Location": f"{landing.url}/keys"}, b""))
    try:
        assert outbound.get(f"{hop.url}/jwks", 5).json() == doc
        assert landing.hits == [("GET", "/keys")]
    finally:
        landing.stop()
        hop.stop()


def test_a_redirect_loop_ends_with_a_clear_refusal() -> None:
    loop: list[str] = []
    server = Recorder("127.0.0.1", lambda path: (302, {"Location": f"{loop[0]}/again"}, b""))
    loop.append(server.url)
    try:
        with pytest.raises(outbound.OutboundRefused, match="more than 5 redirects"):
            outbound.get(server.url, 5)
        assert len(server.hits) == outbound.MAX_REDIRECTS + 1
    finally:
        server.stop()


def test_environment_proxies_are_not_used(monkeypatch: pytest.MonkeyPatch, target: Recorder) -> None:
    """A CI's HTTP(S)_PROXY would carry loopback calls off the machine: they are ignored."""
    doc = {"keys": []}
    direct = Recorder("127.0.0.1", lambda path: (200, {"Content-Type": "application/json"}, json.dumps(doc).encode()))
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, target.url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    try:
        assert outbound.get(f"{direct.url}/jwks", 5).json() == doc
        assert direct.hits == [("GET", "/jwks")] and target.hits == []
    finally:
        direct.stop()


def test_trigger_redirect_is_a_failed_invocation_not_followed(emulator: Emulator, idp, redirector: Recorder,  # noqa: ANN001
                                                              target: Recorder) -> None:
    pool = idp.create_user_pool(PoolName="trig")["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="web")["UserPoolClient"]["ClientId"]
    set_trigger(emulator.backend, pool, "PreSignUp", f"{redirector.url}/hook")
    with pytest.raises(ClientError) as failed:
        idp.sign_up(ClientId=client, Username="amy", Password="Passw0rd!x",
                    UserAttributes=[{"Name": "email", "Value": "amy@example.com"}])
    error = failed.value.response["Error"]
    assert error["Code"] == "UnexpectedLambdaException"
    assert "redirect" in error["Message"] and target.url in error["Message"], error["Message"]
    assert redirector.hits == [("POST", "/hook")]
    assert target.hits == []
    assert idp.list_users(UserPoolId=pool)["Users"] == []

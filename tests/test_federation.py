"""Federation with an OIDC provider the test starts itself, configured only through
CreateIdentityProvider; the identity-provider, domain and resource-server operations; the
PreSignUp trigger over HTTP; the fake IdPs' control plane.
"""

from __future__ import annotations

import base64
import functools
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from harness.server import Emulator

CALLBACK = "http://localhost:3000/callback"


@functools.lru_cache(maxsize=None)
def rsa_key(label: str) -> rsa.RSAPrivateKey:
    """RSA keys are slow to make; the tests' providers share them by label."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class MiniOIDC:
    """A minimal, independent OpenID provider: discovery, JWKS, authorize, token, userinfo."""

    def __init__(self, auth_methods: tuple[str, ...] = ("client_secret_post", "client_secret_basic")) -> None:
        self.key = rsa_key("provider")
        self.kid = "mini-1"
        self.client_id, self.client_secret = "mini-client", "mini-secret-value"
        self.auth_methods = auth_methods
        self.subject = {"sub": "u-42", "email": "zoe@example.org", "email_verified": True}
        self.userinfo_extra = {"given_name": "Zoe"}
        self.codes: dict[str, dict[str, str]] = {}
        self.token_requests: list[dict[str, Any]] = []
        self.userinfo_methods: list[str] = []
        self.tamper: dict[str, Any] = {}  # claims to override in the next ID tokens
        self.signer: rsa.RSAPrivateKey | None = None  # sign with this instead of the published key
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, status: int, body: Any) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    self._json(200, {"issuer": outer.issuer, "authorization_endpoint": f"{outer.issuer}/auth",
                                     "token_endpoint": f"{outer.issuer}/token", "jwks_uri": f"{outer.issuer}/keys",
                                     "userinfo_endpoint": f"{outer.issuer}/me", "response_types_supported": ["code"],
                                     "subject_types_supported": ["public"],
                                     "id_token_signing_alg_values_supported": ["RS256"],
                                     "token_endpoint_auth_methods_supported": list(outer.auth_methods)})
                elif url.path == "/keys":
                    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(outer.key.public_key()))
                    self._json(200, {"keys": [{**jwk, "kid": outer.kid, "use": "sig", "alg": "RS256"}]})
                elif url.path == "/auth":
                    code = f"code-{len(outer.codes)}"
                    outer.codes[code] = query
                    self.send_response(302)
                    self.send_header("Location", f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif url.path == "/me":
                    outer.userinfo_methods.append(self.command)
                    if self.headers.get("Authorization") != "Bearer mini-access":
                        self._json(401, {"error": "invalid_token"})
                    else:
                        self._json(200, {"sub": outer.subject["sub"], **outer.userinfo_extra})
                else:
                    self._json(404, {"error": "not_found"})

            def do_POST(self) -> None:  # noqa: N802 - stdlib name
                if self.path == "/me":
                    return self.do_GET()
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                client_id, secret = form.get("client_id"), form.get("client_secret")
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Basic "):
                    client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
                outer.token_requests.append({"form": form, "basic": auth.startswith("Basic ")})
                if (client_id, secret) != (outer.client_id, outer.client_secret):
                    return self._json(401, {"error": "invalid_client"})
                request = outer.codes.pop(form.get("code", ""), None)
                if request is None or form.get("redirect_uri") != request["redirect_uri"]:
                    return self._json(400, {"error": "invalid_grant"})
                now = int(time.time())
                claims = {"iss": outer.issuer, "aud": outer.client_id, "iat": now, "exp": now + 600,
                          "nonce": request.get("nonce"), **outer.subject, **outer.tamper}
                token = jwt.encode(claims, outer.signer or outer.key, algorithm="RS256", headers={"kid": outer.kid})
                self._json(200, {"access_token": "mini-access", "id_token": token, "token_type": "Bearer",
                                 "expires_in": 600})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def mini() -> Iterator[MiniOIDC]:
    provider = MiniOIDC()
    yield provider
    provider.stop()


@pytest.fixture()
def pool(idp: Any) -> str:
    return idp.create_user_pool(PoolName="fed")["UserPool"]["Id"]


def oidc_client(idp: Any, pool_id: str, providers: list[str]) -> dict[str, Any]:
    return idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="app", CallbackURLs=[CALLBACK], AllowedOAuthFlows=["code"],
        AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthScopes=["openid", "email"],
        SupportedIdentityProviders=providers)["UserPoolClient"]


def sign_in(emulator: Emulator, pool_id: str, client_id: str, provider: str) -> dict[str, str]:
    """Follow the redirects by hand; return the app callback's query."""
    url = f"{emulator.url}/{pool_id}/oauth2/authorize?" + urlencode(
        {"response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK, "state": "xyz",
         "identity_provider": provider, "nonce": "app-nonce"})
    for _ in range(6):
        response = requests.get(url, allow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text
        url = response.headers["Location"]
        if url.startswith(CALLBACK):
            return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    raise AssertionError("no redirect back to the app")


def create_acme(idp: Any, pool_id: str, mini: MiniOIDC, **details: str) -> dict[str, Any]:
    return idp.create_identity_provider(
        UserPoolId=pool_id, ProviderName="Acme", ProviderType="OIDC",
        ProviderDetails={"client_id": mini.client_id, "client_secret": mini.client_secret,
                         "attributes_request_method": "GET", "oidc_issuer": mini.issuer,
                         "authorize_scopes": "openid email", **details},  # details may override
        AttributeMapping={"email": "email", "email_verified": "email_verified", "given_name": "given_name"},
        IdpIdentifiers=["acme.example"])["IdentityProvider"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_federates_with_an_independent_oidc_provider(emulator: Emulator, idp: Any, pool: str, mini: MiniOIDC,
                                                     method: str) -> None:
    created = create_acme(idp, pool, mini, attributes_request_method=method)
    details = created["ProviderDetails"]
    assert details["authorize_url"] == f"{mini.issuer}/auth" and details["token_url"] == f"{mini.issuer}/token"
    assert details["jwks_uri"] == f"{mini.issuer}/keys" and details["attributes_url"] == f"{mini.issuer}/me"
    assert created["AttributeMapping"]["username"] == "sub"
    client = oidc_client(idp, pool, ["Acme"])
    back = sign_in(emulator, pool, client["ClientId"], "Acme")
    assert back["state"] == "xyz" and "code" in back
    (exchange,) = mini.token_requests
    assert exchange["form"]["client_secret"] == mini.client_secret and not exchange["basic"]
    assert exchange["form"]["redirect_uri"] == f"{emulator.url}/{pool}/oauth2/idpresponse"

    tokens = requests.post(f"{emulator.url}/{pool}/oauth2/token", timeout=10, data={
        "grant_type": "authorization_code", "code": back["code"], "redirect_uri": CALLBACK,
        "client_id": client["ClientId"]}).json()
    key = jwt.PyJWKClient(f"{emulator.url}/{pool}/.well-known/jwks.json").get_signing_key_from_jwt(tokens["id_token"])
    claims = jwt.decode(tokens["id_token"], key.key, algorithms=["RS256"], audience=client["ClientId"])
    assert claims["cognito:username"] == "Acme_u-42" and claims["nonce"] == "app-nonce"
    assert claims["given_name"] == "Zoe"  # from the provider's userinfo endpoint
    assert mini.userinfo_methods == [method]
    assert claims["identities"][0]["providerType"] == "OIDC"
    user = idp.admin_get_user(UserPoolId=pool, Username="Acme_u-42")
    assert user["UserStatus"] == "EXTERNAL_PROVIDER"


def test_idp_identifier_selects_the_provider(emulator: Emulator, idp: Any, pool: str, mini: MiniOIDC) -> None:
    create_acme(idp, pool, mini)
    client = oidc_client(idp, pool, ["Acme"])
    url = f"{emulator.url}/{pool}/oauth2/authorize?" + urlencode(
        {"response_type": "code", "client_id": client["ClientId"], "redirect_uri": CALLBACK,
         "idp_identifier": "acme.example"})
    response = requests.get(url, allow_redirects=False, timeout=10)
    assert response.headers["Location"].startswith(f"{mini.issuer}/auth?")
    found = idp.get_identity_provider_by_identifier(UserPoolId=pool, IdpIdentifier="acme.example")
    assert found["IdentityProvider"]["ProviderName"] == "Acme"


def test_basic_client_auth_when_the_provider_only_offers_it(emulator: Emulator, idp: Any, pool: str) -> None:
    provider = MiniOIDC(auth_methods=("client_secret_basic",))
    try:
        create_acme(idp, pool, provider)
        client = oidc_client(idp, pool, ["Acme"])
        assert "code" in sign_in(emulator, pool, client["ClientId"], "Acme")
        assert provider.token_requests[0]["basic"] is True
        assert "client_secret" not in provider.token_requests[0]["form"]
    finally:
        provider.stop()


@pytest.mark.parametrize("tamper, description", [
    ({"nonce": "replayed"}, "Bad id_token nonce"),
    ({"aud": "someone-else"}, "Bad id_token audience"),
    ({"iss": "https://impostor.example"}, "Bad id_token issuer https://impostor.example"),
    ({"exp": 1000}, "Bad id_token: token expired"),
])
def test_id_token_checks(emulator: Emulator, idp: Any, pool: str, mini: MiniOIDC, tamper: dict[str, Any],
                         description: str) -> None:
    create_acme(idp, pool, mini)
    client = oidc_client(idp, pool, ["Acme"])
    mini.tamper = tamper
    back = sign_in(emulator, pool, client["ClientId"], "Acme")
    assert back == {"error_description": description, "state": "xyz", "error": "invalid_request"}
    assert idp.list_users(UserPoolId=pool)["Users"] == []


def test_foreign_signature_is_rejected(emulator: Emulator, idp: Any, pool: str, mini: MiniOIDC) -> None:
    create_acme(idp, pool, mini)
    client = oidc_client(idp, pool, ["Acme"])
    mini.signer = rsa_key("impostor")  # same kid, another key
    back = sign_in(emulator, pool, client["ClientId"], "Acme")
    assert back == {"error_description": "Bad id_token signature", "state": "xyz", "error": "invalid_request"}


def test_unreachable_issuer_is_an_invalid_parameter(idp: Any, pool: str) -> None:
    with pytest.raises(idp.exceptions.InvalidParameterException, match="well-known"):
        idp.create_identity_provider(
            UserPoolId=pool, ProviderName="Gone", ProviderType="OIDC",
            ProviderDetails={"client_id": "c", "client_secret": "s", "attributes_request_method": "GET",
                             "oidc_issuer": "http://127.0.0.1:9", "authorize_scopes": "openid"})


# --- identity-provider operations ----------------------------------------------------------------


def test_identity_provider_crud_and_errors(idp: Any, pool: str, mini: MiniOIDC) -> None:
    errors = idp.exceptions
    create_acme(idp, pool, mini)
    with pytest.raises(errors.DuplicateProviderException):
        create_acme(idp, pool, mini)
    with pytest.raises(errors.InvalidParameterException, match="oidc_issuer"):
        idp.create_identity_provider(UserPoolId=pool, ProviderName="Other", ProviderType="OIDC",
                                     ProviderDetails={"client_id": "c", "attributes_request_method": "GET",
                                                      "authorize_scopes": "openid"})
    with pytest.raises(errors.InvalidParameterException, match="must be Google"):
        idp.create_identity_provider(UserPoolId=pool, ProviderName="MyGoogle", ProviderType="Google",
                                     ProviderDetails={"client_id": "c", "client_secret": "s",
                                                      "authorize_scopes": "openid"})
    with pytest.raises(errors.ResourceNotFoundException):
        idp.describe_identity_provider(UserPoolId=pool, ProviderName="Nope")
    with pytest.raises(errors.ResourceNotFoundException):
        idp.get_identity_provider_by_identifier(UserPoolId=pool, IdpIdentifier="nope.example")
    with pytest.raises(errors.ResourceNotFoundException):
        idp.list_identity_providers(UserPoolId="us-east-1_missing0", MaxResults=10)
    google = idp.create_identity_provider(UserPoolId=pool, ProviderName="Google", ProviderType="Google",
                                          ProviderDetails={"client_id": "g-client", "client_secret": "g-secret",
                                                           "authorize_scopes": "openid email"})["IdentityProvider"]
    assert google["ProviderDetails"]["oidc_issuer"].endswith("/_idp/google")  # served by a fake
    listed = idp.list_identity_providers(UserPoolId=pool, MaxResults=1)
    assert [p["ProviderName"] for p in listed["Providers"]] == ["Acme"]
    rest = idp.list_identity_providers(UserPoolId=pool, MaxResults=1, NextToken=listed["NextToken"])
    assert [p["ProviderName"] for p in rest["Providers"]] == ["Google"] and "NextToken" not in rest
    updated = idp.update_identity_provider(UserPoolId=pool, ProviderName="Acme",
                                           ProviderDetails={"authorize_scopes": "openid email profile"},
                                           IdpIdentifiers=["acme.test"])["IdentityProvider"]
    assert updated["ProviderDetails"]["authorize_scopes"] == "openid email profile"
    assert updated["ProviderDetails"]["client_id"] == mini.client_id and updated["IdpIdentifiers"] == ["acme.test"]
    with pytest.raises(errors.InvalidParameterException, match="already used"):
        idp.update_identity_provider(UserPoolId=pool, ProviderName="Google", IdpIdentifiers=["acme.test"])
    idp.delete_identity_provider(UserPoolId=pool, ProviderName="Acme")
    with pytest.raises(errors.ResourceNotFoundException):
        idp.delete_identity_provider(UserPoolId=pool, ProviderName="Acme")


# --- domains and resource servers -----------------------------------------------------------------


def test_user_pool_domain_lifecycle(idp: Any, pool: str) -> None:
    errors = idp.exceptions
    answer = idp.create_user_pool_domain(UserPoolId=pool, Domain="my-app-login")
    assert answer["ManagedLoginVersion"] == 1
    described = idp.describe_user_pool_domain(Domain="my-app-login")["DomainDescription"]
    assert described["UserPoolId"] == pool and described["Status"] == "ACTIVE"
    assert idp.describe_user_pool(UserPoolId=pool)["UserPool"]["Domain"] == "my-app-login"
    assert idp.describe_user_pool_domain(Domain="unknown-domain")["DomainDescription"] == {}
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="web", CallbackURLs=[CALLBACK],
                                         AllowedOAuthFlows=["code"], AllowedOAuthFlowsUserPoolClient=True,
                                         AllowedOAuthScopes=["openid"], SupportedIdentityProviders=["COGNITO"])
    via_domain = requests.get(f"{idp.meta.endpoint_url}/_domain/my-app-login/oauth2/authorize?" + urlencode(
        {"response_type": "code", "client_id": client["UserPoolClient"]["ClientId"], "redirect_uri": CALLBACK}),
        allow_redirects=False, timeout=10)
    assert via_domain.status_code == 302 and f"/{pool}/login?" in via_domain.headers["Location"]
    assert requests.get(f"{idp.meta.endpoint_url}/_domain/nope/login", timeout=10).status_code == 404
    other = idp.create_user_pool(PoolName="other")["UserPool"]["Id"]
    with pytest.raises(errors.InvalidParameterException, match="Domain already exists"):
        idp.create_user_pool_domain(UserPoolId=other, Domain="my-app-login")
    with pytest.raises(errors.InvalidParameterException, match="already has a domain"):
        idp.create_user_pool_domain(UserPoolId=pool, Domain="second-one")
    with pytest.raises(errors.InvalidParameterException, match="reserved"):
        idp.create_user_pool_domain(UserPoolId=other, Domain="my-cognito-app")
    assert idp.update_user_pool_domain(UserPoolId=pool, Domain="my-app-login",
                                       ManagedLoginVersion=2)["ManagedLoginVersion"] == 2
    with pytest.raises(errors.InvalidParameterException):
        idp.delete_user_pool_domain(UserPoolId=other, Domain="my-app-login")
    idp.delete_user_pool_domain(UserPoolId=pool, Domain="my-app-login")
    assert idp.describe_user_pool_domain(Domain="my-app-login")["DomainDescription"] == {}
    assert requests.get(f"{idp.meta.endpoint_url}/_domain/my-app-login/login", timeout=10).status_code == 404


def test_resource_server_crud(idp: Any, pool: str) -> None:
    errors = idp.exceptions
    scopes = [{"ScopeName": "read", "ScopeDescription": "Read"}]
    created = idp.create_resource_server(UserPoolId=pool, Identifier="orders", Name="Orders", Scopes=scopes)
    assert created["ResourceServer"] == {"UserPoolId": pool, "Identifier": "orders", "Name": "Orders",
                                         "Scopes": scopes}
    with pytest.raises(errors.InvalidParameterException):
        idp.create_resource_server(UserPoolId=pool, Identifier="orders", Name="Again")
    idp.update_resource_server(UserPoolId=pool, Identifier="orders", Name="Orders v2",
                               Scopes=scopes + [{"ScopeName": "write", "ScopeDescription": "Write"}])
    described = idp.describe_resource_server(UserPoolId=pool, Identifier="orders")["ResourceServer"]
    assert described["Name"] == "Orders v2" and len(described["Scopes"]) == 2
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="m2m", GenerateSecret=True,
                                         AllowedOAuthFlows=["client_credentials"], AllowedOAuthFlowsUserPoolClient=True,
                                         AllowedOAuthScopes=["orders/write"])["UserPoolClient"]
    assert client["AllowedOAuthScopes"] == ["orders/write"]
    idp.delete_resource_server(UserPoolId=pool, Identifier="orders")
    with pytest.raises(errors.ResourceNotFoundException):
        idp.describe_resource_server(UserPoolId=pool, Identifier="orders")


# --- PreSignUp over HTTP and the IdP control plane ----------------------------------------------------


class TriggerEndpoint:
    """A loopback 'Lambda' that answers PreSignUp events."""

    def __init__(self, reply: Any) -> None:
        self.events: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - stdlib name
                event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.events.append(event)
                status, body = reply(event)
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/presignup"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def control(emulator: Emulator, method: str, path: str, body: Any = None) -> requests.Response:
    return requests.request(method, f"{emulator.url}/_harness{path}", json=body, timeout=10)


def test_control_plane_drives_a_fake_idp_and_an_http_trigger(emulator: Emulator, idp: Any, pool: str) -> None:
    made = control(emulator, "POST", "/idps", {"name": "corp", "preset": "oidc"})
    assert made.status_code == 201
    assert control(emulator, "POST", "/idps", {"name": "corp"}).status_code == 400
    assert control(emulator, "POST", "/idps", {"nam": "x"}).json()["field"] == "nam"
    assert control(emulator, "GET", "/idps/nope").status_code == 404
    user = control(emulator, "POST", "/idps/corp/users",
                   {"sub": "e-7", "claims": {"email": "eve@corp.example", "email_verified": False}, "select": True})
    assert user.json()["selected"] is True
    details = control(emulator, "GET", "/idps/corp/provider-details").json()["ProviderDetails"]
    assert details["oidc_issuer"] == f"{emulator.url}/_idp/corp"
    idp.create_identity_provider(UserPoolId=pool, ProviderName="Corp", ProviderType="OIDC",
                                 ProviderDetails=details,
                                 AttributeMapping={"email": "email", "email_verified": "email_verified"})
    client = oidc_client(idp, pool, ["Corp"])

    endpoint = TriggerEndpoint(lambda event: (200, {**event, "response": {**event["response"],
                                                                          "autoVerifyEmail": True}}))
    try:
        bound = control(emulator, "POST", f"/pools/{pool}/triggers", {"trigger": "PreSignUp", "url": endpoint.url})
        assert bound.status_code == 200
        assert idp.describe_user_pool(UserPoolId=pool)["UserPool"]["LambdaConfig"]["PreSignUp"] == bound.json()["arn"]
        assert "code" in sign_in(emulator, pool, client["ClientId"], "Corp")
        (event,) = endpoint.events
        assert event["triggerSource"] == "PreSignUp_ExternalProvider" and event["userName"] == "Corp_e-7"
        assert event["request"]["userAttributes"]["email"] == "eve@corp.example"
        assert event["callerContext"]["clientId"] == client["ClientId"]
        attributes = {a["Name"]: a["Value"] for a in idp.admin_get_user(UserPoolId=pool,
                                                                       Username="Corp_e-7")["UserAttributes"]}
        assert attributes["email_verified"] == "true"  # the trigger's autoVerifyEmail
    finally:
        endpoint.stop()

    rotated = control(emulator, "POST", "/idps/corp/rotate-keys", {"unpublish_old": True}).json()["kid"]
    assert rotated in {k["kid"] for k in requests.get(f"{emulator.url}/_idp/corp/jwks", timeout=10).json()["keys"]}
    assert control(emulator, "POST", "/idps/corp/faults", {"endpoint": "token", "kind": "error", "status": 502,
                                                           "count": 1}).status_code == 200
    assert control(emulator, "POST", "/idps/corp/faults", {"endpoint": "nowhere", "kind": "error"}).status_code == 400
    back = sign_in(emulator, pool, client["ClientId"], "Corp")
    assert back["error_description"] == "Corp Error - 502 server_error"
    assert "code" in sign_in(emulator, pool, client["ClientId"], "Corp")


def test_http_trigger_error_becomes_user_lambda_validation(emulator: Emulator, idp: Any, pool: str) -> None:
    control(emulator, "POST", "/idps", {"name": "corp"})
    control(emulator, "POST", "/idps/corp/users", {"sub": "e-8", "claims": {"email": "x@corp.example"},
                                                   "select": True})
    details = control(emulator, "GET", "/idps/corp/provider-details").json()["ProviderDetails"]
    idp.create_identity_provider(UserPoolId=pool, ProviderName="Corp", ProviderType="OIDC", ProviderDetails=details,
                                 AttributeMapping={"email": "email"})
    client = oidc_client(idp, pool, ["Corp"])
    endpoint = TriggerEndpoint(lambda event: (400, {"errorMessage": "Domain not allowed",
                                                    "errorType": "Error"}))
    try:
        control(emulator, "POST", f"/pools/{pool}/triggers", {"trigger": "PreSignUp", "url": endpoint.url})
        back = sign_in(emulator, pool, client["ClientId"], "Corp")
        assert back["error_description"] == "PreSignUp failed with error Domain not allowed."
        assert idp.list_users(UserPoolId=pool)["Users"] == []
    finally:
        endpoint.stop()
    assert control(emulator, "POST", f"/pools/{pool}/triggers",
                   {"trigger": "PreSignUp", "url": "http://example.com/x"}).status_code == 400


def test_run_pre_signup_contract(emulator: Emulator, idp: Any, pool: str) -> None:
    """The hook SignUp/AdminCreateUser call: event shape, decisions, errors."""
    from harness.engine.triggers import run_pre_signup, set_trigger
    from harness.errors import CognitoError

    backend = emulator.backend
    seen: list[dict[str, Any]] = []

    def hook(event: dict[str, Any]) -> dict[str, Any]:
        seen.append(event)
        if event["request"]["userAttributes"].get("email", "").endswith("@blocked.example"):
            raise ValueError("blocked domain")
        event["response"].update(autoConfirmUser=True, autoVerifyEmail=True)
        return event

    pool_state = backend.pool(pool)
    assert run_pre_signup(backend, pool_state, "PreSignUp_SignUp", {}, "u", "c").invoked is False
    set_trigger(backend, pool, "PreSignUp", hook)
    decision = run_pre_signup(backend, pool_state, "PreSignUp_SignUp", {"email": "a@ok.example"}, "alice", "cid",
                              validation_data={"k": "v"}, client_metadata={"m": "1"})
    assert decision.auto_confirm_user and decision.auto_verify_email and not decision.auto_verify_phone
    assert seen[0]["request"] == {"userAttributes": {"email": "a@ok.example"}, "validationData": {"k": "v"},
                                  "clientMetadata": {"m": "1"}}
    assert seen[0]["version"] == "1" and seen[0]["userPoolId"] == pool
    with pytest.raises(CognitoError) as caught:
        run_pre_signup(backend, pool_state, "PreSignUp_AdminCreateUser", {"email": "b@blocked.example"}, "b", None)
    assert (caught.value.type, caught.value.message) == ("UserLambdaValidationException",
                                                         "PreSignUp failed with error blocked domain.")
    set_trigger(backend, pool, "PreSignUp", lambda event: "not an event")
    with pytest.raises(CognitoError, match="Unrecognizable lambda output"):
        run_pre_signup(backend, pool_state, "PreSignUp_SignUp", {}, "c", "cid")


def test_single_external_idp_without_cognito_goes_straight_to_it(emulator: Emulator, idp: Any, pool: str,
                                                                 mini: MiniOIDC) -> None:
    create_acme(idp, pool, mini)
    client = oidc_client(idp, pool, ["Acme"])
    url = f"{emulator.url}/{pool}/oauth2/authorize?" + urlencode(
        {"response_type": "code", "client_id": client["ClientId"], "redirect_uri": CALLBACK})
    assert requests.get(url, allow_redirects=False, timeout=10).headers["Location"].startswith(f"{mini.issuer}/auth?")

"""amazon-cognito-identity-js and Amplify v6 in a real browser page, against the emulator.

Each client is installed from the npm registry (fixtures/browser/, pinned by its lock file),
bundled by esbuild into a page script, and run in headless Chromium from a page served on
another origin than the emulator's: every call is cross-origin, so the browser enforces CORS
(its preflights, and the headers it lets the SDK read on errors). The test drives the page
through ``window.harness.*`` and checks both what the page reports and what the emulator saw
(tokens verified with PyJWT against the served JWKS, the event log, issued credentials).
Amplify runs against ``cognito-harness serve`` as a user starts it; amazon-cognito-identity-js
against an in-process :class:`Emulator`. Skips (with the reason) only where Chromium or npm
cannot be had.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from botocore.exceptions import ClientError

from harness.control import RemoteControl
from harness.pooldef import load_pool
from harness.server import Emulator
from tests.browser_support import Bundles, PageSite, browser, client_bundles, relaunched, trusting  # noqa: F401
from tests.serve_support import Served

REFERENCE_POOL = Path(__file__).resolve().parents[1] / "fixtures" / "pools" / "reference_app.toml"
ALICE = ("alice", "Alice-Passw0rd!")  # a seed user of the default pool
PAT = ("pat", "Pat-Browser-Passw0rd!")  # made in the reference pool (it has no seed users)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> Bundles:
    return client_bundles(tmp_path_factory.mktemp("bundles"))


@pytest.fixture(scope="module")
def site(bundles: Bundles) -> Iterator[PageSite]:
    with PageSite(bundles.site_pages()) as served:
        yield served


@pytest.fixture()
def page_of(browser: Any, site: PageSite) -> Iterator[Any]:
    """Opens a client's page in a fresh browser context (its own localStorage); uncaught page errors fail."""
    contexts: list[Any] = []
    errors: list[str] = []

    def open_page(client: str) -> Any:
        context = browser.new_context()
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(site.url(f"/{client}.html"))
        page.wait_for_function("() => window.harness !== undefined")
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert errors == []


def call(page: Any, step: str, *args: Any) -> Any:
    """``window.harness.<step>(...args)`` in the page, awaited; its JSON answer."""
    return page.evaluate(f"(args) => window.harness.{step}(...args)", list(args))


def verified_claims(token: str, jwks_url: str, issuer: str, **expected: Any) -> dict[str, Any]:
    """The token's claims once PyJWT verified it against the served JWKS; ``expected`` claims checked too."""
    key = jwt.PyJWKClient(jwks_url).get_signing_key_from_jwt(token).key
    audience = expected.pop("aud", None)  # access tokens carry client_id, no aud
    claims = jwt.decode(token, key, algorithms=["RS256"], issuer=issuer, audience=audience,
                        options={"verify_aud": audience is not None})
    for name, value in expected.items():
        assert claims[name] == value, (name, claims)
    return claims


# --- amazon-cognito-identity-js, against an in-process emulator -----------------------------------------


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[Emulator, Any]]:
    with Emulator.start(seed=77) as emu:
        yield emu, load_pool(emu.backend)  # the default pool, as `serve` loads it


@pytest.fixture()
def identity_js(emulator: tuple[Emulator, Any], page_of: Any) -> tuple[Any, dict[str, str], Emulator, Any]:
    emu, handle = emulator
    config = {"userPoolId": handle.pool_id, "clientId": handle.client.client_id, "endpoint": emu.url + "/"}
    return page_of("identity-js"), config, emu, handle


def test_identity_js_signs_in_with_srp_and_keeps_its_session(identity_js: Any) -> None:
    page, config, emu, handle = identity_js
    since = emu.backend.events.last_seq
    signed_in = call(page, "signIn", config, *ALICE)
    assert "error" not in signed_in, signed_in
    assert signed_in["valid"] is True and signed_in["username"] == "alice"
    id_claims = verified_claims(signed_in["idToken"], handle.jwks_url, handle.issuer, aud=config["clientId"],
                                token_use="id", email="alice@acme.example")
    verified_claims(signed_in["accessToken"], handle.jwks_url, handle.issuer, token_use="access",
                    client_id=config["clientId"], username="alice")
    (success,) = emu.remote_control().events("auth.success", since=since, pool_id=handle.pool_id)
    assert success["data"]["flow"] == "USER_SRP_AUTH" and success["data"]["username"] == "alice"

    session = call(page, "getSession", config)  # from the page's storage, then GetUser with the access token
    assert session["idToken"] == signed_in["idToken"] and session["valid"] is True
    assert session["attributes"]["sub"] == id_claims["sub"]
    assert session["attributes"]["custom:tenant"] == "acme"


def test_identity_js_sign_out_revokes_the_refresh_token(identity_js: Any) -> None:
    page, config, emu, handle = identity_js
    signed_in = call(page, "signIn", config, *ALICE)
    since = emu.backend.events.last_seq
    assert call(page, "signOut", config) == {"signedOut": True}
    (revoked,) = emu.remote_control().events("token.revoked", since=since, pool_id=handle.pool_id)
    assert revoked["data"]["reason"] == "RevokeToken" and revoked["data"]["username"] == "alice"
    with pytest.raises(ClientError) as refused:  # the page's refresh token is dead on the server too
        emu.boto3_client().initiate_auth(ClientId=config["clientId"], AuthFlow="REFRESH_TOKEN_AUTH",
                                         AuthParameters={"REFRESH_TOKEN": signed_in["refreshToken"]})
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
    assert call(page, "getSession", config)["error"]["name"] == "NoCurrentUser"


def test_identity_js_global_sign_out_ends_every_session(identity_js: Any) -> None:
    page, config, emu, handle = identity_js
    elsewhere = emu.boto3_client().initiate_auth(  # the same user signed in on another device
        ClientId=config["clientId"], AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": ALICE[0], "PASSWORD": ALICE[1]})["AuthenticationResult"]
    call(page, "signIn", config, *ALICE)
    assert call(page, "globalSignOut", config) == {"signedOut": True}
    with pytest.raises(ClientError) as refused:
        emu.boto3_client().get_user(AccessToken=elsewhere["AccessToken"])
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_identity_js_sign_up_reaches_the_pool(identity_js: Any) -> None:
    page, config, emu, handle = identity_js
    answer = call(page, "signUp", config, "zoe", "Zoe-Passw0rd!", "zoe@example.com")
    assert "error" not in answer, answer
    assert answer["confirmed"] is False
    user = emu.boto3_client().admin_get_user(UserPoolId=handle.pool_id, Username="zoe")
    assert user["UserStatus"] == "UNCONFIRMED"
    assert {"Name": "sub", "Value": answer["userSub"]} in user["UserAttributes"]
    assert emu.remote_control().latest_code("zoe@example.com")  # the confirmation code went out


def test_identity_js_wrong_password_is_a_typed_error_in_the_page(identity_js: Any) -> None:
    """The 400 carries CORS headers and exposes x-amzn-ErrorType: the SDK names the error.
    Without them the page would see only a network error."""
    page, config, emu, handle = identity_js
    answer = call(page, "signIn", config, ALICE[0], "Wrong-Passw0rd!")
    assert answer["error"]["code"] == "NotAuthorizedException", answer
    assert answer["error"]["message"] == "Incorrect username or password."


def test_the_page_cannot_read_the_control_plane(identity_js: Any) -> None:
    """The same page, the same emulator: /_harness has no CORS, so the browser refuses the fetch."""
    page, config, emu, handle = identity_js
    outcome = page.evaluate("""async (url) => {
        try { const r = await fetch(url); return "read " + r.status; } catch (e) { return e.name; }
    }""", emu.url + "/_harness/events")
    assert outcome == "TypeError"
    jwks = page.evaluate("async (url) => (await (await fetch(url)).json()).keys.length", handle.jwks_url)
    assert jwks >= 1  # while the JWKS is readable from the page


# --- Amplify v6, against `cognito-harness serve` ----------------------------------------------------------


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """``serve`` on a free port with the reference pool (it has an identity pool). ``--issuer aws``:
    Amplify names the user pool in the identity pool's Logins by the ID token's ``iss``."""
    server = Served("--port", "0", "--seed", "13", "--pool", str(REFERENCE_POOL), "--issuer", "aws")
    try:
        assert server.env["COGNITO_IDENTITY_POOL_ID"]
        idp = server.idp()
        pool = server.env["COGNITO_USER_POOL_ID"]
        idp.admin_create_user(UserPoolId=pool, Username=PAT[0], MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": "pat@example.com"},
                                              {"Name": "email_verified", "Value": "true"}])
        idp.admin_set_user_password(UserPoolId=pool, Username=PAT[0], Password=PAT[1], Permanent=True)
        yield server
    finally:
        server.stop()


@pytest.fixture()
def amplify(served: Served, page_of: Any) -> tuple[Any, dict[str, str], Served, RemoteControl]:
    env = served.env
    config = {"userPoolId": env["COGNITO_USER_POOL_ID"], "clientId": env["COGNITO_CLIENT_ID"],
              "endpoint": env["COGNITO_ENDPOINT"], "identityPoolId": env["COGNITO_IDENTITY_POOL_ID"],
              "allowGuestAccess": True}  # the reference identity pool allows unauthenticated identities
    page = page_of("amplify")
    configured = call(page, "configure", config)
    assert configured["userPoolEndpoint"] == env["COGNITO_ENDPOINT"]
    return page, config, served, RemoteControl(env["COGNITO_ENDPOINT"])


def test_amplify_signs_in_and_fetches_tokens_and_credentials(amplify: Any) -> None:
    page, config, served, control = amplify
    env = served.env
    since = control.last_event()
    assert call(page, "signIn", *PAT) == {"isSignedIn": True, "step": "DONE"}
    session = call(page, "session")
    assert "error" not in session, session
    id_claims = verified_claims(session["idToken"], env["COGNITO_JWKS_URL"], env["COGNITO_ISSUER"],
                                aud=config["clientId"], token_use="id", email="pat@example.com")
    verified_claims(session["accessToken"], env["COGNITO_JWKS_URL"], env["COGNITO_ISSUER"], token_use="access",
                    client_id=config["clientId"])
    assert session["userSub"] == id_claims["sub"]
    (success,) = control.events("auth.success", since=since, pool_id=config["userPoolId"])
    assert success["data"]["flow"] == "USER_SRP_AUTH"

    # credentials from the identity pool, through the same CORS face (cognito-identity on POST /)
    assert session["identityId"].startswith("us-east-1:")
    credentials = session["credentials"]
    issued = control.identity_credential(credentials["accessKeyId"])
    assert issued["identity_id"] == session["identityId"]
    assert issued["role_arn"] == "arn:aws:iam::123456789012:role/reference-app-member"  # signed in, not an admin
    assert credentials["secretAccessKey"] and credentials["sessionToken"] and credentials["expiration"]

    user = call(page, "currentUser")  # GetUser with the access token
    assert user["username"] == PAT[0] and user["userId"] == id_claims["sub"]
    assert user["attributes"]["email"] == "pat@example.com"


def test_amplify_sign_out_revokes_and_leaves_a_guest(amplify: Any) -> None:
    page, config, served, control = amplify
    assert call(page, "signIn", *PAT)["isSignedIn"] is True
    refresh = page.evaluate("""(clientId) => Object.entries(localStorage).find(([key]) =>
        key.startsWith(`CognitoIdentityServiceProvider.${clientId}.`) && key.endsWith('.refreshToken'))[1]""",
                            config["clientId"])  # where Amplify keeps it
    since = control.last_event()
    assert call(page, "signOut", False) == {"signedOut": True}
    (revoked,) = control.events("token.revoked", since=since, pool_id=config["userPoolId"])
    assert revoked["data"]["reason"] == "RevokeToken"
    with pytest.raises(ClientError) as refused:
        served.idp().initiate_auth(ClientId=config["clientId"], AuthFlow="REFRESH_TOKEN_AUTH",
                                        AuthParameters={"REFRESH_TOKEN": refresh})
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
    guest = call(page, "session")  # the identity pool allows guests: unauthenticated credentials, no tokens
    assert guest["idToken"] is None and guest["accessToken"] is None
    assert control.identity_credential(guest["credentials"]["accessKeyId"])["role_arn"].endswith("reference-app-guest")


def test_amplify_global_sign_out(amplify: Any) -> None:
    page, config, served, control = amplify
    assert call(page, "signIn", *PAT)["isSignedIn"] is True
    access = call(page, "session")["accessToken"]
    assert call(page, "signOut", True) == {"signedOut": True}
    with pytest.raises(ClientError) as refused:
        served.idp().get_user(AccessToken=access)
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_amplify_wrong_password_is_not_authorized_in_the_page(amplify: Any) -> None:
    page, config, served, control = amplify
    since = control.last_event()
    answer = call(page, "signIn", PAT[0], "Wrong-Passw0rd!")
    assert answer["error"]["name"] == "NotAuthorizedException", answer
    assert answer["error"]["message"] == "Incorrect username or password."
    (failure,) = control.events("auth.failure", since=since, pool_id=config["userPoolId"])
    assert failure["data"]["error"] == "NotAuthorizedException"


# --- Amplify signInWithRedirect: the hosted UI over https (serve --tls) ------------------------------------


@pytest.fixture(scope="module")
def tls_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """https only, its leaf signed by a machine CA made for this test (Chromium trusts that CA alone)."""
    with Emulator.start(seed=5, tls=True, ca_dir=tmp_path_factory.mktemp("ca")) as emu:
        yield emu


def test_amplify_sign_in_with_redirect_over_https(tls_emulator: Emulator, site: PageSite, browser: Any) -> None:
    emu = tls_emulator
    handle = load_pool(emu.backend)
    app_page = site.url("/amplify.html")  # the app's page: where the hosted UI sends the browser back
    client_id = emu.boto3_client().create_user_pool_client(
        UserPoolId=handle.pool_id, ClientName="spa", CallbackURLs=[app_page], LogoutURLs=[app_page],
        AllowedOAuthFlows=["code"], AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthScopes=["openid", "email", "profile"], SupportedIdentityProviders=["COGNITO"],
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    hosted_ui = f"{emu.url}/{handle.pool_id}"  # COGNITO_DOMAIN
    assert hosted_ui.startswith("https://")
    config = {"userPoolId": handle.pool_id, "clientId": client_id, "endpoint": emu.url, "redirect": app_page,
              "oauthDomain": hosted_ui.removeprefix("https://")}
    since = emu.backend.events.last_seq
    with relaunched(browser, trusting(emu.ca_path)) as tls_browser:
        context = tls_browser.new_context()
        try:
            page = context.new_page()
            page.goto(app_page)
            page.wait_for_function("() => window.harness !== undefined")
            call(page, "configure", config)
            with page.expect_navigation():
                page.evaluate("() => { window.harness.signInWithRedirect(); }")  # leaves the page
            page.wait_for_selector("#username")  # the hosted UI's sign-in form, served over https
            assert page.url.startswith(f"{hosted_ui}/login?")
            page.fill("#username", ALICE[0])
            page.fill("#password", ALICE[1])
            page.click("#signin")
            page.wait_for_function("() => window.harness && window.harness.redirectOutcome() !== null")
            assert call(page, "redirectOutcome") == {"signedIn": True}
            assert page.url.startswith(app_page)
            session = call(page, "session")  # tokens from the code exchange at https://.../oauth2/token
        finally:
            context.close()
    assert "error" not in session, session
    trust = ssl.create_default_context(cafile=str(emu.ca_path))
    key = jwt.PyJWKClient(handle.jwks_url, ssl_context=trust).get_signing_key_from_jwt(session["idToken"]).key
    claims = jwt.decode(session["idToken"], key, algorithms=["RS256"], audience=client_id, issuer=handle.issuer)
    assert handle.issuer.startswith("https://") and claims["cognito:username"] == ALICE[0]
    (success,) = emu.backend.events.list("auth.success", since=since)
    assert success.data["flow"] == "HOSTED_UI" and success.data["client_id"] == client_id

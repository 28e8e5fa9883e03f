"""Federation duplicate identities: same email, different people; linking; federated tokens.

A fake Google IdP (harness.fake_idps) is federated into the run's pool as provider
``Google`` and added to the app client's identity providers (with the app's
redirect URI): the one, additive change these checks make, since a federated
user cannot exist otherwise; it changes nothing the app already does. The
client's OAuth flows and scopes are never changed: federated users sign in
through the hosted UI's code flow (followed by hand, then /oauth2/token)
requesting the scopes the spec's ``[hosted_ui] scopes`` names, and when the
client does not allow them (or the code flow) the check SKIPs, naming them.
Cognito never merges identities by email: a native user and a Google user
with the same email are two users with two subs, and only
AdminLinkProviderForUser joins them. The app must keep them apart (its data
keyed by sub, never by email, never linked on an email the IdP did not verify)
and must cope with federated tokens (``Google_<id>`` usernames, ``identities``,
hosted-UI scopes without ``aws.cognito.signin.user.admin``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from botocore.exceptions import ClientError

from harness.scenario import (
    HarnessError,
    ScenarioContext,
    TargetResponse,
    TestUser,
    Tokens,
    claims_of,
    operation_model,
    scenario,
)
from scenarios._sessions import clean_error

FAMILY = "federation"
PROVIDER = "Google"
FALLBACK_CALLBACK = "http://localhost:3000/callback"
IDP_SCOPES = "openid email profile"  # what the pool asks of Google (not the app's hosted-UI scopes)
FED_REFS = ["Cognito docs: adding social identity providers; user pool federation (EXTERNAL_PROVIDER users)",
            "OWASP ASVS 5.0 V10.3.3 (identify users by iss+sub)", "OIDC Core §5.7 (sub, not email, is the key)"]


class FakeGoogle:
    """The fake Google IdP federated into the pool, and the hosted-UI sign-in through it."""

    def __init__(self, ctx: ScenarioContext, app_callback: bool = False) -> None:
        idps = ctx.fake_idps("fake external IdPs")
        self.ctx = ctx
        self.base = ctx.pool.domain.rstrip("/")
        with ctx.step("start a fake Google IdP and federate it into the pool"):
            idps.set_client_timeout(10.0)  # no timeout faults here: a loaded machine must not look like one
            idps.delete("google")
            self.idp = idps.create("google", preset="google")
            ctx.api("CreateIdentityProvider", ProviderName=PROVIDER, ProviderType="Google",
                    ProviderDetails={"client_id": self.idp.client_id, "client_secret": self.idp.client_secret,
                                     "authorize_scopes": IDP_SCOPES},
                    AttributeMapping={"email": "email", "email_verified": "email_verified", "name": "name",
                                      "username": "sub"})
            self.app_callback = (ctx.target.base_url + ctx.spec.request("federated_callback").path
                                 if app_callback else None)
            self.callback = self._enable_on_client()

    def _enable_on_client(self) -> str:
        """Let the app's client use Google (UpdateUserPoolClient resets what it is not given: copy all).

        Only the provider and the app's redirect URI are added; a client without
        the code flow or without the spec's hosted-UI scopes is a SKIP, never
        reconfigured.
        """
        client = self.ctx.api("DescribeUserPoolClient", ClientId=self.ctx.pool.client_id)["UserPoolClient"]
        self._require_oauth(client)
        members = set(operation_model("UpdateUserPoolClient").input_shape.members)
        params = {k: v for k, v in client.items() if k in members and k != "UserPoolId"}
        params["SupportedIdentityProviders"] = sorted({*client.get("SupportedIdentityProviders", []), PROVIDER})
        params["CallbackURLs"] = client.get("CallbackURLs") or [FALLBACK_CALLBACK]
        if self.app_callback and self.app_callback not in params["CallbackURLs"]:
            params["CallbackURLs"] = [*params["CallbackURLs"], self.app_callback]
        self.ctx.api("UpdateUserPoolClient", **params)
        return params["CallbackURLs"][0]

    def _require_oauth(self, client: dict[str, Any]) -> None:
        """SKIP unless the app's client allows the code flow and every scope the app's hosted UI requests."""
        name = f"the app's client {self.ctx.pool.client_id}"
        if "code" not in client.get("AllowedOAuthFlows", []) or not client.get("AllowedOAuthFlowsUserPoolClient"):
            self.ctx.skip(f"{name} does not allow the OAuth code flow (AllowedOAuthFlows = code, "
                          "AllowedOAuthFlowsUserPoolClient = true), so no hosted-UI sign-in can reach it")
        missing = [s for s in self.scopes if s not in client.get("AllowedOAuthScopes", [])]
        if missing:
            self.ctx.skip(f"{name} does not allow the scope(s) {', '.join(missing)} that [hosted_ui] scopes "
                          f"requests (AllowedOAuthScopes: {', '.join(client.get('AllowedOAuthScopes', [])) or 'none'})")

    @property
    def scopes(self) -> list[str]:
        return self.ctx.spec.hosted_ui.scopes

    def person(self, idp_sub: str, email: str, verified: bool, name: str = "Federated Person") -> None:
        with self.ctx.step(f"Google knows user {idp_sub} ({email}, email_verified={verified})"):
            self.idp.set_user(idp_sub, email=email, email_verified=verified, name=name)
            self.ctx.note("IdP user", sub=idp_sub, email=email, email_verified=verified)

    def authorize(self, idp_sub: str, redirect_uri: str) -> dict[str, str]:
        """/oauth2/authorize through Google as ``idp_sub``, redirects followed by hand (as a browser would)
        until one points at ``redirect_uri``; returns that redirect's query (code/state or error)."""
        self.idp.select(idp_sub)
        params = {"response_type": "code", "client_id": self.ctx.pool.client_id, "redirect_uri": redirect_uri,
                  "state": "harness", "identity_provider": PROVIDER, "scope": " ".join(self.scopes)}
        url = f"{self.base}/oauth2/authorize?{urlencode(params)}"
        with requests.Session() as session:
            for _ in range(10):
                response = session.get(url, allow_redirects=False, timeout=10)
                location = response.headers.get("Location", "")
                if response.status_code != 302 or not location:
                    raise HarnessError(f"federated sign-in stopped at {url.split('?')[0]}: HTTP "
                                       f"{response.status_code} {response.text[:200]}")
                if location.startswith(redirect_uri):
                    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
                    self.ctx.note("redirect back to the app", **{k: v for k, v in query.items() if k != "code"},
                                  code="<present>" if "code" in query else "<absent>")
                    return query
                url = location
        raise HarnessError("federated sign-in: too many redirects")

    def sign_in_via_app(self, idp_sub: str, label: str) -> TargetResponse:
        """The browser's round trip ending at the app's redirect URI, which gets the redirect's query."""
        if self.app_callback is None:
            raise HarnessError("FakeGoogle was made without app_callback=True")
        with self.ctx.step(f"{label}: hosted UI through Google, back to the app"):
            query = self.authorize(idp_sub, self.app_callback)
        return self.ctx.call("federated_callback", extra_query=query, title=f"{label}: the app's OAuth2 callback")

    def sign_in(self, idp_sub: str, label: str) -> Tokens:
        """The hosted-UI code flow through Google as ``idp_sub``, then the code exchanged at /oauth2/token."""
        ctx = self.ctx
        with ctx.step(f"{label} signs in with Google (hosted UI code flow)"):
            query = self.authorize(idp_sub, self.callback)
            if "code" not in query:
                raise HarnessError(f"federated sign-in failed: {query}")
            with requests.Session() as session:
                form = {"grant_type": "authorization_code", "code": query["code"], "redirect_uri": self.callback,
                        "client_id": ctx.pool.client_id}
                auth = (ctx.pool.client_id, ctx.pool.client_secret) if ctx.pool.client_secret else None
                answer = session.post(f"{self.base}/oauth2/token", data=form, auth=auth, timeout=10)
            if answer.status_code != 200:
                raise HarnessError(f"/oauth2/token refused the code: HTTP {answer.status_code} {answer.text[:200]}")
            body = answer.json()
            tokens = Tokens(body["access_token"], body["id_token"], body.get("refresh_token"))
            ctx.token_evidence(tokens.access_token, f"{label}: federated access token")
            ctx.token_evidence(tokens.id_token, f"{label}: federated ID token")
            return tokens


def _sub(tokens: Tokens) -> str:
    return str(claims_of(tokens.access_token).get("sub"))


def _write(ctx: ScenarioContext, token: str, value: str, who: str) -> None:
    ctx.expect_allowed(ctx.call("private_write", token=token, value=value, title=f"{who} stores {value!r}"),
                       f"{who} must be able to store private data")


def _read(ctx: ScenarioContext, token: str, who: str) -> Any:
    response = ctx.call("private_read", token=token, title=f"{who} reads their private data")
    ctx.expect_allowed(response, f"{who} must be able to read their private data")
    return response.pointer(response.spec.value_key or "/value")


def _keep_apart(ctx: ScenarioContext, native: TestUser, native_token: str, other_token: str, other: str) -> None:
    """Neither of two people may read or overwrite the other's private data."""
    mine, theirs = f"secret of {native.username}", f"secret of {other}"
    _write(ctx, native_token, mine, native.username)
    seen = _read(ctx, other_token, other)
    ctx.expect(seen != mine, f"{other} reads the private data of the native user with the same email",
               expected=f"{other} sees none of {native.username}'s data", actual=f"{other} read {seen!r}")
    _write(ctx, other_token, theirs, other)
    kept = _read(ctx, native_token, native.username)
    ctx.expect(kept == mine, f"{other} overwrote the private data of the native user with the same email",
               expected=f"{native.username} still reads {mine!r}", actual=f"{native.username} read {kept!r}")


def _two_subs(ctx: ScenarioContext, a: Tokens, b: Tokens) -> None:
    if _sub(a) == _sub(b):
        raise HarnessError("the pool gave the native and the federated user the same sub (emulator problem)")
    ctx.note("two users, two subs", native_sub=_sub(a), federated_sub=_sub(b),
             federated_username=claims_of(b.access_token).get("username"))


@scenario(
    id="FED-DUPLICATE-SUBS",
    family=FAMILY,
    title="A native user and a Google user with the same email cannot read or write each other's data",
    severity="MUST",
    profile="baseline",
    requirements=[*FED_REFS, "Cognito docs: AdminLinkProviderForUser (Cognito never links by itself)"],
    remediation="Key every user record and private datum by the token's sub (or iss+sub), never by email or "
                "username; merge identities only through AdminLinkProviderForUser after verifying ownership.",
    needs=["private_write", "private_read"],
    control_plane="fake external IdPs",
)
def duplicate_identities(ctx: ScenarioContext) -> None:
    google = FakeGoogle(ctx)
    native = ctx.user()
    google.person("g-dup-1", native.email, verified=True)
    native_tokens = ctx.sign_in(native)
    federated = google.sign_in("g-dup-1", "Google user with the same email")
    _two_subs(ctx, native_tokens, federated)
    _keep_apart(ctx, native, ctx.presented_token(native_tokens), ctx.presented_token(federated), "the Google user")


@scenario(
    id="FED-UNVERIFIED-EMAIL",
    family=FAMILY,
    title="An IdP asserting the victim's email with email_verified false does not get the victim's account",
    severity="MUST",
    profile="baseline",
    requirements=[*FED_REFS, "OIDC Core §5.1 (email_verified)", "Cognito docs: attribute mapping (email_verified)",
                  "OWASP ASVS 5.0 V6.8.1"],
    remediation="Never link or match accounts on an email the IdP did not verify (email_verified must be true, "
                "and the pool attribute must say so); prefer explicit linking by the signed-in owner.",
    needs=["private_write", "private_read"],
    control_plane="fake external IdPs",
)
def unverified_email(ctx: ScenarioContext) -> None:
    google = FakeGoogle(ctx)
    victim = ctx.user()
    google.person("g-attacker-1", victim.email, verified=False, name="Attacker")
    victim_tokens = ctx.sign_in(victim)
    attacker = google.sign_in("g-attacker-1", "attacker claiming the victim's email (unverified)")
    with ctx.step("the pool holds the attacker's email as unverified"):
        found = ctx.api("AdminGetUser", Username=str(claims_of(attacker.access_token).get("username")))
        attrs = {a["Name"]: a["Value"] for a in found.get("UserAttributes", [])}
        ctx.note("attacker in the pool", email=attrs.get("email"), email_verified=attrs.get("email_verified"))
    _two_subs(ctx, victim_tokens, attacker)
    _keep_apart(ctx, victim, ctx.presented_token(victim_tokens), ctx.presented_token(attacker), "the attacker")


@scenario(
    id="FED-UNVERIFIED-NATIVE",
    family=FAMILY,
    title="A native user holding someone else's email, unverified, does not get that person's account",
    severity="MUST",
    profile="baseline",
    requirements=["OIDC Core §5.7 (email is not a unique key), §5.1 (email_verified)",
                  "OWASP ASVS 5.0 V10.3.3 (identify users by iss+sub)",
                  "Cognito docs: alias attributes (only a verified email is unique to one user)"],
    remediation="Key accounts by sub; never match or link two pool users by email, and never trust an email "
                "whose email_verified is not true (anyone can sign up with someone else's address).",
    needs=["private_write", "private_read"],
    control_plane=False,
)
def native_unverified_email(ctx: ScenarioContext) -> None:
    """The attacker needs no key: signing up with the victim's address is enough, the pool keeps it unverified.
    A pool where the email is the username (or otherwise unique) cannot hold it twice: SKIP."""
    victim = ctx.user()
    victim_tokens = ctx.sign_in(victim)
    try:
        attacker = ctx.user(email=victim.email, attributes={"email": victim.email, "email_verified": "false"})
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        ctx.skip(f"the pool does not let a second user hold {victim.email} unverified ({code}): the email is "
                 "unique in this pool, so the attack cannot happen")
    attacker_tokens = ctx.sign_in(attacker)
    claims = claims_of(attacker_tokens.id_token)
    ctx.note("the attacker's ID token", email=claims.get("email"), email_verified=claims.get("email_verified"))
    if str(claims.get("email_verified")).lower() == "true":
        raise HarnessError("the pool marked the attacker's copy of the victim's email verified (setup problem)")
    _two_subs(ctx, victim_tokens, attacker_tokens)
    _keep_apart(ctx, victim, ctx.presented_token(victim_tokens), ctx.presented_token(attacker_tokens),
                "the attacker")


@scenario(
    id="FED-LINK-CONTINUITY",
    family=FAMILY,
    title="After AdminLinkProviderForUser, the Google sign-in reaches the same app account",
    severity="MUST",
    profile="baseline",
    requirements=[*FED_REFS, "Cognito API: AdminLinkProviderForUser"],
    remediation="Key the account by sub: a linked federated sign-in carries the native user's sub; do not "
                "build a separate account from the IdP identity or the token's scopes.",
    needs=["identity", "private_write", "private_read"],
    control_plane="fake external IdPs",
)
def link_continuity(ctx: ScenarioContext) -> None:
    google = FakeGoogle(ctx)
    native = ctx.user()
    native_tokens = ctx.sign_in(native)
    native_token = ctx.presented_token(native_tokens)
    me = ctx.call("identity", token=native_token, title="the native user's identity")
    ctx.expect_allowed(me, "the native user's identity request must be allowed")
    key = me.pointer(me.spec.user_key or "/user_key")
    _write(ctx, native_token, "continuity", native.username)
    google.person("g-link-1", native.email, verified=True)
    ctx.api("AdminLinkProviderForUser",
            DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": native.pool_username},
            SourceUser={"ProviderName": PROVIDER, "ProviderAttributeName": "Cognito_Subject",
                        "ProviderAttributeValue": "g-link-1"})
    linked = google.sign_in("g-link-1", "the same person through Google (linked)")
    if _sub(linked) != _sub(native_tokens):
        raise HarnessError("the linked federated sign-in did not yield the native sub (emulator problem)")
    token = ctx.presented_token(linked)
    again = ctx.call("identity", token=token, title="identity through the linked Google sign-in")
    ctx.expect_allowed(again, "the linked Google sign-in's identity request must be allowed")
    ctx.expect(again.pointer(again.spec.user_key or "/user_key") == key,
               "the linked Google sign-in reaches another app account",
               expected=f"user key {key!r}", actual=f"user key {again.pointer(again.spec.user_key or '/user_key')!r}")
    seen = _read(ctx, token, "the linked Google sign-in")
    ctx.expect(seen == "continuity", "the linked Google sign-in does not see the account's data",
               expected="'continuity'", actual=repr(seen))


@scenario(
    id="FED-TOKENS-SHAPE",
    family=FAMILY,
    title="Federated tokens (Google_ usernames, identities, hosted-UI scopes) work in the app",
    severity="MUST",
    profile="baseline",
    requirements=[*FED_REFS, "Cognito docs: ID token identities claim; access token scope claim"],
    remediation="Do not assume native-user tokens: usernames may be Provider_id, hosted-UI access tokens lack "
                "aws.cognito.signin.user.admin (GetUser refuses them), the ID token carries identities.",
    needs=["protected", "identity", "private_write", "private_read"],
    control_plane="fake external IdPs",
)
def federated_tokens(ctx: ScenarioContext) -> None:
    google = FakeGoogle(ctx)
    google.person("g-shape-1", "shape@example.org", verified=True, name="Shape Tester")
    tokens = google.sign_in("g-shape-1", "a Google user")
    claims = claims_of(tokens.id_token)
    ctx.note("federated token shape", username=claims.get("cognito:username"), identities=claims.get("identities"),
             scope=claims_of(tokens.access_token).get("scope"))
    token = ctx.presented_token(tokens)
    ctx.expect_allowed(ctx.call("protected", token=token, title="Google user: protected request"),
                       "a federated user's token must be accepted")
    me = ctx.call("identity", token=token, title="Google user: identity")
    ctx.expect_allowed(me, "a federated user's identity request must be allowed")
    ctx.expect(bool(me.pointer(me.spec.user_key or "/user_key")), "the app returned no user key for a federated user",
               expected="a user key", actual=me.summary())
    _write(ctx, token, "federated", "the Google user")
    ctx.expect(_read(ctx, token, "the Google user") == "federated", "a federated user cannot read back their data",
               expected="'federated'", actual="something else")


@scenario(
    id="FED-IDP-CHANGE",
    family=FAMILY,
    title="A changed IdP (outage, broken key rotation, changed secret) surfaces as a clean error at the app's login",
    severity="MUST",
    profile="baseline",
    requirements=[*FED_REFS[:1], "Cognito docs: hosted UI error redirects (error=invalid_request&error_description)",
                  "RFC 6749 §4.1.2.1 (error response to the redirect URI)", "OWASP ASVS 5.0 V16.5.1"],
    remediation="In the OAuth2 callback, handle error/error_description (and a missing code) before anything "
                "else: show a clean 'sign-in with <IdP> failed' answer (4xx/503), never a 500 with a trace.",
    needs=["federated_callback", "protected"],
    control_plane="fake external IdPs",
)
def idp_change(ctx: ScenarioContext) -> None:
    """Each IdP change is followed by a repair and a successful sign-in, so every failure is the IdP's."""
    google = FakeGoogle(ctx, app_callback=True)
    google.person("g-change-1", "change@example.org", verified=True)

    def works(label: str) -> None:
        response = google.sign_in_via_app("g-change-1", label)
        ctx.expect_allowed(response, f"{label}: the federated sign-in must work")
        token = response.token("access_token") if ctx.spec.auth.token == "access" else response.token("id_token")
        if token:
            ctx.expect_allowed(ctx.call("protected", token=token, title=f"{label}: token from the app's callback"),
                               f"{label}: the token the app got must be accepted")

    def fails_cleanly(label: str) -> None:
        response = google.sign_in_via_app("g-change-1", label)
        clean_error(ctx, response, label)
        ctx.expect(not response.allowed, f"{label}: the app reported a successful sign-in",
                   expected="a clean refusal", actual=response.summary())

    works("before any change")
    with ctx.step("the IdP's token endpoint fails (outage)"):
        google.idp.fail_token_endpoint("error", status=500)
    fails_cleanly("IdP outage")
    with ctx.step("the IdP signs with a key missing from its JWKS (broken rotation)"):
        google.idp.clear_faults()
        google.idp.sign_with_unpublished_key(True)
    fails_cleanly("IdP keys rotated badly")
    with ctx.step("the IdP completes a proper key rotation"):
        google.idp.clear_faults()
        google.idp.rotate_keys()
    works("after a proper IdP key rotation")
    with ctx.step("the IdP changes the client secret the pool holds"):
        google.idp.change_client_secret()
    fails_cleanly("IdP client secret changed")

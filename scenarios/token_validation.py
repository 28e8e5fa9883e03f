"""Token validation: the app as a resource server must accept valid Cognito tokens and
refuse every forged, bent or malformed one (401/403, never a 5xx, never the handler).

Forged tokens are of the type the app takes ([auth].token: access, or ID for
apps built on the ID token), so an ID-token app is attacked where it really
verifies. Severity follows one rule: MUST (baseline) for what an attacker can
do without the pool's private key (edit, strip, re-sign with another key,
replay a token of another client, type or pool); a claim only the pool itself
could sign wrongly (no exp, iat in the future, ill-typed claims, crit, no
token_use) is defence in depth: SHOULD, in the strict profile.

Every attack check first proves the valid token is accepted (positive control)
and re-sends it after the attack (jwt_tool's "persistence check"), so a
refusal means the app refused the attack, not that the setup is broken.
Checks that only need a real token, client-side edits or a key that is not
the pool's (another RSA key, alg none, HS256 keyed with the published public
key) run against any backend (``ctx.mint`` then bends a real token of the
user); those that need the pool's private key need the control plane.
"""

from __future__ import annotations

import json
from typing import Any

from harness.scenario import ScenarioContext, Tokens, b64url, b64url_decode, scenario

FAMILY = "token-validation"
ATTACKER_ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Att4ck3r0"
POOL_KEY = "minting tokens signed by the pool's private key"  # what a check skipped on a foreign backend lacks


# --- helpers ------------------------------------------------------------------------------------


def _signed_in(ctx: ScenarioContext) -> tuple[Any, Tokens, str]:
    """A fresh user, their tokens, and the token the app expects; checks the app accepts it."""
    user = ctx.user()
    tokens = ctx.sign_in(user)
    token = ctx.presented_token(tokens)
    ctx.accepted_control(token)
    return user, tokens, token


def _kind(ctx: ScenarioContext) -> str:
    """The token type the app takes, for titles: "access token" or "ID token"."""
    return "access token" if ctx.spec.auth.token == "access" else "ID token"


def _presented(ctx: ScenarioContext, token: str) -> str:
    """``token`` as the spec presents it, for requests that pass the raw Authorization value."""
    return f"{ctx.spec.auth.scheme} {token}".strip() if ctx.spec.auth.location == "header" else token


def _refuse(ctx: ScenarioContext, token: str, what: str, valid: str | None = None) -> None:
    """The attack token is refused; then the valid token still works (persistence check)."""
    response = ctx.call("protected", token=token, title=f"attack: {what}")
    ctx.expect_denied(response, f"a token with {what} must be refused")
    if valid is not None:
        ctx.accepted_control(valid, "persistence check: the valid token still works")


def _refuse_any(ctx: ScenarioContext, token: str, what: str, valid: str | None = None) -> None:
    """As :func:`_refuse`, for a token that is malformed rather than forged: any 3xx/4xx refuses it."""
    response = ctx.call("protected", token=token, title=f"attack: {what}")
    ctx.expect_refused(response, f"a token with {what} must be refused")
    if valid is not None:
        ctx.accepted_control(valid, "persistence check: the valid token still works")


def _segments(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    h, c, s = token.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(c)), s


def _compact(header: dict[str, Any], claims: dict[str, Any], signature: str) -> str:
    enc = lambda obj: b64url(json.dumps(obj, separators=(",", ":")).encode())  # noqa: E731
    return f"{enc(header)}.{enc(claims)}.{signature}"


# --- positive control ---------------------------------------------------------------------------


@scenario(
    id="TV-ACCESS-VALID",
    family=FAMILY,
    title="A valid token from the pool (the type the app takes) is accepted (twice, and with the scheme in "
          "another case)",
    severity="MUST",
    profile="baseline",
    requirements=["OIDF rp-id_token-sig-rs256 (adapted to access tokens)", "RFC 9068 §4",
                  "jwt_tool playbook persistence check", "RFC 9110 §11.1 (auth scheme is case-insensitive)",
                  "OIDF FAPI2 RS DPoP auth scheme case-insensitivity"],
    remediation="Verify Cognito tokens against the pool's JWKS (RS256, iss, token_use, client_id or aud, exp) "
                "and accept the ones that pass; match the Authorization scheme case-insensitively; check the "
                "target's COGNITO_* configuration.",
    needs=["protected"],
    control_plane=False,
    aliases=["rp-id_token-sig-rs256"],
)
def valid_access_token(ctx: ScenarioContext) -> None:
    """Sign in through the pool, present the token twice: both requests must be allowed."""
    user = ctx.user()
    tokens = ctx.sign_in(user)
    token = ctx.presented_token(tokens)
    for attempt in ("first request", "second request (persistence)"):
        ctx.expect_allowed(ctx.call("protected", token=token, title=f"valid token, {attempt}"),
                           f"a valid {ctx.spec.auth.token} token must be accepted ({attempt})")
    scheme = ctx.spec.auth.scheme
    if ctx.spec.auth.location == "header" and scheme:
        other = scheme.lower() if scheme != scheme.lower() else scheme.upper()
        response = ctx.call("protected", authorization=f"{other} {token}", title=f"valid token, scheme {other!r}")
        ctx.expect_allowed(response, f"the authentication scheme is case-insensitive: {other!r} = {scheme!r}")


# --- signature ----------------------------------------------------------------------------------


@scenario(
    id="TV-SIG-TAMPERED",
    family=FAMILY,
    title="A token whose claims were edited without re-signing is refused",
    requirements=["RFC 8725 §3.3", "OWASP ASVS 5.0 V9.1.1", "OWASP WSTG-SESS-10", "PortSwigger JWT lab 1"],
    remediation="Verify the signature before reading any claim (jwt.decode with the JWKS key, never "
                "verify_signature=False or get_unverified_claims for decisions).",
    needs=["protected"],
    control_plane=False,
)
def tampered_body(ctx: ScenarioContext) -> None:
    _, _, token = _signed_in(ctx)
    header, claims, signature = _segments(token)
    claims["cognito:groups"] = sorted(set(claims.get("cognito:groups", [])) | {"admins"})
    claims["exp"] = int(claims.get("exp", 0)) + 86400
    _refuse(ctx, _compact(header, claims, signature), "claims edited after signing (groups, exp)", token)


@scenario(
    id="TV-SIG-STRIPPED",
    family=FAMILY,
    title="A token with its signature removed (alg still RS256) is refused",
    requirements=["RFC 8725 §3.1", "OWASP ASVS 5.0 V9.1.1", "CVE-2020-28042 (null signature)"],
    remediation="Reject tokens whose signature does not verify; an empty signature never verifies.",
    needs=["protected"],
    control_plane=False,
)
def stripped_signature(ctx: ScenarioContext) -> None:
    _, _, token = _signed_in(ctx)
    head, body, _ = token.split(".")
    _refuse(ctx, f"{head}.{body}.", "an empty signature", token)


@scenario(
    id="TV-SIG-TRUNCATED",
    family=FAMILY,
    title="A token with a truncated signature is refused",
    requirements=["RFC 8725 §3.1", "OWASP ASVS 5.0 V9.1.1", "jwt_tool playbook broken signature"],
    remediation="Reject tokens whose signature does not verify.",
    needs=["protected"],
    control_plane=False,
)
def truncated_signature(ctx: ScenarioContext) -> None:
    _, _, token = _signed_in(ctx)
    head, body, sig = token.split(".")
    # cut whole bytes, so the signature is still valid base64url and only its verification can fail
    short = b64url(b64url_decode(sig)[:-3])
    _refuse(ctx, f"{head}.{body}.{short}", "the last 3 bytes of the signature cut off", token)


@scenario(
    id="TV-SIG-FOREIGN-KEY",
    family=FAMILY,
    title="A token signed by another RSA key under the pool's kid is refused",
    requirements=["RFC 8725 §3.8", "OWASP ASVS 5.0 V9.1.3", "OIDF oidcc-client-test-invalid-sig-rs256"],
    remediation="Verify with the key the JWKS publishes for the kid; never with a key taken from the token.",
    needs=["protected"],
    control_plane=False,
    aliases=["rp-id_token-bad-sig-rs256"],
)
def foreign_key(ctx: ScenarioContext) -> None:
    user, _, token = _signed_in(ctx)
    forged = ctx.mint(user, sign_with="foreign", title=f"{_kind(ctx)} signed by a foreign key, pool kid")
    _refuse(ctx, forged, "a signature by a key the pool never published", token)


# --- algorithm ----------------------------------------------------------------------------------


@scenario(
    id="TV-ALG-NONE",
    family=FAMILY,
    title="Unsigned tokens (alg none, None, NONE, nOnE) are refused",
    requirements=["RFC 8725 §3.1, §3.2", "OWASP ASVS 5.0 V9.1.2", "CVE-2015-2951",
                  "OIDF oidcc-client-test-idtoken-sig-none",
                  "draft-ietf-oauth-rfc8725bis (case-insensitive none)"],
    remediation="Pass an explicit algorithm allow-list (algorithms=[\"RS256\"]) to the verifier; never "
                "trust the header's alg, never block-list 'none' by exact spelling.",
    needs=["protected"],
    control_plane=False,
    aliases=["rp-id_token-sig-none"],
)
def alg_none(ctx: ScenarioContext) -> None:
    user, _, token = _signed_in(ctx)
    for spelling in ("none", "None", "NONE", "nOnE"):
        forged = ctx.mint(user, sign_with="none", header={"alg": spelling}, title=f"unsigned token, alg {spelling!r}")
        _refuse(ctx, forged, f"alg {spelling!r} and no signature", token)


@scenario(
    id="TV-ALG-HS256-PUBKEY",
    family=FAMILY,
    title="HS256 tokens keyed with the pool's public key are refused (algorithm confusion)",
    requirements=["RFC 8725 §3.1", "OWASP ASVS 5.0 V9.1.2", "CVE-2016-10555", "PortSwigger JWT lab 7"],
    remediation="Pin the algorithm to RS256 for Cognito keys; never let a token's alg choose HMAC with an "
                "RSA public key as the secret.",
    needs=["protected"],
    control_plane=False,
)
def hs256_public_key(ctx: ScenarioContext) -> None:
    user, _, token = _signed_in(ctx)
    forged = ctx.mint(user, sign_with="hs256-public-key", title="HS256 token keyed with the public key PEM")
    _refuse(ctx, forged, "HS256 keyed with the pool's public key", token)


# --- claims -------------------------------------------------------------------------------------


@scenario(
    id="TV-EXP-EXPIRED",
    family=FAMILY,
    title="A token that expired beyond the allowed clock skew is refused",
    requirements=["RFC 7519 §4.1.4", "OWASP ASVS 5.0 V9.2.1", "OWASP WSTG-SESS-10",
                  "FAPI1 client test invalid-expired-exp"],
    remediation="Check exp on every request with a small leeway (seconds, not minutes); never disable "
                "verify_exp.",
    needs=["protected"],
    control_plane=POOL_KEY,
)
def expired(ctx: ScenarioContext) -> None:
    user, _, token = _signed_in(ctx)
    lifetime = 3600
    late = ctx.spec.limits.clock_skew_seconds + 600
    forged = ctx.mint(user, issued_at=ctx.now() - lifetime - late, expires_in=lifetime,
                      title=f"{_kind(ctx)} that expired {late}s ago")
    _refuse(ctx, forged, f"exp {late}s in the past (allowed skew {ctx.spec.limits.clock_skew_seconds}s)", token)


@scenario(
    id="TV-ISS-WRONG",
    family=FAMILY,
    title="A token with another issuer, or none, is refused (defence in depth: only the pool could sign it)",
    severity="SHOULD",
    profile="strict",
    requirements=["RFC 8725 §3.8", "OWASP ASVS 5.0 V10.5.3", "OIDF oidcc-client-test-invalid-iss",
                  "FAPI1 client test invalid-missing-iss"],
    remediation="Compare iss exactly with the pool's issuer (https://cognito-idp.<region>.amazonaws.com/<pool id>"
                " or COGNITO_ISSUER) and require it.",
    needs=["protected"],
    control_plane=POOL_KEY,
    aliases=["rp-id_token-issuer-mismatch"],
)
def wrong_issuer(ctx: ScenarioContext) -> None:
    """Strict SHOULD: the forged token carries the pool's own signature, which an attacker cannot make; a token
    really signed by another pool (its own keys) is TV-POOL-OTHER, a baseline MUST."""
    user, _, token = _signed_in(ctx)
    forged = ctx.mint(user, claims={"iss": ATTACKER_ISSUER}, title=f"{_kind(ctx)} with another pool's issuer")
    _refuse(ctx, forged, f"iss {ATTACKER_ISSUER}", token)
    forged = ctx.mint(user, claims={"iss": None}, title=f"{_kind(ctx)} without iss")
    _refuse(ctx, forged, "no iss claim", token)


@scenario(
    id="TV-CLIENT-OTHER",
    family=FAMILY,
    title="A token issued to another app client of the same pool is refused (access token: client_id; "
          "ID token: aud)",
    requirements=["RFC 8725 §3.9", "OWASP ASVS 5.0 V9.2.3", "RFC 9700 §4.10.2", "fastapi-cloudauth #76",
                  "OpenID Connect Core §3.1.3.7 (aud contains the client id)", "OIDF oidcc-client-test-invalid-aud"],
    remediation="Check the access token's client_id (Cognito access tokens have no aud), or the ID token's aud, "
                "against the app's own client id(s).",
    needs=["protected"],
    control_plane=False,
)
def other_client(ctx: ScenarioContext) -> None:
    """A real token of the same user, issued to another app client: an attacker gets one from any client."""
    if not ctx.pool.other_client_id:
        ctx.skip("the pool has no second app client")
    user, _, token = _signed_in(ctx)
    other = ctx.sign_in(user, client_id=ctx.pool.other_client_id, client_secret=ctx.pool.other_client_secret)
    claim = "client_id" if ctx.spec.auth.token == "access" else "aud"
    _refuse(ctx, ctx.presented_token(other), f"{claim} {ctx.pool.other_client_id} (another app client)", token)


@scenario(
    id="TV-TOKEN-USE-ID",
    family=FAMILY,
    title="An ID token presented as an access token is refused",
    requirements=["RFC 8725 §3.12", "OWASP ASVS 5.0 V9.2.2", "django-cognito-jwt #22"],
    remediation="Require token_use == \"access\" on API requests (aws-jwt-verify tokenUse: \"access\").",
    needs=["protected"],
    control_plane=False,
)
def id_token_as_access(ctx: ScenarioContext) -> None:
    if ctx.spec.auth.token != "access":
        ctx.skip("the target spec presents ID tokens ([auth].token = \"id\"); its twin TV-TOKEN-USE-ACCESS "
                 "covers that mode")
    _, tokens, token = _signed_in(ctx)
    _refuse(ctx, tokens.id_token, "token_use \"id\" (an ID token)", token)


@scenario(
    id="TV-EXP-MISSING",
    family=FAMILY,
    title="A correctly signed token without exp is refused (defence in depth: only the pool could sign it)",
    severity="SHOULD",
    profile="strict",
    requirements=["RFC 8725 §3.1 (validate all claims the profile requires)", "OWASP ASVS 5.0 V9.2.1",
                  "FAPI1 client test invalid-missing-exp", "aws-jwt-verify exp-optional gap (rp-test-catalog §3.1)"],
    remediation="Require exp (PyJWT options={\"require\": [\"exp\", ...]}); a Cognito token always has one, so a "
                "token without it is forged or not Cognito's.",
    needs=["protected"],
    control_plane=POOL_KEY,
)
def missing_exp(ctx: ScenarioContext) -> None:
    """Strict SHOULD: Cognito always sets exp and an attacker cannot sign a token without one, so only a
    pool bug or a stolen signing key makes one (aws-jwt-verify treats exp as optional)."""
    user, _, token = _signed_in(ctx)
    _refuse(ctx, ctx.mint(user, claims={"exp": None}, title=f"{_kind(ctx)} without exp"), "no exp claim", token)


@scenario(
    id="TV-NBF-FUTURE",
    family=FAMILY,
    title="A token whose nbf lies in the future (beyond the skew) is refused (defence in depth: only the pool "
          "could sign it)",
    severity="SHOULD",
    profile="strict",
    requirements=["RFC 7519 §4.1.5", "OWASP ASVS 5.0 V9.2.1", "aws-jwt-verify JwtNotBeforeError"],
    remediation="Check nbf when present with the same small leeway as exp (PyJWT does unless verify_nbf is off).",
    needs=["protected"],
    control_plane=POOL_KEY,
)
def nbf_in_future(ctx: ScenarioContext) -> None:
    """Strict SHOULD: Cognito never sets nbf and an attacker cannot sign a token with one."""
    user, _, token = _signed_in(ctx)
    ahead = ctx.spec.limits.clock_skew_seconds + 600
    forged = ctx.mint(user, claims={"nbf": int(ctx.now()) + ahead}, title=f"{_kind(ctx)} with nbf {ahead}s ahead")
    _refuse(ctx, forged, f"nbf {ahead}s in the future", token)


@scenario(
    id="TV-IAT-FUTURE",
    family=FAMILY,
    title="A token issued in the future (iat beyond the skew) is refused (defence in depth: only the pool "
          "could sign it)",
    severity="SHOULD",  # RFC 7519 does not require it (aws-jwt-verify only type-checks iat); PyJWT does it
    profile="strict",
    requirements=["RFC 7519 §4.1.6", "OWASP ASVS 5.0 V9.2.1", "OIDF oidcc-client-test-missing-iat (iat checks)"],
    remediation="Refuse tokens whose iat is later than now plus a small leeway (PyJWT verify_iat).",
    needs=["protected"],
    control_plane=POOL_KEY,
)
def iat_in_future(ctx: ScenarioContext) -> None:
    """Strict SHOULD: only the pool could sign a future iat, and RFC 7519 does not require the check."""
    user, _, token = _signed_in(ctx)
    ahead = ctx.spec.limits.clock_skew_seconds + 600
    forged = ctx.mint(user, issued_at=ctx.now() + ahead, expires_in=3600,
                      title=f"{_kind(ctx)} issued {ahead}s in the future")
    _refuse(ctx, forged, f"iat {ahead}s in the future", token)


@scenario(
    id="TV-SCOPE-MISSING",
    family=FAMILY,
    title="A token without a scope the API requires ([limits] required_scope: any one of them) is refused",
    requirements=["RFC 9068 §4 (scopes)", "OWASP ASVS 5.0 V10.3.2", "RFC 6750 §3.1 insufficient_scope",
                  "aws-jwt-verify scope option"],
    remediation="Check that the space-separated scope claim contains the scope the endpoint needs; answer 403 "
                "insufficient_scope (or 401) otherwise.",
    needs=["protected"],
    control_plane=POOL_KEY,
)
def scope_missing(ctx: ScenarioContext) -> None:
    if ctx.spec.auth.token != "access":
        ctx.skip("the target spec presents ID tokens ([auth].token = \"id\"), which carry no scope")
    required = ctx.spec.limits.required_scope
    if not required:
        ctx.skip(f"target spec {ctx.spec.path.name} names no [limits] required_scope")
    user, _, token = _signed_in(ctx)
    wanted = set(required.split())  # any one of them suffices (aws-jwt-verify's scope semantics)
    other = next(s for s in ("phone", "profile", "email", "openid", "harness/unrelated") if s not in wanted)
    forged = ctx.mint(user, claims={"scope": other}, title=f"access token with scope {other!r} only")
    _refuse(ctx, forged, f"scope {other!r}, none of {required!r}", token)
    _refuse(ctx, ctx.mint(user, claims={"scope": None}, title="access token without scope"), "no scope claim", token)


@scenario(
    id="TV-POOL-OTHER",
    family=FAMILY,
    title="A token from another user pool (its own keys and issuer) is refused",
    requirements=["RFC 8725 §3.8", "OWASP ASVS 5.0 V9.1.3, V10.5.3", "OIDF oidcc-client-test-invalid-iss"],
    remediation="Pin the pool: verify only with keys from the configured pool's JWKS URL and compare iss "
                "exactly; never derive the JWKS URL or the trusted pool from the token.",
    needs=["protected"],
    control_plane=POOL_KEY,
)
def other_pool(ctx: ScenarioContext) -> None:
    """A genuine token of another pool (anyone can create one), then one bent to name this app's client."""
    user, _, token = _signed_in(ctx)
    use = ctx.spec.auth.token
    client_claim = "client_id" if use == "access" else "aud"
    control = ctx.control
    pool2 = ctx.api("CreateUserPool", PoolName="harness-other-pool")["UserPool"]["Id"]
    client2 = ctx.api("CreateUserPoolClient", UserPoolId=pool2, ClientName="other-pool-app")["UserPoolClient"]
    ctx.api("AdminCreateUser", UserPoolId=pool2, Username=user.username, MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": user.email}])
    mark = ctx.mark()
    genuine = control.mint(pool2, user.username, token_use=use, client_id=client2["ClientId"])
    ctx.token_evidence(genuine, f"{_kind(ctx)} of pool {pool2} (its own client)")
    _refuse(ctx, genuine, f"a token of pool {pool2}", token)
    # the same pool's key, bent to carry this app's client id: only pinning the pool (keys, iss) stops it
    bent = control.mint(pool2, user.username, token_use=use, client_id=client2["ClientId"],
                        claims={client_claim: ctx.pool.client_id})
    ctx.token_evidence(bent, f"{_kind(ctx)} of pool {pool2} carrying this app's client id in {client_claim}")
    _refuse(ctx, bent, f"a token signed by pool {pool2} with this app's client id", token)
    fetched = control.events("jwks.fetch", mark, pool2)
    ctx.note(f"JWKS fetches of the other pool {pool2}", count=len(fetched), events=fetched)


# --- malformed input ----------------------------------------------------------------------------


def _malformed(token: str) -> list[tuple[str, str]]:
    head, body, sig = token.split(".")
    header = json.loads(b64url_decode(head))
    claims = json.loads(b64url_decode(body))
    claims_text_exp = dict(claims, exp="tomorrow")
    return [
        ("not a JWT at all", "not-a-token"),
        ("two segments", f"{head}.{body}"),
        ("four segments", f"{token}.{sig}"),
        ("bad base64 in the header", f"!!{head[2:]}.{body}.{sig}"),
        ("a header that is not JSON", f"{b64url(b'not json')}.{body}.{sig}"),
        ("a header that is a JSON array", f"{b64url(b'[1,2]')}.{body}.{sig}"),
        ("claims that are not JSON", f"{head}.{b64url(b'{oops')}.{sig}"),
        ("a non-numeric exp", _compact(header, claims_text_exp, sig)),
        ("a kid that is a number", _compact(dict(header, kid=12345), claims, sig)),
        ("an empty token", ""),
        ("a 20 KB token", token + "A" * 20000),
    ]


@scenario(
    id="TV-MALFORMED",
    family=FAMILY,
    title="Malformed and oversized tokens are refused (any 3xx/4xx: 400, 401, 403, 413, 414, 431...), never "
          "accepted, never a 5xx",
    requirements=["RFC 7515 §5.2", "OWASP ASVS 5.0 V9.1.1", "aws-jwt-verify JwtParseError",
                  "cognitojwt KeyError -> 500 (rp-test-catalog §3.2)", "RFC 6585 §5 (431 for oversized headers)"],
    remediation="Treat every parse or validation error of a token as an authentication failure (401) in one "
                "place; never let a decoder exception reach the framework's 500 handler.",
    needs=["protected"],
    control_plane=False,
)
def malformed(ctx: ScenarioContext) -> None:
    """Any refusal will do (a server limit answers 431 to a 20 KB header before the app runs); a 5xx is a
    one-request denial of service and a 2xx a bypass."""
    _, _, token = _signed_in(ctx)
    for what, bad in _malformed(token):
        response = ctx.call("protected", authorization=_presented(ctx, bad), title=f"malformed: {what}")
        ctx.expect_refused(response, f"a malformed token ({what}) must be refused")
    ctx.accepted_control(token, "persistence check: the valid token still works")


@scenario(
    id="TV-CLAIM-TYPES",
    family=FAMILY,
    title="Correctly signed tokens with ill-typed claims (exp/iat/nbf not numbers, sub a number) are refused, "
          "never a 5xx (defence in depth: only the pool could sign them)",
    severity="SHOULD",
    profile="strict",
    requirements=["RFC 7519 §2 (NumericDate)", "OWASP ASVS 5.0 V9.2.1", "aws-jwt-verify JwtParseError"],
    remediation="Let the JWT library type-check the registered claims and map every error to a 401; never "
                "cast claims yourself (int(claims[\"exp\"])) outside that error handling.",
    needs=["protected"],
    control_plane=POOL_KEY,
)
def malformed_signed(ctx: ScenarioContext) -> None:
    """Strict SHOULD: an attacker cannot sign ill-typed claims (only the pool could); any 3xx/4xx refuses."""
    user, _, token = _signed_in(ctx)
    for what, claims in (("exp", {"exp": "tomorrow"}), ("iat", {"iat": "yesterday"}),
                         ("nbf", {"nbf": "soon"}), ("sub", {"sub": 12345})):
        kind = "string" if what == "sub" else "numeric"
        forged = ctx.mint(user, claims=claims, title=f"signed {_kind(ctx)} with a non-{kind} {what}")
        response = ctx.call("protected", token=forged, title=f"ill-typed {what}")
        ctx.expect_refused(response, f"a signed token whose {what} is {claims[what]!r} must be refused")
    ctx.accepted_control(token, "persistence check: the valid token still works")


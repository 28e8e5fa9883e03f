"""Token validation, claims and header members a sound verifier pins: token type, issuer, crit.

Same family as scenarios/token_validation.py. Two checks here have an
attacker behind them (baseline MUST): an access token presented to an app that
takes ID tokens (the twin of TV-TOKEN-USE-ID). The others send tokens only the
pool itself could sign (an iss that is part of the real one, no token_use, a
crit header): Cognito never issues them, so refusing them is defence in depth,
SHOULD in the strict profile; each names the library bug it mirrors.
"""

from __future__ import annotations

from harness.scenario import ScenarioContext, scenario
from scenarios.token_validation import FAMILY, POOL_KEY, _kind, _refuse, _refuse_any, _signed_in

UNKNOWN_EXTENSION = "urn:cognito-harness:unknown-critical-extension"


@scenario(
    id="TV-TOKEN-USE-ACCESS",
    family=FAMILY,
    title="An access token presented to an app that takes ID tokens is refused",
    requirements=["RFC 8725 §3.12", "OWASP ASVS 5.0 V9.2.2", "OpenID Connect Core §3.1.3.7 (aud)",
                  "aws-jwt-verify tokenUse: \"id\""],
    remediation="Require token_use == \"id\" and aud == the app's client id (aws-jwt-verify tokenUse: \"id\"); an "
                "access token has neither.",
    needs=["protected"],
    control_plane=False,
)
def access_token_as_id(ctx: ScenarioContext) -> None:
    """The ID-token twin of TV-TOKEN-USE-ID: the user's own access token, where the app wants an ID token."""
    if ctx.spec.auth.token != "id":
        ctx.skip("the target spec presents access tokens ([auth].token = \"access\"); its twin TV-TOKEN-USE-ID "
                 "covers that mode")
    _, tokens, token = _signed_in(ctx)
    _refuse(ctx, tokens.access_token, "token_use \"access\" (an access token)", token)


@scenario(
    id="TV-TOKEN-USE-MISSING",
    family=FAMILY,
    title="A correctly signed token without token_use is refused (defence in depth: only the pool could sign it)",
    severity="SHOULD",
    profile="strict",
    requirements=["RFC 8725 §3.11, §3.12 (explicit typing)", "OWASP ASVS 5.0 V9.2.2",
                  "fastapi-cloudauth `if claims.get(\"token_use\")` (rp-test-catalog §3.2)",
                  "aws-jwt-verify validateCognitoJwtFields"],
    remediation="Require token_use to equal the type the app takes (\"access\" or \"id\"); never check it only when "
                "it is present.",
    needs=["protected"],
    control_plane=POOL_KEY,
)
def missing_token_use(ctx: ScenarioContext) -> None:
    """Strict SHOULD: Cognito always sets token_use and an attacker cannot remove it from a signed token."""
    user, _, token = _signed_in(ctx)
    forged = ctx.mint(user, claims={"token_use": None}, title=f"{_kind(ctx)} without token_use")
    _refuse(ctx, forged, "no token_use claim", token)


def _partial_issuers(issuer: str) -> list[tuple[str, str]]:
    """(what, iss) that PyJWT 2.10.0's `iss not in issuer` accepted: a prefix, a substring, the empty string."""
    pool_id = issuer.rstrip("/").rsplit("/", 1)[-1]
    return [("a proper prefix of the issuer (its last character cut)", issuer[:-1]),
            ("a substring of the issuer (the pool id alone)", pool_id),
            ("an empty iss", "")]


@scenario(
    id="TV-ISS-PARTIAL",
    family=FAMILY,
    title="A token whose iss is only part of the pool's issuer (a prefix, a substring, empty) is refused "
          "(defence in depth: only the pool could sign it)",
    severity="SHOULD",
    profile="strict",
    requirements=["CVE-2024-53861 (PyJWT 2.10.0 partial issuer match)", "RFC 7519 §4.1.1",
                  "RFC 8725 §3.8", "OWASP ASVS 5.0 V10.5.3"],
    remediation="Compare iss with the pool's issuer for string equality (upgrade PyJWT past 2.10.0); never with "
                "`in`, startswith or a regular expression.",
    needs=["protected"],
    control_plane=POOL_KEY,
)
def partial_issuer(ctx: ScenarioContext) -> None:
    """Strict SHOULD: a pool signs only its own issuer, so the attack needs keys shared with another issuer."""
    user, _, token = _signed_in(ctx)
    for what, iss in _partial_issuers(ctx.pool.issuer):
        forged = ctx.mint(user, claims={"iss": iss}, title=f"{_kind(ctx)} with iss {iss!r}")
        _refuse(ctx, forged, f"{what}: iss {iss!r}")
    ctx.accepted_control(token, "persistence check: the valid token still works")


@scenario(
    id="TV-CRIT-UNKNOWN",
    family=FAMILY,
    title="A token whose crit header names an extension the app does not understand is refused "
          "(defence in depth: only the pool could sign it)",
    severity="SHOULD",
    profile="strict",
    requirements=["RFC 7515 §4.1.11", "RFC 8725 §3.1", "draft-ietf-oauth-rfc8725bis (crit)"],
    remediation="Refuse tokens whose crit lists an extension the verifier does not implement (PyJWT >= 2.10 "
                "does; python-jose ignores crit).",
    needs=["protected"],
    control_plane=POOL_KEY,
)
def unknown_critical_extension(ctx: ScenarioContext) -> None:
    """Strict SHOULD: an attacker cannot add crit to a signed token; any 3xx/4xx is a refusal."""
    user, _, token = _signed_in(ctx)
    forged = ctx.mint(user, header={"crit": [UNKNOWN_EXTENSION], UNKNOWN_EXTENSION: True},
                      title=f"{_kind(ctx)} with crit [{UNKNOWN_EXTENSION!r}]")
    _refuse_any(ctx, forged, f"crit naming the unknown extension {UNKNOWN_EXTENSION!r}", token)

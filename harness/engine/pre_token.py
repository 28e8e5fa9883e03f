"""The pre token generation trigger: Cognito's V1, V2 and V3 events and how their answers change tokens.

Sources (docs: user-pool-lambda-pre-token-generation): ``TokenGeneration_Authentication`` (a
sign-in's last step), ``_NewPasswordChallenge`` (tokens right after NEW_PASSWORD_REQUIRED),
``_AuthenticateDevice`` (after DEVICE_PASSWORD_VERIFIER), ``_RefreshTokens``, ``_HostedAuth``
(the managed login's token endpoint) and, for V3 only, ``_ClientCredentials`` (M2M).

* V1 (``LambdaVersion`` V1_0, event version "1"): ``response.claimsOverrideDetails`` changes the
  ID token only (string values), and its ``groupOverrideDetails`` both tokens' ``cognito:groups``.
* V2 / V3 (event version "2" / "3"; the Essentials or Plus plan, :mod:`harness.engine.tiers`):
  ``response.claimsAndScopeOverrideDetails`` with ``idTokenGeneration`` and
  ``accessTokenGeneration`` (claims of any JSON type, ``scopesToAdd`` / ``scopesToSuppress``).
  Only V3 runs for client-credentials grants.
* A group override that is present but null or empty suppresses the groups; a claim both
  suppressed and overridden is suppressed; suppressing ``cognito:groups`` also drops
  ``cognito:roles`` and ``cognito:preferred_role``.
* Claims Cognito owns (:data:`IMMUTABLE_CLAIMS`, every other ``cognito:`` claim) are left as
  Cognito made them, as a real pool drops such changes; ``aud`` may be added to an access token
  only with the client's own ID. A wrongly shaped answer is InvalidLambdaResponseException.

Which source and ``clientMetadata`` apply is set around an operation with :func:`occasion`
(RespondToAuthChallenge passes its ClientMetadata; InitiateAuth does not, per the model).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.engine import attributes, tiers, triggers
from harness.engine.models import AppClient, User, UserPool
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

TRIGGER = "PreTokenGeneration"
HOSTED_AUTH = "TokenGeneration_HostedAuth"
AUTHENTICATION = "TokenGeneration_Authentication"
NEW_PASSWORD_CHALLENGE = "TokenGeneration_NewPasswordChallenge"
AUTHENTICATE_DEVICE = "TokenGeneration_AuthenticateDevice"
REFRESH_TOKENS = "TokenGeneration_RefreshTokens"
CLIENT_CREDENTIALS = "TokenGeneration_ClientCredentials"
CLIENT_CREDENTIALS_USERNAME = "ClientCredentials"  # the event's userName for an M2M grant

EVENT_VERSIONS = {"V1_0": "1", "V2_0": "2", "V3_0": "3"}
GROUP_CLAIMS = ("cognito:groups", "cognito:roles", "cognito:preferred_role")
IMMUTABLE_CLAIMS = frozenset({
    "acr", "amr", "at_hash", "aud", "auth_time", "azp", "client_id", "cognito:username", "device_key", "event_id",
    "exp", "iat", "identities", "iss", "jti", "nbf", "nonce", "origin_jti", "scope", "sub", "token_use", "username",
    "version",
})
"""Claims a pre token generation answer cannot add, change or suppress (the docs' table; ``scope``
changes only through scopesToAdd / scopesToSuppress)."""
SIMPLE_ONLY_ID_CLAIMS = ("phone_number_verified", "email_verified", "updated_at", "address")


def version(pool: UserPool) -> str:
    """The pool's trigger version ("V1_0" | "V2_0" | "V3_0"); V1_0 on a plan without token customization."""
    chosen = tiers.pre_token_version(pool)
    return chosen if chosen == "V1_0" or tiers.has(pool, tiers.ACCESS_TOKEN_CUSTOMIZATION) else "V1_0"


# --- the answer's shape --------------------------------------------------------------------------


def _object(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Err.LAMBDA_BAD_RESPONSE.error()
    return value


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Err.LAMBDA_BAD_RESPONSE.error()
    return value


def _claims(value: Any, *, strings_only: bool) -> dict[str, Any]:
    claims = _object(value) or {}
    for name, claim in claims.items():
        if strings_only and not isinstance(claim, str):
            raise Err.LAMBDA_BAD_RESPONSE.error()  # V1 values are strings
        if claim is None:
            raise Err.LAMBDA_BAD_RESPONSE.error()
    return claims


@dataclass
class TokenChanges:
    """One token's part of the answer."""

    add: dict[str, Any]
    suppress: list[str]
    scopes_add: list[str]
    scopes_suppress: list[str]

    @classmethod
    def read(cls, value: Any, *, strings_only: bool = False) -> TokenChanges:
        part = _object(value) or {}
        return cls(add=_claims(part.get("claimsToAddOrOverride"), strings_only=strings_only),
                   suppress=_strings(part.get("claimsToSuppress")),
                   scopes_add=_strings(part.get("scopesToAdd")),
                   scopes_suppress=_strings(part.get("scopesToSuppress")))


@dataclass
class GroupOverride:
    """``groupOverrideDetails``: present (None members: suppressed) or absent (``given`` False)."""

    given: bool
    groups: list[str]
    roles: list[str]
    preferred_role: str | None

    @classmethod
    def read(cls, details: dict[str, Any]) -> GroupOverride:
        if "groupOverrideDetails" not in details:
            return cls(False, [], [], None)
        value = _object(details["groupOverrideDetails"]) or {}
        preferred = value.get("preferredRole")
        if preferred is not None and not isinstance(preferred, str):
            raise Err.LAMBDA_BAD_RESPONSE.error()
        return cls(True, _strings(value.get("groupsToOverride")), _strings(value.get("iamRolesToOverride")),
                   preferred or None)


@dataclass
class Answer:
    """What the function asked for, read from its ``response`` and checked for shape."""

    id_token: TokenChanges
    access_token: TokenChanges
    groups: GroupOverride

    @classmethod
    def read(cls, response: dict[str, Any], event_version: str) -> Answer:
        nothing = TokenChanges({}, [], [], [])
        if event_version == "1":
            details = _object(response.get("claimsOverrideDetails")) or {}
            return cls(TokenChanges.read(details, strings_only=True), nothing, GroupOverride.read(details))
        details = _object(response.get("claimsAndScopeOverrideDetails")) or {}
        answer = cls(TokenChanges.read(details.get("idTokenGeneration")),
                     TokenChanges.read(details.get("accessTokenGeneration")), GroupOverride.read(details))
        for name in SIMPLE_ONLY_ID_CLAIMS:
            if isinstance(answer.id_token.add.get(name), (dict, list)):
                raise Err.LAMBDA_BAD_RESPONSE.error()
        return answer


# --- applying it ---------------------------------------------------------------------------------


def _changeable(name: str, *, access: bool, value: Any = None, client: AppClient | None = None) -> bool:
    if name in GROUP_CLAIMS:
        return False  # through groupOverrideDetails / suppressing cognito:groups
    if access and name == "aud" and client is not None and value == client.client_id:
        return True
    return name not in IMMUTABLE_CLAIMS and not name.startswith(("cognito:", "dev:"))


def _apply_groups(claims: dict[str, Any], groups: GroupOverride, *, id_token: bool) -> None:
    if not groups.given:
        return
    for name in GROUP_CLAIMS:
        claims.pop(name, None)
    if groups.groups:
        claims["cognito:groups"] = list(groups.groups)
    if id_token and groups.roles:
        claims["cognito:roles"] = list(groups.roles)
    if id_token and groups.preferred_role:
        claims["cognito:preferred_role"] = groups.preferred_role


def _apply(claims: dict[str, Any], changes: TokenChanges, groups: GroupOverride, client: AppClient, *,
           access: bool) -> None:
    _apply_groups(claims, groups, id_token=not access)
    if access and (changes.scopes_add or changes.scopes_suppress):
        scopes = [*str(claims.get("scope", "")).split(), *changes.scopes_add]
        claims["scope"] = " ".join(s for s in dict.fromkeys(scopes) if s not in changes.scopes_suppress)
    for name, value in changes.add.items():
        if _changeable(name, access=access, value=value, client=client):
            claims[name] = value
    for name in changes.suppress:
        if name == "cognito:groups":
            for group_claim in GROUP_CLAIMS:
                claims.pop(group_claim, None)
        elif _changeable(name, access=access) or name.startswith("dev:"):
            claims.pop(name, None)


def _group_configuration(claims: dict[str, Any]) -> dict[str, Any]:
    return {"groupsToOverride": list(claims.get("cognito:groups") or []),
            "iamRolesToOverride": list(claims.get("cognito:roles") or []),
            "preferredRole": claims.get("cognito:preferred_role")}


def customize(backend: Backend, pool: UserPool, client: AppClient, user: User, access_claims: dict[str, Any],
              id_claims: dict[str, Any] | None, *, source: str = AUTHENTICATION,
              client_metadata: dict[str, str] | None = None) -> bool:
    """Run the pool's trigger for a user's tokens and change the claims in place (True if it ran).

    Called under the store lock; :func:`harness.engine.triggers.invoke` sets it down while the
    function runs. ``client_metadata``: the ClientMetadata of the call that hands the tokens out.
    """
    if not triggers.function_arn(pool, TRIGGER):
        return False
    chosen = version(pool)
    event_version = EVENT_VERSIONS[chosen]
    group_source = id_claims if id_claims is not None else access_claims
    request: dict[str, Any] = {"userAttributes": attributes.event_attributes(pool, user),
                               "groupConfiguration": _group_configuration(group_source)}
    if event_version != "1":
        request["scopes"] = str(access_claims.get("scope", "")).split()
    if client_metadata:
        request["clientMetadata"] = dict(client_metadata)
    key = "claimsOverrideDetails" if event_version == "1" else "claimsAndScopeOverrideDetails"
    response = triggers.invoke(backend, pool, TRIGGER, source, username=user.username,
                               client_id=client.client_id, request=request, response={key: None},
                               version=event_version)
    if response is None:
        return False
    answer = Answer.read(response, event_version)
    if id_claims is not None:
        _apply(id_claims, answer.id_token, answer.groups, client, access=False)
    if event_version == "1":  # V1 changes only the ID token, but its group override reaches both
        _apply_groups(access_claims, answer.groups, id_token=False)
    else:
        _apply(access_claims, answer.access_token, answer.groups, client, access=True)
    return True


def customize_client_credentials(backend: Backend, pool: UserPool, client: AppClient, claims: dict[str, Any],
                                 client_metadata: dict[str, str] | None) -> bool:
    """V3 only: the trigger for an M2M access token (``TokenGeneration_ClientCredentials``)."""
    if not triggers.function_arn(pool, TRIGGER) or version(pool) != "V3_0":
        return False
    request: dict[str, Any] = {"userAttributes": {}, "groupConfiguration": None,
                               "scopes": str(claims.get("scope", "")).split()}
    if client_metadata:
        request["clientMetadata"] = dict(client_metadata)
    response = triggers.invoke(backend, pool, TRIGGER, CLIENT_CREDENTIALS, username=CLIENT_CREDENTIALS_USERNAME,
                               client_id=client.client_id, request=request,
                               response={"claimsAndScopeOverrideDetails": None}, version="3")
    if response is None:
        return False
    answer = Answer.read(response, "3")
    _apply(claims, answer.access_token, GroupOverride(False, [], [], None), client, access=True)
    return True


def source_for_challenge(challenge: str) -> str:
    """The source of tokens handed out by answering ``challenge``."""
    return {"NEW_PASSWORD_REQUIRED": NEW_PASSWORD_CHALLENGE,
            "DEVICE_PASSWORD_VERIFIER": AUTHENTICATE_DEVICE}.get(challenge, AUTHENTICATION)


__all__ = [
    "AUTHENTICATE_DEVICE", "AUTHENTICATION", "CLIENT_CREDENTIALS", "HOSTED_AUTH", "IMMUTABLE_CLAIMS",
    "NEW_PASSWORD_CHALLENGE", "REFRESH_TOKENS", "customize", "customize_client_credentials", "source_for_challenge",
    "version",
]

"""The claim sets of Cognito's ID and access tokens, built from the pool, the app client, the user
and the sign-in's session (attributes, identities, groups and roles, scopes, validity).

Pure construction: harness.engine.tokens signs them (through harness.engine.signing), and the
pre token generation trigger may still change them there.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from harness.engine import attributes
from harness.engine.common import seconds
from harness.engine.models import AppClient, RefreshSession, User, UserPool

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

ADMIN_SCOPE = "aws.cognito.signin.user.admin"
NON_TOKEN_ATTRIBUTES = {"sub", "identities"}


def _attribute_claims(pool: UserPool, client: AppClient, user: User) -> dict[str, Any]:
    readable = client.read_attributes
    claims: dict[str, Any] = {}
    for name, value in user.attributes.items():
        if name in NON_TOKEN_ATTRIBUTES or name.startswith("dev:"):
            continue
        if readable is not None and name not in readable and not name.endswith("_verified"):
            continue
        if readable is not None and name.endswith("_verified") and name[: -len("_verified")] not in readable:
            continue
        if name in ("email_verified", "phone_number_verified"):
            claims[name] = attributes.is_true(value)
        elif name == "updated_at":
            claims[name] = int(value) if value.isdigit() else value
        else:
            claims[name] = value  # custom:* stay strings, as Cognito sends them
    return claims


def identities_claim(user: User) -> list[dict[str, Any]] | None:
    """The token form of the ``identities`` attribute: string-typed primary/dateCreated."""
    raw = user.attributes.get("identities")
    if not raw:
        return None
    out = []
    for ident in json.loads(raw):
        out.append(
            {
                "userId": ident.get("userId"),
                "providerName": ident.get("providerName"),
                "providerType": ident.get("providerType"),
                "issuer": ident.get("issuer"),
                "primary": "true" if ident.get("primary") in (True, "true") else "false",
                "dateCreated": str(ident.get("dateCreated")),
            }
        )
    return out


def _group_claims(pool: UserPool, user: User, id_token: bool) -> dict[str, Any]:
    groups = [pool.groups[g] for g in user.groups if g in pool.groups]
    if not groups:
        return {}
    # precedence order (lowest first, unset last), then name: stable and documented here
    groups.sort(key=lambda g: (g.precedence is None, g.precedence or 0, g.name))
    claims: dict[str, Any] = {"cognito:groups": [g.name for g in groups]}
    if id_token:
        roles = [g.role_arn for g in groups if g.role_arn]
        if roles:
            claims["cognito:roles"] = list(dict.fromkeys(roles))
            with_roles = [g for g in groups if g.role_arn]
            top = with_roles[0].precedence
            tied = {g.role_arn for g in with_roles if g.precedence == top}
            if len(tied) == 1:
                claims["cognito:preferred_role"] = tied.pop()
    return claims


def id_token_claims(
    backend: Backend,
    pool: UserPool,
    client: AppClient,
    user: User,
    session: RefreshSession | None,
    now: int,
    auth_time: int,
    nonce: str | None = None,
) -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": user.sub}
    claims.update(_group_claims(pool, user, id_token=True))
    claims["iss"] = backend.issuer(pool)
    claims["cognito:username"] = user.username
    if session is not None and client.enable_token_revocation:
        claims["origin_jti"] = session.origin_jti
    claims["aud"] = client.client_id
    claims["event_id"] = backend.ids.uuid()
    claims["token_use"] = "id"
    claims["auth_time"] = auth_time
    if nonce:
        claims["nonce"] = nonce
    claims["exp"] = now + seconds(client.id_token_validity, client.id_token_unit)
    claims["iat"] = now
    if client.enable_token_revocation:
        claims["jti"] = backend.ids.uuid()
    identities = identities_claim(user)
    if identities:
        claims["identities"] = identities
    claims.update(_attribute_claims(pool, client, user))
    return claims


def access_token_claims(
    backend: Backend,
    pool: UserPool,
    client: AppClient,
    user: User,
    session: RefreshSession | None,
    now: int,
    auth_time: int,
    scopes: list[str],
) -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": user.sub}
    claims.update(_group_claims(pool, user, id_token=False))
    claims["iss"] = backend.issuer(pool)
    claims["version"] = 2
    claims["client_id"] = client.client_id
    if session is not None and client.enable_token_revocation:
        claims["origin_jti"] = session.origin_jti
    claims["event_id"] = backend.ids.uuid()
    claims["token_use"] = "access"
    claims["scope"] = " ".join(scopes)
    claims["auth_time"] = auth_time
    claims["exp"] = now + seconds(client.access_token_validity, client.access_token_unit)
    claims["iat"] = now
    claims["jti"] = backend.ids.uuid()
    claims["username"] = user.username
    if session is not None and session.device_key:
        claims["device_key"] = session.device_key
    return claims



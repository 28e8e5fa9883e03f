"""GetId, GetOpenIdToken, GetOpenIdTokenForDeveloperIdentity and UnlinkIdentity.

The rules are in ``harness.engine.identity.logins`` (verifying a Logins map),
``.identities`` (create / link / merge / unlink) and ``.openid`` (the token); these handlers read
the request, apply the rules in AWS's order and shape the answer.

GetOpenIdToken is the first half of the classic (basic) flow, so it is where AWS refuses a pool
without ``AllowClassicFlow`` (InvalidParameterException "Basic (classic) flow is not enabled, please
use enhanced flow.", aws-cli #7652, amplify-js #9704) and a pool with role mappings ("Basic
(classic) flow is not supported with RoleMappings, please use enhanced flow.", aws-rum-web #172):
the classic flow picks its role in STS, where role mappings cannot apply.
GetOpenIdTokenForDeveloperIdentity serves the developer-authenticated enhanced flow too, and is not
refused. ``AccountId`` of GetId is accepted and not checked (one account).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.engine import events as ev
from harness.engine.identity import identities, openid
from harness.engine.identity.logins import SOCIAL_PRESETS, VerifiedLogin, verify_login, verify_logins
from harness.engine.identity.models import Identity, IdentityPool
from harness.engine.identity.pools import USER_POOL_PROVIDER, find_pool
from harness.engine.registry import identity_operation
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

SESSION_TAGS_CLAIM = "https://aws.amazon.com/tags"
"""Where STS reads session tags in a web identity token (IAM "Passing session tags using
AssumeRoleWithWebIdentity"): ``{"principal_tags": {key: [value]}}``."""


@identity_operation("GetId")
def get_id(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = find_pool(backend, params["IdentityPoolId"])
    verified = verify_logins(backend, pool, params.get("Logins"))
    return {"IdentityId": identities.get_id(backend, pool, verified).identity_id}


@identity_operation("GetOpenIdToken")
def get_open_id_token(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = identities.find_pool_of_identity(backend, params["IdentityId"])
    if not pool.allow_classic_flow:
        raise Err.CLASSIC_FLOW_DISABLED.error()
    if pool.role_mappings:
        raise Err.CLASSIC_FLOW_WITH_ROLE_MAPPINGS.error()
    verified = verify_logins(backend, pool, params.get("Logins"))
    identity = identities.identity_for_credentials(backend, pool, params["IdentityId"], verified)
    token = issue(backend, pool, identity, verified, openid.OPENID_TOKEN_SECONDS)
    return {"IdentityId": identity.identity_id, "Token": token}


@identity_operation("GetOpenIdTokenForDeveloperIdentity")
def get_open_id_token_for_developer_identity(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = find_pool(backend, params["IdentityPoolId"])
    verified = [_developer_or_public_login(backend, pool, provider, value)
                for provider, value in params["Logins"].items()]
    developer = next((login for login in verified if login.provider == pool.developer_provider_name), None)
    identity_id = params.get("IdentityId")
    if identity_id is not None:
        identity = identities.live_identity(pool, identity_id)
        owner = identities.owner_of(pool, developer) if developer is not None else None
        if owner is not None and owner != identity_id:
            raise Err.DEVELOPER_USER_REGISTERED.error()
        identity = identities.consolidate(backend, pool, verified, include=identity)
    else:
        identity = identities.consolidate(backend, pool, verified)
    seconds = params.get("TokenDuration", openid.DEVELOPER_TOKEN_DEFAULT_SECONDS)
    token = issue(backend, pool, identity, verified, seconds, params.get("PrincipalTags"))
    return {"IdentityId": identity.identity_id, "Token": token}


@identity_operation("UnlinkIdentity")
def unlink_identity(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = identities.find_pool_of_identity(backend, params["IdentityId"])
    verified = verify_logins(backend, pool, params["Logins"])
    identity = identities.live_identity(pool, params["IdentityId"])
    if not any(identities.owner_of(pool, login) == identity.identity_id for login in verified):
        raise Err.LOGINS_DONT_MATCH.error()
    identities.unlink(backend, pool, identity, list(params["LoginsToRemove"]))
    return {}


def _developer_or_public_login(backend: Backend, pool: IdentityPool, provider: str, value: str) -> VerifiedLogin:
    """A developer login (the developer's user identifier, vouched for by the signed call itself) or a
    public login verified like any other. A name that is neither is a developer provider this pool
    does not have."""
    if pool.developer_provider_name is not None and provider == pool.developer_provider_name:
        return VerifiedLogin(provider, value)
    if USER_POOL_PROVIDER.fullmatch(provider) or provider in SOCIAL_PRESETS or provider == openid.IDENTITY_PROVIDER:
        return verify_login(backend, pool, provider, value)
    raise Err.DEVELOPER_PROVIDER_MISMATCH.error()


def issue(backend: Backend, pool: IdentityPool, identity: Identity, verified: list[VerifiedLogin], seconds: int,
          principal_tags: dict[str, str] | None = None) -> str:
    """Sign an OpenID token for ``identity``; ``amr`` names the logins presented (or, for a token of this
    service presented alone, the identity's own)."""
    presented = [(login.provider, login.subject) for login in verified if not login.is_identity_token]
    logins = presented or (identities.linked_logins(pool, identity) if verified else [])
    claims = openid.token_claims(backend, pool, identity.identity_id, logins, seconds)
    if principal_tags:
        claims[SESSION_TAGS_CLAIM] = {"principal_tags": {k: [v] for k, v in principal_tags.items()}}
    token = openid.sign(backend, claims)
    backend.events.emit(ev.IDENTITY_OPENID_TOKEN, pool.pool_id, identity_id=identity.identity_id,
                        authenticated=bool(logins), providers=sorted({p for p, _ in logins}), expires_in=seconds)
    return token

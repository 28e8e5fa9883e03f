"""STS AssumeRoleWithWebIdentity for tokens of the identity service: the classic flow's second half.

Classic (basic) flow: GetId -> GetOpenIdToken (refused unless the pool allows the classic flow) ->
STS AssumeRoleWithWebIdentity with that token and a role the app chooses. Real STS checks the
role's trust policy; the emulator has no IAM, so it holds the pool's own roles to the trust
policy AWS documents for them ("Role trust and permissions"): ``aud`` is the identity pool and the
token's ``amr`` carries ``authenticated`` for the pool's authenticated role, ``unauthenticated``
for its unauthenticated role. Any other role is refused with STS's AccessDenied, as a role whose
trust policy does not trust the pool is. (The trust documents themselves are the audit's to read.)

Credentials are issued through ``credentials.issue`` (the control plane lists both flows), for
``DurationSeconds`` (default 3600, 900..43200 as the sts model says).
Error codes are the sts model's (InvalidIdentityToken, ExpiredTokenException, AccessDenied,
ValidationError); the wording of those not observed is chosen (see harness/errors.py).
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from harness.engine import events as ev
from harness.engine.identity import credentials, openid
from harness.engine.identity.roles import RoleChoice
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

DEFAULT_DURATION = 3600
MIN_DURATION, MAX_DURATION = 900, 43200
SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}")
ROLE_ARN = re.compile(r"arn:aws[\w-]*:iam::(\d{12}):role/([\w+=,.@/-]+)")
ROLE_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
SOURCE = "classic"  # RoleChoice.source of credentials issued by STS


def _invalid(value: Any, member: str, constraint: str) -> Exception:
    detail = f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
    return Err.STS_VALIDATION.error(detail=detail)


def check_request(params: dict[str, str]) -> tuple[str, str, str, int]:
    """(role ARN, session name, token, duration) from the query members, or STS's ValidationError."""
    for member in ("RoleArn", "RoleSessionName", "WebIdentityToken"):
        if not params.get(member):
            raise _invalid("null", member[0].lower() + member[1:], "Member must not be null")
    role_arn, session, token = params["RoleArn"], params["RoleSessionName"], params["WebIdentityToken"]
    if not 20 <= len(role_arn) <= 2048:
        raise _invalid(role_arn, "roleArn", "Member must have length between 20 and 2048")
    if not SESSION_NAME.fullmatch(session):
        raise _invalid(session, "roleSessionName",
                       "Member must satisfy regular expression pattern: [\\w+=,.@-]* and length between 2 and 64")
    if not 4 <= len(token) <= 20000:
        raise _invalid("***", "webIdentityToken", "Member must have length between 4 and 20000")
    raw = params.get("DurationSeconds") or str(DEFAULT_DURATION)
    duration = int(raw) if raw.isdigit() else -1
    if not MIN_DURATION <= duration <= MAX_DURATION:
        raise _invalid(raw, "durationSeconds",
                       f"Member must have value between {MIN_DURATION} and {MAX_DURATION}")
    return role_arn, session, token, duration


def assume_role_with_web_identity(backend: Backend, params: dict[str, str]) -> dict[str, Any]:
    """The AssumeRoleWithWebIdentityResult members (Credentials with ``SecretAccessKey``, STS's name)."""
    role_arn, session, token, duration = check_request(params)
    if token.count(".") != 2:
        raise Err.STS_NOT_A_JWT.error()
    try:
        claims = openid.decode(backend, token)
    except ValueError:
        raise Err.STS_TOKEN_UNVERIFIABLE.error() from None
    now = backend.clock.now()
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or now >= exp:
        raise Err.STS_TOKEN_EXPIRED.error(now=_iso(now), exp=_iso(float(exp or 0)))
    pool = backend.identity.pools.get(str(claims.get("aud")))
    amr = [str(entry) for entry in claims.get("amr") or []]
    authenticated = openid.AUTHENTICATED in amr
    kind = openid.AUTHENTICATED if authenticated else openid.UNAUTHENTICATED
    role_match = ROLE_ARN.fullmatch(role_arn)
    if pool is None or role_match is None or pool.roles.get(kind) != role_arn:
        raise Err.STS_ROLE_NOT_TRUSTED.error()
    identity_id = str(claims.get("sub"))
    providers = [entry for entry in amr[1:] if ":" not in entry]  # amr: kind, providers, provider:subject entries
    issued = credentials.issue(backend, pool.pool_id, identity_id, RoleChoice(role_arn, authenticated, SOURCE),
                               providers, lifetime=float(duration))
    backend.events.emit(ev.IDENTITY_STS_ASSUMED, pool.pool_id, identity_id=identity_id, role_arn=role_arn,
                        session_name=session, access_key_id=issued.access_key_id)
    account, role_path = role_match.group(1), role_match.group(2)
    role_name = role_path.rsplit("/", 1)[-1]
    return {
        "Credentials": {
            "AccessKeyId": issued.access_key_id,
            "SecretAccessKey": issued.secret_key,
            "SessionToken": issued.session_token,
            "Expiration": issued.expiration,
        },
        "SubjectFromWebIdentityToken": identity_id,
        "AssumedRoleUser": {
            "Arn": f"arn:aws:sts::{account}:assumed-role/{role_name}/{session}",
            "AssumedRoleId": f"{role_id(role_arn)}:{session}",
        },
        "Provider": str(claims.get("iss", "")).removeprefix("https://"),
        "Audience": pool.pool_id,
    }


def role_id(role_arn: str) -> str:
    """A stable ``AROA...`` unique id for a role ARN (IAM's role ids: AROA + 17 characters)."""
    digest = hashlib.sha256(role_arn.encode()).digest()
    return "AROA" + "".join(ROLE_ID_ALPHABET[b % len(ROLE_ID_ALPHABET)] for b in digest[:17])


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

"""Temporary AWS credentials handed out for identities, on the virtual clock, and their control-plane views.

Both flows issue through :func:`issue`: the enhanced flow (GetCredentialsForIdentity) and the
classic one (STS AssumeRoleWithWebIdentity), so the control plane lists every credential the
emulator gave out, with the role it carries. They are remembered in ``Backend.identity``
(bounded: the oldest are forgotten first, models.MAX_CREDENTIALS_KEPT).

Shapes as STS makes them: AccessKeyId ``ASIA`` + 16 of [A-Z0-9] (temporary keys start ASIA),
a 40-character secret, a long opaque session token, an expiration 1 hour after issue (the
default of GetCredentialsForIdentity). The values come from the seeded id factory, so a seed
fixes them; nothing here can be used against real AWS.
"""

from __future__ import annotations

import string
from typing import TYPE_CHECKING, Any

from harness.encoding import b64url
from harness.engine.events import IDENTITY_CREDENTIALS, IDENTITY_CREDENTIALS_EXPIRED
from harness.engine.identity.models import IdentityState, IssuedCredentials
from harness.engine.identity.roles import RoleChoice

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

CREDENTIALS_LIFETIME = 3600.0
"""Seconds GetCredentialsForIdentity's credentials live (AWS: one hour)."""

ACCESS_KEY_PREFIX = "ASIA"
_KEY_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"
SESSION_TOKEN_BYTES = 288
"""Random bytes in a session token (real ones are several hundred characters; apps store them whole)."""


def _text(backend: Backend, alphabet: str, length: int) -> str:
    """``length`` characters of ``alphabet`` from the seeded generator."""
    return "".join(alphabet[b % len(alphabet)] for b in backend.ids.randbytes(length))


def issue(backend: Backend, identity_pool_id: str, identity_id: str, role: RoleChoice, providers: list[str],
          lifetime: float = CREDENTIALS_LIFETIME) -> IssuedCredentials:
    """New credentials for ``identity_id`` carrying ``role``, remembered and recorded (event without secrets)."""
    now = backend.clock.now()
    issued = IssuedCredentials(
        access_key_id=ACCESS_KEY_PREFIX + _text(backend, _KEY_ALPHABET, 16),
        secret_key=_text(backend, _SECRET_ALPHABET, 40),
        session_token=b64url(backend.ids.randbytes(SESSION_TOKEN_BYTES)),
        identity_id=identity_id,
        identity_pool_id=identity_pool_id,
        role_arn=role.role_arn,
        authenticated=role.authenticated,
        providers=list(providers),
        issued=now,
        expiration=now + lifetime,
    )
    backend.identity.remember(issued)
    backend.events.emit(
        IDENTITY_CREDENTIALS, identity_pool_id, identity_id=identity_id, access_key_id=issued.access_key_id,
        role_arn=role.role_arn, authenticated=role.authenticated, source=role.source, providers=list(providers),
        expiration=issued.expiration,
    )
    return issued


def api_credentials(issued: IssuedCredentials) -> dict[str, Any]:
    """The ``Credentials`` member of GetCredentialsForIdentity (``SecretKey``, not ``SecretAccessKey``)."""
    return {
        "AccessKeyId": issued.access_key_id,
        "SecretKey": issued.secret_key,
        "SessionToken": issued.session_token,
        "Expiration": issued.expiration,
    }


def is_expired(issued: IssuedCredentials, now: float) -> bool:
    return now >= issued.expiration


def describe(issued: IssuedCredentials, now: float) -> dict[str, Any]:
    """What the control plane shows of one credential: everything but the secret and the session token."""
    return {
        "access_key_id": issued.access_key_id,
        "identity_id": issued.identity_id,
        "identity_pool_id": issued.identity_pool_id,
        "role_arn": issued.role_arn,
        "authenticated": issued.authenticated,
        "providers": list(issued.providers),
        "issued": issued.issued,
        "expiration": issued.expiration,
        "expired": is_expired(issued, now),
        "expired_by_control": issued.expired_by_control,
    }


def find(state: IdentityState, identity_pool_id: str | None = None,
         identity_id: str | None = None) -> list[IssuedCredentials]:
    """Remembered credentials, oldest first, of one pool and/or one identity (None: any)."""
    return [
        c for c in state.credentials.values()
        if (identity_pool_id is None or c.identity_pool_id == identity_pool_id)
        and (identity_id is None or c.identity_id == identity_id)
    ]


def expire(backend: Backend, chosen: list[IssuedCredentials]) -> int:
    """End ``chosen`` now on the virtual clock (those already expired stay as they are); how many ended."""
    now = backend.clock.now()
    ended = 0
    for issued in chosen:
        if is_expired(issued, now):
            continue
        issued.expiration = now
        issued.expired_by_control = True
        ended += 1
        backend.events.emit(IDENTITY_CREDENTIALS_EXPIRED, issued.identity_pool_id, identity_id=issued.identity_id,
                            access_key_id=issued.access_key_id)
    return ended


__all__ = ["CREDENTIALS_LIFETIME", "api_credentials", "describe", "expire", "find", "is_expired", "issue"]

"""GetSigningCertificate: the pool's signing key as an X.509 certificate.

AWS documents the certificate as valid for ten years from issue, and a new one each year that leaves
the old valid. The emulator's certificate wraps the key that signs the pool's ID tokens now (the key
the JWKS publishes under its kid): self-signed by that key, issued to ``CN=<user pool id>``, valid from
the key's creation on the virtual clock for ten years, base64 DER without PEM armour (as a SAML
metadata document carries it). After a key rotation it wraps the new key; the old certificate stays
valid, as AWS's do. With a seed the key, and so the certificate, is the same on every run.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from harness.engine.registry import operation
from harness.engine.signing import self_signed_certificate

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

VALID_YEARS = 10


@operation("GetSigningCertificate")
def get_signing_certificate(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    key = pool.keyring.active("id")  # made under the lock when the pool has none yet
    with backend.lock_released():  # RSA signing is pure work: set the store lock down for it
        der = self_signed_certificate(key, pool.pool_id, key.created_at, VALID_YEARS)
    return {"Certificate": base64.b64encode(der).decode()}

"""The one base64url and the one PKCE S256 of the package (JWT segments, kids, paging tokens, at_hash)."""

from __future__ import annotations

import base64
import hashlib


def b64url(data: bytes) -> str:
    """Unpadded base64url (RFC 7515 §2), as JWT segments use."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(segment: str) -> bytes:
    """Decode base64url with or without its padding."""
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def pkce_s256(verifier: str) -> str:
    """The PKCE ``S256`` code challenge of a code verifier (RFC 7636 §4.2)."""
    return b64url(hashlib.sha256(verifier.encode()).digest())


__all__ = ["b64url", "b64url_decode", "pkce_s256"]

"""The one base64url and the one PKCE S256 of the package (JWT segments, kids, paging tokens, at_hash)."""

from __future__ import annotations

import base64
import hashlib
import hmac


def b64url(data: bytes) -> str:
    """Unpadded base64url (RFC 7515 §2), as JWT segments use."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(segment: str) -> bytes:
    """Decode base64url with or without its padding."""
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def pkce_s256(verifier: str) -> str:
    """The PKCE ``S256`` code challenge of a code verifier (RFC 7636 §4.2)."""
    return b64url(hashlib.sha256(utf8(verifier)).digest())


def utf8(text: str) -> bytes:
    """UTF-8 bytes of any str, lone surrogates included (JSON may carry ``"\\ud800"``)."""
    return text.encode("utf-8", "surrogatepass")


def secrets_equal(given: str | None, expected: str | None) -> bool:
    """Constant-time equality of two secrets (client secrets, secret hashes, PKCE challenges).

    ``hmac.compare_digest`` raises TypeError on a str holding non-ASCII
    characters, which turned a caller's bad secret into a 500; comparing the
    UTF-8 bytes answers False instead. A missing or empty side never matches.
    """
    if not given or not expected:
        return False
    return hmac.compare_digest(utf8(given), utf8(expected))


__all__ = ["b64url", "b64url_decode", "pkce_s256", "secrets_equal", "utf8"]

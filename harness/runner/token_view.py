"""What a scenario holds of a sign-in's tokens, and how it reads a token without trusting it (evidence)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import jwt

from harness.encoding import b64url_decode


@dataclass
class Tokens:
    access_token: str
    id_token: str
    refresh_token: str | None
    expires_in: int = 0

    def get(self, kind: str) -> str:
        return {"access": self.access_token, "id": self.id_token}[kind]


def decode_unverified(token: str) -> dict[str, Any]:
    """Header and claims of a JWT without verifying it (for evidence); notes when it does not parse."""
    out: dict[str, Any] = {"length": len(token), "segments": token.count(".") + 1}
    try:
        out["header"] = jwt.get_unverified_header(token)
    except Exception as exc:  # noqa: BLE001 - any parse failure is evidence
        out["header_error"] = str(exc)
    try:
        out["claims"] = jwt.decode(token, options={"verify_signature": False, "verify_exp": False,
                                                   "verify_aud": False, "verify_iat": False, "verify_nbf": False})
    except Exception as exc:  # noqa: BLE001
        out["claims_error"] = str(exc)
    out["signature_chars"] = len(token.rsplit(".", 1)[-1]) if "." in token else 0
    return out


def claims_of(token: str) -> dict[str, Any]:
    return json.loads(b64url_decode(token.split(".")[1]))


__all__ = ["Tokens", "claims_of", "decode_unverified"]

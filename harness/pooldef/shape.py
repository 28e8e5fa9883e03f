"""A pool's sign-in shape, read from DescribeUserPool, and how a person's sign-in name fits it.

Cognito allows a handle as username (optionally with email / phone_number /
preferred_username aliases), or email and/or phone_number as the username
(``UsernameAttributes``; the pool's own username is then a generated UUID),
each case-sensitive or not. Test users must be made to fit: in an email-username
pool AdminCreateUser refuses anything but an email as Username. The shape is
read through the API (DescribeUserPool), so it holds on any backend.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

EMAIL = "email"
PHONE = "phone_number"
PREFERRED = "preferred_username"
TEST_PHONE_PREFIX = "+1555"  # NANP 555 numbers: fictional, never delivered anywhere


@dataclass(frozen=True)
class PoolShape:
    """How users of a pool sign in and where the pool sends their codes."""

    username_attributes: tuple[str, ...] = ()
    alias_attributes: tuple[str, ...] = ()
    auto_verified_attributes: tuple[str, ...] = ()
    case_sensitive: bool = True  # Cognito's default when UsernameConfiguration is absent
    recovery: tuple[str, ...] = ()  # AccountRecoverySetting mechanisms by priority; () = the legacy rule

    @classmethod
    def from_description(cls, pool: dict[str, Any]) -> PoolShape:
        """From DescribeUserPool's ``UserPool`` (botocore's UserPoolType)."""
        mechanisms = (pool.get("AccountRecoverySetting") or {}).get("RecoveryMechanisms") or []
        return cls(
            username_attributes=tuple(pool.get("UsernameAttributes") or ()),
            alias_attributes=tuple(pool.get("AliasAttributes") or ()),
            auto_verified_attributes=tuple(pool.get("AutoVerifiedAttributes") or ()),
            case_sensitive=bool((pool.get("UsernameConfiguration") or {}).get("CaseSensitive", True)),
            recovery=tuple(m["Name"] for m in sorted(mechanisms, key=lambda m: m.get("Priority", 0))),
        )

    @classmethod
    def read(cls, idp: Any, pool_id: str) -> PoolShape:
        """DescribeUserPool through a boto3 cognito-idp client."""
        return cls.from_description(idp.describe_user_pool(UserPoolId=pool_id)["UserPool"])

    @property
    def sign_in_attribute(self) -> str | None:
        """The attribute users sign in with instead of a username (email wins when both are allowed)."""
        for attribute in (EMAIL, PHONE):
            if attribute in self.username_attributes:
                return attribute
        return None

    @property
    def uses_phone(self) -> bool:
        """Whether users need a (verified) phone number: to sign in, as an alias, or to get codes."""
        return (PHONE in self.username_attributes or PHONE in self.alias_attributes
                or PHONE in self.auto_verified_attributes or "verified_phone_number" in self.recovery)

    @property
    def uses_preferred_username(self) -> bool:
        return PREFERRED in self.alias_attributes

    def sign_in_name(self, handle: str, email: str, phone_number: str) -> str:
        """What a person types to sign in: their email or phone in username-attribute pools, else the handle."""
        return {EMAIL: email, PHONE: phone_number}.get(self.sign_in_attribute or "", handle)

    @property
    def signup_code_attribute(self) -> str | None:
        """Where SignUp sends the confirmation code: an auto-verified attribute, SMS first (as Cognito does)."""
        for attribute in (PHONE, EMAIL):
            if attribute in self.auto_verified_attributes:
                return attribute
        return None

    def describe(self) -> str:
        """One line for evidence: 'email as username, case-insensitive'."""
        if self.username_attributes:
            kind = " and ".join(self.username_attributes) + " as username"
        elif self.alias_attributes:
            kind = "username with aliases " + ", ".join(self.alias_attributes)
        else:
            kind = "username"
        return f"{kind}, {'case-sensitive' if self.case_sensitive else 'case-insensitive'}"


def seeded_phone_number(seed: int, index: int) -> str:
    """A deterministic E.164 test number (+1 555 ...) for the ``index``-th person of ``seed``."""
    digest = hashlib.sha256(f"{seed}:{index}:phone".encode()).digest()
    return f"{TEST_PHONE_PREFIX}{int.from_bytes(digest[:8], 'big') % 10**7:07d}"


__all__ = ["EMAIL", "PHONE", "PREFERRED", "PoolShape", "seeded_phone_number"]

"""Seeded test people, made to fit the pool's shape.

A :class:`TestUser` is one person: a handle (``first.last.N1234``), an email, a
seeded E.164 phone number and a password, all fixed by the scenario seed. What
they sign in with depends on the pool (:class:`~harness.pooldef.shape.PoolShape`):
their email in an email-username pool, their phone in a phone-username pool,
the handle otherwise (aliases then also sign in). ``username`` is always that
sign-in name, and it is what the app's requests template as ``{username}``;
``pool_username`` is the pool's own name for them (``cognito:username``: the
generated UUID in email/phone-username pools), known once they exist.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

from faker import Faker

from harness.pooldef.shape import EMAIL, PHONE, PREFERRED, PoolShape, seeded_phone_number

DEFAULT_PASSWORD_SUFFIX = "Aa1!"


def scenario_seed(run_seed: int, scenario_id: str) -> int:
    """A per-scenario seed: same run seed -> same users for a scenario, whatever ran before."""
    digest = hashlib.sha256(f"{run_seed}:{scenario_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass
class TestUser:
    """A person of the scenario (``username`` is what sign-in takes and what ``{username}`` renders)."""

    __test__ = False  # not a pytest class

    username: str
    email: str
    password: str
    sub: str = ""
    given_name: str = ""
    family_name: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)
    handle: str = ""  # first.last.N1234: the username in handle pools
    phone_number: str = ""  # seeded E.164; set in the pool only when the pool uses phone numbers
    preferred_username: str = ""  # set in the pool only when it is an alias
    pool_username: str = ""  # cognito:username once the user exists (a UUID in email/phone-username pools)

    def values(self) -> dict[str, Any]:
        """The request placeholders this person fills in."""
        return {"username": self.username, "email": self.email, "password": self.password, "sub": self.sub,
                "phone_number": self.phone_number, "preferred_username": self.preferred_username}

    def contacts(self) -> list[str]:
        """Where the pool may send this person's codes (email, then phone)."""
        return [c for c in (self.email, self.phone_number) if c]


class UserFactory:
    """Seeded people (Faker): the same seed and pool shape give the same names, emails, phones and passwords."""

    def __init__(self, seed: int, shape: PoolShape | None = None) -> None:
        self.seed = seed
        self.shape = shape or PoolShape()
        self.faker = Faker()
        self.faker.seed_instance(seed)
        self.rng = random.Random(seed)
        self.count = 0

    def make(self, **overrides: Any) -> TestUser:
        """A new person (not in the pool yet), named the way this pool signs people in."""
        self.count += 1
        first = self.faker.first_name()
        last = self.faker.last_name()
        handle = f"{first}.{last}.{self.count}{self.rng.randrange(10**4):04d}".lower().replace("'", "")
        handle = "".join(c for c in handle if c.isalnum() or c in "._-")
        password = self.faker.password(length=14, special_chars=True, digits=True, upper_case=True,
                                       lower_case=True) + DEFAULT_PASSWORD_SUFFIX
        user = TestUser(username="", email=f"{handle}@example.com", password=password, given_name=first,
                        family_name=last, handle=handle, phone_number=seeded_phone_number(self.seed, self.count),
                        preferred_username=handle.replace(".", "_"))
        for k, v in overrides.items():
            setattr(user, k, v)
        if "username" not in overrides:  # after the overrides: ctx.user(email=x) signs in with x in an email pool
            user.username = self.shape.sign_in_name(user.handle, user.email, user.phone_number)
        return user

    def pool_attributes(self, user: TestUser) -> dict[str, str]:
        """The attributes the pool should hold for ``user``: verified contacts and the aliases it uses.

        Email is always set and verified (codes and recovery reach it); the
        phone number only when the pool uses phone numbers (then verified, so
        it signs in as an alias and receives SMS codes); preferred_username
        only when it is an alias.
        """
        attrs = {EMAIL: user.email, "email_verified": "true"}
        if self.shape.uses_phone:
            attrs.update({PHONE: user.phone_number, "phone_number_verified": "true"})
        if self.shape.uses_preferred_username:
            attrs[PREFERRED] = user.preferred_username
        return attrs


__all__ = ["DEFAULT_PASSWORD_SUFFIX", "TestUser", "UserFactory", "scenario_seed"]

"""The users of a pool definition: ``[[users]]`` seed users and ``generated_users`` Faker people.

Split from harness/pooldef/build.py. Both fit the pool's shape: in a pool whose
username is the email (or phone), a seed user's ``username`` is that email
(or phone) and generated people are created with theirs; the pool's own
username is then a generated UUID, kept as ``pool_username``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from faker import Faker

from harness.engine.common import find_user, secret_hash
from harness.engine.models import User
from harness.pooldef.shape import EMAIL, PHONE, PoolShape, seeded_phone_number
from harness.pooldef.reader import DefinitionTable

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend
    from harness.pooldef.build import ClientHandle

GENERATED_PASSWORD = "Generated-Passw0rd!"
USER_STATUSES = ("CONFIRMED", "FORCE_CHANGE_PASSWORD", "UNCONFIRMED")

Call = Callable[..., dict[str, Any]]  # _Builder.call(key, operation, params, keys_by_error=None)


@dataclass
class UserHandle:
    username: str  # what the user signs in with (their email or phone in username-attribute pools)
    password: str | None
    sub: str
    email: str | None = None
    phone_number: str | None = None
    status: str = "CONFIRMED"
    groups: list[str] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    generated: bool = False
    pool_username: str = ""  # cognito:username (a UUID in username-attribute pools)


class UserMaker:
    """Creates a definition's users through the cognito-idp operations (``call`` names the key on refusal)."""

    def __init__(self, backend: Backend, call: Call) -> None:
        self.backend = backend
        self.call = call

    def _stored(self, pool_id: str, name: str) -> User:
        """The user a sign-in name stands for (the pool's username is a UUID in username-attribute pools)."""
        user = find_user(self.backend.pool(pool_id), name)
        assert user is not None, name  # the operation that made it succeeded
        return user

    def user(self, pool_id: str, t: DefinitionTable, clients: dict[str, ClientHandle]) -> UserHandle:
        username = t.get("username", str)
        password = t.get("password", str, None)
        status = t.get("status", str, "CONFIRMED", choices=USER_STATUSES)
        attributes = t.table("attributes")
        attrs: dict[str, str] = {}
        if attributes is not None:
            for name, value in attributes.data.items():
                if isinstance(value, bool):
                    value = "true" if value else "false"
                if not isinstance(value, (str, int, float)):
                    raise attributes.fail(name, f"expected a string (or number/boolean), got {value!r}")
                attrs[name] = str(value)
                attributes.used.add(name)
        for key in (EMAIL, PHONE):
            value = t.get(key, str, None)
            if value is not None:
                attrs[key] = value
                verified = t.get(f"{key}_verified", bool, True)
                attrs.setdefault(f"{key}_verified", "true" if verified else "false")
            else:
                t.get(f"{key}_verified", bool, None)
        groups = t.strings("groups", []) or []
        enabled = t.get("enabled", bool, True)
        t.done()
        if password is None and status != "FORCE_CHANGE_PASSWORD":
            raise t.fail("password", f"required for a {status} user")
        attribute_list = [{"Name": k, "Value": v} for k, v in attrs.items()]
        if status == "UNCONFIRMED":
            self.sign_up(t, pool_id, username, password or "", attrs, clients)
        else:
            params: dict[str, Any] = {"UserPoolId": pool_id, "Username": username, "UserAttributes": attribute_list,
                                      "MessageAction": "SUPPRESS"}
            if password is not None:
                params["TemporaryPassword"] = password
            self.call(t.key("username"), "AdminCreateUser", params,
                      {"InvalidPasswordException": t.key("password")})
            if status == "CONFIRMED":
                self.call(t.key("password"), "AdminSetUserPassword",
                          {"UserPoolId": pool_id, "Username": username, "Password": password, "Permanent": True})
        for group in groups:
            self.call(t.key("groups"), "AdminAddUserToGroup",
                      {"UserPoolId": pool_id, "Username": username, "GroupName": group})
        if not enabled:
            self.call(t.key("enabled"), "AdminDisableUser", {"UserPoolId": pool_id, "Username": username})
        user = self._stored(pool_id, username)
        return UserHandle(username=username, password=password, sub=user.sub, email=user.attributes.get(EMAIL),
                          phone_number=user.attributes.get(PHONE), status=status, groups=list(groups),
                          attributes=dict(user.attributes), pool_username=user.username)

    def sign_up(self, t: DefinitionTable, pool_id: str, username: str, password: str, attrs: dict[str, str],
                clients: dict[str, ClientHandle]) -> None:
        """An UNCONFIRMED user signs up through an app client (its code lands in the mailbox)."""
        if not clients:
            raise t.fail("status", "an UNCONFIRMED user signs up through an app client; define [clients.*] first")
        client = next((c for c in clients.values() if c.client_secret is None), next(iter(clients.values())))
        params: dict[str, Any] = {
            "ClientId": client.client_id, "Username": username, "Password": password,
            "UserAttributes": [{"Name": k, "Value": v} for k, v in attrs.items() if not k.endswith("_verified")],
        }
        if client.client_secret:
            params["SecretHash"] = secret_hash(client.client_id, client.client_secret, username)
        self.call(t.key("username"), "SignUp", params, {"InvalidPasswordException": t.key("password")})

    def generated(self, pool_id: str, key: str, count: int, password: str, groups: list[str], tenants: list[str],
                  taken: set[str]) -> list[UserHandle]:
        """``count`` Faker users, seeded from the backend seed (same seed, same people), fitting the pool's shape."""
        pool = self.backend.pool(pool_id)
        shape = PoolShape(username_attributes=tuple(pool.username_attributes),
                          alias_attributes=tuple(pool.alias_attributes))
        fake = Faker("en_US")
        fake.seed_instance(self.backend.seed)
        made = []
        for i in range(count):
            first, last = fake.first_name(), fake.last_name()
            handle = f"{first}.{last}".lower().replace("'", "")
            while handle in taken:
                handle = f"{handle}{i}"
            taken.add(handle)
            tenant = tenants[i % len(tenants)] if tenants else None
            email = f"{handle}@{(tenant or 'example')}.example"
            attrs = {EMAIL: email, "email_verified": "true", "given_name": first, "family_name": last}
            phone = seeded_phone_number(self.backend.seed, i + 1)
            if shape.uses_phone:
                attrs.update({PHONE: phone, "phone_number_verified": "true"})
            if tenant and "custom:tenant" in pool.schema:
                attrs["custom:tenant"] = tenant
            username = shape.sign_in_name(handle, email, phone)
            where = f"{key}[{i}]"
            self.call(where, "AdminCreateUser", {
                "UserPoolId": pool_id, "Username": username, "MessageAction": "SUPPRESS",
                "UserAttributes": [{"Name": k, "Value": v} for k, v in attrs.items()],
            })
            self.call(where, "AdminSetUserPassword",
                      {"UserPoolId": pool_id, "Username": username, "Password": password, "Permanent": True})
            names = [g.replace("{tenant}", tenant or "") for g in groups if tenant or "{tenant}" not in g]
            for group in names:
                self.call(where, "AdminAddUserToGroup",
                          {"UserPoolId": pool_id, "Username": username, "GroupName": group})
            user = self._stored(pool_id, username)
            made.append(UserHandle(username=username, password=password, sub=user.sub, email=email,
                                   phone_number=attrs.get(PHONE), groups=names, attributes=dict(user.attributes),
                                   generated=True, pool_username=user.username))
        return made


__all__ = ["GENERATED_PASSWORD", "USER_STATUSES", "UserHandle", "UserMaker"]

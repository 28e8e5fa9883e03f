"""User lifecycle shared by the admin and the self-service operations.

Creating, deleting, disabling, confirming users and changing their
attributes happen here once, so AdminCreateUser and SignUp (or
AdminUpdateUserAttributes and UpdateUserAttributes) cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from harness.engine import attributes as attrs
from harness.engine import events as ev
from harness.engine import indexes, lockout, tokens
from harness.engine.models import AppClient, Group, User, UserPool
from harness.engine.passwords import set_password
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend


# --- creation ------------------------------------------------------------------------


def sign_in_attribute_values(pool: UserPool, username: str) -> dict[str, str]:
    """For a pool with UsernameAttributes, the email/phone the given name stands for.

    Raises Cognito's InvalidParameterException when the name is neither an
    allowed email nor an allowed phone number. Returns {} for ordinary pools.
    """
    allowed = pool.username_attributes
    if not allowed:
        return {}
    if "email" in allowed and attrs.is_email(username):
        return {"email": username}
    if "phone_number" in allowed and attrs.is_phone(username):
        return {"phone_number": username}
    if set(allowed) >= {"email", "phone_number"}:
        raise Err.USERNAME_MUST_BE_EMAIL_OR_PHONE.error()
    raise (Err.USERNAME_MUST_BE_EMAIL if "email" in allowed else Err.USERNAME_MUST_BE_PHONE).error()


def check_plain_username(pool: UserPool, username: str) -> None:
    """With email/phone aliases a username may not look like one (it would shadow an alias)."""
    if "email" in pool.alias_attributes and attrs.is_email(username):
        raise Err.USERNAME_CANNOT_BE_EMAIL.error()
    if "phone_number" in pool.alias_attributes and attrs.is_phone(username):
        raise Err.USERNAME_CANNOT_BE_PHONE.error()


def username_taken(pool: UserPool, username: str) -> bool:
    return pool.user_key(username) in pool.users


def create_user(
    backend: Backend,
    pool: UserPool,
    username: str,
    attributes: Mapping[str, str] | Iterable[Mapping[str, str]] | None,
    *,
    status: str,
    password: str | None = None,
    temporary: bool = False,
    client: AppClient | None = None,
    check_required: bool = False,
    force_alias: bool = False,
    admin: bool = False,
    enabled: bool = True,
) -> User:
    """Create and store a user; return it.

    * With UsernameAttributes the given name must be an email/phone; it
      becomes that attribute and the internal username is the new ``sub``.
    * ``client`` (SignUp) applies the client's WriteAttributes;
      ``check_required`` demands the schema's required attributes.
    * The password (policy already checked by the caller, whose message
      prefix differs per operation) is stored with its SRP verifier.
    * Duplicate usernames raise UsernameExistsException with the message of
      the calling API (``admin``: "User account already exists").
    """
    values = attrs.as_dict(attributes)
    sign_in_values = sign_in_attribute_values(pool, username)
    if not sign_in_values:
        check_plain_username(pool, username)
    if client is not None:
        attrs.check_writable(pool, client, values)
    values.update(sign_in_values)  # the sign-in name is the attribute's value
    attrs.validate_values(pool, values, check_required=check_required)
    values = {k: v for k, v in values.items() if v != ""}
    if not sign_in_values and username_taken(pool, username):
        raise (Err.ADMIN_USERNAME_EXISTS if admin else Err.USERNAME_EXISTS).error()
    displaced = attrs.check_unique(pool, values, force_alias=force_alias)
    sub = backend.ids.uuid()
    now = backend.clock.now()
    user = User(
        username=sub if sign_in_values else username,
        pool_id=pool.pool_id,
        sub=sub,
        attributes={"sub": sub, **values},
        status=status,
        enabled=enabled,
        created=now,
        modified=now,
    )
    if password is not None:
        set_password(backend, pool, user, password, temporary=temporary, check_history=False)
        user.modified = now
    attrs.release_aliases(displaced)
    indexes.add_user(pool, user)
    backend.events.emit(
        ev.USER_CREATED, pool.pool_id, username=user.username, sub=sub, status=status,
        admin=admin, client_id=client.client_id if client else None,
    )
    return user


# --- lifecycle ------------------------------------------------------------------------


def touch(backend: Backend, user: User) -> None:
    user.modified = backend.clock.now()


def delete_user(backend: Backend, pool: UserPool, user: User, *, reason: str = "user deleted") -> None:
    """Remove a user: revoke every session, drop memberships and pending challenges."""
    tokens.revoke_user_sessions(backend, pool, user, reason)
    indexes.remove_user(pool, user)
    for key, pending in list(pool.auth_sessions.items()):
        if pending.username == user.username:
            del pool.auth_sessions[key]
    user.groups.clear()
    backend.events.emit(ev.USER_DELETED, pool.pool_id, username=user.username, sub=user.sub)


def disable_user(backend: Backend, pool: UserPool, user: User) -> None:
    """Disable sign-in and revoke all sessions (re-enabling does not revive them)."""
    tokens.revoke_user_sessions(backend, pool, user, "user disabled")
    if user.enabled:
        user.enabled = False
        touch(backend, user)
    backend.events.emit(ev.USER_DISABLED, pool.pool_id, username=user.username, sub=user.sub)


def enable_user(backend: Backend, pool: UserPool, user: User) -> None:
    if not user.enabled:
        user.enabled = True
        touch(backend, user)
    backend.events.emit(ev.USER_ENABLED, pool.pool_id, username=user.username, sub=user.sub)


def confirm_user(backend: Backend, pool: UserPool, user: User, *, by: str) -> None:
    """UNCONFIRMED -> CONFIRMED; anything else is Cognito's NotAuthorizedException."""
    if user.status != "UNCONFIRMED":
        raise Err.ALREADY_CONFIRMED.error(status=user.status)
    user.status = "CONFIRMED"
    touch(backend, user)
    backend.events.emit(ev.USER_CONFIRMED, pool.pool_id, username=user.username, sub=user.sub, by=by)


def set_user_password(
    backend: Backend, pool: UserPool, user: User, password: str, *, permanent: bool, reason: str
) -> None:
    """Set a password and the status that goes with it (CONFIRMED or FORCE_CHANGE_PASSWORD).

    Policy is checked by the caller; history is enforced by set_password.
    """
    set_password(backend, pool, user, password, temporary=not permanent)
    user.status = "CONFIRMED" if permanent else "FORCE_CHANGE_PASSWORD"
    lockout.clear(user)
    user.codes.pop("FORGOT_PASSWORD", None)
    backend.events.emit(
        ev.PASSWORD_CHANGED, pool.pool_id, username=user.username, sub=user.sub,
        permanent=permanent, reason=reason,
    )


# --- attributes ------------------------------------------------------------------------


def update_attributes(
    backend: Backend,
    pool: UserPool,
    user: User,
    attributes: Mapping[str, str] | Iterable[Mapping[str, str]],
    *,
    client: AppClient | None = None,
) -> list[str]:
    """Apply an attribute update; return the email/phone attributes now awaiting verification.

    * An empty value deletes the attribute.
    * A changed email/phone becomes unverified unless ``*_verified=true`` is
      in the same request; with AttributesRequireVerificationBeforeUpdate the
      old verified value stays until the new one is verified (the new one is
      kept in ``user.pending_attributes``).
    * ``client`` (UpdateUserAttributes) applies WriteAttributes and the
      developer-only rule; admin callers pass None.
    The caller sends verification codes for the returned attributes when the
    pool auto-verifies them.
    """
    values = attrs.as_dict(attributes)
    if client is not None:
        attrs.check_writable(pool, client, values)
    attrs.validate_values(pool, values, user=user)
    deferred: dict[str, str] = {}
    unverified: list[str] = []
    for attr in attrs.VERIFIABLE:
        new = values.get(attr)
        old = user.attributes.get(attr)
        if not new or new == old or attrs.is_verified(values, attr):
            continue
        if (
            attr in pool.attributes_require_verification_before_update
            and old
            and attrs.is_verified(user.attributes, attr)
        ):
            deferred[attr] = new
            values.pop(f"{attr}_verified", None)
        else:
            values[f"{attr}_verified"] = "false"
        unverified.append(attr)
    immediate = {k: v for k, v in values.items() if k not in deferred}
    displaced = attrs.check_unique(pool, {k: v for k, v in immediate.items() if v}, user=user)
    attrs.release_aliases(displaced)
    with indexes.reindexing(pool, user):
        for name, value in immediate.items():
            if value == "":
                user.attributes.pop(name, None)
                user.pending_attributes.pop(name, None)
                if name in attrs.VERIFIABLE:
                    user.attributes.pop(f"{name}_verified", None)
            else:
                user.attributes[name] = value
                if name in attrs.VERIFIABLE:
                    user.pending_attributes.pop(name, None)
    user.pending_attributes.update(deferred)
    touch(backend, user)
    return unverified


def delete_attributes(
    backend: Backend,
    pool: UserPool,
    user: User,
    names: Iterable[str],
    *,
    client: AppClient | None = None,
) -> None:
    """Delete attributes (required and immutable ones refuse, as in Cognito)."""
    names = list(names)
    if client is not None:
        attrs.check_writable(pool, client, names)
    attrs.validate_values(pool, {name: "" for name in names}, user=user)
    for name in names:
        attr = pool.schema[name]
        if not attr.mutable and name in user.attributes:
            raise Err.ATTRIBUTE_IMMUTABLE.error(name=name)
    with indexes.reindexing(pool, user):
        for name in names:
            user.attributes.pop(name, None)
            user.pending_attributes.pop(name, None)
            if name in attrs.VERIFIABLE:
                user.attributes.pop(f"{name}_verified", None)
    touch(backend, user)


# --- views ------------------------------------------------------------------------------


def user_type(pool: UserPool, user: User, attribute_names: Iterable[str] | None = None) -> dict[str, object]:
    """The UserType view (AdminCreateUser, ListUsers, ListUsersInGroup); no MFAOptions."""
    attributes = attrs.user_attributes(pool, None, user)
    if attribute_names is not None:
        wanted = set(attribute_names)
        attributes = [a for a in attributes if a["Name"] in wanted]
    return {
        "Username": user.username,
        "Attributes": attributes,
        "UserCreateDate": user.created,
        "UserLastModifiedDate": user.modified,
        "Enabled": user.enabled,
        "UserStatus": user.status,
    }


# --- groups ------------------------------------------------------------------------------


def groups_of(pool: UserPool, user: User) -> list[Group]:
    """The user's groups, by precedence (lowest first, unset last), then name."""
    groups = [pool.groups[name] for name in user.groups if name in pool.groups]
    groups.sort(key=lambda g: (g.precedence is None, g.precedence or 0, g.name))
    return groups


def members_of(pool: UserPool, group: str) -> list[User]:
    return [u for u in pool.users.values() if group in u.groups]


__all__ = [
    "create_user", "delete_user", "disable_user", "enable_user", "confirm_user", "set_user_password",
    "update_attributes", "delete_attributes", "groups_of", "members_of", "sign_in_attribute_values",
    "check_plain_username", "username_taken", "touch", "user_type",
]

"""Lookups do not slow with the pool: users and sessions are found through indexes, not scans.

The tests count structure, not time: the pool's ``users`` (or ``sessions``)
map is swapped for one that counts every full iteration, and the operations
that name one user (create, sign-in, get, update, ListUsers with an exact
filter, global sign-out) must not iterate it at all. Every mutation path must
keep the indexes equal to ones rebuilt from scratch, and today's alias rules
(verified-only email/phone aliases, case-folded emails and preferred usernames,
exact phones) must still hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from harness.engine import indexes
from harness.engine.models import UserPool
from harness.server import Emulator
from tests.auth_support import PASSWORD, App, make_app, raises


class CountingDict(dict):  # type: ignore[type-arg]
    """A dict that counts how often it is walked whole (values/items/keys/iteration)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.walks = 0

    def values(self) -> Any:
        self.walks += 1
        return super().values()

    def items(self) -> Any:
        self.walks += 1
        return super().items()

    def keys(self) -> Any:
        self.walks += 1
        return super().keys()

    def __iter__(self) -> Iterator[Any]:
        self.walks += 1
        return super().__iter__()


def pool_of(app: App) -> UserPool:
    return app.backend.pools[app.pool_id]


def watch_users(app: App) -> CountingDict:
    pool = pool_of(app)
    pool.users = CountingDict(pool.users)
    return pool.users


def watch_sessions(app: App) -> CountingDict:
    pool = pool_of(app)
    pool.sessions = CountingDict(pool.sessions)
    return pool.sessions


def admin_user(app: App, username: str, **attributes: str) -> None:
    app.idp.admin_create_user(UserPoolId=app.pool_id, Username=username, MessageAction="SUPPRESS",
                              TemporaryPassword=PASSWORD,
                              UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()])
    app.idp.admin_set_user_password(UserPoolId=app.pool_id, Username=username, Password=PASSWORD, Permanent=True)


def listed(app: App, filter_: str) -> list[str]:
    return [u["Username"] for u in app.idp.list_users(UserPoolId=app.pool_id, Filter=filter_)["Users"]]


@pytest.fixture()
def alias_app(emulator: Emulator) -> App:
    emulator.backend.clock.freeze()
    return make_app(emulator, None, pool={"AliasAttributes": ["email", "phone_number", "preferred_username"]})


@pytest.fixture()
def email_app(emulator: Emulator) -> App:
    emulator.backend.clock.freeze()
    return make_app(emulator, None, pool={"UsernameAttributes": ["email"]})


def populate(app: App, n: int, **extra: str) -> None:
    for i in range(n):
        admin_user(app, f"user{i}", email=f"user{i}@example.com", email_verified="true",
                   phone_number=f"+1555000{i:04d}", phone_number_verified="true", preferred_username=f"Nick{i}",
                   **extra)


# --- users ----------------------------------------------------------------------------------------


def test_per_user_operations_do_not_walk_the_users(alias_app: App) -> None:
    app = alias_app
    populate(app, 30)
    users = watch_users(app)
    admin_user(app, "newbie", email="New@Example.com", email_verified="true", preferred_username="Fresh")
    app.password_auth("new@example.com")  # verified email alias, case-folded
    app.password_auth("fresh")  # preferred_username, case-folded
    app.password_auth("+15550000007")  # verified phone alias
    got = app.idp.admin_get_user(UserPoolId=app.pool_id, Username="nick3")
    assert got["Username"] == "user3"
    app.idp.admin_update_user_attributes(UserPoolId=app.pool_id, Username="user4",
                                         UserAttributes=[{"Name": "email", "Value": "moved@example.com"},
                                                         {"Name": "email_verified", "Value": "true"}])
    assert listed(app, 'email = "moved@example.com"') == ["user4"]
    assert listed(app, 'phone_number = "+15550000009"') == ["user9"]
    assert listed(app, 'preferred_username = "Nick5"') == ["user5"]
    assert listed(app, 'username = "user6"') == ["user6"]
    sub = next(a["Value"] for a in got["UserAttributes"] if a["Name"] == "sub")
    assert listed(app, f'sub = "{sub}"') == ["user3"]
    with raises("UsernameExistsException"):  # AdminCreateUser's form of AliasExistsException
        admin_user(app, "clash", email="user8@example.com", email_verified="true")
    assert users.walks == 0


def test_username_attribute_pool_creates_and_signs_in_without_walking(email_app: App) -> None:
    app = email_app
    for i in range(20):
        admin_user(app, f"person{i}@example.com")
    users = watch_users(app)
    admin_user(app, "Someone@Example.com")
    app.password_auth("someone@example.com")
    with raises("UsernameExistsException"):
        app.idp.admin_create_user(UserPoolId=app.pool_id, Username="PERSON3@example.com", MessageAction="SUPPRESS")
    assert listed(app, 'email = "person7@example.com"') == [
        u["Username"] for u in app.idp.list_users(UserPoolId=app.pool_id)["Users"]
        if {"Name": "email", "Value": "person7@example.com"} in u["Attributes"]
    ]
    assert users.walks == 1  # the unfiltered ListUsers just above, and nothing else


def test_prefix_and_unindexed_filters_still_scan_and_still_answer(alias_app: App) -> None:
    app = alias_app
    populate(app, 5, name="Same Name")
    assert listed(app, 'email ^= "user1"') == ["user1"]
    assert sorted(listed(app, 'name = "Same Name"')) == [f"user{i}" for i in range(5)]
    assert listed(app, 'email = "USER1@example.com"') == []  # ListUsers compares exactly, as before
    assert listed(app, 'cognito:user_status = "confirmed"') == [f"user{i}" for i in range(5)]


def test_alias_rules_are_unchanged(alias_app: App) -> None:
    app = alias_app
    admin_user(app, "ann", email="ann@example.com")  # unverified: no alias
    with raises("UserNotFoundException"):
        app.password_auth("ann@example.com")
    admin_user(app, "bob", email="ann@example.com", email_verified="true")  # takes the alias
    assert app.idp.admin_get_user(UserPoolId=app.pool_id, Username="ANN@example.com")["Username"] == "bob"
    with raises("AliasExistsException"):
        app.idp.admin_update_user_attributes(UserPoolId=app.pool_id, Username="ann",
                                             UserAttributes=[{"Name": "email_verified", "Value": "true"}])
    # two unverified holders of one email are both listed, in creation order
    admin_user(app, "cat", email="ann@example.com")
    assert listed(app, 'email = "ann@example.com"') == ["ann", "bob", "cat"]
    admin_user(app, "dan", phone_number="+15551234567", phone_number_verified="true")
    assert app.idp.admin_get_user(UserPoolId=app.pool_id, Username="+15551234567")["Username"] == "dan"
    assert indexes.consistent(pool_of(app))


def test_indexes_follow_every_mutation(alias_app: App) -> None:
    app = alias_app
    pool = pool_of(app)
    populate(app, 3)
    steps = [
        lambda: app.idp.admin_update_user_attributes(
            UserPoolId=app.pool_id, Username="user0",
            UserAttributes=[{"Name": "email", "Value": "zero@example.com"}, {"Name": "preferred_username",
                                                                                "Value": "Zero"}]),
        lambda: app.idp.admin_delete_user_attributes(UserPoolId=app.pool_id, Username="user1",
                                                     UserAttributeNames=["preferred_username", "phone_number"]),
        lambda: app.idp.admin_delete_user(UserPoolId=app.pool_id, Username="user2"),
        lambda: app.confirmed_user("eve", email="eve@example.com", preferred_username="Evie"),
    ]
    for step in steps:
        step()
        assert indexes.consistent(pool)
    with raises("UserNotFoundException"):
        app.idp.admin_get_user(UserPoolId=app.pool_id, Username="Nick0")  # the old alias is gone
    assert app.idp.admin_get_user(UserPoolId=app.pool_id, Username="zero")["Username"] == "user0"
    with raises("UserNotFoundException"):
        app.idp.admin_get_user(UserPoolId=app.pool_id, Username="nick1")
    with raises("UserNotFoundException"):
        app.idp.admin_get_user(UserPoolId=app.pool_id, Username="user2@example.com")
    assert listed(app, 'email = "user2@example.com"') == []
    assert app.idp.admin_get_user(UserPoolId=app.pool_id, Username="EVIE")["Username"] == "eve"
    # self-service change of a verified email, then its verification with the mailed code
    tokens = app.sign_in("eve")
    app.idp.update_user_attributes(AccessToken=tokens["AccessToken"],
                                   UserAttributes=[{"Name": "email", "Value": "eve2@example.com"}])
    assert indexes.consistent(pool)
    code = app.backend.mailbox.latest_code(to="eve2@example.com")
    app.idp.verify_user_attribute(AccessToken=tokens["AccessToken"], AttributeName="email", Code=code)
    assert indexes.consistent(pool)
    assert app.idp.admin_get_user(UserPoolId=app.pool_id, Username="EVE2@example.com")["Username"] == "eve"


def test_linked_identities_are_indexed(alias_app: App) -> None:
    app = alias_app
    app.idp.create_identity_provider(
        UserPoolId=app.pool_id, ProviderName="Corp", ProviderType="OIDC",
        ProviderDetails={"client_id": "c", "client_secret": "s", "attributes_request_method": "GET",
                         "oidc_issuer": "http://127.0.0.1:9/corp", "authorize_scopes": "openid",
                         "authorize_url": "http://127.0.0.1:9/a", "token_url": "http://127.0.0.1:9/t",
                         "attributes_url": "http://127.0.0.1:9/u", "jwks_uri": "http://127.0.0.1:9/j"})
    populate(app, 3)
    pool = pool_of(app)
    link = {"UserPoolId": app.pool_id, "DestinationUser": {"ProviderName": "Cognito", "ProviderAttributeValue": "user1"},
            "SourceUser": {"ProviderName": "Corp", "ProviderAttributeName": "Cognito_Subject",
                           "ProviderAttributeValue": "ext-42"}}
    users = watch_users(app)
    app.idp.admin_link_provider_for_user(**link)
    assert [u.username for u in indexes.linked_to(pool, "Corp", "ext-42")] == ["user1"]
    with raises("AliasExistsException", "The provided SourceUser is already linked to a user."):
        app.idp.admin_link_provider_for_user(**link)  # found through the index
    app.idp.admin_disable_provider_for_user(UserPoolId=app.pool_id, User={"ProviderName": "Corp",
                                                                          "ProviderAttributeValue": "ext-42"})
    assert indexes.linked_to(pool, "Corp", "ext-42") == []
    assert users.walks == 0
    assert indexes.consistent(pool)


def test_restore_rebuilds_the_indexes(alias_app: App) -> None:
    app = alias_app
    populate(app, 4)
    control = app.emulator.remote_control()
    snap = control.snapshot(include_secrets=True)
    control.restore(snap)
    pool = pool_of(app)
    assert indexes.consistent(pool) and len(pool.user_index.by_sub) == 4
    assert app.idp.admin_get_user(UserPoolId=app.pool_id, Username="user2@EXAMPLE.com")["Username"] == "user2"
    app.password_auth("nick3")


# --- sessions --------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["GlobalSignOut", "AdminUserGlobalSignOut", "AdminDisableUser", "AdminDeleteUser"])
def test_signing_a_user_out_touches_only_their_sessions(alias_app: App, how: str) -> None:
    app = alias_app
    populate(app, 3)
    mine = [app.sign_in("user0") for _ in range(3)]
    theirs = [app.sign_in(f"user{i % 2 + 1}") for i in range(10)]
    sessions = watch_sessions(app)
    if how == "GlobalSignOut":
        app.idp.global_sign_out(AccessToken=mine[0]["AccessToken"])
    elif how == "AdminUserGlobalSignOut":
        app.idp.admin_user_global_sign_out(UserPoolId=app.pool_id, Username="user0")
    elif how == "AdminDisableUser":
        app.idp.admin_disable_user(UserPoolId=app.pool_id, Username="user0")
    else:
        app.idp.admin_delete_user(UserPoolId=app.pool_id, Username="user0")
    assert sessions.walks == 0
    for tokens in mine:
        with raises("NotAuthorizedException"):
            app.idp.get_user(AccessToken=tokens["AccessToken"])
    for tokens in theirs:
        app.idp.get_user(AccessToken=tokens["AccessToken"])
    revoked = [s for s in pool_of(app).sessions.values() if s.revoked]
    assert len(revoked) == 3 and {s.username for s in revoked} == {"user0"}

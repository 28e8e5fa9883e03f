"""Every pool shape Cognito allows works in every check.

Test users are made to fit the pool's shape (read with DescribeUserPool): in an
email-username pool they sign in with their email and cognito:username is the
generated UUID, in a phone-username pool with a seeded E.164 number, in alias
pools with a handle whose verified email / phone / preferred_username also sign
in. The spec's tenancy attributes are added to any pool's schema, and a foreign
backend gets the pool in the spec's shape. The matrix at the end runs the bundled
reference app in every shape (fixtures/targets/shapes/) and expects the verdicts
of its own pool.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from harness.pooldef.shape import PoolShape
from harness.runner.backends import EmulatorBackend, PoolPlan, RemoteBackend
from harness.runner.context import ScenarioContext, claims_of
from harness.runner.scenario import Scenario
from harness.runner.spec import SpecError, TargetSpec, load_spec
from harness.runner.users import UserFactory
from scenarios._sessions import mailbox_code
from tests.spec_support import MINIMAL, TARGETS, write

SHAPES = TARGETS / "shapes"
SEED = 7
PHONE = re.compile(r"\+1555\d{7}")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# shape spec -> (what users sign in with, the aliases that also sign in, case-sensitive)
EXPECTED = {
    "username": ("handle", (), False),
    "email_username": ("email", (), False),
    "phone_username": ("phone", (), False),
    "email_phone_username": ("email", ("phone_number",), False),
    "aliases": ("handle", ("email", "phone_number", "preferred_username"), False),
    "case_sensitive": ("handle", ("email",), True),
}


def make_context(backend: EmulatorBackend | RemoteBackend, spec: TargetSpec,
                 scenario_id: str = "SHAPE") -> ScenarioContext:
    """A scenario context with no target: what a check has before it calls the app."""
    coords = backend.prepare(SEED, scenario_id)
    scenario = Scenario(id=scenario_id, family="shapes", title="pool shapes", severity="MUST", profile="baseline",
                        requirements=(), remediation="", fn=lambda ctx: None)
    return ScenarioContext(scenario=scenario, spec=spec, run_seed=SEED, pool=coords, backend=backend, target=None)


@pytest.fixture()
def emulator_backend() -> Iterator:
    made: list[EmulatorBackend] = []

    def start(spec: TargetSpec) -> EmulatorBackend:
        backend = EmulatorBackend(PoolPlan.for_spec(spec), SEED)
        backend.start()
        made.append(backend)
        return backend

    yield start
    for backend in made:
        backend.stop()


# --- the shape, and people made to fit it (no pool) -------------------------------------------------


def test_shape_from_describe_user_pool() -> None:
    shape = PoolShape.from_description({
        "UsernameAttributes": ["phone_number", "email"], "AutoVerifiedAttributes": ["phone_number"],
        "AccountRecoverySetting": {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 2},
                                                          {"Name": "verified_phone_number", "Priority": 1}]},
    })
    assert shape.sign_in_attribute == "email" and shape.uses_phone and shape.case_sensitive
    assert shape.recovery == ("verified_phone_number", "verified_email")
    assert shape.signup_code_attribute == "phone_number"
    assert PoolShape.from_description({"UsernameConfiguration": {"CaseSensitive": False}}).case_sensitive is False
    aliases = PoolShape(alias_attributes=("email", "preferred_username"), auto_verified_attributes=("email",))
    assert (aliases.sign_in_attribute, aliases.uses_phone, aliases.uses_preferred_username) == (None, False, True)
    assert aliases.signup_code_attribute == "email" and PoolShape().signup_code_attribute is None
    assert PoolShape(username_attributes=("email",), case_sensitive=False).describe() == \
        "email as username, case-insensitive"


@pytest.mark.parametrize(("shape", "kind"), [
    (PoolShape(), "handle"),
    (PoolShape(alias_attributes=("email", "phone_number", "preferred_username")), "handle"),
    (PoolShape(username_attributes=("email",)), "email"),
    (PoolShape(username_attributes=("phone_number",)), "phone"),
    (PoolShape(username_attributes=("email", "phone_number")), "email"),
])
def test_people_fit_the_shape_and_follow_the_seed(shape: PoolShape, kind: str) -> None:
    people = [UserFactory(11, shape).make() for _ in range(2)]
    assert people[0] == people[1]  # same seed, same person
    plain = UserFactory(11).make()
    person = people[0]
    # the person is the same in every shape; only what they sign in with changes
    assert (person.handle, person.email, person.phone_number, person.password) == \
        (plain.handle, plain.email, plain.phone_number, plain.password)
    assert PHONE.fullmatch(person.phone_number)
    assert person.username == {"handle": person.handle, "email": person.email, "phone": person.phone_number}[kind]
    values = person.values()
    assert values["username"] == person.username and values["phone_number"] == person.phone_number
    attrs = UserFactory(11, shape).pool_attributes(person)
    assert attrs["email"] == person.email and attrs["email_verified"] == "true"
    assert ("phone_number" in attrs) == shape.uses_phone
    assert ("preferred_username" in attrs) == shape.uses_preferred_username
    second = UserFactory(11, shape)
    second.make()
    assert second.make().phone_number != person.phone_number  # distinct people get distinct numbers


def test_overriding_the_email_changes_the_sign_in_name_in_an_email_pool() -> None:
    email_pool = UserFactory(3, PoolShape(username_attributes=("email",)))
    assert email_pool.make(email="x@example.com").username == "x@example.com"
    assert UserFactory(3).make(email="x@example.com").username != "x@example.com"
    assert email_pool.make(username="chosen").username == "chosen"


# --- users in each shape, in the emulator -----------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_users_fit_each_pool_shape_and_every_admin_call_takes_their_username(emulator_backend, name: str) -> None:
    kind, aliases, case_sensitive = EXPECTED[name]
    spec = load_spec(SHAPES / f"{name}.toml")
    ctx = make_context(emulator_backend(spec), spec)
    assert ctx.pool_shape.case_sensitive is case_sensitive
    user = ctx.user(groups=["tenant-acme-member"])
    if kind == "handle":
        assert user.username == user.handle == user.pool_username
    else:
        assert user.username == (user.email if kind == "email" else user.phone_number)
        assert UUID.fullmatch(user.pool_username) and user.pool_username == user.sub
    claims = claims_of(ctx.sign_in(user).access_token)
    assert (claims["username"], claims["sub"]) == (user.pool_username, user.sub)
    # every alias the shape has signs in too (the app's client takes USER_PASSWORD_AUTH)
    for alias in aliases:
        name_for = {"email": user.email, "phone_number": user.phone_number,
                    "preferred_username": user.preferred_username}[alias]
        result = ctx.idp.initiate_auth(ClientId=ctx.pool.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                       AuthParameters={"USERNAME": name_for, "PASSWORD": user.password})
        assert claims_of(result["AuthenticationResult"]["AccessToken"])["sub"] == user.sub, alias
        # admin operations take an alias as Username too (Cognito API: AdminGetUser Username)
        found = ctx.idp.admin_get_user(UserPoolId=ctx.pool.pool_id, Username=name_for)
        assert found["Username"] == user.pool_username, alias
    if kind == "handle":  # case folding applies to usernames (emails are case-insensitive anyway)
        if case_sensitive:
            with pytest.raises(ClientError, match="UserNotFoundException"):
                ctx.idp.admin_get_user(UserPoolId=ctx.pool.pool_id, Username=user.username.upper())
        else:
            ctx.idp.admin_get_user(UserPoolId=ctx.pool.pool_id, Username=user.username.upper())
    # what the checks do with Username=user.username (scenarios/*.py) works in every shape
    assert ctx.control.mint(ctx.pool.pool_id, user.username)
    ctx.api("AdminRemoveUserFromGroup", Username=user.username, GroupName="tenant-acme-member")
    ctx.api("AdminAddUserToGroup", Username=user.username, GroupName="tenant-acme-admin")
    ctx.api("AdminUpdateUserAttributes", Username=user.username,
            UserAttributes=[{"Name": "custom:tenant_id", "Value": "acme"}])
    ctx.api("AdminUserGlobalSignOut", Username=user.username)
    ctx.api("AdminDisableUser", Username=user.username)
    ctx.api("AdminEnableUser", Username=user.username)
    got = ctx.api("AdminGetUser", Username=user.username)
    assert got["Username"] == user.pool_username
    ctx.api("AdminDeleteUser", Username=user.username)


@pytest.mark.parametrize(("name", "channel"), [("email_username", "EMAIL"), ("phone_username", "SMS"),
                                                ("aliases", "EMAIL")])
def test_sign_up_codes_reach_the_person_where_the_pool_sends_them(emulator_backend, name: str, channel: str) -> None:
    spec = load_spec(SHAPES / f"{name}.toml")
    ctx = make_context(emulator_backend(spec), spec)
    person = ctx.users.make()
    attributes = [{"Name": "email", "Value": person.email}]
    if ctx.pool_shape.uses_phone:
        attributes.append({"Name": "phone_number", "Value": person.phone_number})
    ctx.idp.sign_up(ClientId=ctx.pool.client_id, Username=person.username, Password=person.password,
                    UserAttributes=attributes)
    code = mailbox_code(ctx, person)
    sent = ctx.control.messages(purpose=None)[-1]
    assert (sent["channel"], sent["code"]) == (channel, code)
    ctx.idp.confirm_sign_up(ClientId=ctx.pool.client_id, Username=person.username, ConfirmationCode=code)


# --- the spec's tenancy attributes land in any pool's schema ----------------------------------------

TENANT_ATTRIBUTE = """
[tenancy]
model = "attribute"
attribute = "custom:org"
admin_attribute = "custom:org_role"
"""


def _custom(idp, pool_id: str) -> set[str]:  # noqa: ANN001
    schema = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["SchemaAttributes"]
    return {a["Name"] for a in schema if a["Name"].startswith("custom:")}


@pytest.mark.parametrize("pool", ["", '\n[pool]\nusername_attributes = ["email"]\n',
                                  '\n[pool]\ndefinition = "{shapes}/../../pools/default.toml"\n'])
def test_tenancy_attributes_are_added_to_the_pool(tmp_path: Path, emulator_backend, pool: str) -> None:
    spec = load_spec(write(tmp_path, MINIMAL + TENANT_ATTRIBUTE + pool.format(shapes=SHAPES)))
    ctx = make_context(emulator_backend(spec), spec)
    assert {"custom:org", "custom:org_role"} <= _custom(ctx.idp, ctx.pool.pool_id)
    admin = ctx.tenant_user("acme", admin=True)
    got = ctx.api("AdminGetUser", Username=admin.username)
    attrs = {a["Name"]: a["Value"] for a in got["UserAttributes"]}
    assert (attrs["custom:org"], attrs["custom:org_role"]) == ("acme", "admin")


# --- a foreign backend gets the pool in the spec's shape --------------------------------------------


def test_a_remote_backend_gets_the_spec_pool_shape_and_tenancy_attributes(tmp_path: Path, moto_server: str) -> None:
    text = (SHAPES / "email_username.toml").read_text().replace('extends = "username.toml"',
                                                                 f'extends = "{SHAPES / "username.toml"}"')
    spec = load_spec(write(tmp_path, text + TENANT_ATTRIBUTE))
    backend = RemoteBackend(moto_server, PoolPlan.for_spec(spec))
    backend.start()
    ctx = make_context(backend, spec)
    described = ctx.idp.describe_user_pool(UserPoolId=ctx.pool.pool_id)["UserPool"]
    assert described["UsernameAttributes"] == ["email"]
    assert described["UsernameConfiguration"] == {"CaseSensitive": False}
    assert {"custom:org", "custom:org_role"} <= _custom(ctx.idp, ctx.pool.pool_id)
    member = ctx.tenant_user("acme")
    assert member.username == member.email and member.pool_username != member.email
    assert ctx.sign_in(member).access_token
    ctx.api("AdminUserGlobalSignOut", Username=member.username)


# --- inline [pool] errors name the spec file and the key ---------------------------------------------


@pytest.mark.parametrize(("pool", "key", "expected"), [
    ('usernme_attributes = ["email"]', "[pool].usernme_attributes", "one of the known keys"),
    ('username_attributes = "email"', "[pool].username_attributes", "a list of strings"),
    ('username_attributes = ["email"]\nalias_attributes = ["email"]', "[pool]", "CreateUserPool refused it"),
    ('username_attributes = ["nickname"]', "[pool]", "CreateUserPool refused it"),
    ('mfa = "SOMETIMES"', "[pool].mfa", "one of OFF, ON, OPTIONAL"),
    ('[pool.password_policy]\nminimum_length = "8"', "[pool.password_policy].minimum_length", "an integer"),
    ('[pool.clients.web]\ngenerate_secret = "yes"', "[pool.clients.web].generate_secret", "true or false"),
    ('[[pool.groups]]\ndescription = "no name"', "[pool.groups[0]].name", "required"),
    ('[[pool.custom_attributes]]\nname = "custom:org"', "[pool.custom_attributes[0]].name", 'without the "custom:"'),
    ('username_attributes = ["email"]\n[[pool.users]]\nusername = "ana"\npassword = "Ana-Passw0rd!"',
     "[pool.users[0]].username", "Username should be an email"),
    ('client = "mobile"\n[pool.clients.web]', "[pool].client", "one of the pool's clients (web)"),
    ('client = "web"\nusername_attributes = ["email"]', "[pool].client", "one of the pool's clients (app)"),
    ('definition = "nowhere.toml"\nusername_attributes = ["email"]', "[pool].definition", "file not found"),
])
def test_inline_pool_errors_name_the_spec_file_and_key(tmp_path: Path, pool: str, key: str, expected: str) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(write(tmp_path, MINIMAL + "\n[pool]\n" + pool + "\n"))
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'spec.toml'}: {key}: expected "), message
    assert expected in message, message
    assert info.value.key == key


def test_a_bad_key_in_the_named_definition_file_is_named_there(tmp_path: Path) -> None:
    write(tmp_path, '[pool]\nname = "p"\nmfa = "NEVER"\n', "pool.toml")
    with pytest.raises(SpecError) as info:
        load_spec(write(tmp_path, MINIMAL + '\n[pool]\ndefinition = "pool.toml"\nusername_attributes = ["email"]\n'))
    assert info.value.key == "[pool].definition"
    assert "pool.toml: pool.mfa: expected one of OFF, ON, OPTIONAL" in str(info.value)


def test_inline_keys_layer_over_the_named_definition(tmp_path: Path, emulator_backend) -> None:
    spec = load_spec(SHAPES / "email_username.toml")
    assert spec.pool.definition and spec.pool.inline == {"alias_attributes": [], "username_attributes": ["email"]}
    ctx = make_context(emulator_backend(spec), spec)
    described = ctx.idp.describe_user_pool(UserPoolId=ctx.pool.pool_id)["UserPool"]
    assert described["UsernameAttributes"] == ["email"] and "AliasAttributes" not in described
    # the definition file's clients stay: the app is its client "web", with refresh-token rotation
    client = ctx.idp.describe_user_pool_client(UserPoolId=ctx.pool.pool_id, ClientId=ctx.pool.client_id)
    assert client["UserPoolClient"]["ClientName"] == "web"
    assert client["UserPoolClient"]["RefreshTokenRotation"]["Feature"] == "ENABLED"


def test_an_inline_pool_without_clients_gets_a_public_app_client(tmp_path: Path, emulator_backend) -> None:
    spec = load_spec(write(tmp_path, MINIMAL + '\n[pool]\nusername_attributes = ["phone_number"]\n'))
    ctx = make_context(emulator_backend(spec), spec)
    client = ctx.idp.describe_user_pool_client(UserPoolId=ctx.pool.pool_id, ClientId=ctx.pool.client_id)
    assert client["UserPoolClient"]["ClientName"] == "app" and "ClientSecret" not in client["UserPoolClient"]
    assert ctx.pool.other_client_id and ctx.pool.other_client_id != ctx.pool.client_id
    user = ctx.user()
    assert PHONE.fullmatch(user.username) and ctx.sign_in(user).access_token


# --- the matrix: the reference app in every shape, the verdicts of its own pool ----------------------

# checks whose precondition a shape does not meet, with the reason they SKIP there
SHAPE_SKIPS = {
    "email_username": {"FED-UNVERIFIED-NATIVE": "the email is unique in this pool"},
    "email_phone_username": {"FED-UNVERIFIED-NATIVE": "the email is unique in this pool"},
    "phone_username": {"MAIL-DAILY-LIMIT": "the pool sends sign-up codes by SMS"},
}
# the shapes the matrix runs the whole catalogue in (username.toml and email_phone_username.toml are
# covered by the user-making tests above; run them by hand with `cognito-harness run --target ...`)
MATRIX = ("email_username", "phone_username", "aliases", "case_sensitive")
PROCESSES = 2


def _verdicts(path: str) -> tuple[str, dict[str, tuple[str, str]], float]:
    from harness.runner.engine import RunOptions, run

    started = time.monotonic()
    result = run(load_spec(path), RunOptions(seed=SEED))
    return (Path(path).stem, {r.check_id: (r.verdict.name, r.reason) for r in result.results},
            round(time.monotonic() - started, 1))


def _run_chunk(paths: list[str]) -> list[tuple[str, dict[str, tuple[str, str]], float]]:
    """One worker process: the first run alone (it makes the seeded signing keys the process caches, so
    the others do not make them again concurrently), the rest in threads (a run waits on its app)."""
    first = _verdicts(paths[0])
    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        return [first, *pool.map(_verdicts, paths[1:])]


@pytest.fixture(scope="module")
def matrix() -> dict[str, dict[str, tuple[str, str]]]:
    runs = [str(TARGETS / "reference.toml"), *(str(SHAPES / f"{name}.toml") for name in MATRIX)]
    chunks = [runs[i::PROCESSES] for i in range(PROCESSES)]
    started = time.monotonic()
    with ProcessPoolExecutor(max_workers=PROCESSES, mp_context=multiprocessing.get_context("spawn")) as pool:
        done = [row for chunk in pool.map(_run_chunk, chunks) for row in chunk]
    runs = ", ".join(f"{stem} {seconds}s" for stem, _, seconds in done)
    sys.stderr.write(f"\npool-shape matrix: {len(done)} runs in {time.monotonic() - started:.1f}s on "
                     f"{os.cpu_count()} CPUs ({runs})\n")
    return {stem: verdicts for stem, verdicts, _ in done}


@pytest.mark.parametrize("name", MATRIX)
def test_the_reference_app_gets_its_own_verdicts_in_every_pool_shape(matrix: dict, name: str) -> None:
    default, shaped = matrix["reference"], matrix[name]
    assert set(shaped) == set(default)
    errors = {i: v for i, v in shaped.items() if v[0] == "ERROR"}
    assert not errors, errors
    failed = {i for i, v in shaped.items() if v[0] == "FAIL"}
    assert failed == {i for i, v in default.items() if v[0] == "FAIL"}, failed
    expected_skips = SHAPE_SKIPS.get(name, {})
    for check_id, (verdict, reason) in shaped.items():
        if check_id in expected_skips:
            assert verdict == "SKIP" and expected_skips[check_id] in reason, (check_id, verdict, reason)
        else:
            assert verdict == default[check_id][0], (check_id, verdict, reason)

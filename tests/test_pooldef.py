"""Pool definitions: the default pool as an app sees it, and errors that name file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.engine.store import Backend
from harness.pooldef import PoolDefinitionError, default_pool_path, load_pool
from harness.server import Emulator


def test_default_pool_through_the_api(emulator: Emulator, idp) -> None:  # noqa: ANN001
    handle = load_pool(emulator.backend)
    assert handle.source == str(default_pool_path()) and default_pool_path().is_file()
    pool = idp.describe_user_pool(UserPoolId=handle.pool_id)["UserPool"]
    assert pool["Name"] == "harness-default" and pool["AliasAttributes"] == ["email"]
    assert pool["AutoVerifiedAttributes"] == ["email"]
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 8
    schema = {a["Name"]: a for a in pool["SchemaAttributes"]}
    assert schema["custom:tenant"]["AttributeDataType"] == "String" and "custom:role" in schema

    groups = {g["GroupName"]: g for g in idp.list_groups(UserPoolId=handle.pool_id)["Groups"]}
    assert set(groups) == {"admins", "tenant-acme-admin", "tenant-acme-member", "tenant-globex-admin",
                           "tenant-globex-member"}
    assert groups["admins"]["Precedence"] == 1 and groups["tenant-acme-admin"]["Description"].endswith("acme")

    web = idp.describe_user_pool_client(UserPoolId=handle.pool_id, ClientId=handle.clients["web"].client_id)
    web = web["UserPoolClient"]
    assert "ClientSecret" not in web and web["EnableTokenRevocation"] is True
    assert set(web["ExplicitAuthFlows"]) == {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH",
                                             "ALLOW_REFRESH_TOKEN_AUTH"}
    assert web["CallbackURLs"][0].startswith("http://localhost") and web["AllowedOAuthFlows"] == ["code"]
    server = idp.describe_user_pool_client(UserPoolId=handle.pool_id, ClientId=handle.clients["server"].client_id)
    assert server["UserPoolClient"]["ClientSecret"] == handle.clients["server"].client_secret
    assert handle.client.name == "web"

    # seed users: known passwords, groups, email alias sign-in, an invited user
    alice = handle.users["alice"]
    result = idp.initiate_auth(ClientId=handle.client.client_id, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": alice.email, "PASSWORD": alice.password})
    assert result["AuthenticationResult"]["AccessToken"]
    listed = idp.admin_list_groups_for_user(UserPoolId=handle.pool_id, Username="alice")["Groups"]
    assert {g["GroupName"] for g in listed} == set(alice.groups)
    erin = idp.admin_get_user(UserPoolId=handle.pool_id, Username="erin")
    assert erin["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    challenge = idp.initiate_auth(ClientId=handle.client.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                  AuthParameters={"USERNAME": "erin", "PASSWORD": handle.users["erin"].password})
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    generated = [u for u in handle.users.values() if u.generated]
    assert len(generated) == 4
    assert {u.attributes["custom:tenant"] for u in generated} == {"acme", "globex"}
    assert all(u.groups == [f"tenant-{u.attributes['custom:tenant']}-member"] for u in generated)


def test_generated_users_follow_the_seed() -> None:
    def names(seed: int) -> list[str]:
        handle = load_pool(Backend(seed=seed))
        return [u.username for u in handle.users.values() if u.generated]

    assert names(5) == names(5)
    assert names(5) != names(6)


def test_statuses_and_disabled_users(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('''
[pool]
auto_verified_attributes = ["email"]
[clients.app]
[[users]]
username = "newbie"
password = "Newbie-Passw0rd!"
email = "newbie@example.com"
status = "UNCONFIRMED"
[[users]]
username = "gone"
password = "Gone-Passw0rd!"
enabled = false
''')
    backend = Backend(seed=2)
    handle = load_pool(backend, path, issuer="aws")
    pool = backend.pool(handle.pool_id)
    assert pool.users["newbie"].status == "UNCONFIRMED"
    assert backend.mailbox.latest_code("newbie@example.com", "SIGN_UP")
    assert pool.users["gone"].enabled is False
    assert handle.issuer == f"https://cognito-idp.us-east-1.amazonaws.com/{handle.pool_id}"


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ('[pool]\nnmae = "x"\n', "pool.nmae", "unknown key"),
        ('[pool]\nname = 5\n', "pool.name", "expected a string"),
        ('[pool]\nissuer = "google"\n', "pool.issuer", "expected one of local, aws"),
        ('[pool.password_policy]\nminimum_length = "eight"\n', "pool.password_policy.minimum_length",
         "expected an integer"),
        ('[[pool.custom_attributes]]\nname = "custom:x"\n', "pool.custom_attributes[0].name", "without"),
        ('[[pool.custom_attributes]]\nname = "x"\ntype = "Blob"\n', "pool.custom_attributes[0].type",
         "expected one of"),
        ('[[groups]]\nname = "t-{tenant}"\n', "groups[0].name", "[tenants].names"),
        ('[clients.web]\nexplicit_auth_flows = "ALLOW_USER_PASSWORD_AUTH"\n', "clients.web.explicit_auth_flows",
         "list of strings"),
        ('[clients.web]\nexplicit_auth_flows = ["ALLOW_EVERYTHING"]\n', "clients.web", "CreateUserPoolClient"),
        ('[[users]]\npassword = "Passw0rd!"\n', "users[0].username", "required key is missing"),
        ('[[users]]\nusername = "u"\npassword = "short"\n', "users[0].password", "InvalidPasswordException"),
        ('[[users]]\nusername = "u"\npassword = "Passw0rd!x"\ngroups = ["nope"]\n', "users[0].groups",
         "ResourceNotFoundException"),
        ('[[users]]\nusername = "u"\npassword = "Passw0rd!x"\nattributes = { colour = "blue" }\n',
         "users[0].username", "AdminCreateUser"),
        ('[[users]]\nusername = "u"\n', "users[0].password", "required for a CONFIRMED user"),
        ('generated_users = -1\n', "generated_users", ">= 0"),
        ('generated_users = 1\ngenerated_groups = ["ghosts"]\n', "generated_groups", "not defined"),
        ('[pool\n', "", "not valid TOML"),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, text: str, key: str, expected: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(PoolDefinitionError) as caught:
        load_pool(Backend(seed=1), path)
    error = caught.value
    assert error.file == str(path) and error.key == key, str(error)
    assert expected in str(error) and str(error).startswith(str(path))


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(PoolDefinitionError, match="file not found") as caught:
        load_pool(Backend(seed=1), tmp_path / "absent.toml")
    assert caught.value.file.endswith("absent.toml")


# --- pools whose username is the email or the phone ------------------------------------------------

SIGN_IN_POOLS = '''
generated_users = 2
generated_groups = ["members"]

[pool]
username_attributes = [{attributes}]
auto_verified_attributes = ["email"]

[clients.web]
explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

[[groups]]
name = "members"

[[users]]
username = "{seed_user}"
password = "Ana-Passw0rd!"
groups = ["members"]

[[users]]
username = "{pending}"
password = "Ben-Passw0rd!"
status = "UNCONFIRMED"
email = "ben@example.com"
'''


@pytest.mark.parametrize(("attributes", "seed_user", "pending", "sign_in"), [
    ('"email"', "ana@example.com", "ben@example.com", "email"),
    ('"phone_number"', "+15550100001", "+15550100002", "phone_number"),
])
def test_users_of_email_and_phone_username_pools(tmp_path: Path, attributes: str, seed_user: str, pending: str,
                                                 sign_in: str) -> None:
    """Seed users are named by their email/phone, generated people get theirs; the pool's username is a UUID."""
    path = tmp_path / "p.toml"
    path.write_text(SIGN_IN_POOLS.format(attributes=attributes, seed_user=seed_user, pending=pending))
    backend = Backend(seed=3)
    handle = load_pool(backend, path)
    ana = handle.user(seed_user)
    assert ana.pool_username == ana.sub != seed_user and ana.groups == ["members"]
    assert ana.attributes[sign_in] == seed_user
    assert handle.user(pending).status == "UNCONFIRMED" and handle.user(pending).pool_username
    generated = [u for u in handle.users.values() if u.generated]
    assert len(generated) == 2
    for person in generated:
        assert person.username == (person.email if sign_in == "email" else person.phone_number)
        assert person.pool_username == person.sub and person.groups == ["members"]
    pool = backend.pool(handle.pool_id)
    assert {u.username for u in pool.users.values()} == {u.pool_username for u in handle.users.values()}

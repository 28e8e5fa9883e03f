"""The pytest plugin (entry point ``cognito_harness``), exercised the way a user's suite uses it."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest_plugins = ["pytester"]

USER_TESTS = '''
import jwt
import pytest


def verify(pool, token):
    key = jwt.PyJWKClient(pool.jwks_url, cache_jwk_set=False).get_signing_key_from_jwt(token).key
    return jwt.decode(token, key, algorithms=["RS256"], issuer=pool.issuer)


def test_pool_is_ready(cognito_pool, cognito_idp):
    assert cognito_pool.idp is cognito_idp
    assert cognito_pool.client_secret is None and cognito_pool.clients["server"].client_secret
    tokens = cognito_pool.sign_in("alice")
    claims = verify(cognito_pool, tokens["AccessToken"])
    assert claims["client_id"] == cognito_pool.client_id and claims["username"] == "alice"
    server_tokens = cognito_pool.sign_in("bob", client="server")   # SECRET_HASH computed
    assert verify(cognito_pool, server_tokens["AccessToken"])["username"] == "bob"
    assert cognito_idp.get_user(AccessToken=tokens["AccessToken"])["Username"] == "alice"
    assert cognito_pool.url.startswith("http://127.0.0.1:")
    assert cognito_pool.jwks_url == f"{cognito_pool.issuer}/.well-known/jwks.json"


def test_state_is_fresh_a(cognito_pool, cognito_idp):
    cognito_idp.admin_delete_user(UserPoolId=cognito_pool.pool_id, Username="bob")


def test_state_is_fresh_b(cognito_pool, cognito_idp):
    users = {u["Username"] for u in cognito_idp.list_users(UserPoolId=cognito_pool.pool_id)["Users"]}
    assert "bob" in users                      # deleted by the previous test, back again


def test_clock(cognito_pool, cognito_clock, cognito_idp):
    cognito_clock.freeze()
    tokens = cognito_pool.sign_in("carol")
    cognito_clock.advance(3600)
    with pytest.raises(cognito_idp.exceptions.NotAuthorizedException):
        cognito_idp.get_user(AccessToken=tokens["AccessToken"])


def test_clock_is_real_again(cognito_control):
    assert cognito_control.clock()["mode"] == "real"


def test_mailbox(cognito_pool, cognito_mailbox, cognito_idp):
    cognito_idp.sign_up(ClientId=cognito_pool.client_id, Username="zed", Password="Zed-Passw0rd!",
                        UserAttributes=[{"Name": "email", "Value": "zed@example.com"}])
    code = cognito_mailbox.latest_code("zed@example.com")
    assert cognito_mailbox.latest("zed@example.com")["purpose"] == "SIGN_UP"
    cognito_idp.confirm_sign_up(ClientId=cognito_pool.client_id, Username="zed", ConfirmationCode=code)
    assert cognito_mailbox.clear() == 1 and len(cognito_mailbox) == 0


def test_faults(cognito_pool, cognito_faults, cognito_idp):
    cognito_faults.arm("throttle", operation="ListUsers")
    with pytest.raises(cognito_idp.exceptions.TooManyRequestsException):
        cognito_idp.list_users(UserPoolId=cognito_pool.pool_id)
    assert len(cognito_faults.list()) == 1


def test_faults_are_cleared(cognito_control):
    assert cognito_control.faults() == []


def test_control_mint(cognito_pool, cognito_control):
    token = cognito_control.mint(cognito_pool.pool_id, "dave", sign_with="foreign")
    with pytest.raises(jwt.InvalidSignatureError):
        verify(cognito_pool, token)


def test_seed_fixes_ids(cognito_pool, pytestconfig):
    print("POOL_ID", cognito_pool.pool_id, cognito_pool.client_id)
'''


def test_fixtures_in_a_user_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s", "-q")
    result.assert_outcomes(passed=10)
    first = _ids(result)
    again = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s", "-q", "-k", "seed_fixes")
    assert first and _ids(again) == first
    other = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s", "-q", "-k", "seed_fixes",
                                          "--cognito-seed", "7")
    assert _ids(other) and _ids(other) != first


def _ids(result: pytest.RunResult) -> list[str]:
    """The pool and client ids printed by test_seed_fixes_ids."""
    return [line.split("POOL_ID", 1)[1].strip() for line in result.outlines if "POOL_ID" in line]


def test_custom_pool_definition_option(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", mypool='''
[pool]
name = "tiny"
[clients.only]
explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
[[users]]
username = "solo"
password = "Solo-Passw0rd!"
''')
    pytester.makepyfile(test_tiny='''
def test_tiny(cognito_pool):
    assert list(cognito_pool.clients) == ["only"] and list(cognito_pool.users) == ["solo"]
    assert cognito_pool.sign_in("solo")["AccessToken"]
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--cognito-pool", "mypool.toml")
    result.assert_outcomes(passed=1)


def test_options_are_listed_in_help(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")
    for pattern in ("*cognito-harness*", "*--cognito-seed*", "*--cognito-pool*"):
        result.stdout.fnmatch_lines([pattern])


def test_importing_the_plugin_starts_nothing() -> None:
    code = (
        "import sys, harness.pytest.plugin as p; "
        "heavy = [m for m in ('harness.server', 'boto3', 'harness.engine.store', 'faker') if m in sys.modules]; "
        "print(heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"

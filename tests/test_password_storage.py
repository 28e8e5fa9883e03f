"""Passwords are stored with a real password hash (PBKDF2-HMAC-SHA256), never one SHA-256.

Every test goes through the emulator over HTTP with boto3 (or raw JSON where boto3 cannot
send the value) and then reads what the pool stored, recomputing the hash independently.
"""

from __future__ import annotations

import hashlib
import hmac

import pytest
import requests
from botocore.exceptions import ClientError

from harness.engine import passwords
from harness.engine.models import User
from harness.server import Emulator

PASSWORD = "Passw0rd!"


@pytest.fixture()
def pool(emulator: Emulator, idp) -> tuple[str, str]:  # noqa: ANN001 - boto3 client type is dynamic
    policy = {"MinimumLength": 8, "RequireUppercase": False, "RequireLowercase": False, "RequireNumbers": False,
              "RequireSymbols": False, "PasswordHistorySize": 2}
    pool_id = idp.create_user_pool(PoolName="hashing", Policies={"PasswordPolicy": policy})["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="web",
                                            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH",
                                                               "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    return pool_id, client_id


def _user(emulator: Emulator, pool_id: str, username: str) -> User:
    with emulator.backend.transaction():
        pool = emulator.backend.pools[pool_id]
        return pool.users[pool.user_key(username)]


def _make_user(idp, pool_id: str, username: str, password: str = PASSWORD) -> None:  # noqa: ANN001
    idp.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=password, Permanent=True)


def _sign_in(idp, client_id: str, username: str, password: str) -> dict:  # noqa: ANN001
    return idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": username, "PASSWORD": password})


def _pbkdf2_fields(encoded: str) -> tuple[str, int, bytes, bytes]:
    scheme, iterations, salt, digest = encoded.split("$")
    return scheme, int(iterations), bytes.fromhex(salt), bytes.fromhex(digest)


def test_stored_hash_is_pbkdf2_sha256_and_self_describing(emulator: Emulator, idp, pool) -> None:  # noqa: ANN001
    pool_id, client_id = pool
    _make_user(idp, pool_id, "ann")
    stored = _user(emulator, pool_id, "ann").password_hash
    assert stored is not None and PASSWORD not in stored
    scheme, iterations, salt, digest = _pbkdf2_fields(stored)
    assert scheme == "pbkdf2-sha256" and iterations == passwords.PBKDF2_ITERATIONS >= 1000
    assert len(salt) == 16 and len(digest) == 32
    # recomputed here with the stdlib: exactly PBKDF2-HMAC-SHA256 over the UTF-8 password
    assert hmac.compare_digest(hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), salt, iterations), digest)
    # and not the old single SHA-256 under any salt arrangement
    assert digest != hashlib.sha256(salt.hex().encode() + b"\x00" + PASSWORD.encode()).digest()
    assert _sign_in(idp, client_id, "ann", PASSWORD)["AuthenticationResult"]["AccessToken"]
    with pytest.raises(ClientError) as wrong:
        _sign_in(idp, client_id, "ann", PASSWORD + "x")
    assert wrong.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_same_password_different_users_different_salts(emulator: Emulator, idp, pool) -> None:  # noqa: ANN001
    pool_id, _ = pool
    _make_user(idp, pool_id, "ann")
    _make_user(idp, pool_id, "bob")
    ann = _pbkdf2_fields(_user(emulator, pool_id, "ann").password_hash or "")
    bob = _pbkdf2_fields(_user(emulator, pool_id, "bob").password_hash or "")
    assert ann[2] != bob[2] and ann[3] != bob[3]


def test_history_entries_use_the_same_hash_and_still_refuse_reuse(emulator: Emulator, idp, pool) -> None:  # noqa: ANN001
    pool_id, client_id = pool
    _make_user(idp, pool_id, "cat")
    token = _sign_in(idp, client_id, "cat", PASSWORD)["AuthenticationResult"]["AccessToken"]
    idp.change_password(AccessToken=token, PreviousPassword=PASSWORD, ProposedPassword="second-pass")
    history = _user(emulator, pool_id, "cat").password_history
    assert len(history) == 2 and all(entry.startswith("pbkdf2-sha256$") for entry in history)
    with pytest.raises(ClientError) as reused:
        idp.change_password(AccessToken=token, PreviousPassword="second-pass", ProposedPassword=PASSWORD)
    assert reused.value.response["Error"]["Code"] == "PasswordHistoryPolicyViolationException"


def test_other_parameters_in_a_stored_hash_still_verify(emulator: Emulator, idp, pool) -> None:  # noqa: ANN001
    """The cost is read from the stored string, so it can change without breaking old passwords."""
    pool_id, client_id = pool
    _make_user(idp, pool_id, "dan")
    user = _user(emulator, pool_id, "dan")
    with emulator.backend.transaction():
        user.password_hash = passwords.hash_password("older-cost", "00" * 16, iterations=2500)
    assert _user(emulator, pool_id, "dan").password_hash.split("$")[1] == "2500"  # type: ignore[union-attr]
    assert _sign_in(idp, client_id, "dan", "older-cost")["AuthenticationResult"]["IdToken"]


def test_a_hash_from_an_older_version_verifies_once_and_is_upgraded(emulator: Emulator, idp, pool) -> None:  # noqa: ANN001
    """A restored snapshot from before PBKDF2 (salt apart, one SHA-256) keeps working and is re-hashed."""
    pool_id, client_id = pool
    _make_user(idp, pool_id, "eve")
    user = _user(emulator, pool_id, "eve")
    salt = "ab" * 16
    with emulator.backend.transaction():
        user.password_salt = salt
        user.password_hash = hashlib.sha256(f"{salt}\x00old-secret".encode()).hexdigest()
        user.password_history = [f"{salt}${user.password_hash}"]
    with pytest.raises(ClientError):
        _sign_in(idp, client_id, "eve", "not-it")
    assert _user(emulator, pool_id, "eve").password_hash == hashlib.sha256(f"{salt}\x00old-secret".encode()).hexdigest()
    assert _sign_in(idp, client_id, "eve", "old-secret")["AuthenticationResult"]["AccessToken"]
    upgraded = _user(emulator, pool_id, "eve")
    assert upgraded.password_hash is not None and upgraded.password_hash.startswith("pbkdf2-sha256$")
    assert upgraded.password_salt == ""
    assert _sign_in(idp, client_id, "eve", "old-secret")["AuthenticationResult"]["AccessToken"]
    # the old-format history entry still counts for reuse
    token = _sign_in(idp, client_id, "eve", "old-secret")["AuthenticationResult"]["AccessToken"]
    with pytest.raises(ClientError) as reused:
        idp.change_password(AccessToken=token, PreviousPassword="old-secret", ProposedPassword="old-secret")
    assert reused.value.response["Error"]["Code"] == "PasswordHistoryPolicyViolationException"


@pytest.mark.parametrize("stored", [
    "pbkdf2-sha256$0$" + "00" * 16 + "$" + "00" * 32,            # no iterations
    "pbkdf2-sha256$99999999999$" + "00" * 16 + "$" + "00" * 32,  # a cost that would hang the server
    "pbkdf2-sha256$1000$not-hex$" + "00" * 32,
    "pbkdf2-sha256$-5$" + "00" * 16 + "$" + "00" * 32,
    "md5$1000$00$00",
    "",
])
def test_a_malformed_stored_hash_never_matches_and_never_500s(emulator: Emulator, idp, pool, stored: str) -> None:  # noqa: ANN001
    pool_id, client_id = pool
    _make_user(idp, pool_id, "fay")
    with emulator.backend.transaction():
        _user(emulator, pool_id, "fay").password_hash = stored
    with pytest.raises(ClientError) as refused:
        _sign_in(idp, client_id, "fay", PASSWORD)
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_lone_surrogate_password_is_a_wrong_password_not_a_500(emulator: Emulator, idp, pool) -> None:  # noqa: ANN001
    pool_id, client_id = pool
    _make_user(idp, pool_id, "gus")
    body = ('{"AuthFlow":"USER_PASSWORD_AUTH","ClientId":"%s","AuthParameters":{"USERNAME":"gus",'
            '"PASSWORD":"Passw0rd\\ud800"}}' % client_id)
    answer = requests.post(emulator.url, data=body, timeout=10, headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"})
    assert answer.status_code == 400, answer.text
    assert answer.json()["__type"].endswith("NotAuthorizedException")


def _signs_in(idp, client_id: str, username: str, password: str) -> bool:  # noqa: ANN001
    try:
        idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                          AuthParameters={"USERNAME": username, "PASSWORD": password})
    except ClientError as error:
        assert error.response["Error"]["Code"] == "NotAuthorizedException"
        return False
    return True


def test_a_proven_password_skips_the_hash_but_a_wrong_one_never_does(emulator: Emulator, idp, pool,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    pool_id, client_id = pool
    _make_user(idp, pool_id, "rita")
    hashes: list[str] = []
    real = passwords.password_matches
    monkeypatch.setattr(passwords, "password_matches", lambda *a, **k: hashes.append(a[1]) or real(*a, **k))
    assert _signs_in(idp, client_id, "rita", PASSWORD)
    assert _signs_in(idp, client_id, "rita", PASSWORD)
    assert len(hashes) == 1  # the second sign-in was recognised without hashing
    assert not _signs_in(idp, client_id, "rita", "Wrong-pass1")
    assert not _signs_in(idp, client_id, "rita", "Wrong-pass1")
    assert len(hashes) == 3  # every guess pays the full hash
    idp.admin_set_user_password(UserPoolId=pool_id, Username="rita", Password="N3w-password!", Permanent=True)
    assert not _signs_in(idp, client_id, "rita", PASSWORD)  # the old password's proof is gone with its hash
    assert _signs_in(idp, client_id, "rita", "N3w-password!")


def test_proven_passwords_are_bounded_and_never_hold_the_password() -> None:
    proven = passwords.ProvenPasswords(capacity=3)
    for n in range(10):
        proven.remember(f"hash{n}", f"secret-{n}")
    assert len(proven) == 3
    assert proven.known("hash9", "secret-9") and not proven.known("hash0", "secret-0")
    assert not proven.known("hash9", "secret-8")
    assert all(b"secret" not in entry for entry in proven._proven)

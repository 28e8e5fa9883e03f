"""The control plane's identity-credential routes: list, look up and expire issued credentials, over
HTTP (RemoteControl, raw requests) and in-process (Control), with the same answers and typed 400/404s.

Credentials are issued here through the engine's one door for them (harness.engine.identity.credentials.issue,
what GetCredentialsForIdentity and STS use); the end-to-end flow through boto3 is
tests/test_identity_credentials.py.
"""

from __future__ import annotations

import pytest
import requests

from harness.control import Control
from harness.control.checks import ControlError
from harness.engine.identity import credentials, models
from harness.engine.identity.roles import RoleChoice
from harness.engine.store import Backend
from harness.server import Emulator

POOL_A = "us-east-1:aaaaaaaa-0000-4000-8000-000000000001"
POOL_B = "us-east-1:bbbbbbbb-0000-4000-8000-000000000002"
ID_1 = "us-east-1:11111111-0000-4000-8000-000000000001"
ID_2 = "us-east-1:22222222-0000-4000-8000-000000000002"
AUTH = RoleChoice("arn:aws:iam::123456789012:role/auth", authenticated=True, source="default")
UNAUTH = RoleChoice("arn:aws:iam::123456789012:role/unauth", authenticated=False, source="default")
PROVIDER = "cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc123456"


def issue(target: Emulator | Backend, pool_id: str, identity_id: str, role: RoleChoice) -> models.IssuedCredentials:
    engine = target.backend if isinstance(target, Emulator) else target
    with engine.transaction() as backend:
        return credentials.issue(backend, pool_id, identity_id, role, [PROVIDER] if role.authenticated else [])


@pytest.fixture()
def issued(emulator: Emulator) -> list[models.IssuedCredentials]:
    emulator.backend.clock.freeze(1_900_000_000)
    first = issue(emulator, POOL_A, ID_1, AUTH)
    emulator.backend.clock.advance(10)
    second = issue(emulator, POOL_A, ID_2, UNAUTH)
    emulator.backend.clock.advance(10)
    third = issue(emulator, POOL_B, ID_1, AUTH)
    return [first, second, third]


def test_list_shows_every_credential_newest_last_without_secrets(emulator: Emulator,
                                                                 issued: list[models.IssuedCredentials]) -> None:
    remote = emulator.remote_control()
    listed = remote.identity_credentials()
    assert [c["access_key_id"] for c in listed] == [c.access_key_id for c in issued]
    first = listed[0]
    assert first == {
        "access_key_id": issued[0].access_key_id, "identity_id": ID_1, "identity_pool_id": POOL_A,
        "role_arn": AUTH.role_arn, "authenticated": True, "providers": [PROVIDER], "issued": 1_900_000_000.0,
        "expiration": 1_900_003_600.0, "expired": False, "expired_by_control": False,
    }
    assert listed[1]["authenticated"] is False and listed[1]["providers"] == []
    raw = requests.get(emulator.url + "/_harness/identity/credentials", timeout=5).text
    for c in issued:
        assert c.secret_key not in raw and c.session_token not in raw
    assert Control(emulator.backend).identity_credentials() == listed


def test_list_filters_by_pool_and_identity(emulator: Emulator, issued: list[models.IssuedCredentials]) -> None:
    remote = emulator.remote_control()
    assert [c["access_key_id"] for c in remote.identity_credentials(identity_pool_id=POOL_A)] == [
        issued[0].access_key_id, issued[1].access_key_id]
    assert [c["access_key_id"] for c in remote.identity_credentials(identity_id=ID_1)] == [
        issued[0].access_key_id, issued[2].access_key_id]
    assert [c["access_key_id"] for c in remote.identity_credentials(POOL_B, ID_1)] == [issued[2].access_key_id]
    assert remote.identity_credentials(identity_pool_id="us-east-1:cccccccc-0000-4000-8000-000000000003") == []


def test_look_up_one(emulator: Emulator, issued: list[models.IssuedCredentials]) -> None:
    remote = emulator.remote_control()
    one = remote.identity_credential(issued[1].access_key_id)
    assert (one["identity_id"], one["role_arn"], one["authenticated"]) == (ID_2, UNAUTH.role_arn, False)
    with pytest.raises(ControlError) as excinfo:
        remote.identity_credential("ASIAUNKNOWNUNKNOWN00")
    assert (excinfo.value.status, excinfo.value.field) == (404, "access_key_id")


def test_credentials_expire_on_the_virtual_clock(emulator: Emulator, issued: list[models.IssuedCredentials]) -> None:
    remote = emulator.remote_control()
    remote.advance(3600 - 20 - 1)  # one second before the first one's hour is up
    assert [c["expired"] for c in remote.identity_credentials()] == [False, False, False]
    remote.advance(1)
    assert [c["expired"] for c in remote.identity_credentials()] == [True, False, False]
    remote.advance(20)
    assert all(c["expired"] for c in remote.identity_credentials())
    assert remote.expire_identity_credentials() == {"expired": 0}  # nothing left to end


def test_expire_one_a_pool_or_all(emulator: Emulator, issued: list[models.IssuedCredentials]) -> None:
    remote = emulator.remote_control()
    now = remote.now()
    assert remote.expire_identity_credentials(access_key_id=issued[0].access_key_id) == {"expired": 1}
    one = remote.identity_credential(issued[0].access_key_id)
    assert (one["expired"], one["expired_by_control"], one["expiration"]) == (True, True, now)
    assert remote.identity_credential(issued[1].access_key_id)["expired"] is False
    assert remote.expire_identity_credentials(identity_pool_id=POOL_A) == {"expired": 1}
    assert [c["expired"] for c in remote.identity_credentials()] == [True, True, False]
    assert remote.expire_identity_credentials() == {"expired": 1}
    assert all(c["expired"] for c in remote.identity_credentials())
    events = remote.events("identity.credentials_expired")
    assert [e["data"]["access_key_id"] for e in events] == [c.access_key_id for c in issued]


def test_issue_records_an_event_without_secrets(emulator: Emulator, issued: list[models.IssuedCredentials]) -> None:
    events = emulator.remote_control().events("identity.credentials", pool_id=POOL_A)
    assert [e["data"]["access_key_id"] for e in events] == [issued[0].access_key_id, issued[1].access_key_id]
    assert events[0]["data"]["role_arn"] == AUTH.role_arn
    text = str(events)
    assert issued[0].secret_key not in text and issued[0].session_token not in text


def test_credentials_look_like_sts_and_a_seed_fixes_them() -> None:
    def keys(seed: int) -> list[tuple[str, str]]:
        backend = Backend(seed=seed)
        made = [issue(backend, POOL_A, ID_1, AUTH) for _ in range(3)]
        return [(c.access_key_id, c.secret_key) for c in made]

    first = keys(7)
    assert first == keys(7) and first != keys(8)
    for access_key_id, secret in first:
        assert access_key_id.startswith("ASIA") and len(access_key_id) == 20
        assert access_key_id[4:].isalnum() and access_key_id[4:].upper() == access_key_id[4:]
        assert len(secret) == 40
    assert len({k for k, _ in first}) == 3


def test_memory_is_bounded_oldest_forgotten_first(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "MAX_CREDENTIALS_KEPT", 3)
    made = [issue(emulator, POOL_A, ID_1, AUTH) for _ in range(5)]
    remote = emulator.remote_control()
    assert [c["access_key_id"] for c in remote.identity_credentials()] == [c.access_key_id for c in made[2:]]
    with pytest.raises(ControlError) as excinfo:
        remote.identity_credential(made[0].access_key_id)
    assert excinfo.value.status == 404


def test_reset_forgets_credentials(emulator: Emulator, issued: list[models.IssuedCredentials]) -> None:
    remote = emulator.remote_control()
    remote.reset()
    assert remote.identity_credentials() == []


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "field"),
    [
        ("GET", "/identity/credentials", {"params": {"identity_pool_id": "not-an-id"}}, "identity_pool_id"),
        ("GET", "/identity/credentials", {"params": {"identity_id": "us-east-1:XYZ"}}, "identity_id"),
        ("GET", "/identity/credentials", {"params": {"pool": POOL_A}}, "pool"),
        ("POST", "/identity/credentials/expire", {"json": {"access_key_id": 7}}, "access_key_id"),
        ("POST", "/identity/credentials/expire", {"json": {"identity_pool_id": "x" * 80}}, "identity_pool_id"),
        ("POST", "/identity/credentials/expire", {"json": {"everything": True}}, "everything"),
        ("POST", "/identity/credentials/expire", {"json": [1]}, "body"),
        ("POST", "/identity/credentials/expire", {"data": "{nope", "headers": {"Content-Type": "application/json"}},
         "body"),
    ],
)
def test_bad_input_is_a_typed_400(emulator: Emulator, method: str, path: str, kwargs: dict, field: str) -> None:
    response = requests.request(method, emulator.url + "/_harness" + path, timeout=5, **kwargs)
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["error"], body["field"]) == ("bad_request", field)


def test_unknown_access_key_is_a_typed_404_and_mismatched_pool_a_400(
        emulator: Emulator, issued: list[models.IssuedCredentials]) -> None:
    response = requests.post(emulator.url + "/_harness/identity/credentials/expire",
                             json={"access_key_id": "ASIA0000000000000000"}, timeout=5)
    assert (response.status_code, response.json()["error"], response.json()["field"]) == (
        404, "not_found", "access_key_id")
    with pytest.raises(ControlError) as excinfo:
        emulator.remote_control().expire_identity_credentials(issued[0].access_key_id, POOL_B)
    assert (excinfo.value.status, excinfo.value.field) == (400, "identity_pool_id")
    assert emulator.remote_control().identity_credential(issued[0].access_key_id)["expired"] is False

"""The control plane, in Python (Control) and over HTTP (/_harness/ and RemoteControl).

Every token is checked with PyJWT against the JWKS the emulator serves.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import quote

import botocore.exceptions
import jwt
import pytest
import requests

from harness.control import Control, ControlError, RemoteControl
from harness.pooldef import PoolHandle, load_pool
from harness.server import Emulator


@pytest.fixture()
def pool(emulator: Emulator) -> PoolHandle:
    return load_pool(emulator.backend)


@pytest.fixture()
def control(emulator: Emulator) -> Control:
    return Control(emulator.backend)


@pytest.fixture()
def remote(emulator: Emulator) -> RemoteControl:
    return RemoteControl(emulator.url)


def jwks(pool: PoolHandle) -> dict[str, Any]:
    response = requests.get(pool.jwks_url, timeout=5)
    assert response.status_code == 200
    return response.json()


def served_key(pool: PoolHandle, token: str) -> Any:
    """The public key the served JWKS lists for the token's kid (KeyError if absent)."""
    kid = jwt.get_unverified_header(token).get("kid")
    for jwk in jwks(pool)["keys"]:
        if jwk["kid"] == kid:
            return jwt.PyJWK(jwk).key
    raise KeyError(kid)


def verify(pool: PoolHandle, token: str, **options: Any) -> dict[str, Any]:
    """Verify like a careful relying party: RS256 only, key from the served JWKS, issuer checked."""
    return jwt.decode(token, served_key(pool, token), algorithms=["RS256"], issuer=pool.issuer,
                      options={"verify_aud": "audience" in options}, **options)


def http(emulator: Emulator, method: str, path: str, **kwargs: Any) -> requests.Response:
    """A raw control-plane request; writes go as application/json, as the guard requires (test_control_access)."""
    headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
    return requests.request(method, f"{emulator.url}/_harness{path}", timeout=5, headers=headers, **kwargs)


# --- info, reset, clock -------------------------------------------------------------------------


def test_info_and_reset(emulator: Emulator, pool: PoolHandle, control: Control, remote: RemoteControl) -> None:
    info = remote.info()
    assert info["seed"] == 1234 and info["version"]
    assert [p["pool_id"] for p in info["pools"]] == [pool.pool_id]
    assert {c["name"] for c in info["pools"][0]["clients"]} == {"web", "server"}
    assert info["clock"]["mode"] == "real"
    assert http(emulator, "GET", "/").json()["pools"] == info["pools"]

    control.freeze()
    after = remote.reset(seed=99)
    assert after["pools"] == [] and after["seed"] == 99 and after["clock"]["mode"] == "real"
    again = load_pool(emulator.backend)
    remote.reset(seed=99)
    assert load_pool(emulator.backend).pool_id == again.pool_id  # same seed, same ids


def test_clock_controls_token_expiry(pool: PoolHandle, control: Control, emulator: Emulator) -> None:
    state = control.freeze("2030-01-01T00:00:00Z")
    assert state["mode"] == "frozen" and state["now"] == 1893456000.0 and state["iso"] == "2030-01-01T00:00:00Z"
    idp = emulator.boto3_client()
    token = control.mint(pool.pool_id, "alice")
    assert jwt.decode(token, options={"verify_signature": False})["iat"] == 1893456000
    assert idp.get_user(AccessToken=token)["Username"] == "alice"
    assert control.advance(3599)["now"] == 1893459599.0
    assert idp.get_user(AccessToken=token)["Username"] == "alice"
    control.advance(1)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        idp.get_user(AccessToken=token)
    assert caught.value.response["Error"]["Message"] == "Access Token has expired"
    assert control.token_status(token)["expired"] is True
    assert control.set(1893456000)["now"] == 1893456000.0
    assert control.token_status(token)["active"] is True
    assert control.unfreeze()["mode"] == "offset"
    assert abs(control.now() - 1893456000) < 5


# --- mailbox and faults ----------------------------------------------------------------------------


def _sign_up(idp: Any, pool: PoolHandle, username: str, email: str) -> dict[str, Any]:
    return idp.sign_up(ClientId=pool.clients["web"].client_id, Username=username, Password="Zed-Passw0rd!",
                       UserAttributes=[{"Name": "email", "Value": email}])


def test_mailbox_codes_confirm_a_sign_up(emulator: Emulator, pool: PoolHandle, remote: RemoteControl) -> None:
    idp = emulator.boto3_client()
    _sign_up(idp, pool, "zed", "zed@example.com")
    messages = remote.messages(to="zed@example.com")
    assert len(messages) == 1 and messages[0]["purpose"] == "SIGN_UP" and messages[0]["channel"] == "EMAIL"
    code = remote.latest_code("zed@example.com", purpose="SIGN_UP")
    assert code and code in messages[0]["body"]
    idp.confirm_sign_up(ClientId=pool.clients["web"].client_id, Username="zed", ConfirmationCode=code)
    assert remote.latest_code("nobody@example.com") is None
    assert remote.clear_mailbox() == 1
    assert remote.messages() == []


def test_faults_fail_delivery_then_disarm(emulator: Emulator, pool: PoolHandle, remote: RemoteControl,
                                          control: Control) -> None:
    idp = emulator.boto3_client()
    fault = remote.arm_fault("delivery_failure", operation="SignUp", recipient="zed@example.com", count=1)
    assert fault["kind"] == "delivery_failure" and fault["remaining"] == 1
    assert [f["id"] for f in remote.faults()] == [fault["id"]]
    assert http(emulator, "GET", f"/faults/{fault['id']}").json() == fault
    with pytest.raises(idp.exceptions.CodeDeliveryFailureException):
        _sign_up(idp, pool, "zed", "zed@example.com")
    assert remote.faults() == []  # a count-1 fault is used up
    failed = remote.messages(to="zed@example.com", include_failed=True)
    assert [m["status"] for m in failed] == ["failed"] and remote.messages(to="zed@example.com") == []
    assert control.event_count("message.failed", to="zed@example.com") == 1

    throttle = control.arm_fault("throttle", operation="ListUsers")
    with pytest.raises(idp.exceptions.TooManyRequestsException):
        idp.list_users(UserPoolId=pool.pool_id)
    assert control.clear_faults(throttle["id"]) == 1
    assert idp.list_users(UserPoolId=pool.pool_id)["Users"]
    with pytest.raises(ControlError) as caught:
        remote.clear_faults(throttle["id"])
    assert caught.value.field == "id" and caught.value.status == 404
    control.arm_fault("internal_error")
    control.arm_fault("daily_email_limit", channel="EMAIL")
    assert remote.clear_faults() == 2


# --- keys ---------------------------------------------------------------------------------------------


def test_rotation_keeps_old_kid_published_until_unpublished(emulator: Emulator, pool: PoolHandle,
                                                            remote: RemoteControl) -> None:
    idp = emulator.boto3_client()
    before = remote.mint(pool.pool_id, "bob")
    old_kid = jwt.get_unverified_header(before)["kid"]
    assert {k["kid"] for k in remote.keys(pool.pool_id)} == {k["kid"] for k in jwks(pool)["keys"]}

    rotated = remote.rotate_keys(pool.pool_id, uses=["access"])
    assert rotated["retired"] == [old_kid]
    new_kid = rotated["new"][0]["kid"]
    published = {k["kid"] for k in jwks(pool)["keys"]}
    assert {old_kid, new_kid} <= published and len(published) == 3
    assert verify(pool, before)["username"] == "bob"  # old tokens keep verifying
    after = remote.mint(pool.pool_id, "bob")
    assert jwt.get_unverified_header(after)["kid"] == new_kid
    assert verify(pool, after)["username"] == "bob"
    assert remote.event_count("key.rotated", old_kid=old_kid, new_kid=new_kid) == 1

    assert remote.unpublish_key(pool.pool_id, old_kid)["published"] is False  # kid has '+', '/' or '='
    assert old_kid not in {k["kid"] for k in jwks(pool)["keys"]}
    with pytest.raises(KeyError):
        served_key(pool, before)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        idp.get_user(AccessToken=before)
    assert caught.value.response["Error"]["Message"] == "Invalid Access Token"
    assert remote.publish_key(pool.pool_id, old_kid)["published"] is True
    assert verify(pool, before)["username"] == "bob"


def test_retire_key_and_sign_with_it(pool: PoolHandle, control: Control, remote: RemoteControl) -> None:
    id_kid = next(k["kid"] for k in control.keys(pool.pool_id) if k["use"] == "id" and k["active"])
    result = remote.retire_key(pool.pool_id, id_kid)
    assert result["retired"]["active"] is False and result["retired"]["published"] is True
    assert result["replacement"]["use"] == "id" and result["replacement"]["kid"] != id_kid
    token = control.mint(pool.pool_id, "carol", token_use="id", sign_with=f"retired:{id_kid}")
    assert jwt.get_unverified_header(token)["kid"] == id_kid
    assert verify(pool, token, audience=pool.clients["web"].client_id)["cognito:username"] == "carol"
    fresh = control.mint(pool.pool_id, "carol", token_use="id")
    assert jwt.get_unverified_header(fresh)["kid"] == result["replacement"]["kid"]


# --- minting -----------------------------------------------------------------------------------------


def test_minted_tokens_are_real_cognito_tokens(emulator: Emulator, pool: PoolHandle, control: Control) -> None:
    web, server = pool.clients["web"], pool.clients["server"]
    access = control.mint(pool.pool_id, "alice")
    claims = verify(pool, access)
    assert claims["token_use"] == "access" and claims["client_id"] == web.client_id
    assert claims["username"] == "alice" and claims["scope"] == "aws.cognito.signin.user.admin"
    assert claims["cognito:groups"] == ["tenant-acme-admin", "tenant-acme-member"]
    assert "aud" not in claims and claims["origin_jti"]
    id_token = control.mint(pool.pool_id, "alice", token_use="id", client_id=server.client_id)
    id_claims = verify(pool, id_token, audience=server.client_id)
    assert id_claims["custom:tenant"] == "acme" and id_claims["email_verified"] is True
    assert jwt.get_unverified_header(id_token)["kid"] != jwt.get_unverified_header(access)["kid"]

    idp = emulator.boto3_client()
    assert idp.get_user(AccessToken=access)["Username"] == "alice"
    idp.admin_user_global_sign_out(UserPoolId=pool.pool_id, Username="alice")
    status = control.token_status(access)
    assert status["revoked"] is True and status["active"] is False
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        idp.get_user(AccessToken=access)
    assert caught.value.response["Error"]["Message"] == "Access Token has been revoked"
    assert control.event_count("token.minted", username="alice") == 2


def test_mint_claim_overrides_and_expiry(pool: PoolHandle, control: Control) -> None:
    t0 = control.freeze(int(control.now()))["now"]  # PyJWT checks iat/exp against the wall clock
    token = control.mint(pool.pool_id, "bob", claims={"custom:role": "admin", "scope": None}, expires_in=120)
    claims = verify(pool, token)
    assert claims["custom:role"] == "admin" and "scope" not in claims
    assert claims["exp"] - claims["iat"] == 120
    no_exp = control.mint(pool.pool_id, "bob", claims={"exp": None})
    assert "exp" not in verify(pool, no_exp)
    expired = control.mint(pool.pool_id, "bob", issued_at=t0 - 7200, expires_in=3600)
    with pytest.raises(jwt.ExpiredSignatureError):
        verify(pool, expired)
    assert control.token_status(expired)["expired"] is True
    other_iss = control.mint(pool.pool_id, "bob", claims={"iss": "https://evil.example/pool"})
    with pytest.raises(jwt.InvalidIssuerError):
        verify(pool, other_iss)


def test_mint_forgeries_are_rejected_by_a_careful_verifier(pool: PoolHandle, control: Control,
                                                           remote: RemoteControl) -> None:
    real = control.mint(pool.pool_id, "alice")
    kid = jwt.get_unverified_header(real)["kid"]

    foreign = remote.mint(pool.pool_id, "alice", sign_with="foreign")
    assert jwt.get_unverified_header(foreign)["kid"] == kid  # right kid, wrong key
    with pytest.raises(jwt.InvalidSignatureError):
        verify(pool, foreign)
    foreign_key = jwt.PyJWK(control.foreign_jwk()).key
    assert jwt.decode(foreign, foreign_key, algorithms=["RS256"])["username"] == "alice"
    assert remote.foreign_jwk("x") == control.foreign_jwk("x")

    none = remote.mint(pool.pool_id, "alice", sign_with="none", header={"alg": "NoNe"})
    header_b64, _, signature = none.split(".")
    assert json.loads(base64.urlsafe_b64decode(header_b64 + "==")) ["alg"] == "NoNe" and signature == ""
    with pytest.raises(jwt.InvalidTokenError):
        verify(pool, none)

    confused = remote.mint(pool.pool_id, "alice", sign_with="hs256-public-key")
    assert jwt.get_unverified_header(confused)["alg"] == "HS256"
    pem = next(k["public_pem"] for k in control.keys(pool.pool_id) if k["kid"] == kid).encode()
    signing_input, _, sig = confused.rpartition(".")
    expected = base64.urlsafe_b64encode(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()).rstrip(b"=")
    assert sig.encode() == expected
    with pytest.raises(jwt.InvalidAlgorithmError):
        jwt.decode(confused, served_key(pool, confused), algorithms=["RS256"])

    secret = "a-guessable-but-long-enough-hmac-secret"
    weak = remote.mint(pool.pool_id, "alice", sign_with=f"hs256:{secret}")
    assert jwt.decode(weak, secret, algorithms=["HS256"])["username"] == "alice"

    injected = remote.mint(pool.pool_id, "alice", sign_with="foreign",
                           header={"kid": "../../../../dev/null", "jku": "http://127.0.0.1:1/jwks.json",
                                   "jwk": control.foreign_jwk("attacker"), "x5u": "http://127.0.0.1:1/cert"})
    header = jwt.get_unverified_header(injected)
    assert header["kid"] == "../../../../dev/null" and header["jwk"]["kid"] == "attacker"
    assert header["jku"].endswith("/jwks.json") and header["x5u"].endswith("/cert")
    with pytest.raises(KeyError):
        served_key(pool, injected)
    kidless = control.mint(pool.pool_id, "alice", header={"kid": None})
    assert "kid" not in jwt.get_unverified_header(kidless)
    assert not control.token_status(kidless)["known"]


def test_token_status_of_api_issued_tokens(emulator: Emulator, pool: PoolHandle, remote: RemoteControl) -> None:
    idp = emulator.boto3_client()
    web = pool.clients["web"]
    result = idp.initiate_auth(ClientId=web.client_id, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "dave", "PASSWORD": "Dave-Passw0rd!"})["AuthenticationResult"]
    refresh = remote.token_status(result["RefreshToken"])
    assert refresh["token_use"] == "refresh" and refresh["active"] is True and refresh["username"] == "dave"
    idp.revoke_token(Token=result["RefreshToken"], ClientId=web.client_id)
    for token in (result["RefreshToken"], result["AccessToken"], result["IdToken"]):
        status = remote.token_status(token)
        assert status["revoked"] is True and status["active"] is False
    assert remote.token_status("not.a.token")["known"] is False


# --- events -----------------------------------------------------------------------------------------


def test_events_filtering(emulator: Emulator, pool: PoolHandle, control: Control, remote: RemoteControl) -> None:
    mark = remote.last_event()
    idp = emulator.boto3_client()
    web = pool.clients["web"]
    for username, password in (("alice", "Alice-Passw0rd!"), ("bob", "wrong")):
        try:
            idp.initiate_auth(ClientId=web.client_id, AuthFlow="USER_PASSWORD_AUTH",
                              AuthParameters={"USERNAME": username, "PASSWORD": password})
        except idp.exceptions.NotAuthorizedException:
            pass
    requests.get(pool.jwks_url, timeout=5)
    recent = remote.events(since=mark)
    assert recent and all(e["seq"] > mark for e in recent)
    assert [e["data"]["username"] for e in remote.events("auth.success", since=mark)] == ["alice"]
    assert [e["data"]["username"] for e in remote.events("auth.failure", since=mark)] == ["bob"]
    assert {e["type"] for e in remote.events("token.*", since=mark)} == {"token.issued"}
    assert remote.events("auth.*", since=mark, username="bob") == control.events("auth.*", since=mark, username="bob")
    issued = remote.events("token.issued", since=mark, refresh=True)  # booleans match their text form
    assert len(issued) == 1 and issued[0]["data"]["refresh"] is True
    assert remote.event_count("jwks.fetch", since=mark, pool_id=pool.pool_id) == 1
    assert remote.event_count("jwks.fetch", since=mark, pool_id="us-east-1_nope") == 0
    assert remote.events("auth.success", since=remote.last_event()) == []


# --- snapshot / restore -------------------------------------------------------------------------------


def test_snapshot_restore_round_trip(emulator: Emulator, pool: PoolHandle, control: Control,
                                     remote: RemoteControl) -> None:
    idp = emulator.boto3_client()
    web = pool.clients["web"]
    t0 = control.freeze(int(control.now()))["now"]
    tokens = idp.initiate_auth(ClientId=web.client_id, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "alice", "PASSWORD": "Alice-Passw0rd!"})["AuthenticationResult"]
    _sign_up(idp, pool, "zed", "zed@example.com")
    control.arm_fault("throttle", operation="DeleteGroup")
    snapshot = remote.snapshot(include_secrets=True)
    text = json.dumps(snapshot)  # JSON-able all the way down
    user = snapshot["pools"][0]["users"]["alice"]
    assert user["password_hash"] and user["srp_x"]
    assert all("BEGIN PRIVATE KEY" in k["private_key_pem"] for k in snapshot["pools"][0]["keyring"]["keys"])

    # change everything, then come back
    idp.admin_delete_user(UserPoolId=pool.pool_id, Username="alice")
    control.rotate_keys(pool.pool_id, unpublish_old=True)
    control.advance(86400 * 90)
    control.clear_mailbox()
    control.clear_faults()
    after_change = control.events()
    restored = remote.restore(json.loads(text))
    assert restored["clock"]["now"] == t0

    assert control.snapshot(include_secrets=True) == snapshot
    assert len(control.events()) < len(after_change)
    assert verify(pool, tokens["AccessToken"])["username"] == "alice"
    assert idp.get_user(AccessToken=tokens["AccessToken"])["Username"] == "alice"
    refreshed = idp.initiate_auth(ClientId=web.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                  AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]})["AuthenticationResult"]
    assert verify(pool, refreshed["AccessToken"])["username"] == "alice"
    assert control.latest_code("zed@example.com") is not None
    assert [f["operation"] for f in control.faults()] == ["DeleteGroup"]
    # the id stream continues where it stood: the same next ids after each restore
    control.restore(snapshot)
    first = idp.create_group(UserPoolId=pool.pool_id, GroupName="g1")["Group"]
    sub1 = idp.admin_create_user(UserPoolId=pool.pool_id, Username="n1", MessageAction="SUPPRESS")["User"]
    control.restore(snapshot)
    again = idp.admin_create_user(UserPoolId=pool.pool_id, Username="n1", MessageAction="SUPPRESS")["User"]
    assert first["GroupName"] == "g1"
    assert sub1["Attributes"] == again["Attributes"]


def test_restore_rejects_bad_snapshots_and_keeps_state(emulator: Emulator, pool: PoolHandle,
                                                        control: Control) -> None:
    good = control.snapshot(include_secrets=True)
    for bad, field in (
        ({"format": "other"}, "snapshot.format"),
        ({**good, "pools": "nope"}, "snapshot.pools"),
        ({**good, "pools": [{"pool_id": 1}]}, "snapshot.pools[0]"),
        ({**good, "clock": {**good["clock"], "mode": "sideways"}}, "snapshot.clock.mode"),
    ):
        response = http(emulator, "POST", "/restore", json=bad)
        assert response.status_code == 400, bad
        assert response.json()["field"] == field
    assert [p["pool_id"] for p in control.info()["pools"]] == [pool.pool_id]


# --- HTTP face: bad input is a 400 naming the field ------------------------------------------------


def test_bad_input_gets_400_naming_the_field(emulator: Emulator, pool: PoolHandle, control: Control) -> None:
    kid = control.keys(pool.pool_id)[0]["kid"]
    cases = [
        ("POST", "/clock", {"json": {"action": "advance", "seconds": "soon"}}, 400, "seconds"),
        ("POST", "/clock", {"json": {"action": "advance"}}, 400, "seconds"),
        ("POST", "/clock", {"json": {"action": "warp"}}, 400, "action"),
        ("POST", "/clock", {"json": {"action": "freeze", "at": "yesterday"}}, 400, "at"),
        ("POST", "/clock", {"json": {"action": "unfreeze", "seconds": 3}}, 400, "seconds"),
        ("POST", "/clock", {"data": b"{not json"}, 400, "body"),
        ("POST", "/clock", {"json": [1, 2]}, 400, "body"),
        ("POST", "/reset", {"json": {"seed": "x"}}, 400, "seed"),
        ("POST", "/reset", {"json": {"sede": 1}}, 400, "sede"),
        ("GET", "/mailbox?include_failed=maybe", {}, 400, "include_failed"),
        ("GET", "/mailbox?too=a", {}, 400, "too"),
        ("POST", "/faults", {"json": {"kind": "meteor"}}, 400, "kind"),
        ("POST", "/faults", {"json": {}}, 400, "kind"),
        ("POST", "/faults", {"json": {"kind": "throttle", "operation": "Nope"}}, 400, "operation"),
        ("POST", "/faults", {"json": {"kind": "throttle", "count": 0}}, 400, "count"),
        ("POST", "/faults", {"json": {"kind": "delivery_failure", "channel": "FAX"}}, 400, "channel"),
        ("DELETE", "/faults/abc", {}, 400, "id"),
        ("DELETE", "/faults/999", {}, 404, "id"),
        ("GET", "/faults/999", {}, 404, "id"),
        ("GET", "/faults/x", {}, 400, "id"),
        ("GET", "/pools/us-east-1_missing/keys", {}, 404, "pool_id"),
        ("POST", f"/pools/{pool.pool_id}/keys/rotate", {"json": {"uses": ["refresh"]}}, 400, "uses"),
        ("POST", f"/pools/{pool.pool_id}/keys/rotate", {"json": {"uses": "id"}}, 400, "uses"),
        ("POST", f"/pools/{pool.pool_id}/keys/rotate", {"json": {"unpublish_old": "yes"}}, 400, "unpublish_old"),
        ("POST", f"/pools/{pool.pool_id}/keys/{quote('no/such=', safe='')}/retire", {}, 404, "kid"),
        ("POST", f"/pools/{pool.pool_id}/mint", {"json": {}}, 400, "username"),
        ("POST", f"/pools/{pool.pool_id}/mint", {"json": {"username": "ghost"}}, 404, "username"),
        ("POST", f"/pools/{pool.pool_id}/mint", {"json": {"username": "alice", "token_use": "refresh"}}, 400,
         "token_use"),
        ("POST", f"/pools/{pool.pool_id}/mint", {"json": {"username": "alice", "sign_with": "rot13"}}, 400,
         "sign_with"),
        ("POST", f"/pools/{pool.pool_id}/mint", {"json": {"username": "alice", "sign_with": "retired:nope"}}, 404,
         "sign_with"),
        ("POST", f"/pools/{pool.pool_id}/mint", {"json": {"username": "alice", "claims": [1]}}, 400, "claims"),
        ("POST", f"/pools/{pool.pool_id}/mint", {"json": {"username": "alice", "header": "x"}}, 400, "header"),
        ("POST", f"/pools/{pool.pool_id}/mint", {"json": {"username": "alice", "expires_in": "1h"}}, 400,
         "expires_in"),
        ("POST", f"/pools/{pool.pool_id}/mint", {"json": {"username": "alice", "client_id": "zzz"}}, 404,
         "client_id"),
        ("POST", f"/pools/{pool.pool_id}/mint", {"json": {"username": "alice", "colour": 1}}, 400, "colour"),
        ("POST", "/tokens/status", {"json": {}}, 400, "token"),
        ("POST", "/tokens/status", {"json": {"token": 5}}, 400, "token"),
        ("GET", "/events?since=abc", {}, 400, "since"),
        ("GET", "/events?since=-1", {}, 400, "since"),
        ("GET", "/events?count_only=perhaps", {}, 400, "count_only"),
        ("POST", "/restore", {}, 400, "body"),
        ("POST", "/restore", {"data": b"[]"}, 400, "snapshot"),
    ]
    for method, path, kwargs, status, field in cases:
        response = http(emulator, method, path, **kwargs)
        assert response.status_code == status, (method, path, kwargs, response.text)
        body = response.json()
        assert body["field"] == field, (method, path, body)
        assert body["error"] == ("not_found" if status == 404 else "bad_request") and body["message"]
    assert http(emulator, "POST", f"/pools/{pool.pool_id}/keys/{quote(kid, safe='')}/retire").status_code == 200


def test_remote_control_raises_control_error_like_control(pool: PoolHandle, control: Control,
                                                          remote: RemoteControl) -> None:
    for target in (control, remote):
        with pytest.raises(ControlError) as caught:
            target.advance("soon")  # type: ignore[arg-type]
        assert caught.value.field == "seconds" and caught.value.status == 400
        with pytest.raises(ControlError) as caught:
            target.keys("us-east-1_missing")
        assert caught.value.field == "pool_id" and caught.value.status == 404
        with pytest.raises(ControlError) as caught:
            target.mint(pool.pool_id, "alice", sign_with="rot13")
        assert caught.value.field == "sign_with"


def test_no_route_answers_500_to_garbage(emulator: Emulator, pool: PoolHandle, control: Control) -> None:
    kid = quote(control.keys(pool.pool_id)[0]["kid"], safe="")
    routes = [
        ("GET", ""), ("GET", "/clock"), ("POST", "/clock"), ("GET", "/mailbox"),
        ("DELETE", "/mailbox"), ("GET", "/mailbox/latest-code"), ("GET", "/faults"), ("POST", "/faults"),
        ("DELETE", "/faults/1"), ("GET", f"/pools/{pool.pool_id}/keys"), ("POST", f"/pools/{pool.pool_id}/keys/rotate"),
        ("POST", f"/pools/{pool.pool_id}/keys/{kid}/publish"), ("POST", f"/pools/{pool.pool_id}/mint"),
        ("POST", "/tokens/status"), ("GET", "/events"), ("GET", "/foreign-jwk"),
        ("POST", "/restore"), ("POST", "/reset"),  # last: an empty body resets everything
    ]
    bodies = [b"", b"null", b"0", b'"x"', b"[]", b"{", b"\xff\xfe", b'{"": null}', b'{"seed": 1e999}',
              b'{"action": "advance", "seconds": 1e400}', b'{"kind": ["x"]}', b'{"username": {"a": 1}}',
              b'{"token": "a.b.c"}', b'{"uses": [null]}', b'{"action": null}']
    queries = ["", "?since=99999999999999999999", "?to=%ff", "?type=&pool_id=", "?include_failed=true&x=1"]
    for method, path in routes:
        for body in bodies:
            for query in queries if method != "POST" else [""]:
                response = http(emulator, method, path + query, data=body)
                assert response.status_code < 500, (method, path, query, body, response.text)
                assert isinstance(response.json(), dict)


def test_load_pool_definitions_over_http(emulator: Emulator, remote: RemoteControl, control: Control,
                                         tmp_path: Any) -> None:
    remote.reset()
    default = remote.load_pool()
    assert default["name"] == "harness-default" and default["users"]["alice"]["password"] == "Alice-Passw0rd!"
    tiny = remote.load_pool(toml='[pool]\nname = "tiny"\n[clients.app]\n', issuer="aws")
    assert tiny["issuer"].startswith("https://cognito-idp.") and list(tiny["clients"]) == ["app"]
    path = tmp_path / "p.toml"
    path.write_text('[pool]\nname = "from-file"\n')
    assert remote.load_pool(path=str(path))["name"] == "from-file"
    assert control.load_pool(definition={"pool": {"name": "from-dict"}})["name"] == "from-dict"
    assert {p["name"] for p in remote.info()["pools"]} == {"harness-default", "tiny", "from-file", "from-dict"}
    for body, field in (
        ({"toml": "[pool"}, "toml"),
        ({"definition": {"pool": {"nmae": "x"}}}, "definition.pool.nmae"),
        ({"definition": {"users": [{"username": "u", "password": "short"}]}}, "definition.users[0].password"),
        ({"definition": {}, "toml": "x = 1"}, "toml"),
        ({"issuer": "google"}, "issuer"),
        ({"path": "/etc/passwd"}, "path"),
    ):
        response = http(emulator, "POST", "/pools", json=body)
        assert response.status_code == 400 and response.json()["field"] == field, (body, response.text)

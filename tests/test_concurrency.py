"""Many clients at once: every sign-in gets its own valid session, and state stays consistent.

Signing runs with the store lock released (RSA signing releases the GIL), so
this checks that concurrent sign-ins, refreshes and sign-outs never mix up
sessions or lose a revocation.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import jwt
import requests

PASSWORD = "Passw0rd!x"
USERS = 6
ROUNDS = 5


def test_concurrent_sign_ins_refreshes_and_sign_outs(emulator) -> None:  # noqa: ANN001
    setup = emulator.boto3_client()
    pool_id = setup.create_user_pool(PoolName="busy")["UserPool"]["Id"]
    client_id = setup.create_user_pool_client(
        UserPoolId=pool_id, ClientName="c",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    for i in range(USERS):
        setup.admin_create_user(UserPoolId=pool_id, Username=f"u{i}", MessageAction="SUPPRESS")
        setup.admin_set_user_password(UserPoolId=pool_id, Username=f"u{i}", Password=PASSWORD, Permanent=True)
    jwks = jwt.PyJWKSet.from_dict(requests.get(f"{emulator.url}/{pool_id}/.well-known/jwks.json", timeout=10).json())
    keys = {k.key_id: k for k in jwks.keys}

    def session(i: int) -> list[tuple[str, str, str]]:
        idp = emulator.boto3_client()
        out = []
        for _ in range(ROUNDS):
            result = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                       AuthParameters={"USERNAME": f"u{i}", "PASSWORD": PASSWORD})["AuthenticationResult"]
            refreshed = idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                          AuthParameters={"REFRESH_TOKEN": result["RefreshToken"]})["AuthenticationResult"]
            out.append((f"u{i}", result["RefreshToken"], refreshed["AccessToken"]))
        return out

    with ThreadPoolExecutor(max_workers=USERS) as pool:
        issued = [item for chunk in pool.map(session, range(USERS)) for item in chunk]

    assert len({refresh for _, refresh, _ in issued}) == USERS * ROUNDS  # one session per sign-in
    for username, _, access in issued:
        header = jwt.get_unverified_header(access)
        claims = jwt.decode(access, keys[header["kid"]].key, algorithms=["RS256"], options={"verify_exp": False})
        assert claims["username"] == username and claims["token_use"] == "access"
    events = emulator.backend.events
    assert events.count("auth.success") == USERS * ROUNDS
    assert events.count("token.refreshed") == USERS * ROUNDS
    seqs = [e.seq for e in events.list()]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)

    # concurrent global sign-outs revoke every session of every user, none is lost
    def sign_out(i: int) -> None:
        emulator.boto3_client().admin_user_global_sign_out(UserPoolId=pool_id, Username=f"u{i}")

    with ThreadPoolExecutor(max_workers=USERS) as pool:
        list(pool.map(sign_out, range(USERS)))
    assert emulator.backend.events.count("token.revoked") == USERS * ROUNDS
    for _, refresh, _ in issued:
        status = requests.post(f"{emulator.url}/_harness/tokens/status", json={"token": refresh}, timeout=10).json()
        assert status["revoked"] is True

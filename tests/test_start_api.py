"""``harness.start()``: an emulator with a pool in one line, as ``serve`` starts; ``emu.pool`` says where it is.

Real servers on free loopback ports, real boto3, tokens verified with PyJWT against the served JWKS.
``Emulator.start()`` itself stays pool-less (the suite's fixtures build their own pools on it).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import boto3
import jwt
import pytest
from botocore.config import Config

import harness
from harness.control import Control
from harness.coordinates import PoolCoordinates
from harness.pooldef import PoolDefinitionError
from harness.server import Emulator

ONE_TRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with harness.start(seed=11) as started:
        yield started


def test_start_loads_the_default_pool_and_says_where_it_is(emu: Emulator) -> None:
    pool = emu.pool
    assert isinstance(pool, PoolCoordinates)
    idp = emu.boto3_client()
    assert [p["Id"] for p in idp.list_user_pools(MaxResults=10)["UserPools"]] == [pool.pool_id]
    assert idp.describe_user_pool(UserPoolId=pool.pool_id)["UserPool"]["Name"] == "harness-default"
    client = idp.describe_user_pool_client(UserPoolId=pool.pool_id, ClientId=pool.client_id)["UserPoolClient"]
    assert client["ClientName"] == "web" and "ClientSecret" not in client and pool.client_secret == ""
    assert pool.endpoint == emu.url and pool.region == emu.region
    assert pool.issuer == f"{emu.url}/{pool.pool_id}" and pool.jwks_url == f"{pool.issuer}/.well-known/jwks.json"
    assert {name for name, _, _ in pool.clients} == {"web", "server"}
    # the control plane answers the same coordinates (one builder for serve, env and start)
    assert Control(emu.backend).coordinates()["exports"] == [list(pair) for pair in pool.exports()]


def test_the_pool_signs_a_user_in_with_nothing_but_its_env(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """An app reading only the env contract (boto3 finds the endpoint in AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER)."""
    assert emu.pool is not None and emu.pool_handle is not None
    for name, value in emu.pool.env().items():
        monkeypatch.setenv(name, value)
    idp = boto3.client("cognito-idp", config=ONE_TRY)  # no endpoint, region or keys passed
    password = emu.pool_handle.users["alice"].password
    tokens = idp.initiate_auth(ClientId=emu.pool.client_id, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "alice", "PASSWORD": password})["AuthenticationResult"]
    key = jwt.PyJWKClient(emu.pool.jwks_url, cache_jwk_set=False).get_signing_key_from_jwt(tokens["IdToken"])
    claims = jwt.decode(tokens["IdToken"], key.key, algorithms=["RS256"], audience=emu.pool.client_id,
                        issuer=emu.pool.issuer)
    assert claims["cognito:username"] == "alice" and claims["token_use"] == "id"


@pytest.mark.parametrize("none", [None, False])
def test_start_without_a_pool(none: bool | None) -> None:
    with harness.start(seed=12, pool=none) as bare:
        assert bare.pool is None and bare.pool_handle is None
        assert bare.boto3_client().list_user_pools(MaxResults=10)["UserPools"] == []


def test_emulator_start_stays_pool_less() -> None:
    with Emulator.start(seed=13) as bare:
        assert bare.pool is None and not bare.backend.pools
        made = bare.load_pool()  # the same loader harness.start() uses, on demand
        assert bare.pool == made and list(bare.backend.pools) == [made.pool_id]


def test_start_with_another_definition(tmp_path: Path) -> None:
    definition = tmp_path / "shop.toml"
    definition.write_text('[pool]\nname = "shop"\n[clients.backend]\ngenerate_secret = true\n'
                          '[[users]]\nusername = "sam"\npassword = "Sam-Passw0rd!"\n')
    with harness.start(seed=14, pool=str(definition)) as shop:
        assert shop.pool is not None and shop.pool_handle is not None
        assert shop.boto3_client().describe_user_pool(UserPoolId=shop.pool.pool_id)["UserPool"]["Name"] == "shop"
        assert shop.pool.client_secret and shop.pool.client_id == shop.pool_handle.clients["backend"].client_id
        assert list(shop.pool_handle.users) == ["sam"]
    with harness.start(seed=14, pool=definition) as same:  # a Path too
        assert same.pool is not None and same.pool.pool_id == shop.pool.pool_id  # same seed, same ids


def test_a_bad_definition_raises_and_leaves_no_server(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[pool]\nname = "x"\nnmae = "typo"\n')
    before = threading.active_count()
    with pytest.raises(PoolDefinitionError, match="nmae"):
        harness.start(seed=15, pool=bad)
    assert threading.active_count() == before  # the server it started was stopped again

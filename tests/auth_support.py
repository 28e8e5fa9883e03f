"""Shared helpers for the sign-in, token and sign-up tests.

Everything goes over HTTP with real boto3 clients; every issued token is
verified with PyJWT against the JWKS the emulator serves, and time-based
claims are checked against the emulator's virtual clock (not the wall
clock, which the tests fast-forward past).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import jwt
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from harness.fake_idps import FakeIdPHandle, FakeIdPs
from srp_client import SRPClient

PASSWORD = "Passw0rd!"
ALL_FLOWS = [
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
]
ADMIN_SCOPE = "aws.cognito.signin.user.admin"


@contextlib.contextmanager
def raises(code: str, message: str | None = None) -> Iterator[pytest.ExceptionInfo[ClientError]]:
    """Expect a Cognito error with this ``__type`` (and exact message, if given)."""
    with pytest.raises(ClientError) as info:
        yield info
    error = info.value.response["Error"]
    assert error["Code"] == code, error
    if message is not None:
        assert error["Message"] == message, error
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def secret_hash(client_id: str, secret: str, username: str) -> str:
    digest = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass
class App:
    """A pool and one app client, plus the emulator they live in."""

    emulator: Any
    idp: Any
    pool_id: str
    client_id: str
    client_secret: str | None = None

    @property
    def backend(self) -> Any:
        return self.emulator.backend

    @property
    def clock(self) -> Any:
        return self.emulator.backend.clock

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now(), timezone.utc)

    def hash_for(self, username: str) -> dict[str, str]:
        return {"SECRET_HASH": secret_hash(self.client_id, self.client_secret, username)} if self.client_secret else {}

    def sign_up(self, username: str, password: str = PASSWORD, **attributes: str) -> dict[str, Any]:
        extra = {"SecretHash": secret_hash(self.client_id, self.client_secret, username)} if self.client_secret else {}
        return self.idp.sign_up(
            ClientId=self.client_id,
            Username=username,
            Password=password,
            UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()],
            **extra,
        )

    def confirmed_user(self, username: str, password: str = PASSWORD, **attributes: str) -> str:
        """Sign up and confirm with the code from the mailbox; returns the sub."""
        sub = self.sign_up(username, password, **attributes)["UserSub"]
        to = attributes.get("phone_number") or attributes.get("email")
        code = self.backend.mailbox.latest_code(to=to) if to else None
        if code is None:
            self.idp.admin_confirm_sign_up(UserPoolId=self.pool_id, Username=username)
        else:
            extra = {"SecretHash": secret_hash(self.client_id, self.client_secret, username)} if self.client_secret else {}
            self.idp.confirm_sign_up(ClientId=self.client_id, Username=username, ConfirmationCode=code, **extra)
        return sub

    def password_auth(self, username: str, password: str = PASSWORD) -> dict[str, Any]:
        return self.idp.initiate_auth(
            ClientId=self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password, **self.hash_for(username)},
        )

    def sign_in(self, username: str, password: str = PASSWORD) -> dict[str, Any]:
        """USER_PASSWORD_AUTH; returns the AuthenticationResult (verified)."""
        result = self.password_auth(username, password)
        assert result["ChallengeParameters"] == {}
        self.verify(result["AuthenticationResult"])
        return result["AuthenticationResult"]

    def srp_start(self, username: str, password: str = PASSWORD) -> tuple[SRPClient, dict[str, Any]]:
        client = SRPClient(self.pool_id, username, password)
        answer = self.idp.initiate_auth(
            ClientId=self.client_id,
            AuthFlow="USER_SRP_AUTH",
            AuthParameters={"USERNAME": username, "SRP_A": client.srp_a, **self.hash_for(username)},
        )
        return client, answer

    def srp_sign_in(self, username: str, password: str = PASSWORD, **respond: Any) -> dict[str, Any]:
        """USER_SRP_AUTH end to end with the independent test client; the final answer."""
        client, answer = self.srp_start(username, password)
        assert answer["ChallengeName"] == "PASSWORD_VERIFIER"
        params = answer["ChallengeParameters"]
        responses = client.claim(params, self.now())
        responses.update(self.hash_for(params["USERNAME"]))
        return self.idp.respond_to_auth_challenge(
            ClientId=self.client_id, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=responses, **respond
        )

    # --- token verification -----------------------------------------------------------

    def jwks(self) -> jwt.PyJWKSet:
        response = requests.get(f"{self.emulator.url}/{self.pool_id}/.well-known/jwks.json", timeout=5)
        assert response.status_code == 200
        return jwt.PyJWKSet.from_dict(response.json())

    @property
    def issuer(self) -> str:
        return f"{self.emulator.url}/{self.pool_id}"

    def decode(self, token: str, use: str) -> dict[str, Any]:
        """Verify a token's signature against the served JWKS and its claims against the pool."""
        kid = jwt.get_unverified_header(token)["kid"]
        key = next(k for k in self.jwks().keys if k.key_id == kid)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            issuer=self.issuer,
            audience=self.client_id if use == "id" else None,
            options={"verify_exp": False, "verify_iat": False, "verify_aud": use == "id"},
        )
        assert claims["token_use"] == use
        return claims

    def verify(self, result: dict[str, Any], *, live: bool = True) -> dict[str, dict[str, Any]]:
        """Check an AuthenticationResult the way a careful relying party would."""
        assert result["TokenType"] == "Bearer"
        access = self.decode(result["AccessToken"], "access")
        assert access["client_id"] == self.client_id and "aud" not in access
        assert access["scope"] == ADMIN_SCOPE
        assert result["ExpiresIn"] == access["exp"] - access["iat"]
        out = {"access": access}
        if "IdToken" in result:
            id_claims = self.decode(result["IdToken"], "id")
            assert id_claims["aud"] == self.client_id
            assert jwt.get_unverified_header(result["IdToken"])["kid"] != jwt.get_unverified_header(result["AccessToken"])["kid"]
            assert id_claims["origin_jti"] == access["origin_jti"]
            assert id_claims["sub"] == access["sub"]
            assert id_claims["cognito:username"] == access["username"]
            assert id_claims["auth_time"] == access["auth_time"]
            out["id"] = id_claims
        if "RefreshToken" in result:
            assert result["RefreshToken"].count(".") == 4  # JWE-shaped, opaque
        if live:
            now = self.clock.now()
            assert access["iat"] <= now + 1 < access["exp"]
        return out


def make_app(
    emulator: Any,
    idp: Any,
    *,
    pool: dict[str, Any] | None = None,
    client: dict[str, Any] | None = None,
    secret: bool = False,
) -> App:
    """A pool (email auto-verified by default) and a client with every flow allowed.

    The App talks through a boto3 client that never retries: botocore retries
    LimitExceededException by default, which would repeat a SignUp (and count
    attempts twice) behind the test's back.
    """
    idp = emulator.boto3_client(config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
    pool_args = {"PoolName": "app", "AutoVerifiedAttributes": ["email"], **(pool or {})}
    pool_id = idp.create_user_pool(**pool_args)["UserPool"]["Id"]
    client_args = {"ClientName": "web", "ExplicitAuthFlows": ALL_FLOWS, "GenerateSecret": secret, **(client or {})}
    made = idp.create_user_pool_client(UserPoolId=pool_id, **client_args)["UserPoolClient"]
    return App(emulator, idp, pool_id, made["ClientId"], made.get("ClientSecret"))


def add_fake_google(backend: Any, idp: Any, pool_id: str) -> FakeIdPHandle:
    """A fake Google IdP with one selected user (ann@example.com), federated into ``pool_id`` as "Google"."""
    google = FakeIdPs(backend).create("google", preset="google")
    google.set_user("1001", email="ann@example.com", email_verified=True, select=True)
    idp.create_identity_provider(
        UserPoolId=pool_id, ProviderName="Google", ProviderType="Google",
        ProviderDetails={"client_id": google.client_id, "client_secret": google.client_secret,
                         "authorize_scopes": "openid email"},
        AttributeMapping={"email": "email", "username": "sub"})
    return google


def add_client(app: App, **client: Any) -> App:
    """Another client of the same pool."""
    args = {"ClientName": "other", "ExplicitAuthFlows": ALL_FLOWS, **client}
    made = app.idp.create_user_pool_client(UserPoolId=app.pool_id, **args)["UserPoolClient"]
    return App(app.emulator, app.idp, app.pool_id, made["ClientId"], made.get("ClientSecret"))


@pytest.fixture()
def app(emulator: Any, idp: Any) -> App:
    """A pool with an all-flows client, under a frozen virtual clock."""
    emulator.backend.clock.freeze()
    return make_app(emulator, idp)


@pytest.fixture()
def alice(app: App) -> str:
    return app.confirmed_user("alice", email="alice@example.com")

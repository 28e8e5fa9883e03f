"""Helpers for the logins / OpenID / classic-flow tests: a user pool with signed-in users and an
identity pool trusting its client, all built and used over HTTP with real boto3 clients."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auth_support import App, make_app
from harness.server import Emulator

AUTH_ROLE = "arn:aws:iam::123456789012:role/app-authenticated"
GUEST_ROLE = "arn:aws:iam::123456789012:role/app-guest"
ROLES = {"authenticated": AUTH_ROLE, "unauthenticated": GUEST_ROLE}
START = 1_900_000_000


@dataclass
class Flow:
    emulator: Emulator
    app: App
    cognito: Any  # boto3 cognito-identity
    pool_id: str = ""
    users: dict[str, str] = field(default_factory=dict)  # username -> sub

    @property
    def provider(self) -> str:
        return f"cognito-idp.{self.emulator.region}.amazonaws.com/{self.app.pool_id}"

    def identity_pool(self, *, unauthenticated: bool = True, classic: bool = False, check: bool = False,
                      client_id: str | None = None, roles: dict[str, str] | None = ROLES, **extra: Any) -> str:
        self.pool_id = self.cognito.create_identity_pool(
            IdentityPoolName="app", AllowUnauthenticatedIdentities=unauthenticated, AllowClassicFlow=classic,
            CognitoIdentityProviders=[{"ProviderName": self.provider, "ClientId": client_id or self.app.client_id,
                                       "ServerSideTokenCheck": check}], **extra,
        )["IdentityPoolId"]
        if roles:
            self.cognito.set_identity_pool_roles(IdentityPoolId=self.pool_id, Roles=roles)
        return self.pool_id

    def user(self, username: str) -> str:
        sub = self.app.confirmed_user(username, email=f"{username}@example.com")
        self.users[username] = sub
        return sub

    def id_token(self, username: str) -> str:
        return self.app.sign_in(username)["IdToken"]

    def logins(self, username: str) -> dict[str, str]:
        return {self.provider: self.id_token(username)}

    def get_id(self, logins: dict[str, str] | None = None) -> str:
        extra = {"Logins": logins} if logins is not None else {}
        return self.cognito.get_id(IdentityPoolId=self.pool_id, **extra)["IdentityId"]


def make_flow(emulator: Emulator) -> Flow:
    """A user pool (frozen virtual clock) with ann and bob, and an identity-pool client."""
    emulator.backend.clock.freeze(START)
    flow = Flow(emulator, make_app(emulator, None), emulator.identity_client())
    flow.user("ann")
    flow.user("bob")
    return flow

"""A pool's coordinates and the environment contract that carries them to an app.

``cognito-harness serve`` prints these variables as shell exports (and writes
them to its ``--env-file``), ``cognito-harness env`` prints them for a running
server, and the runner passes them to the targets it launches (the launch
contract in README.md), so all of them read them from here.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass

TEST_KEY = "testing"
"""The only AWS credentials the harness hands out (access key id and secret alike)."""


def hosted_ui_url(emulator_url: str, pool_id: str) -> str:
    """Where a pool's hosted UI (managed login) is served: COGNITO_DOMAIN."""
    return f"{emulator_url.rstrip('/')}/{pool_id}"


@dataclass(frozen=True)
class PoolCoordinates:
    """Where the pool lives and which client the app is: what the env contract carries."""

    region: str
    pool_id: str
    client_id: str
    client_secret: str  # "" for a public client
    issuer: str
    jwks_url: str
    endpoint: str  # the cognito-idp API
    domain: str  # hosted UI base URL
    other_client_id: str = ""  # a second app client of the same pool (client_id confusion checks)
    other_client_secret: str = ""
    identity_pool_id: str = ""  # the definition's [identity_pool], when it has one (cognito-identity)
    clients: tuple[tuple[str, str, str], ...] = ()  # every app client of the pool: (name, id, secret or "")

    def env(self) -> dict[str, str]:
        """The contract's variables (everything but the app's own PORT)."""
        return {
            "COGNITO_REGION": self.region,
            "COGNITO_USER_POOL_ID": self.pool_id,
            "COGNITO_CLIENT_ID": self.client_id,
            "COGNITO_CLIENT_SECRET": self.client_secret or "",
            "COGNITO_ISSUER": self.issuer,
            "COGNITO_JWKS_URL": self.jwks_url,
            "COGNITO_ENDPOINT": self.endpoint,
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": self.endpoint,
            # the same server answers cognito-identity (identity pools): boto3 / the AWS SDKs read this one for it
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY": self.endpoint,
            "COGNITO_IDENTITY_POOL_ID": self.identity_pool_id,
            "COGNITO_DOMAIN": self.domain,
            "AWS_ACCESS_KEY_ID": TEST_KEY,
            "AWS_SECRET_ACCESS_KEY": TEST_KEY,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }

    def exports(self) -> list[tuple[str, str]]:
        """What ``serve`` and ``env`` hand a shell: the contract, then ``COGNITO_CLIENT_ID_<NAME>`` and
        ``COGNITO_CLIENT_SECRET_<NAME>`` for every app client (the name upper-cased, other characters ``_``)."""
        pairs = list(self.env().items())
        for name, client_id, secret in self.clients:
            suffix = "".join(ch if ch.isalnum() else "_" for ch in name).upper()
            pairs += [(f"COGNITO_CLIENT_ID_{suffix}", client_id), (f"COGNITO_CLIENT_SECRET_{suffix}", secret)]
        return pairs


def export_lines(pairs: Iterable[tuple[str, str]]) -> list[str]:
    """``export NAME=value`` lines a POSIX shell sources as they are (values quoted)."""
    return [f"export {name}={shlex.quote(value)}" for name, value in pairs]

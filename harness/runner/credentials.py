"""Whose AWS credentials a run signs its cognito-idp calls with on a foreign backend (``run --backend URL``).

The rule, in one place:

* the default boto3 chain decides: environment variables, the shared
  credentials and config files (``AWS_PROFILE``, SSO, ``credential_process``,
  assume-role profiles), web identity, then the container and instance roles;
* for a **loopback** endpoint (``localhost``, 127.0.0.0/8, ``::1``: a moto
  server, LocalStack, another ``cognito-harness serve`` on this machine) the
  container and instance-metadata providers are not asked (they would reach
  169.254.169.254 and mean nothing to a local emulator), and when the rest of
  the chain has nothing, the harness's test keys (``testing``/``testing``) are
  used;
* for any other endpoint the test keys are never used: a chain with nothing is
  an error that names the URL.

Only the provider's name is ever shown (``env``, ``shared-credentials-file``,
``iam-role``...), never a key.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

import boto3
import botocore.session
from botocore.exceptions import BotoCoreError

from harness.coordinates import TEST_KEY

NETWORK_PROVIDERS = ("container-role", "iam-role")
"""Chain providers that ask a metadata endpoint over the network: skipped for a loopback endpoint."""
TEST_KEYS_METHOD = "harness test keys"
KEY_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


class CredentialsError(RuntimeError):
    """The chain has no credentials for a non-loopback endpoint, or a configured provider failed."""


def is_loopback(url: str) -> bool:
    """True for ``localhost`` and literal loopback addresses (127.0.0.0/8, ::1); names are not resolved."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class CredentialSource:
    """Where the run's credentials came from (never the keys themselves)."""

    method: str  # botocore's provider name, or TEST_KEYS_METHOD

    @property
    def test_keys(self) -> bool:
        return self.method == TEST_KEYS_METHOD

    def describe(self) -> str:
        if self.test_keys:
            return (f"{TEST_KEYS_METHOD} ({TEST_KEY}/{TEST_KEY}: loopback endpoint, and the default chain found "
                    "no credentials)")
        return f"the default boto3 chain ({self.method})"

    def app_env(self) -> dict[str, str]:
        """What a launched app gets instead of the launch contract's test keys.

        With test keys: nothing (the contract already hands them out). Otherwise
        the key variables as the harness's own environment has them, empty when
        it has none, so the app's SDK goes on down its own chain (profile, role)
        rather than signing with ``testing``; nothing is copied out of a
        profile or a role into the environment.
        """
        if self.test_keys:
            return {}
        return {name: os.environ.get(name, "") for name in KEY_VARIABLES}


def credential_session(url: str, region: str) -> tuple[boto3.Session, CredentialSource]:
    """A boto3 session for ``url`` with the chain's credentials, or the test keys (loopback only)."""
    core = botocore.session.Session()
    loopback = is_loopback(url)
    try:
        if loopback:
            resolver = core.get_component("credential_provider")
            for name in NETWORK_PROVIDERS:
                if resolver.get_provider(name) is not None:
                    resolver.remove(name)
        found = core.get_credentials()
    except BotoCoreError as exc:  # a missing profile, a failing credential_process or SSO token
        raise CredentialsError(f"AWS credentials: {exc}") from None
    if found is None:
        if not loopback:
            raise CredentialsError(
                "no AWS credentials: the default chain (environment variables, AWS_PROFILE and the "
                "shared files, SSO, web identity, container and instance roles) found none; the harness's test "
                "keys are used only for a loopback endpoint")
        core.set_credentials(TEST_KEY, TEST_KEY)
        source = CredentialSource(TEST_KEYS_METHOD)
    else:
        source = CredentialSource(found.method or "unknown")
    return boto3.Session(botocore_session=core, region_name=region), source


def chain_region() -> str | None:
    """The region the chain's configuration names (AWS_REGION, AWS_DEFAULT_REGION, the profile), if any."""
    if os.environ.get("AWS_REGION"):  # the AWS SDKs' variable, which botocore does not read
        return os.environ["AWS_REGION"]
    try:
        return botocore.session.Session().get_config_variable("region") or None
    except BotoCoreError:
        return None


__all__ = ["CredentialSource", "CredentialsError", "KEY_VARIABLES", "TEST_KEYS_METHOD", "chain_region",
           "credential_session", "is_loopback"]

"""``cognito-harness serve`` as a real subprocess: exports, boto3 calls, clean SIGTERM/SIGINT exit."""

from __future__ import annotations

import os
import queue
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import jwt
import pytest
import requests
from botocore.config import Config

REQUIRED = (
    "COGNITO_REGION", "COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID", "COGNITO_CLIENT_SECRET", "COGNITO_ISSUER",
    "COGNITO_JWKS_URL", "COGNITO_ENDPOINT", "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION",
)


def _command() -> list[str]:
    exe = shutil.which("cognito-harness")
    return [exe] if exe else [sys.executable, "-m", "harness.cli"]


class Served:
    """A running ``cognito-harness serve`` with its parsed exports."""

    def __init__(self, *args: str, cwd: str | None = None) -> None:
        self.proc = subprocess.Popen(
            [*_command(), "serve", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.env = self._read_exports()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _read_exports(self) -> dict[str, str]:
        """Every export line (they are printed together once the server listens)."""
        env: dict[str, str] = {}
        while True:
            try:
                line = self.lines.get(timeout=1 if set(REQUIRED) <= set(env) else 30)
            except queue.Empty:
                if set(REQUIRED) <= set(env):
                    return env
                self.stop()
                pytest.fail(f"no exports within 30 s; got {env}")
            if line is None:
                err = self.proc.stderr.read() if self.proc.stderr else ""
                pytest.fail(f"serve exited with {self.proc.wait()} before printing exports: {err}")
            words = shlex.split(line)
            assert words[0] == "export", line
            name, _, value = words[1].partition("=")
            env[name] = value

    def idp(self) -> Any:
        return boto3.client(
            "cognito-idp", endpoint_url=self.env["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"],
            region_name=self.env["AWS_DEFAULT_REGION"], aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"], config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        )

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=15)
        finally:
            for stream in (self.proc.stdout, self.proc.stderr):
                if stream:
                    stream.close()


@pytest.fixture()
def served() -> Iterator[Served]:
    server = Served("--port", "0", "--seed", "1")
    try:
        yield server
    finally:
        server.stop()


def test_serve_prints_exports_and_answers_boto3(served: Served) -> None:
    env = served.env
    assert env["COGNITO_ENDPOINT"].startswith("http://127.0.0.1:")
    assert env["COGNITO_ISSUER"] == f"{env['COGNITO_ENDPOINT']}/{env['COGNITO_USER_POOL_ID']}"
    assert env["COGNITO_JWKS_URL"] == f"{env['COGNITO_ISSUER']}/.well-known/jwks.json"
    assert env["COGNITO_CLIENT_SECRET"] == "" and env["COGNITO_CLIENT_SECRET_SERVER"]
    assert env["AWS_ACCESS_KEY_ID"] == env["AWS_SECRET_ACCESS_KEY"] == "testing"
    assert env["COGNITO_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"

    idp = served.idp()
    described = idp.describe_user_pool(UserPoolId=env["COGNITO_USER_POOL_ID"])["UserPool"]
    assert described["Name"] == "harness-default"
    result = idp.initiate_auth(ClientId=env["COGNITO_CLIENT_ID"], AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "alice", "PASSWORD": "Alice-Passw0rd!"})
    token = result["AuthenticationResult"]["AccessToken"]
    key = jwt.PyJWKClient(env["COGNITO_JWKS_URL"], cache_jwk_set=False).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["RS256"], issuer=env["COGNITO_ISSUER"])
    assert claims["client_id"] == env["COGNITO_CLIENT_ID"] and claims["username"] == "alice"

    info = requests.get(f"{env['COGNITO_ENDPOINT']}/_harness", timeout=5).json()
    assert info["seed"] == 1 and info["pools"][0]["pool_id"] == env["COGNITO_USER_POOL_ID"]
    assert served.stop(signal.SIGTERM) == 0


def test_serve_is_deterministic_and_stops_on_ctrl_c(served: Served, tmp_path: Path) -> None:
    # a second server, same seed, started from another directory: same pool, same client
    other = Served("--port", "0", "--seed", "1", "--issuer", "aws", "--frozen-clock", cwd=str(tmp_path))
    try:
        for name in ("COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID", "COGNITO_CLIENT_SECRET_SERVER"):
            assert other.env[name] == served.env[name]
        pool_id = other.env["COGNITO_USER_POOL_ID"]
        assert other.env["COGNITO_ISSUER"] == f"https://cognito-idp.us-east-1.amazonaws.com/{pool_id}"
        assert other.env["COGNITO_JWKS_URL"].startswith(other.env["COGNITO_ENDPOINT"])
        clock = requests.get(f"{other.env['COGNITO_ENDPOINT']}/_harness/clock", timeout=5).json()
        assert clock["mode"] == "frozen"
    finally:
        assert other.stop(signal.SIGINT) == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_on_a_chosen_port_and_client(tmp_path: Path) -> None:
    port = _free_port()
    server = Served("--port", str(port), "--seed", "3", "--client", "server")
    try:
        assert server.env["COGNITO_ENDPOINT"] == f"http://127.0.0.1:{port}"
        assert server.env["COGNITO_CLIENT_SECRET"] == server.env["COGNITO_CLIENT_SECRET_SERVER"] != ""
        busy = subprocess.run([*_command(), "serve", "--port", str(port)], capture_output=True, text=True,
                              timeout=30)
        assert busy.returncode == 2 and f"127.0.0.1:{port}" in busy.stderr
    finally:
        assert server.stop() == 0


def test_serve_rejects_a_bad_pool_definition(tmp_path: Path) -> None:
    bad = tmp_path / "pool.toml"
    bad.write_text('[pool]\nname = "x"\nnmae = "typo"\n')
    result = subprocess.run([*_command(), "serve", "--port", "0", "--pool", str(bad)], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 2
    assert str(bad) in result.stderr and "pool.nmae" in result.stderr and "unknown key" in result.stderr
    assert result.stdout == ""
    missing = subprocess.run([*_command(), "serve", "--port", "0", "--client", "nope"], capture_output=True,
                             text=True, timeout=30)
    assert missing.returncode == 2 and "--client 'nope'" in missing.stderr


def test_cli_help_lists_serve_flags() -> None:
    result = subprocess.run([*_command(), "serve", "--help"], capture_output=True, text=True, timeout=30,
                            env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0
    for flag in ("--host", "--port", "--pool", "--seed", "--issuer", "--frozen-clock"):
        assert flag in result.stdout
    top = subprocess.run(_command(), capture_output=True, text=True, timeout=30)
    assert top.returncode == 2 and "serve" in top.stderr

"""``cognito-harness serve`` as a real subprocess: exports, boto3 calls, clean SIGTERM/SIGINT exit."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
import requests

from harness.cli.serve import ControlAccess, ServeRefused
from harness.control import ControlError, RemoteControl
from harness.control.guard import TOKEN_ENV
from tests.serve_support import Served, cli_command, serve_environment

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
        busy = subprocess.run([*cli_command(), "serve", "--port", str(port)], capture_output=True, text=True,
                              timeout=30)
        assert busy.returncode == 2 and f"127.0.0.1:{port}" in busy.stderr
    finally:
        assert server.stop() == 0


def test_serve_rejects_a_bad_pool_definition(tmp_path: Path) -> None:
    bad = tmp_path / "pool.toml"
    bad.write_text('[pool]\nname = "x"\nnmae = "typo"\n')
    result = subprocess.run([*cli_command(), "serve", "--port", "0", "--pool", str(bad)], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 2
    assert str(bad) in result.stderr and "pool.nmae" in result.stderr and "unknown key" in result.stderr
    assert result.stdout == ""
    missing = subprocess.run([*cli_command(), "serve", "--port", "0", "--client", "nope"], capture_output=True,
                             text=True, timeout=30)
    assert missing.returncode == 2 and "--client 'nope'" in missing.stderr


def test_cli_help_lists_serve_flags() -> None:
    result = subprocess.run([*cli_command(), "serve", "--help"], capture_output=True, text=True, timeout=30,
                            env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0
    for flag in ("--host", "--port", "--pool", "--seed", "--issuer", "--frozen-clock", "--control-token",
                 "--allowed-host"):
        assert flag in result.stdout
    top = subprocess.run(cli_command(), capture_output=True, text=True, timeout=30)
    assert top.returncode == 2 and "serve" in top.stderr


# --- the control token -----------------------------------------------------------------------------

TOKEN = "serve-test-token-0123456789abcdef"


def _serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*cli_command(), "serve", "--port", "0", *args], capture_output=True, text=True, timeout=30,
                          env=serve_environment(env))


def test_serve_refuses_a_non_loopback_host_without_a_token() -> None:
    """Refused before anything is bound: no test here ever listens beyond loopback."""
    for host in ("0.0.0.0", "192.0.2.10"):
        result = _serve("--host", host)
        assert result.returncode == 2, (host, result.stderr)
        assert "not a loopback address" in result.stderr and "--control-token generate" in result.stderr
        assert TOKEN_ENV in result.stderr and result.stdout == ""
        assert "cannot listen" not in result.stderr  # the refusal, not a failed bind


def test_a_token_lets_serve_choose_any_host() -> None:
    """The decision alone (serving 0.0.0.0 for real would leave loopback)."""
    for host in ("0.0.0.0", "::", "", "10.1.2.3", "cognito"):
        assert ControlAccess.choose(host, TOKEN, {}).token == TOKEN
        assert ControlAccess.choose(host, None, {TOKEN_ENV: TOKEN}) == ControlAccess(TOKEN, generated=False)
        made = ControlAccess.choose(host, "generate", {})
        assert made.generated and made.token and len(made.token) >= 32
        with pytest.raises(ServeRefused, match="not a loopback address"):
            ControlAccess.choose(host, None, {TOKEN_ENV: ""})  # empty: no token
    for host in ("127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]", "::ffff:127.0.0.1"):
        assert ControlAccess.choose(host, None, {}).token is None
    assert ControlAccess.choose("127.0.0.1", "generate", {}) != ControlAccess.choose("127.0.0.1", "generate", {})


def test_serve_generates_a_token_and_prints_it_only_in_the_exports() -> None:
    server = Served("--port", "0", "--seed", "1", "--control-token", "generate")
    try:
        token = server.env[TOKEN_ENV]
        assert len(token) >= 32
        base = server.env["COGNITO_ENDPOINT"]
        refused = requests.get(f"{base}/_harness", timeout=5)
        assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert requests.get(f"{base}/_harness", headers={"Authorization": f"Bearer {token}"}, timeout=5).json()["seed"] == 1
        assert RemoteControl(base, token=token).info()["pools"][0]["pool_id"] == server.env["COGNITO_USER_POOL_ID"]
        with pytest.raises(ControlError):
            RemoteControl(base, token="").info()
        assert server.idp().describe_user_pool(UserPoolId=server.env["COGNITO_USER_POOL_ID"])  # the API: no token
    finally:
        assert server.stop() == 0
    assert sum(token in line for line in server.stdout) == 1  # the export line, nowhere else
    assert token not in server.stderr and TOKEN_ENV in server.stderr


def test_serve_takes_the_token_from_theserve_environment() -> None:
    server = Served("--port", "0", "--seed", "2", env={TOKEN_ENV: TOKEN})
    try:
        base = server.env["COGNITO_ENDPOINT"]
        assert TOKEN_ENV not in server.env  # the caller has it already: never printed
        assert requests.get(f"{base}/_harness/snapshot", timeout=5).status_code == 401
        assert requests.post(f"{base}/_harness/reset", json={}, timeout=5).status_code == 401
        assert RemoteControl(base, token=TOKEN).info()["seed"] == 2
    finally:
        assert server.stop() == 0
    assert not any(TOKEN in line for line in server.stdout) and TOKEN not in server.stderr


def test_serve_refuses_a_weak_token_without_echoing_it() -> None:
    weak = "short-secret"
    for args, env in ((("--control-token", weak), None), ((), {TOKEN_ENV: weak}),
                      (("--host", "0.0.0.0", "--control-token", "with space 0123456789abcdef"), None)):
        result = _serve(*args, env=env)
        assert result.returncode == 2 and "control token" in result.stderr, result.stderr
        assert weak not in result.stderr and "with space" not in result.stderr and result.stdout == ""


def test_serve_allowed_hosts_reach_the_control_plane() -> None:
    port = _free_port()
    server = Served("--port", str(port), "--allowed-host", "cognito", "--public-url", "http://emu.internal:9229")
    try:
        assert server.env["COGNITO_ENDPOINT"] == "http://emu.internal:9229"  # the public URL; it listens on loopback
        for host, status in (("cognito:9229", 200), ("emu.internal:9229", 200), (f"localhost:{port}", 200),
                             ("attacker.example", 403)):
            response = requests.get(f"http://127.0.0.1:{port}/_harness", headers={"Host": host}, timeout=5)
            assert response.status_code == status, host
    finally:
        assert server.stop() == 0
    bad = _serve("--allowed-host", "not a host")
    assert bad.returncode == 2 and "--allowed-host" in bad.stderr

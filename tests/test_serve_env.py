"""Getting ``serve``'s exports into a shell without ``eval "$(serve)"`` (which never returns).

Real subprocesses on free loopback ports: ``serve --env-file F`` writes the exports to F (0600,
atomically, once it answers; gone when it stops), a real ``bash`` sources it, and
``cognito-harness env`` asks the running server for the same lines over its guarded control plane
(once as a subprocess under ``eval``; its error cases run the same ``main`` in this process, since
every CLI start costs a second or more of imports).
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from harness.cli import main
from harness.control.guard import TOKEN_ENV

TOKEN = "env-file-test-token-0123456789abcdef"
WRONG = "not-the-token-of-this-server-0123456789"
APPEAR_WITHIN = 60.0  # seconds: a server that never writes its file fails the test instead of hanging it


def _command() -> list[str]:
    exe = shutil.which("cognito-harness")
    return [exe] if exe else [sys.executable, "-m", "harness.cli"]


def _environment(**extra: str) -> dict[str, str]:
    """This environment without a control token (a developer may have one exported), plus ``extra``."""
    return {**{k: v for k, v in os.environ.items() if k != TOKEN_ENV}, **extra}


def _exports(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("export ")]


def _parsed(lines: list[str]) -> dict[str, str]:
    pairs = (shlex.split(line)[1].partition("=") for line in lines)
    return {name: value for name, _, value in pairs}


@dataclass
class Server:
    """A ``cognito-harness serve --env-file`` subprocess, its stdout in a file (no pipe to fill)."""

    proc: subprocess.Popen[str]
    env_file: Path
    stdout: Path

    @classmethod
    def start(cls, folder: Path, *args: str, token: str | None = None, marker: str = "COGNITO_USER_POOL_ID") -> Server:
        env_file, stdout = folder / "cognito.env", folder / "serve.out"
        extra = {TOKEN_ENV: token} if token else {}
        with stdout.open("w") as out:
            proc = subprocess.Popen([*_command(), "serve", "--port", "0", "--env-file", str(env_file), *args],
                                    stdout=out, stderr=subprocess.PIPE, text=True, env=_environment(**extra))
        server = cls(proc, env_file, stdout)
        deadline = time.monotonic() + APPEAR_WITHIN
        while not (env_file.is_file() and marker in env_file.read_text()):
            if proc.poll() is not None or time.monotonic() > deadline:
                if proc.poll() is None:
                    proc.terminate()
                code = proc.wait(timeout=30)
                err = proc.stderr.read() if proc.stderr else ""
                server.stop()
                pytest.fail(f"serve wrote no {env_file} (exit {code}): {err}")
            time.sleep(0.05)
        return server

    @property
    def lines(self) -> list[str]:
        return _exports(self.env_file.read_text())

    @property
    def url(self) -> str:
        return _parsed(self.lines)["COGNITO_ENDPOINT"]

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=30)
        finally:
            if self.proc.stderr:
                self.proc.stderr.close()


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


EnvCommand = Callable[..., Outcome]


@pytest.fixture()
def env_command(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> EnvCommand:
    """``cognito-harness env ARGS`` in this process, with ``token`` (or none) in the environment."""

    def run(*args: str, token: str | None = None) -> Outcome:
        if token:
            monkeypatch.setenv(TOKEN_ENV, token)
        else:
            monkeypatch.delenv(TOKEN_ENV, raising=False)
        capsys.readouterr()
        code = main(["env", *args])
        out, err = capsys.readouterr()
        return Outcome(code, out, err)

    return run


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One guarded server (the token from the environment, as a team runs it) for the module."""
    server = Server.start(tmp_path_factory.mktemp("served"), "--seed", "5", token=TOKEN)
    try:
        yield server
    finally:
        assert server.stop() == 0


def test_the_env_file_holds_what_serve_printed_and_only_its_owner_reads_it(served: Server) -> None:
    mode = stat.S_IMODE(served.env_file.stat().st_mode)
    assert mode == 0o600, oct(mode)
    printed = _exports(served.stdout.read_text())
    assert printed and served.lines == printed
    assert not any(TOKEN in line or TOKEN_ENV in line for line in served.lines)  # the token was not made: not written
    assert not [p for p in served.env_file.parent.iterdir() if p.name.endswith(".tmp")]  # no temporary left over


def test_sourcing_the_env_file_in_bash_gives_a_working_environment(served: Server) -> None:
    names = ("COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID", "COGNITO_CLIENT_SECRET_SERVER", "COGNITO_ISSUER",
             "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", "AWS_DEFAULT_REGION")
    script = f". {shlex.quote(str(served.env_file))} && " + " && ".join(f'printf "%s\\n" "${n}"' for n in names)
    shell = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30,
                           env={"PATH": os.environ.get("PATH", "")})
    assert shell.returncode == 0, shell.stderr
    sourced = dict(zip(names, shell.stdout.splitlines()))
    assert sourced == {n: _parsed(served.lines)[n] for n in names}
    # what the shell got is the server's truth: its pool, its clients, its secret
    idp = boto3.client("cognito-idp", endpoint_url=sourced["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"],
                       region_name=sourced["AWS_DEFAULT_REGION"], aws_access_key_id="testing",
                       aws_secret_access_key="testing", config=Config(retries={"total_max_attempts": 1}))
    pool = sourced["COGNITO_USER_POOL_ID"]
    assert sourced["COGNITO_ISSUER"].endswith(f"/{pool}")
    described = idp.describe_user_pool_client(UserPoolId=pool, ClientId=sourced["COGNITO_CLIENT_ID"])
    assert described["UserPoolClient"]["ClientName"] == "web" and "ClientSecret" not in described["UserPoolClient"]
    clients = idp.list_user_pool_clients(UserPoolId=pool)["UserPoolClients"]
    server_id = next(c["ClientId"] for c in clients if c["ClientName"] == "server")
    secret = idp.describe_user_pool_client(UserPoolId=pool, ClientId=server_id)["UserPoolClient"]["ClientSecret"]
    assert secret == sourced["COGNITO_CLIENT_SECRET_SERVER"]


def test_env_prints_the_same_exports_as_the_file_and_eval_takes_them(served: Server) -> None:
    script = 'out="$("$@")" || exit 3; eval "$out"; printf "%s\n" "$out" "pool=$COGNITO_USER_POOL_ID"'
    evaluated = subprocess.run(["bash", "-c", script, "bash", *_command(), "env", "--url", served.url],
                               capture_output=True, text=True, timeout=60, env=_environment(**{TOKEN_ENV: TOKEN}))
    assert evaluated.returncode == 0, evaluated.stderr
    *printed, pool = evaluated.stdout.splitlines()
    assert printed == served.lines
    assert pool == f"pool={_parsed(served.lines)['COGNITO_USER_POOL_ID']}"


def test_env_picks_another_client_and_names_what_does_not_exist(served: Server, env_command: EnvCommand) -> None:
    other = env_command("--url", served.url, "--client", "server", token=TOKEN)
    assert other.returncode == 0, other.stderr
    chosen = _parsed(_exports(other.stdout))
    default = _parsed(served.lines)["COGNITO_CLIENT_ID"]
    assert chosen["COGNITO_CLIENT_ID"] == chosen["COGNITO_CLIENT_ID_SERVER"] != default
    assert chosen["COGNITO_CLIENT_SECRET"] == chosen["COGNITO_CLIENT_SECRET_SERVER"] != ""
    for args, named in ((("--client", "mobile"), "'mobile'"), (("--pool-id", "us-east-1_Nope"), "'us-east-1_Nope'")):
        refused = env_command("--url", served.url, *args, token=TOKEN)
        assert refused.returncode == 2 and named in refused.stderr and refused.stdout == ""


def test_env_with_a_wrong_or_missing_token_is_a_clear_error(served: Server, env_command: EnvCommand) -> None:
    wrong = env_command("--url", served.url, token=WRONG)
    assert wrong.returncode == 2 and wrong.stdout == ""
    assert "refused the control token" in wrong.stderr and "is not the token the server runs with" in wrong.stderr
    assert WRONG not in wrong.stderr and TOKEN not in wrong.stderr
    missing = env_command("--url", served.url)
    assert missing.returncode == 2 and f"${TOKEN_ENV} is not set" in missing.stderr


def test_env_without_a_server_says_so(env_command: EnvCommand) -> None:
    with socket.socket() as s:  # a port nothing listens on: bound, never listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        result = env_command("--url", f"http://127.0.0.1:{port}", token=TOKEN)
    assert result.returncode == 2 and "no server answers" in result.stderr and "cognito-harness serve" in result.stderr
    bad = env_command("--url", "ftp://127.0.0.1:1")
    assert bad.returncode == 2 and "--url" in bad.stderr


def test_a_stale_file_is_replaced_the_token_and_ca_written_and_the_file_removed_at_exit(
        tmp_path: Path, env_command: EnvCommand) -> None:
    """Under ``--tls`` the machine CA's variables come with the exports, in the file and from ``env`` alike."""
    stale = tmp_path / "cognito.env"
    stale.write_text("export COGNITO_USER_POOL_ID=us-east-1_FromALastRun\n")
    ca_dir = tmp_path / "ca"
    server = Server.start(tmp_path, "--seed", "6", "--control-token", "generate", "--tls", "--ca-dir", str(ca_dir),
                          marker=TOKEN_ENV)
    try:
        lines = server.lines
        assert "us-east-1_FromALastRun" not in server.env_file.read_text()
        values = _parsed(lines)
        token = values[TOKEN_ENV]
        assert len(token) >= 32 and stat.S_IMODE(server.env_file.stat().st_mode) == 0o600
        assert server.url.startswith("https://127.0.0.1:")
        assert Path(values["COGNITO_HARNESS_CA_BUNDLE"]).is_file()
        assert Path(values["COGNITO_HARNESS_CA_BUNDLE"]).parent == ca_dir
        asked = env_command("--url", server.url, "--ca-dir", str(ca_dir), token=token)
        assert asked.returncode == 0, asked.stderr
        # the same lines but the token's: env never prints the token its caller already holds
        assert asked.stdout.splitlines() == [line for line in lines if not line.startswith(f"export {TOKEN_ENV}=")]
        untrusted = env_command("--url", server.url, "--ca-dir", str(tmp_path / "no-ca"), token=token)
        assert untrusted.returncode == 2 and "no machine CA is kept" in untrusted.stderr
    finally:
        assert server.stop(signal.SIGINT) == 0
    assert not server.env_file.exists()


def test_an_env_file_in_a_missing_folder_is_refused_before_binding(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "no-such-folder" / "cognito.env"
    assert main(["serve", "--port", "0", "--env-file", str(target)]) == 2  # returns before anything is bound
    out, err = capsys.readouterr()
    assert "does not exist" in err and str(target.parent) in err and out == ""
    assert not target.parent.exists()

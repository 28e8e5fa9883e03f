"""Dockerfile and docker-compose.yml agree with each other and with the real CLI.

No container engine runs here, so the files are parsed and checked: the port,
the command (it must parse with the real ``cognito-harness serve`` flags), the
healthcheck (it must hit the control plane on that port, with the token), and
the exposure: published on 127.0.0.1 only, the control token passed from the
environment and never written in the files.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.cli.serve import ControlAccess, ServeRefused
from harness.control.guard import TOKEN_ENV
from harness.server import Emulator

yaml = pytest.importorskip("yaml")
TOKEN = "container-test-token-0123456789ab"

ROOT = Path(__file__).resolve().parents[1]
PORT = 9229


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, args = line.partition(" ")
        out.append((instruction.upper(), args.strip()))
    return out


def instruction(name: str) -> list[str]:
    return [args for inst, args in dockerfile() if inst == name]


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
    return value


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def serve_help() -> str:
    exe = shutil.which("cognito-harness")
    command = [exe] if exe else [sys.executable, "-m", "harness.cli"]
    result = subprocess.run([*command, "serve", "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


def check_serve_command(argv: list[str]) -> dict[str, str]:
    """The command is ``cognito-harness serve`` with flags the real CLI has; returns the flag values."""
    assert argv[:2] == ["cognito-harness", "serve"], argv
    known = set(re.findall(r"(--[a-z][a-z0-9-]*)", serve_help()))
    values: dict[str, str] = {}
    rest = argv[2:]
    while rest:
        flag = rest.pop(0)
        assert flag in known, f"{flag} is not a flag of `cognito-harness serve` (has {sorted(known)})"
        if flag != "--frozen-clock":
            values[flag] = rest.pop(0)
    from harness.cli import build_parser

    parsed = build_parser().parse_args(argv[1:])  # and argparse accepts the whole line
    assert parsed.command == "serve"
    return values


def test_dockerfile_base_install_port_and_cmd() -> None:
    assert instruction("FROM") == ["python:3.11-slim"]
    assert any("pip install ." in args for args in instruction("RUN"))
    assert instruction("EXPOSE") == [str(PORT)]
    (cmd,) = instruction("CMD")
    values = check_serve_command(exec_form(cmd))
    assert values["--host"] == "0.0.0.0" and values["--port"] == str(PORT)
    # the default pool definition is found from the working directory the image uses
    (workdir,) = instruction("WORKDIR")
    copies = " ".join(instruction("COPY"))
    assert "fixtures" in copies and "harness" in copies and workdir.startswith("/")
    assert (ROOT / "fixtures" / "pools" / "default.toml").is_file()


def test_compose_cognito_service_matches_the_image() -> None:
    services = compose()["services"]
    cognito = services["cognito"]
    assert cognito.get("build") in (".", {"context": "."})
    ports = [str(p) for p in cognito["ports"]]
    assert any(p.endswith(f"{PORT}:{PORT}") for p in ports), ports
    (cmd,) = instruction("CMD")
    command = cognito.get("command", exec_form(cmd))
    if isinstance(command, str):
        command = shlex.split(command)
    assert command == exec_form(cmd)
    assert check_serve_command(command)["--port"] == str(PORT)


def test_compose_healthcheck_hits_the_control_plane() -> None:
    health = compose()["services"]["cognito"]["healthcheck"]
    test = health["test"]
    assert test[0] in ("CMD", "CMD-SHELL")
    line = " ".join(test[1:])
    assert f"http://127.0.0.1:{PORT}/_harness" in line or f"http://localhost:{PORT}/_harness" in line
    assert "Authorization" in line and TOKEN_ENV in line and "$" not in line  # no compose interpolation
    # the slim image has no curl: the probe must use what the image has
    assert test[1] in ("python", "python3"), test
    for key in ("interval", "timeout", "retries"):
        assert key in health


def test_healthcheck_probe_works_against_a_running_emulator() -> None:
    """Run the compose probe (re-pointed to a live in-process emulator with a token) to prove it succeeds."""
    test = compose()["services"]["cognito"]["healthcheck"]["test"]
    with Emulator.start(seed=1, control_token=TOKEN) as emu:
        argv = [sys.executable if a in ("python", "python3") else a for a in test[1:]]
        argv = [a.replace(f"http://127.0.0.1:{PORT}", emu.url) for a in argv]

        def probe(args: list[str], token: str | None) -> int:
            env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
            if token is not None:
                env[TOKEN_ENV] = token
            return subprocess.run(args, capture_output=True, timeout=30, env=env).returncode

        assert probe(argv, TOKEN) == 0
        assert probe(argv, "wrong-token-0123456789abcdef") != 0 and probe(argv, None) != 0
        broken = [a.replace("/_harness", "/_nothing_here") for a in argv]
        assert probe(broken, TOKEN) != 0


def docker_run_lines() -> list[list[str]]:
    """The ``docker run`` usage lines of the Dockerfile's comments, as argv."""
    lines = [line.lstrip("# ").strip() for line in (ROOT / "Dockerfile").read_text().splitlines()
             if line.startswith("#") and "docker run" in line]
    return [shlex.split(line) for line in lines]


def option_values(argv: list[str], *names: str) -> list[str]:
    values = []
    for i, word in enumerate(argv):
        for name in names:
            if word == name and i + 1 < len(argv):
                values.append(argv[i + 1])
            elif word.startswith(name + "="):
                values.append(word.partition("=")[2])
    return values


def test_dockerfile_usage_publishes_on_loopback_and_passes_the_token() -> None:
    runs = docker_run_lines()
    assert runs, "the Dockerfile shows how to run the image"
    for argv in runs:
        published = option_values(argv, "-p", "--publish")
        assert published and all(p.startswith("127.0.0.1:") for p in published), argv
        assert "-P" not in argv and "--publish-all" not in argv and "--network=host" not in argv
        passed = option_values(argv, "-e", "--env")
        assert TOKEN_ENV in passed, argv  # the name alone: docker takes the value from the caller's environment
    assert "-p 9229:9229" not in (ROOT / "Dockerfile").read_text()


def test_the_image_command_needs_the_token_it_is_given() -> None:
    """CMD binds 0.0.0.0: serve refuses it without a token, and runs with the one -e passes in."""
    (cmd,) = instruction("CMD")
    values = check_serve_command(exec_form(cmd))
    assert "--control-token" not in values, "a token in the image would be the same for everyone"
    with pytest.raises(ServeRefused):
        ControlAccess.choose(values["--host"], None, {})
    assert ControlAccess.choose(values["--host"], None, {TOKEN_ENV: TOKEN}).token == TOKEN
    assert not any(inst == "ENV" and TOKEN_ENV in args for inst, args in dockerfile())


def test_compose_publishes_on_loopback_and_reads_the_token_from_the_environment() -> None:
    services = compose()["services"]
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
    cognito = services["cognito"]
    environment = cognito["environment"]
    if isinstance(environment, list):
        environment = dict(item.partition("=")[::2] for item in environment)
    value = str(environment[TOKEN_ENV])
    assert re.fullmatch(r"\$\{" + TOKEN_ENV + r"(:?[?-][^}]*)?\}", value), f"a literal token is committed: {value!r}"
    command = cognito.get("command", [])
    assert "--control-token" not in command and TOKEN_ENV not in " ".join(command)
    assert ".env" in (ROOT / ".gitignore").read_text().split(), "an .env holding the token stays out of git"


def test_compose_localstack_is_behind_a_profile() -> None:
    localstack = compose()["services"]["localstack"]
    assert localstack["profiles"] == ["localstack"]
    assert any(str(p).endswith("4566:4566") for p in localstack["ports"])
    assert str(localstack["image"]).startswith("localstack/localstack")

"""Dockerfile and docker-compose.yml agree with each other and with the real CLI.

No container engine runs here, so the files are parsed and checked: the port,
the command (it must parse with the real ``cognito-harness serve`` flags), and
the healthcheck (it must hit the control plane on that port).
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")

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
    # the slim image has no curl: the probe must use what the image has
    assert test[1] in ("python", "python3"), test
    for key in ("interval", "timeout", "retries"):
        assert key in health


def test_healthcheck_probe_works_against_a_running_emulator() -> None:
    """Run the compose probe (re-pointed to a live in-process emulator) to prove it succeeds."""
    from harness.server import Emulator

    test = compose()["services"]["cognito"]["healthcheck"]["test"]
    with Emulator.start(seed=1) as emu:
        argv = [sys.executable if a in ("python", "python3") else a for a in test[1:]]
        argv = [a.replace(f"http://127.0.0.1:{PORT}", emu.url) for a in argv]
        assert subprocess.run(argv, capture_output=True, timeout=30).returncode == 0
        broken = [a.replace("/_harness", "/_nothing_here") for a in argv]
        assert subprocess.run(broken, capture_output=True, timeout=30).returncode != 0


def test_compose_localstack_is_behind_a_profile() -> None:
    localstack = compose()["services"]["localstack"]
    assert localstack["profiles"] == ["localstack"]
    assert any(str(p).endswith("4566:4566") for p in localstack["ports"])
    assert str(localstack["image"]).startswith("localstack/localstack")

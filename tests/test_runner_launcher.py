"""The launcher: env contract, readiness, captured output, clean stop of the whole process group,
restarts, an already-running target, and the Docker path as far as it goes without an engine."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest
import requests

from harness.runner.launcher import (
    ContainerTarget,
    ExternalTarget,
    LaunchError,
    PoolCoordinates,
    ProcessTarget,
    contract_env,
    describe_exit,
    free_port,
    make_target,
    probe,
)
from harness.runner.spec import load_spec

COORDS = PoolCoordinates(
    region="eu-west-1",
    pool_id="eu-west-1_Abc123456",
    client_id="client123",
    client_secret="",
    issuer="http://127.0.0.1:9229/eu-west-1_Abc123456",
    jwks_url="http://127.0.0.1:9229/eu-west-1_Abc123456/.well-known/jwks.json",
    endpoint="http://127.0.0.1:9229",
    domain="http://127.0.0.1:9229/eu-west-1_Abc123456",
)

CONTRACT_KEYS = {
    "PORT", "COGNITO_REGION", "COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID", "COGNITO_CLIENT_SECRET",
    "COGNITO_ISSUER", "COGNITO_JWKS_URL", "COGNITO_ENDPOINT", "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
    "COGNITO_DOMAIN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION",
}

# A tiny target: serves /health and /env (its environment), prints to stdout and stderr,
# optionally spawns a child that would outlive it and ignores SIGTERM.
APP = r'''
import json, os, subprocess, sys, signal, time
from http.server import BaseHTTPRequestHandler, HTTPServer
mode = os.environ.get("APP_MODE", "")
if mode == "exit":
    print("cannot start: missing config", flush=True); sys.exit(3)
if mode == "slow":
    time.sleep(30)
if mode == "stubborn":
    signal.signal(signal.SIGTERM, lambda *a: print("ignoring SIGTERM", flush=True))
child = None
if os.environ.get("APP_CHILD"):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    open(os.environ["APP_CHILD"], "w").write(str(child.pid))
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps(dict(os.environ) if self.path == "/env" else {"ok": True}).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        sys.stderr.write("request " + self.path + "\n"); sys.stderr.flush()
print("listening", os.environ["PORT"], flush=True)
HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
'''


def make_spec(tmp_path: Path, env: dict[str, str] | None = None, ready: str | None = "/health",
              extra: str = "", command: str = '["{python}", "{spec_dir}/app.py"]'):
    (tmp_path / "app.py").write_text(APP)
    env_line = "env = { " + ", ".join(f'{k} = "{v}"' for k, v in (env or {}).items()) + " }" if env else ""
    ready_line = f'ready_url = "{ready}"' if ready else ""
    (tmp_path / "spec.toml").write_text(
        f'[target]\nname = "tiny"\ncommand = {command}\n{ready_line}\nready_timeout = 10\n{env_line}\n{extra}\n'
        '[requests.protected]\npath = "/health"\n'
    )
    return load_spec(tmp_path / "spec.toml")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie counts as gone
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_contract_env_has_exactly_the_documented_variables() -> None:
    env = contract_env(COORDS, 4321)
    assert CONTRACT_KEYS <= set(env)
    assert env["PORT"] == "4321"
    assert env["COGNITO_CLIENT_SECRET"] == ""
    assert env["COGNITO_ENDPOINT"] == env["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"] == COORDS.endpoint
    assert env["AWS_ACCESS_KEY_ID"] == env["AWS_SECRET_ACCESS_KEY"] == "testing"
    assert env["AWS_DEFAULT_REGION"] == env["COGNITO_REGION"] == "eu-west-1"
    assert env["COGNITO_USER_POOL_ID"] == COORDS.pool_id and env["COGNITO_ISSUER"] == COORDS.issuer


def test_process_target_gets_the_env_contract_and_its_output_is_captured(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, env={"EXTRA": "yes", "SELF_URL": "http://127.0.0.1:{port}/"})
    target = make_target(spec, COORDS)
    assert isinstance(target, ProcessTarget)
    target.start()
    try:
        env = requests.get(target.base_url + "/env", timeout=5).json()
        for key in CONTRACT_KEYS:
            assert key in env, key
        assert env["PORT"] == str(target.port)
        assert env["COGNITO_USER_POOL_ID"] == COORDS.pool_id
        assert env["EXTRA"] == "yes"
        assert env["SELF_URL"] == f"http://127.0.0.1:{target.port}/"
        mark = target.mark()
        requests.get(target.base_url + "/other", timeout=5)
        def other_logged() -> bool:  # the /env line may arrive after the mark too: wait for this one
            return any("request /other" in line for ev in target.output_since(mark) for line in ev.data["lines"])

        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not other_logged():
            time.sleep(0.02)
        assert other_logged()
    finally:
        target.stop()
    logs = {ev.data["stream"]: ev for ev in target.logs()}
    assert logs["stdout"].data["lines"][0] == f"listening {target.port}"
    assert any("request /env" in line for line in logs["stderr"].data["lines"])
    assert logs["stdout"].kind == "log"


def test_stop_ends_the_whole_process_group(tmp_path: Path) -> None:
    child_file = tmp_path / "child.pid"
    spec = make_spec(tmp_path, env={"APP_CHILD": str(child_file)})
    target = ProcessTarget(spec, COORDS)
    target.start()
    leader = target.proc.pid
    child = int(child_file.read_text())
    assert pid_alive(child)
    target.stop()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and pid_alive(child):
        time.sleep(0.02)
    assert not pid_alive(leader)
    assert not pid_alive(child), "the target's child outlived stop()"
    assert not target.running()


def test_sigterm_ignored_means_sigkill_after_the_stop_timeout(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, env={"APP_MODE": "stubborn"}, extra="stop_timeout = 0.3")
    target = ProcessTarget(spec, COORDS)
    target.start()
    started = time.monotonic()
    target.stop()
    assert time.monotonic() - started < 5
    stdout = next(ev for ev in target.logs() if ev.data["stream"] == "stdout")
    assert "ignoring SIGTERM" in stdout.data["lines"]
    assert stdout.data["returncode"] == -signal.SIGKILL


def test_restart_is_a_fresh_process_on_the_same_port(tmp_path: Path) -> None:
    target = ProcessTarget(make_spec(tmp_path), COORDS)
    target.start()
    try:
        first = target.proc.pid
        target.restart()
        assert target.proc.pid != first and target.running()
        assert requests.get(target.base_url + "/health", timeout=5).json() == {"ok": True}
    finally:
        target.stop()
    titles = [ev.title for ev in target.logs()]
    assert "target stdout (start #1)" in titles and "target stdout (start #2)" in titles


def test_probe_and_fate_say_whether_the_process_answers_and_how_it_ended(tmp_path: Path) -> None:
    target = ProcessTarget(make_spec(tmp_path), COORDS)
    assert target.probe(1) == "the target process is not started"
    target.start()
    try:
        assert target.probe(1) is None
        assert target.fate(grace=0.1) == "the process is still running"
        os.killpg(target.proc.pid, signal.SIGKILL)
        assert target.fate(grace=5) == "the process was killed by signal 9 (SIGKILL)"
        assert target.probe(1) == "the target process was killed by signal 9 (SIGKILL)"
    finally:
        target.stop()


def test_probe_without_a_ready_url_needs_a_listening_port_and_with_one_an_answer_below_500() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    try:
        assert probe(None, port) is None  # accepts connections (a hung app would too: hence the ready URL)
        assert "within 0.3 s" in probe(f"http://127.0.0.1:{port}/health", port, timeout=0.3)  # never answers
    finally:
        server.close()
    assert "nothing accepts connections" in probe(None, port, timeout=0.3)
    assert describe_exit(3) == "exited with status 3" and describe_exit(-11) == "was killed by signal 11 (SIGSEGV)"


def test_readiness_without_ready_url_waits_for_the_port(tmp_path: Path) -> None:
    target = ProcessTarget(make_spec(tmp_path, ready=None), COORDS)
    target.start()
    try:
        assert requests.get(target.base_url + "/health", timeout=5).status_code == 200
    finally:
        target.stop()


def test_a_target_that_exits_early_is_a_launch_error_with_its_output(tmp_path: Path) -> None:
    target = ProcessTarget(make_spec(tmp_path, env={"APP_MODE": "exit"}), COORDS)
    with pytest.raises(LaunchError) as info:
        target.start()
    message = str(info.value)
    assert "exited before it was ready" in message and "exit code 3" in message
    assert "cannot start: missing config" in message
    assert info.value.address.startswith(f"http://127.0.0.1:{target.port}")


def test_a_target_that_never_gets_ready_times_out_naming_the_url(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, env={"APP_MODE": "slow"})
    spec.target.ready_timeout = 0.5
    target = ProcessTarget(spec, COORDS)
    started = time.monotonic()
    with pytest.raises(LaunchError, match=rf"not ready at http://127.0.0.1:{target.port}/health after 0.5s"):
        target.start()
    assert time.monotonic() - started < 8
    assert not target.running()


def test_a_missing_command_is_a_launch_error(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, command='["/no/such/binary-xyz"]')
    with pytest.raises(LaunchError, match="could not start target command '/no/such/binary-xyz'"):
        ProcessTarget(spec, COORDS).start()


def test_external_target_unreachable_names_the_address(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "spec.toml").write_text(
        f'[target]\nname = "ext"\nbase_url = "http://127.0.0.1:{port}"\nready_timeout = 1\n')
    target = make_target(load_spec(tmp_path / "spec.toml"), COORDS)
    assert isinstance(target, ExternalTarget)
    with pytest.raises(LaunchError, match=rf"target unreachable at http://127.0.0.1:{port}"):
        target.start()
    with pytest.raises(LaunchError, match="cannot restart"):
        target.restart()


def test_external_target_reachable_is_not_started_or_stopped(tmp_path: Path) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    try:
        port = server.getsockname()[1]
        (tmp_path / "spec.toml").write_text(f'[target]\nname = "ext"\nbase_url = "http://127.0.0.1:{port}/"\n')
        target = make_target(load_spec(tmp_path / "spec.toml"), COORDS)
        target.start()
        target.stop()
        assert target.base_url == f"http://127.0.0.1:{port}" and target.logs() == []
    finally:
        server.close()


# --- the container path ----------------------------------------------------------------------------


def image_spec(tmp_path: Path):
    (tmp_path / "spec.toml").write_text(
        '[target]\nname = "boxed"\nimage = "example/app:1.2"\nready_url = "/health"\n'
        'env = { LOG_LEVEL = "debug", SELF = "http://127.0.0.1:{port}" }\n'
        '[requests.protected]\npath = "/p"\n')
    return load_spec(tmp_path / "spec.toml")


def docker_engine_reason() -> str | None:
    """None when a Docker engine answers; else why not."""
    try:
        import docker  # type: ignore[import-not-found]
    except ImportError:
        return "the docker SDK (extra 'docker') is not installed"
    try:
        docker.from_env().ping()
    except Exception as exc:  # noqa: BLE001
        return f"no Docker engine reachable ({type(exc).__name__})"
    return None


def test_container_config_carries_the_same_env_on_the_host_network(tmp_path: Path) -> None:
    target = make_target(image_spec(tmp_path), COORDS)
    assert isinstance(target, ContainerTarget)
    config = target.container_config()
    assert config["image"] == "example/app:1.2"
    assert config["network_mode"] == "host" and config["detach"] is True
    env = config["environment"]
    assert CONTRACT_KEYS <= set(env)
    assert env["PORT"] == str(target.port)
    assert env["LOG_LEVEL"] == "debug" and env["SELF"] == f"http://127.0.0.1:{target.port}"
    assert "command" not in config
    json.dumps(config)  # plain data, ready for docker.containers.run(**config)


def test_container_start_without_an_engine_is_a_clear_launch_error(tmp_path: Path) -> None:
    reason = docker_engine_reason()
    if reason is None:
        pytest.skip("a Docker engine is running here; the no-engine error path cannot be shown")
    target = ContainerTarget(image_spec(tmp_path), COORDS)
    with pytest.raises(LaunchError) as info:
        target.start()
    message = str(info.value)
    assert "example/app:1.2" in message
    assert "Docker SDK is not installed" in message or "no Docker engine is reachable" in message


def test_container_target_runs_against_a_real_engine(tmp_path: Path) -> None:
    reason = docker_engine_reason()
    if reason is not None:
        pytest.skip(f"container path needs a Docker engine: {reason}")
    (tmp_path / "spec.toml").write_text(
        '[target]\nname = "boxed"\nimage = "python:3.11-slim"\nready_timeout = 60\n'
        'command = ["python", "-m", "http.server", "--bind", "127.0.0.1"]\n')
    spec = load_spec(tmp_path / "spec.toml")
    target = ContainerTarget(spec, COORDS)
    target.spec.target.command = ["sh", "-c", "python -m http.server --bind 127.0.0.1 $PORT"]
    target.start()
    try:
        assert requests.get(target.base_url + "/", timeout=5).status_code == 200
    finally:
        target.stop()

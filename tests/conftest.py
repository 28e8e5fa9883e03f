"""Shared fixtures for the harness's own tests: a live emulator over HTTP, a moto server."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest
import requests

from harness.runner.launcher import free_port
from harness.server import Emulator
from tests.libapps import LIBRARY_RUNS, start_correct_app_runs

LIBRARY_APP_TESTS = "tests/test_library_apps.py::test_library_app_"  # the tests that read the runs


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """The library-app verdict tests go last: their runs (mostly real-time waiting on JWKS cooldowns)
    start when collection ends and go on in the background while the rest of the suite runs."""
    items.sort(key=lambda item: item.nodeid.startswith(LIBRARY_APP_TESTS))


def pytest_collection_finish(session: pytest.Session) -> None:
    if any(item.nodeid.startswith(LIBRARY_APP_TESTS) for item in session.items):
        session.config.stash[LIBRARY_RUNS] = start_correct_app_runs()


def pytest_sessionfinish(session: pytest.Session) -> None:
    background = session.config.stash.get(LIBRARY_RUNS, None)
    if background is not None:
        background.close()


@pytest.fixture()
def emulator() -> Iterator[Emulator]:
    """A fresh in-process emulator on a free loopback port, seeded for determinism."""
    with Emulator.start(seed=1234) as emu:
        yield emu
        # every error a rule raised must be one the botocore model lists for its operation
        assert emu.backend.unmodeled_errors == [], emu.backend.unmodeled_errors


@pytest.fixture()
def idp(emulator: Emulator):  # noqa: ANN201 - boto3 client type is dynamic
    """A real boto3 cognito-idp client pointed at the emulator."""
    return emulator.boto3_client()


@pytest.fixture()
def moto_server() -> Iterator[str]:
    """A moto_server subprocess on a free loopback port (the test extra installs it): another
    cognito-idp endpoint, for the backend-neutral paths."""
    moto = shutil.which("moto_server")
    if moto is None:
        pytest.fail("moto_server is not on PATH: install the test extra (pip install -e '.[test]')")
    port = free_port()
    proc = subprocess.Popen([moto, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(url + "/moto-api/", timeout=1)
                break
            except requests.RequestException:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail(f"moto_server did not start at {url}")
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)

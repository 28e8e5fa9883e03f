"""Shared fixtures for the harness's own tests: a live emulator over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.server import Emulator


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

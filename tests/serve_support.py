"""``cognito-harness serve`` as a real subprocess, for the tests that need one: its exports parsed."""

from __future__ import annotations

import os
import queue
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable
from typing import Any

import boto3
import pytest
from botocore.config import Config

from harness.control.guard import TOKEN_ENV

REQUIRED = (
    "COGNITO_REGION", "COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID", "COGNITO_CLIENT_SECRET", "COGNITO_ISSUER",
    "COGNITO_JWKS_URL", "COGNITO_ENDPOINT", "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION",
)


def serve_environment(extra: dict[str, str] | None = None, without: Iterable[str] = ()) -> dict[str, str]:
    """This environment without a control token (a developer may have one exported) and the names in
    ``without``, plus ``extra``."""
    dropped = {TOKEN_ENV, *without}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    return {**env, **(extra or {})}


def cli_command() -> list[str]:
    exe = shutil.which("cognito-harness")
    return [exe] if exe else [sys.executable, "-m", "harness.cli"]


class Served:
    """A running ``cognito-harness serve`` with its parsed exports."""

    def __init__(self, *args: str, cwd: str | None = None, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [*cli_command(), "serve", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
            env=serve_environment(env),
        )
        self.stdout: list[str] = []
        self.stderr = ""
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.env = self._read_exports()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.stdout.append(line)
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
            code = self.proc.wait(timeout=15)
            if self.proc.stderr and not self.proc.stderr.closed:
                self.stderr += self.proc.stderr.read()
            return code
        finally:
            for stream in (self.proc.stdout, self.proc.stderr):
                if stream:
                    stream.close()

"""What a check expects of the app's answers: allowed, denied (a spec'd code, never a 5xx), refused (any
3xx/4xx), or a plain condition; each a recorded step that raises Failure (FAIL) with expected and actual."""

from __future__ import annotations

import contextlib
from typing import Any

from harness.runner.scenario import Failure
from harness.runner.target import TargetResponse


class Expectations:
    """Mixed into ScenarioContext, whose ``step`` records each expectation."""

    def step(self, name: str) -> contextlib.AbstractContextManager[Any]:  # pragma: no cover - ScenarioContext's
        raise NotImplementedError

    def expect_allowed(self, response: TargetResponse, because: str) -> TargetResponse:
        with self.step(f"expect {response.name} allowed: {because}"):
            return self._expect_allowed(response, because)

    def expect_denied(self, response: TargetResponse, because: str) -> TargetResponse:
        with self.step(f"expect {response.name} denied: {because}"):
            return self._expect_denied(response, because)

    def expect_refused(self, response: TargetResponse, because: str) -> TargetResponse:
        """A malformed or oversized token is refused: any 4xx or 3xx will do; a 2xx or a 5xx fails.

        Refusing such input happens at many layers, each with its own status:
        the framework (400), the verifier (401/403), the server's limits (413,
        414, 431: Node answers 431 to a 20 KB header before the app runs) or a
        redirect to a login page. Only accepting it, or crashing on it, is wrong.
        """
        with self.step(f"expect {response.name} refused (any 3xx/4xx): {because}"):
            if response.server_error:
                raise Failure(f"{because}: the app crashed (5xx) instead of refusing",
                              expected=f"{response.name} refused (any 3xx or 4xx), never 5xx",
                              actual=response.summary())
            if response.allowed or not 300 <= response.status < 500:
                raise Failure(f"{because}: the app accepted it",
                              expected=f"{response.name} refused (any 3xx or 4xx)", actual=response.summary())
            return response

    def _expect_allowed(self, response: TargetResponse, because: str) -> TargetResponse:
        if not response.allowed:
            raise Failure(
                f"{because}: the app " + ("crashed (5xx)" if response.server_error else "refused it"),
                expected=f"{response.name} allowed (HTTP {_codes(response.spec.allowed)})",
                actual=response.summary(),
            )
        return response

    def _expect_denied(self, response: TargetResponse, because: str) -> TargetResponse:
        if response.server_error:
            raise Failure(
                f"{because}: the app crashed (5xx) instead of refusing",
                expected=f"{response.name} denied (HTTP {_codes(response.spec.denied)}), never 5xx",
                actual=response.summary(),
            )
        if not response.denied:
            verb = "accepted" if response.allowed else "did not refuse"
            raise Failure(
                f"{because}: the app {verb} it",
                expected=f"{response.name} denied (HTTP {_codes(response.spec.denied)})",
                actual=response.summary(),
            )
        return response

    def expect(self, condition: bool, message: str, expected: str = "", actual: str = "") -> None:
        if not condition:
            raise Failure(message, expected=expected, actual=actual)


def _codes(codes: list[int]) -> str:
    return "/".join(str(c) for c in codes)


__all__ = ["Expectations"]

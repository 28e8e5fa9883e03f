"""What one attempt to run a function can come to, short of an answer.

A runner returns the function's decoded JSON answer or raises one of these;
:func:`harness.engine.triggers.invoke` turns them into Cognito's three errors
and decides what is retried (a timeout or a throttle, as Cognito does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class FunctionFailed(Exception):
    """The function ran and reported an error (Lambda's ``errorMessage``/``errorType``)."""

    def __init__(self, message: str, error_type: str = "Error") -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type


class FunctionTimedOut(Exception):
    """No answer within the timeout (retried)."""


class FunctionThrottled(Exception):
    """The Lambda service refused for now (TooManyRequestsException, 5xx): retried."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class FunctionUnreachable(Exception):
    """The function could not be invoked at all (no such function, connection refused): not retried."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class BadAnswer(Exception):
    """The function answered something that is not JSON."""


@dataclass(frozen=True)
class Invocation:
    """One call of one function: what every runner is given."""

    arn: str
    event: dict[str, Any]
    timeout: float
    request_id: str

    @property
    def function_name(self) -> str:
        """The name part of a Lambda ARN (``...:function:NAME[:qualifier]``), or the ARN itself."""
        parts = self.arn.split(":")
        if len(parts) >= 7 and parts[0] == "arn" and parts[5] == "function":
            return parts[6]
        return self.arn


__all__ = ["BadAnswer", "FunctionFailed", "FunctionThrottled", "FunctionTimedOut", "FunctionUnreachable",
           "Invocation"]

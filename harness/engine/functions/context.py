"""A Lambda-like context object for handlers run by the harness itself (Python in-process or in a worker).

Real Lambda passes ``(event, context)``; handlers read ``context.aws_request_id``,
``function_name`` or ``get_remaining_time_in_millis()`` (to stop before the
timeout). The same members travel to a worker process or the Node bootstrap as
:meth:`LambdaContext.to_wire` (the deadline as milliseconds left).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from harness.engine.functions.outcomes import Invocation

MEMORY_MB = "128"


@dataclass
class LambdaContext:
    """The members of the Python runtime's ``LambdaContext`` that handlers use."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    deadline: float  # time.monotonic() at which the invocation times out
    function_version: str = "$LATEST"
    memory_limit_in_mb: str = MEMORY_MB
    log_group_name: str = ""
    log_stream_name: str = "harness"
    identity: Any = None
    client_context: Any = None
    tenant_id: Any = field(default=None)

    def __post_init__(self) -> None:
        if not self.log_group_name:
            self.log_group_name = f"/aws/lambda/{self.function_name}"

    @classmethod
    def of(cls, call: Invocation) -> LambdaContext:
        return cls(function_name=call.function_name, invoked_function_arn=call.arn,
                   aws_request_id=call.request_id, deadline=time.monotonic() + call.timeout)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> LambdaContext:
        return cls(function_name=data["function_name"], invoked_function_arn=data["invoked_function_arn"],
                   aws_request_id=data["aws_request_id"],
                   deadline=time.monotonic() + data["remaining_ms"] / 1000.0)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))

    def to_wire(self) -> dict[str, Any]:
        """The context as JSON for another process (it rebuilds the deadline from ``remaining_ms``)."""
        return {"function_name": self.function_name, "invoked_function_arn": self.invoked_function_arn,
                "aws_request_id": self.aws_request_id, "remaining_ms": self.get_remaining_time_in_millis(),
                "function_version": self.function_version, "memory_limit_in_mb": self.memory_limit_in_mb,
                "log_group_name": self.log_group_name, "log_stream_name": self.log_stream_name}


__all__ = ["LambdaContext"]

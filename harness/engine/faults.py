"""Armed faults: failures the emulator produces on demand.

A fault has a kind, an optional operation and recipient it applies to, and a
count (``None`` = until cleared). The store consults :meth:`Faults.on_call`
before each operation, the messaging layer consults
:meth:`Faults.on_delivery` before each email or SMS, and the trigger door
(harness.engine.triggers) consults :meth:`Faults.on_trigger` before each
attempt to run a Lambda trigger's function.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any, Callable, Protocol, TypeVar

TRIGGER_FAULT_KINDS = ("trigger_timeout", "trigger_error", "trigger_garbage")
FAULT_KINDS = ("delivery_failure", "daily_email_limit", "throttle", "internal_error", *TRIGGER_FAULT_KINDS)
"""
* delivery_failure: the message is not delivered; CodeDeliveryFailureException.
* daily_email_limit: LimitExceededException "Exceeded daily email limit ...".
* throttle: TooManyRequestsException on the named operation (or any).
* internal_error: InternalErrorException (HTTP 500) on the named operation (or any).
* trigger_timeout: an attempt to run the named trigger's function (``trigger``, or any) times out
  without running it; Cognito retries, so ``count`` 1 or 2 is a slow function that recovers and 3
  (or none) is UnexpectedLambdaException.
* trigger_error: the function fails with ``message`` (UserLambdaValidationException).
* trigger_garbage: the function answers something that is not JSON (InvalidLambdaResponseException).
"""


class Countable(Protocol):
    triggered: int
    remaining: int | None


C = TypeVar("C", bound=Countable)


def take_first(faults: list[C], predicate: Callable[[C], bool]) -> C | None:
    """Fire the first armed fault that matches: count it, and disarm it when its count is used up.

    Shared by the pool's faults and the fake IdPs' faults (the caller holds its own lock).
    """
    for fault in faults:
        if predicate(fault):
            fault.triggered += 1
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    faults.remove(fault)
            return fault
    return None


@dataclass
class Fault:
    id: int
    kind: str
    operation: str | None = None  # API operation name, None = any
    recipient: str | None = None  # email / phone, None = any (delivery faults)
    channel: str | None = None  # "EMAIL" | "SMS" | None = any (delivery faults)
    trigger: str | None = None  # LambdaConfig trigger name (PreSignUp...), None = any (trigger faults)
    message: str | None = None  # the function's error message (trigger_error)
    remaining: int | None = None  # None = until cleared
    triggered: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next_id = 1

    def arm(
        self,
        kind: str,
        operation: str | None = None,
        recipient: str | None = None,
        channel: str | None = None,
        count: int | None = None,
        trigger: str | None = None,
        message: str | None = None,
    ) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        if count is not None and count < 1:
            raise ValueError("count must be a positive integer (or omitted for 'until cleared')")
        with self._lock:
            fault = Fault(self._next_id, kind, operation, recipient, channel, trigger, message, count)
            self._next_id += 1
            self._faults.append(fault)
            return fault

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    @property
    def next_id(self) -> int:
        return self._next_id

    def restore(self, faults: list[Fault], next_id: int) -> None:
        """Replace the armed faults (snapshot restore)."""
        with self._lock:
            self._faults[:] = faults
            self._next_id = next_id

    def clear(self, fault_id: int | None = None) -> int:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if fault_id is not None and f.id != fault_id]
            return before - len(self._faults)

    def _take(self, predicate: Any) -> Fault | None:
        with self._lock:
            return take_first(self._faults, predicate)

    def on_call(self, operation: str) -> Fault | None:
        """A throttle or internal-error fault that fires for this operation, if any."""
        return self._take(
            lambda f: f.kind in ("throttle", "internal_error")
            and (f.operation is None or f.operation == operation)
        )

    def on_trigger(self, trigger: str) -> Fault | None:
        """A trigger fault that fires for this attempt to run ``trigger``'s function, if any."""
        return self._take(lambda f: f.kind in TRIGGER_FAULT_KINDS and (f.trigger is None or f.trigger == trigger))

    def on_delivery(self, operation: str, channel: str, recipient: str) -> Fault | None:
        """A delivery fault that fires for this message, if any."""
        return self._take(
            lambda f: f.kind in ("delivery_failure", "daily_email_limit")
            and (f.operation is None or f.operation == operation)
            and (f.recipient is None or f.recipient.lower() == recipient.lower())
            and (f.channel is None or f.channel == channel)
            and not (f.kind == "daily_email_limit" and channel != "EMAIL")
        )

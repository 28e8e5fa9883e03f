"""Mailbox and delivery: every email and SMS a pool would send.

Delivery goes through armed faults first, so a test can make the next
verification email fail and observe what the app does; a message that fails
is recorded too (status ``failed``), as evidence.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from harness.engine import custom_sender
from harness.engine import events as ev
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend


@dataclass
class Message:
    id: int
    pool_id: str
    channel: str  # "EMAIL" | "SMS"
    to: str
    subject: str | None
    body: str
    code: str | None
    purpose: str  # SIGN_UP | RESEND | FORGOT_PASSWORD | INVITE | VERIFY_ATTRIBUTE
    username: str
    operation: str
    time: float
    status: str = "sent"  # "sent" | "failed"
    failure: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Mailbox:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[Message] = []
        self._next_id = 1

    def add(self, **fields: Any) -> Message:
        with self._lock:
            msg = Message(id=self._next_id, **fields)
            self._next_id += 1
            self._messages.append(msg)
            return msg

    def everything(self) -> list[Message]:
        """Every message, failed ones included, oldest first (a copy: what persistence compares)."""
        with self._lock:
            return list(self._messages)

    def list(
        self,
        to: str | None = None,
        purpose: str | None = None,
        pool_id: str | None = None,
        include_failed: bool = False,
    ) -> list[Message]:
        return [
            m
            for m in self.everything()
            if (to is None or m.to.lower() == to.lower())
            and (purpose is None or m.purpose == purpose)
            and (pool_id is None or m.pool_id == pool_id)
            and (include_failed or m.status == "sent")
        ]

    def latest(self, to: str | None = None, purpose: str | None = None) -> Message | None:
        msgs = self.list(to=to, purpose=purpose)
        return msgs[-1] if msgs else None

    def latest_code(self, to: str | None = None, purpose: str | None = None) -> str | None:
        for m in reversed(self.list(to=to, purpose=purpose)):
            if m.code:
                return m.code
        return None

    def clear(self) -> int:
        with self._lock:
            n = len(self._messages)
            self._messages.clear()
            return n

    @property
    def next_id(self) -> int:
        return self._next_id

    def restore(self, messages: list[Message], next_id: int) -> None:
        """Replace the mailbox (snapshot restore)."""
        with self._lock:
            self._messages[:] = messages
            self._next_id = next_id

    def emails_sent_since(self, since: float) -> int:
        with self._lock:
            return sum(1 for m in self._messages if m.channel == "EMAIL" and m.status == "sent" and m.time >= since)


def mask(destination: str) -> str:
    """Cognito-style masked destination: ``j***@e***`` or ``+*******1234``."""
    if "@" in destination:
        local, _, domain = destination.partition("@")
        return f"{local[:1]}***@{domain[:1]}***"
    return "+" + "*" * max(len(destination) - 5, 1) + destination[-4:]


def delivery_details(channel: str, destination: str) -> dict[str, str]:
    return {
        "Destination": mask(destination),
        "DeliveryMedium": channel,
        "AttributeName": "email" if channel == "EMAIL" else "phone_number",
    }


def render(template: str, code: str | None, username: str) -> str:
    return template.replace("{####}", code or "").replace("{username}", username)


def deliver(
    backend: Backend,
    *,
    pool_id: str,
    operation: str,
    purpose: str,
    channel: str,
    to: str,
    username: str,
    body_template: str,
    subject: str | None = None,
    code: str | None = None,
) -> dict[str, str]:
    """Send (or fail to send) one message; return its CodeDeliveryDetails.

    Raises CodeDeliveryFailureException or LimitExceededException when a fault
    is armed for it or the daily email limit is reached. The failed message
    is still recorded, with its code, as evidence.
    """
    custom_sender.refuse_unemulated(backend, pool_id, channel)  # CustomEmailSender / CustomSMSSender
    now = backend.clock.now()
    body = render(body_template, code, username)
    fault = backend.faults.on_delivery(operation, channel, to)
    failure = None
    if fault is not None:
        failure = Err.DAILY_EMAIL_LIMIT if fault.kind == "daily_email_limit" else (
            Err.CODE_DELIVERY_FAILURE if channel == "EMAIL" else Err.SMS_DELIVERY_FAILURE
        )
        backend.events.emit(ev.FAULT_TRIGGERED, pool_id, kind=fault.kind, operation=operation, fault_id=fault.id)
    elif channel == "EMAIL" and backend.settings.daily_email_limit is not None:
        day_start = now - now % 86400
        if backend.mailbox.emails_sent_since(day_start) >= backend.settings.daily_email_limit:
            failure = Err.DAILY_EMAIL_LIMIT
    msg = backend.mailbox.add(
        pool_id=pool_id,
        channel=channel,
        to=to,
        subject=subject if channel == "EMAIL" else None,
        body=body,
        code=code,
        purpose=purpose,
        username=username,
        operation=operation,
        time=now,
        status="failed" if failure else "sent",
        failure=failure.type if failure else None,
    )
    if failure is not None:
        backend.events.emit(
            ev.MESSAGE_FAILED, pool_id, message_id=msg.id, to=to, channel=channel,
            purpose=purpose, operation=operation, error=failure.type, username=username,
        )
        raise failure.error()
    backend.events.emit(
        ev.MESSAGE_SENT, pool_id, message_id=msg.id, to=to, channel=channel,
        purpose=purpose, operation=operation, username=username,
    )
    return delivery_details(channel, to)

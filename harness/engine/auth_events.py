"""Threat protection's user event history (AdminListUserAuthEvents), built from the event log.

Cognito logs an auth event for each sign-in, sign-up, password change, forgotten
password and code resend of a user while the pool's threat protection
(``UserPoolAddOns.AdvancedSecurityMode`` AUDIT or ENFORCED, Plus plan) is on. The
emulator keeps no second log: it reads the events it already records
(``engine.events``) inside the stretches of the log when the pool had threat
protection on (``UserPool.auth_events.windows``, opened and closed by
Create/UpdateUserPool) and folds them into ``AuthEventType`` records:

* ``auth.success`` / ``auth.failure`` are sign-ins (``Password`` Success/Failure);
  ``mfa.challenge`` opens a sign-in that stays ``InProgress`` until its second
  factor is answered (``Mfa`` Success/Failure) and tokens are issued;
* ``user.created`` by SignUp is ``SignUp``; ``message.sent``/``message.failed`` of
  ForgotPassword and ResendConfirmationCode are ``ForgotPassword`` / ``ResendCode``;
  ChangePassword (``password.changed``, or ``auth.failure`` with a wrong previous
  password) is ``PasswordChange``.

There is no risk engine: every event is ``NoRisk`` / ``Low`` with no compromised
credentials, so Cognito would send no risk notification and the emulator sends none.
EventIds are derived from the seed, the pool and the sequence number of the event
that opened the auth event, so the same run gives the same ids. The event log is a
ring (``engine.events``): once its events are pushed out, the auth events built
from them are gone too (Cognito keeps two years).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.encoding import b64url
from harness.engine import events as ev
from harness.engine import tiers
from harness.engine.models import AuditWindow, AuthEventFeedback, User, UserPool
from harness.engine.oauth import FEDERATED_FLOW
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

SIGN_IN, SIGN_UP, FORGOT_PASSWORD, PASSWORD_CHANGE, RESEND_CODE = (
    "SignIn", "SignUp", "ForgotPassword", "PasswordChange", "ResendCode")
PASS, FAIL, IN_PROGRESS = "Pass", "Fail", "InProgress"
MFA = "Mfa"
SUCCESS, FAILURE = "Success", "Failure"
NO_RISK = {"RiskDecision": "NoRisk", "RiskLevel": "Low", "CompromisedCredentialsDetected": False}

SOURCE_TYPES = (ev.AUTH_SUCCESS, ev.AUTH_FAILURE, ev.MFA_CHALLENGE, ev.MFA_PASSED, ev.MFA_FAILED,
                ev.USER_CREATED, ev.MESSAGE_SENT, ev.MESSAGE_FAILED, ev.PASSWORD_CHANGED)
WRONG_PASSWORD_REASONS = ("wrong_password", "wrong_password_srp", "locked_out")
MESSAGE_EVENTS = {"ForgotPassword": FORGOT_PASSWORD, "ResendConfirmationCode": RESEND_CODE}
CHANGE_PASSWORD = "ChangePassword"


@dataclass
class AuthEvent:
    """One AuthEventType being assembled."""

    seq: int  # the log event that opened it (names it: EventId)
    created: float
    type: str
    response: str
    challenges: dict[str, str] = field(default_factory=dict)  # Password / Mfa -> Success / Failure
    seen: set[str] = field(default_factory=set)  # second-factor challenges asked for so far


# --- recording windows ---------------------------------------------------------------------


def track(backend: Backend, pool: UserPool, *, was_on: bool) -> None:
    """Open or close a recording window after Create/UpdateUserPool changed the add-on."""
    now_on = tiers.threat_protection_on(pool)
    windows = pool.auth_events.windows
    if now_on and not was_on:
        windows.append(AuditWindow(start=backend.events.last_seq))
    elif was_on and not now_on and windows and windows[-1].end is None:
        windows[-1].end = backend.events.last_seq


def require_threat_protection(pool: UserPool) -> None:
    """The auth-event operations answer only while threat protection is on."""
    if not tiers.threat_protection_on(pool):
        raise Err.ADD_ON_NOT_ENABLED.error()


def _inside(windows: list[AuditWindow], seq: int) -> bool:
    return any(w.start < seq and (w.end is None or seq <= w.end) for w in windows)


# --- folding the log -----------------------------------------------------------------------


def _event_id(backend: Backend, pool: UserPool, seq: int) -> str:
    digest = hashlib.sha256(f"{backend.seed}:{pool.pool_id}:auth-event:{seq}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


class _Folder:
    """Walks one user's log events in order and builds their auth events."""

    def __init__(self) -> None:
        self.out: list[AuthEvent] = []
        self.open: AuthEvent | None = None  # a sign-in waiting on its second factor

    def add(self, seq: int, time: float, type_: str, response: str, **challenges: str) -> AuthEvent:
        event = AuthEvent(seq, time, type_, response, dict(challenges))
        self.out.append(event)
        return event

    def sign_in(self, e: ev.Event) -> AuthEvent:
        """The open sign-in, or a new one whose password was just proven."""
        if self.open is None:
            self.open = self.add(e.seq, e.time, SIGN_IN, IN_PROGRESS, Password=SUCCESS)
        return self.open

    def close(self, response: str) -> None:
        if self.open is not None:
            self.open.response = response
            self.open = None

    def feed(self, e: ev.Event) -> None:
        data = e.data
        if e.type == ev.MFA_CHALLENGE:
            challenge = str(data.get("challenge"))
            if self.open is not None and challenge in self.open.seen:
                self.open = None  # asked again: a new attempt (the earlier one stays InProgress)
            self.sign_in(e).seen.add(challenge)
        elif e.type == ev.MFA_PASSED:
            self.sign_in(e).challenges[MFA] = SUCCESS
        elif e.type == ev.MFA_FAILED:
            if data.get("client_id") is None:
                return  # VerifySoftwareToken enrolment, not a sign-in
            self.sign_in(e).challenges[MFA] = FAILURE
            if data.get("reason") != "wrong_code":
                self.close(FAIL)  # expired or out of attempts: the session is gone
        elif e.type == ev.AUTH_SUCCESS:
            if data.get("flow") == FEDERATED_FLOW:
                return  # threat protection covers local users only
            self.sign_in(e)
            self.close(PASS)
        elif e.type == ev.AUTH_FAILURE:
            self._failure(e)
        elif e.type == ev.USER_CREATED and not data.get("admin") and data.get("client_id"):
            self.add(e.seq, e.time, SIGN_UP, PASS)
        elif e.type in (ev.MESSAGE_SENT, ev.MESSAGE_FAILED) and data.get("operation") in MESSAGE_EVENTS:
            self.add(e.seq, e.time, MESSAGE_EVENTS[data["operation"]], PASS if e.type == ev.MESSAGE_SENT else FAIL)
        elif e.type == ev.PASSWORD_CHANGED and data.get("reason") == CHANGE_PASSWORD:
            self.add(e.seq, e.time, PASSWORD_CHANGE, PASS, Password=SUCCESS)

    def _failure(self, e: ev.Event) -> None:
        reason = str(e.data.get("reason") or "")
        if e.data.get("flow") == CHANGE_PASSWORD:
            self.add(e.seq, e.time, PASSWORD_CHANGE, FAIL, Password=FAILURE)
        elif reason.startswith("mfa_") or reason == "refresh_refused":
            return  # told by mfa.failed already / not a sign-in
        elif reason in WRONG_PASSWORD_REASONS:
            self.add(e.seq, e.time, SIGN_IN, FAIL, Password=FAILURE)
        elif self.open is not None:
            self.close(FAIL)  # the challenged user was disabled, deleted...
        else:
            self.add(e.seq, e.time, SIGN_IN, FAIL)  # refused before any challenge was answered


def _since_created(found: list[ev.Event], user: User) -> list[ev.Event]:
    """Only this user's events: after their own ``user.created`` (not a deleted namesake's)."""
    start = 0
    for i, e in enumerate(found):
        if e.type == ev.USER_CREATED:
            start = i if e.data.get("sub") == user.sub else i + 1
    return [e for e in found[start:] if e.time >= user.created or e.type == ev.USER_CREATED]


def user_events(backend: Backend, pool: UserPool, user: User) -> list[AuthEvent]:
    """The user's auth events still in the log, newest first."""
    windows = pool.auth_events.windows
    if not windows:
        return []
    found, _ = backend.events.read(SOURCE_TYPES, pool_id=pool.pool_id, since=windows[0].start,
                                   username=user.username)
    folder = _Folder()
    for e in _since_created([e for e in found if _inside(windows, e.seq)], user):
        folder.feed(e)
    return sorted(folder.out, key=lambda a: a.seq, reverse=True)


def find(backend: Backend, pool: UserPool, user: User, event_id: str) -> AuthEvent:
    for event in user_events(backend, pool, user):
        if _event_id(backend, pool, event.seq) == event_id:
            return event
    raise Err.AUTH_EVENT_NOT_FOUND.error(event_id=event_id)


# --- views and feedback --------------------------------------------------------------------


def view(backend: Backend, pool: UserPool, event: AuthEvent) -> dict[str, Any]:
    """The AuthEventType of one event (no EventContextData: the emulator records no client context)."""
    event_id = _event_id(backend, pool, event.seq)
    out: dict[str, Any] = {
        "EventId": event_id,
        "EventType": event.type,
        "CreationDate": event.created,
        "EventResponse": event.response,
        "EventRisk": dict(NO_RISK),
        "ChallengeResponses": [{"ChallengeName": name, "ChallengeResponse": result}
                               for name, result in event.challenges.items()],
    }
    feedback = pool.auth_events.feedback.get(event_id)
    if feedback is not None:
        out["EventFeedback"] = {"FeedbackValue": feedback.value, "Provider": feedback.provider,
                                "FeedbackDate": feedback.date}
    return out


def event_id_of(backend: Backend, pool: UserPool, event: AuthEvent) -> str:
    return _event_id(backend, pool, event.seq)


def feedback_token(backend: Backend, pool: UserPool, user: User, event_id: str) -> str:
    """The FeedbackToken Cognito would put in the event's risk-notification email links.

    Keyed by the seed, the pool, the user's sub and the event: deterministic per run, and
    worthless for another user or event."""
    key = hashlib.sha256(f"{backend.seed}:{pool.pool_id}:feedback".encode()).digest()
    return b64url(hmac.new(key, f"{user.sub}\x00{event_id}".encode(), hashlib.sha256).digest())


def give_feedback(backend: Backend, pool: UserPool, event_id: str, value: str, provider: str) -> None:
    pool.auth_events.feedback[event_id] = AuthEventFeedback(value=value, provider=provider,
                                                            date=backend.clock.now())


__all__ = [
    "AuthEvent", "track", "require_threat_protection", "user_events", "find", "view", "event_id_of",
    "feedback_token", "give_feedback",
]

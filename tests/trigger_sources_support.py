"""Helpers for the trigger-source tests: a recording function and the documented event envelope."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from auth_support import ALL_FLOWS, App, make_app

from harness.engine.triggers import set_trigger

NO_CLIENT = "CLIENT_ID_NOT_APPLICABLE"
ENVELOPE = {"version", "region", "userPoolId", "userName", "callerContext", "triggerSource", "request", "response"}

TEMPLATES = {
    "VerificationMessageTemplate": {
        "DefaultEmailOption": "CONFIRM_WITH_CODE",
        "EmailMessage": "Default code {####}",
        "EmailSubject": "Default subject",
        "SmsMessage": "Default sms {####}",
    },
    "AdminCreateUserConfig": {
        "InviteMessageTemplate": {
            "EmailMessage": "Invite {username} / {####}",
            "EmailSubject": "Invite subject",
            "SMSMessage": "Invite sms {username} / {####}",
        }
    },
}


@dataclass
class Recorder:
    """A trigger function that records each event and answers as told.

    ``answer`` fills the response (mutating the event); ``error`` makes the function
    raise (a Lambda error); ``raw`` replaces the whole answer (malformed responses).
    """

    answer: Callable[[dict[str, Any]], None] | None = None
    error: str | None = None
    raw: Any = None
    events: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, event: dict[str, Any]) -> Any:
        self.events.append(copy.deepcopy(event))
        if self.error is not None:
            raise RuntimeError(self.error)
        if self.raw is not None:
            return self.raw
        if self.answer is not None:
            self.answer(event)
        return event

    @property
    def last(self) -> dict[str, Any]:
        assert self.events, "the trigger was never invoked"
        return self.events[-1]

    def sources(self) -> list[str]:
        return [e["triggerSource"] for e in self.events]


def bind(app: App, trigger: str, recorder: Recorder | None = None) -> Recorder:
    recorder = recorder or Recorder()
    set_trigger(app.backend, app.pool_id, trigger, recorder)
    return recorder


def check_envelope(event: dict[str, Any], app: App, *, source: str, username: str, client_id: str | None) -> None:
    """The common parameters every user-pool trigger event carries, field by field."""
    assert set(event) == ENVELOPE, sorted(event)
    assert event["version"] == "1"
    assert event["region"] == app.pool_id.split("_")[0]
    assert event["userPoolId"] == app.pool_id
    assert event["userName"] == username
    assert event["triggerSource"] == source
    assert set(event["callerContext"]) == {"awsSdkVersion", "clientId"}
    assert isinstance(event["callerContext"]["awsSdkVersion"], str) and event["callerContext"]["awsSdkVersion"]
    assert event["callerContext"]["clientId"] == (client_id or NO_CLIENT)


def user_attributes(app: App, username: str) -> dict[str, str]:
    """What ``request.userAttributes`` must hold: the stored attributes and ``cognito:user_status``."""
    user = app.idp.admin_get_user(UserPoolId=app.pool_id, Username=username)
    values = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    values["cognito:user_status"] = user["UserStatus"]
    return values


def trigger_app(emulator: Any, idp: Any, *, pool: dict[str, Any] | None = None,
                client: dict[str, Any] | None = None) -> App:
    """A pool with known message templates (email auto-verified) and an all-flows client."""
    emulator.backend.clock.freeze()
    return make_app(emulator, idp, pool={**TEMPLATES, **(pool or {})},
                    client={"ExplicitAuthFlows": ALL_FLOWS, **(client or {})})

"""Threat protection's event history: AdminListUserAuthEvents, AdminUpdateAuthEventFeedback,
UpdateAuthEventFeedback.

All three answer only while the pool has threat protection on (UserPoolAddOns
AdvancedSecurityMode AUDIT or ENFORCED, which needs the Plus plan); otherwise
UserPoolAddOnNotEnabledException. The events come from ``engine.auth_events``.
UpdateAuthEventFeedback needs the FeedbackToken Cognito puts in a risk-notification
email; the emulator detects no risk and sends no such email, so the only source of
the token is the engine (``auth_events.feedback_token``, in-process).
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any

from harness.engine import auth_events
from harness.engine.common import require_user
from harness.engine.ops.paging import paged_answer
from harness.engine.registry import operation
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.models import User, UserPool
    from harness.engine.store import Backend

ADMIN_PROVIDER = "Admin"  # "if you submit event feedback in the Amazon Cognito console, this value is Admin"
USER_PROVIDER = "User"  # the user following the notification email's link (not documented: chosen here)


def _pool_and_user(backend: Backend, params: dict[str, Any]) -> tuple[UserPool, User]:
    pool = backend.pool(params["UserPoolId"])
    auth_events.require_threat_protection(pool)
    return pool, require_user(pool, params["Username"])


@operation("AdminListUserAuthEvents")
def admin_list_user_auth_events(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    """The user's auth events, newest first, 60 a page unless MaxResults says fewer."""
    pool, user = _pool_and_user(backend, params)
    return paged_answer(auth_events.user_events(backend, pool, user), lambda e: str(e.seq), params.get("MaxResults"),
                        params.get("NextToken"), scope=f"AdminListUserAuthEvents:{pool.pool_id}:{user.sub}",
                        describe=lambda e: auth_events.view(backend, pool, e),
                        items_member="AuthEvents", token_member="NextToken")


@operation("AdminUpdateAuthEventFeedback")
def admin_update_auth_event_feedback(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool, user = _pool_and_user(backend, params)
    event = auth_events.find(backend, pool, user, params["EventId"])
    auth_events.give_feedback(backend, pool, auth_events.event_id_of(backend, pool, event),
                              params["FeedbackValue"], ADMIN_PROVIDER)
    return {}


@operation("UpdateAuthEventFeedback")
def update_auth_event_feedback(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    """The user's answer to a notification email: valid only with that event's FeedbackToken."""
    pool, user = _pool_and_user(backend, params)
    event = auth_events.find(backend, pool, user, params["EventId"])
    event_id = auth_events.event_id_of(backend, pool, event)
    expected = auth_events.feedback_token(backend, pool, user, event_id)
    if not hmac.compare_digest(expected.encode(), str(params["FeedbackToken"]).encode()):
        raise Err.FEEDBACK_TOKEN_INVALID.error()
    auth_events.give_feedback(backend, pool, event_id, params["FeedbackValue"], USER_PROVIDER)
    return {}

"""The threat-protection part of the operation-conformance tour: AdminListUserAuthEvents and the two
feedback operations, on a Plus pool with the add-on in AUDIT mode.

UpdateAuthEventFeedback needs the FeedbackToken Cognito mails with a risk
notification; the emulator mails none, so the token is read from the engine
(``auth_events.feedback_token``), as tests/test_auth_events.py does.
"""

from __future__ import annotations

from typing import Any

from conformance_tour_support import fail, password_auth, permanent_user, pool_with_client
from harness.engine import auth_events


def auth_events_tour(idp: Any, backend: Any) -> None:
    """Each threat-protection operation once to succeed and once to fail."""
    pool_id, cid = pool_with_client(idp, "tour-events", UserPoolTier="PLUS",
                                    UserPoolAddOns={"AdvancedSecurityMode": "AUDIT"})
    plain_pool, _ = pool_with_client(idp, "tour-no-add-on")
    permanent_user(idp, pool_id, "eva")
    permanent_user(idp, plain_pool, "eva")
    password_auth(idp, cid, "eva")
    fail(password_auth, idp=idp, client_id=cid, username="eva", password="Wrong-passw0rd")

    events = idp.admin_list_user_auth_events(UserPoolId=pool_id, Username="eva", MaxResults=10)["AuthEvents"]
    assert [e["EventResponse"] for e in events] == ["Fail", "Pass"], events  # newest first
    fail(idp.admin_list_user_auth_events, UserPoolId=plain_pool, Username="eva")  # no threat protection there
    event_id = events[0]["EventId"]
    idp.admin_update_auth_event_feedback(UserPoolId=pool_id, Username="eva", EventId=event_id, FeedbackValue="Valid")
    fail(idp.admin_update_auth_event_feedback, UserPoolId=pool_id, Username="eva", EventId="no-such-event",
         FeedbackValue="Valid")
    with backend.transaction():
        pool = backend.pool(pool_id)
        token = auth_events.feedback_token(backend, pool, pool.users["eva"], event_id)
    idp.update_auth_event_feedback(UserPoolId=pool_id, Username="eva", EventId=event_id, FeedbackToken=token,
                                   FeedbackValue="Invalid")
    fail(idp.update_auth_event_feedback, UserPoolId=pool_id, Username="eva", EventId=event_id,
         FeedbackToken=token[::-1], FeedbackValue="Invalid")

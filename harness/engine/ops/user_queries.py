"""ListUsers (with Cognito's filter language) and ListUsersInGroup.

The filter is ``attr = "value"`` (exact) or ``attr ^= "prefix"`` on one of
the searchable attributes: username (case-sensitive), email, phone_number,
name, given_name, family_name, preferred_username, sub,
cognito:user_status (case-insensitive) and status ("Enabled"/"Disabled").
Quotes inside the value are escaped with a backslash. Anything else is
"Error while parsing filter"; an unsearchable attribute (custom ones
included) is "Invalid search attribute: <name>".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from harness.engine.models import User, UserPool
from harness.engine.ops.groups import paged, require_group
from harness.engine.registry import operation
from harness.engine.users import members_of, user_type
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

SEARCHABLE_ATTRIBUTES = ("email", "phone_number", "name", "given_name", "family_name", "preferred_username", "sub")
_FILTER_RE = re.compile(r'\s*([^\s=^"]+)\s*(\^=|=)\s*"((?:[^"\\]|\\.)*)"\s*')


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def parse_filter(pool: UserPool, text: str | None) -> Callable[[User], bool] | None:
    """A predicate for a ListUsers filter string (None for no filter)."""
    if text is None or not text.strip():
        return None
    match = _FILTER_RE.fullmatch(text)
    if match is None:
        raise Err.INVALID_FILTER.error()
    name, op, raw = match.groups()
    wanted = _unescape(raw)
    prefix = op == "^="

    def compare(actual: str | None, fold: bool = False) -> bool:
        if actual is None:
            return False
        a, w = (actual.lower(), wanted.lower()) if fold else (actual, wanted)
        return a.startswith(w) if prefix else a == w

    if name == "username":
        return lambda u: compare(u.username, fold=not pool.username_case_sensitive)
    if name == "cognito:user_status":
        return lambda u: compare(u.status, fold=True)
    if name == "status":
        return lambda u: compare("Enabled" if u.enabled else "Disabled")
    if name in SEARCHABLE_ATTRIBUTES:
        return lambda u: compare(u.attributes.get(name))
    raise Err.FILTER_ATTRIBUTE.error(name=name)


@operation("ListUsers")
def list_users(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    predicate = parse_filter(pool, params.get("Filter"))
    found = [u for u in pool.users.values() if predicate is None or predicate(u)]
    names = params.get("AttributesToGet")
    view = (lambda u: user_type(pool, u, names)) if names is not None else (lambda u: user_type(pool, u))
    out = paged(
        found,
        view,
        {"Limit": params.get("Limit"), "NextToken": params.get("PaginationToken")},
        lambda u: u.sub,
        f"ListUsers:{pool.pool_id}:{params.get('Filter') or ''}",
        "Users",
    )
    if "NextToken" in out:
        out["PaginationToken"] = out.pop("NextToken")
    return out


@operation("ListUsersInGroup")
def list_users_in_group(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    group = require_group(pool, params["GroupName"])
    return paged(members_of(pool, group.name), lambda u: user_type(pool, u), params, lambda u: u.sub,
                 f"ListUsersInGroup:{pool.pool_id}:{group.name}", "Users")

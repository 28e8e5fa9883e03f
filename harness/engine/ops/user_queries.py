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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.engine import indexes
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


@dataclass
class UserFilter:
    """A parsed ListUsers filter: the rule every listed user meets, and where to look for them.

    ``lookup`` answers the candidates from the pool's indexes for an exact
    (``=``) filter on username, sub, email, phone_number or
    preferred_username; a prefix (``^=``) filter, or one on name, given_name,
    family_name or a status, has no index and scans the pool (``lookup`` None).
    """

    matches: Callable[[User], bool]
    lookup: Callable[[], list[User]] | None = None

    def users(self, pool: UserPool) -> list[User]:
        """The matching users, in pool (creation) order."""
        candidates = self.lookup() if self.lookup is not None else pool.users.values()
        return [u for u in candidates if self.matches(u)]


def _one(user: User | None) -> list[User]:
    return [user] if user is not None else []


def parse_filter(pool: UserPool, text: str | None) -> UserFilter | None:
    """The filter a ListUsers filter string stands for (None for no filter)."""
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
        return UserFilter(lambda u: compare(u.username, fold=not pool.username_case_sensitive),
                          None if prefix else lambda: _one(pool.users.get(pool.user_key(wanted))))
    if name == "cognito:user_status":
        return UserFilter(lambda u: compare(u.status, fold=True))
    if name == "status":
        return UserFilter(lambda u: compare("Enabled" if u.enabled else "Disabled"))
    if name not in SEARCHABLE_ATTRIBUTES:
        raise Err.FILTER_ATTRIBUTE.error(name=name)
    lookup: Callable[[], list[User]] | None = None
    if not prefix and name == "sub":
        lookup = lambda: _one(indexes.by_sub(pool, wanted))  # noqa: E731
    elif not prefix and name in indexes.INDEXED_ATTRIBUTES:
        lookup = lambda: indexes.holding(pool, name, wanted)  # noqa: E731  (folded: the exact compare follows)
    return UserFilter(lambda u: compare(u.attributes.get(name)), lookup)


@operation("ListUsers")
def list_users(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    parsed = parse_filter(pool, params.get("Filter"))
    found = list(pool.users.values()) if parsed is None else parsed.users(pool)
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

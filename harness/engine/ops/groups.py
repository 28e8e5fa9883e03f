"""Group operations: CreateGroup, GetGroup, UpdateGroup, ListGroups, DeleteGroup,
and membership: AdminAddUserToGroup, AdminRemoveUserFromGroup,
AdminListGroupsForUser (ListUsersInGroup is with ListUsers in user_queries).

Membership changes never touch issued tokens: ``cognito:groups`` reflects
membership at issue time, so a removed member keeps the group in tokens he
already holds until they expire or are refreshed (as in Cognito).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.engine import events as ev
from harness.engine.common import require_user
from harness.engine.models import Group, UserPool
from harness.engine.ops.paging import page
from harness.engine.registry import operation
from harness.engine.users import groups_of, members_of
from harness.errors import Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend


def group_view(group: Group) -> dict[str, Any]:
    """The GroupType view (optional members only when set)."""
    out: dict[str, Any] = {
        "GroupName": group.name,
        "UserPoolId": group.pool_id,
        "LastModifiedDate": group.modified,
        "CreationDate": group.created,
    }
    if group.description is not None:
        out["Description"] = group.description
    if group.role_arn is not None:
        out["RoleArn"] = group.role_arn
    if group.precedence is not None:
        out["Precedence"] = group.precedence
    return out


def require_group(pool: UserPool, name: str) -> Group:
    group = pool.groups.get(name)
    if group is None:
        raise Err.GROUP_NOT_FOUND.error()
    return group


def paged(items: list[Any], view: Any, params: dict[str, Any], key: Any, scope: str, member: str) -> dict[str, Any]:
    chunk, token = page(items, key, params.get("Limit"), params.get("NextToken"), scope=scope)
    out: dict[str, Any] = {member: [view(item) for item in chunk]}
    if token:
        out["NextToken"] = token
    return out


@operation("CreateGroup")
def create_group(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    name = params["GroupName"]
    if name in pool.groups:
        raise Err.GROUP_EXISTS.error()
    now = backend.clock.now()
    group = Group(
        name=name,
        pool_id=pool.pool_id,
        description=params.get("Description"),
        precedence=params.get("Precedence"),
        role_arn=params.get("RoleArn"),
        created=now,
        modified=now,
    )
    pool.groups[name] = group
    return {"Group": group_view(group)}


@operation("GetGroup")
def get_group(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    return {"Group": group_view(require_group(pool, params["GroupName"]))}


@operation("UpdateGroup")
def update_group(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    """Change only the members the request gives (others keep their values)."""
    pool = backend.pool(params["UserPoolId"])
    group = require_group(pool, params["GroupName"])
    if "Description" in params:
        group.description = params["Description"]
    if "Precedence" in params:
        group.precedence = params["Precedence"]
    if "RoleArn" in params:
        group.role_arn = params["RoleArn"]
    group.modified = backend.clock.now()
    return {"Group": group_view(group)}


@operation("ListGroups")
def list_groups(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    groups = sorted(pool.groups.values(), key=lambda g: g.name)
    return paged(groups, group_view, params, lambda g: g.name, f"ListGroups:{pool.pool_id}", "Groups")


@operation("DeleteGroup")
def delete_group(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    group = require_group(pool, params["GroupName"])
    for user in members_of(pool, group.name):
        user.groups.discard(group.name)
    del pool.groups[group.name]
    return {}


def _membership(backend: Backend, params: dict[str, Any], add: bool) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    group = require_group(pool, params["GroupName"])
    user = require_user(pool, params["Username"])
    if add:
        user.groups.add(group.name)
    else:
        user.groups.discard(group.name)
    backend.events.emit(
        ev.GROUP_MEMBERSHIP, pool.pool_id, username=user.username, sub=user.sub, group=group.name,
        action="add" if add else "remove",
    )
    return {}


@operation("AdminAddUserToGroup")
def admin_add_user_to_group(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    return _membership(backend, params, add=True)


@operation("AdminRemoveUserFromGroup")
def admin_remove_user_from_group(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    return _membership(backend, params, add=False)


@operation("AdminListGroupsForUser")
def admin_list_groups_for_user(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    pool = backend.pool(params["UserPoolId"])
    user = require_user(pool, params["Username"])
    return paged(groups_of(pool, user), group_view, params, lambda g: g.name,
                  f"AdminListGroupsForUser:{pool.pool_id}:{user.sub}", "Groups")

"""Permission policies read with parliament: what a role's documents allow, action by action.

Why parliament (over policyuniverse or cloudsplaining): it ships AWS's IAM
definition with each action's access level (Read, List, Write, Tagging,
Permissions management) and resource types, expands wildcards against it
(``expand_action``), matches resource ARNs to resource types and flags
resource-scoped actions granted on ``"*"`` (RESOURCE_STAR) while leaving the
actions that have no resource type alone; it is a library first (a policy
string in, findings out). policyuniverse expands actions but carries no access
levels; cloudsplaining wraps account authorization dumps and brings its own
report machinery.

Policy variables (``${cognito-identity.amazonaws.com:sub}``) contain a colon
that parliament's ARN matching would split on, so the text handed to parliament
has each variable replaced by a plain word; the original resources are kept
for the sub-scoping checks.
"""

from __future__ import annotations

import fnmatch
import json
import re
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from types import ModuleType
from typing import Any


from harness.pooldef.identity import PolicyDocument
from harness.pooldef.reader import PoolDefinitionError

SUB_VARIABLE = "${cognito-identity.amazonaws.com:sub}"
VARIABLE_RE = re.compile(r"\$\{[^}]*\}")
VARIABLE_WORD = "POLICYVARIABLE"
READ_LEVELS = ("Read", "List")
WRITE_LEVELS = ("Write", "Tagging", "Permissions management")
BROKEN = ("MALFORMED_JSON", "MALFORMED", "UNKNOWN_ACTION", "UNKNOWN_PREFIX", "EXCEPTION")
"""parliament findings that mean the document cannot be audited: a typed input error, not a finding."""
STAR_FINDINGS = ("RESOURCE_STAR", "RESOURCE_EFFECTIVELY_STAR")


@lru_cache(maxsize=1)
def _parliament() -> ModuleType:
    """parliament, imported at its first use, not with this module: it loads AWS's whole IAM
    definition (about 40 MiB and 0.4 s here), which ``serve`` and every run that audits nothing
    would otherwise pay for (the CLI and the check catalogue import this package)."""
    with warnings.catch_warnings():  # parliament imports pkg_resources, which warns of its own deprecation
        warnings.simplefilter("ignore", UserWarning)
        import parliament
    return parliament


@lru_cache(maxsize=1)
def _privileges() -> dict[str, dict[str, Any]]:
    """``service:action`` (lower case) -> parliament's privilege entry (access level, resource types)."""
    return {f"{s['prefix']}:{p['privilege']}".lower(): p for s in _parliament().iam_definition for p in s["privileges"]}


def access_level(action: str) -> str:
    return str(_privileges()[action.lower()]["access_level"])


def resource_types(action: str) -> set[str]:
    """The resource types an action works on (``object``, ``bucket``, ``table``...)."""
    return {r["resource_type"].rstrip("*") for r in _privileges()[action.lower()]["resource_types"]
            if r["resource_type"]}


def expand(pattern: str) -> list[str]:
    """Every action (``s3:GetObject``) an Action pattern names, from parliament's IAM definition."""
    if pattern in ("*", "*:*"):
        return [k for k in _actions_by_case()]
    return [f"{a['service']}:{a['action']}" for a in _parliament().expand_action(pattern, raise_exceptions=False)]


@lru_cache(maxsize=1)
def _actions_by_case() -> tuple[str, ...]:
    return tuple(f"{s['prefix']}:{p['privilege']}" for s in _parliament().iam_definition for p in s["privileges"])


def is_wildcard(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Grant:
    """One Allow statement of a permission policy, its actions expanded."""

    document: PolicyDocument
    index: int
    sid: str
    action_patterns: tuple[str, ...]
    not_action: bool
    actions: tuple[str, ...]  # expanded, minus what unconditional Deny statements take away
    resources: tuple[str, ...]  # as written (policy variables kept)
    not_resource: bool
    conditions: dict[str, dict[str, list[str]]]
    star_actions: tuple[str, ...] = ()  # parliament: resource-scoped actions granted on "*"

    @property
    def location(self) -> str:
        return f"{self.document.path} statement {self.index}" + (f" ({self.sid})" if self.sid else "")

    def condition_values(self, key: str) -> list[tuple[str, list[str]]]:
        """(operator, values) of every condition on ``key`` (case-insensitive, as IAM compares keys)."""
        return [(op, vals) for op, block in self.conditions.items() for k, vals in block.items()
                if k.lower() == key.lower()]


@dataclass
class Permissions:
    """What one role's permission policies allow."""

    grants: list[Grant] = field(default_factory=list)

    def allowed(self) -> dict[str, set[str]]:
        """action (lower case) -> the resources it is allowed on."""
        out: dict[str, set[str]] = {}
        for g in self.grants:
            for action in g.actions:
                out.setdefault(action.lower(), set()).update(["*"] if g.not_resource else g.resources)
        return out


def _conditions(raw: Any) -> dict[str, dict[str, list[str]]]:
    if not isinstance(raw, dict):
        return {}
    return {op: {k: [str(v) for v in as_list(vals)] for k, vals in block.items()}
            for op, block in raw.items() if isinstance(block, dict)}


def _denied(statements: list[dict[str, Any]]) -> set[str]:
    """Actions an unconditional Deny on every resource takes away (other Denies are left to IAM: the audit only
    ever reports more than is allowed, never less)."""
    out: set[str] = set()
    for s in statements:
        if s.get("Effect") == "Deny" and "Condition" not in s and "Action" in s and as_list(s.get("Resource")) == ["*"]:
            for p in as_list(s["Action"]):
                out.update(a.lower() for a in expand(str(p)))
    return out


def read_permissions(documents: tuple[PolicyDocument, ...], file: str, key: str) -> Permissions:
    """The Allow grants of ``documents``; a document parliament cannot read is a PoolDefinitionError."""
    perms = Permissions()
    for doc in documents:
        policy = _parliament().analyze_policy_string(VARIABLE_RE.sub(VARIABLE_WORD, doc.text), filepath=str(doc.path),
                                       ignore_private_auditors=True)
        broken = [f for f in policy.findings if f.issue in BROKEN]
        if broken:
            raise PoolDefinitionError(file, key, f"{doc.path}: parliament cannot read the policy: {broken[0].issue} "
                                                 f"{json.dumps(broken[0].detail, default=str)}")
        statements = [s for s in as_list(doc.data["Statement"]) if isinstance(s, dict)]
        denied = _denied(statements)
        for index, (raw, parsed) in enumerate(zip(statements, policy.statements)):
            if raw.get("Effect") != "Allow":
                continue
            patterns = tuple(str(p) for p in as_list(raw.get("Action", raw.get("NotAction", []))))
            not_action = "NotAction" in raw
            if not_action:
                excluded = {a.lower() for p in patterns for a in expand(p)}
                actions = [a for a in _actions_by_case() if a.lower() not in excluded]
            else:
                actions = [a for p in patterns for a in expand(p)]
            actions = list(dict.fromkeys(a for a in actions if a.lower() not in denied))
            stars = sorted({a for f in parsed.findings if f.issue in STAR_FINDINGS
                            for a in (f.detail if isinstance(f.detail, list) else actions)})
            perms.grants.append(Grant(
                document=doc, index=index, sid=str(raw.get("Sid", "")), action_patterns=patterns,
                not_action=not_action, actions=tuple(actions),
                resources=tuple(str(r) for r in as_list(raw.get("Resource", raw.get("NotResource", []))))
                , not_resource="NotResource" in raw, conditions=_conditions(raw.get("Condition")),
                star_actions=tuple(stars)))
    return perms


def covers(pattern: str, resource: str) -> bool:
    """Whether the resource pattern ``pattern`` takes in every resource ``resource`` names."""
    return pattern == "*" or fnmatch.fnmatchcase(resource, pattern)


def matches_any(action: str, patterns: tuple[str, ...] | list[str]) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)


__all__ = ["Grant", "Permissions", "READ_LEVELS", "SUB_VARIABLE", "WRITE_LEVELS", "access_level", "as_list", "covers",
           "expand", "is_wildcard", "matches_any", "read_permissions", "resource_types"]

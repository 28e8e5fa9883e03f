"""The least-privilege checks of an identity-pool setup: pool settings, trust policies, permission policies.

:func:`audit_identity_pool` reads every role the pool can hand out (its
default roles and its rule roles), and runs each check of :data:`CHECKS`;
a sound setup yields no finding, and each check reports only what its
finding kind names (tests/test_audit.py holds a flawed setup per kind).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from harness.audit import findings as kinds
from harness.audit.findings import Finding, FindingKind
from harness.audit.policies import (READ_LEVELS, SUB_VARIABLE, WRITE_LEVELS, Grant, Permissions, access_level, covers,
                                    is_wildcard, matches_any, read_permissions, resource_types)
from harness.audit.trust import condition_key, trust_statements
from harness.pooldef.identity import IDENTITY_KEY, IdentityPoolDefinition, RoleDocuments
from harness.pooldef.reader import PoolDefinitionError

AUTHENTICATED = "authenticated"
UNAUTHENTICATED = "unauthenticated"
DYNAMODB_ITEM_ACTIONS = ("scan", "batchgetitem", "batchwriteitem", "conditioncheckitem", "deleteitem", "getitem",
                         "putitem", "query", "updateitem", "partiqlselect", "partiqlinsert", "partiqlupdate",
                         "partiqldelete")
"""DynamoDB actions on items, which dynamodb:LeadingKeys binds to the caller's partition key (Scan, which it cannot
bind, reads every partition: only a shared table may be scanned)."""


@dataclass
class AuditedRole:
    arn: str
    uses: set[str]  # authenticated / unauthenticated: who can be handed the role
    documents: RoleDocuments
    permissions: Permissions


@dataclass
class Audit:
    """What the checks look at."""

    definition: IdentityPoolDefinition
    roles: list[AuditedRole]
    allow: tuple[str, ...]  # actions the guest role may have on purpose

    @property
    def pool(self) -> str:
        return f"identity pool {self.definition.name!r}"

    def role(self, arn: str) -> AuditedRole:
        return next(r for r in self.roles if r.arn == arn)


@dataclass
class AuditReport:
    source: str
    identity_pool: str
    roles: list[str]
    allow: list[str]
    findings: list[Finding] = field(default_factory=list)
    undocumented: list[str] = field(default_factory=list)  # roles without documents (only when not required)

    def of(self, kind: FindingKind) -> list[Finding]:
        return [f for f in self.findings if f.kind is kind]

    @property
    def clean(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "identity_pool": self.identity_pool, "roles": self.roles,
                "undocumented": self.undocumented, "allow": self.allow, "clean": self.clean,
                "findings": [f.to_dict() for f in self.findings]}


# --- pool settings ---------------------------------------------------------------------------


def classic_flow(a: Audit) -> list[Finding]:
    if not a.definition.allow_classic_flow:
        return []
    return [Finding(kinds.CLASSIC_FLOW, a.pool, "AllowClassicFlow is true", f"{IDENTITY_KEY}.allow_classic_flow")]


def token_check(a: Audit) -> list[Finding]:
    if a.definition.server_side_token_check or not a.definition.clients:
        return []
    return [Finding(kinds.TOKEN_CHECK_OFF, a.pool,
                    f"ServerSideTokenCheck is false for client(s) {', '.join(a.definition.clients)}",
                    f"{IDENTITY_KEY}.server_side_token_check", {"clients": list(a.definition.clients)})]


# --- trust policies --------------------------------------------------------------------------


def trust_aud(a: Audit) -> list[Finding]:
    out = []
    for role in a.roles:
        for s in trust_statements(role.documents.trust):
            pinned = s.pinned(condition_key(s, "aud"))
            values = [v for _, vals in pinned for v in vals]
            if not pinned:
                detail = "no condition pins cognito-identity.amazonaws.com:aud (StringEquals on the identity pool id)"
            elif any(is_wildcard(v) for v in values):
                detail = f"the aud condition has a wildcard ({', '.join(values)})"
            else:
                continue
            out.append(Finding(kinds.TRUST_AUD, role.arn, detail, s.location, {"conditions": s.conditions}))
    return out


def trust_amr(a: Audit) -> list[Finding]:
    out = []
    for role in a.roles:
        for s in trust_statements(role.documents.trust):
            values = [v for _, vals in s.pinned(condition_key(s, "amr")) for v in vals]
            problem = _amr_problem(role.uses, values)
            if problem:
                out.append(Finding(kinds.TRUST_AMR, role.arn, problem, s.location,
                                   {"amr": values, "used_as": sorted(role.uses)}))
    return out


def _amr_problem(uses: set[str], values: list[str]) -> str:
    if not values:
        return "no condition on cognito-identity.amazonaws.com:amr"
    lets_guests_in = any(covers(v, UNAUTHENTICATED) for v in values)
    if AUTHENTICATED in uses and lets_guests_in:
        return f"the role serves signed-in users but its amr condition ({', '.join(values)}) admits unauthenticated"
    if UNAUTHENTICATED in uses and AUTHENTICATED not in uses and values != [UNAUTHENTICATED]:
        return f"the guest role's amr condition is {', '.join(values)}, not exactly unauthenticated"
    return ""


# --- permission policies ------------------------------------------------------------------


def wildcard_actions(a: Audit) -> list[Finding]:
    out = []
    for role in a.roles:
        for g in role.permissions.grants:
            wild = [p for p in g.action_patterns if is_wildcard(p)]
            if g.not_action or wild:
                what = f"NotAction {', '.join(g.action_patterns)}" if g.not_action else ", ".join(wild)
                out.append(Finding(kinds.WILDCARD_ACTION, role.arn, f"{what} grants {len(g.actions)} actions",
                                   g.location, {"patterns": list(g.action_patterns), "expands_to": len(g.actions)}))
    return out


def wildcard_resources(a: Audit) -> list[Finding]:
    out = []
    for role in a.roles:
        for g in role.permissions.grants:
            if g.not_resource:
                out.append(Finding(kinds.WILDCARD_RESOURCE, role.arn, f"NotResource {', '.join(g.resources)}",
                                   g.location))
            elif g.star_actions:
                out.append(Finding(kinds.WILDCARD_RESOURCE, role.arn,
                                   f'{len(g.star_actions)} resource-scoped action(s) on "*": '
                                   + ", ".join(g.star_actions[:8]) + ("..." if len(g.star_actions) > 8 else ""),
                                   g.location, {"actions": list(g.star_actions)}))
    return out


def _guest_actions(a: Audit, levels: tuple[str, ...]) -> list[tuple[AuditedRole, Grant, list[str]]]:
    out = []
    for role in a.roles:
        if UNAUTHENTICATED not in role.uses:
            continue
        for g in role.permissions.grants:
            hits = [x for x in g.actions if access_level(x) in levels and not matches_any(x, a.allow)]
            if hits:
                out.append((role, g, hits))
    return out


def unauthenticated_writes(a: Audit) -> list[Finding]:
    return [Finding(kinds.UNAUTH_WRITE, role.arn, f"the guest role can {_some(hits)}", g.location,
                    {"actions": hits, "allow": list(a.allow)})
            for role, g, hits in _guest_actions(a, WRITE_LEVELS)]


def unauthenticated_reads(a: Audit) -> list[Finding]:
    return [Finding(kinds.UNAUTH_READ, role.arn, f"the guest role can {_some(hits)} (allow-list: "
                    f"{', '.join(a.allow) or 'empty'})", g.location, {"actions": hits, "allow": list(a.allow)})
            for role, g, hits in _guest_actions(a, READ_LEVELS)]


def _some(actions: list[str]) -> str:
    return ", ".join(actions[:8]) + (f" and {len(actions) - 8} more" if len(actions) > 8 else "")


def not_sub_scoped(a: Audit) -> list[Finding]:
    out = []
    for role in a.roles:
        if AUTHENTICATED not in role.uses:
            continue  # the guest role is judged by the allow-list (IDP-UNAUTH-READ / -WRITE)
        for g in role.permissions.grants:
            loose = [x for x in g.actions if _unscoped(a, g, x)]
            if loose:
                out.append(Finding(kinds.NOT_SUB_SCOPED, role.arn,
                                   f"{_some(loose)} on {', '.join(g.resources)} without {SUB_VARIABLE}", g.location,
                                   {"actions": loose, "resources": list(g.resources)}))
    return out


def _shared(a: Audit, action: str, resource: str) -> bool:
    return access_level(action) in READ_LEVELS and any(covers(p, resource) for p in a.definition.shared_resources)


def _unscoped(a: Audit, g: Grant, action: str) -> bool:
    service, _, name = action.lower().partition(":")
    types = resource_types(action)
    if service == "s3" and "object" in types:
        resources = ["*"] if g.not_resource else list(g.resources)
        return any(SUB_VARIABLE not in r.partition("/")[2] and not _shared(a, action, r) for r in resources
                   if r == "*" or r.startswith("arn:aws:s3:::"))
    if service == "s3" and name == "listbucket":
        prefixes = [v for _, vals in g.condition_values("s3:prefix") for v in vals]
        if not prefixes:
            return not all(_shared(a, action, f"{r}/*") for r in g.resources)
        return any(SUB_VARIABLE not in p and not all(_shared(a, action, f"{r}/{p}") for r in g.resources)
                   for p in prefixes)
    if service == "dynamodb" and name in DYNAMODB_ITEM_ACTIONS:
        keys = [v for _, vals in g.condition_values("dynamodb:LeadingKeys") for v in vals]
        if name != "scan" and keys and all(SUB_VARIABLE in k for k in keys):
            return False
        return not all(_shared(a, action, r) for r in g.resources)
    return False


# --- role mappings ------------------------------------------------------------------------


def ambiguous_broad(a: Audit) -> list[Finding]:
    fallback_arn = a.definition.roles.get(AUTHENTICATED)
    out = []
    for m in a.definition.role_mappings:
        documented = {r.arn for r in a.roles}
        if m.type != "Rules" or m.ambiguous_role_resolution != "AuthenticatedRole" or fallback_arn not in documented:
            continue
        fallback = a.role(fallback_arn).permissions.allowed()
        rule_roles = list(dict.fromkeys(r.role_arn for r in m.rules))
        beyond = {}
        for arn in rule_roles:
            if arn == fallback_arn or arn not in documented:
                continue
            extra = _beyond(fallback, a.role(arn).permissions.allowed())
            if extra:
                beyond[arn] = extra
        if beyond:
            arn, extra = next(iter(beyond.items()))
            out.append(Finding(kinds.AMBIGUOUS_BROAD, fallback_arn,
                               f"client {m.client!r}: a user no rule matches gets {fallback_arn}, which allows "
                               f"{_some(extra)} that rule role {arn} does not", f"{m.key}.ambiguous_role_resolution",
                               {"beyond": beyond}))
    return out


def _beyond(broad: dict[str, set[str]], narrow: dict[str, set[str]]) -> list[str]:
    """``action on resource`` pairs ``broad`` allows that ``narrow`` does not cover."""
    return sorted(f"{action} on {r}" for action, resources in broad.items() for r in resources
                  if not any(covers(p, r) for p in narrow.get(action, ())))


CHECKS: tuple[Callable[[Audit], list[Finding]], ...] = (
    trust_aud, trust_amr, unauthenticated_writes, unauthenticated_reads, wildcard_actions, wildcard_resources,
    not_sub_scoped, ambiguous_broad, token_check, classic_flow,
)


# --- entry point ---------------------------------------------------------------------------


def role_uses(definition: IdentityPoolDefinition) -> dict[str, set[str]]:
    """Role ARN -> who can be handed it: the unauthenticated role guests, every other role signed-in users."""
    uses: dict[str, set[str]] = {}
    for kind in (AUTHENTICATED, UNAUTHENTICATED):
        if kind in definition.roles:
            uses.setdefault(definition.roles[kind], set()).add(kind)
    for m in definition.role_mappings:
        for r in m.rules:
            uses.setdefault(r.role_arn, set()).add(AUTHENTICATED)
    return uses


def audit_identity_pool(definition: IdentityPoolDefinition, allow: tuple[str, ...] | list[str] = (),
                        source: str = "", *, require_documents: bool = True) -> AuditReport:
    """Every finding of ``definition``'s setup; ``allow`` adds to its unauthenticated allow-list. A document that
    cannot be read is a PoolDefinitionError (bad input, not a finding), and so is a role without documents unless
    not ``require_documents``: then it is left out of the role checks and listed in ``undocumented``."""
    documents = definition.documents()
    roles = []
    undocumented = []
    for arn, uses in role_uses(definition).items():
        if arn not in documents and not require_documents:
            undocumented.append(arn)
            continue
        if arn not in documents:
            raise PoolDefinitionError(definition.file, f"{IDENTITY_KEY}.role_documents",
                                      f"no trust and permission documents for role {arn} (used for "
                                      f"{' and '.join(sorted(uses))} identities): the audit needs them")
        files = definition.role_documents[arn]
        roles.append(AuditedRole(arn, uses, documents[arn],
                                 read_permissions(documents[arn].permissions, definition.file, files.key)))
    audit = Audit(definition, roles, tuple(dict.fromkeys([*definition.unauthenticated_allow, *allow])))
    found = [f for check in CHECKS for f in check(audit)]
    return AuditReport(source=source or definition.file, identity_pool=definition.name,
                       roles=[r.arn for r in roles], allow=list(audit.allow), findings=found, undocumented=undocumented)


__all__ = ["AUTHENTICATED", "AuditReport", "CHECKS", "UNAUTHENTICATED", "audit_identity_pool", "role_uses"]

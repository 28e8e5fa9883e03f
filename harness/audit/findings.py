"""The audit's findings: what each one means, why it matters, how to fix it, and where AWS says so.

Each :class:`FindingKind` is a constant here, referred to by name from the
checks (harness.audit.checks) and the IDP- scenarios (scenarios/identity_audit.py),
which carry the same ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.audit import references as ref
from harness.audit.references import Reference


@dataclass(frozen=True)
class FindingKind:
    id: str
    title: str
    why: str
    fix: str
    references: tuple[Reference, ...]
    needs_documents: bool = True  # judged on the roles' trust / permission documents (else on the pool settings)


@dataclass(frozen=True)
class Finding:
    """One instance of a kind: which role (or the pool), which document and statement, and what was seen."""

    kind: FindingKind
    subject: str  # a role ARN, or "identity pool <name>"
    detail: str
    location: str = ""  # file and statement, or the definition key
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.kind.id, "title": self.kind.title, "subject": self.subject, "detail": self.detail,
                "location": self.location, "evidence": self.evidence, "why": self.kind.why, "fix": self.kind.fix,
                "references": [r.to_dict() for r in self.kind.references]}


TRUST_AUD = FindingKind(
    "IDP-TRUST-AUD", "Role trust policy does not pin the identity pool (cognito-identity.amazonaws.com:aud)",
    "Without an exact aud condition any identity pool, in any account, can obtain credentials for the role "
    "(through the basic flow's AssumeRoleWithWebIdentity).",
    'Add "StringEquals": {"cognito-identity.amazonaws.com:aud": "<your identity pool id>"} to every statement '
    "that trusts cognito-identity.amazonaws.com (no wildcards, no ...IfExists).",
    (ref.ROLE_TRUST, ref.IDENTITY_POOL_SECURITY, ref.IAM_ROLES))
TRUST_AMR = FindingKind(
    "IDP-TRUST-AMR", "Role trust policy does not restrict amr to the role's use (authenticated / unauthenticated)",
    "Without an amr condition (or with the wrong one) a guest identity can assume the authenticated role, or the "
    "guest role is trusted for signed-in users it was not written for.",
    'Add "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"} to roles for signed-in '
    'users and "unauthenticated" to the guest role.',
    (ref.ROLE_TRUST, ref.IDENTITY_POOL_SECURITY, ref.IAM_CONDITIONS))
UNAUTH_WRITE = FindingKind(
    "IDP-UNAUTH-WRITE", "Unauthenticated (guest) role can write",
    "Anyone who can reach the app gets guest credentials: write, tagging or permissions-management actions in "
    "the guest role are open to the internet.",
    "Remove write actions from the unauthenticated role, or list the few the app needs in "
    "[identity_pool.audit].unauthenticated_allow (or --allow).",
    (ref.IAM_ROLES, ref.IDENTITY_POOL_SECURITY, ref.IAM_LEAST_PRIVILEGE))
UNAUTH_READ = FindingKind(
    "IDP-UNAUTH-READ", "Unauthenticated (guest) role reads beyond the allow-list",
    "Guest credentials are public: every read the guest role has, beyond what the app declared it needs, is data "
    "anyone can fetch.",
    "Narrow the unauthenticated role to the actions in [identity_pool.audit].unauthenticated_allow (or --allow), "
    "or add the action there if the app really serves it to guests.",
    (ref.IAM_ROLES, ref.IDENTITY_POOL_SECURITY, ref.IAM_LEAST_PRIVILEGE))
WILDCARD_ACTION = FindingKind(
    "IDP-WILDCARD-ACTION", "Permission policy grants wildcard actions (or NotAction)",
    "A wildcard grants every action that matches, including ones AWS adds later; credentials that reach the "
    "browser carry all of them.",
    "List the exact actions the app calls (e.g. s3:GetObject, s3:PutObject) instead of s3:* or s3:Get*.",
    (ref.IAM_LEAST_PRIVILEGE, ref.IDENTITY_POOL_SECURITY))
WILDCARD_RESOURCE = FindingKind(
    "IDP-WILDCARD-RESOURCE", 'Permission policy grants resource-scoped actions on "*" (or NotResource)',
    "Actions that support resource-level permissions granted on every resource reach every bucket, table or "
    "function of the account, not the app's own.",
    "Name the app's resources (bucket, table ARNs) in Resource; keep \"*\" only for actions that have no resource "
    "type.",
    (ref.IAM_LEAST_PRIVILEGE, ref.IDENTITY_POOL_SECURITY))
NOT_SUB_SCOPED = FindingKind(
    "IDP-NOT-SUB-SCOPED", "S3/DynamoDB access is not scoped to ${cognito-identity.amazonaws.com:sub}",
    "Every signed-in user shares the role: without the identity id in the object key (S3) or the partition key "
    "condition (DynamoDB), one user reads or overwrites another's data.",
    "Put ${cognito-identity.amazonaws.com:sub} in the S3 object ARN (and the s3:prefix condition of ListBucket), "
    "and a dynamodb:LeadingKeys condition on it for item actions; declare deliberately shared read-only data in "
    "[identity_pool.audit].shared_resources.",
    (ref.S3_PER_IDENTITY, ref.DYNAMODB_PER_IDENTITY, ref.IAM_LEAST_PRIVILEGE))
AMBIGUOUS_BROAD = FindingKind(
    "IDP-AMBIGUOUS-BROAD", "Rules mapping falls back to an authenticated role broader than its rule roles",
    "With AmbiguousRoleResolution = AuthenticatedRole a user no rule matches (a new group, a typo, a missing claim) "
    "gets the pool's authenticated role: when it can do more than the rule roles, the fallback is an escalation.",
    'Set ambiguous_role_resolution = "Deny", or make the authenticated role no broader than every rule role.',
    (ref.ROLE_BASED_ACCESS, ref.IDENTITY_POOL_SECURITY, ref.IAM_LEAST_PRIVILEGE))
TOKEN_CHECK_OFF = FindingKind(
    "IDP-TOKEN-CHECK-OFF", "ServerSideTokenCheck is off for a trusted user-pool client",
    "Without the server-side check the identity pool accepts an ID token of a user who signed out globally, or "
    "was disabled or deleted, until it expires: they keep getting AWS credentials.",
    "Set server_side_token_check = true (ServerSideTokenCheck of CognitoIdentityProviders).",
    (ref.PROVIDER_API, ref.IDENTITY_POOL_SECURITY), needs_documents=False)
CLASSIC_FLOW = FindingKind(
    "IDP-CLASSIC-FLOW", "Basic (classic) authentication flow is on",
    "The basic flow lets the client pick any role and call AssumeRoleWithWebIdentity itself: role mappings are "
    "not applied, and only the roles' trust policies stand between a user and every role that trusts the pool.",
    "Set allow_classic_flow = false and use the enhanced flow (GetId, GetCredentialsForIdentity).",
    (ref.AUTH_FLOW, ref.IDENTITY_POOL_SECURITY), needs_documents=False)

FINDING_KINDS = (TRUST_AUD, TRUST_AMR, UNAUTH_WRITE, UNAUTH_READ, WILDCARD_ACTION, WILDCARD_RESOURCE, NOT_SUB_SCOPED,
                 AMBIGUOUS_BROAD, TOKEN_CHECK_OFF, CLASSIC_FLOW)
"""Every kind, in report order."""

__all__ = ["AMBIGUOUS_BROAD", "CLASSIC_FLOW", "FINDING_KINDS", "Finding", "FindingKind", "NOT_SUB_SCOPED",
           "TOKEN_CHECK_OFF", "TRUST_AMR", "TRUST_AUD", "UNAUTH_READ", "UNAUTH_WRITE", "WILDCARD_ACTION",
           "WILDCARD_RESOURCE"]

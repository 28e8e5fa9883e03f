"""IDP-: the least-privilege audit of the app's identity-pool setup, one static check per finding.

Each check reads the identity pool the spec's pool declares (``[identity_pool]``
of its definition, with the roles' trust and permission documents) through
``ctx.identity_audit()`` and FAILs with the findings of its kind as evidence;
it SKIPs when the spec declares no identity pool (and a check of the roles'
documents SKIPs when the definition lacks a role's documents). Nothing is sent
to the pool or the target: the documents are what IAM would enforce.
docs/identity-pools.md explains each finding, why it matters and how to fix it.
"""

from __future__ import annotations

from harness.scenario import FindingKind, ScenarioContext, audit_findings as kinds, scenario

FAMILY = "identity-audit"
TAGS = ("identity-pool", "iam", "least-privilege")


def judge(ctx: ScenarioContext, kind: FindingKind) -> None:
    """FAIL with every finding of ``kind`` in the audit of the spec's identity pool."""
    report = ctx.identity_audit()
    if kind.needs_documents and report.undocumented:
        ctx.skip(f"the identity pool's [identity_pool.role_documents] lacks role(s) {', '.join(report.undocumented)}: "
                 f"{kind.id} judges their trust and permission documents")
    with ctx.step(f"audit identity pool {report.identity_pool!r} for {kind.id}"):
        ctx.note("audited setup", source=report.source, roles=report.roles, allow=report.allow)
        found = report.of(kind)
        for f in found:
            ctx.note(f"{kind.id}: {f.subject}", finding=f.to_dict())
        ctx.expect(not found, f"{kind.title}: " + "; ".join(f"{f.subject}: {f.detail}" for f in found),
                   expected=f"no {kind.id} finding", actual=f"{len(found)} finding(s)" + (
                       f", first at {found[0].location}" if found and found[0].location else ""))


def references(kind: FindingKind) -> list[str]:
    return [f"{r.title} <{r.url}>" for r in kind.references]


@scenario(
    id="IDP-TRUST-AUD",
    family=FAMILY,
    title='Every role trusting the identity pool pins its id (cognito-identity.amazonaws.com:aud)',
    severity="MUST",
    requirements=references(kinds.TRUST_AUD),
    remediation=kinds.TRUST_AUD.fix,
    control_plane=False,
    tags=TAGS,
)
def trust_aud(ctx: ScenarioContext) -> None:
    judge(ctx, kinds.TRUST_AUD)


@scenario(
    id="IDP-TRUST-AMR",
    family=FAMILY,
    title="Every role's trust policy restricts amr to its use (authenticated or unauthenticated)",
    severity="MUST",
    requirements=references(kinds.TRUST_AMR),
    remediation=kinds.TRUST_AMR.fix,
    control_plane=False,
    tags=TAGS,
)
def trust_amr(ctx: ScenarioContext) -> None:
    judge(ctx, kinds.TRUST_AMR)


@scenario(
    id="IDP-UNAUTH-WRITE",
    family=FAMILY,
    title='The unauthenticated (guest) role cannot write beyond the allow-list',
    severity="MUST",
    requirements=references(kinds.UNAUTH_WRITE),
    remediation=kinds.UNAUTH_WRITE.fix,
    control_plane=False,
    tags=TAGS,
)
def unauth_write(ctx: ScenarioContext) -> None:
    judge(ctx, kinds.UNAUTH_WRITE)


@scenario(
    id="IDP-UNAUTH-READ",
    family=FAMILY,
    title='The unauthenticated (guest) role reads nothing beyond the allow-list',
    severity="SHOULD",
    requirements=references(kinds.UNAUTH_READ),
    remediation=kinds.UNAUTH_READ.fix,
    control_plane=False,
    tags=TAGS,
)
def unauth_read(ctx: ScenarioContext) -> None:
    judge(ctx, kinds.UNAUTH_READ)


@scenario(
    id="IDP-WILDCARD-ACTION",
    family=FAMILY,
    title='Permission policies name their actions (no wildcard, no NotAction)',
    severity="SHOULD",
    requirements=references(kinds.WILDCARD_ACTION),
    remediation=kinds.WILDCARD_ACTION.fix,
    control_plane=False,
    tags=TAGS,
)
def wildcard_action(ctx: ScenarioContext) -> None:
    judge(ctx, kinds.WILDCARD_ACTION)


@scenario(
    id="IDP-WILDCARD-RESOURCE",
    family=FAMILY,
    title='Permission policies name their resources (no resource-scoped action on "*")',
    severity="MUST",
    requirements=references(kinds.WILDCARD_RESOURCE),
    remediation=kinds.WILDCARD_RESOURCE.fix,
    control_plane=False,
    tags=TAGS,
)
def wildcard_resource(ctx: ScenarioContext) -> None:
    judge(ctx, kinds.WILDCARD_RESOURCE)


@scenario(
    id="IDP-NOT-SUB-SCOPED",
    family=FAMILY,
    title='S3 and DynamoDB access of signed-in users is scoped to their identity id',
    severity="MUST",
    requirements=references(kinds.NOT_SUB_SCOPED),
    remediation=kinds.NOT_SUB_SCOPED.fix,
    control_plane=False,
    tags=TAGS,
)
def not_sub_scoped(ctx: ScenarioContext) -> None:
    judge(ctx, kinds.NOT_SUB_SCOPED)


@scenario(
    id="IDP-AMBIGUOUS-BROAD",
    family=FAMILY,
    title='A rules mapping never falls back to a role broader than its rule roles',
    severity="MUST",
    requirements=references(kinds.AMBIGUOUS_BROAD),
    remediation=kinds.AMBIGUOUS_BROAD.fix,
    control_plane=False,
    tags=TAGS,
)
def ambiguous_broad(ctx: ScenarioContext) -> None:
    judge(ctx, kinds.AMBIGUOUS_BROAD)


@scenario(
    id="IDP-TOKEN-CHECK-OFF",
    family=FAMILY,
    title='The identity pool checks user-pool tokens server side (ServerSideTokenCheck)',
    severity="SHOULD",
    requirements=references(kinds.TOKEN_CHECK_OFF),
    remediation=kinds.TOKEN_CHECK_OFF.fix,
    control_plane=False,
    tags=TAGS,
)
def token_check_off(ctx: ScenarioContext) -> None:
    judge(ctx, kinds.TOKEN_CHECK_OFF)


@scenario(
    id="IDP-CLASSIC-FLOW",
    family=FAMILY,
    title='The basic (classic) authentication flow is off',
    severity="MUST",
    requirements=references(kinds.CLASSIC_FLOW),
    remediation=kinds.CLASSIC_FLOW.fix,
    control_plane=False,
    tags=TAGS,
)
def classic_flow(ctx: ScenarioContext) -> None:
    judge(ctx, kinds.CLASSIC_FLOW)


__all__ = ["FAMILY"]

"""The public API for writing checks: everything a scenario module needs, in one import.

A check is a function of a :class:`ScenarioContext`, declared with :func:`scenario`::

    from harness.scenario import ScenarioContext, scenario

    @scenario(id="MYAPP-ADMIN-ONLY", family="my-app", title="Members cannot reach the admin page",
              severity="MUST", requirements=["OWASP ASVS 4.0 §4.1.1"],
              remediation="Check the caller's admin group on every admin route.", needs=["tenant_admin"])
    def members_are_not_admins(ctx: ScenarioContext) -> None:
        ...

It returns for PASS, raises :class:`Failure` (``ctx.fail``) for FAIL and
:class:`Skip` (``ctx.skip``) for SKIP; anything else is an ERROR. The context
gives the pool (``ctx.api``; ``ctx.raw_api`` for an unrecorded call), the
control plane (``ctx.control``, ``ctx.require_control_plane``), the fake
external IdPs (``ctx.fake_idps``), the key a forged token is signed with
(``ctx.foreign_key``), the least-privilege audit of the spec's identity pool
(``ctx.identity_audit``), second factors (``ctx.mfa``: authenticator apps, TOTP
codes, SMS and email codes), the identity pool (``ctx.identity``: credentials
and the role of any AccessKeyId), the target (``ctx.call``) and evidence (``ctx.step``,
``ctx.note``). Packages ship their own families through the entry-point group
``cognito_harness.scenarios``; the guide is docs/writing-a-check.md.
"""

from __future__ import annotations

from harness.audit import FINDING_KINDS, AuditReport, Finding, FindingKind
from harness.audit import findings as audit_findings
from harness.encoding import b64url, b64url_decode
from harness.fake_idps import FakeIdPHandle, FakeIdPs
from harness.protocol import operation_model
from harness.runner.context import ScenarioContext, TestUser, Tokens, claims_of
from harness.runner.identity import IssuedCredentials, PoolIdentity
from harness.runner.mfa import Authenticator, PoolMfa
from harness.runner.scenario import ENTRY_POINT_GROUP, Failure, Scenario, Skip, scenario
from harness.runner.target import HarnessError, TargetResponse
from harness.runner.windows import Probe, Window

__all__ = [
    "AuditReport",
    "Authenticator",
    "ENTRY_POINT_GROUP",
    "FakeIdPHandle",
    "FINDING_KINDS",
    "FakeIdPs",
    "Failure",
    "Finding",
    "FindingKind",
    "HarnessError",
    "IssuedCredentials",
    "PoolIdentity",
    "PoolMfa",
    "Probe",
    "Scenario",
    "ScenarioContext",
    "Skip",
    "TargetResponse",
    "TestUser",
    "Tokens",
    "Window",
    "audit_findings",
    "b64url",
    "b64url_decode",
    "claims_of",
    "operation_model",
    "scenario",
]

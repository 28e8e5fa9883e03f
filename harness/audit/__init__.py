"""The least-privilege audit of an app's identity-pool setup (``cognito-harness audit``, the IDP- checks).

It reads the ``[identity_pool]`` of a pool definition (harness.pooldef.identity)
with each role's trust and permission documents, and reports findings
(harness.audit.findings), each with why it matters, how to fix it and the
AWS documents that say so. Permission policies are read with parliament
(harness.audit.policies says why); trust policies directly (harness.audit.trust).
"""

from __future__ import annotations

from harness.audit.checks import AuditReport, audit_identity_pool
from harness.audit.findings import FINDING_KINDS, Finding, FindingKind
from harness.audit.references import Reference
from harness.audit.report import render_json, render_text
from harness.audit.sources import audit_file, definition_of_file, definition_of_spec_pool

__all__ = ["FINDING_KINDS", "AuditReport", "Finding", "FindingKind", "Reference", "audit_file", "audit_identity_pool",
           "definition_of_file", "definition_of_spec_pool", "render_json", "render_text"]

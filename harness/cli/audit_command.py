"""``cognito-harness audit``: the least-privilege audit of an identity-pool setup.

``--pool F`` audits a pool definition file's ``[identity_pool]``; ``--target
SPEC`` the pool a target spec declares (its definition file and inline
``[pool]`` keys). ``--allow ACTION`` adds to the unauthenticated role's
allow-list (``[identity_pool.audit].unauthenticated_allow``). Exit 0: no
finding; 1: findings; 2: bad input (unreadable file, a key or document the
audit cannot read, no identity pool declared).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from harness.audit import AuditReport, audit_identity_pool, definition_of_file, definition_of_spec_pool, render_json, \
    render_text
from harness.pooldef import PoolDefinitionError
from harness.pooldef.identity import IdentityPoolDefinition
from harness.runner.spec import SpecError, load_spec

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2


def _error(message: str) -> int:
    print(f"cognito-harness audit: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _definition(args: argparse.Namespace) -> tuple[IdentityPoolDefinition | None, str]:
    if args.pool is not None:
        return definition_of_file(args.pool), args.pool
    spec = load_spec(args.target)
    return definition_of_spec_pool(spec.path, spec.pool_definition_path(), spec.pool.inline), args.target


def run_audit(args: argparse.Namespace) -> int:
    try:
        definition, source = _definition(args)
        if definition is None:
            return _error(f"{source} declares no [identity_pool]: nothing to audit")
        report: AuditReport = audit_identity_pool(definition, tuple(args.allow or ()), source)
    except (PoolDefinitionError, SpecError) as exc:
        return _error(str(exc))
    sys.stdout.write(render_json(report) if args.format == "json" else render_text(report))
    return EXIT_CLEAN if report.clean else EXIT_FINDINGS


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "audit", help="least-privilege audit of an identity pool's roles (trust and permission policies)",
        description="Audit the [identity_pool] of a pool definition (or of a target spec's pool): trust policy "
                    "conditions, guest permissions, wildcards, per-identity scoping, role-mapping fallback, "
                    "ServerSideTokenCheck and the classic flow. Exit 0 clean, 1 findings, 2 bad input.")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--pool", metavar="F", help="a pool definition TOML with an [identity_pool] table")
    source.add_argument("--target", metavar="SPEC", help="a target spec: audits the pool it declares")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--allow", metavar="ACTION", nargs="+", action="extend",
                   help="actions the unauthenticated role may have (e.g. s3:GetObject; globs allowed)")
    p.set_defaults(run=run_audit)


__all__ = ["EXIT_BAD_INPUT", "EXIT_CLEAN", "EXIT_FINDINGS", "register", "run_audit"]

"""Role trust policies: which statements let the identity pool's tokens assume the role, and on what conditions.

A trust policy is a short resource policy; parliament lints identity policies
(it would call a trust policy's missing Resource malformed), so the few
elements that matter here are read directly from the JSON.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from harness.audit.policies import as_list
from harness.pooldef.identity import PolicyDocument

IDENTITY_PRINCIPAL = "cognito-identity.amazonaws.com"
ASSUME_ACTION = "sts:assumerolewithwebidentity"
POSITIVE_OPERATORS = ("stringequals", "stringlike")
"""Condition operators that require the key (set operators ForAnyValue:/ForAllValues: stripped); a negated
operator or an ...IfExists one does not pin a value."""


@dataclass(frozen=True)
class TrustStatement:
    """An Allow statement that lets cognito-identity tokens assume the role."""

    document: PolicyDocument
    index: int
    principal: str  # the federated principal (cognito-identity.amazonaws.com, or "*")
    conditions: dict[str, dict[str, list[str]]]

    @property
    def location(self) -> str:
        return f"{self.document.path} statement {self.index}"

    def pinned(self, key: str) -> list[tuple[str, list[str]]]:
        """(operator, values) of the positive conditions on ``key`` (``<principal>:aud``, case-insensitive)."""
        out = []
        for op, block in self.conditions.items():
            base = op.lower().split(":")[-1]
            if base not in POSITIVE_OPERATORS:
                continue
            out += [(op, vals) for k, vals in block.items() if k.lower() == key.lower()]
        return out


def _principals(raw: object) -> list[str]:
    if raw == "*":
        return ["*"]
    if isinstance(raw, dict):
        return [str(p) for p in as_list(raw.get("Federated", []))] + (["*"] if raw.get("AWS") == "*" else [])
    return []


def trust_statements(document: PolicyDocument) -> list[TrustStatement]:
    """The statements of ``document`` through which an identity-pool token can assume the role."""
    out = []
    for index, raw in enumerate(as_list(document.data["Statement"])):
        if not isinstance(raw, dict) or raw.get("Effect") != "Allow":
            continue
        actions = [str(a).lower() for a in as_list(raw.get("Action", []))]
        if not any(fnmatch.fnmatchcase(ASSUME_ACTION, a) for a in actions):
            continue
        for principal in _principals(raw.get("Principal")):
            if principal == "*" or principal.startswith(IDENTITY_PRINCIPAL):
                conditions = raw.get("Condition") if isinstance(raw.get("Condition"), dict) else {}
                out.append(TrustStatement(
                    document=document, index=index, principal=principal,
                    conditions={op: {k: [str(v) for v in as_list(vals)] for k, vals in block.items()}
                                for op, block in conditions.items() if isinstance(block, dict)}))
                break
    return out


def condition_key(statement: TrustStatement, claim: str) -> str:
    """The condition key of a claim for the statement's principal (``cognito-identity.amazonaws.com:aud``)."""
    host = IDENTITY_PRINCIPAL if statement.principal == "*" else statement.principal
    return f"{host}:{claim}"


__all__ = ["TrustStatement", "condition_key", "trust_statements"]

"""Name -> handler tables for the operations the engine emulates, one per service.

cognito-idp operation modules (``harness/engine/ops/``, every one imported by that
package's ``__init__``) register with ``@operation("SignUp")``; cognito-identity ones
(``harness/engine/identity/ops/``) with ``@identity_operation("GetId")``; a handler takes the
backend and the request members (API names, already shape-validated by the
caller) and returns the response members. Knowing nothing of HTTP, the same
handlers serve the HTTP face and Python callers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

Handler = Callable[["Backend", dict[str, Any]], dict[str, Any]]

OPERATIONS: dict[str, Handler] = {}
"""cognito-idp (user pools)."""
IDENTITY_OPERATIONS: dict[str, Handler] = {}
"""cognito-identity (identity pools)."""


def _registrar(table: dict[str, Handler], name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        if name in table:
            raise RuntimeError(f"operation {name} registered twice")
        table[name] = fn
        return fn

    return register


def operation(name: str) -> Callable[[Handler], Handler]:
    """Register a cognito-idp operation handler."""
    return _registrar(OPERATIONS, name)


def identity_operation(name: str) -> Callable[[Handler], Handler]:
    """Register a cognito-identity operation handler."""
    return _registrar(IDENTITY_OPERATIONS, name)

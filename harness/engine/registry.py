"""Name -> handler table for the cognito-idp operations the engine emulates.

Operation modules register with ``@operation("SignUp")``; a handler takes the
backend and the request members (API names, already shape-validated by the
caller) and returns the response members. Knowing nothing of HTTP, the same
handlers serve the HTTP face and Python callers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

Handler = Callable[["Backend", dict[str, Any]], dict[str, Any]]

OPERATIONS: dict[str, Handler] = {}

_OPERATION_MODULES = (
    "harness.engine.ops.pools",
    "harness.engine.ops.clients",
    "harness.engine.ops.groups",
    "harness.engine.ops.admin_users",
    "harness.engine.ops.user_queries",
    "harness.engine.ops.signup",
    "harness.engine.ops.auth",
    "harness.engine.ops.tokens",
    "harness.engine.ops.self_service",
    "harness.engine.ops.identity_providers",
    "harness.engine.ops.domains",
    "harness.engine.ops.resource_servers",
    "harness.engine.ops.federation",
)


def operation(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        if name in OPERATIONS:
            raise RuntimeError(f"operation {name} registered twice")
        OPERATIONS[name] = fn
        return fn

    return register


def load_operations() -> dict[str, Handler]:
    """Import every operation module (idempotent) and return the table."""
    for module in _OPERATION_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:  # a module not written yet
            if exc.name != module:
                raise
    return OPERATIONS

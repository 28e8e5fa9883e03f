"""The bundled scenario suites: one module per family, each check a small declarative unit with a stable ID.

Modules register their checks with ``harness.scenario.scenario``. This package
imports every bundled family, and is itself the ``bundled`` entry point of the
``cognito_harness.scenarios`` group (pyproject.toml), which is how the runner
finds it and any family another package ships.
"""

# in catalogue order (the order checks run and are reported in)
from scenarios import token_validation
from scenarios import token_validation_keys  # same family: key sourcing, unknown kids, rotation
from scenarios import token_validation_claims  # same family: token type, partial issuer, crit
from scenarios import expiry
from scenarios import refresh
from scenarios import logout
from scenarios import federation
from scenarios import email_delivery
from scenarios import tenancy
from scenarios import lockout
from scenarios import mfa
from scenarios import triggers
from scenarios import identity  # AWS credentials the app gets from its identity pool
from scenarios import identity_audit  # least-privilege audit of the identity pool's roles (static)

FAMILY_MODULES = (token_validation, token_validation_keys, token_validation_claims, expiry, refresh, logout,
                  federation, email_delivery, tenancy, lockout, mfa, triggers, identity,
                  identity_audit)
"""Every bundled module that declares checks, in catalogue order."""

__all__ = ["FAMILY_MODULES"]

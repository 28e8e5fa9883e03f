"""Pool definitions: a TOML file (or a spec's inline ``[pool]``) that builds a user pool.

``build`` turns a definition into a pool through the engine's own operations;
``reader`` reads the typed TOML tables; ``users`` makes the seed users;
``shape`` says which sign-in identifiers the pool uses (username, email, phone).
"""

from __future__ import annotations

from harness.pooldef.build import (
    ClientHandle,
    DEFAULT_APP_CLIENT,
    DEFINITION_KEYS,
    ISSUER_MODES,
    PoolDefinitionError,
    PoolHandle,
    UserHandle,
    build_pool,
    check_definition,
    create_pool_params,
    default_pool_path,
    inline_layout,
    layered,
    load_pool,
    mfa_config_params,
    read_definition,
    with_custom_attributes,
)

__all__ = [
    "ClientHandle",
    "DEFAULT_APP_CLIENT",
    "DEFINITION_KEYS",
    "ISSUER_MODES",
    "PoolDefinitionError",
    "PoolHandle",
    "UserHandle",
    "build_pool",
    "check_definition",
    "create_pool_params",
    "default_pool_path",
    "inline_layout",
    "layered",
    "load_pool",
    "mfa_config_params",
    "read_definition",
    "with_custom_attributes",
]

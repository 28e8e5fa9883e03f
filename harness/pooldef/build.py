"""Pool definitions: a TOML file that describes a ready-to-use user pool.

``load_pool(backend, path)`` reads the file, checks every key (a mistake is a
:class:`PoolDefinitionError` naming the file, the key and what was expected)
and builds the pool THROUGH the cognito-idp operations (CreateUserPool,
CreateUserPoolClient, CreateGroup, AdminCreateUser, ...), validated against
the botocore model first, so a definition obeys exactly the rules an API
caller does. The result is a :class:`PoolHandle` with the ids, the client
secrets and the seed users' passwords.

The format (``fixtures/pools/default.toml`` is a complete, commented example)::

    generated_users = 3                 # extra Faker users (seeded from the backend seed)
    generated_password = "..."          # their password
    generated_groups = ["tenant-{tenant}-member"]

    [pool]                              # name, issuer ("local" | "aws"), alias_attributes,
                                        # username_attributes, auto_verified_attributes, ...
    [pool.password_policy]              # minimum_length, require_*, temporary_password_validity_days
    [[pool.custom_attributes]]          # name (without "custom:"), type, mutable, min/max
    [pool.email] / [pool.sms]           # EmailConfiguration / SmsConfiguration (harness/pooldef/mfa.py);
                                        # mfa = "OFF" | "ON" | "OPTIONAL", mfa_factors = ["totp", "sms", "email"]
    [pool.triggers]                     # LambdaConfig and where each function runs (harness/pooldef/triggers.py)
    [tenants]                           # names = [...]: expands "{tenant}" in group names
    [[groups]]                          # name, description, precedence, role_arn
    [clients.<name>]                    # generate_secret, explicit_auth_flows, OAuth settings, ...
    [[users]]                           # username, password, email, phone_number, attributes,
                                        # groups, status, enabled
    [identity_pool]                     # the identity pool trusting this pool, its roles and their IAM
                                        # documents (harness/pooldef/identity.py)

In a pool whose username is the email or phone (``username_attributes``), a
seed user's ``username`` is that email or phone, generated people are created
with theirs, and :class:`UserHandle` keeps the pool's own UUID username as
``pool_username``. A target spec may give the same keys inline in its
``[pool]`` table, with the ``[pool]`` settings next to ``clients``, ``groups``
and ``users`` (``build_pool(..., inline=True)``; errors then read
``pool.<key>``).
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.bundled import fixture
from harness.engine.store import Backend
from harness.errors import CognitoError
from harness.pooldef.identity import (IDENTITY_KEY, IdentityPoolHandle, anchor_role_documents,
                                      build_identity_pool, read_identity_pool)
from harness.pooldef.mfa import MFA_MODES, email_configuration, mfa_settings, sms_configuration
from harness.pooldef.reader import DefinitionTable, PoolDefinitionError
from harness.pooldef.users import GENERATED_PASSWORD, UserHandle, UserMaker
from harness.pooldef.triggers import apply_triggers
from harness.protocol import validate_input

DEFAULT_POOL_NAME = "default.toml"
DEFAULT_APP_CLIENT = "app"  # the client the runner gives an app whose pool definition has no [clients]
ATTRIBUTE_TYPES = ("String", "Number", "DateTime", "Boolean")

ISSUER_MODES = ("local", "aws")


# --- results ----------------------------------------------------------------------------


@dataclass
class ClientHandle:
    name: str
    client_id: str
    client_secret: str | None


@dataclass
class PoolHandle:
    """What a test or app needs to use a loaded pool."""

    pool_id: str
    name: str
    region: str
    issuer: str
    jwks_url: str
    source: str
    clients: dict[str, ClientHandle] = field(default_factory=dict)
    users: dict[str, UserHandle] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)
    tenants: list[str] = field(default_factory=list)
    identity_pool: IdentityPoolHandle | None = None  # the [identity_pool], once built

    @property
    def client(self) -> ClientHandle:
        """The default client: the first public one (else the first)."""
        for c in self.clients.values():
            if c.client_secret is None:
                return c
        return next(iter(self.clients.values()))

    def user(self, username: str) -> UserHandle:
        return self.users[username]


# --- the builder --------------------------------------------------------------------------------


class _Builder:
    """Turns a checked definition into cognito-idp calls."""

    def __init__(self, backend: Backend, file: str) -> None:
        self.backend = backend
        self.file = file
        self.users = UserMaker(backend, self.call)

    def call(self, key: str, operation: str, params: dict[str, Any],
             keys_by_error: dict[str, str] | None = None) -> dict[str, Any]:
        """Run one operation; a refusal names ``key`` (or the key ``keys_by_error`` gives its type)."""
        try:
            return self.backend.call(operation, validate_input(operation, params))
        except CognitoError as exc:
            where = (keys_by_error or {}).get(exc.type, key)
            raise PoolDefinitionError(self.file, where, f"{operation} refused it: {exc.type}: {exc.message.strip()}") \
                from None

    # --- pool --------------------------------------------------------------------------------

    @staticmethod
    def pool_params(t: DefinitionTable) -> tuple[dict[str, Any], str, dict[str, Any] | None]:
        """(CreateUserPool's parameters, the issuer mode, SetUserPoolMfaConfig's parameters or None)."""
        params: dict[str, Any] = {"PoolName": t.get("name", str, "harness-default")}
        issuer = t.get("issuer", str, "local", choices=ISSUER_MODES)
        for key, member in (("alias_attributes", "AliasAttributes"), ("username_attributes", "UsernameAttributes"),
                            ("auto_verified_attributes", "AutoVerifiedAttributes")):
            value = t.strings(key)
            if value is not None:
                params[member] = value
        params["UsernameConfiguration"] = {"CaseSensitive": t.get("username_case_sensitive", bool, False)}
        sms = t.table("sms")
        if sms is not None:
            params["SmsConfiguration"] = sms_configuration(sms)
        mfa_config = mfa_settings(t, params.get("SmsConfiguration"))
        # CreateUserPool turns on SMS MFA only: TOTP and email factors come after it (SetUserPoolMfaConfig)
        params["MfaConfiguration"] = "OFF" if mfa_config else t.get("mfa", str, "OFF", choices=MFA_MODES)
        email = t.table("email")
        if email is not None:
            params["EmailConfiguration"] = email_configuration(email)
        params["DeletionProtection"] = t.get("deletion_protection", str, "INACTIVE", choices=("ACTIVE", "INACTIVE"))
        params["AdminCreateUserConfig"] = {
            "AllowAdminCreateUserOnly": t.get("allow_admin_create_user_only", bool, False)
        }
        recovery = t.strings("account_recovery")
        if recovery is not None:
            params["AccountRecoverySetting"] = {
                "RecoveryMechanisms": [{"Name": n, "Priority": i + 1} for i, n in enumerate(recovery)]
            }
        require = t.strings("attributes_require_verification_before_update")
        if require is not None:
            params["UserAttributeUpdateSettings"] = {"AttributesRequireVerificationBeforeUpdate": require}
        template = {}
        for key, member in (("verification_email_subject", "EmailSubject"),
                            ("verification_email_message", "EmailMessage"),
                            ("verification_sms_message", "SmsMessage")):
            value = t.get(key, str, None)
            if value is not None:
                template[member] = value
        if template:
            params["VerificationMessageTemplate"] = template
        policy = t.table("password_policy")
        if policy is not None:
            params["Policies"] = {"PasswordPolicy": _Builder.password_policy(policy)}
        schema = [_Builder.custom_attribute(a) for a in t.tables("custom_attributes")]
        if schema:
            params["Schema"] = schema
        t.used.add("triggers")  # applied once the pool exists (harness/pooldef/triggers.py)
        t.done()
        return params, issuer, mfa_config

    @staticmethod
    def password_policy(t: DefinitionTable) -> dict[str, Any]:
        out = {
            "MinimumLength": t.get("minimum_length", int, 8),
            "RequireUppercase": t.get("require_uppercase", bool, True),
            "RequireLowercase": t.get("require_lowercase", bool, True),
            "RequireNumbers": t.get("require_numbers", bool, True),
            "RequireSymbols": t.get("require_symbols", bool, True),
            "TemporaryPasswordValidityDays": t.get("temporary_password_validity_days", int, 7),
        }
        history = t.get("password_history_size", int, None)
        if history is not None:
            out["PasswordHistorySize"] = history
        t.done()
        return out

    @staticmethod
    def custom_attribute(t: DefinitionTable) -> dict[str, Any]:
        name = t.get("name", str, what='a name without the "custom:" prefix')
        if name.startswith("custom:"):
            raise t.fail("name", f'expected the name without the "custom:" prefix, got {name!r}')
        kind = t.get("type", str, "String", choices=ATTRIBUTE_TYPES)
        spec: dict[str, Any] = {
            "Name": name,
            "AttributeDataType": kind,
            "Mutable": t.get("mutable", bool, True),
            "DeveloperOnlyAttribute": t.get("developer_only", bool, False),
        }
        low, high = t.get("min", int, None), t.get("max", int, None)
        if kind == "String":
            spec["StringAttributeConstraints"] = {"MinLength": str(low if low is not None else 0),
                                                  "MaxLength": str(high if high is not None else 2048)}
        elif kind == "Number" and (low is not None or high is not None):
            spec["NumberAttributeConstraints"] = {
                k: str(v) for k, v in (("MinValue", low), ("MaxValue", high)) if v is not None
            }
        t.done()
        return spec

    # --- groups ---------------------------------------------------------------------------------

    def groups(self, pool_id: str, tables: list[DefinitionTable], tenants: list[str]) -> list[str]:
        names: list[str] = []
        for t in tables:
            template = t.get("name", str)
            params: dict[str, Any] = {"UserPoolId": pool_id}
            description = t.get("description", str, None)
            precedence = t.get("precedence", int, None)
            role_arn = t.get("role_arn", str, None)
            t.done()
            expanded = [template.replace("{tenant}", x) for x in tenants] if "{tenant}" in template else [template]
            if "{tenant}" in template and not tenants:
                raise t.fail("name", "uses {tenant} but [tenants].names is empty or missing")
            for i, name in enumerate(expanded):
                group = dict(params, GroupName=name)
                if description is not None:
                    group["Description"] = description.replace("{tenant}", tenants[i] if tenants else "")
                if precedence is not None:
                    group["Precedence"] = precedence
                if role_arn is not None:
                    group["RoleArn"] = role_arn
                self.call(t.key("name"), "CreateGroup", group)
                names.append(name)
        return names

    # --- clients --------------------------------------------------------------------------------

    CLIENT_LISTS = (
        ("explicit_auth_flows", "ExplicitAuthFlows"),
        ("read_attributes", "ReadAttributes"),
        ("write_attributes", "WriteAttributes"),
        ("callback_urls", "CallbackURLs"),
        ("logout_urls", "LogoutURLs"),
        ("allowed_oauth_flows", "AllowedOAuthFlows"),
        ("allowed_oauth_scopes", "AllowedOAuthScopes"),
        ("supported_identity_providers", "SupportedIdentityProviders"),
    )
    CLIENT_INTS = (
        ("access_token_validity", "AccessTokenValidity"),
        ("id_token_validity", "IdTokenValidity"),
        ("refresh_token_validity", "RefreshTokenValidity"),
        ("auth_session_validity", "AuthSessionValidity"),
    )

    def client(self, pool_id: str, name: str, t: DefinitionTable) -> ClientHandle:
        params: dict[str, Any] = {"UserPoolId": pool_id, "ClientName": t.get("client_name", str, name),
                                  "GenerateSecret": t.get("generate_secret", bool, False)}
        for key, member in self.CLIENT_LISTS:
            value = t.strings(key)
            if value is not None:
                params[member] = value
        for key, member in self.CLIENT_INTS:
            value = t.get(key, int, None)
            if value is not None:
                params[member] = value
        params["EnableTokenRevocation"] = t.get("enable_token_revocation", bool, True)
        params["PreventUserExistenceErrors"] = t.get("prevent_user_existence_errors", str, "ENABLED",
                                                     choices=("ENABLED", "LEGACY"))
        oauth = t.get("allowed_oauth_flows_user_pool_client", bool, None)
        if oauth is None:
            oauth = bool(params.get("AllowedOAuthFlows"))
        params["AllowedOAuthFlowsUserPoolClient"] = oauth
        redirect = t.get("default_redirect_uri", str, None)
        if redirect is not None:
            params["DefaultRedirectURI"] = redirect
        units = t.table("token_validity_units")
        if units is not None:
            params["TokenValidityUnits"] = {
                member: units.get(key, str, None, choices=("seconds", "minutes", "hours", "days"))
                for key, member in (("access_token", "AccessToken"), ("id_token", "IdToken"),
                                    ("refresh_token", "RefreshToken"))
                if key in units.data
            }
            units.done()
        rotation = t.table("refresh_token_rotation")
        if rotation is not None:
            params["RefreshTokenRotation"] = {
                "Feature": "ENABLED" if rotation.get("enabled", bool, True) else "DISABLED",
                "RetryGracePeriodSeconds": rotation.get("retry_grace_period_seconds", int, 0),
            }
            rotation.done()
        t.done()
        created = self.call(t.path, "CreateUserPoolClient", params)["UserPoolClient"]
        return ClientHandle(name=name, client_id=created["ClientId"], client_secret=created.get("ClientSecret"))


# --- entry points ----------------------------------------------------------------------------------

# Keys of a definition file's top level; the rest of an inline [pool] table are the file's [pool] keys.
DEFINITION_KEYS = ("generated_users", "generated_password", "generated_groups", "tenants", "groups", "clients",
                   "users", IDENTITY_KEY)


def default_pool_path() -> Path:
    """The bundled ``fixtures/pools/default.toml`` (checkout or installed copy; any cwd)."""
    return fixture("pools", DEFAULT_POOL_NAME)


def read_definition(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        with p.open("rb") as fh:
            return anchor_role_documents(tomllib.load(fh), p.resolve().parent)
    except FileNotFoundError:
        raise PoolDefinitionError(str(p), "", "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise PoolDefinitionError(str(p), "", f"not valid TOML: {exc}") from None


def load_pool(backend: Backend, path: str | Path | None = None, issuer: str | None = None) -> PoolHandle:
    """Create the pool a definition file describes; ``issuer`` ("local"/"aws") overrides the file's."""
    source = Path(path) if path is not None else default_pool_path()
    return build_pool(backend, read_definition(source), str(source), issuer=issuer)


def _tables(data: dict[str, Any], file: str, inline: bool) -> tuple[DefinitionTable, DefinitionTable]:
    """(root, pool settings) of a definition.

    A file keeps the pool's settings in its ``[pool]`` table; a spec's inline
    ``[pool]`` holds them next to ``clients``, ``groups`` and ``users``, so
    both are one table there (its keys read ``pool.<key>`` in errors).
    """
    if inline:
        root = DefinitionTable(file, "pool", data)
        return root, root
    root = DefinitionTable(file, "", data)
    return root, root.table("pool") or DefinitionTable(file, "pool", {})


def build_pool(backend: Backend, data: dict[str, Any], file: str = "<definition>",
               issuer: str | None = None, *, inline: bool = False) -> PoolHandle:
    """Create a pool from an already-parsed definition (a dict shaped like the TOML file, or like a
    spec's inline ``[pool]`` table when ``inline``)."""
    if issuer is not None and issuer not in ISSUER_MODES:
        raise PoolDefinitionError(file, "pool.issuer", f"expected one of {', '.join(ISSUER_MODES)}, got {issuer!r}")
    root, pool_table = _tables(data, file, inline)
    builder = _Builder(backend, file)
    tenants_table = root.table("tenants")
    tenants = (tenants_table.strings("names", []) or []) if tenants_table is not None else []
    if tenants_table is not None:
        tenants_table.done()
    group_tables = root.tables("groups")
    client_root = root.table("clients")
    user_tables = root.tables("users")
    generated_count = root.get("generated_users", int, 0)
    if generated_count < 0:
        raise root.fail("generated_users", f"expected a count >= 0, got {generated_count}")
    generated_password = root.get("generated_password", str, GENERATED_PASSWORD)
    generated_groups = root.strings("generated_groups", []) or []
    identity_table = root.table(IDENTITY_KEY)
    if not inline:
        root.done()  # inline: pool_params checks the shared table once the pool's keys are read too

    params, file_issuer, mfa_config = builder.pool_params(pool_table)
    with backend.transaction():
        created = builder.call(pool_table.path, "CreateUserPool", params)["UserPool"]
        pool_id = created["Id"]
        if mfa_config is not None:
            builder.call(pool_table.key("mfa_factors"), "SetUserPoolMfaConfig", {"UserPoolId": pool_id, **mfa_config})
        pool = backend.pool(pool_id)
        pool.issuer_mode = issuer or file_issuer
        apply_triggers(backend, pool_id, pool_table, Path(file).parent if Path(file).is_file() else None)
        groups = builder.groups(pool_id, group_tables, tenants)
        clients: dict[str, ClientHandle] = {}
        if client_root is not None:
            for name in client_root.data:
                client_root.used.add(name)
                table = DefinitionTable(file, client_root.key(name), client_root.data[name])
                clients[name] = builder.client(pool_id, name, table)
        users: dict[str, UserHandle] = {}
        for t in user_tables:
            handle = builder.users.user(pool_id, t, clients)
            if handle.username in users:
                raise t.fail("username", f"duplicate user {handle.username!r}")
            users[handle.username] = handle
        if generated_count:
            for g in generated_groups:
                if g.replace("{tenant}", tenants[0] if tenants else "") not in groups:
                    raise root.fail("generated_groups", f"group {g!r} is not defined in [[groups]]")
            made = builder.users.generated(pool_id, root.key("generated_users"), generated_count,
                                           generated_password, generated_groups, tenants, set(users))
            users.update({u.username: u for u in made})
        identity = None
        if identity_table is not None:
            base = Path(file).parent if Path(file).is_file() else None
            definition = read_identity_pool(identity_table, list(clients), base)
            if base is not None:
                definition.documents()  # a missing or malformed role document is a definition error now
            identity = build_identity_pool(backend, definition, pool_id, pool.region,
                                           {n: c.client_id for n, c in clients.items()})
        return PoolHandle(
            pool_id=pool_id,
            name=pool.name,
            region=pool.region,
            issuer=backend.issuer(pool),
            jwks_url=backend.jwks_url(pool),
            source=file,
            clients=clients,
            users=users,
            groups=groups,
            tenants=tenants,
            identity_pool=identity,
        )


def create_pool_params(data: dict[str, Any], file: str = "<definition>", *, inline: bool = False) -> dict[str, Any]:
    """CreateUserPool's parameters for a definition (shape, policy, schema): the same pool on any backend."""
    root, pool_table = _tables(data, file, inline)
    if inline:
        root.used.update(DEFINITION_KEYS)  # read by build_pool, not needed for the pool itself
    params, _, _ = _Builder.pool_params(pool_table)
    return params


def mfa_config_params(data: dict[str, Any], file: str = "<definition>", *,
                      inline: bool = False) -> dict[str, Any] | None:
    """SetUserPoolMfaConfig's parameters (without UserPoolId) for a definition's ``mfa`` and ``mfa_factors``, or
    None: a foreign backend's pool gets the same factors as the emulator's."""
    root, pool_table = _tables(data, file, inline)
    if inline:
        root.used.update(DEFINITION_KEYS)
    _, _, config = _Builder.pool_params(pool_table)
    return config


def with_custom_attributes(data: dict[str, Any], names: list[str], *, inline: bool = False) -> dict[str, Any]:
    """``data`` with String custom attributes for the ``names`` (``custom:x``) its schema lacks (in place)."""
    table = data if inline else data.setdefault("pool", {})
    if not isinstance(table, dict):
        return data  # build_pool reports the bad table
    declared = table.setdefault("custom_attributes", [])
    if not isinstance(declared, list):
        return data
    have = {a.get("name") for a in declared if isinstance(a, dict)}
    for name in names:
        short = name.removeprefix("custom:")
        if short not in have:
            declared.append({"name": short, "type": "String", "mutable": True, "min": 0, "max": 256})
            have.add(short)
    return data


def inline_layout(data: dict[str, Any]) -> dict[str, Any]:
    """A definition file's content in the inline layout: its [pool] settings next to clients, groups, users."""
    settings = data.get("pool", {})
    if not isinstance(settings, dict):
        raise PoolDefinitionError("<definition>", "pool", f"expected a table, got {type(settings).__name__}")
    return {**{k: v for k, v in data.items() if k != "pool"}, **settings}


def layered(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``: tables merge key by key, anything else (arrays too) is replaced."""
    out = dict(base)
    for key, value in over.items():
        out[key] = layered(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def check_definition(data: dict[str, Any], file: str, *, inline: bool = False) -> None:
    """Build the definition in a scratch emulator engine: every mistake (a key, a type, a setting Cognito
    refuses) is a :class:`PoolDefinitionError` now, not when a run starts."""
    build_pool(Backend(seed=0), copy.deepcopy(data), file, inline=inline)


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

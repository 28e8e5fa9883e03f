"""A pool definition's ``[identity_pool]``: the identity pool that trusts the user pool, and its IAM roles.

::

    [identity_pool]
    name = "app identities"
    allow_unauthenticated = true        # AllowUnauthenticatedIdentities (default false)
    allow_classic_flow = false          # AllowClassicFlow (default false)
    server_side_token_check = true      # ServerSideTokenCheck of every trusted client (default true)
    clients = ["web"]                   # the user-pool app clients it trusts, by [clients.<name>]
                                        # (default: every client of the definition)
    supported_login_providers = { "accounts.google.com" = "google-app-id" }

    [identity_pool.roles]               # SetIdentityPoolRoles' Roles
    authenticated = "arn:aws:iam::123456789012:role/app-user"
    unauthenticated = "arn:aws:iam::123456789012:role/app-guest"

    [identity_pool.role_mappings.web]   # RoleMappings of the client named "web"
    type = "Rules"                      # Token | Rules
    ambiguous_role_resolution = "Deny"  # AuthenticatedRole | Deny
    [[identity_pool.role_mappings.web.rules]]
    claim = "cognito:groups"
    match_type = "Contains"             # Equals | Contains | StartsWith | NotEqual
    value = "admins"
    role_arn = "arn:aws:iam::123456789012:role/app-admin"

    [identity_pool.role_documents."arn:aws:iam::123456789012:role/app-user"]
    trust = "roles/user-trust.json"             # the role's trust policy, JSON as IAM takes it
    permissions = ["roles/user-permissions.json"]   # its permission policies

    [identity_pool.audit]               # what `cognito-harness audit` accepts on purpose
    unauthenticated_allow = ["s3:GetObject"]    # the only actions the guest role may have (globs allowed)
    shared_resources = ["arn:aws:s3:::app-assets/public/*"]   # data every identity may read

Role-document paths are relative to the definition file (``read_definition``
anchors them when it reads a file; a spec's inline ``[pool.identity_pool]``
resolves them against the spec's folder). The emulator builds the identity
pool through CreateIdentityPool and SetIdentityPoolRoles once the user pool
and its clients exist; the role documents are IAM's business, read only by
the least-privilege audit (harness.audit) and checked when they can be found.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.engine.store import Backend
from harness.errors import CognitoError
from harness.pooldef.reader import DefinitionTable, PoolDefinitionError
from harness.protocol import COGNITO_IDENTITY, validate_input

IDENTITY_KEY = "identity_pool"
MAPPING_TYPES = ("Token", "Rules")
AMBIGUITY_RESOLUTIONS = ("AuthenticatedRole", "Deny")
MATCH_TYPES = ("Equals", "Contains", "StartsWith", "NotEqual")
ROLE_KINDS = ("authenticated", "unauthenticated")


@dataclass(frozen=True)
class MappingRuleDefinition:
    claim: str
    match_type: str
    value: str
    role_arn: str


@dataclass(frozen=True)
class RoleMappingDefinition:
    """RoleMappings of one trusted app client (by the definition's client name)."""

    client: str
    type: str
    ambiguous_role_resolution: str | None
    rules: tuple[MappingRuleDefinition, ...] = ()
    key: str = ""  # where it is written, for findings and errors


@dataclass(frozen=True)
class RoleDocumentFiles:
    """Where a role's trust policy and permission policies are (absolute paths once resolved)."""

    role_arn: str
    trust: Path
    permissions: tuple[Path, ...]
    key: str


@dataclass(frozen=True)
class PolicyDocument:
    """One IAM policy document: its file, its text and its decoded JSON."""

    path: Path
    text: str
    data: dict[str, Any]


@dataclass(frozen=True)
class RoleDocuments:
    role_arn: str
    trust: PolicyDocument
    permissions: tuple[PolicyDocument, ...]


@dataclass
class IdentityPoolDefinition:
    """The checked ``[identity_pool]`` table."""

    file: str
    name: str
    allow_unauthenticated: bool
    allow_classic_flow: bool
    server_side_token_check: bool
    clients: tuple[str, ...]
    supported_login_providers: dict[str, str]
    roles: dict[str, str]  # authenticated / unauthenticated -> role ARN
    role_mappings: tuple[RoleMappingDefinition, ...]
    role_documents: dict[str, RoleDocumentFiles]
    unauthenticated_allow: tuple[str, ...] = ()
    shared_resources: tuple[str, ...] = ()
    base: Path | None = None

    def documents(self) -> dict[str, RoleDocuments]:
        """Every role's documents, read and decoded (errors name the key and the file)."""
        return {arn: _read_role(self.file, files) for arn, files in self.role_documents.items()}

    def role_arns(self) -> list[str]:
        """Every role the pool can hand out: the default roles, then the rule roles, in order."""
        found = [self.roles[k] for k in ROLE_KINDS if k in self.roles]
        found += [r.role_arn for m in self.role_mappings for r in m.rules]
        return list(dict.fromkeys(found))


@dataclass
class IdentityPoolHandle:
    identity_pool_id: str
    name: str


# --- reading ---------------------------------------------------------------------------------


def anchor_role_documents(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """Make the role-document paths of a definition file's ``[identity_pool]`` absolute (in place), so the
    definition can be layered under a spec elsewhere; wrong types are left for :func:`read_identity_pool`."""
    table = data.get(IDENTITY_KEY)
    docs = table.get("role_documents") if isinstance(table, dict) else None
    if not isinstance(docs, dict):
        return data
    for entry in docs.values():
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("trust"), str):
            entry["trust"] = str((base / entry["trust"]).resolve())
        if isinstance(entry.get("permissions"), list):
            entry["permissions"] = [str((base / p).resolve()) if isinstance(p, str) else p
                                    for p in entry["permissions"]]
    return data


def read_identity_pool(t: DefinitionTable, client_names: list[str], base: Path | None) -> IdentityPoolDefinition:
    """Check the ``[identity_pool]`` table ``t``; ``client_names`` are the definition's clients and ``base``
    the folder relative role-document paths start from (None: relative paths cannot be read)."""
    name = t.get("name", str, "harness identities")
    clients = t.strings("clients", None)
    if clients is None:
        clients = list(client_names)
    for c in clients:
        if c not in client_names:
            raise t.fail("clients", f"{c!r} is not a client of this definition "
                                    f"(known: {', '.join(client_names) or 'none'})")
    providers = t.get("supported_login_providers", dict, {})
    if not all(isinstance(v, str) for v in providers.values()):
        raise t.wrong("supported_login_providers", "a table of provider name = app id strings", providers)
    roles_table = t.table("roles")
    roles: dict[str, str] = {}
    if roles_table is not None:
        for kind in ROLE_KINDS:
            arn = roles_table.get(kind, str, None)
            if arn is not None:
                roles[kind] = _role_arn(roles_table, kind, arn)
        roles_table.done()
    mappings = _mappings(t, clients)
    audit = t.table("audit")
    allow: list[str] = []
    shared: list[str] = []
    if audit is not None:
        allow = audit.strings("unauthenticated_allow", []) or []
        shared = audit.strings("shared_resources", []) or []
        for action in allow:
            if action != "*" and action.count(":") != 1:
                raise audit.wrong("unauthenticated_allow", 'IAM actions like "s3:GetObject"', allow)
        audit.done()
    out = IdentityPoolDefinition(
        file=t.file, name=name,
        allow_unauthenticated=t.get("allow_unauthenticated", bool, False),
        allow_classic_flow=t.get("allow_classic_flow", bool, False),
        server_side_token_check=t.get("server_side_token_check", bool, True),
        clients=tuple(clients), supported_login_providers=dict(providers), roles=roles,
        role_mappings=tuple(mappings), role_documents=_document_files(t, base),
        unauthenticated_allow=tuple(allow), shared_resources=tuple(shared), base=base,
    )
    t.done()
    if out.allow_unauthenticated and "unauthenticated" not in roles and roles:
        raise t.fail("roles", "allow_unauthenticated is true but [identity_pool.roles] has no unauthenticated role")
    return out


def _role_arn(t: DefinitionTable, name: str, arn: str) -> str:
    if not arn.startswith("arn:aws") or ":iam::" not in arn or ":role/" not in arn:
        raise t.wrong(name, "an IAM role ARN (arn:aws:iam::<account>:role/<name>)", arn)
    return arn


def _mappings(t: DefinitionTable, clients: list[str]) -> list[RoleMappingDefinition]:
    root = t.table("role_mappings")
    if root is None:
        return []
    out = []
    for client in root.data:
        root.used.add(client)
        if client not in clients:
            raise root.fail(client, f"role mappings must name a trusted client ({', '.join(clients) or 'none'})")
        m = DefinitionTable(t.file, root.key(client), root.data[client])
        kind = m.get("type", str, choices=MAPPING_TYPES)
        resolution = m.get("ambiguous_role_resolution", str, None, choices=AMBIGUITY_RESOLUTIONS)
        if resolution is None:
            raise m.missing("ambiguous_role_resolution", f"one of {', '.join(AMBIGUITY_RESOLUTIONS)}")
        rules = []
        for r in m.tables("rules"):
            rules.append(MappingRuleDefinition(
                claim=r.get("claim", str), match_type=r.get("match_type", str, choices=MATCH_TYPES),
                value=r.get("value", str), role_arn=_role_arn(r, "role_arn", r.get("role_arn", str))))
            r.done()
        if kind == "Rules" and not 1 <= len(rules) <= 25:
            raise m.fail("rules", f"a Rules mapping needs 1 to 25 rules, got {len(rules)}")
        if kind == "Token" and rules:
            raise m.fail("rules", "a Token mapping takes its role from the token: rules are for type = \"Rules\"")
        m.done()
        out.append(RoleMappingDefinition(client=client, type=kind, ambiguous_role_resolution=resolution,
                                         rules=tuple(rules), key=m.path))
    root.done()
    return out


def _document_files(t: DefinitionTable, base: Path | None) -> dict[str, RoleDocumentFiles]:
    root = t.table("role_documents")
    if root is None:
        return {}
    out = {}
    for arn in root.data:
        root.used.add(arn)
        _role_arn(root, arn, arn)
        d = DefinitionTable(t.file, root.key(f'"{arn}"'), root.data[arn])
        trust = _path(d, "trust", d.get("trust", str, what="the trust policy's file"), base)
        permissions = d.strings("permissions", [], expected="a list of permission policy files") or []
        paths = tuple(_path(d, "permissions", p, base) for p in permissions)
        d.done()
        out[arn] = RoleDocumentFiles(role_arn=arn, trust=trust, permissions=paths, key=d.path)
    root.done()
    return out


def _path(t: DefinitionTable, name: str, value: str, base: Path | None) -> Path:
    p = Path(value).expanduser()
    if p.is_absolute():
        return p
    return (base / p).resolve() if base is not None else p  # unresolved: read_policy says so if it is read


def _read_policy(file: str, key: str, path: Path) -> PolicyDocument:
    if not path.is_absolute():
        raise PoolDefinitionError(file, key, f"relative path {str(path)!r} but the definition has no folder to "
                                             "resolve it against; give an absolute path")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PoolDefinitionError(file, key, f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PoolDefinitionError(file, key, f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("Statement"), (list, dict)):
        raise PoolDefinitionError(file, key, f"{path} is not an IAM policy document "
                                             '(expected an object with a "Statement")')
    return PolicyDocument(path=path, text=text, data=data)


def _read_role(file: str, files: RoleDocumentFiles) -> RoleDocuments:
    return RoleDocuments(
        role_arn=files.role_arn,
        trust=_read_policy(file, f"{files.key}.trust", files.trust),
        permissions=tuple(_read_policy(file, f"{files.key}.permissions", p) for p in files.permissions),
    )


# --- building ---------------------------------------------------------------------------------


def provider_name(region: str, user_pool_id: str) -> str:
    """The Logins key / ProviderName of a user pool: always the AWS form, whatever the emulator's issuer."""
    return f"cognito-idp.{region}.amazonaws.com/{user_pool_id}"


def build_identity_pool(backend: Backend, definition: IdentityPoolDefinition, user_pool_id: str, region: str,
                        client_ids: dict[str, str]) -> IdentityPoolHandle:
    """CreateIdentityPool then SetIdentityPoolRoles, through the cognito-identity operations (validated against
    botocore's model first): a refusal is a PoolDefinitionError naming the [identity_pool] key."""
    provider = provider_name(region, user_pool_id)
    params: dict[str, Any] = {
        "IdentityPoolName": definition.name,
        "AllowUnauthenticatedIdentities": definition.allow_unauthenticated,
        "AllowClassicFlow": definition.allow_classic_flow,
        "CognitoIdentityProviders": [
            {"ProviderName": provider, "ClientId": client_ids[c],
             "ServerSideTokenCheck": definition.server_side_token_check} for c in definition.clients
        ],
    }
    if definition.supported_login_providers:
        params["SupportedLoginProviders"] = dict(definition.supported_login_providers)
    created = _call(backend, definition.file, IDENTITY_KEY, "CreateIdentityPool", params)
    pool_id = created["IdentityPoolId"]
    if definition.roles or definition.role_mappings:
        roles: dict[str, Any] = {"IdentityPoolId": pool_id, "Roles": dict(definition.roles)}
        if definition.role_mappings:
            roles["RoleMappings"] = {f"{provider}:{client_ids[m.client]}": _mapping_params(m)
                                     for m in definition.role_mappings}
        _call(backend, definition.file, f"{IDENTITY_KEY}.roles", "SetIdentityPoolRoles", roles)
    return IdentityPoolHandle(identity_pool_id=pool_id, name=definition.name)


def _mapping_params(m: RoleMappingDefinition) -> dict[str, Any]:
    out: dict[str, Any] = {"Type": m.type}
    if m.ambiguous_role_resolution is not None:
        out["AmbiguousRoleResolution"] = m.ambiguous_role_resolution
    if m.rules:
        out["RulesConfiguration"] = {"Rules": [
            {"Claim": r.claim, "MatchType": r.match_type, "Value": r.value, "RoleARN": r.role_arn} for r in m.rules
        ]}
    return out


def _call(backend: Backend, file: str, key: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    try:
        return backend.call(operation, validate_input(operation, params, COGNITO_IDENTITY), COGNITO_IDENTITY)
    except CognitoError as exc:
        raise PoolDefinitionError(file, key, f"{operation} refused it: {exc.type}: {exc.message.strip()}") from None


__all__ = [
    "IDENTITY_KEY",
    "IdentityPoolDefinition",
    "IdentityPoolHandle",
    "MappingRuleDefinition",
    "PolicyDocument",
    "RoleDocumentFiles",
    "RoleDocuments",
    "RoleMappingDefinition",
    "anchor_role_documents",
    "build_identity_pool",
    "provider_name",
    "read_identity_pool",
]

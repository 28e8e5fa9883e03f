"""State of the identity-pool service: pools, identities and the credentials handed out.

Plain dataclasses, like the user-pool models (harness.engine.models): the
snapshot codec copies and checks them by their type hints, and fields marked
``SECRET`` stay out of a snapshot taken without secrets.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from harness.engine.keys import KeyRing
from harness.engine.models import SECRET

MAX_CREDENTIALS_KEPT = 10_000
"""Issued credentials remembered for the control plane (oldest forgotten first): bounded memory
for a long-running ``serve``; a check reads the few it caused."""


@dataclass
class UserPoolProvider:
    """One ``CognitoIdentityProviders`` entry: a user-pool app client the identity pool trusts."""

    provider_name: str  # cognito-idp.<region>.amazonaws.com/<userPoolId>
    client_id: str
    server_side_token_check: bool = False


@dataclass
class MappingRule:
    """One rule of a ``Rules`` role mapping (first match wins)."""

    claim: str
    match_type: str  # Equals | Contains | StartsWith | NotEqual
    value: str
    role_arn: str


@dataclass
class RoleMapping:
    """``RoleMappings[<provider>:<client id>]``: pick the role from the token (Token) or by rules (Rules)."""

    type: str  # Token | Rules
    ambiguous_role_resolution: str | None = None  # AuthenticatedRole | Deny
    rules: list[MappingRule] = field(default_factory=list)


@dataclass
class Identity:
    """One identity id of an identity pool, with the logins linked to it.

    ``logins`` maps a provider name (``cognito-idp.<region>.amazonaws.com/<pool>``,
    ``accounts.google.com``, a developer provider name...) to the subject it vouched
    for (the user's ``sub``, the IdP's subject, the developer user identifier).
    An identity merged into another keeps its id (``merged_into`` names the survivor) and is
    disabled (ListIdentities HideDisabled leaves it out).

    Developer-authenticated logins are NOT in ``logins``: one identity can carry several
    developer user identifiers (MergeDeveloperIdentities), so they are in
    ``developer_user_identifiers`` (link order), indexed by the pool (see
    :meth:`IdentityPool.developer_identity`); DescribeIdentity lists the pool's developer
    provider name among the logins when there is one.
    """

    identity_id: str
    pool_id: str
    created: float
    modified: float
    logins: dict[str, str] = field(default_factory=dict)
    merged_into: str | None = None
    developer_user_identifiers: list[str] = field(default_factory=list)

    @property
    def disabled(self) -> bool:
        return self.merged_into is not None


@dataclass
class IdentityPool:
    pool_id: str  # <region>:<guid>
    name: str
    allow_unauthenticated: bool
    created: float
    allow_classic_flow: bool = False
    supported_login_providers: dict[str, str] = field(default_factory=dict)  # e.g. accounts.google.com -> app id
    developer_provider_name: str | None = None
    open_id_connect_provider_arns: list[str] = field(default_factory=list)
    cognito_identity_providers: list[UserPoolProvider] = field(default_factory=list)
    saml_provider_arns: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)  # "authenticated" / "unauthenticated" -> role ARN
    role_mappings: dict[str, RoleMapping] = field(default_factory=dict)  # "<provider>:<client id>" -> mapping
    identities: dict[str, Identity] = field(default_factory=dict)
    login_index: dict[str, str] = field(default_factory=dict)  # login_key(provider, subject) -> identity id

    # --- the developer-identity index (H1a; GetOpenIdTokenForDeveloperIdentity, Lookup/Merge/Unlink use it) ---
    # A developer user identifier is indexed in ``login_index`` under
    # ``login_key(developer_provider_name, identifier)`` and listed in the identity's
    # ``developer_user_identifiers``: these three methods are the only writers of both.

    def developer_identity(self, identifier: str) -> Identity | None:
        """The identity a developer user identifier is linked to (None: not seen yet, or no developer provider)."""
        if self.developer_provider_name is None:
            return None
        identity_id = self.login_index.get(login_key(self.developer_provider_name, identifier))
        return self.identities.get(identity_id) if identity_id is not None else None

    def link_developer_user(self, identity: Identity, identifier: str) -> None:
        """Link ``identifier`` to ``identity`` (moving it off any identity it was on); needs a developer provider."""
        assert self.developer_provider_name is not None, "the pool has no DeveloperProviderName"
        previous = self.developer_identity(identifier)
        if previous is not None:
            previous.developer_user_identifiers.remove(identifier)
        identity.developer_user_identifiers.append(identifier)
        self.login_index[login_key(self.developer_provider_name, identifier)] = identity.identity_id

    def unlink_developer_user(self, identity: Identity, identifier: str) -> None:
        """Forget that ``identifier`` is ``identity``'s: it is a new identity the next time it is seen."""
        assert self.developer_provider_name is not None, "the pool has no DeveloperProviderName"
        identity.developer_user_identifiers.remove(identifier)
        self.login_index.pop(login_key(self.developer_provider_name, identifier), None)


def login_key(provider: str, subject: str) -> str:
    """The key of ``IdentityPool.login_index``: one identity per (provider, subject) in a pool."""
    return f"{provider}\n{subject}"


@dataclass
class IssuedCredentials:
    """Temporary AWS credentials handed out by GetCredentialsForIdentity, and the role they carry."""

    access_key_id: str
    secret_key: str = field(metadata=SECRET)
    session_token: str = field(metadata=SECRET)
    identity_id: str = ""
    identity_pool_id: str = ""
    role_arn: str = ""
    authenticated: bool = False
    providers: list[str] = field(default_factory=list)  # the logins they were issued for
    issued: float = 0.0
    expiration: float = 0.0
    expired_by_control: bool = False


@dataclass
class IdentityState:
    """Everything cognito-identity holds, for every identity pool of the emulator."""

    pools: dict[str, IdentityPool] = field(default_factory=dict)
    credentials: OrderedDict[str, IssuedCredentials] = field(default_factory=OrderedDict)
    keyring: KeyRing | None = None  # the identity service's own OpenID token key (made on first use)

    def remember(self, issued: IssuedCredentials) -> None:
        """Keep ``issued`` for the control plane, forgetting the oldest beyond the bound."""
        self.credentials[issued.access_key_id] = issued
        while len(self.credentials) > MAX_CREDENTIALS_KEPT:
            self.credentials.popitem(last=False)

    def clear(self) -> None:
        self.pools.clear()
        self.credentials.clear()
        self.keyring = None

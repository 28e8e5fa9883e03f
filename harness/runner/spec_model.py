"""The target spec: a TOML file that says how to reach an app and which requests prove what.

This module holds the spec's shape (dataclasses, known request names and
placeholders); harness/runner/specfile.py reads and validates files into it.
Parsing is strict: an unknown key, a wrong type or a bad value raises
:class:`SpecError` naming the file, the dotted key and what was expected, so a
typo never silently turns a check into a SKIP. The full format, with a
commented example, is in docs/target-spec.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.runner.spec_triggers_model import TriggersSpec

# Requests the scenarios know by name. Scenarios needing one the spec lacks are SKIPPED.
REQUEST_NAMES: dict[str, str] = {
    "protected": "any endpoint that needs a valid token (token-validation checks)",
    "identity": "returns the app's idea of who the caller is (user_key points at the app's user key)",
    "private_write": "stores a value in the caller's private data",
    "private_read": "reads the caller's private data back (value_key points at the value)",
    "tenant_member": "an action allowed to members of tenant {tenant}",
    "tenant_admin": "an action allowed only to admins of tenant {tenant}",
    "signup": "the app's sign-up endpoint",
    "confirm": "the app's sign-up confirmation endpoint",
    "resend": "the app's resend-confirmation-code endpoint",
    "login": "the app's login endpoint (returns tokens or sets a session)",
    "refresh": "the app's refresh endpoint",
    "logout": "the app's logout endpoint (should call RevokeToken)",
    "logout_all": "the app's sign-out-everywhere endpoint (should call GlobalSignOut)",
    "forgot_password": "the app's forgot-password endpoint",
    "reset_password": "the app's confirm-forgot-password endpoint",
    "federated_callback": "the app's OAuth2 redirect URI for hosted-UI sign-in (the harness adds the redirect's "
                          "code/state or error/error_description query)",
    # MFA (the MFA family): a login may answer with a challenge (its name and session at [requests.login]'s
    # challenge / challenge_session pointers) instead of tokens
    "login_mfa": "answers the login's MFA challenge (SOFTWARE_TOKEN_MFA, SMS_MFA, EMAIL_OTP) with {code}; returns "
                 "tokens",
    "login_mfa_select": "chooses the factor of a SELECT_MFA_TYPE challenge ({factor}); returns that factor's challenge",
    "login_mfa_setup_begin": "starts TOTP enrolment in an MFA_SETUP challenge (AssociateSoftwareToken with the "
                             "challenge's session); totp_secret points at the secret",
    "login_mfa_setup_finish": "verifies the first TOTP code ({code}) and completes the MFA_SETUP sign-in; returns "
                              "tokens",
    "totp_enroll_begin": "a signed-in user starts TOTP enrolment (AssociateSoftwareToken with their access token); "
                         "totp_secret points at the secret",
    "totp_enroll_finish": "a signed-in user verifies their first TOTP code ({code}) and turns TOTP MFA on",
    # triggers (the triggers family): roles kept in the app's own store, custom-auth challenges
    "tenant_role_grant": "the app's provisioning endpoint: gives user {sub} the role {role} (admin or member) in "
                         "tenant {tenant} in the app's own store, where its pre token generation trigger reads roles",
    "custom_login": "starts the app's CUSTOM_AUTH sign-in for {username}; returns the first challenge (its name and "
                    "session at the challenge / challenge_session pointers)",
    "custom_login_answer": "answers the current custom challenge with {answer} ({session}); returns the next "
                           "challenge or tokens",
    # identity pools (the identity family): AWS credentials the app obtains from cognito-identity
    "aws_credentials": "gives the signed-in caller AWS credentials from the identity pool (GetId and "
                       "GetCredentialsForIdentity with their ID token as the login); access_key_id points at the "
                       "AccessKeyId it got",
    "aws_credentials_guest": "gives a visitor who is not signed in AWS credentials of the identity pool's "
                             "unauthenticated identity; access_key_id points at the AccessKeyId it got",
}

# Requests that answer a login step: they may carry a challenge instead of tokens.
LOGIN_STEPS = ("login", "login_mfa", "login_mfa_select", "login_mfa_setup_begin", "login_mfa_setup_finish",
               "custom_login", "custom_login_answer")
# Requests that answer a challenge of the app's login (they need [requests.login].challenge).
CHALLENGE_ANSWERS = ("login_mfa", "login_mfa_select", "login_mfa_setup_begin", "login_mfa_setup_finish")
# Requests that hand out a new authenticator's secret (totp_secret is required there).
TOTP_SECRET_REQUESTS = ("login_mfa_setup_begin", "totp_enroll_begin")
# Requests that hand out AWS credentials from an identity pool (access_key_id is required there).
CREDENTIAL_REQUESTS = ("aws_credentials", "aws_credentials_guest")

# Requests that do not present the signed-in user's token unless the spec says so.
UNAUTHENTICATED_BY_DEFAULT = {"signup", "confirm", "resend", "login", "refresh", "forgot_password", "reset_password",
                              "federated_callback", "custom_login", "custom_login_answer", "aws_credentials_guest",
                              *CHALLENGE_ANSWERS}

# Placeholders a request template may use; scenarios fill them in.
PLACEHOLDERS = {
    "tenant", "email", "username", "sub", "password", "new_password", "code", "value",
    "access_token", "id_token", "refresh_token", "client_id", "pool_id", "region", "user_key",
    "phone_number", "preferred_username",  # the test person's seeded E.164 number and alias handle
    "session", "challenge", "factor",  # an MFA challenge's session handle and name, the factor chosen
    "role", "answer",  # a role in the app's own store (tenant_role_grant), a custom challenge's answer
}
COMMAND_PLACEHOLDERS = {"python", "spec_dir", "port"}
TOKEN_POINTERS = ("access_token", "id_token", "refresh_token")
HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
_PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

DEFAULT_ALLOWED = [200, 201, 202, 204]
DEFAULT_DENIED = [401, 403]


class SpecError(ValueError):
    """A bad target spec: which file, which key, what was expected."""

    def __init__(self, path: str | Path, key: str, expected: str, got: Any = None, *, has_got: bool = True) -> None:
        self.path = str(path)
        self.key = key
        self.expected = expected
        self._made_with = (self.path, key, expected, got, has_got)
        where = f"{self.path}: {key}" if key else self.path
        message = f"{where}: expected {expected}"
        if has_got:
            message += f", got {got!r}"
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        """Picklable (a spec read in a worker process reports its error to the parent intact)."""
        path, key, expected, got, has_got = self._made_with
        return (_remake_spec_error, (path, key, expected, got, has_got))


def _remake_spec_error(path: str, key: str, expected: str, got: Any, has_got: bool) -> SpecError:
    return SpecError(path, key, expected, got, has_got=has_got)


# --- the spec's parts --------------------------------------------------------------------------


@dataclass
class TargetSection:
    name: str
    command: list[str] | None = None
    cwd: str | None = None
    ready_url: str | None = None
    ready_timeout: float = 30.0
    stop_timeout: float = 5.0
    env: dict[str, str] = field(default_factory=dict)
    image: str | None = None
    container_port: int = 8080
    base_url: str | None = None

    @property
    def mode(self) -> str:
        """"command", "image" or "base_url"."""
        if self.base_url:
            return "base_url"
        return "image" if self.image else "command"


@dataclass
class AuthSection:
    location: str = "header"  # header | cookie
    header: str = "Authorization"
    scheme: str = "Bearer"
    cookie: str = "access_token"
    token: str = "access"  # access | id

    def present(self, token: str) -> tuple[dict[str, str], dict[str, str]]:
        """(headers, cookies) that carry ``token`` the way the app expects."""
        if self.location == "cookie":
            return {}, {self.cookie: token}
        value = f"{self.scheme} {token}" if self.scheme else token
        return {self.header: value}, {}


@dataclass
class RequestSpec:
    name: str
    method: str = "GET"
    path: str = "/"
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    form: dict[str, str] | None = None
    auth: bool = True  # present the caller's token per [auth]
    allowed: list[int] = field(default_factory=lambda: list(DEFAULT_ALLOWED))
    denied: list[int] = field(default_factory=lambda: list(DEFAULT_DENIED))
    user_key: str | None = None  # identity: JSON pointer to the app's user key
    value_key: str | None = None  # private_read: JSON pointer to the stored value
    pointers: dict[str, str] = field(default_factory=dict)  # access_token/id_token/refresh_token -> pointer
    challenge: str | None = None  # login steps: JSON pointer to the challenge name the app passes on
    challenge_session: str | None = None  # login steps: JSON pointer to the challenge's session handle
    totp_secret: str | None = None  # TOTP enrolment: JSON pointer to the authenticator's secret
    access_key_id: str | None = None  # AWS credentials: JSON pointer to the AccessKeyId the app got

    def placeholders(self) -> set[str]:
        found: set[str] = set()
        collect_placeholders(self.path, found)
        for part in (self.query, self.headers, self.json, self.form):
            collect_placeholders(part, found)
        return found


@dataclass
class TenancySection:
    """How the app models tenants: where a user's tenant comes from, and what makes an admin of it.

    ``model`` says where the tenant comes from: per-tenant groups (a template
    with ``{tenant}``, e.g. ``tenant-{tenant}-member``), a custom attribute
    whose value is the tenant (``custom:tenant_id``), or both. A group name
    without ``{tenant}`` is a role group, the same in every tenant (``admin``,
    ``member``): it gives its role in the user's own tenant(s), in any model.
    """

    model: str = "groups"  # groups | attribute | groups+attribute
    member_group: str | None = "tenant-{tenant}-member"
    admin_group: str | None = "tenant-{tenant}-admin"
    attribute: str | None = None  # e.g. custom:tenant, value = tenant name
    admin_attribute: str | None = None  # e.g. custom:tenant_role
    admin_value: str = "admin"
    tenants: list[str] = field(default_factory=lambda: ["acme", "globex"])
    admin_mfa_required: bool = False  # the app lets a tenant admin act as admin only after an MFA sign-in

    @staticmethod
    def is_role_group(template: str | None) -> bool:
        """A group template without {tenant}: a tenant-independent role (admin, member)."""
        return bool(template) and "{tenant}" not in str(template)

    def _group_for(self, template: str | None, tenant: str) -> str | None:
        if not template:
            return None
        if self.is_role_group(template):
            return template
        return template.format(tenant=tenant) if self.uses_groups else None

    def member_group_for(self, tenant: str) -> str | None:
        return self._group_for(self.member_group, tenant)

    def admin_group_for(self, tenant: str) -> str | None:
        return self._group_for(self.admin_group, tenant)

    @property
    def uses_groups(self) -> bool:
        return "groups" in self.model

    @property
    def uses_attribute(self) -> bool:
        return "attribute" in self.model

    @property
    def non_admin_value(self) -> str:
        """The admin attribute's value for a plain member (anything but admin_value)."""
        return "member" if self.admin_value != "member" else "user"

    def can_make_admin(self) -> bool:
        """Whether the spec says how a user becomes a tenant's admin (a group or the admin attribute)."""
        return bool(self.admin_group_for(self.tenants[0]) or (self.uses_attribute and self.admin_attribute))

    def grants(self, tenant: str, *, admin: bool = False) -> tuple[list[str], dict[str, str]]:
        """(groups, attributes) that make a user a member (or an admin) of ``tenant``."""
        groups = [g for g in (self.member_group_for(tenant), self.admin_group_for(tenant) if admin else None) if g]
        attributes: dict[str, str] = {}
        if self.uses_attribute and self.attribute:
            attributes[self.attribute] = tenant
            if admin and self.admin_attribute:
                attributes[self.admin_attribute] = self.admin_value
        return groups, attributes

    def admin_removal(self, tenant: str) -> tuple[list[str], dict[str, str]]:
        """(groups to leave, attributes to set) that take ``tenant``'s admin role away and keep membership."""
        groups = [g for g in (self.admin_group_for(tenant),) if g]
        attributes = ({self.admin_attribute: self.non_admin_value}
                      if self.uses_attribute and self.admin_attribute else {})
        return groups, attributes

    def membership_removal(self, tenant: str) -> tuple[list[str], dict[str, str]]:
        """(groups to leave, attributes to set) that end a plain member's membership of ``tenant`` in every
        sense the model has."""
        groups = [g for g in (self.member_group_for(tenant),) if g]
        attributes = {self.attribute: f"not-{tenant}"} if self.uses_attribute and self.attribute else {}
        return groups, attributes


@dataclass
class LimitsSection:
    max_revocation_window_seconds: int = 3600
    required_scope: str | None = None
    clock_skew_seconds: int = 300
    max_jwks_fetches: int = 5  # JWKS fetches an unknown-kid flood may cause (jwks-rsa: 5 a minute)
    # real-time bounds for windows that live in the app (re-probed with backoff, see runner/windows.py):
    jwks_refetch_cooldown_seconds: float = 30.0  # how long after a fetch the app may wait before refetching
    revocation_cache_seconds: float = 5.0  # how long the app may cache a "not revoked" answer
    # sign-outs made at the pool, outside the app (GlobalSignOut elsewhere, RevokeToken, disable, delete);
    # None: the same as max_revocation_window_seconds
    max_pool_revocation_window_seconds: int | None = None

    @property
    def pool_revocation_window(self) -> int:
        """How long an access token may stay usable after the pool revoked it outside the app."""
        if self.max_pool_revocation_window_seconds is None:
            return self.max_revocation_window_seconds
        return self.max_pool_revocation_window_seconds


@dataclass
class PoolSection:
    """The app's pool: a definition file, or the pool-definition keys inline in [pool] (not both)."""

    definition: str | None = None  # path to a pool definition TOML (default: the bundled one)
    client: str | None = None  # app client name the target uses (default: the definition's first)
    # the pool-definition keys given in [pool] itself (a file's [pool] settings next to its clients, groups,
    # users, tenants and generated_*), already checked; None when the pool comes from a file
    inline: dict[str, Any] | None = None


DEFAULT_HOSTED_UI_SCOPES = ["openid", "email", "profile"]


@dataclass
class HostedUiSection:
    """The app's hosted-UI (federated) sign-in: the OAuth scopes it requests at /oauth2/authorize."""

    scopes: list[str] = field(default_factory=lambda: list(DEFAULT_HOSTED_UI_SCOPES))


@dataclass
class AwsSection:
    """AWS endpoint mode (docs/target-spec.md): the pool served at the real AWS host names over TLS."""

    endpoints: bool = False
    hosts_file: str = "auto"  # auto | off | required: a private /etc/hosts for apps that ignore HTTPS_PROXY


@dataclass
class EvidenceSection:
    mask_secrets: bool = True
    body_limit: int = 2048


@dataclass
class StatusOverride:
    """Status lists that replace a request's own ``allowed`` / ``denied`` (None keeps the request's)."""

    allowed: list[int] | None = None
    denied: list[int] | None = None

    def apply(self, req: RequestSpec) -> RequestSpec:
        if self.allowed is None and self.denied is None:
            return req
        return replace(req, allowed=list(req.allowed if self.allowed is None else self.allowed),
                       denied=list(req.denied if self.denied is None else self.denied))


@dataclass
class CheckSection:
    """``[checks."ID"]``: the statuses one check accepts, for every request it sends or per request name.

    Some apps answer a check's requests with statuses that are right for that
    check only (a 413 for a 20 KB token, a 429 for a locked-out login); the
    request's own lists stay in force for every other check.
    """

    statuses: StatusOverride = field(default_factory=StatusOverride)
    requests: dict[str, StatusOverride] = field(default_factory=dict)

    def request(self, req: RequestSpec) -> RequestSpec:
        """``req`` as this check judges it: per-request lists over the check's over the request's own."""
        judged = self.statuses.apply(req)
        per_request = self.requests.get(req.name)
        return per_request.apply(judged) if per_request else judged


@dataclass
class TargetSpec:
    path: Path
    sha256: str
    target: TargetSection
    auth: AuthSection = field(default_factory=AuthSection)
    requests: dict[str, RequestSpec] = field(default_factory=dict)
    tenancy: TenancySection = field(default_factory=TenancySection)
    limits: LimitsSection = field(default_factory=LimitsSection)
    pool: PoolSection = field(default_factory=PoolSection)
    hosted_ui: HostedUiSection = field(default_factory=HostedUiSection)
    evidence: EvidenceSection = field(default_factory=EvidenceSection)
    aws: AwsSection = field(default_factory=AwsSection)
    checks: dict[str, CheckSection] = field(default_factory=dict)  # check id -> [checks."ID"]
    triggers: TriggersSpec = field(default_factory=TriggersSpec)  # [triggers.*], [legacy], [custom_auth]

    @property
    def name(self) -> str:
        return self.target.name

    @property
    def spec_dir(self) -> Path:
        return self.path.parent

    def has(self, *names: str) -> bool:
        return all(n in self.requests for n in names)

    def missing(self, names: list[str] | tuple[str, ...]) -> list[str]:
        return [n for n in names if n not in self.requests]

    def request(self, name: str, check_id: str | None = None) -> RequestSpec:
        """Request ``name``; with ``check_id``, with the statuses that check accepts ([checks."ID"])."""
        req = self.requests[name]
        override = self.checks.get(check_id) if check_id else None
        return override.request(req) if override else req

    def resolve(self, relative: str) -> Path:
        p = Path(relative).expanduser()
        return p if p.is_absolute() else (self.spec_dir / p).resolve()

    def pool_definition_path(self) -> Path | None:
        return self.resolve(self.pool.definition) if self.pool.definition else None


def collect_placeholders(value: Any, into: set[str]) -> None:
    if isinstance(value, str):
        into.update(_PLACEHOLDER_RE.findall(value))
    elif isinstance(value, dict):
        for k, v in value.items():
            collect_placeholders(k, into)
            collect_placeholders(v, into)
    elif isinstance(value, list):
        for v in value:
            collect_placeholders(v, into)


__all__ = [
    "AuthSection", "AwsSection", "EvidenceSection", "HostedUiSection", "LimitsSection", "PoolSection",
    "RequestSpec", "SpecError",
    "TargetSection", "TargetSpec", "TenancySection",
    "REQUEST_NAMES", "PLACEHOLDERS", "CheckSection", "StatusOverride", "LOGIN_STEPS", "CHALLENGE_ANSWERS",
    "TOTP_SECRET_REQUESTS", "CREDENTIAL_REQUESTS",
]

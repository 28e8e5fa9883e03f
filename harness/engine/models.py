"""State of the emulated user pools, as plain dataclasses.

Rules live in the operation and service modules; these classes only hold
state (and small derived views), so snapshots and tests can read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.engine.hosted_models import (AuthorizationCode, HostedSession, IdentityProvider, OAuthRequest,
                                          ResourceServer, UserPoolDomain)
from harness.engine.indexes import UserIndex, rebuild_indexes
from harness.engine.keys import KeyRing
from harness.engine.sessions import SessionIndex

SECRET = {"secret": True}
"""Field metadata: a credential (password material, client secret, SRP private value) that a
snapshot leaves out unless asked for explicitly (harness.engine.snapshot)."""

# --- pools -------------------------------------------------------------------


@dataclass
class PasswordPolicy:
    minimum_length: int = 8
    require_uppercase: bool = True
    require_lowercase: bool = True
    require_numbers: bool = True
    require_symbols: bool = True
    temporary_password_validity_days: int = 7
    password_history_size: int = 0

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "MinimumLength": self.minimum_length,
            "RequireUppercase": self.require_uppercase,
            "RequireLowercase": self.require_lowercase,
            "RequireNumbers": self.require_numbers,
            "RequireSymbols": self.require_symbols,
            "TemporaryPasswordValidityDays": self.temporary_password_validity_days,
        }
        if self.password_history_size:
            out["PasswordHistorySize"] = self.password_history_size
        return out


@dataclass
class SchemaAttribute:
    name: str  # "email", "custom:tenant"
    data_type: str = "String"  # String | Number | DateTime | Boolean
    mutable: bool = True
    required: bool = False
    developer_only: bool = False
    min_length: int | None = None
    max_length: int | None = None
    min_value: int | None = None
    max_value: int | None = None

    @property
    def is_custom(self) -> bool:
        return self.name.startswith("custom:") or self.name.startswith("dev:")

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Name": self.name,
            "AttributeDataType": self.data_type,
            "DeveloperOnlyAttribute": self.developer_only,
            "Mutable": self.mutable,
            "Required": self.required,
        }
        if self.data_type == "String":
            c: dict[str, str] = {}
            if self.min_length is not None:
                c["MinLength"] = str(self.min_length)
            if self.max_length is not None:
                c["MaxLength"] = str(self.max_length)
            out["StringAttributeConstraints"] = c
        elif self.data_type == "Number":
            n: dict[str, str] = {}
            if self.min_value is not None:
                n["MinValue"] = str(self.min_value)
            if self.max_value is not None:
                n["MaxValue"] = str(self.max_value)
            out["NumberAttributeConstraints"] = n
        return out


@dataclass
class Group:
    name: str
    pool_id: str
    description: str | None = None
    precedence: int | None = None
    role_arn: str | None = None
    created: float = 0.0
    modified: float = 0.0


@dataclass
class AppClient:
    client_id: str
    pool_id: str
    name: str
    secret: str | None = field(default=None, metadata=SECRET)
    created: float = 0.0
    modified: float = 0.0
    explicit_auth_flows: list[str] = field(default_factory=list)
    access_token_validity: int = 60  # in access_token_unit
    id_token_validity: int = 60
    refresh_token_validity: int = 30
    access_token_unit: str = "minutes"
    id_token_unit: str = "minutes"
    refresh_token_unit: str = "days"
    read_attributes: list[str] | None = None
    write_attributes: list[str] | None = None
    prevent_user_existence_errors: str = "LEGACY"
    enable_token_revocation: bool = True
    refresh_rotation_enabled: bool = False
    refresh_retry_grace_seconds: int = 0
    auth_session_validity_minutes: int = 3
    callback_urls: list[str] = field(default_factory=list)
    logout_urls: list[str] = field(default_factory=list)
    default_redirect_uri: str | None = None
    allowed_oauth_flows: list[str] = field(default_factory=list)
    allowed_oauth_scopes: list[str] = field(default_factory=list)
    allowed_oauth_flows_user_pool_client: bool = False
    supported_identity_providers: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # echoed settings with no rule here
    client_secrets: list[ClientSecret] = field(default_factory=list)  # engine.client_secrets; [] = just ``secret``

    def flow_enabled(self, flow: str) -> bool:
        """Whether an ExplicitAuthFlows value (ALLOW_ form or legacy) is on."""
        flows = self.explicit_auth_flows or [
            "ALLOW_REFRESH_TOKEN_AUTH",
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_CUSTOM_AUTH",
        ]
        legacy = {
            "ALLOW_USER_PASSWORD_AUTH": "USER_PASSWORD_AUTH",
            "ALLOW_ADMIN_USER_PASSWORD_AUTH": "ADMIN_NO_SRP_AUTH",
            "ALLOW_CUSTOM_AUTH": "CUSTOM_AUTH_FLOW_ONLY",
        }
        if flow in flows or legacy.get(flow) in flows:
            return True
        # legacy-only lists always allow SRP and refresh
        if flows and not any(f.startswith("ALLOW_") for f in flows):
            return flow in ("ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")
        return False


@dataclass
class Code:
    """A one-time code sent to a user (sign-up, reset, attribute verification)."""

    value: str
    purpose: str  # "SIGN_UP" | "FORGOT_PASSWORD" | "VERIFY:<attr>"
    created: float
    expires_at: float
    attempts: int = 0


@dataclass
class Lockout:
    failures: int = 0  # cumulative wrong passwords, not counting locked-out attempts
    locked_until: float = 0.0
    last_attempt: float = 0.0


@dataclass
class SoftwareToken:
    """A TOTP authenticator (RFC 6238): AssociateSoftwareToken hands out the secret,
    VerifySoftwareToken proves the user's app computes its codes."""

    secret: str = field(metadata=SECRET)  # base32, as AssociateSoftwareToken's SecretCode
    friendly_name: str = ""
    associated: float = 0.0
    verified: float | None = None  # when VerifySoftwareToken succeeded
    last_step: int = -1  # the last time step accepted: a code is accepted once


@dataclass
class UserMfa:
    """A user's MFA factors and preference (SetUserMFAPreference, AdminSetUserSettings)."""

    sms_enabled: bool = False
    totp_enabled: bool = False
    email_enabled: bool = False
    preferred: str | None = None  # "SMS_MFA" | "SOFTWARE_TOKEN_MFA" | "EMAIL_OTP"
    token: SoftwareToken | None = None  # the verified authenticator
    pending: SoftwareToken | None = None  # associated, not yet verified


@dataclass
class Device:
    """A device the pool tracks for a user (NewDeviceMetadata, ConfirmDevice).

    ``key`` is ``<region>_<uuid>``, ``group_key`` names the device's SRP "pool";
    ``verifier`` / ``salt_hex`` are what ConfirmDevice registered (DEVICE_SRP_AUTH
    checks them). ``remembered`` is "remembered", "not_remembered" or "" (not yet
    confirmed).
    """

    key: str
    group_key: str
    salt_hex: str = field(default="", metadata=SECRET)
    verifier: int = field(default=0, metadata=SECRET)
    name: str = ""
    remembered: str = ""
    confirmed: bool = False
    created: float = 0.0
    modified: float = 0.0
    last_authenticated: float = 0.0
    last_ip: str = ""
    pending_session: str = ""  # the open DEVICE_SRP_AUTH challenge (for clients that send no Session)


@dataclass
class User:
    username: str
    pool_id: str
    sub: str
    attributes: dict[str, str] = field(default_factory=dict)  # includes "sub"
    status: str = "UNCONFIRMED"
    enabled: bool = True
    created: float = 0.0
    modified: float = 0.0
    password_hash: str | None = field(default=None, metadata=SECRET)
    password_salt: str = field(default="", metadata=SECRET)
    srp_salt: str = field(default="", metadata=SECRET)  # hex
    srp_x: str = field(default="", metadata=SECRET)  # hex of SRP's private x (cheap hashes), set with the password
    srp_verifier: int = field(default=0, metadata=SECRET)  # v = g^x mod N, on the first SRP sign-in (3072-bit pow)
    password_history: list[str] = field(default_factory=list, metadata=SECRET)
    temporary_password_expires: float | None = None
    groups: set[str] = field(default_factory=set)
    codes: dict[str, Code] = field(default_factory=dict)
    attempt_log: dict[str, list[float]] = field(default_factory=dict)  # per-hour quotas
    lockout: Lockout = field(default_factory=Lockout)
    pending_attributes: dict[str, str] = field(default_factory=dict)  # awaiting verification
    mfa_options: list[dict[str, str]] = field(default_factory=list)  # legacy MFAOptions (SetUserSettings)
    mfa: UserMfa = field(default_factory=UserMfa)
    devices: dict[str, Device] = field(default_factory=dict)  # device key ->

    @property
    def email(self) -> str | None:
        return self.attributes.get("email")

    def attribute_list(self) -> list[dict[str, str]]:
        return [{"Name": k, "Value": v} for k, v in self.attributes.items()]


@dataclass(slots=True)
class RefreshSession:
    """One sign-in: its refresh token and the ID/access tokens it begets.

    ``origin_jti`` is the session id carried by every token of the family;
    revoking the session revokes them all (Cognito's RevokeToken semantics).
    The refresh token itself is not kept: ``refresh_tag`` is its last segment
    (a MAC, see harness.engine.sessions), ``rotated_out`` maps the tags of
    rotated-out tokens to the end of their grace period. ``tokens_expire_at``
    is the latest expiry of the ID/access tokens minted for the session: until
    then a revoked session must still refuse them. ``jtis`` lists the tokens
    that carry no ``origin_jti`` claim. Slots: 100k live sessions must stay small.
    """

    origin_jti: str
    pool_id: str
    client_id: str
    username: str
    sub: str
    refresh_tag: str
    auth_time: int
    issued_at: float
    expires_at: float
    scopes: list[str] = field(default_factory=list)
    revoked_at: float | None = None
    revoked_reason: str | None = None
    rotated_out: dict[str, float] | None = None  # old token's tag -> usable until
    device_key: str | None = None
    nonce: str | None = None
    federated: bool = False
    tokens_expire_at: float = 0.0
    jtis: list[str] | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass
class ChallengeRound:
    """One round of a CUSTOM_AUTH attempt: an element of DefineAuthChallenge's ``request.session``."""

    name: str  # CUSTOM_CHALLENGE | SRP_A | PASSWORD_VERIFIER
    result: bool = False
    metadata: str | None = None  # CreateAuthChallenge's challengeMetadata (CUSTOM_CHALLENGE only)


@dataclass
class AuthSession:
    """A pending challenge (the opaque ``Session`` string's server side)."""

    session: str
    pool_id: str
    client_id: str
    username: str
    challenge: str
    created: float
    expires_at: float
    srp_b: int = field(default=0, metadata=SECRET)  # the server's private SRP ephemeral
    srp_B: int = 0
    srp_A: int = 0
    secret_block: str = ""
    admin: bool = False
    flow: str = ""  # the AuthFlow that opened it (events, flow checks)
    user_sub: str = ""  # the user's sub; "" for a simulated (unknown-user) SRP step
    device_key: str = ""  # the DEVICE_KEY the client sent (device SRP, remembered-device MFA skip)
    code: str = field(default="", metadata=SECRET)  # an SMS / email one-time code this challenge awaits
    code_expires: float = 0.0
    attempts: int = 0  # wrong answers so far (MFA codes)
    options: list[str] = field(default_factory=list)  # MFAS_CAN_CHOOSE / MFAS_CAN_SETUP / factors offered
    passed: list[str] = field(default_factory=list)  # steps already proven ("password", "device", "mfa")
    rounds: list[ChallengeRound] = field(default_factory=list)  # CUSTOM_AUTH: the rounds so far
    private_parameters: dict[str, str] = field(default_factory=dict, metadata=SECRET)  # CUSTOM_AUTH: for Verify
    pending_metadata: str | None = None  # CUSTOM_AUTH: challengeMetadata of the challenge this session awaits


@dataclass
class PoolMfa:
    """The pool's MFA factors (SetUserPoolMfaConfig; ``UserPool.mfa_configuration`` is OFF/ON/OPTIONAL)."""

    totp_enabled: bool = False
    sms_enabled: bool = False
    sms_message: str = "Your authentication code is {####}. "
    email_enabled: bool = False
    email_message: str = "Your authentication code is {####}. "
    email_subject: str = "Your authentication code"
    webauthn: dict[str, Any] = field(default_factory=dict)  # WebAuthnConfiguration, echoed


@dataclass
class AuditWindow:
    """Event-log sequence numbers during which the pool had threat protection on (auth events
    are the events after ``start`` up to and including ``end``; ``end`` None: still on)."""

    start: int
    end: int | None = None


@dataclass
class AuthEventFeedback:
    """UpdateAuthEventFeedback / AdminUpdateAuthEventFeedback on one auth event (EventFeedbackType)."""

    value: str  # "Valid" | "Invalid"
    provider: str  # "Admin" | "User"
    date: float


@dataclass
class AuthEventState:
    """What AdminListUserAuthEvents needs beyond the event log (issue 12, engine.auth_events)."""

    windows: list[AuditWindow] = field(default_factory=list)
    feedback: dict[str, AuthEventFeedback] = field(default_factory=dict)  # EventId ->


@dataclass
class UserPool:
    pool_id: str
    name: str
    region: str
    account_id: str
    keyring: KeyRing
    created: float = 0.0
    modified: float = 0.0
    password_policy: PasswordPolicy = field(default_factory=PasswordPolicy)
    schema: dict[str, SchemaAttribute] = field(default_factory=dict)
    username_attributes: list[str] = field(default_factory=list)
    alias_attributes: list[str] = field(default_factory=list)
    auto_verified_attributes: list[str] = field(default_factory=list)
    username_case_sensitive: bool = True
    mfa_configuration: str = "OFF"
    deletion_protection: str = "INACTIVE"
    allow_admin_create_user_only: bool = False
    email_sending_account: str = "COGNITO_DEFAULT"
    verification_email_subject: str = "Your verification code"
    verification_email_message: str = "Your verification code is {####}. "
    verification_sms_message: str = "Your verification code is {####}. "
    invite_email_subject: str = "Your temporary password"
    invite_email_message: str = "Your username is {username} and temporary password is {####}. "
    invite_sms_message: str = "Your username is {username} and temporary password is {####}. "
    account_recovery: list[str] = field(default_factory=list)  # ordered mechanism names
    attributes_require_verification_before_update: list[str] = field(default_factory=list)
    lambda_config: dict[str, Any] = field(default_factory=dict)
    mfa: PoolMfa = field(default_factory=PoolMfa)
    auth_events: AuthEventState = field(default_factory=AuthEventState)  # threat protection's log
    issuer_mode: str = "local"  # "local" | "aws"
    domain: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # echoed settings with no rule here
    clients: dict[str, AppClient] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)  # key: canonical username
    groups: dict[str, Group] = field(default_factory=dict)
    sessions: dict[str, RefreshSession] = field(default_factory=dict)  # origin_jti -> session
    auth_sessions: dict[str, AuthSession] = field(default_factory=dict)
    revoked_jtis: set[str] = field(default_factory=set)  # single tokens revoked outside a session
    # federation and the hosted UI (issue 3)
    identity_providers: dict[str, IdentityProvider] = field(default_factory=dict)  # ProviderName ->
    resource_servers: dict[str, ResourceServer] = field(default_factory=dict)  # Identifier ->
    domain_config: UserPoolDomain | None = None  # the hosted-UI domain (``domain`` holds its name)
    oauth_requests: dict[str, OAuthRequest] = field(default_factory=dict)  # pending /oauth2/authorize
    oauth_codes: dict[str, AuthorizationCode] = field(default_factory=dict)  # one-time codes
    hosted_sessions: dict[str, HostedSession] = field(default_factory=dict)  # managed-login cookies
    # infrastructure-as-code resources (issue 13)
    tags: dict[str, str] = field(default_factory=dict)  # UserPoolTags (engine.pool_tags)
    ui_customizations: dict[str, UICustomization] = field(default_factory=dict)  # "ALL" or client id ->
    import_jobs: dict[str, UserImportJob] = field(default_factory=dict)  # JobId ->, oldest first

    def __post_init__(self) -> None:
        """Derived indexes (users by sub/email/phone/alias/identity, sessions by user, refresh tags,
        expiry wheels) are plain attributes, not fields: snapshots skip them, construction (and so
        snapshot restore) rebuilds them from the state above."""
        self.user_index: UserIndex
        self.session_index: SessionIndex
        rebuild_indexes(self)

    @property
    def arn(self) -> str:
        return f"arn:aws:cognito-idp:{self.region}:{self.account_id}:userpool/{self.pool_id}"

    @property
    def srp_pool_name(self) -> str:
        """The part of the pool id after the underscore (SRP's ``poolName``)."""
        return self.pool_id.split("_", 1)[1]

    def user_key(self, username: str) -> str:
        return username if self.username_case_sensitive else username.lower()


# --- infrastructure-as-code resources (issue 13) ---------------------------------------


@dataclass
class ClientSecret:
    """One of an app client's secrets (AddUserPoolClientSecret; at most two at a time)."""

    secret_id: str  # <client id>--<creation time, epoch milliseconds>
    value: str = field(metadata=SECRET)
    created: float = 0.0


@dataclass
class UICustomization:
    """Classic hosted-UI branding (SetUICustomization) of the pool ("ALL") or of one app client."""

    client_id: str  # "ALL" or an app client id
    css: str | None = None
    image: str | None = None  # the logo, base64 as ImageFile carried it
    image_type: str = ""  # "png" | "jpeg"
    created: float = 0.0
    modified: float = 0.0


@dataclass
class UserImportJob:
    """A CSV user import job (engine.import_jobs): the uploaded file until it runs, then its counts."""

    job_id: str
    name: str
    pool_id: str
    role_arn: str
    created: float
    upload_key: str = field(default="", metadata=SECRET)  # signs the pre-signed upload URL
    password_hashing_algorithm: str | None = None
    status: str = "Created"
    started: float | None = None
    completed: float | None = None
    imported: int = 0
    skipped: int = 0
    failed: int = 0
    completion_message: str | None = None
    csv: str | None = None  # the uploaded file, kept until the job runs
    upload_problem: str | None = None  # why the uploaded bytes cannot be read (not UTF-8)

"""Fake external OpenID Connect providers (Google-, Apple- and generic-shaped).

Each :class:`FakeIdP` is a small but standards-following OIDC provider: its
own issuer ``{emulator}/_idp/{name}``, discovery document, JWKS (own RSA keys
from the backend's key maker, so seeded runs are reproducible, and rotatable),
an ``/authorize`` that either auto-approves a user chosen in advance or shows a
login form, a ``/token`` endpoint (client_secret_basic or _post, optional
PKCE) and ``/userinfo``. Faults make it time out, fail with 5xx, sign with an
unpublished key, or reject the old client secret.

State lives in the :class:`IdPRegistry` (``backend.idps``) under its own lock,
never the pool lock: the pool calls these endpoints over HTTP while it may
hold that lock.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import jwt

from harness.encoding import pkce_s256, secrets_equal
from harness.engine.external_idps import DEFAULT_CLIENT_TIMEOUT
from harness.engine.faults import take_first
from harness.engine.keys import KeyRing, SigningKey
from harness.engine.signing import sign_jwt

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

CODE_TTL = 600.0
TOKEN_TTL = 3600
MAX_FAULT_DELAY = 10.0  # a "timeout" never holds a server thread longer than this
FAULT_ENDPOINTS = ("token", "userinfo", "jwks", "discovery")
FAULT_KINDS = ("timeout", "error")


@dataclass(frozen=True)
class Preset:
    """How a family of providers shapes its ID-token claims."""

    name: str
    provider_type: str  # the Cognito ProviderType it stands in for
    string_booleans: bool  # Apple sends "true"/"false" strings
    claims: tuple[str, ...]  # claims copied from the user into the ID token
    scopes: tuple[str, ...] = ("openid", "email", "profile")


PRESETS: dict[str, Preset] = {
    "google": Preset("google", "Google", False, ("email", "email_verified", "name", "picture", "given_name",
                                                 "family_name", "locale", "hd")),
    "apple": Preset("apple", "SignInWithApple", True, ("email", "email_verified", "is_private_email"),
                    scopes=("openid", "email", "name")),
    "oidc": Preset("oidc", "OIDC", False, ()),  # every claim the user has
}
BOOLEAN_CLAIMS = ("email_verified", "phone_number_verified", "is_private_email")


class IdPRequestError(Exception):
    """An OAuth error answer of the fake IdP: status and RFC 6749 error body."""

    def __init__(self, status: int, error: str, description: str = "") -> None:
        super().__init__(f"{status} {error}: {description}")
        self.status = status
        self.body = {"error": error, **({"error_description": description} if description else {})}


@dataclass
class IdPUser:
    sub: str
    claims: dict[str, Any] = field(default_factory=dict)
    password: str | None = None  # checked by the login form when set


@dataclass
class IdPFault:
    id: int
    endpoint: str  # token | userinfo | jwks | discovery
    kind: str  # timeout | error
    status: int = 500
    delay: float = 0.0
    error: str = "server_error"
    remaining: int | None = None  # None = until cleared
    triggered: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("id", "endpoint", "kind", "status", "delay", "error",
                                              "remaining", "triggered")}


@dataclass
class IssuedCode:
    code: str
    sub: str
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    expires_at: float
    used: bool = False


@dataclass
class FakeIdP:
    """One fake provider's configuration and state (rules in its methods)."""

    name: str
    preset: Preset
    client_id: str
    client_secret: str
    keyring: KeyRing
    users: dict[str, IdPUser] = field(default_factory=dict)
    selected: str | None = None  # auto-approve as this sub; None = show the login form
    codes: dict[str, IssuedCode] = field(default_factory=dict)
    access_tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # token -> (sub, exp)
    faults: list[IdPFault] = field(default_factory=list)
    sign_with_unpublished: bool = False
    previous_secrets: list[str] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)  # what the pool sent (evidence)

    # --- description ---------------------------------------------------------------

    def issuer(self, public_url: str) -> str:
        return f"{public_url.rstrip('/')}/_idp/{self.name}"

    def discovery(self, public_url: str) -> dict[str, Any]:
        iss = self.issuer(public_url)
        return {
            "issuer": iss,
            "authorization_endpoint": f"{iss}/authorize",
            "token_endpoint": f"{iss}/token",
            "userinfo_endpoint": f"{iss}/userinfo",
            "jwks_uri": f"{iss}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": list(self.preset.scopes),
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", *self.preset.claims],
        }

    def jwks(self) -> dict[str, Any]:
        self.keyring.active("id")
        return {"keys": [k.jwk() for k in self.keyring.keys if k.published and k.use == "id"]}

    def describe(self, public_url: str) -> dict[str, Any]:
        return {
            "name": self.name,
            "preset": self.preset.name,
            "provider_type": self.preset.provider_type,
            "issuer": self.issuer(public_url),
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "selected": self.selected,
            "users": {u.sub: dict(u.claims) for u in self.users.values()},
            "faults": [f.to_dict() for f in self.faults],
            "keys": [k.describe() for k in self.keyring.keys if k.use == "id"],
            "sign_with_unpublished": self.sign_with_unpublished,
        }

    def provider_details(self, public_url: str) -> dict[str, str]:
        """ProviderDetails for CreateIdentityProvider (ProviderType OIDC)."""
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "authorize_scopes": " ".join(self.preset.scopes),
            "oidc_issuer": self.issuer(public_url),
            "attributes_request_method": "GET",
        }

    # --- users and keys ------------------------------------------------------------

    def set_user(self, sub: str, claims: dict[str, Any], password: str | None = None,
                 replace: bool = False) -> IdPUser:
        user = self.users.get(sub)
        if user is None or replace:
            user = self.users[sub] = IdPUser(sub=sub)
        user.claims.update({k: v for k, v in claims.items() if k != "sub"})
        for k in [k for k, v in user.claims.items() if v is None]:
            del user.claims[k]
        if password is not None:
            user.password = password
        return user

    def rotate_keys(self, publish_new: bool = True, unpublish_old: bool = False) -> SigningKey:
        (new,) = self.keyring.rotate(("id",), unpublish_old=unpublish_old)
        if not publish_new:
            new.published = False
        return new

    def change_client_secret(self, secret: str) -> None:
        self.previous_secrets.append(self.client_secret)
        self.client_secret = secret

    # --- faults --------------------------------------------------------------------

    def take_fault(self, endpoint: str) -> IdPFault | None:
        return take_first(self.faults, lambda fault: fault.endpoint == endpoint)

    # --- the protocol --------------------------------------------------------------

    def check_authorize(self, params: dict[str, str]) -> None:
        """Validate an /authorize request (errors shown on the IdP's own page)."""
        if params.get("client_id") != self.client_id:
            raise IdPRequestError(400, "invalid_client", "Unknown client_id")
        if not params.get("redirect_uri"):
            raise IdPRequestError(400, "invalid_request", "redirect_uri is required")
        if params.get("response_type", "code") != "code":
            raise IdPRequestError(400, "unsupported_response_type", "Only response_type=code is supported")
        method = params.get("code_challenge_method")
        if params.get("code_challenge") and method not in (None, "", "S256"):
            raise IdPRequestError(400, "invalid_request", "Only S256 PKCE is supported")

    def find_login(self, login: str) -> IdPUser | None:
        """The user a login form names, by sub or by email."""
        if login in self.users:
            return self.users[login]
        for user in self.users.values():
            if str(user.claims.get("email", "")).lower() == login.lower():
                return user
        return None

    def issue_code(self, code: str, user: IdPUser, params: dict[str, str], now: float) -> str:
        """Record a code for ``user``; return the redirect back to the client."""
        self.codes[code] = IssuedCode(
            code=code,
            sub=user.sub,
            client_id=params["client_id"],
            redirect_uri=params["redirect_uri"],
            scope=params.get("scope") or " ".join(self.preset.scopes),
            nonce=params.get("nonce") or None,
            code_challenge=params.get("code_challenge") or None,
            expires_at=now + CODE_TTL,
        )
        query = {"code": code}
        if params.get("state"):
            query["state"] = params["state"]
        sep = "&" if "?" in params["redirect_uri"] else "?"
        return f"{params['redirect_uri']}{sep}{urlencode(query)}"

    def authenticate_client(self, form: dict[str, str], authorization: str) -> str:
        """client_secret_basic or client_secret_post; returns the client id."""
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization.lower().startswith("basic "):
            try:
                raw = base64.b64decode(authorization[6:].strip()).decode()
            except (ValueError, UnicodeDecodeError):
                raise IdPRequestError(401, "invalid_client", "Malformed Basic credentials") from None
            client_id, _, secret = raw.partition(":")
        if client_id != self.client_id:
            raise IdPRequestError(401, "invalid_client", "Unknown client")
        if self.preset.name == "apple":
            if not secret:  # Apple's secret is a JWT the client signs; the fake only requires one
                raise IdPRequestError(401, "invalid_client", "client_secret is required")
        elif not secrets_equal(secret, self.client_secret):
            raise IdPRequestError(401, "invalid_client", "Client authentication failed")
        return client_id

    def redeem(self, form: dict[str, str], now: float) -> IssuedCode:
        if form.get("grant_type") != "authorization_code":
            raise IdPRequestError(400, "unsupported_grant_type")
        issued = self.codes.get(form.get("code", ""))
        if issued is None or issued.used or now >= issued.expires_at:
            raise IdPRequestError(400, "invalid_grant", "Code is invalid, expired or already used")
        if form.get("redirect_uri") != issued.redirect_uri:
            raise IdPRequestError(400, "invalid_grant", "redirect_uri does not match")
        if issued.code_challenge:
            verifier = form.get("code_verifier", "")
            digest = pkce_s256(verifier)
            if not verifier or not secrets_equal(digest, issued.code_challenge):
                raise IdPRequestError(400, "invalid_grant", "PKCE verification failed")
        issued.used = True
        return issued

    def id_token_claims(self, user: IdPUser, issued: IssuedCode, issuer: str, now: int) -> dict[str, Any]:
        claims: dict[str, Any] = {"iss": issuer, "sub": user.sub, "aud": issued.client_id,
                                  "iat": now, "exp": now + TOKEN_TTL, "auth_time": now}
        if issued.nonce:
            claims["nonce"] = issued.nonce
        wanted = self.preset.claims or tuple(user.claims)
        for name in wanted:
            if name in user.claims:
                claims[name] = self.shaped(name, user.claims[name])
        if self.preset.name == "google":
            claims["azp"] = issued.client_id
        return claims

    def shaped(self, name: str, value: Any) -> Any:
        """A claim value as this provider family sends it (Apple's string booleans)."""
        if name in BOOLEAN_CLAIMS:
            truth = value if isinstance(value, bool) else str(value).lower() == "true"
            return ("true" if truth else "false") if self.preset.string_booleans else truth
        return value

    def signing_key(self) -> SigningKey:
        if self.sign_with_unpublished:
            hidden = [k for k in self.keyring.keys if k.use == "id" and not k.published]
            if not hidden:
                hidden = [self.rotate_keys(publish_new=False)]
            return hidden[-1]
        return self.keyring.active("id")

    def mint_tokens(self, issued: IssuedCode, issuer: str, now: int, access_token: str) -> dict[str, Any]:
        user = self.users.get(issued.sub)
        if user is None:
            raise IdPRequestError(400, "invalid_grant", "The user no longer exists")
        claims = self.id_token_claims(user, issued, issuer, now)
        id_token = sign_jwt(claims, self.signing_key(), {"typ": "JWT"})
        self.access_tokens[access_token] = (user.sub, now + TOKEN_TTL)
        return {"access_token": access_token, "id_token": id_token, "token_type": "Bearer",
                "expires_in": TOKEN_TTL, "scope": issued.scope}

    def userinfo(self, token: str, now: float) -> dict[str, Any]:
        entry = self.access_tokens.get(token)
        if entry is None or now >= entry[1] or entry[0] not in self.users:
            raise IdPRequestError(401, "invalid_token", "The access token is invalid or expired")
        user = self.users[entry[0]]
        info: dict[str, Any] = {"sub": user.sub}
        wanted = self.preset.claims or tuple(user.claims)
        info.update({n: self.shaped(n, user.claims[n]) for n in wanted if n in user.claims})
        return info


class IdPRegistry:
    """All fake IdPs of one emulator (``backend.idps``) plus the pool-side client settings."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self.lock = threading.RLock()
        self.idps: dict[str, FakeIdP] = {}
        self.client_timeout = DEFAULT_CLIENT_TIMEOUT
        self.jwks_cache: dict[str, dict[str, Any]] = {}  # the pool's cache of external JWKS, by URL
        self._fault_ids = 0

    def clear(self) -> None:
        with self.lock:
            self.idps.clear()
            self.jwks_cache.clear()
            self.client_timeout = DEFAULT_CLIENT_TIMEOUT
            self._fault_ids = 0

    @property
    def public_url(self) -> str:
        return self._backend.settings.public_url

    def now(self) -> float:
        return self._backend.clock.now()

    def new_id(self, n: int = 24) -> str:
        return self._backend.ids.token_blob(n)

    def new_secret(self) -> str:
        return self._backend.ids.client_secret()

    def create(self, name: str, preset: str = "oidc", client_id: str | None = None,
               client_secret: str | None = None) -> FakeIdP:
        if not name or not all(c.isalnum() or c in "-_." for c in name):
            raise ValueError("IdP name must be non-empty and use letters, digits, '-', '_' or '.'")
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; expected one of {', '.join(PRESETS)}")
        with self.lock:
            if name in self.idps:
                raise ValueError(f"an IdP named {name!r} already exists")
            ids = self._backend.ids
            idp = FakeIdP(
                name=name,
                preset=PRESETS[preset],
                client_id=client_id or f"{name}-client-{ids.hex(4)}",
                client_secret=client_secret or ids.client_secret(),
                keyring=self._backend.new_keyring(f"idp:{name}"),
            )
            idp.keyring.active("id")  # make the signing key now, not inside a timed token request
            self.idps[name] = idp
            return idp

    def get(self, name: str) -> FakeIdP:
        idp = self.idps.get(name)
        if idp is None:
            raise KeyError(f"no fake IdP named {name!r}")
        return idp

    def delete(self, name: str) -> bool:
        with self.lock:
            return self.idps.pop(name, None) is not None

    def arm(self, name: str, endpoint: str, kind: str, status: int = 500, delay: float | None = None,
            error: str = "server_error", count: int | None = None) -> IdPFault:
        if endpoint not in FAULT_ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {', '.join(FAULT_ENDPOINTS)}")
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        if count is not None and count < 1:
            raise ValueError("count must be a positive integer (or omitted for 'until cleared')")
        if not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        if delay is None:  # a timeout outlasts the pool's client timeout, within the cap
            delay = min(self.client_timeout + 0.5, MAX_FAULT_DELAY) if kind == "timeout" else 0.0
        if not 0 <= delay <= MAX_FAULT_DELAY:
            raise ValueError(f"delay must be between 0 and {MAX_FAULT_DELAY} seconds")
        with self.lock:
            idp = self.get(name)
            self._fault_ids += 1
            fault = IdPFault(self._fault_ids, endpoint, kind, status, float(delay), error, count)
            idp.faults.append(fault)
            return fault

    def stand_in(self, preset: str, client_id: str | None, client_secret: str | None) -> dict[str, Any] | None:
        """The discovery document of the fake IdP standing in for a social provider: the one of that
        preset with this client id, else the one named after the preset, else a new one (ExternalIdPs)."""
        with self.lock:
            candidates = [i for i in self.idps.values() if i.preset.name == preset]
            fake = next((i for i in candidates if i.client_id == client_id), None)
            if fake is None:
                fake = self.idps.get(preset)
            if fake is None:
                fake = self.create(preset, preset, client_id=client_id, client_secret=client_secret)
            return fake.discovery(self.public_url)

    def verify_id_token(self, preset: str, token: str) -> dict[str, Any]:
        """The claims of an ID token one of the fake IdPs of ``preset`` signed (ExternalIdPs)."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise ValueError(f"not a JWT: {exc}") from None
        with self.lock:
            for idp in self.idps.values():
                key = idp.keyring.find(kid) if idp.preset.name == preset and isinstance(kid, str) else None
                if key is None or not key.published:
                    continue
                try:
                    claims: dict[str, Any] = jwt.decode(token, key.public_key, algorithms=["RS256"],
                                                        options={"verify_exp": False, "verify_aud": False,
                                                                 "verify_iat": False, "verify_nbf": False})
                except jwt.PyJWTError as exc:
                    raise ValueError(f"signature check failed: {exc}") from None
                if claims.get("iss") != idp.issuer(self.public_url):
                    raise ValueError("issuer does not match the IdP")
                return claims
        raise ValueError(f"no {preset} IdP published the key of this token")

    def set_client_timeout(self, seconds: float) -> None:
        if not 0 < seconds <= 60:
            raise ValueError("client timeout must be in (0, 60] seconds")
        self.client_timeout = float(seconds)


__all__ = ["FakeIdP", "IdPRegistry", "IdPRequestError", "IdPUser", "IdPFault", "PRESETS", "Preset"]

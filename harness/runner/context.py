"""What a scenario works with: the pool, the clock, the mailbox, users, tokens and the target.

A :class:`ScenarioContext` is made fresh for every scenario (after the pool is
reset to the run seed and the pool definition loaded again), records each
step as a :class:`~harness.runner.model.StepRecord` with its evidence, and
turns expectations into :class:`~harness.runner.scenario.Failure` (FAIL) or
:class:`~harness.runner.scenario.Skip` (SKIP). Scenarios never talk to boto3,
the control plane or HTTP directly when a context method exists, so the
evidence is complete.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator

import jwt

from harness.engine.common import secret_hash
from harness.runner.model import Evidence, StepRecord
from harness.runner.scenario import Failure, Scenario, Skip
from harness.runner.target import HarnessError, TargetClient, TargetResponse, mask_data, mask_value

if TYPE_CHECKING:  # pragma: no cover
    from harness.runner.backends import PoolBackend
    from harness.coordinates import PoolCoordinates
    from harness.runner.spec import TargetSpec

DEFAULT_PASSWORD_SUFFIX = "Aa1!"


def scenario_seed(run_seed: int, scenario_id: str) -> int:
    """A per-scenario seed: same run seed -> same users for a scenario, whatever ran before."""
    digest = hashlib.sha256(f"{run_seed}:{scenario_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass
class TestUser:
    """A user the scenario made in the pool (``username`` is what sign-in takes)."""

    __test__ = False  # not a pytest class

    username: str
    email: str
    password: str
    sub: str = ""
    given_name: str = ""
    family_name: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)

    def values(self) -> dict[str, Any]:
        return {"username": self.username, "email": self.email, "password": self.password, "sub": self.sub}


@dataclass
class Tokens:
    access_token: str
    id_token: str
    refresh_token: str | None
    expires_in: int = 0

    def get(self, kind: str) -> str:
        return {"access": self.access_token, "id": self.id_token}[kind]


class UserFactory:
    """Seeded people (Faker): the same seed gives the same names, emails and passwords."""

    def __init__(self, seed: int) -> None:
        from faker import Faker

        self.faker = Faker()
        self.faker.seed_instance(seed)
        self.rng = random.Random(seed)
        self.count = 0

    def make(self, **overrides: Any) -> TestUser:
        self.count += 1
        first = self.faker.first_name()
        last = self.faker.last_name()
        handle = f"{first}.{last}.{self.count}{self.rng.randrange(10**4):04d}".lower().replace("'", "")
        handle = "".join(c for c in handle if c.isalnum() or c in "._-")
        password = self.faker.password(length=14, special_chars=True, digits=True, upper_case=True,
                                       lower_case=True) + DEFAULT_PASSWORD_SUFFIX
        user = TestUser(username=handle, email=f"{handle}@example.com", password=password,
                        given_name=first, family_name=last)
        for k, v in overrides.items():
            setattr(user, k, v)
        return user


def decode_unverified(token: str) -> dict[str, Any]:
    """Header and claims of a JWT without verifying it (for evidence); notes when it does not parse."""
    out: dict[str, Any] = {"length": len(token), "segments": token.count(".") + 1}
    try:
        out["header"] = jwt.get_unverified_header(token)
    except Exception as exc:  # noqa: BLE001 - any parse failure is evidence
        out["header_error"] = str(exc)
    try:
        out["claims"] = jwt.decode(token, options={"verify_signature": False, "verify_exp": False,
                                                   "verify_aud": False, "verify_iat": False, "verify_nbf": False})
    except Exception as exc:  # noqa: BLE001
        out["claims_error"] = str(exc)
    out["signature_chars"] = len(token.rsplit(".", 1)[-1]) if "." in token else 0
    return out


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


class ScenarioContext:
    """Steps, expectations and evidence for one scenario run."""

    def __init__(
        self,
        *,
        scenario: Scenario,
        spec: TargetSpec,
        run_seed: int,
        pool: PoolCoordinates,
        backend: PoolBackend,
        target: TargetClient | None,
        restart_target: Any = None,
    ) -> None:
        self.scenario = scenario
        self.spec = spec
        self.run_seed = run_seed
        self.seed = scenario_seed(run_seed, scenario.id)
        self.pool = pool
        self.backend = backend
        self.idp = backend.idp
        self._target = target
        self._restart_target = restart_target
        self.users = UserFactory(self.seed)
        self.steps: list[StepRecord] = []
        self.evidence: list[Evidence] = []
        self._open: list[Evidence] | None = None
        self._event_mark = self.control.last_event() if self.control is not None else 0
        self.scratch: dict[str, Any] = {}

    # --- capabilities ------------------------------------------------------------------------

    @property
    def control(self) -> Any:
        """The emulator's control plane (``harness.control.Control``) or None on a foreign backend."""
        return self.backend.control

    def require_control_plane(self, what: str) -> Any:
        if self.control is None:
            raise Skip(f"{what} needs the emulator's control plane; backend {self.backend.name} has none")
        return self.control

    @property
    def target(self) -> TargetClient:
        if self._target is None:
            raise HarnessError("no target is running")
        return self._target

    def now(self) -> float:
        """The pool's virtual now (the emulator clock) or wall time on a foreign backend."""
        return self.control.now() if self.control is not None else self.backend.now()

    def advance(self, seconds: float) -> float:
        """Move the pool's virtual clock (token expiry, codes, lockout) as a recorded step.

        The target's own clock does not move: tokens the pool issues after this
        carry iat/exp in the pool's time, which is how "issued in the past" or
        "about to expire" tokens are made without sleeping.
        """
        control = self.require_control_plane("moving the clock")
        with self.step(f"advance the pool clock by {seconds:g}s"):
            control.advance(seconds)
        return self.now()

    # --- steps and evidence --------------------------------------------------------------------

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[list[Evidence]]:
        """Record one step; nested steps fold into the outer one."""
        if self._open is not None:
            yield self._open
            return
        self._open = collected = []
        outcome, detail = "ok", ""
        try:
            yield collected
        except Failure as exc:
            outcome, detail = "failed", str(exc)
            raise
        except Skip as exc:
            outcome, detail = "skipped", str(exc)
            raise
        except BaseException as exc:
            outcome, detail = "error", f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self._open = None
            self.steps.append(StepRecord(index=len(self.steps), name=name, outcome=outcome, detail=detail,
                                         evidence=collected, at=round(self.now(), 3)))

    def add_evidence(self, evidence: Evidence) -> Evidence:
        (self._open if self._open is not None else self.evidence).append(evidence)
        return evidence

    def note(self, title: str, **data: Any) -> Evidence:
        return self.add_evidence(Evidence("note", title, data))

    def token_evidence(self, token: str, title: str = "token") -> Evidence:
        data = decode_unverified(token)
        if self.spec.evidence.mask_secrets:
            data["token"] = mask_value(token)
        else:
            data["token"] = token
        return self.add_evidence(Evidence("token", title, data))

    def mark(self) -> int:
        """An event sequence number to ask for the events that happen after it."""
        return self.control.last_event() if self.control is not None else 0

    def events(self, type_: str | None = None, since: int | None = None, record: bool = True,
               **match: Any) -> list[dict[str, Any]]:
        """Emulator events since ``since`` (default: the scenario's start), recorded as evidence."""
        control = self.require_control_plane("reading emulator events")
        found = control.events(type_, self._event_mark if since is None else since, self.pool.pool_id, **match)
        if record:
            self.add_evidence(Evidence("event", f"events {type_ or '*'} ({len(found)})",
                                       {"type": type_, "since": since, "match": match, "events": found}))
        return found

    # --- outcomes ------------------------------------------------------------------------------

    def fail(self, message: str, expected: str = "", actual: str = "") -> None:
        raise Failure(message, expected=expected, actual=actual)

    def skip(self, reason: str) -> None:
        raise Skip(reason)

    def need(self, *requests: str) -> None:
        missing = self.spec.missing(requests)
        if missing:
            raise Skip(f"target spec {self.spec.path.name} has no [requests.{missing[0]}]")

    # --- pool actions (backend-neutral, through boto3) ------------------------------------------

    def _idp(self, operation: str, **params: Any) -> dict[str, Any]:
        method = getattr(self.idp, _snake(operation))
        return method(**params)

    def api(self, operation: str, **params: Any) -> dict[str, Any]:
        """Call a cognito-idp operation (API member names) on the pool, as a recorded step.

        ``UserPoolId`` is filled in when the operation takes it and it is not
        given. A Cognito error propagates as botocore's ClientError (an ERROR
        of the check unless the scenario catches it).
        """
        from harness.protocol import operation_model

        try:
            members = operation_model(operation).input_shape.members
        except Exception:  # noqa: BLE001 - an unknown name fails below with boto3's own error
            members = {}
        if "UserPoolId" in members and "UserPoolId" not in params:
            params["UserPoolId"] = self.pool.pool_id
        with self.step(f"pool: {operation}"):
            shown = mask_data(params) if self.spec.evidence.mask_secrets else params
            self.note(f"cognito-idp {operation}", params=shown)
            response = self._idp(operation, **params)
            response.pop("ResponseMetadata", None)
        return response

    def user(self, *, groups: list[str] | tuple[str, ...] = (), attributes: dict[str, str] | None = None,
             **overrides: Any) -> TestUser:
        """A confirmed user with a permanent password (and groups), made through the cognito-idp API."""
        u = self.users.make(**overrides)
        attrs = {"email": u.email, "email_verified": "true", **(attributes or {})}
        with self.step(f"create user {u.username}"):
            created = self._idp(
                "AdminCreateUser", UserPoolId=self.pool.pool_id, Username=u.username, MessageAction="SUPPRESS",
                UserAttributes=[{"Name": k, "Value": v} for k, v in attrs.items()],
            )
            self._idp("AdminSetUserPassword", UserPoolId=self.pool.pool_id, Username=u.username,
                      Password=u.password, Permanent=True)
            attributes_out = {a["Name"]: a["Value"] for a in created["User"].get("Attributes", [])}
            u.sub = attributes_out.get("sub", "")
            u.attributes = attrs
            for group in groups:
                self.ensure_group(group)
                self._idp("AdminAddUserToGroup", UserPoolId=self.pool.pool_id, Username=u.username, GroupName=group)
                u.groups.append(group)
            self.note(f"user {u.username}", username=u.username, email=u.email, sub=u.sub, groups=list(u.groups))
        return u

    def tenant_user(self, tenant: str, *, admin: bool = False, **overrides: Any) -> TestUser:
        """A member (or admin) of ``tenant`` the way the spec's [tenancy] says: groups and/or attributes."""
        t = self.spec.tenancy
        groups: list[str] = []
        attributes: dict[str, str] = dict(overrides.pop("attributes", None) or {})
        if t.uses_groups:
            groups += [g for g in (t.member_group_for(tenant), t.admin_group_for(tenant) if admin else None) if g]
        if t.uses_attribute and t.attribute:
            attributes[t.attribute] = tenant
            if admin and t.admin_attribute:
                attributes[t.admin_attribute] = t.admin_value
        return self.user(groups=groups, attributes=attributes, **overrides)

    def ensure_group(self, name: str) -> None:
        try:
            self._idp("CreateGroup", UserPoolId=self.pool.pool_id, GroupName=name)
        except self.idp.exceptions.GroupExistsException:
            pass

    def sign_in(self, user: TestUser, client_id: str | None = None, client_secret: str | None = None) -> Tokens:
        """Tokens for ``user`` from the pool (ADMIN_USER_PASSWORD_AUTH, USER_PASSWORD_AUTH as fallback)."""
        client_id = client_id or self.pool.client_id
        secret = self.pool.client_secret if client_secret is None and client_id == self.pool.client_id else client_secret
        params = {"USERNAME": user.username, "PASSWORD": user.password}
        if secret:
            params["SECRET_HASH"] = secret_hash(client_id, secret, user.username)
        with self.step(f"sign in {user.username}"):
            try:
                result = self._idp("AdminInitiateAuth", UserPoolId=self.pool.pool_id, ClientId=client_id,
                                   AuthFlow="ADMIN_USER_PASSWORD_AUTH", AuthParameters=params)
            except self.idp.exceptions.InvalidParameterException:
                result = self._idp("InitiateAuth", ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters=params)
            auth = result.get("AuthenticationResult")
            if not auth:
                raise HarnessError(f"sign-in of {user.username} returned a challenge: {result.get('ChallengeName')}")
            tokens = Tokens(auth["AccessToken"], auth["IdToken"], auth.get("RefreshToken"), auth.get("ExpiresIn", 0))
            self.token_evidence(tokens.access_token, f"access token of {user.username}")
            self.token_evidence(tokens.id_token, f"ID token of {user.username}")
        return tokens

    def mint(self, user: TestUser, *, title: str | None = None, **kwargs: Any) -> str:
        """A token from the control plane (``Control.mint``): real, or bent by claims/header/sign_with."""
        control = self.require_control_plane("minting a token")
        kwargs.setdefault("client_id", self.pool.client_id)
        token = control.mint(self.pool.pool_id, user.username, **kwargs)
        desc = ", ".join(f"{k}={v!r}" for k, v in kwargs.items() if k != "client_id")
        self.token_evidence(token, title or f"minted token ({desc or 'as issued'})")
        return token

    def presented_token(self, tokens: Tokens) -> str:
        """The token the app expects per [auth].token (access, or ID for apps that take ID tokens)."""
        return tokens.get(self.spec.auth.token)

    # --- target --------------------------------------------------------------------------------

    def values(self, user: TestUser | None = None, **extra: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "client_id": self.pool.client_id, "pool_id": self.pool.pool_id, "region": self.pool.region,
            "tenant": self.spec.tenancy.tenants[0],
        }
        if user is not None:
            values.update(user.values())
        values.update({k: v for k, v in extra.items() if v is not None})
        return values

    def call(self, name: str, *, user: TestUser | None = None, token: str | None = None,
             authorization: str | None = None, title: str | None = None,
             extra_query: dict[str, str] | None = None, **values: Any) -> TargetResponse:
        """Send the spec's request ``name`` (SKIP when the spec lacks it) and record the exchange.

        ``extra_query`` adds query parameters the spec cannot template (an OAuth2 redirect's).
        """
        self.need(name)
        label = title or f"{name}"
        with self.step(label):
            if token is not None:
                self.token_evidence(token, f"token presented to {name}")
            response = self.target.call(name, self.values(user, **values), token=token,
                                        authorization=authorization, title=title, extra_query=extra_query)
            self.add_evidence(response.evidence)
        return response

    def restart_target(self, reason: str) -> None:
        if self._restart_target is None:
            raise Skip(f"{reason}: the target cannot be restarted by the harness")
        with self.step(f"restart target ({reason})"):
            self._restart_target()

    # --- expectations --------------------------------------------------------------------------

    def expect_allowed(self, response: TargetResponse, because: str) -> TargetResponse:
        with self.step(f"expect {response.name} allowed: {because}"):
            return self._expect_allowed(response, because)

    def expect_denied(self, response: TargetResponse, because: str) -> TargetResponse:
        with self.step(f"expect {response.name} denied: {because}"):
            return self._expect_denied(response, because)

    def _expect_allowed(self, response: TargetResponse, because: str) -> TargetResponse:
        if not response.allowed:
            raise Failure(
                f"{because}: the app " + ("crashed (5xx)" if response.server_error else "refused it"),
                expected=f"{response.name} allowed (HTTP {_codes(response.spec.allowed)})",
                actual=response.summary(),
            )
        return response

    def _expect_denied(self, response: TargetResponse, because: str) -> TargetResponse:
        if response.server_error:
            raise Failure(
                f"{because}: the app crashed (5xx) instead of refusing",
                expected=f"{response.name} denied (HTTP {_codes(response.spec.denied)}), never 5xx",
                actual=response.summary(),
            )
        if not response.denied:
            verb = "accepted" if response.allowed else "did not refuse"
            raise Failure(
                f"{because}: the app {verb} it",
                expected=f"{response.name} denied (HTTP {_codes(response.spec.denied)})",
                actual=response.summary(),
            )
        return response

    def expect(self, condition: bool, message: str, expected: str = "", actual: str = "") -> None:
        if not condition:
            raise Failure(message, expected=expected, actual=actual)

    def accepted_control(self, token: str, label: str = "positive control: the valid token is accepted") -> None:
        """The jwt_tool persistence check: the valid token still works (else the attack proves nothing).

        A refusal here is an ERROR of the run, not a FAIL of the attack check:
        the target is not in a state where the check can say anything.
        """
        response = self.call("protected", token=token, title=label)
        if not response.allowed:
            raise HarnessError(f"{label} failed ({response.summary()}); the check cannot tell an attack "
                               "from a broken setup (see TV-ACCESS-VALID)")

    def finish(self) -> None:
        """Append the emulator events of the whole scenario as evidence."""
        if self.control is None:
            return
        found = self.control.events(None, self._event_mark, self.pool.pool_id)
        if found:
            self.evidence.append(Evidence("event", f"emulator events during {self.scenario.id} ({len(found)})",
                                          {"events": found}))


def _snake(name: str) -> str:
    out = []
    for i, c in enumerate(name):
        if c.isupper() and i:
            out.append("_")
        out.append(c.lower())
    return "".join(out)


def _codes(codes: list[int]) -> str:
    return "/".join(str(c) for c in codes)


def claims_of(token: str) -> dict[str, Any]:
    return json.loads(b64url_decode(token.split(".")[1]))


__all__ = ["ScenarioContext", "TestUser", "Tokens", "UserFactory", "b64url", "b64url_decode", "claims_of",
           "decode_unverified", "scenario_seed"]

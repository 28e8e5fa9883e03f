"""What a scenario works with: the pool, the clock, the mailbox, users, tokens and the target.

A :class:`ScenarioContext` is made fresh for every scenario (after the pool is
reset to the run seed and the pool definition loaded again), records each
step as a :class:`~harness.results.StepRecord` with its evidence, and
turns expectations into :class:`~harness.runner.scenario.Failure` (FAIL) or
:class:`~harness.runner.scenario.Skip` (SKIP). Scenarios never talk to boto3,
the control plane or HTTP directly when a context method exists, so the
evidence is complete.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Callable, Iterator

from botocore import xform_name
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import rsa

from harness.audit import AuditReport, audit_identity_pool, definition_of_spec_pool
from harness.encoding import b64url, b64url_decode
from harness.engine.common import secret_hash
from harness.engine.signing import foreign_key
from harness.fake_idps import FakeIdPs
from harness.pooldef.shape import PoolShape
from harness.protocol import operation_model
from harness.results import Evidence, StepRecord
from harness.runner.expectations import Expectations
from harness.runner.foreign import POOL_KEY_NEEDED, NeedsPoolKey, bend, unsupported
from harness.runner.foreign import foreign_jwk as attacker_jwk
from harness.runner.identity import PoolIdentity
from harness.runner.mfa import PoolMfa
from harness.runner.scenario import Failure, Scenario, Skip, control_plane_skip
from harness.runner.token_view import Tokens, claims_of, decode_unverified
from harness.runner.target import (
    HarnessError,
    TargetClient,
    TargetResponse,
    TargetStoppedAnswering,
    mask_data,
    mask_value,
)
from harness.runner.users import TestUser, UserFactory, scenario_seed
from harness.runner.windows import Window, measure_window

if TYPE_CHECKING:  # pragma: no cover
    from harness.runner.backends import PoolBackend
    from harness.coordinates import PoolCoordinates
    from harness.runner.spec import TargetSpec


class ScenarioContext(Expectations):
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
        restart_before_next_check: Callable[[str], None] | None = None,
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
        self._restart_before_next_check = restart_before_next_check
        self.pool_shape: PoolShape = backend.pool_shape(pool.pool_id)
        self.users = UserFactory(self.seed, self.pool_shape)
        self.steps: list[StepRecord] = []
        self.evidence: list[Evidence] = []
        self._open: list[Evidence] | None = None
        self._event_mark = self.control.last_event() if self.control is not None else 0
        self.scratch: dict[str, Any] = {}
        self._issued: dict[str, Tokens] = {}  # each user's latest tokens from sign_in (the app's client)
        self.mfa = PoolMfa(self)  # second factors: authenticator apps, codes, the pool's MFA challenges
        self.identity = PoolIdentity(self)  # the run's identity pool: credentials and their roles

    # --- capabilities ------------------------------------------------------------------------

    @property
    def control(self) -> Any:
        """The emulator's control plane (``harness.control.Control``) or None on a foreign backend."""
        return self.backend.control

    def require_control_plane(self, what: str) -> Any:
        """The control plane, or SKIP naming ``what`` of it the check needs ("virtual clock", "mailbox"...)."""
        if self.control is None:
            raise Skip(control_plane_skip(what, self.backend.name))
        return self.control

    def require_operations(self, *operations: str) -> None:
        """SKIP when the backend does not implement one of ``operations`` (the app's calls, or the check's own,
        would fail on the backend's gap rather than on the app)."""
        for operation in operations:
            gap = self.backend.lacks(operation)
            if gap:
                raise Skip(gap)

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
        control = self.require_control_plane("virtual clock")
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

    def measure_window(self, title: str, probe: Callable[[], tuple[bool, str]], bound: float) -> Window:
        """Re-probe in real time with backoff until ``probe`` says the window closed, or ``bound`` s pass.

        For windows that live in the app (a JWKS refetch cooldown, a revocation
        cache), which the pool's virtual clock cannot skip. Recorded as one
        step whose evidence lists every probe; the probes' own requests fold
        into it.
        """
        with self.step(f"measure: {title} (re-probing up to {bound:g} s)"):
            window = measure_window(probe, bound)
            self.note(f"window: {title}: {window.describe()}", **window.to_dict())
        return window

    def mark(self) -> int:
        """An event sequence number to ask for the events that happen after it."""
        return self.control.last_event() if self.control is not None else 0

    def events(self, type_: str | None = None, since: int | None = None, record: bool = True,
               **match: Any) -> list[dict[str, Any]]:
        """Emulator events since ``since`` (default: the scenario's start), recorded as evidence."""
        control = self.require_control_plane("the event log")
        found = control.events(type_, self._event_mark if since is None else since, self.pool.pool_id, **match)
        if record:
            self.add_evidence(Evidence("event", f"events {type_ or '*'} ({len(found)})",
                                       {"type": type_, "since": since, "match": match, "events": found}))
        return found

    def trigger_calls(self, title: str, trigger: str | None = None, since: int | None = None) -> list[dict[str, Any]]:
        """The pool's Lambda trigger invocations since ``since`` (default: the scenario's start), ``trigger``'s
        only when given: what each function saw and answered (``trigger.invoked``, with the event and the
        response) or how it failed (``trigger.failed``), recorded as one piece of evidence under ``title``.
        Empty on a backend without the control plane (its invocations are not observable)."""
        if self.control is None:
            return []
        start = self._event_mark if since is None else since
        match = {"trigger": trigger} if trigger else {}
        found = [e for kind in ("trigger.invoked", "trigger.failed")
                 for e in self.control.events(kind, start, self.pool.pool_id, **match)]
        found.sort(key=lambda e: e.get("seq", 0))
        shown = mask_data(found) if self.spec.evidence.mask_secrets else found
        self.add_evidence(Evidence("event", f"trigger invocations: {title} ({len(found)})",
                                   {"trigger": trigger, "since": start, "invocations": shown}))
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

    def identity_audit(self) -> AuditReport:
        """The least-privilege audit of the identity pool the spec's pool declares (harness.audit): SKIP when the
        spec declares none."""
        definition = definition_of_spec_pool(self.spec.path, self.spec.pool_definition_path(), self.spec.pool.inline)
        if definition is None:
            raise Skip(f"target spec {self.spec.path.name}: its pool declares no [identity_pool] to audit")
        return audit_identity_pool(definition, source=str(self.spec.path), require_documents=False)

    # --- pool actions (backend-neutral, through boto3) ------------------------------------------

    def raw_api(self, operation: str, **params: Any) -> dict[str, Any]:
        """Call a cognito-idp operation on the pool as it is: no step, no evidence, no UserPoolId filled in
        (a scenario's own bookkeeping, e.g. a refresh whose refusal it reports itself)."""
        method = getattr(self.idp, xform_name(operation))  # boto3 names: admin_set_user_mfa_preference
        try:
            return method(**params)
        except ClientError as exc:  # on a foreign backend, an operation it does not implement: SKIP, naming it
            gap = unsupported(self.backend.name, operation, exc) if self.control is None else None
            if gap:
                raise Skip(gap) from None
            raise

    def fake_idps(self, what: str) -> FakeIdPs:
        """The emulator's fake external IdPs; SKIP (naming ``what``) on a backend without them."""
        self.require_control_plane(what)
        idps = self.backend.fake_idps()
        if idps is None:
            raise Skip(f"{what} needs the in-process emulator's fake IdPs; backend {self.backend.name} has none")
        return idps

    def foreign_key(self) -> rsa.RSAPrivateKey:
        """The attacker's RSA key: the one ``ctx.mint(sign_with="foreign")`` signs with (never published)."""
        return foreign_key(getattr(getattr(self.control, "backend", None), "seed", 0))

    def foreign_jwk(self, kid: str) -> dict[str, str]:
        """The attacker's public key as a JWK under ``kid`` (for jwk/jku/x5u injection), on any backend."""
        return self.control.foreign_jwk(kid) if self.control is not None else attacker_jwk(kid)

    def api(self, operation: str, **params: Any) -> dict[str, Any]:
        """Call a cognito-idp operation (API member names) on the pool, as a recorded step.

        ``UserPoolId`` is filled in when the operation takes it and it is not
        given. A Cognito error propagates as botocore's ClientError (an ERROR
        of the check unless the scenario catches it).
        """
        try:
            members = operation_model(operation).input_shape.members
        except Exception:  # noqa: BLE001 - an unknown name fails below with boto3's own error
            members = {}
        if "UserPoolId" in members and "UserPoolId" not in params:
            params["UserPoolId"] = self.pool.pool_id
        with self.step(f"pool: {operation}"):
            shown = mask_data(params) if self.spec.evidence.mask_secrets else params
            self.note(f"cognito-idp {operation}", params=shown)
            response = self.raw_api(operation, **params)
            response.pop("ResponseMetadata", None)
        if operation == "CreateUserPool":  # a pool of the check's own: the backend deletes it with the run's
            self.backend.track_pool(response["UserPool"]["Id"])
        return response

    def user(self, *, groups: list[str] | tuple[str, ...] = (), attributes: dict[str, str] | None = None,
             **overrides: Any) -> TestUser:
        """A confirmed user with a permanent password (and groups), made through the cognito-idp API.

        The user fits the pool's shape (see harness/runner/users.py): created
        with their email or phone as Username in username-attribute pools, with
        verified aliases in alias pools.
        """
        u = self.users.make(**overrides)
        attrs = {**self.users.pool_attributes(u), **(attributes or {})}
        with self.step(f"create user {u.username}"):
            created = self.raw_api(
                "AdminCreateUser", UserPoolId=self.pool.pool_id, Username=u.username, MessageAction="SUPPRESS",
                UserAttributes=[{"Name": k, "Value": v} for k, v in attrs.items()],
            )
            self.raw_api("AdminSetUserPassword", UserPoolId=self.pool.pool_id, Username=u.username,
                      Password=u.password, Permanent=True)
            attributes_out = {a["Name"]: a["Value"] for a in created["User"].get("Attributes", [])}
            u.sub = attributes_out.get("sub", "")
            u.pool_username = created["User"].get("Username", u.username)
            u.attributes = attrs
            for group in groups:
                self.ensure_group(group)
                self.raw_api("AdminAddUserToGroup", UserPoolId=self.pool.pool_id, Username=u.username, GroupName=group)
                u.groups.append(group)
            self.note(f"user {u.username}", username=u.username, pool_username=u.pool_username, email=u.email,
                      sub=u.sub, groups=list(u.groups), pool_shape=self.pool_shape.describe(),
                      attributes=sorted(attrs))
        return u

    def tenant_user(self, tenant: str, *, admin: bool = False, **overrides: Any) -> TestUser:
        """A member (or admin) of ``tenant`` the way the spec's [tenancy] says: per-tenant groups, role groups
        and/or attributes (see TenancySection.grants). SKIP when the spec gives no way to make an admin."""
        t = self.spec.tenancy
        if admin and not t.can_make_admin():
            raise Skip(f"target spec {self.spec.path.name}: [tenancy] says no way to make a tenant admin "
                       "(admin_group, or admin_attribute with an attribute model)")
        groups, granted = t.grants(tenant, admin=admin)
        attributes: dict[str, str] = {**(overrides.pop("attributes", None) or {}), **granted}
        user = self.user(groups=groups, attributes=attributes, **overrides)
        if admin and t.admin_mfa_required:  # the app's admins sign in with MFA: give them an authenticator
            self.mfa.enroll_totp(user)
        return user

    def ensure_group(self, name: str) -> None:
        try:
            self.raw_api("CreateGroup", UserPoolId=self.pool.pool_id, GroupName=name)
        except self.idp.exceptions.GroupExistsException:
            pass

    def sign_in(self, user: TestUser, client_id: str | None = None, client_secret: str | None = None) -> Tokens:
        """Tokens for ``user`` from the pool (ADMIN_USER_PASSWORD_AUTH, USER_PASSWORD_AUTH as fallback), its MFA
        challenges answered (``self.mfa``: the user's TOTP code, SMS / email codes, MFA_SETUP)."""
        client_id = client_id or self.pool.client_id
        secret = self.pool.client_secret if client_secret is None and client_id == self.pool.client_id else client_secret
        params = {"USERNAME": user.username, "PASSWORD": user.password}
        if secret:
            params["SECRET_HASH"] = secret_hash(client_id, secret, user.username)
        with self.step(f"sign in {user.username}"):
            admin = True
            try:
                result = self.raw_api("AdminInitiateAuth", UserPoolId=self.pool.pool_id, ClientId=client_id,
                                   AuthFlow="ADMIN_USER_PASSWORD_AUTH", AuthParameters=params)
            except self.idp.exceptions.InvalidParameterException:
                admin = False
                result = self.raw_api("InitiateAuth", ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters=params)
            result = self.mfa.complete(user, result, client_id=client_id, secret_hash=params.get("SECRET_HASH"),
                                       admin=admin)
            auth = result.get("AuthenticationResult")
            if not auth:
                raise HarnessError(f"sign-in of {user.username} returned a challenge: {result.get('ChallengeName')}")
            tokens = Tokens(auth["AccessToken"], auth["IdToken"], auth.get("RefreshToken"), auth.get("ExpiresIn", 0))
            if client_id == self.pool.client_id:
                self._issued[user.username] = tokens
            self.token_evidence(tokens.access_token, f"access token of {user.username}")
            self.token_evidence(tokens.id_token, f"ID token of {user.username}")
        return tokens

    def mint(self, user: TestUser, *, title: str | None = None, **kwargs: Any) -> str:
        """A token from the control plane (``Control.mint``): real, or bent by claims/header/sign_with.

        The token type defaults to the one the app takes ([auth].token), so a
        forged token attacks what the app really verifies: an ID-token app gets
        forged ID tokens (``token_use="access"`` asks for the other type). On a
        backend without the control plane a real token of the user is bent
        instead (harness/runner/foreign.py); only the pool's own keys SKIP.
        """
        kwargs.setdefault("client_id", self.pool.client_id)
        kwargs.setdefault("token_use", self.spec.auth.token)
        if self.control is not None:
            token = self.control.mint(self.pool.pool_id, user.username, **kwargs)
        else:  # a foreign backend: bend a real token of the user; only the pool's own key cannot be had
            token = self._bent(user, **kwargs)
        desc = ", ".join(f"{k}={v!r}" for k, v in kwargs.items() if k not in ("client_id", "token_use"))
        self.token_evidence(token, title or f"minted token ({desc or 'as issued'})")
        return token

    def _bent(self, user: TestUser, *, client_id: str, token_use: str, **kwargs: Any) -> str:
        """``mint`` without the control plane (harness/runner/foreign.py): the user's real token, bent."""
        if client_id != self.pool.client_id or self.backend.jwks is None:
            raise Skip(control_plane_skip(f"{POOL_KEY_NEEDED} (a token for another client)", self.backend.name))
        tokens = self._issued.get(user.username) or self.sign_in(user)
        try:
            return bend(tokens.get(token_use), self.backend.jwks, **kwargs)
        except NeedsPoolKey:
            raise Skip(control_plane_skip(POOL_KEY_NEEDED, self.backend.name)) from None

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
            try:
                response = self.target.call(name, self.values(user, **values), token=token,
                                            authorization=authorization, title=title, extra_query=extra_query)
            except TargetStoppedAnswering as exc:  # the request that took the app down, in its step
                self.add_evidence(exc.evidence)
                raise
            self.add_evidence(response.evidence)
        return response

    def restart_target(self, reason: str) -> None:
        """Restart the app now, inside this check (it then loads the pool as this check left it)."""
        if self._restart_target is None:
            raise Skip(f"{reason}: the target cannot be restarted by the harness")
        with self.step(f"restart target ({reason})"):
            self._restart_target()

    def restart_target_before_next_check(self, reason: str) -> None:
        """Have the app restarted before the next check, after the pool is back in that check's state.

        For a check that leaves the app holding state the next check's pool
        will not have (keys it rotated away): restarting now would load this
        check's pool into the fresh app and leak it into the next check.
        """
        if self._restart_before_next_check is None:
            self.note(f"the target is not restarted ({reason}): the harness cannot restart it")
            return
        self._restart_before_next_check(reason)
        self.note(f"the target is restarted before the next check ({reason})")

    # --- expectations (expect_allowed, expect_denied, expect_refused, expect: harness/runner/expectations.py) --

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
        if self.pool.identity_pool_id:  # the identity pool's own events: credentials issued, logins refused
            found = sorted(found + self.control.events(None, self._event_mark, self.pool.identity_pool_id),
                           key=lambda e: e.get("seq", 0))
        if found:
            self.evidence.append(Evidence("event", f"emulator events during {self.scenario.id} ({len(found)})",
                                          {"events": found}))


__all__ = ["ScenarioContext", "TestUser", "Tokens", "UserFactory", "b64url", "b64url_decode", "claims_of",
           "decode_unverified", "scenario_seed"]

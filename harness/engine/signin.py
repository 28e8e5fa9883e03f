"""The sign-in core shared by every authentication flow and challenge.

One :class:`SignIn` is one attempt through one app client and flow. It holds
the order of checks Cognito applies: SECRET_HASH, then the user (unknown:
UserNotFoundException, or the generic "Incorrect username or password." with
PreventUserExistenceErrors=ENABLED), disabled / reset-required users and the
lockout before the password, and only after a correct password the states
that would otherwise leak (UNCONFIRMED, FORCE_CHANGE_PASSWORD, an expired
temporary password). Every refusal is an ``auth.failure`` event with a reason.

Challenge ``Session`` strings live in ``pool.auth_sessions`` for
AuthSessionValidity minutes of virtual time; an expired one is remembered a
while longer (sessions.KEEP_EXPIRED_CHALLENGES) so the caller hears "session is
expired" rather than "invalid", then swept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from harness.engine import attributes as attrs
from harness.engine import devices, lockout, mfa, pre_token, sessions, srp, tokens, trigger_sources, users
from harness.engine import events as ev
from harness.engine.common import check_secret_hash, find_user
from harness.engine.models import AppClient, AuthSession, Device, User, UserPool
from harness.engine.passwords import check_policy, verify_password
from harness.errors import CognitoError, Err

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

SESSION_BYTES = 600  # an 800-character Session, inside the model's 20-2048
ATTRIBUTE_PREFIX = "userAttributes."
SIGN_UP_CONFIRMED = "SIGN_UP_CONFIRMED"  # a ConfirmSignUp Session, accepted by USER_AUTH


def required(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise Err.MISSING_AUTH_PARAMETER.error(name=name)
    return value


def secret_alternates(user: User | None) -> tuple[str, ...]:
    """Names a SECRET_HASH may have been computed with besides the one typed."""
    if user is None:
        return ()
    aliases = (user.attributes.get(a, "") for a in ("email", "phone_number", "preferred_username"))
    return (user.username, user.sub, *aliases)


def find_session(
    backend: Backend, pool: UserPool, client: AppClient, session_id: str | None, challenge: str,
    *, mismatch: Err = Err.CHALLENGE_MISMATCH,
) -> AuthSession:
    """The live challenge session a request names, or Cognito's session error.

    ``mismatch`` is the error for a live session of another kind (a challenge
    answered with the wrong ChallengeName, or a session offered where it
    does not belong).
    """
    session = pool.auth_sessions.get(session_id or "")
    if session is None or session.client_id != client.client_id:
        raise Err.INVALID_SESSION.error()
    if backend.clock.now() >= session.expires_at:
        raise Err.SESSION_EXPIRED.error()
    if session.challenge != challenge:
        raise mismatch.error()
    return session


def close_session(pool: UserPool, session: AuthSession) -> None:
    pool.auth_sessions.pop(session.session, None)


def session_anywhere(backend: Backend, session_id: str, challenge: str) -> tuple[UserPool, AuthSession]:
    """A live challenge session named without its client (AssociateSoftwareToken, VerifySoftwareToken)."""
    for pool in backend.pools.values():
        session = pool.auth_sessions.get(session_id)
        client = pool.clients.get(session.client_id) if session is not None else None
        if client is not None:
            return pool, find_session(backend, pool, client, session_id, challenge, mismatch=Err.INVALID_SESSION)
    raise Err.INVALID_SESSION.error()


def reissue_session(backend: Backend, pool: UserPool, session: AuthSession) -> AuthSession:
    """The same pending step under a new ``Session`` string (each answer hands out a fresh one)."""
    close_session(pool, session)
    now = backend.clock.now()
    fresh = replace(session, session=backend.ids.token_blob(SESSION_BYTES), created=now,
                    expires_at=now + (session.expires_at - session.created))
    pool.auth_sessions[fresh.session] = fresh
    sessions.track_challenge(backend, pool, fresh.session, fresh.expires_at)
    return fresh


@dataclass
class SignIn:
    """One sign-in attempt: where it comes from and which flow it is."""

    backend: Backend
    pool: UserPool
    client: AppClient
    flow: str
    admin: bool = False
    device_key: str = ""  # the DEVICE_KEY the client named (remembered devices)
    validation_data: dict[str, str] | None = None  # InitiateAuth's ClientMetadata (pre auth, migration)
    client_metadata: dict[str, str] | None = None  # RespondToAuthChallenge's ClientMetadata (post auth, messages)
    token_source: str = pre_token.AUTHENTICATION  # the pre token generation source of the tokens it hands out

    @classmethod
    def resume(cls, backend: Backend, pool: UserPool, client: AppClient, session: AuthSession,
               client_metadata: dict[str, str] | None = None) -> SignIn:
        """Continue the attempt a challenge session belongs to (``client_metadata``: the answer's ClientMetadata)."""
        return cls(backend, pool, client, session.flow, session.admin, session.device_key,
                   client_metadata=client_metadata or None,
                   token_source=pre_token.source_for_challenge(session.challenge))

    # --- failures -------------------------------------------------------------------------

    @property
    def hides_existence(self) -> bool:
        return self.client.prevent_user_existence_errors == "ENABLED"

    def fail(self, username: str, reason: str, error: CognitoError) -> CognitoError:
        """Log an ``auth.failure`` and hand back the error for the caller to raise."""
        self.backend.events.emit(
            ev.AUTH_FAILURE, self.pool.pool_id, username=username, client_id=self.client.client_id,
            flow=self.flow, reason=reason, error=error.type,
        )
        return error

    def unknown_user(self, username: str) -> CognitoError:
        error = Err.INCORRECT_CREDENTIALS.error() if self.hides_existence else Err.USER_NOT_FOUND.error()
        return self.fail(username, "user_not_found", error)

    # --- lookups ----------------------------------------------------------------------------

    def lookup(self, username: str, secret_hash: str | None) -> User | None:
        """The user a sign-in names, after the client's SECRET_HASH check."""
        user = find_user(self.pool, username)
        check_secret_hash(self.client, username, secret_hash, *secret_alternates(user))
        return user

    def session_user(self, session: AuthSession, responses: dict[str, str]) -> User | None:
        """The user a challenge session was opened for (None if gone or simulated)."""
        username = required(responses, "USERNAME")
        user = None
        if session.user_sub:
            user = self.pool.users.get(self.pool.user_key(session.username))
            if user is not None and user.sub != session.user_sub:
                user = None
        check_secret_hash(
            self.client, username, responses.get("SECRET_HASH"), session.username, *secret_alternates(user)
        )
        return user

    def open_session(self, username: str, challenge: str, user_sub: str = "") -> AuthSession:
        now = self.backend.clock.now()
        session = AuthSession(
            session=self.backend.ids.token_blob(SESSION_BYTES),
            pool_id=self.pool.pool_id,
            client_id=self.client.client_id,
            username=username,
            challenge=challenge,
            created=now,
            expires_at=now + self.client.auth_session_validity_minutes * 60,
            admin=self.admin,
            flow=self.flow,
            user_sub=user_sub,
            device_key=self.device_key,
        )
        self.pool.auth_sessions[session.session] = session
        sessions.track_challenge(self.backend, self.pool, session.session, session.expires_at)
        return session

    # --- before and after the password ---------------------------------------------------------

    def precheck(self, user: User) -> None:
        """States refused before the password is looked at, then the lockout."""
        if not user.enabled:
            raise self.fail(user.username, "user_disabled", Err.USER_DISABLED.error())
        if user.status == "RESET_REQUIRED":
            raise self.fail(user.username, "password_reset_required", Err.PASSWORD_RESET_REQUIRED.error())
        lockout.check(self.backend, self.pool, user, client_id=self.client.client_id, flow=self.flow)

    # --- Lambda triggers around the attempt -----------------------------------------------------

    def pre_authentication(self, user: User | None, username: str) -> None:
        """PreAuthentication before the password (an unknown user only when existence is hidden)."""
        trigger_sources.pre_authentication(
            self.backend, self.pool, user, username, client_id=self.client.client_id,
            hides_existence=self.hides_existence, validation_data=self.validation_data,
        )

    def migrate(self, username: str, password: str) -> User | None:
        """UserMigration_Authentication for a name the pool does not know (None: no migration trigger)."""
        try:
            return trigger_sources.user_migration(
                self.backend, self.pool, trigger_sources.MIGRATION_AUTHENTICATION, username,
                client_id=self.client.client_id, hides_existence=self.hides_existence, password=password,
                validation_data=self.validation_data, client_metadata=self.client_metadata,
            )
        except CognitoError as error:
            raise self.fail(username, "migration_refused", error) from None

    def signed_in(self, user: User) -> dict[str, Any]:
        """Tokens for a user who passed every step; a device the pool tracks is named in them.

        PostAuthentication runs first; its failure refuses the tokens.
        """
        device_key, new_device = devices.for_tokens(self.backend, self.pool, self.client, user, self.device_key or None)
        trigger_sources.post_authentication(
            self.backend, self.pool, user, client_id=self.client.client_id, new_device_used=new_device is not None,
            client_metadata=self.client_metadata,
        )
        result = tokens.sign_in(self.backend, self.pool, self.client, user, flow=self.flow, device_key=device_key,
                                source=self.token_source, client_metadata=self.client_metadata)
        if new_device is not None:
            result["NewDeviceMetadata"] = new_device
        return {"AuthenticationResult": result, "ChallengeParameters": {}}

    def after_password(self, user: User) -> dict[str, Any]:
        """The user proved the password: tokens, or the state or step that still stands in the way."""
        lockout.record_success(self.backend, user)
        if user.status == "UNCONFIRMED":
            raise self.fail(user.username, "user_not_confirmed", Err.USER_NOT_CONFIRMED.error())
        if user.status == "FORCE_CHANGE_PASSWORD":
            expires = user.temporary_password_expires
            if expires is not None and self.backend.clock.now() >= expires:
                raise self.fail(user.username, "temporary_password_expired", Err.TEMP_PASSWORD_EXPIRED.error())
            return self.new_password_challenge(user)
        if self.device_key:
            step = devices.device_challenge(self, user, self.device_key)
            if step is not None:
                return step
        return self.second_factor(user)

    def after_device(self, user: User, device: Device) -> dict[str, Any]:
        """The device proved its key (DEVICE_PASSWORD_VERIFIER): a remembered one skips MFA."""
        self.device_key = device.key
        return self.second_factor(user, trusted_device=devices.suppresses_mfa(self.pool, user, device.key))

    # --- the second factor ---------------------------------------------------------------------

    def second_factor(self, user: User, *, trusted_device: bool = False) -> dict[str, Any]:
        """MFA when the pool and user call for it (engine.mfa.decide), else tokens."""
        step = None if trusted_device else mfa.decide(self.pool, user)
        if step is None:
            return self.signed_in(user)
        return self.mfa_challenge(user, step)

    def mfa_challenge(self, user: User, step: mfa.Step) -> dict[str, Any]:
        """Open the session of an MFA step (sending its code for SMS / email) and answer with it."""
        session = self.open_session(user.username, step.challenge, user.sub)
        session.options = list(step.options)
        session.passed = ["password"]
        params = mfa.challenge_parameters(user, step)
        if step.challenge in (mfa.SMS, mfa.EMAIL):
            params.update(mfa.send_code(self.backend, self.pool, user, session, step.challenge, self._operation(),
                                        client_id=self.client.client_id, client_metadata=self.client_metadata))
        self.backend.events.emit(
            ev.MFA_CHALLENGE, self.pool.pool_id, username=user.username, client_id=self.client.client_id,
            flow=self.flow, challenge=step.challenge,
        )
        return {"ChallengeName": step.challenge, "Session": session.session, "ChallengeParameters": params}

    def _operation(self) -> str:
        return "AdminInitiateAuth" if self.admin else "InitiateAuth"

    def one_time_code(self, user: User | None, username: str, factor: str) -> dict[str, Any]:
        """USER_AUTH's EMAIL_OTP / SMS_OTP first factor: a code sent, answered instead of a password.

        An unknown user (existence hidden) gets a challenge whose code never comes.
        """
        self.pre_authentication(user, username)
        session = self.open_session(user.username if user else username, factor, user.sub if user else "")
        params: dict[str, str] = {}
        if user is not None:
            params = mfa.send_code(self.backend, self.pool, user, session, factor, self._operation(),
                                   client_id=self.client.client_id, client_metadata=self.client_metadata)
        return {"ChallengeName": factor, "Session": session.session, "ChallengeParameters": params}

    def _code_failure(self, user: User | None, session: AuthSession, reason: str) -> CognitoError:
        """A wrong or expired code: the session takes CODE_ATTEMPTS wrong codes, then closes."""
        session.attempts += 1
        if session.attempts >= mfa.CODE_ATTEMPTS or reason == "code_expired":
            close_session(self.pool, session)
            reason = "attempts_exceeded" if reason == "wrong_code" else reason
        username = user.username if user else session.username
        if "password" in session.passed:
            self.backend.events.emit(
                ev.MFA_FAILED, self.pool.pool_id, username=username, client_id=self.client.client_id,
                flow=self.flow, challenge=session.challenge, reason=reason,
            )
        error = Err.MFA_CODE_EXPIRED.error() if reason == "code_expired" else Err.MFA_CODE_MISMATCH.error()
        prefix = "mfa" if "password" in session.passed else "otp"
        return self.fail(username, f"{prefix}_{reason}", error)

    def answer_code(self, session: AuthSession, responses: dict[str, str]) -> dict[str, Any]:
        """A code challenge answered: SOFTWARE_TOKEN_MFA, SMS_MFA or EMAIL_OTP after the password,
        or EMAIL_OTP / SMS_OTP as USER_AUTH's first factor."""
        code = required(responses, mfa.ANSWER_KEY[session.challenge])
        if not session.user_sub:  # a simulated challenge for an unknown user
            self.session_user(session, responses)
            raise self._code_failure(None, session, "wrong_code")
        user = self._challenged_user(session, responses)
        return self.signed_in(self.prove_code(session, user, code))

    def prove_code(self, session: AuthSession, user: User, code: str) -> User:
        """Check a challenge's code for ``user`` (raising Cognito's error); the session is spent."""
        reason = mfa.check_code(self.backend, self.pool, user, session, session.challenge, code)
        if reason is not None:
            raise self._code_failure(user, session, reason)
        close_session(self.pool, session)
        if "password" in session.passed:
            self.backend.events.emit(
                ev.MFA_PASSED, self.pool.pool_id, username=user.username, client_id=self.client.client_id,
                flow=self.flow, challenge=session.challenge,
            )
        return user

    def select_mfa(self, session: AuthSession, responses: dict[str, str]) -> dict[str, Any]:
        """SELECT_MFA_TYPE: the user picks one of MFAS_CAN_CHOOSE; its challenge follows."""
        answer = required(responses, "ANSWER")
        user = self._challenged_user(session, responses)
        factor = mfa.SELECT_ANSWERS.get(answer)
        if factor is None or factor not in session.options:
            raise Err.MFA_METHOD_NOT_FOUND.error(factor=answer)
        close_session(self.pool, session)
        return self.mfa_challenge(user, mfa.Step(factor))

    def complete_mfa_setup(self, session: AuthSession, responses: dict[str, str]) -> dict[str, Any]:
        """MFA_SETUP answered after VerifySoftwareToken(Session): TOTP is on (and preferred), tokens."""
        return self.signed_in(self.prove_setup(session, self._challenged_user(session, responses)))

    def prove_setup(self, session: AuthSession, user: User) -> User:
        """The MFA_SETUP session's authenticator was verified: turn TOTP on; the session is spent."""
        if mfa.TOTP not in session.passed or user.mfa.token is None:
            raise Err.TOTP_NOT_VERIFIED.error()
        close_session(self.pool, session)
        user.mfa.totp_enabled = True
        user.mfa.preferred = user.mfa.preferred or mfa.TOTP
        self.backend.events.emit(ev.MFA_ENROLLED, self.pool.pool_id, username=user.username, factor=mfa.TOTP, how="setup")
        self.backend.events.emit(
            ev.MFA_PASSED, self.pool.pool_id, username=user.username, client_id=self.client.client_id,
            flow=self.flow, challenge=mfa.SETUP,
        )
        return user

    def _challenged_user(self, session: AuthSession, responses: dict[str, str]) -> User:
        """The user a challenge session was opened for, still able to sign in (else the session closes)."""
        user = self.session_user(session, responses)
        if user is None:
            close_session(self.pool, session)
            raise self.unknown_user(session.username)
        if not user.enabled:
            close_session(self.pool, session)
            raise self.fail(user.username, "user_disabled", Err.USER_DISABLED.error())
        return user

    def new_password_challenge(self, user: User) -> dict[str, Any]:
        session = self.open_session(user.username, "NEW_PASSWORD_REQUIRED", user.sub)
        shown = {k: v for k, v in user.attributes.items() if k not in ("sub", "identities")}
        missing = [ATTRIBUTE_PREFIX + name for name in attrs.missing_required(self.pool, user)]
        return {
            "ChallengeName": "NEW_PASSWORD_REQUIRED",
            "Session": session.session,
            "ChallengeParameters": {
                "USER_ID_FOR_SRP": user.username,
                "requiredAttributes": json.dumps(missing),
                "userAttributes": json.dumps(shown),
            },
        }

    # --- the password itself ---------------------------------------------------------------------

    def password(self, user: User | None, username: str, password: str) -> dict[str, Any]:
        """Check a plain password (USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, USER_AUTH PASSWORD).

        An unknown name goes to the pool's UserMigration function first; PreAuthentication
        runs before the password is looked at.
        """
        if user is None:
            user = self.migrate(username, password)
        if user is None:
            if self.hides_existence:
                self.pre_authentication(None, username)
            raise self.unknown_user(username)
        self.precheck(user)
        self.pre_authentication(user, username)
        if not verify_password(user, password, outside_lock=self.backend.lock_released(),
                               proven=self.backend.proven_passwords):
            raise lockout.record_failure(self.backend, self.pool, user, client_id=self.client.client_id, flow=self.flow)
        if self.pool.users.get(self.pool.user_key(user.username)) is not user:  # deleted while the hash ran
            raise self.unknown_user(username)
        return self.after_password(user)

    def _credentials(self, user: User) -> srp.Credentials:
        """The user's SRP credentials; a user without a password gets unmatchable fake ones."""
        if user.srp_x and user.srp_salt:
            return srp.credentials_for(user)
        fake = srp.simulated_credentials(self.backend, self.pool, user.username)
        return srp.Credentials(user_id=user.username, salt_hex=fake.salt_hex, verifier=fake.verifier)

    def srp_begin(self, user: User | None, username: str, srp_a: str | None) -> dict[str, Any]:
        """SRP step 1: answer SRP_A with the PASSWORD_VERIFIER challenge.

        Unknown users get a simulated, stable challenge when existence errors
        are hidden (and fail at step 2 like a wrong password).
        """
        big_a = srp.parse_a(srp_a)
        if user is None:  # SRP carries no password: a user migration trigger cannot run here
            if not self.hides_existence:
                raise self.unknown_user(username)
            self.pre_authentication(None, username)
            creds = srp.simulated_credentials(self.backend, self.pool, username)
            session = self.open_session(username, "PASSWORD_VERIFIER")
        else:
            self.precheck(user)
            self.pre_authentication(user, username)
            creds = self._credentials(user)
            session = self.open_session(user.username, "PASSWORD_VERIFIER", user.sub)
        params = srp.begin(self.backend, session, big_a, creds)
        return {"ChallengeName": "PASSWORD_VERIFIER", "ChallengeParameters": params}

    def srp_verify(self, session: AuthSession, responses: dict[str, str]) -> dict[str, Any]:
        """SRP step 2: check PASSWORD_CLAIM_SIGNATURE (the session answers once)."""
        user = self.session_user(session, responses)
        close_session(self.pool, session)
        if user is None:
            simulated = srp.simulated_credentials(self.backend, self.pool, session.username)
            srp.signature_valid(self.backend, self.pool, session, simulated, responses)  # still validates the input
            if session.user_sub and not self.hides_existence:
                raise self.unknown_user(session.username)
            raise self.fail(session.username, "user_not_found", Err.INCORRECT_CREDENTIALS.error())
        self.precheck(user)
        if not srp.signature_valid(self.backend, self.pool, session, self._credentials(user), responses):
            raise lockout.record_failure(
                self.backend, self.pool, user, client_id=self.client.client_id, flow=self.flow, reason="wrong_password_srp"
            )
        return self.after_password(user)

    # --- NEW_PASSWORD_REQUIRED ---------------------------------------------------------------------

    def complete_new_password(self, session: AuthSession, responses: dict[str, str]) -> dict[str, Any]:
        """Replace a temporary password (and supply missing required attributes)."""
        password = required(responses, "NEW_PASSWORD")
        user = self._challenged_user(session, responses)
        if user.status != "FORCE_CHANGE_PASSWORD":
            close_session(self.pool, session)
            raise Err.INVALID_SESSION.error()
        given = {k[len(ATTRIBUTE_PREFIX):]: v for k, v in responses.items() if k.startswith(ATTRIBUTE_PREFIX)}
        for name in given:
            attr = self.pool.schema.get(name)
            if attr is not None and attr.required and user.attributes.get(name):
                raise Err.PROVIDED_ATTRIBUTE_IMMUTABLE.error(name=name)
        missing = [name for name in attrs.missing_required(self.pool, user) if not given.get(name)]
        if missing:
            raise Err.REQUIRED_ATTRIBUTES_MISSING.error(names=" and ".join(missing))
        check_policy(self.pool, password, "other")
        attrs.check_writable(self.pool, self.client, given)
        attrs.validate_values(self.pool, given, user=user)
        users.set_user_password(self.backend, self.pool, user, password, permanent=True, reason="NEW_PASSWORD_REQUIRED")
        if given:
            users.update_attributes(self.backend, self.pool, user, given, client=self.client)
        close_session(self.pool, session)
        return self.second_factor(user)


__all__ = ["SIGN_UP_CONFIRMED", "SignIn", "find_session", "close_session", "session_anywhere", "reissue_session", "required", "secret_alternates", "ATTRIBUTE_PREFIX"]

"""MFA at the pool for a scenario: the test person's authenticator app, factors turned on, challenges answered.

``ctx.mfa`` (a :class:`PoolMfa`) is what a check uses to give a test user a
second factor the way a person would (AssociateSoftwareToken with their access
token, VerifySoftwareToken with the first code, the factor turned on and
preferred), to compute the codes their authenticator app shows, and to answer
the pool's MFA challenges when the harness itself signs them in
(``ctx.sign_in``). SMS and email codes are read from the emulator's mailbox.

TOTP codes follow RFC 6238 on the pool's clock (the emulator's virtual clock;
the wall clock on another backend). A pool accepts a code once and never one of
an earlier time step, but one step either side of now (clock drift), so at a
frozen clock an authenticator has three codes to give: the previous step's (the
enrolment uses it), the current one and the next one. When they are spent the
pool's clock moves on by one step, as a recorded step of the check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.engine import totp
from harness.runner.scenario import Skip
from harness.runner.target import HarnessError

if TYPE_CHECKING:  # pragma: no cover
    from harness.runner.context import ScenarioContext
    from harness.runner.users import TestUser

TOTP = "SOFTWARE_TOKEN_MFA"
SMS = "SMS_MFA"
EMAIL = "EMAIL_OTP"
FACTORS = (TOTP, SMS, EMAIL)
SETTINGS = {TOTP: "SoftwareTokenMfaSettings", SMS: "SMSMfaSettings", EMAIL: "EmailMfaSettings"}
ANSWER_KEYS = {TOTP: "SOFTWARE_TOKEN_MFA_CODE", SMS: "SMS_MFA_CODE", EMAIL: "EMAIL_OTP_CODE"}
POOL_SWITCHES = {TOTP: ("SoftwareTokenMfaConfiguration", "Enabled"), SMS: ("SmsMfaConfiguration", None),
                 EMAIL: ("EmailMfaConfiguration", None)}
MAX_CHALLENGES = 4  # challenges one harness sign-in answers before it gives up (SELECT_MFA_TYPE, then a code...)


@dataclass
class Authenticator:
    """The authenticator app of one test person: its secret and the last time step a code was used for."""

    secret: str
    last_step: int = -1

    def code_for(self, step: int) -> str:
        return totp.code_at(self.secret, step)


class PoolMfa:
    """MFA operations of one scenario, recorded as its steps."""

    def __init__(self, ctx: ScenarioContext) -> None:
        self.ctx = ctx
        self.authenticators: dict[str, Authenticator] = {}  # test user's username -> their authenticator
        self._config: dict[str, Any] | None = None

    # --- the pool's MFA settings ----------------------------------------------------------------------

    def pool_config(self) -> dict[str, Any]:
        """GetUserPoolMfaConfig of the run's pool (read once: a check never changes it)."""
        if self._config is None:
            config = self.ctx.raw_api("GetUserPoolMfaConfig", UserPoolId=self.ctx.pool.pool_id)
            config.pop("ResponseMetadata", None)
            self._config = config
            self.ctx.note("the pool's MFA configuration", **config)
        return self._config

    def mode(self) -> str:
        """The pool's MfaConfiguration: OFF, OPTIONAL or ON."""
        return str(self.pool_config().get("MfaConfiguration", "OFF"))

    def offers(self, factor: str) -> bool:
        """Whether the pool has ``factor`` turned on (and MFA is not OFF)."""
        member, flag = POOL_SWITCHES[factor]
        block = self.pool_config().get(member)
        on = bool(block.get(flag)) if flag and isinstance(block, dict) else bool(block)
        return self.mode() != "OFF" and on

    def require(self, factor: str) -> None:
        """SKIP the check when the pool does not offer ``factor`` (a check never changes the pool)."""
        if not self.offers(factor):
            raise Skip(f"the pool does not offer {factor} (MfaConfiguration {self.mode()}; "
                       "see mfa and mfa_factors in the pool definition)")

    # --- a person's factors ---------------------------------------------------------------------------

    def enroll_totp(self, user: TestUser) -> Authenticator:
        """Give ``user`` an authenticator app, as a person does it: signed in, AssociateSoftwareToken with the
        access token, VerifySoftwareToken with the first code, then TOTP on and preferred."""
        self.require(TOTP)
        tokens = self.ctx.sign_in(user)
        if user.username in self.authenticators:  # the pool requires MFA: the sign-in enrolled one (MFA_SETUP)
            return self.authenticators[user.username]
        with self.ctx.step(f"{user.username} adds an authenticator app (TOTP)"):
            secret = self.ctx.raw_api("AssociateSoftwareToken", AccessToken=tokens.access_token)["SecretCode"]
            device = self.adopt(user, secret)
            self.ctx.raw_api("VerifySoftwareToken", AccessToken=tokens.access_token, UserCode=self.code(user),
                             FriendlyDeviceName="harness authenticator")
            self.ctx.raw_api("AdminSetUserMFAPreference", UserPoolId=self.ctx.pool.pool_id, Username=user.username,
                             SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
            self.ctx.note(f"TOTP MFA on for {user.username}", factor=TOTP, preferred=True)
        return device

    def enable(self, user: TestUser, factor: str) -> None:
        """Turn SMS_MFA or EMAIL_OTP on for ``user`` and make it preferred (their phone / email receives codes)."""
        self.require(factor)
        if factor == TOTP:
            raise ValueError("TOTP needs an authenticator: use enroll_totp")
        with self.ctx.step(f"{user.username}: {factor} on and preferred"):
            self.ctx.raw_api("AdminSetUserMFAPreference", UserPoolId=self.ctx.pool.pool_id, Username=user.username,
                             **{SETTINGS[factor]: {"Enabled": True, "PreferredMfa": True}})
            self.ctx.note(f"{factor} on for {user.username}", factor=factor, preferred=True)

    def adopt(self, user: TestUser, secret: str) -> Authenticator:
        """``user`` adds the secret an app handed out to their authenticator app."""
        device = Authenticator(secret)
        self.authenticators[user.username] = device
        return device

    def authenticator(self, user: TestUser) -> Authenticator:
        if user.username not in self.authenticators:
            raise HarnessError(f"{user.username} has no authenticator (enroll_totp or adopt first)")
        return self.authenticators[user.username]

    # --- codes -----------------------------------------------------------------------------------------

    def code(self, user: TestUser) -> str:
        """The next code ``user``'s authenticator shows that the pool has not seen (moving the pool's clock on
        by a step when the three a frozen clock allows are spent)."""
        device = self.authenticator(user)
        current = totp.step_of(self.ctx.now())
        step = max(device.last_step + 1, current - totp.DRIFT_STEPS)
        if step > current + totp.DRIFT_STEPS:
            self.ctx.advance(float(totp.STEP_SECONDS * (step - current - totp.DRIFT_STEPS)))
        device.last_step = step
        return device.code_for(step)

    def used_code(self, user: TestUser) -> str:
        """The code ``user``'s authenticator showed last (a replay)."""
        device = self.authenticator(user)
        if device.last_step < 0:
            raise HarnessError(f"{user.username}'s authenticator has shown no code yet")
        return device.code_for(device.last_step)

    def wrong_code(self, user: TestUser | None = None) -> str:
        """Six digits that are no code of the pool's window (nor of ``user``'s authenticator near now)."""
        current = totp.step_of(self.ctx.now())
        near = set()
        if user is not None and user.username in self.authenticators:
            device = self.authenticators[user.username]
            near = {device.code_for(s) for s in range(current - 3, current + 4)}
        return next(c for c in ("000000", "123456", "999999", "424242") if c not in near)

    def delivered_code(self, user: TestUser, factor: str) -> str:
        """The newest SMS_MFA / EMAIL_OTP code the pool sent ``user`` (from the emulator's mailbox)."""
        control = self.ctx.require_control_plane("mailbox")
        to = user.phone_number if factor == SMS else user.email
        with self.ctx.step(f"read the {factor} code sent to {to}"):
            sent = [m for m in control.messages(to=to, purpose=f"MFA:{factor}") if m.get("code")]
            self.ctx.note("mailbox", to=to, purpose=f"MFA:{factor}", found=len(sent))
            if not sent:
                raise HarnessError(f"no {factor} code was delivered to {to}")
            return str(max(sent, key=lambda m: m["id"])["code"])

    def answer(self, user: TestUser, challenge: str) -> str:
        """The code that answers ``challenge`` for ``user`` now."""
        if challenge == TOTP:
            return self.code(user)
        if challenge in (SMS, EMAIL):
            return self.delivered_code(user, challenge)
        raise HarnessError(f"no code answers {challenge}")

    # --- the harness's own sign-ins -----------------------------------------------------------------

    def _setup(self, user: TestUser, session: str) -> str:
        """MFA_SETUP's enrolment (AssociateSoftwareToken and VerifySoftwareToken with the challenge's session);
        the session that answers MFA_SETUP."""
        associated = self.ctx.raw_api("AssociateSoftwareToken", Session=session)
        self.adopt(user, associated["SecretCode"])
        verified = self.ctx.raw_api("VerifySoftwareToken", Session=associated.get("Session") or session,
                                    UserCode=self.code(user), FriendlyDeviceName="harness authenticator")
        self.ctx.note(f"{user.username} set up TOTP in the sign-in (MFA_SETUP)", status=verified.get("Status"))
        return str(verified.get("Session") or associated.get("Session") or session)

    def complete(self, user: TestUser, result: dict[str, Any], *, client_id: str, secret_hash: str | None,
                 admin: bool) -> dict[str, Any]:
        """Answer the pool's MFA challenges of a harness sign-in (``ctx.sign_in``) until tokens come."""
        for _ in range(MAX_CHALLENGES):
            challenge = result.get("ChallengeName")
            if not challenge or result.get("AuthenticationResult"):
                return result
            responses = {"USERNAME": user.username}
            if secret_hash:
                responses["SECRET_HASH"] = secret_hash
            if challenge == "SELECT_MFA_TYPE":
                offered = str((result.get("ChallengeParameters") or {}).get("MFAS_CAN_CHOOSE", ""))
                usable = [f for f in FACTORS if f in offered and (f != TOTP or user.username in self.authenticators)]
                responses["ANSWER"] = usable[0] if usable else TOTP
            elif challenge in ANSWER_KEYS:
                responses[ANSWER_KEYS[challenge]] = self.answer(user, challenge)
            elif challenge == "MFA_SETUP":  # a pool that requires MFA: the person enrols an authenticator app now
                result = dict(result, Session=self._setup(user, str(result.get("Session"))))
            else:
                raise HarnessError(f"sign-in of {user.username} returned a challenge: {challenge}")
            params = {"ClientId": client_id, "ChallengeName": challenge, "Session": result.get("Session"),
                      "ChallengeResponses": responses}
            if admin:
                result = self.ctx.raw_api("AdminRespondToAuthChallenge", UserPoolId=self.ctx.pool.pool_id, **params)
            else:
                result = self.ctx.raw_api("RespondToAuthChallenge", **params)
            self.ctx.note(f"answered {challenge} for {user.username}", next=result.get("ChallengeName") or "tokens")
        raise HarnessError(f"sign-in of {user.username} still asks for {result.get('ChallengeName')} after "
                           f"{MAX_CHALLENGES} answers")


__all__ = ["ANSWER_KEYS", "Authenticator", "EMAIL", "FACTORS", "PoolMfa", "SMS", "TOTP"]

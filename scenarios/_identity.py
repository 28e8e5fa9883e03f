"""Helpers of the identity family: asking the app for AWS credentials and judging whose they are.

The app answers its credentials request with the credentials it got from the
identity pool; the spec's ``access_key_id`` pointer says where the AccessKeyId
is. What the credentials are (the identity, the role, authenticated or not)
comes from the emulator's control plane by that AccessKeyId, never from the
rest of the app's answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.scenario import IssuedCredentials, ScenarioContext, TargetResponse, Tokens
from scenarios._sessions import clean_error

USER_REQUEST = "aws_credentials"
GUEST_REQUEST = "aws_credentials_guest"
IDP_REFS = ["Cognito docs: identity pools, role-based access control (rules-based role mappings)",
            "Cognito docs: identity pools authentication flow (enhanced flow: GetId, GetCredentialsForIdentity)",
            "OWASP ASVS 5.0 V8.2.1, V8.3.1 (authorization on the server, least privilege)"]


@dataclass
class AppCredentials:
    """One answer of the app's credentials request: the AccessKeyId it carried and the pool's record of it."""

    response: TargetResponse
    access_key_id: str | None
    issued: IssuedCredentials | None

    def summary(self) -> str:
        if self.issued is None:
            return self.response.summary()
        return (f"{self.response.summary()}; the pool issued {self.access_key_id} to identity "
                f"{self.issued.identity_id} for role {self.issued.role_arn}")


def ask(ctx: ScenarioContext, label: str, tokens: Tokens | None = None, *,
        id_token: str | None = None) -> AppCredentials:
    """The app's credentials request: as ``tokens``' user (their ID token as the login unless ``id_token``
    says otherwise), or as a visitor who is not signed in when ``tokens`` is None."""
    if tokens is None:
        response = ctx.call(GUEST_REQUEST, title=f"{label}: AWS credentials through the app")
    else:
        response = ctx.call(USER_REQUEST, token=ctx.presented_token(tokens), title=f"{label}: AWS credentials "
                            "through the app", id_token=id_token or tokens.id_token, access_token=tokens.access_token,
                            refresh_token=tokens.refresh_token)
    pointer = response.spec.access_key_id
    key = response.pointer(pointer) if pointer else None
    key = key if isinstance(key, str) and key else None
    return AppCredentials(response, key, ctx.identity.issued(key, label) if key else None)


def granted(ctx: ScenarioContext, got: AppCredentials, because: str) -> IssuedCredentials:
    """The app handed out credentials the run's identity pool issued (FAIL otherwise); their record."""
    ctx.expect_allowed(got.response, because)
    if got.access_key_id is None:
        ctx.fail(f"{because}: the app's answer carries no AccessKeyId at [requests.{got.response.name}]"
                 f".access_key_id ({got.response.spec.access_key_id})",
                 expected="the AccessKeyId of the credentials the app got", actual=got.response.summary())
    if got.issued is None or got.issued.identity_pool_id != ctx.identity.pool_id:
        ctx.fail(f"{because}: the app handed out credentials the run's identity pool never issued",
                 expected=f"credentials of identity pool {ctx.identity.pool_id}", actual=got.summary())
    assert got.issued is not None
    return got.issued


def same_role(ctx: ScenarioContext, issued: IssuedCredentials, expected: IssuedCredentials, who: str,
              *, not_role: str | None = None) -> None:
    """FAIL unless the app's credentials are ``who``'s own identity's, for the role the pool gives them."""
    if not_role is not None and issued.role_arn == not_role:
        ctx.fail(f"{who}: the app's credentials carry the role {not_role}",
                 expected=f"the role the identity pool's mappings give {who}: {expected.role_arn}",
                 actual=f"{issued.access_key_id} for {issued.role_arn} (identity {issued.identity_id})")
    if issued.identity_id != expected.identity_id:
        ctx.fail(f"{who}: the app's credentials belong to another identity",
                 expected=f"credentials of {who}'s identity {expected.identity_id}",
                 actual=f"{issued.access_key_id} of identity {issued.identity_id} for {issued.role_arn}")
    if issued.role_arn != expected.role_arn:
        ctx.fail(f"{who}: the app's credentials carry a role the identity pool's mappings do not give them",
                 expected=expected.role_arn, actual=f"{issued.access_key_id} for {issued.role_arn}")
    ctx.note(f"{who}: the app's credentials are theirs, for the role the pool's mappings give",
             role_arn=issued.role_arn, identity_id=issued.identity_id)


def refused(ctx: ScenarioContext, got: AppCredentials, because: str) -> None:
    """A refusal: no credentials at all (cached or new), a clean 4xx the spec lists as denied."""
    clean_error(ctx, got.response, because)
    if got.access_key_id is not None:
        ctx.fail(f"{because}: the app handed out AWS credentials", expected="a refusal without credentials",
                 actual=got.summary())
    ctx.expect_denied(got.response, because)


__all__ = ["AppCredentials", "GUEST_REQUEST", "IDP_REFS", "USER_REQUEST", "ask", "granted", "refused", "same_role"]

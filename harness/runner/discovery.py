"""A foreign backend's issuer and JWKS, found rather than assumed.

A moto server names its issuer ``https://cognito-idp.<region>.amazonaws.com/<pool>``,
``cognito-harness serve`` names it after its own URL, a real pool after AWS's
host: the app must be told the one the backend's tokens really carry. So:

1. a throwaway user of the run's pool signs in (AdminCreateUser,
   AdminSetUserPassword, AdminInitiateAuth; deleted afterwards): the ``iss``
   of its ID token is the issuer;
2. the OpenID discovery document is read at the backend
   (``<endpoint>/<pool>/.well-known/openid-configuration``): its ``issuer``
   must be that ``iss`` (OpenID Connect Discovery §4.3), and its ``jwks_uri``
   is the JWKS; failing that, ``<endpoint>/<pool>/.well-known/jwks.json``;
   then the same two under the ``iss`` itself (a real pool's AWS host), so an
   emulator naming AWS's host as its issuer is never asked over the network;
3. a JWKS counts only when it verifies the ID token's signature (RS256, by kid).

When no user can sign in without a challenge (a pool whose MFA is ON), the
backend's discovery document alone names the issuer. What was tried and found
is kept for the run's notes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jwt
import requests
from botocore.exceptions import ClientError

from harness.pooldef.shape import PoolShape
from harness.runner.users import UserFactory

DISCOVERY_SEED = 0x15C0  # the throwaway user's seed: any fixed value (its name says what it is for)
HTTP_TIMEOUT = 10.0
WELL_KNOWN = "/.well-known/openid-configuration"
JWKS_PATH = "/.well-known/jwks.json"


class DiscoveryError(RuntimeError):
    """Neither the backend's tokens nor its documents name a usable issuer and JWKS."""


@dataclass
class Discovery:
    """The issuer, the JWKS and how they were found."""

    issuer: str
    jwks_uri: str
    jwks: dict[str, Any]
    issuer_from: str  # "the ID token of ..." or the discovery document's URL
    document: str = ""  # the discovery document's URL, when one was used
    tried: list[str] = field(default_factory=list)  # every URL asked, with what went wrong

    def describe(self) -> str:
        via = f"discovery document {self.document}" if self.document else "the JWKS path (no discovery document)"
        return f"issuer {self.issuer} (from {self.issuer_from}); JWKS {self.jwks_uri} (via {via})"


def discover(idp: Any, endpoint: str, pool_id: str, client_id: str, shape: PoolShape) -> Discovery:
    """The pool's issuer and JWKS on the backend at ``endpoint`` (see the module docstring)."""
    tried: list[str] = []
    id_token, who = _discovery_token(idp, pool_id, client_id, shape, tried)
    iss = str(jwt.decode(id_token, options={"verify_signature": False}).get("iss", "")) if id_token else ""
    if id_token and not iss:
        raise DiscoveryError(f"the ID token {endpoint} issued to {who} carries no iss claim")
    # the backend's own documents first: an issuer named after AWS's host is then never asked over the network
    places = [f"{endpoint}/{pool_id}"] + ([iss] if iss and iss != f"{endpoint}/{pool_id}" else [])
    for base in places:
        found = _from_document(f"{base}{WELL_KNOWN}", id_token, iss, tried)
        if found is None and iss:
            jwks = _verified_jwks(f"{base}{JWKS_PATH}", id_token, iss, tried)
            found = (iss, f"{base}{JWKS_PATH}", jwks, "") if jwks is not None else None
        if found is not None:
            issuer, jwks_uri, jwks, document = found
            return Discovery(issuer, jwks_uri, jwks, f"the ID token of {who}" if iss else document, document, tried)
        if not iss:
            break  # without a token, only the backend's own discovery document can name the issuer
    raise DiscoveryError(f"could not discover the issuer and JWKS of pool {pool_id} at {endpoint}: "
                         + "; ".join(tried))


def _from_document(url: str, id_token: str, iss: str,
                   tried: list[str]) -> tuple[str, str, dict[str, Any], str] | None:
    """(issuer, jwks_uri, jwks, url) from the discovery document at ``url``, when it names the tokens' issuer
    and its JWKS verifies the token."""
    doc = _get_json(url, tried)
    if doc is None:
        return None
    named, jwks_uri = str(doc.get("issuer") or ""), str(doc.get("jwks_uri") or "")
    if not named or not jwks_uri:
        tried.append(f"{url}: no issuer or jwks_uri")
        return None
    if iss and named != iss:
        tried.append(f"{url}: names issuer {named}, but the tokens carry {iss}")
        return None
    jwks = _verified_jwks(jwks_uri, id_token, named, tried)
    return (named, jwks_uri, jwks, url) if jwks is not None else None


def _discovery_token(idp: Any, pool_id: str, client_id: str, shape: PoolShape,
                     tried: list[str]) -> tuple[str, str]:
    """An ID token of a throwaway user (deleted at once), or ("", reason) when sign-in asks a challenge."""
    factory = UserFactory(DISCOVERY_SEED, shape)
    person = factory.make()
    attributes = [{"Name": k, "Value": v} for k, v in factory.pool_attributes(person).items()]
    who = f"the throwaway discovery user {person.username}"
    idp.admin_create_user(UserPoolId=pool_id, Username=person.username, MessageAction="SUPPRESS",
                          UserAttributes=attributes)
    try:
        idp.admin_set_user_password(UserPoolId=pool_id, Username=person.username, Password=person.password,
                                    Permanent=True)
        answer = idp.admin_initiate_auth(UserPoolId=pool_id, ClientId=client_id,
                                         AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                         AuthParameters={"USERNAME": person.username, "PASSWORD": person.password})
    finally:
        try:
            idp.admin_delete_user(UserPoolId=pool_id, Username=person.username)
        except ClientError as exc:  # the pool goes at the end of the run anyway
            tried.append(f"AdminDeleteUser {person.username}: {exc}")
    token = (answer.get("AuthenticationResult") or {}).get("IdToken", "")
    if not token:
        tried.append(f"{who}: sign-in answered the challenge {answer.get('ChallengeName')}, not tokens")
    return token, who


def _get_json(url: str, tried: list[str]) -> dict[str, Any] | None:
    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT, headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        tried.append(f"{url}: {type(exc).__name__}")
        return None
    if response.status_code != 200:
        tried.append(f"{url}: HTTP {response.status_code}")
        return None
    try:
        data = response.json()
    except ValueError:
        tried.append(f"{url}: not JSON")
        return None
    if not isinstance(data, dict):
        tried.append(f"{url}: not a JSON object")
        return None
    return data


def _verified_jwks(url: str, id_token: str, issuer: str, tried: list[str]) -> dict[str, Any] | None:
    """The JWKS at ``url`` when it holds the key that signed ``id_token`` (any key set when there is no token)."""
    jwks = _get_json(url, tried)
    if jwks is None:
        return None
    keys = jwks.get("keys")
    if not isinstance(keys, list) or not keys:
        tried.append(f"{url}: no keys")
        return None
    if not id_token:
        return jwks
    kid = jwt.get_unverified_header(id_token).get("kid")
    match = [k for k in keys if isinstance(k, dict) and k.get("kid") == kid]
    if not match:
        tried.append(f"{url}: no key with the ID token's kid {kid}")
        return None
    try:
        jwt.decode(id_token, jwt.PyJWK(match[0], algorithm="RS256").key, algorithms=["RS256"], issuer=issuer,
                   options={"verify_aud": False}, leeway=300)
    except jwt.PyJWTError as exc:
        tried.append(f"{url}: its key {kid} does not verify the ID token ({exc})")
        return None
    return jwks


__all__ = ["Discovery", "DiscoveryError", "discover"]

"""The pool as an OpenID Connect client of an external IdP (the back channel).

Works with any standards-following provider, not only the harness's fakes:
discovery (``{issuer}/.well-known/openid-configuration``), the authorization
redirect, the code exchange with the client secret (client_secret_post, or
basic when the provider only lists that), ID-token checks against the
provider's JWKS with PyJWT (signature, iss, aud, exp/iat on the virtual clock,
nonce) and the userinfo call. The JWKS is cached per URL and refetched once
when a token names an unknown kid (how a client survives key rotation).

Failures raise :class:`IdPError` whose ``description`` is what Cognito puts in
``error_description`` when it redirects back to the app. Network access is
restricted to loopback on every hop (:mod:`harness.engine.outbound`: GETs
follow only loopback redirects, the token POST follows none). No pool state is
touched here, so callers run it without holding the pool lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import jwt
import requests

from harness.engine import outbound
from harness.engine.models import IdentityProvider

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

CLOCK_SKEW = 300  # seconds of leeway on iat/exp
NOT_EMULATED = ("Facebook", "LoginWithAmazon", "SAML")  # stored and described, no sign-in


class IdPError(Exception):
    """A federation failure, phrased as Cognito's ``error_description``."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


@dataclass(frozen=True)
class Endpoints:
    issuer: str
    authorize_url: str
    token_url: str
    attributes_url: str | None
    jwks_uri: str
    token_auth_methods: tuple[str, ...] = ("client_secret_post", "client_secret_basic")


def _get(url: str, reach: outbound.Reach, headers: dict[str, str] | None = None) -> requests.Response:
    """GET on loopback, redirects checked hop by hop; a refusal is an IdPError naming it."""
    try:
        return outbound.get(url, reach.timeout, headers=headers, verify=reach.verify)
    except outbound.OutboundRefused as exc:
        raise IdPError(f"IdP endpoint {exc}") from None


def _post(url: str, reach: outbound.Reach, **kwargs: Any) -> requests.Response:
    """POST on loopback, no redirect followed; a refusal is an IdPError naming it."""
    try:
        return outbound.post(url, reach.timeout, verify=reach.verify, **kwargs)
    except outbound.OutboundRefused as exc:
        raise IdPError(f"IdP endpoint {exc}") from None


def discover(issuer: str, reach: outbound.Reach) -> dict[str, Any]:
    """Fetch and sanity-check a provider's discovery document."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        answer = _get(url, reach)
    except requests.Timeout:
        raise IdPError("Timeout occurred in calling IdP discovery endpoint") from None
    except requests.RequestException:
        raise IdPError(f"Unable to contact well-known endpoint {url}") from None
    if answer.status_code != 200:
        raise IdPError(f"Unable to retrieve the discovery document from {url} (HTTP {answer.status_code})")
    try:
        doc = answer.json()
    except ValueError:
        raise IdPError(f"The discovery document at {url} is not JSON") from None
    if not isinstance(doc, dict):
        raise IdPError(f"The discovery document at {url} is not a JSON object")
    if doc.get("issuer") != issuer:
        raise IdPError(f"Bad issuer in discovery document {doc.get('issuer')}")
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(doc.get(key), str):
            raise IdPError(f"The discovery document at {url} has no {key}")
    return doc


def discovered_details(issuer: str, reach: outbound.Reach) -> dict[str, str]:
    """The endpoint entries DescribeIdentityProvider shows for an OIDC provider."""
    doc = discover(issuer, reach)
    details = {
        "authorize_url": doc["authorization_endpoint"],
        "token_url": doc["token_endpoint"],
        "jwks_uri": doc["jwks_uri"],
    }
    if isinstance(doc.get("userinfo_endpoint"), str):
        details["attributes_url"] = doc["userinfo_endpoint"]
    methods = doc.get("token_endpoint_auth_methods_supported")
    if isinstance(methods, list) and methods:
        details["token_endpoint_auth_methods"] = " ".join(str(m) for m in methods)
    return details


def endpoints_of(provider: IdentityProvider, reach: outbound.Reach) -> Endpoints:
    """Endpoints from the stored ProviderDetails, discovering what is missing."""
    if provider.provider_type in NOT_EMULATED:
        raise IdPError(f"Sign-in through {provider.provider_type} providers is not emulated by cognito-harness")
    details = dict(provider.details)
    issuer = details.get("oidc_issuer", "")
    if not all(details.get(k) for k in ("authorize_url", "token_url", "jwks_uri")):
        if not issuer:
            raise IdPError(f"Identity provider {provider.name} has no oidc_issuer")
        details.update({k: v for k, v in discovered_details(issuer, reach).items() if not details.get(k)})
    methods = tuple(details.get("token_endpoint_auth_methods", "client_secret_post client_secret_basic").split())
    return Endpoints(issuer=issuer, authorize_url=details["authorize_url"], token_url=details["token_url"],
                     attributes_url=details.get("attributes_url") or None, jwks_uri=details["jwks_uri"],
                     token_auth_methods=methods)


def authorization_redirect(provider: IdentityProvider, endpoints: Endpoints, redirect_uri: str,
                           state: str, nonce: str) -> str:
    params = {
        "response_type": "code",
        "client_id": provider.details.get("client_id", ""),
        "redirect_uri": redirect_uri,
        "scope": provider.details.get("authorize_scopes") or "openid",
        "state": state,
        "nonce": nonce,
    }
    sep = "&" if "?" in endpoints.authorize_url else "?"
    return f"{endpoints.authorize_url}{sep}{urlencode(params)}"


def provider_label(provider: IdentityProvider) -> str:
    """How Cognito names the provider in error descriptions ("Google Error - ...")."""
    return provider.provider_type if provider.provider_type != "OIDC" else provider.name


def apple_client_secret(provider: IdentityProvider, now: int) -> str:
    """Sign in with Apple's client secret: an ES256 JWT signed with the configured private key.

    A key that does not load (test configurations often hold a placeholder)
    yields an unsigned placeholder; the fake Apple IdP does not verify it.
    """
    details = provider.details
    claims = {"iss": details.get("team_id", ""), "iat": now, "exp": now + 3600,
              "aud": "https://appleid.apple.com", "sub": details.get("client_id", "")}
    try:
        return jwt.encode(claims, details.get("private_key", ""), algorithm="ES256",
                          headers={"kid": details.get("key_id", "")})
    except (ValueError, TypeError, jwt.PyJWTError):
        return "unsigned-apple-client-secret"


def exchange_code(provider: IdentityProvider, endpoints: Endpoints, code: str, redirect_uri: str,
                  reach: outbound.Reach, now: int) -> dict[str, Any]:
    """POST the code to the provider's token endpoint with the client credentials."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    client_id = provider.details.get("client_id", "")
    secret = provider.details.get("client_secret", "")
    if provider.provider_type == "SignInWithApple" and not secret:
        secret = apple_client_secret(provider, now)
    auth = None
    if "client_secret_post" in endpoints.token_auth_methods or not secret:
        form.update({"client_id": client_id, "client_secret": secret})
    else:
        auth = (client_id, secret)
    try:
        answer = _post(endpoints.token_url, reach, data=form, auth=auth, headers={"Accept": "application/json"})
    except requests.Timeout:
        raise IdPError("Timeout occurred in calling IdP token endpoint") from None
    except requests.RequestException:
        raise IdPError("Error in calling IdP token endpoint") from None
    try:
        body = answer.json()
    except ValueError:
        body = {}
    if answer.status_code != 200:
        err = body.get("error", "") if isinstance(body, dict) else ""
        raise IdPError(f"{provider_label(provider)} Error - {answer.status_code} {err}".rstrip())
    if not isinstance(body, dict) or not isinstance(body.get("id_token"), str):
        raise IdPError("No id_token in the IdP token endpoint response")
    return body


def _jwks(backend: Backend, url: str, reach: outbound.Reach, refresh: bool) -> dict[str, Any]:
    cache = backend.idps.jwks_cache
    if not refresh and url in cache:
        return cache[url]
    try:
        answer = _get(url, reach)
    except requests.Timeout:
        raise IdPError("Timeout occurred in calling IdP jwks endpoint") from None
    except requests.RequestException:
        raise IdPError("Error in calling IdP jwks endpoint") from None
    try:
        doc = answer.json() if answer.status_code == 200 else None
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
        raise IdPError(f"Unable to retrieve the JWKS from {url}")
    cache[url] = doc
    return doc


def _key_for(backend: Backend, endpoints: Endpoints, kid: str | None, reach: outbound.Reach) -> Any:
    for refresh in (False, True):
        keys = _jwks(backend, endpoints.jwks_uri, reach, refresh)["keys"]
        for jwk in keys:
            if isinstance(jwk, dict) and (kid is None or jwk.get("kid") == kid) and jwk.get("kty") == "RSA":
                try:
                    return jwt.PyJWK(jwk, algorithm="RS256").key
                except jwt.PyJWTError:
                    continue
    raise IdPError("Bad id_token signature: no key with kid %s in the IdP's JWKS" % kid)


def verify_id_token(backend: Backend, provider: IdentityProvider, endpoints: Endpoints, token: str,
                    nonce: str | None, reach: outbound.Reach) -> dict[str, Any]:
    """Check an IdP ID token: RS256 signature by a JWKS key, iss, aud, exp/iat, nonce."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise IdPError("Bad id_token: not a JWT") from None
    if header.get("alg") != "RS256":
        raise IdPError(f"Bad id_token algorithm {header.get('alg')}")
    key = _key_for(backend, endpoints, header.get("kid"), reach)
    try:
        claims = jwt.decode(token, key, algorithms=["RS256"],
                            options={"verify_aud": False, "verify_exp": False, "verify_iat": False,
                                     "verify_nbf": False, "verify_iss": False})
    except jwt.PyJWTError:
        raise IdPError("Bad id_token signature") from None
    if endpoints.issuer and claims.get("iss") != endpoints.issuer:
        raise IdPError(f"Bad id_token issuer {claims.get('iss')}")
    aud = claims.get("aud")
    client_id = provider.details.get("client_id")
    if not (aud == client_id or (isinstance(aud, list) and client_id in aud)):
        raise IdPError("Bad id_token audience")
    now = backend.clock.now()
    if not isinstance(claims.get("exp"), (int, float)) or now >= claims["exp"] + CLOCK_SKEW:
        raise IdPError("Bad id_token: token expired")
    if isinstance(claims.get("iat"), (int, float)) and claims["iat"] > now + CLOCK_SKEW:
        raise IdPError("Bad id_token: issued in the future")
    if nonce is not None and claims.get("nonce") != nonce:
        raise IdPError("Bad id_token nonce")
    if not claims.get("sub"):
        raise IdPError("Bad id_token: no sub")
    return claims


def fetch_userinfo(provider: IdentityProvider, endpoints: Endpoints, access_token: str,
                   reach: outbound.Reach) -> dict[str, Any]:
    """The provider's userinfo claims (GET or POST per attributes_request_method)."""
    if not endpoints.attributes_url or not access_token:
        return {}
    headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
    try:
        if provider.details.get("attributes_request_method", "GET").upper() == "POST":
            answer = _post(endpoints.attributes_url, reach, headers=headers)
        else:
            answer = _get(endpoints.attributes_url, reach, headers=headers)
    except requests.Timeout:
        raise IdPError("Timeout occurred in calling IdP userinfo endpoint") from None
    except requests.RequestException:
        raise IdPError("Error in calling IdP userinfo endpoint") from None
    if answer.status_code != 200:
        raise IdPError(f"{provider_label(provider)} Error - {answer.status_code} userinfo")
    try:
        info = answer.json()
    except ValueError:
        raise IdPError("The IdP userinfo response is not JSON") from None
    return info if isinstance(info, dict) else {}


__all__ = ["Endpoints", "IdPError", "authorization_redirect", "discover", "discovered_details", "endpoints_of",
           "exchange_code", "fetch_userinfo", "verify_id_token"]

"""Token validation, key sourcing: where the app takes its verification key from.

The key must come from the pool's JWKS, looked up by kid, and nowhere else:
not from a kid that names a file or a query, not from a ``jwk`` embedded in
the token, not from a ``jku``/``x5u`` URL the token points at (RFC 8725
§3.10, ASVS 9.1.3). Unknown kids may trigger a JWKS refetch (that is how
rotation works), but a flood of them must not make the app hammer the JWKS
endpoint. The emulator's ``jwks.fetch`` events and a tiny loopback
"attacker" server (which records every hit) are the evidence.

Same family as scenarios/token_validation.py, which imports this module.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

from harness.runner.context import ScenarioContext
from harness.runner.scenario import scenario
from scenarios.token_validation import FAMILY, _access_only, _refuse, _segments, _signed_in

FLOOD_SIZE = 20


# --- the attacker's key server ------------------------------------------------------------------


class AttackerServer:
    """A loopback HTTP server serving the attacker's JWKS and certificate; it records every hit."""

    def __init__(self, jwks: dict[str, Any], cert_pem: bytes) -> None:
        self.hits: list[dict[str, str]] = []
        routes = {"/jwks.json": ("application/json", json.dumps(jwks).encode()),
                  "/cert.pem": ("application/x-pem-file", cert_pem)}
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, fmt: str, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                hits.append({"path": self.path, "user_agent": self.headers.get("User-Agent", "")})
                kind, body = routes.get(self.path.split("?", 1)[0], ("text/plain", b"not found"))
                self.send_response(200 if self.path.split("?", 1)[0] in routes else 404)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self) -> AttackerServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def _attacker_cert(ctx: ScenarioContext) -> bytes:
    """A self-signed certificate for the attacker's (foreign) key, as an x5u URL would serve it."""
    from datetime import datetime, timedelta, timezone

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    from harness.engine.signing import foreign_key

    key = foreign_key(getattr(getattr(ctx.control, "backend", None), "seed", 0))  # the key Control.mint signs with
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attacker.example")])
    now = datetime.fromtimestamp(ctx.now(), tz=timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(ctx.seed % 2**63 or 1).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


@contextmanager
def _attacker(ctx: ScenarioContext, kid: str) -> Iterator[AttackerServer]:
    """Serve the foreign key under the pool's kid; note the hits as evidence when done."""
    jwks = {"keys": [dict(ctx.control.foreign_jwk(kid), alg="RS256", use="sig")]}
    with AttackerServer(jwks, _attacker_cert(ctx)) as server:
        ctx.note("attacker key server started", url=server.url, serves=["/jwks.json", "/cert.pem"])
        try:
            yield server
        finally:
            ctx.note(f"attacker key server hits ({len(server.hits)})", hits=list(server.hits))


def _never_fetched(ctx: ScenarioContext, server: AttackerServer, what: str) -> None:
    ctx.expect(not server.hits, f"the app fetched the {what} URL the token pointed at (SSRF and key injection)",
               expected=f"no request to {server.url}", actual=f"{len(server.hits)} request(s): {server.hits}")


def _pool_kid(token: str) -> str:
    return str(_segments(token)[0].get("kid", ""))


# --- kid ----------------------------------------------------------------------------------------


@scenario(
    id="TV-KID-UNKNOWN",
    family=FAMILY,
    title="A token whose kid the pool never published is refused",
    requirements=["RFC 8725 §3.10", "OWASP ASVS 5.0 V9.1.3", "aws-jwt-verify KidNotFoundInJwksError"],
    remediation="Look the kid up in the pool's JWKS (refetch once if unknown); if it is still unknown, refuse "
                "the token. Never fall back to an unverified decode.",
    needs=["protected"],
)
def unknown_kid(ctx: ScenarioContext) -> None:
    user, _, token = _signed_in(ctx)
    kid = f"unknown-{ctx.seed % 10**8:08d}"
    forged = ctx.mint(user, sign_with="foreign", header={"kid": kid}, title=f"token with unknown kid {kid!r}")
    _refuse(ctx, forged, f"kid {kid!r} (not in the JWKS)", token)


@scenario(
    id="TV-KID-INJECTION",
    family=FAMILY,
    title="kid path traversal and injection (../../dev/null, SQL, empty) with empty/guessed HMAC keys are refused",
    requirements=["RFC 8725 §3.10", "OWASP ASVS 5.0 V9.1.3", "PortSwigger JWT lab 6 (kid path traversal)",
                  "jwt_tool playbook kid checks"],
    remediation="Treat kid as an opaque lookup key into the pool's JWKS only; never as a file path, a query "
                "or a command, and never let it choose an HMAC secret.",
    needs=["protected"],
)
def kid_injection(ctx: ScenarioContext) -> None:
    user, _, token = _signed_in(ctx)
    for kid, sign_with in (("../../../../../../../dev/null", "hs256:"), ("/dev/null", "hs256:"),
                           ("x' UNION SELECT '1';--", "hs256:1"), ("", "hs256:"),
                           ("|sleep 10", "hs256:"), ("/invalid_path", "hs256:")):
        forged = ctx.mint(user, sign_with=sign_with, header={"kid": kid},
                          title=f"HS256 token, kid {kid!r}, key {sign_with.split(':', 1)[1]!r}")
        _refuse(ctx, forged, f"kid {kid!r} signed with HMAC key {sign_with.split(':', 1)[1]!r}")
    ctx.accepted_control(token, "persistence check: the valid token still works")


# --- key material named by the token ------------------------------------------------------------


@scenario(
    id="TV-HDR-JWK",
    family=FAMILY,
    title="A token carrying its own key in a jwk header (self-signed) is refused",
    requirements=["RFC 8725 §3.10", "OWASP ASVS 5.0 V9.1.3", "CVE-2018-0114", "PortSwigger JWT lab 4"],
    remediation="Ignore jwk headers; verify only with keys from the pool's JWKS.",
    needs=["protected"],
)
def jwk_header(ctx: ScenarioContext) -> None:
    user, _, token = _signed_in(ctx)
    kid = _pool_kid(token)
    forged = ctx.mint(user, sign_with="foreign", header={"jwk": ctx.control.foreign_jwk(kid)},
                      title="token signed by the attacker's key, which its jwk header embeds")
    _refuse(ctx, forged, "an embedded jwk (the attacker's key)", token)


@scenario(
    id="TV-HDR-JKU",
    family=FAMILY,
    title="A token whose jku header points at an attacker's JWKS is refused and the URL never fetched",
    requirements=["RFC 8725 §3.10", "OWASP ASVS 5.0 V9.1.3", "PortSwigger JWT lab 5",
                  "Burp issue 00200904 arbitrary jku"],
    remediation="Ignore jku; the JWKS URL is configuration (the pool's), never input.",
    needs=["protected"],
)
def jku_header(ctx: ScenarioContext) -> None:
    user, _, token = _signed_in(ctx)
    with _attacker(ctx, _pool_kid(token)) as server:
        forged = ctx.mint(user, sign_with="foreign", header={"jku": f"{server.url}/jwks.json"},
                          title="token signed by the attacker's key, jku at the attacker's JWKS")
        _refuse(ctx, forged, "a jku header pointing at the attacker's JWKS", token)
    _never_fetched(ctx, server, "jku")


@scenario(
    id="TV-HDR-X5U",
    family=FAMILY,
    title="A token whose x5u header points at an attacker's certificate is refused and the URL never fetched",
    requirements=["RFC 8725 §3.10", "OWASP ASVS 5.0 V9.1.3", "Burp issue 00200905 arbitrary x5u",
                  "jwt_tool playbook x5u"],
    remediation="Ignore x5u (and x5c); verify only with keys from the pool's JWKS.",
    needs=["protected"],
)
def x5u_header(ctx: ScenarioContext) -> None:
    user, _, token = _signed_in(ctx)
    with _attacker(ctx, _pool_kid(token)) as server:
        forged = ctx.mint(user, sign_with="foreign", header={"x5u": f"{server.url}/cert.pem"},
                          title="token signed by the attacker's key, x5u at the attacker's certificate")
        _refuse(ctx, forged, "an x5u header pointing at the attacker's certificate", token)
    _never_fetched(ctx, server, "x5u")


# --- key rotation -------------------------------------------------------------------------------


def _jwks_fetches(ctx: ScenarioContext, since: int) -> int:
    return len(ctx.events("jwks.fetch", since=since))


@scenario(
    id="TV-ROTATION-NEW-KID",
    family=FAMILY,
    title="After the pool rotates its keys, a token with the new kid is accepted (after a JWKS refetch)",
    requirements=["OIDF oidcc-client-test-signing-key-rotation", "OIDF rp-key-rotation-op-sign-key",
                  "aws-jwt-verify JWKS cache (refetch on unknown kid)", "RFC 7517 §5"],
    remediation="Cache the JWKS by kid and refetch it when a token names a kid the cache lacks (rate-limited); "
                "never pin the keys fetched at startup.",
    needs=["protected"],
    cold_app=True,
)
def rotation_new_kid(ctx: ScenarioContext) -> None:
    _access_only(ctx)
    user, _, old = _signed_in(ctx)
    rotated = ctx.control.rotate_keys(ctx.pool.pool_id, uses=["access"])
    ctx.note("pool keys rotated", retired=rotated["retired"], new=[k["kid"] for k in rotated["new"]])
    mark = ctx.mark()
    fresh = ctx.sign_in(user)
    ctx.expect(_pool_kid(fresh.access_token) != _pool_kid(old), "the pool did not sign with a new key after rotation")
    response = ctx.call("protected", token=fresh.access_token, title="token signed by the new key")
    ctx.expect_allowed(response, "a token signed by the pool's new key must be accepted after a JWKS refetch")
    fetches = _jwks_fetches(ctx, mark)
    limit = ctx.spec.limits.max_jwks_fetches
    ctx.expect(1 <= fetches <= limit, "the app did not refetch the JWKS a bounded number of times for the new kid",
               expected=f"1..{limit} JWKS fetch(es) after the rotation", actual=f"{fetches}")


@scenario(
    id="TV-ROTATION-RETIRED",
    family=FAMILY,
    title="After rotation, a token signed by a retired key the pool no longer publishes is refused",
    requirements=["OIDF oidcc-client-test-signing-key-rotation", "RFC 8725 §3.10", "OWASP ASVS 5.0 V9.1.3"],
    remediation="Replace the cached key set with each fetched JWKS (do not keep keys the pool stopped "
                "publishing) and refetch on unknown kids.",
    needs=["protected"],
    cold_app=True,
)
def rotation_retired(ctx: ScenarioContext) -> None:
    _access_only(ctx)
    user, _, old = _signed_in(ctx)
    old_kid = _pool_kid(old)
    rotated = ctx.control.rotate_keys(ctx.pool.pool_id, uses=["access"], unpublish_old=True)
    ctx.note("pool keys rotated, old keys unpublished", retired=rotated["retired"],
             new=[k["kid"] for k in rotated["new"]])
    try:
        fresh = ctx.sign_in(user)
        # the app meets the new kid first (and so has every reason to refetch), then the retired key
        ctx.call("protected", token=fresh.access_token,
                 title="token signed by the new key (the app learns the new JWKS)")
        retired = ctx.mint(user, sign_with=f"retired:{old_kid}", title=f"token signed by the retired key {old_kid}")
        _refuse(ctx, retired, f"a signature by the retired, unpublished key {old_kid}")
    finally:
        # the next check's pool publishes the old key again, which a real pool never does: an app that
        # (rightly) dropped it may be in its refetch penalty window, so it starts afresh
        ctx.restart_target("the pool's keys go back to the run's keys after this check")


@scenario(
    id="TV-JWKS-FLOOD",
    family=FAMILY,
    title=f"A flood of {FLOOD_SIZE} unknown kids makes the app refetch the JWKS at most [limits] max_jwks_fetches times",
    severity="SHOULD",  # availability (amplification against the JWKS endpoint), not token acceptance
    requirements=["aws-jwt-verify penalty box (rate-limited refetch)", "rp-test-catalog §6 A.4",
                  "OWASP ASVS 5.0 V9.1.3"],
    remediation="Rate-limit JWKS refetches: after a refetch that still lacks the kid, refuse unknown kids without "
                "refetching for a penalty window (aws-jwt-verify waits 10 s).",
    needs=["protected"],
)
def jwks_flood(ctx: ScenarioContext) -> None:
    user, _, token = _signed_in(ctx)
    mark = ctx.mark()
    for i in range(FLOOD_SIZE):
        kid = f"flood-{i:02d}-{ctx.seed % 10**6:06d}"
        forged = ctx.mint(user, sign_with="foreign", header={"kid": kid}, title=f"unknown kid {kid}")
        ctx.expect_denied(ctx.call("protected", token=forged, title=f"flood {i + 1}/{FLOOD_SIZE}"),
                          f"a token with the unknown kid {kid!r} must be refused")
    fetches = _jwks_fetches(ctx, mark)
    limit = ctx.spec.limits.max_jwks_fetches
    ctx.expect(fetches <= limit, f"{FLOOD_SIZE} unknown kids made the app fetch the JWKS {fetches} times",
               expected=f"at most {limit} JWKS fetches ([limits] max_jwks_fetches)", actual=f"{fetches} fetches")
    ctx.accepted_control(token, "persistence check: the valid token still works")

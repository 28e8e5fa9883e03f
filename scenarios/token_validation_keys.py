"""Token validation, key sourcing: where the app takes its verification key from.

The key must come from the pool's JWKS, looked up by kid, and nowhere else:
not from a kid that names a file or a query, not from a ``jwk`` embedded in
the token, not from a ``jku``/``x5u`` URL the token points at (RFC 8725
§3.10, ASVS 9.1.3). Unknown kids may trigger a JWKS refetch (that is how
rotation works), but a flood of them must not make the app hammer the JWKS
endpoint. The emulator's ``jwks.fetch`` events and a tiny loopback
"attacker" server (which records every hit) are the evidence. A token
without a kid is refused, never a 5xx; a kid that names a file the harness
planted must not make that file the key.

Same family as scenarios/token_validation.py (listed after it in SCENARIO_MODULES).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from harness.scenario import ScenarioContext, Window, scenario
from scenarios.token_validation import FAMILY, _compact, _kind, _refuse, _refuse_any, _segments, _signed_in

FLOOD_SIZE = 20
# re-probing a new kid goes this far past the spec's declared JWKS refetch cooldown (the app's own timers,
# the probes' round trips)
COOLDOWN_MARGIN_SECONDS = 5.0
# enough "../" to climb from any directory a launched app runs in up to "/"
CLIMB_TO_ROOT = "../" * 32


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
    key = ctx.foreign_key()  # the key Control.mint signs with
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attacker.example")])
    now = datetime.fromtimestamp(ctx.now(), tz=timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(ctx.seed % 2**63 or 1).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


@contextmanager
def _attacker(ctx: ScenarioContext, kid: str) -> Iterator[AttackerServer]:
    """Serve the foreign key under the pool's kid; note the hits as evidence when done."""
    jwks = {"keys": [dict(ctx.foreign_jwk(kid), alg="RS256", use="sig")]}
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
    control_plane=False,
)
def unknown_kid(ctx: ScenarioContext) -> None:
    user, _, token = _signed_in(ctx)
    kid = f"unknown-{ctx.seed % 10**8:08d}"
    forged = ctx.mint(user, sign_with="foreign", header={"kid": kid}, title=f"token with unknown kid {kid!r}")
    _refuse(ctx, forged, f"kid {kid!r} (not in the JWKS)", token)


@scenario(
    id="TV-KID-MISSING",
    family=FAMILY,
    title="A token whose kid was stripped (or set to null) is refused with a 3xx/4xx, never a 5xx",
    requirements=["RFC 7515 §4.1.4", "RFC 8725 §3.10", "OWASP ASVS 5.0 V9.1.1",
                  "aws-jwt-verify JwtWithoutValidKidError", "cognitojwt headers['kid'] KeyError -> 500 "
                  "(rp-test-catalog §3.2)"],
    remediation="Read the kid with .get() inside the token error handling and refuse a token without a usable "
                "kid with a 401 (Cognito always sets one); never let the missing member reach the 500 handler.",
    needs=["protected"],
    control_plane=False,
)
def missing_kid(ctx: ScenarioContext) -> None:
    """Anyone can strip the kid from a real token (the signature no longer matches): a 5xx is a one-request
    denial of service, a 2xx a bypass."""
    _, _, token = _signed_in(ctx)
    header, claims, signature = _segments(token)
    for what, bent in (("no kid", {k: v for k, v in header.items() if k != "kid"}),
                       ("kid null", dict(header, kid=None))):
        _refuse_any(ctx, _compact(bent, claims, signature), f"{what} (the pool's signature left as it was)")
    ctx.accepted_control(token, "persistence check: the valid token still works")


@scenario(
    id="TV-KID-INJECTION",
    family=FAMILY,
    title="kid path traversal and injection (../../dev/null, SQL, empty) with empty/guessed HMAC keys are refused",
    requirements=["RFC 8725 §3.10", "OWASP ASVS 5.0 V9.1.3", "PortSwigger JWT lab 6 (kid path traversal)",
                  "jwt_tool playbook kid checks"],
    remediation="Treat kid as an opaque lookup key into the pool's JWKS only; never as a file path, a query "
                "or a command, and never let it choose an HMAC secret.",
    needs=["protected"],
    control_plane=False,
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


@contextmanager
def _planted_key_file(ctx: ScenarioContext) -> Iterator[tuple[Path, str]]:
    """A key file only the harness wrote (a temp dir with a random name), removed afterwards: (path, content)."""
    secret = hashlib.sha256(f"cognito-harness kid file {ctx.seed}".encode()).hexdigest()
    with tempfile.TemporaryDirectory(prefix="cognito-harness-kid-") as folder:
        path = Path(folder) / "key"
        path.write_text(secret, encoding="ascii")
        os.chmod(folder, 0o755)  # readable by a launched app whatever its user
        os.chmod(path, 0o644)
        ctx.note("planted key file (removed after the check)", path=str(path), length=len(secret))
        yield path, secret


@scenario(
    id="TV-KID-FILE",
    family=FAMILY,
    title="A kid naming a readable file (planted by the harness, by relative and absolute path), HS256-signed "
          "with its content, is refused",
    requirements=["RFC 8725 §3.10", "OWASP ASVS 5.0 V9.1.3", "PortSwigger JWT lab 6 (kid path traversal)",
                  "CWE-22", "jwt_tool playbook kid checks"],
    remediation="Never read a key from a path, query or command built from the kid; look it up in the pool's "
                "JWKS only, and pin the algorithm to RS256.",
    needs=["protected"],
    control_plane=False,
)
def kid_names_file(ctx: ScenarioContext) -> None:
    """The /dev/null probe of TV-KID-INJECTION misses apps whose library refuses an empty HMAC key (PyJWT
    does); a file of known content does not. Only a launched app shares the harness's file system."""
    if ctx.spec.target.mode != "command":
        ctx.skip(f"the harness can plant a key file only where an app it launches can read it; this target "
                 f"runs from its {ctx.spec.target.mode.replace('_', ' ')}")
    user, _, token = _signed_in(ctx)
    with _planted_key_file(ctx) as (path, secret):
        for how, kid in (("relative path", CLIMB_TO_ROOT + str(path).lstrip("/")), ("absolute path", str(path))):
            forged = ctx.mint(user, sign_with=f"hs256:{secret}", header={"kid": kid},
                              title=f"HS256 {_kind(ctx)} keyed with the planted file, kid = its {how}")
            _refuse(ctx, forged, f"kid = the planted file's {how}, HS256 keyed with its content")
    ctx.accepted_control(token, "persistence check: the valid token still works")


# --- key material named by the token ------------------------------------------------------------


@scenario(
    id="TV-HDR-JWK",
    family=FAMILY,
    title="A token carrying its own key in a jwk header (self-signed) is refused",
    requirements=["RFC 8725 §3.10", "OWASP ASVS 5.0 V9.1.3", "CVE-2018-0114", "PortSwigger JWT lab 4"],
    remediation="Ignore jwk headers; verify only with keys from the pool's JWKS.",
    needs=["protected"],
    control_plane=False,
)
def jwk_header(ctx: ScenarioContext) -> None:
    user, _, token = _signed_in(ctx)
    kid = _pool_kid(token)
    forged = ctx.mint(user, sign_with="foreign", header={"jwk": ctx.foreign_jwk(kid)},
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
    control_plane=False,
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
    control_plane=False,
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


def _until_new_kid_accepted(ctx: ScenarioContext, token: str, statuses: list[int]) -> Window:
    """Re-probe a token signed by the pool's new key until the app accepts it, up to its declared cooldown.

    Libraries wait a cooldown after a JWKS fetch before the next (PyJWKClient and jose 30 s), so the new
    kid may be refused for a while after a cold start; that is measured, never assumed.
    """

    def probe() -> tuple[bool, str]:
        response = ctx.call("protected", token=token, title="token signed by the new key")
        statuses.append(response.status)
        return response.allowed, response.summary()

    bound = ctx.spec.limits.jwks_refetch_cooldown_seconds + COOLDOWN_MARGIN_SECONDS
    return ctx.measure_window("the new kid is refused (the app's JWKS refetch cooldown)", probe, bound)


@scenario(
    id="TV-ROTATION-NEW-KID",
    family=FAMILY,
    title="After the pool rotates its keys, a token with the new kid is accepted after a JWKS refetch, within "
          "[limits] jwks_refetch_cooldown_seconds (default 30: PyJWKClient's and jose's cooldown)",
    requirements=["OIDF oidcc-client-test-signing-key-rotation", "OIDF rp-key-rotation-op-sign-key",
                  "aws-jwt-verify JWKS cache (refetch on unknown kid)", "RFC 7517 §5",
                  "PyJWKClient / jose createRemoteJWKSet refetch cooldown (30 s)"],
    remediation="Cache the JWKS by kid and refetch it when a token names a kid the cache lacks (rate-limited, "
                "with a cooldown of seconds); never pin the keys fetched at startup.",
    needs=["protected"],
    control_plane="key rotation",
    cold_app=True,
)
def rotation_new_kid(ctx: ScenarioContext) -> None:
    """The app may refuse the new kid for a while (a library waits a cooldown after its last JWKS fetch
    before refetching): the check re-probes in real time up to the declared cooldown plus a margin and
    reports the window it measured; it FAILs only if the token is still refused at that bound, or on a 5xx."""
    use = ctx.spec.auth.token
    user, _, old = _signed_in(ctx)
    rotated = ctx.control.rotate_keys(ctx.pool.pool_id, uses=[use])
    ctx.note("pool keys rotated", uses=[use], retired=rotated["retired"], new=[k["kid"] for k in rotated["new"]])
    mark = ctx.mark()
    fresh = ctx.presented_token(ctx.sign_in(user))
    ctx.expect(_pool_kid(fresh) != _pool_kid(old), "the pool did not sign with a new key after rotation")
    statuses: list[int] = []
    window = _until_new_kid_accepted(ctx, fresh, statuses)
    cooldown = ctx.spec.limits.jwks_refetch_cooldown_seconds
    measured = window.describe(opened="refused", closed="accepted")
    crashes = [status for status in statuses if status >= 500]
    ctx.expect(not crashes, "the app answered a token signed by the pool's new key with a 5xx",
               expected="a refusal (3xx/4xx) while the app waits to refetch, then acceptance",
               actual=f"HTTP {'/'.join(map(str, statuses))} over the probes; new kid {measured}")
    ctx.expect(window.closed, "a token signed by the pool's new key was never accepted: the app did not refetch "
               "the JWKS within its declared cooldown",
               expected=f"accepted within [limits] jwks_refetch_cooldown_seconds = {cooldown:g} s "
                        f"(+{COOLDOWN_MARGIN_SECONDS:g} s margin)",
               actual=f"new kid {measured}")
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
    control_plane="key rotation",
    cold_app=True,
)
def rotation_retired(ctx: ScenarioContext) -> None:
    use = ctx.spec.auth.token
    user, _, old = _signed_in(ctx)
    old_kid = _pool_kid(old)
    rotated = ctx.control.rotate_keys(ctx.pool.pool_id, uses=[use], unpublish_old=True)
    ctx.note("pool keys rotated, old keys unpublished", retired=rotated["retired"],
             new=[k["kid"] for k in rotated["new"]])
    try:
        fresh = ctx.presented_token(ctx.sign_in(user))
        # the app must have learnt the new JWKS (and with it that the old key is gone) before the retired key
        # means anything: wait out its refetch cooldown the way TV-ROTATION-NEW-KID measures it
        window = _until_new_kid_accepted(ctx, fresh, [])
        if not window.closed:
            ctx.skip(f"the app never accepted the pool's new key ({window.describe('refused', 'accepted')}), so it "
                     "has not refetched the JWKS and cannot have dropped the retired key yet; see TV-ROTATION-NEW-KID")
        retired = ctx.mint(user, sign_with=f"retired:{old_kid}", title=f"token signed by the retired key {old_kid}")
        _refuse(ctx, retired, f"a signature by the retired, unpublished key {old_kid}")
    finally:
        # the next check's pool publishes the old key again, which a real pool never does: an app that
        # (rightly) dropped it may be in its refetch penalty window, so it starts afresh
        ctx.restart_target_before_next_check("the pool's keys go back to the run's keys after this check")


@scenario(
    id="TV-JWKS-FLOOD",
    family=FAMILY,
    title=f"A flood of {FLOOD_SIZE} unknown kids makes the app fetch the JWKS at most [limits] max_jwks_fetches "
          f"times (default 5: jwks-rsa's 5 a minute, aws-jwt-verify's one per 10 s penalty)",
    severity="SHOULD",  # availability (amplification against the JWKS endpoint), not token acceptance
    requirements=["aws-jwt-verify penalty box (rate-limited refetch)", "jwks-rsa rateLimit jwksRequestsPerMinute",
                  "rp-test-catalog §6 A.4", "OWASP ASVS 5.0 V9.1.3"],
    remediation="Rate-limit JWKS refetches: after a refetch that still lacks the kid, refuse unknown kids without "
                "refetching for a penalty window (aws-jwt-verify waits 10 s).",
    needs=["protected"],
    control_plane="the event log (JWKS fetches)",
)
def jwks_flood(ctx: ScenarioContext) -> None:
    """The unknown kids go back to back. The bound is [limits] max_jwks_fetches, default 5, so documented rate
    limits pass: jwks-rsa (passport-jwt, express-jwt quick-starts: jwksRequestsPerMinute 5) fetches at most 5
    in the first minute, aws-jwt-verify one per 10 s penalty box, jose and PyJWKClient one per 30 s
    cooldown; an app that refetches for every unknown kid fetches 20 times."""
    user, _, token = _signed_in(ctx)
    mark = ctx.mark()
    started = time.monotonic()
    for i in range(FLOOD_SIZE):
        kid = f"flood-{i:02d}-{ctx.seed % 10**6:06d}"
        forged = ctx.mint(user, sign_with="foreign", header={"kid": kid}, title=f"unknown kid {kid}")
        ctx.expect_denied(ctx.call("protected", token=forged, title=f"flood {i + 1}/{FLOOD_SIZE}"),
                          f"a token with the unknown kid {kid!r} must be refused")
    seconds = time.monotonic() - started
    fetches = _jwks_fetches(ctx, mark)
    limit = ctx.spec.limits.max_jwks_fetches
    ctx.note(f"flood: {FLOOD_SIZE} unknown kids in {seconds:.1f} s caused {fetches} JWKS fetch(es)",
             requests=FLOOD_SIZE, seconds=round(seconds, 2), fetches=fetches, limit=limit)
    ctx.expect(fetches <= limit, f"{FLOOD_SIZE} unknown kids made the app fetch the JWKS {fetches} times",
               expected=f"at most {limit} JWKS fetches ([limits] max_jwks_fetches)",
               actual=f"{fetches} fetches in {seconds:.1f} s")
    ctx.accepted_control(token, "persistence check: the valid token still works")

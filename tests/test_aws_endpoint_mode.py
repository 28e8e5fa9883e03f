"""AWS endpoint mode: the pool at the real AWS host names, over TLS, on loopback only.

Unit tests drive the real pieces (CA + the standard ssl module, the TLS front with SNI, the
intercepting proxy, boto3, Node) on loopback; the end-to-end tests run the harness against
cognito-express, a library that hard-codes https://cognito-idp.<region>.amazonaws.com, installed
from npm by tests/libapps.py (an unreachable registry FAILS with the reason, as for the other
library apps: a silent skip would hide that the proof did not run).
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import certifi
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives.asymmetric import ec

from harness.awsendpoint.ca import RunCA
from harness.awsendpoint.front import TLSFront, Upstream
from harness.awsendpoint.mode import AwsEndpointError, AwsEndpointMode
from harness.awsendpoint import mode as mode_module
from harness.awsendpoint.namespace import HostsIsolation, probe
from harness.awsendpoint.proxy import InterceptingProxy
from harness.pooldef import load_pool
from harness.runner.backends import BackendError, PoolPlan, make_backend
from harness.runner.engine import RunOptions, run
from harness.runner.spec import SpecError, load_spec, parse_spec
from harness.server import Emulator
from tests.libapps import LibAppError, prepared_spec

IDP = "cognito-idp.us-east-1.amazonaws.com"
IDP_EU = "cognito-idp.eu-west-1.amazonaws.com"


# --- helpers ----------------------------------------------------------------------------------


class _NamedUpstream:
    """A plain-HTTP loopback server answering with its own name (which upstream got the request)."""

    def __init__(self, name: str) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                body = json.dumps({"upstream": name, "path": self.path}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _tls_get(address: tuple[str, int], sni: str, cafile: Path, host_header: str | None = None) -> tuple[int, bytes, dict]:
    ctx = ssl.create_default_context(cafile=str(cafile))
    with socket.create_connection(address, timeout=5) as raw, ctx.wrap_socket(raw, server_hostname=sni) as tls:
        cert = tls.getpeercert()
        tls.sendall(f"GET /probe HTTP/1.1\r\nHost: {host_header or sni}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body, cert


def _proxy_raw(proxy: InterceptingProxy, request: bytes) -> bytes:
    """The proxy's answer to one request (the connection is kept alive, so we say we are done)."""
    host, port = proxy.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(request)
        s.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data


@pytest.fixture()
def emulator_pool() -> Iterator[tuple[Emulator, Any]]:
    emu = Emulator.start(seed=3)
    try:
        yield emu, load_pool(emu.backend, None, issuer="aws")
    finally:
        emu.stop()


@pytest.fixture()
def mode(emulator_pool: tuple[Emulator, Any]) -> Iterator[AwsEndpointMode]:
    emu, _ = emulator_pool
    m = AwsEndpointMode("us-east-1", emu.url).start()
    try:
        yield m
    finally:
        m.stop()


# --- the CA -----------------------------------------------------------------------------------


def _handshake(server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext, hostname: str) -> dict:
    """A TLS handshake over a socket pair; the verified peer certificate, or the client's SSL error."""
    a, b = socket.socketpair()
    server = threading.Thread(target=_quiet_handshake, args=(server_ctx, a), daemon=True)
    server.start()
    try:
        with client_ctx.wrap_socket(b, server_hostname=hostname) as tls:
            return tls.getpeercert()
    finally:
        b.close()
        server.join(5)


def _quiet_handshake(ctx: ssl.SSLContext, sock: socket.socket) -> None:
    try:
        ctx.wrap_socket(sock, server_side=True).close()
    except (ssl.SSLError, OSError):
        sock.close()


def _server_context(chain: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(chain, key)
    return ctx


def test_run_ca_leaf_verifies_with_the_standard_ssl_module(tmp_path: Path) -> None:
    ca = RunCA(tmp_path)
    leaf = ca.issue([IDP])
    server = _server_context(leaf.chain_path, leaf.key_path)
    trusting = ssl.create_default_context(cafile=str(ca.cert_path))
    cert = _handshake(server, trusting, IDP)
    assert ("DNS", IDP) in cert["subjectAltName"]
    with pytest.raises(ssl.SSLCertVerificationError, match="match"):  # not good for another name
        _handshake(server, trusting, IDP_EU)
    with pytest.raises(ssl.SSLCertVerificationError):  # a client with the public CAs only refuses it
        _handshake(server, ssl.create_default_context(cafile=certifi.where()), IDP)
    bundle = ca.bundle()  # what SSL_CERT_FILE / REQUESTS_CA_BUNDLE / AWS_CA_BUNDLE get: public CAs + the run CA
    assert bundle.read_bytes().endswith(ca.cert_path.read_bytes())
    assert ("DNS", IDP) in _handshake(server, ssl.create_default_context(cafile=str(bundle)), IDP)["subjectAltName"]
    assert oct(leaf.key_path.stat().st_mode & 0o777) == "0o600"
    assert not any(p.name.startswith("ca") and p.suffix == ".key" for p in tmp_path.iterdir())  # CA key in memory only


def test_run_ca_cannot_vouch_for_other_domains(tmp_path: Path) -> None:
    """Name-constrained to amazonaws.com: even a leaf it signed for another domain fails verification."""
    ca = RunCA(tmp_path)
    with pytest.raises(ValueError, match="only signs names under amazonaws.com"):
        ca.issue(["example.com"])
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    forged = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example.com")]))
              .issuer_name(ca.certificate.subject).public_key(key.public_key())
              .serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(hours=1))
              .add_extension(x509.SubjectAlternativeName([x509.DNSName("example.com")]), critical=False)
              .sign(ca._key, hashes.SHA256()))
    (tmp_path / "forged.pem").write_bytes(forged.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "forged.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                            serialization.NoEncryption()))
    server = _server_context(tmp_path / "forged.pem", tmp_path / "forged.key")
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(server, ssl.create_default_context(cafile=str(ca.cert_path)), "example.com")


# --- the TLS front ----------------------------------------------------------------------------


def test_front_routes_by_sni_and_refuses_other_names(tmp_path: Path) -> None:
    ca = RunCA(tmp_path)
    us, eu = _NamedUpstream("us"), _NamedUpstream("eu")
    front = TLSFront(ca, [Upstream(IDP, us.url), Upstream(IDP_EU, eu.url)]).start()
    try:
        status, body, cert = _tls_get(front.address, IDP_EU, ca.cert_path)
        assert (status, json.loads(body)["upstream"]) == (200, "eu") and ("DNS", IDP_EU) in cert["subjectAltName"]
        status, body, cert = _tls_get(front.address, IDP, ca.cert_path)
        assert (status, json.loads(body)["upstream"]) == (200, "us") and ("DNS", IDP) in cert["subjectAltName"]
        with pytest.raises(ssl.SSLError):
            _tls_get(front.address, "s3.amazonaws.com", ca.cert_path)
        assert front.log.refused == ["s3.amazonaws.com"]
        status, body, _ = _tls_get(front.address, IDP, ca.cert_path, host_header=IDP_EU)  # TLS name != Host
        assert status == 421 and b"not served on this connection" in body
        assert front.log.admitted == {IDP_EU: 1, IDP: 1}
    finally:
        front.stop()
        us.close()
        eu.close()


def test_front_and_proxy_bind_loopback_only(tmp_path: Path) -> None:
    ca = RunCA(tmp_path)
    with pytest.raises(ValueError, match="loopback only"):
        TLSFront(ca, [Upstream(IDP, "http://127.0.0.1:9")], ("0.0.0.0", 0))
    with pytest.raises(ValueError, match="loopback only"):
        InterceptingProxy({IDP: ("127.0.0.1", 443)}, {}, ("0.0.0.0", 0))
    with pytest.raises(ValueError, match="loopback only"):
        InterceptingProxy({IDP: ("10.0.0.1", 443)}, {})


# --- the proxy and the whole mode -------------------------------------------------------------


def test_proxy_refuses_every_other_host_with_a_403_naming_it(mode: AwsEndpointMode) -> None:
    assert mode.proxy is not None
    for request, named in [
        (b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", b"example.com:443"),
        (f"CONNECT {IDP}:80 HTTP/1.0\r\n\r\n".encode(), f"{IDP}:80".encode()),  # right host, wrong port
        (b"CONNECT s3.us-east-1.amazonaws.com:443 HTTP/1.1\r\n"
         b"Host: s3.us-east-1.amazonaws.com:443\r\n\r\n", b"s3.us-east-1"),
        (b"GET http://example.org/x HTTP/1.1\r\nHost: example.org\r\n\r\n", b"example.org"),
        (f"GET http://{IDP}/ HTTP/1.1\r\nHost: {IDP}\r\n\r\n".encode(), b"http://" + IDP.encode()),  # plain HTTP
    ]:
        answer = _proxy_raw(mode.proxy, request)
        assert answer.startswith(b"HTTP/1.1 403 "), answer
        assert named in answer and b"nothing leaves this machine" in answer
    assert mode.proxy.log.refused == ["example.com:443", f"{IDP}:80", "s3.us-east-1.amazonaws.com:443",
                                      "example.org", IDP]
    assert mode.proxy.log.admitted == {}
    # and through a real client: the refusal surfaces as a proxy error, not a connection elsewhere
    with pytest.raises(requests.exceptions.ProxyError, match="403"):
        requests.get("https://example.com/", proxies={"https": mode.proxy.url}, timeout=5)


def test_requests_reach_the_pool_through_the_proxy(mode: AwsEndpointMode, emulator_pool: tuple[Emulator, Any]) -> None:
    _, pool = emulator_pool
    env = mode.app_env(pool.pool_id)
    assert env["COGNITO_JWKS_URL"] == f"https://{IDP}/{pool.pool_id}/.well-known/jwks.json"
    assert env["COGNITO_ISSUER"] == pool.issuer == f"https://{IDP}/{pool.pool_id}"
    assert env["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"] == f"https://{IDP}"
    assert env["NO_PROXY"] == env["no_proxy"] == "127.0.0.1,localhost,::1"
    session = requests.Session()
    session.trust_env = False
    proxies = {"https": env["HTTPS_PROXY"]}
    jwks = session.get(env["COGNITO_JWKS_URL"], proxies=proxies, verify=env["REQUESTS_CA_BUNDLE"], timeout=5)
    assert jwks.status_code == 200 and jwks.json()["keys"]
    discovery = session.get(f"{env['COGNITO_ISSUER']}/.well-known/openid-configuration", proxies=proxies,
                            verify=env["REQUESTS_CA_BUNDLE"], timeout=5).json()
    assert discovery["issuer"] == env["COGNITO_ISSUER"] and discovery["jwks_uri"] == env["COGNITO_JWKS_URL"]
    # an absolute-form request (what some clients send an HTTP proxy for an https URL) is answered too
    answer = _proxy_raw(mode.proxy, f"GET {env['COGNITO_JWKS_URL']} HTTP/1.1\r\nHost: {IDP}\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 200") and b'"keys"' in answer


def test_botocore_reaches_the_cognito_idp_api_through_the_mode(mode: AwsEndpointMode,
                                                                emulator_pool: tuple[Emulator, Any]) -> None:
    """An unchanged boto3 app: default endpoint (the real host), AWS_CA_BUNDLE and HTTPS_PROXY from the env."""
    _, pool = emulator_pool
    env = {**os.environ, **mode.app_env(pool.pool_id), "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    env.pop("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER")  # botocore's own endpoint: https://cognito-idp...
    code = ("import boto3; c = boto3.client('cognito-idp'); print(c.meta.endpoint_url); "
            f"print(c.describe_user_pool(UserPoolId='{pool.pool_id}')['UserPool']['Id'])")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [f"https://{IDP}", pool.pool_id]
    assert mode.front is not None and mode.front.log.admitted.get(IDP, 0) >= 1


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH")
def test_node_https_that_ignores_proxies_reaches_the_pool_through_the_private_hosts_file(
        mode: AwsEndpointMode, emulator_pool: tuple[Emulator, Any]) -> None:
    if not mode.isolation.available:
        pytest.skip(f"a private /etc/hosts is not possible here: {mode.isolation.reason}")
    _, pool = emulator_pool
    env = {**os.environ, **mode.app_env(pool.pool_id)}
    script = ("require('https').get(process.env.COGNITO_JWKS_URL, r => { let b = ''; r.on('data', c => b += c); "
              "r.on('end', () => console.log(r.statusCode, JSON.parse(b).keys.length)); })"
              ".on('error', e => { console.error(e.message); process.exit(3); });")
    done = subprocess.run([*mode.command_prefix(), "node", "-e", script], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "200"
    assert mode.proxy is not None and mode.proxy.log.admitted == {}  # Node's https ignores HTTPS_PROXY
    assert mode.front is not None and mode.front.address[1] == 443 and mode.front.address[0] != "127.0.0.1"
    assert Path("/etc/hosts").read_text().count(IDP) == 0  # only the app's view changed


def test_without_a_private_hosts_file_the_mode_falls_back_to_the_proxy_and_says_so(
        emulator_pool: tuple[Emulator, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    emu, pool = emulator_pool
    monkeypatch.setattr(mode_module, "probe", lambda: HostsIsolation(False, "no CAP_SYS_ADMIN (simulated)"))
    with pytest.raises(AwsEndpointError, match="no CAP_SYS_ADMIN"):
        AwsEndpointMode("us-east-1", emu.url, hosts_file="required").start()
    for hosts_file, reason in (("auto", "no CAP_SYS_ADMIN (simulated)"), ("off", "turned off")):
        m = AwsEndpointMode("us-east-1", emu.url, hosts_file=hosts_file).start()
        try:
            assert m.command_prefix() == [] and m.front is not None and m.front.address[0] == "127.0.0.1"
            note = m.evidence()[0].data
            assert note["private_hosts_file"] is False and "HTTPS_PROXY only" in note["routing"]
            assert reason in note["routing"]
        finally:
            m.stop()
        assert m.directory is not None and not m.directory.exists()  # the CA and keys are gone


# --- spec, backend and errors -----------------------------------------------------------------


@pytest.mark.parametrize("target", [{"base_url": "http://127.0.0.1:8000"}, {"image": "acme/app:1"}])
def test_the_mode_needs_a_target_the_harness_launches(target: dict[str, str]) -> None:
    with pytest.raises(SpecError) as info:
        parse_spec({"target": {"name": "x", **target}, "aws": {"endpoints": True}}, "app.toml")
    assert "app.toml: [aws].endpoints" in str(info.value) and "[target].command" in str(info.value)


def test_aws_section_is_parsed_strictly() -> None:
    spec = parse_spec({"target": {"name": "x", "command": ["app"]}, "aws": {"endpoints": True}}, "app.toml")
    assert (spec.aws.endpoints, spec.aws.hosts_file) == (True, "auto")
    assert parse_spec({"target": {"name": "x", "command": ["app"]}}, "app.toml").aws.endpoints is False
    with pytest.raises(SpecError, match=r"\[aws\].hosts_file: expected one of 'auto', 'off', 'required'"):
        parse_spec({"target": {"name": "x", "command": ["app"]}, "aws": {"hosts_file": "yes"}}, "app.toml")
    with pytest.raises(SpecError, match=r"\[aws\].endpoint: expected one of the known keys"):
        parse_spec({"target": {"name": "x", "command": ["app"]}, "aws": {"endpoint": True}}, "app.toml")


def test_the_mode_on_a_remote_backend_is_a_clear_error() -> None:
    spec = parse_spec({"target": {"name": "x", "command": ["app"]}, "aws": {"endpoints": True}}, "app.toml")
    with pytest.raises(BackendError, match=r"\[aws\].endpoints.*--backend http://127.0.0.1:5000"):
        make_backend("http://127.0.0.1:5000", PoolPlan.for_spec(spec), 0)


def test_the_emulator_pool_gets_the_aws_issuer_in_this_mode() -> None:
    spec = parse_spec({"target": {"name": "x", "command": ["app"]}, "aws": {"endpoints": True}}, "app.toml")
    backend = make_backend("emulator", PoolPlan.for_spec(spec), 0)
    backend.start()
    try:
        coords = backend.prepare(0)
        assert coords.issuer == f"https://{IDP}/{coords.pool_id}"
    finally:
        backend.stop()


# --- end to end: a library that hard-codes the AWS URLs ---------------------------------------

E2E_CHECKS = ["TV-ACCESS-VALID", "TV-SIG-TAMPERED", "TV-ALG-NONE", "TV-SIG-FOREIGN-KEY", "TV-ISS-WRONG",
              "TV-CLIENT-OTHER"]


@pytest.fixture(scope="module")
def cognito_express_spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        return prepared_spec("cognito-express", tmp_path_factory.mktemp("cognito-express"))
    except LibAppError as exc:
        pytest.fail(f"cognito-express could not be installed from npm (the end-to-end proof of the AWS endpoint "
                    f"mode needs it): {exc}")


def _verdicts(spec_path: Path, ids: list[str]) -> tuple[dict[str, str], dict[str, Any], str]:
    result = run(load_spec(spec_path), RunOptions(seed=5, ids=ids))
    verdicts = {r.check_id: r.verdict.value for r in result.results}
    notes = [e.data for e in result.target_logs if e.title == "AWS endpoint mode"]
    log = "\n".join(line for e in result.target_logs for line in e.data.get("lines", []))
    reasons = "\n".join(f"{r.check_id}: {r.reason}" for r in result.results)
    assert len(notes) == 1, f"the run's evidence must say how the app was routed\n{reasons}\n{log}"
    return verdicts, notes[0], f"{reasons}\n{log[-3000:]}"


def test_cognito_express_is_tested_unchanged_through_the_mode(cognito_express_spec: Path) -> None:
    verdicts, note, detail = _verdicts(cognito_express_spec, E2E_CHECKS)
    # valid tokens are accepted: the app fetched the pool's JWKS from the AWS URL it builds itself
    assert verdicts["TV-ACCESS-VALID"] == "PASS", detail
    # forgeries are refused: the verdicts are real, not an app that refuses everything
    for check in ("TV-SIG-TAMPERED", "TV-ALG-NONE", "TV-SIG-FOREIGN-KEY", "TV-ISS-WRONG"):
        assert verdicts[check] == "PASS", f"{check}\n{detail}"
    # and a real weakness of the library is found: it never checks the token's client
    assert verdicts["TV-CLIENT-OTHER"] == "FAIL", detail
    assert note["tunnels"].get(IDP, 0) >= 1, note  # axios honours HTTPS_PROXY: its JWKS fetch was tunnelled
    assert note["served_by_front"].get(IDP, 0) >= 1, note
    assert note["refused_by_proxy"] == [] and note["refused_tls_names"] == [], note


def test_cognito_express_ignoring_the_proxy_is_reached_through_the_private_hosts_file(
        cognito_express_spec: Path, tmp_path: Path) -> None:
    isolation = probe()
    if not isolation.available:
        pytest.skip(f"a private /etc/hosts is not possible here: {isolation.reason}")
    no_proxy = tmp_path / "no-proxy.toml"
    no_proxy.write_text(f'extends = "{cognito_express_spec}"\n[aws]\nhosts_file = "required"\n'
                        '[target]\nenv = { HTTPS_PROXY = "", https_proxy = "", HTTP_PROXY = "", http_proxy = "" }\n')
    verdicts, note, detail = _verdicts(no_proxy, ["TV-ACCESS-VALID", "TV-SIG-TAMPERED"])
    assert verdicts == {"TV-ACCESS-VALID": "PASS", "TV-SIG-TAMPERED": "PASS"}, detail
    assert note["tunnels"] == {} and note["served_by_front"].get(IDP, 0) >= 1, note
    assert note["private_hosts_file"] is True and note["tls_front"].endswith(":443"), note

"""``serve --tls``: https with a leaf from the machine CA, which is kept, shared and good for loopback only.

One ``cognito-harness serve --tls`` subprocess (module-scoped) on a free port with its own cache
folder; real boto3, requests, ssl and cryptography's X.509 verifier, and aws-jwt-verify under Node
with nothing but NODE_EXTRA_CA_CERTS (the library app's installed package, tests/libapps.py).
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import queue
import re
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import botocore.exceptions
import certifi
import jwt
import pytest
import requests
from botocore.config import Config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

import harness
from harness.cli import main as cli_main
from harness.server import Emulator
from harness.web.certificates import new_key, pem, private_pem, server_context
from harness.web.machine_ca import MachineCA, MachineCAError, default_directory
from tests.auth_support import add_fake_google
from tests.libapps import install, library_app
from tests.serve_support import cli_command, serve_environment

CA_VARIABLES = ("COGNITO_HARNESS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE",
                "SSL_CERT_FILE")
TRUST_VARIABLES = (*CA_VARIABLES, "CURL_CA_BUNDLE", "SSL_CERT_DIR", "NIX_SSL_CERT_FILE")
CALLBACK = "http://localhost:3000/callback"  # the default pool's web client
PASSWORD = "Tls-Passw0rd!"


class ServedTLS:
    """A running ``cognito-harness serve --tls`` and its exports (read once its last note is on stderr)."""

    def __init__(self, cache: Path, *args: str) -> None:
        self.proc = subprocess.Popen([*cli_command(), "serve", "--tls", "--port", "0", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=serve_environment({"COGNITO_HARNESS_CACHE": str(cache)}, without=TRUST_VARIABLES))
        self.notes: queue.Queue[str | None] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()
        self.tls_note = self._wait_for("# TLS:")
        assert self.proc.stdout is not None
        # the exports were flushed before the notes: all of them are in the pipe now
        words = [shlex.split(line) for line in self._read_available().splitlines() if line.startswith("export ")]
        self.env = dict(word[1].split("=", 1) for word in words)
        self.ca_path = Path(self.env["COGNITO_HARNESS_CA_BUNDLE"])

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = raw.decode()
            self.stderr.append(line)
            self.notes.put(line)
        self.notes.put(None)

    def _wait_for(self, prefix: str) -> str:
        while True:
            try:
                line = self.notes.get(timeout=60)
            except queue.Empty:
                self.stop()
                pytest.fail(f"serve --tls printed no {prefix!r} note in 60 s: {''.join(self.stderr)}")
            if line is None:
                pytest.fail(f"serve --tls exited {self.proc.wait()} early: {''.join(self.stderr)}")
            if line.startswith(prefix):
                return line

    def _read_available(self) -> str:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        os.set_blocking(fd, False)
        data = b""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                return data.decode()
            if not chunk:
                return data.decode()
            data += chunk

    @property
    def port(self) -> int:
        return int(urlsplit(self.env["COGNITO_ENDPOINT"]).port or 0)

    def idp(self, verify: str | bool) -> Any:
        return boto3.client("cognito-idp", endpoint_url=self.env["COGNITO_ENDPOINT"], region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing", verify=verify,
                            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("harness-cache")


@pytest.fixture(scope="module")
def served(cache: Path) -> Iterator[ServedTLS]:
    server = ServedTLS(cache, "--seed", "13")
    try:
        yield server
    finally:
        server.stop()
    assert server.proc.returncode == 0, "".join(server.stderr)


@pytest.fixture(scope="module")
def tokens(served: ServedTLS) -> dict[str, str]:
    """A user signed up, confirmed and signed in with boto3 over https, trusting exactly the machine CA."""
    idp = served.idp(verify=str(served.ca_path))
    client_id, pool_id = served.env["COGNITO_CLIENT_ID"], served.env["COGNITO_USER_POOL_ID"]
    idp.sign_up(ClientId=client_id, Username="tess", Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": "tess@example.com"}])
    idp.admin_confirm_sign_up(UserPoolId=pool_id, Username="tess")
    result = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "tess", "PASSWORD": PASSWORD})["AuthenticationResult"]
    return {"id": result["IdToken"], "access": result["AccessToken"]}


def _server_leaf(port: int, ca_path: Path, name: str = "127.0.0.1") -> x509.Certificate:
    """The certificate the server presents, after ssl verified it for ``name`` against the CA."""
    context = ssl.create_default_context(cafile=str(ca_path))
    with context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname=name) as sock:
        der = sock.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def _handshake(chain: bytes, key: bytes, ca_path: Path, name: str) -> None:
    """A TLS handshake in memory between a server presenting ``chain`` and a client trusting the CA (OpenSSL)."""
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    server = server_context(chain, key).wrap_bio(to_server, to_client, server_side=True)
    client = ssl.create_default_context(cafile=str(ca_path)).wrap_bio(to_client, to_server, server_hostname=name)
    for _ in range(10):
        for side in (client, server):
            try:
                side.do_handshake()
            except ssl.SSLWantReadError:
                pass
        if client.version() is not None and server.version() is not None:
            return
    raise AssertionError("the in-memory handshake did not finish")


def _ca(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


# --- the exports and the https faces --------------------------------------------------------------------


def test_exports_carry_https_urls_and_the_machine_ca(served: ServedTLS, cache: Path) -> None:
    env = served.env
    ca_dir = cache / "ca"
    assert served.ca_path == ca_dir / "ca.pem" == default_directory({"COGNITO_HARNESS_CACHE": str(cache)}) / "ca.pem"
    assert env["NODE_EXTRA_CA_CERTS"] == str(served.ca_path)  # Node adds it to its own roots
    bundle = Path(env["AWS_CA_BUNDLE"])  # these three replace a client's store: public CAs + the machine CA
    assert env["REQUESTS_CA_BUNDLE"] == env["SSL_CERT_FILE"] == str(bundle)
    assert bundle.read_bytes().startswith(Path(certifi.where()).read_bytes()[:2000])
    assert bundle.read_bytes().endswith(served.ca_path.read_bytes())
    for name in ("COGNITO_ENDPOINT", "COGNITO_ISSUER", "COGNITO_JWKS_URL", "COGNITO_DOMAIN",
                 "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"):
        assert env[name].startswith(f"https://127.0.0.1:{served.port}"), (name, env[name])
    assert oct((ca_dir / "ca.key").stat().st_mode & 0o777) == "0o600"
    assert not [p.name for p in ca_dir.iterdir() if p.name.startswith(".ca")]  # no temporary file left behind
    assert _ca(served.ca_path).fingerprint(hashes.SHA256()).hex() in served.tls_note


def test_boto3_signs_up_and_signs_in_over_https(served: ServedTLS, tokens: dict[str, str]) -> None:
    idp = served.idp(verify=str(served.ca_path))
    user = idp.get_user(AccessToken=tokens["access"])
    assert user["Username"] == "tess"
    assert {"Name": "email", "Value": "tess@example.com"} in user["UserAttributes"]


def test_jwks_and_discovery_over_https(served: ServedTLS) -> None:
    env, ca = served.env, str(served.ca_path)
    keys = requests.get(env["COGNITO_JWKS_URL"], verify=ca, timeout=10).json()["keys"]
    assert keys and all(k["kty"] == "RSA" for k in keys)
    discovery = requests.get(f"{env['COGNITO_ISSUER']}/.well-known/openid-configuration", verify=ca, timeout=10).json()
    assert discovery["issuer"] == env["COGNITO_ISSUER"] and discovery["jwks_uri"] == env["COGNITO_JWKS_URL"]
    assert discovery["authorization_endpoint"].startswith(f"https://127.0.0.1:{served.port}/")
    by_name = env["COGNITO_JWKS_URL"].replace("127.0.0.1", "localhost")  # the leaf names localhost too
    assert requests.get(by_name, verify=ca, timeout=10).json()["keys"] == keys


def test_a_client_without_the_ca_refuses_the_certificate(served: ServedTLS) -> None:
    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        requests.get(served.env["COGNITO_JWKS_URL"], verify=certifi.where(), timeout=10)
    with pytest.raises(botocore.exceptions.SSLError):
        served.idp(verify=certifi.where()).list_user_pools(MaxResults=1)
    with pytest.raises(requests.exceptions.ConnectionError):  # TLS only: plain HTTP on the port gets no answer
        requests.get(f"http://127.0.0.1:{served.port}/", timeout=10)


def test_hosted_ui_login_and_token_exchange_over_https(served: ServedTLS) -> None:
    env, session = served.env, requests.Session()
    session.verify = str(served.ca_path)
    session.trust_env = False  # else $REQUESTS_CA_BUNDLE would override session.verify
    query = {"client_id": env["COGNITO_CLIENT_ID"], "response_type": "code", "redirect_uri": CALLBACK,
             "scope": "openid email", "state": "s1"}
    login_url = f"{env['COGNITO_DOMAIN']}/login?{urlencode(query)}"
    page = session.get(login_url, allow_redirects=False, timeout=10)
    assert page.status_code == 200 and 'name="password"' in page.text
    assert "secure" in page.headers["Set-Cookie"].lower()  # the XSRF cookie is Secure under https
    csrf = re.search(r'name="_csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    posted = session.post(login_url, data={"username": "alice", "password": "Alice-Passw0rd!", "_csrf": csrf.group(1)},
                          allow_redirects=False, timeout=10)
    assert posted.status_code == 302 and posted.headers["Location"].startswith(CALLBACK), posted.text
    code = parse_qs(urlsplit(posted.headers["Location"]).query)["code"][0]
    exchanged = session.post(f"{env['COGNITO_DOMAIN']}/oauth2/token", timeout=10, data={
        "grant_type": "authorization_code", "client_id": env["COGNITO_CLIENT_ID"], "code": code,
        "redirect_uri": CALLBACK})
    assert exchanged.status_code == 200 and exchanged.json()["id_token"], exchanged.text


# --- the certificates -------------------------------------------------------------------------------------


def test_the_leaf_names_loopback_only_and_the_ca_is_name_constrained(served: ServedTLS, cache: Path) -> None:
    leaf, ca = _server_leaf(served.port, served.ca_path), _ca(served.ca_path)
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.DNSName)) == {"localhost"}
    assert set(names.get_values_for_type(x509.IPAddress)) == {ipaddress.ip_address("127.0.0.1")}
    constraints = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical and constraints.value.excluded_subtrees is None
    assert set(constraints.value.permitted_subtrees) == {
        x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_network("127.0.0.0/8")),
        x509.IPAddress(ipaddress.ip_network("::1/128"))}
    basic = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert basic.ca and basic.path_length == 0

    def verifier(subject: x509.GeneralName) -> Any:
        return PolicyBuilder().store(Store([ca])).build_server_verifier(subject)

    assert verifier(x509.DNSName("localhost")).verify(leaf, [])
    assert verifier(x509.IPAddress(ipaddress.ip_address("127.0.0.1"))).verify(leaf, [])
    with pytest.raises(VerificationError):
        verifier(x509.DNSName("example.com")).verify(leaf, [])
    # even with the CA's own key, a certificate for a real domain does not verify: the constraint holds
    key = serialization.load_pem_private_key((cache / "ca" / "ca.key").read_bytes(), password=None)
    machine = MachineCA.load_or_create(cache / "ca")
    now = datetime.datetime.now(datetime.timezone.utc)
    forged_key, ca_public = new_key(), ca.public_key()
    assert isinstance(ca_public, ec.EllipticCurvePublicKey)
    forged = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example.com")]))
              .issuer_name(ca.subject).public_key(forged_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
              .add_extension(x509.SubjectAlternativeName([x509.DNSName("example.com")]), critical=False)
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public), critical=False)
              .sign(key, hashes.SHA256()))  # type: ignore[arg-type]
    with pytest.raises(VerificationError, match="constraint"):
        verifier(x509.DNSName("example.com")).verify(forged, [])
    with pytest.raises(ssl.SSLCertVerificationError, match="permitted subtree violation"):  # OpenSSL agrees
        _handshake(pem(forged), private_pem(forged_key), served.ca_path, "example.com")
    chain, leaf_key = machine.issue(["localhost"])  # the same handshake with a leaf the CA issued: accepted
    _handshake(chain, leaf_key, served.ca_path, "localhost")
    with pytest.raises(MachineCAError, match="loopback names only"):
        machine.issue(["127.0.0.1", "example.com"])


def test_a_second_start_reuses_the_kept_ca_with_a_new_leaf(served: ServedTLS, cache: Path) -> None:
    before = served.ca_path.read_bytes()
    first_leaf = _server_leaf(served.port, served.ca_path)
    again = ServedTLS(cache)
    try:
        assert again.ca_path == served.ca_path and again.ca_path.read_bytes() == before  # same CA, same fingerprint
        assert _ca(served.ca_path).fingerprint(hashes.SHA256()).hex() in again.tls_note
        second_leaf = _server_leaf(again.port, again.ca_path, name="localhost")  # verifies against the kept CA
        assert second_leaf.serial_number != first_leaf.serial_number  # signed at this start
    finally:
        again.stop()
    assert again.proc.returncode == 0, "".join(again.stderr)


MAKE_CA = ("import sys; from harness.web.machine_ca import MachineCA; "
           "print(MachineCA.load_or_create(sys.argv[1]).fingerprint)")


def test_processes_starting_at_once_agree_on_one_ca(tmp_path: Path) -> None:
    folder = str(tmp_path / "ca")
    racers = [subprocess.Popen([sys.executable, "-c", MAKE_CA, folder], stdout=subprocess.PIPE, text=True)
              for _ in range(4)]
    fingerprints = {racer.communicate(timeout=60)[0].strip() for racer in racers}
    assert all(racer.returncode == 0 for racer in racers)
    assert fingerprints == {MachineCA.load_or_create(folder).fingerprint}
    assert sorted(p.name for p in (tmp_path / "ca").iterdir()) == [".lock", "ca.key", "ca.pem"]


def test_a_damaged_ca_is_an_error_not_silently_replaced(tmp_path: Path) -> None:
    MachineCA.load_or_create(tmp_path)
    MachineCA.load_or_create(tmp_path / "other")
    (tmp_path / "ca.pem").write_bytes((tmp_path / "other" / "ca.pem").read_bytes())
    with pytest.raises(MachineCAError, match="does not belong to ca.key"):
        MachineCA.load_or_create(tmp_path)


# --- aws-jwt-verify under Node, trusting the CA through NODE_EXTRA_CA_CERTS alone ---------------------

VERIFY_SCRIPT = """\
import { JwtRsaVerifier } from "aws-jwt-verify";
const verifier = JwtRsaVerifier.create({
  issuer: process.env.ISSUER, jwksUri: process.env.JWKS_URI, audience: process.env.CLIENT_ID,
});
try {
  const payload = await verifier.verify(process.env.TOKEN);  // the default fetcher: https only
  console.log(JSON.stringify(payload));
} catch (err) {
  console.error(`${err.name}: ${err.message} ${err.cause ?? ""}`);
  process.exit(3);
}
"""


def test_aws_jwt_verify_fetches_the_https_jwks_with_only_node_extra_ca_certs(
        served: ServedTLS, tokens: dict[str, str], tmp_path: Path) -> None:
    installed = install(library_app("aws-jwt-verify"))  # the library apps' pinned install, reused
    (tmp_path / "node_modules").symlink_to(installed / "node_modules", target_is_directory=True)
    script = tmp_path / "verify.mjs"
    script.write_text(VERIFY_SCRIPT)
    node = shutil.which("node")
    assert node is not None  # install() above has already failed, naming the fix, when node is missing
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "ISSUER": served.env["COGNITO_ISSUER"],
           "JWKS_URI": served.env["COGNITO_JWKS_URL"], "CLIENT_ID": served.env["COGNITO_CLIENT_ID"],
           "TOKEN": tokens["id"]}
    trusted = subprocess.run([node, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                             env={**env, "NODE_EXTRA_CA_CERTS": str(served.ca_path)})
    assert trusted.returncode == 0, trusted.stderr
    payload = json.loads(trusted.stdout)
    assert payload["cognito:username"] == "tess" and payload["iss"] == served.env["COGNITO_ISSUER"]
    untrusted = subprocess.run([node, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env)
    assert untrusted.returncode == 3 and "certificate" in untrusted.stderr, untrusted.stderr


# --- in process: Emulator(tls=True) ---------------------------------------------------------------------


def test_emulator_tls_in_process(tmp_path: Path) -> None:
    emu = harness.start(tls=True, ca_dir=tmp_path, seed=3)
    try:
        assert emu.url.startswith("https://127.0.0.1:") and emu.ca_path == tmp_path / "ca.pem"
        assert emu.backend.settings.public_url == emu.url
        idp = emu.boto3_client()
        pool_id = idp.create_user_pool(PoolName="tls")["UserPool"]["Id"]
        assert emu.remote_control().info()["public_url"] == emu.url
        assert emu.identity_client().list_identity_pools(MaxResults=5)["IdentityPools"] == []
        assert requests.get(f"{emu.url}/{pool_id}/.well-known/jwks.json", verify=str(emu.ca_path),
                            timeout=10).json()["keys"]
        with pytest.raises(ValueError, match="loopback names only"):
            emu.set_public_url("https://cognito.example.com")
        with pytest.raises(ValueError, match="https only"):
            emu.set_public_url(emu.url.replace("https://", "http://"))
        emu.set_public_url(f"https://127.0.0.2:{emu.http.port}")  # another loopback name: the leaf grows
        assert requests.get(f"{emu.url}/{pool_id}/.well-known/jwks.json", verify=str(emu.ca_path), timeout=10).ok
        leaf = _server_leaf(emu.http.port, tmp_path / "ca.pem")
        names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert ipaddress.ip_address("127.0.0.2") in names.get_values_for_type(x509.IPAddress)
    finally:
        emu.stop()


def test_serve_tls_refuses_what_the_ca_cannot_serve(cache: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COGNITO_HARNESS_CACHE", str(cache))
    assert cli_main(["serve", "--tls", "--port", "0", "--public-url", "https://cognito.example:9229"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "--public-url" in err and "loopback names only" in err
    monkeypatch.setenv("COGNITO_HARNESS_CACHE", "off")  # nowhere to keep the CA, and no --ca-dir
    assert cli_main(["serve", "--tls", "--port", "0"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "--ca-dir" in err


def test_fake_idp_sign_in_over_https(tmp_path: Path) -> None:
    """The pool's back channel to the fake Google (discovery, token, JWKS) is https too, signed by the machine CA."""
    with Emulator.start(tls=True, ca_dir=tmp_path, seed=4) as emu:
        idp = emu.boto3_client()
        pool_id = idp.create_user_pool(PoolName="federated")["UserPool"]["Id"]
        google = add_fake_google(emu.backend, idp, pool_id)
        assert google.issuer.startswith("https://127.0.0.1:")
        client_id = idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName="web", CallbackURLs=[CALLBACK], AllowedOAuthFlows=["code"],
            AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthScopes=["openid", "email"],
            SupportedIdentityProviders=["Google"])["UserPoolClient"]["ClientId"]
        session = requests.Session()
        session.verify, session.trust_env = str(emu.ca_path), False
        query = {"response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK, "scope": "openid email",
                 "identity_provider": "Google"}
        answer = session.get(f"{emu.url}/{pool_id}/oauth2/authorize?{urlencode(query)}", allow_redirects=False,
                             timeout=10)
        for _ in range(10):
            location = answer.headers.get("Location", "")
            if answer.status_code != 302 or location.startswith(CALLBACK):
                break
            answer = session.get(location, allow_redirects=False, timeout=10)
        assert answer.status_code == 302 and answer.headers["Location"].startswith(CALLBACK), answer.text[:300]
        assert "error" not in parse_qs(urlsplit(answer.headers["Location"]).query), answer.headers["Location"]
        code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
        tokens = session.post(f"{emu.url}/{pool_id}/oauth2/token", timeout=10, data={
            "grant_type": "authorization_code", "client_id": client_id, "code": code, "redirect_uri": CALLBACK})
        assert tokens.status_code == 200, tokens.text
        assert jwt.decode(tokens.json()["id_token"], options={"verify_signature": False})["email"] == "ann@example.com"

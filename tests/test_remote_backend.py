"""``cognito-harness run --backend URL`` against real foreign backends: a moto server and a second ``serve``.

What a real pool needs of the runner: credentials from the default AWS chain (the test keys only for a
loopback endpoint whose chain is empty, and no secret ever printed), the issuer and JWKS discovered from
the backend's own tokens and documents (moto and ``serve`` name different issuers; neither is assumed),
every pool the run made deleted at the end, also when the run is interrupted (``--keep`` lists them
instead), pools it did not make never touched, one exit-2 error naming the URL for a backend that cannot
serve the run, and the skipped checks grouped by what of the control plane they need. Everything runs on
loopback: the AWS chain is pointed at empty files and instance metadata is off.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import jwt
import pytest
import requests
from moto.server import ThreadedMotoServer

from harness.encoding import b64url
from harness.results import CheckResult
from harness.runner.backends import PoolPlan, RemoteBackend
from harness.runner.credentials import TEST_KEYS_METHOD, CredentialsError, credential_session, is_loopback
from harness.runner.engine import RunOptions, Runner, run
from harness.runner.foreign import NeedsPoolKey, bend, public_pem
from harness.runner.scenario import Scenario, load_catalogue
from harness.runner.sinks import RunSink
from harness.runner.spec import load_spec
from tests.test_runner_flaws import expected_for

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "fixtures" / "targets" / "reference.toml"
FLAWED = ROOT / "fixtures" / "targets" / "flawed"
CLI = [shutil.which("cognito-harness")] if shutil.which("cognito-harness") else [sys.executable, "-m", "harness.cli"]
CHAIN_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                   "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ROLE_ARN",
                   "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                   "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_ENDPOINT_URL",
                   "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER")
SECRET = "13e-secret-key-never-printed-anywhere"
ACCESS_KEY = "AKIA13EHARNESSNOPRINT"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def isolated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An empty AWS chain for this module (no keys, profiles or files; instance metadata off): a folder."""
    home = tmp_path_factory.mktemp("aws")
    with pytest.MonkeyPatch.context() as mp:
        for name in CHAIN_VARIABLES:
            mp.delenv(name, raising=False)
        mp.setenv("AWS_CONFIG_FILE", str(home / "config"))
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "credentials"))
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        mp.setenv("NO_COLOR", "1")
        yield home


@pytest.fixture(scope="module")
def moto(isolated: Path) -> Iterator[str]:
    """A moto server (in this process, its own thread) on a free loopback port."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def serve(isolated: Path) -> Iterator[str]:
    """A second ``cognito-harness serve`` subprocess on a free port (with its own default pool)."""
    log = isolated / "serve.out"
    with log.open("wb") as out:
        proc = subprocess.Popen([*CLI, "serve", "--port", "0", "--seed", "13"], stdout=out, stderr=subprocess.STDOUT,
                                env=dict(os.environ), start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while not (found := re.search(r"serving (http://127\.0\.0\.1:\d+)", log.read_text(errors="replace"))):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"serve did not start: {log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield found.group(1)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


def idp_at(url: str) -> Any:
    return boto3.client("cognito-idp", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def pools(url: str) -> set[str]:
    return {p["Id"] for p in idp_at(url).list_user_pools(MaxResults=60)["UserPools"]}


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=600)


def signed_in_id_token(idp: Any, pool_id: str, client_id: str, username: str) -> str:
    """An ID token of a new user of ``pool_id``, straight from the backend (the ground truth for its iss)."""
    idp.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"},
                                          {"Name": "email_verified", "Value": "true"}])
    idp.admin_set_user_password(UserPoolId=pool_id, Username=username, Password="Gr0und-Truth-13e!", Permanent=True)
    answer = idp.admin_initiate_auth(UserPoolId=pool_id, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                     AuthParameters={"USERNAME": username, "PASSWORD": "Gr0und-Truth-13e!"})
    return answer["AuthenticationResult"]["IdToken"]


def made_pool(stdout: str) -> tuple[str, str]:
    """(pool id, issuer) from the run's backend note."""
    found = re.search(r"made pool (\S+) \(clients [^)]*\); issuer (\S+) \(from the ID token", stdout)
    assert found, stdout
    return found.group(1), found.group(2)


# --- discovery, cleanup and gaps, in process -------------------------------------------------------


def test_the_issuer_is_discovered_from_each_backends_tokens_and_the_pool_is_deleted(moto: str, serve: str) -> None:
    found: dict[str, str] = {}
    for url in (moto, serve):
        before = pools(url)
        backend = RemoteBackend(url, PoolPlan.for_spec(load_spec(SPEC)))
        backend.start()
        try:
            coords = backend.prepare(7)
            assert coords.pool_id in pools(url) and backend.created == [coords.pool_id]
            token = signed_in_id_token(backend.idp, coords.pool_id, coords.client_id, "ground.truth")
            iss = jwt.decode(token, options={"verify_signature": False})["iss"]
            assert coords.issuer == iss == backend.discovery.issuer, (coords.issuer, iss)
            document = requests.get(f"{url}/{coords.pool_id}/.well-known/openid-configuration", timeout=10).json()
            assert document["issuer"] == iss and coords.jwks_url == document["jwks_uri"]
            jwks = requests.get(coords.jwks_url, timeout=10).json()
            kid = jwt.get_unverified_header(token)["kid"]
            key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid), algorithm="RS256").key
            jwt.decode(token, key, algorithms=["RS256"], issuer=coords.issuer, options={"verify_aud": False})
            # an operation the backend lacks is found by asking it (moto: RevokeToken is "not implemented")
            gap = backend.lacks("RevokeToken")
            assert (gap is not None) == (url == moto), gap
            assert gap is None or ("RevokeToken" in gap and "HTTP 500" in gap and url in gap)
            assert backend.lacks("GlobalSignOut") is None
            found[url] = iss
        finally:
            backend.stop()
        assert pools(url) == before
        assert any(f"deleted pool {coords.pool_id}" in note for note in backend.notes())
    assert found[moto] == f"https://cognito-idp.us-east-1.amazonaws.com/{found[moto].rsplit('/', 1)[1]}"
    assert found[serve].startswith(f"{serve}/us-east-1_")
    assert found[moto] != found[serve]


def test_bent_tokens_keep_the_real_claims_and_never_need_the_pools_private_key(moto: str) -> None:
    idp = idp_at(moto)
    pool_id = idp.create_user_pool(PoolName="bend-13e")["UserPool"]["Id"]
    try:
        client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="c", ExplicitAuthFlows=[
            "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
        token = signed_in_id_token(idp, pool_id, client_id, "bent")
        jwks = requests.get(f"{moto}/{pool_id}/.well-known/jwks.json", timeout=10).json()
        kid = jwt.get_unverified_header(token)["kid"]
        real = jwt.decode(token, options={"verify_signature": False})
        pool_key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid), algorithm="RS256").key

        foreign = bend(token, jwks, sign_with="foreign", claims={"cognito:groups": ["admins"]})
        assert jwt.get_unverified_header(foreign)["kid"] == kid
        assert jwt.decode(foreign, options={"verify_signature": False}) == {**real, "cognito:groups": ["admins"]}
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(foreign, pool_key, algorithms=["RS256"], options={"verify_aud": False, "verify_exp": False})

        confused = bend(token, jwks, sign_with="hs256-public-key")
        head, body, signature = confused.split(".")
        assert jwt.get_unverified_header(confused)["alg"] == "HS256"
        expected = hmac.new(public_pem(jwks, kid), f"{head}.{body}".encode(), hashlib.sha256).digest()
        assert signature == b64url(expected)  # keyed with exactly the public key the pool publishes

        unsigned = bend(token, jwks, sign_with="none", header={"alg": "nOnE"}, claims={"exp": None})
        assert unsigned.endswith(".") and jwt.get_unverified_header(unsigned)["alg"] == "nOnE"
        assert "exp" not in jwt.decode(unsigned, options={"verify_signature": False})
        for mode in ("pool", f"retired:{kid}"):
            with pytest.raises(NeedsPoolKey):
                bend(token, jwks, sign_with=mode)
    finally:
        idp.delete_user_pool(UserPoolId=pool_id)


def test_an_interrupted_run_still_deletes_its_pool(moto: str) -> None:
    """Ctrl-C during the checks (a KeyboardInterrupt out of a sink): the run's try/finally deletes the pool."""

    class Interrupt(RunSink):
        def __init__(self) -> None:
            self.notes: list[str] = []
            self.started = 0

        def backend_note(self, text: str) -> None:
            self.notes.append(text)

        def check_started(self, scenario: Scenario) -> None:
            self.started += 1
            if self.started == 2:
                raise KeyboardInterrupt

        def check_finished(self, check: CheckResult) -> None:
            assert check.verdict.value == "PASS", check.reason

    before = pools(moto)
    sink = Interrupt()
    options = RunOptions(backend=moto, keyword="TV-ACCESS-VALID or TV-SIG-TAMPERED", command=["pytest"])
    with pytest.raises(KeyboardInterrupt):
        Runner(load_spec(SPEC), options, [sink]).run()
    assert sink.started == 2
    made = re.search(r"made pool (\S+) ", "\n".join(sink.notes))
    assert made and f"backend {moto}: deleted pool {made.group(1)}" in sink.notes
    assert pools(moto) == before


FLAWS_ON_A_BACKEND = ("no_signature_check", "alg_none_accepted", "hs256_public_key", "kid_path_traversal",
                      "unknown_kid_unverified", "refresh_cached", "logout_without_revocation",
                      "roles_cached_at_first_sight")


def test_the_checks_made_backend_neutral_still_catch_the_flaws_they_catch_on_the_emulator(serve: str) -> None:
    """Not weakened: on a backend without the control plane, each flawed app FAILs every backend-neutral check
    it FAILs on the emulator (bent tokens instead of minted ones, the pool's refusals instead of its events)."""
    neutral = {s.id for s in load_catalogue().values() if not s.control_plane}

    def verdicts(flaw: str) -> tuple[set[str], dict[str, str]]:
        ids = sorted(expected_for(flaw) & neutral)
        result = run(load_spec(FLAWED / f"{flaw}.toml"), RunOptions(backend=serve, ids=ids, command=["pytest"]))
        return set(ids), {r.check_id: f"{r.verdict.value}: {r.reason}" for r in result.results}

    with ThreadPoolExecutor(max_workers=2) as workers:
        runs = dict(zip(FLAWS_ON_A_BACKEND, workers.map(verdicts, FLAWS_ON_A_BACKEND)))
    caught = set()
    for flaw, (ids, got) in runs.items():
        assert ids, flaw
        assert all(v.startswith("FAIL") for v in got.values()), (flaw, got)
        caught |= ids
    assert {"TV-SIG-FOREIGN-KEY", "TV-ALG-NONE", "TV-ALG-HS256-PUBKEY", "TV-KID-INJECTION", "TV-KID-FILE",
            "TV-KID-UNKNOWN", "TV-HDR-JWK", "TV-HDR-JKU", "TV-HDR-X5U", "REF-CLAIMS-CURRENT", "REF-REVOKED",
            "LOG-DEVICE-REVOKE", "LOG-EVERYWHERE", "TEN-ROLE-REMOVED"} <= caught, caught


# --- credentials -----------------------------------------------------------------------------------


def test_loopback_endpoints_fall_back_to_the_test_keys_and_others_never_do(
        isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert all(is_loopback(u) for u in ("http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9",
                                        "http://127.8.0.1"))
    assert not any(is_loopback(u) for u in ("https://cognito-idp.us-east-1.amazonaws.com", "http://10.0.0.1:9",
                                            "http://localhost.example.com"))
    _, source = credential_session("http://127.0.0.1:9", "us-east-1")
    assert source.method == TEST_KEYS_METHOD and source.test_keys and source.app_env() == {}
    with pytest.raises(CredentialsError, match="no AWS credentials"):
        credential_session("https://cognito-idp.eu-west-1.amazonaws.com", "eu-west-1")

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    for url in ("http://127.0.0.1:9", "https://cognito-idp.eu-west-1.amazonaws.com"):
        session, source = credential_session(url, "eu-west-1")
        assert source.method == "env" and session.get_credentials().secret_key == SECRET
        assert source.app_env() == {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET,
                                    "AWS_SESSION_TOKEN": ""}
        assert SECRET not in source.describe() and ACCESS_KEY not in source.describe()

    # a profile: its keys are never copied into the app's environment (it goes down its own chain)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    (isolated / "credentials").write_text(f"[team]\naws_access_key_id = {ACCESS_KEY}\n"
                                          f"aws_secret_access_key = {SECRET}\n")
    monkeypatch.setenv("AWS_PROFILE", "team")
    try:
        _, source = credential_session("https://cognito-idp.eu-west-1.amazonaws.com", "eu-west-1")
        assert source.method == "shared-credentials-file"
        assert source.app_env() == {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": ""}
    finally:
        (isolated / "credentials").unlink()


# --- the CLI ---------------------------------------------------------------------------------------


def test_a_full_default_run_against_a_second_serve(serve: str, tmp_path: Path) -> None:
    """The reference app is told the issuer serve's tokens carry: no "wrong issuer", no FAIL or ERROR; the
    run's pool goes, serve's own default pool stays; the skipped checks are grouped by what they need."""
    before = pools(serve)
    proc = cli("run", "--backend", serve, "--json", "out.json", "--html", "out.html", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report_text = (tmp_path / "out.json").read_text()
    assert "wrong issuer" not in proc.stdout + report_text
    pool_id, issuer = made_pool(proc.stdout)
    assert issuer == f"{serve}/{pool_id}"
    assert f"backend {serve}: deleted pool {pool_id}" in proc.stdout
    assert pools(serve) == before and before  # serve's own pool untouched
    report = json.loads(report_text)
    verdicts = {r["check_id"]: r["verdict"] for r in report["results"]}
    assert not [i for i, v in verdicts.items() if v in ("FAIL", "ERROR")], verdicts
    # checks made backend-neutral run for real on a backend without the control plane
    for check_id in ("TV-ACCESS-VALID", "TV-ALG-NONE", "TV-SIG-FOREIGN-KEY", "TV-ALG-HS256-PUBKEY", "TV-HDR-JKU",
                     "TV-KID-INJECTION", "REF-REVOKED", "REF-USER-DISABLED", "LOG-DEVICE-REVOKE",
                     "LOG-POOL-REVOKE-WINDOW", "TEN-ROLE-REMOVED"):
        assert verdicts[check_id] == "PASS", (check_id, verdicts[check_id])
    groups = report["summary"]["skipped_by_reason"]
    clock = f"needs the control plane: virtual clock (backend {serve} has none)"
    assert {"EXP-ISSUED-PAST", "EXP-BOUNDARY", "EXP-REFRESH-AFTER", "EXP-REFRESH-END"} <= set(groups[clock])
    assert f"needs the control plane: fake external IdPs (backend {serve} has none)" in groups
    assert sum(len(ids) for ids in groups.values()) == sum(1 for v in verdicts.values() if v == "SKIP")
    terminal = proc.stdout.split(f"Skipped on backend {serve}, by reason", 1)
    assert len(terminal) == 2 and "virtual clock" in terminal[1] and "EXP-ISSUED-PAST" in terminal[1]
    html = (tmp_path / "out.html").read_text()
    assert f"Skipped on backend {serve}, by reason" in html and 'id="skipped-by-reason"' in html


def test_moto_runs_keep_and_clean_up_only_their_own_pools_and_print_no_secret(moto: str, tmp_path: Path) -> None:
    theirs = idp_at(moto).create_user_pool(PoolName="not-the-runs-13e")["UserPool"]["Id"]
    bent = ("TV-ACCESS-VALID", "TV-ALG-NONE", "TV-HDR-JWK", "TV-HDR-X5U", "TV-KID-UNKNOWN")
    proc = cli("run", "--backend", moto, "--family", "token-validation", "-k", " or ".join(bent), "--keep",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "wrong issuer" not in proc.stdout
    kept, issuer = made_pool(proc.stdout)
    assert issuer == f"https://cognito-idp.us-east-1.amazonaws.com/{kept}"
    assert f"kept pool {kept} (--keep)" in proc.stdout and "deleted pool" not in proc.stdout
    assert {kept, theirs} <= pools(moto)
    for check_id in bent:
        assert re.search(rf"PASS +{check_id} ", proc.stdout), check_id
    idp_at(moto).delete_user_pool(UserPoolId=kept)

    # credentials from the environment (moto takes any): the run says where they came from, never what they are
    proc = cli("run", "--backend", moto, "-k", "TV-ACCESS-VALID or REF-REVOKED", "--json", "out.json",
               "--transcript", "run.jsonl", cwd=tmp_path,
               env={"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    made, _ = made_pool(proc.stdout)
    assert "credentials from the default boto3 chain (env)" in proc.stdout
    assert made not in pools(moto) and theirs in pools(moto)
    report = json.loads((tmp_path / "out.json").read_text())
    revoked = next(r for r in report["results"] if r["check_id"] == "REF-REVOKED")
    assert revoked["verdict"] == "SKIP" and "RevokeToken" in revoked["reason"] and moto in revoked["reason"]
    for text in (proc.stdout, proc.stderr, (tmp_path / "out.json").read_text(), (tmp_path / "run.jsonl").read_text()):
        assert SECRET not in text and ACCESS_KEY not in text
    idp_at(moto).delete_user_pool(UserPoolId=theirs)


def test_a_backend_that_cannot_serve_the_run_is_one_error_and_exit_2(moto: str, tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    proc = cli("run", "--backend", closed, "--family", "token-validation", "--json", "out.json", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith(f"cognito-harness: error: backend {closed} cannot be reached"), proc.stderr
    assert proc.stderr.count("error:") == 1
    assert "ERROR" not in proc.stdout and "[1/" not in proc.stdout and not (tmp_path / "out.json").exists()

    proc = cli("run", "--backend", moto, "-k", "TV-ACCESS-VALID", cwd=tmp_path, env={"AWS_PROFILE": "no-such-13e"})
    assert proc.returncode == 2 and f"backend {moto}: AWS credentials:" in proc.stderr, proc.stderr
    assert "no-such-13e" in proc.stderr and "ERROR" not in proc.stdout

    proc = cli("run", "--backend", "https://cognito-idp.eu-west-1.amazonaws.com", "-k", "TV-ACCESS-VALID",
               cwd=tmp_path)
    assert proc.returncode == 2 and "no AWS credentials" in proc.stderr, proc.stderr
    assert "the harness's test keys are used only for a loopback endpoint" in proc.stderr

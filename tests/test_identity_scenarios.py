"""The identity family (IDP- checks that drive the app): spec keys, the reference app, each flawed variant, SKIPs.

Runs are real: the emulator on loopback with the pool definition's [identity_pool]
built in, the reference app as a process getting credentials from cognito-identity
through boto3, and the role of every AccessKeyId read from the control plane. Only
the identity family runs here (the whole catalogue on the flawed apps is
tests/test_runner_flaws.py's, with tests/flaws_identity_matrix.py).
"""

from __future__ import annotations

import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

from harness.coordinates import PoolCoordinates
from harness.results import Verdict
from harness.runner.engine import RunOptions, run
from harness.runner.scenario import load_catalogue
from harness.runner.spec import SpecError, load_spec
from tests.flaws_identity_matrix import EXPECTED_IDENTITY
from tests.spec_support import MINIMAL, TARGETS, write

SEED = 7
ALL_IDP = {"IDP-ROLE-MAPPED", "IDP-ROLE-REMOVED", "IDP-REVOKED-USER", "IDP-GUEST-UNAUTH"}
POOLS = TARGETS.parent / "pools"


def _results(spec: str | Path) -> list[Any]:
    result = run(load_spec(spec), RunOptions(seed=SEED, families=["identity"]))
    return [r for r in result.results if r.check_id in ALL_IDP]


def _run(spec: str | Path) -> tuple[dict[str, Verdict], dict[str, str]]:
    mine = _results(spec)
    return {r.check_id: r.verdict for r in mine}, {r.check_id: r.reason for r in mine}


# --- the family is registered and described ---------------------------------------------------------


def test_every_identity_check_is_in_the_catalogue_with_its_metadata() -> None:
    mine = {i: s for i, s in load_catalogue().items() if s.family == "identity" and i in ALL_IDP}
    assert set(mine) == ALL_IDP
    for check in mine.values():
        assert check.requirements and check.remediation and check.title and check.needs, check.id
        assert check.severity == "MUST" and check.profile == "baseline" and check.control_plane, check.id


def test_every_check_is_failed_by_exactly_one_flawed_app() -> None:
    caught = [check for checks in EXPECTED_IDENTITY.values() for check in checks]
    assert sorted(caught) == sorted(ALL_IDP)


def test_every_identity_flaw_has_its_spec() -> None:
    sys.path.insert(0, str(TARGETS / "reference_app"))
    try:
        import flaws
    finally:
        sys.path.pop(0)
    idp_flaws = {name for name in flaws.FLAWS if name.startswith("idp_")}
    shipped = {p.stem for p in (TARGETS / "flawed").glob("idp_*.toml")}
    assert idp_flaws == shipped == set(EXPECTED_IDENTITY)


# --- the spec keys and the env contract ------------------------------------------------------------


def test_the_reference_spec_says_where_the_access_key_id_is() -> None:
    spec = load_spec(TARGETS / "reference.toml")
    user, guest = spec.requests["aws_credentials"], spec.requests["aws_credentials_guest"]
    assert (user.access_key_id, guest.access_key_id) == ("/access_key_id", "/access_key_id")
    assert user.auth is True and guest.auth is False  # a visitor presents no token
    assert "id_token" in user.placeholders()


CREDS = '\n[requests.aws_credentials]\nmethod = "POST"\npath = "/creds"\n'


@pytest.mark.parametrize(("text", "key", "says"), [
    (MINIMAL + CREDS, "[requests.aws_credentials].access_key_id", "AccessKeyId"),
    (MINIMAL + CREDS.replace("aws_credentials", "aws_credentials_guest"),
     "[requests.aws_credentials_guest].access_key_id", "required for aws_credentials_guest"),
    (MINIMAL + CREDS + 'access_key_id = "access_key_id"\n', "[requests.aws_credentials].access_key_id",
     "JSON pointer"),
    (MINIMAL.replace('path = "/api/protected"', 'path = "/api/protected"\naccess_key_id = "/k"'),
     "[requests.protected].access_key_id", "known keys"),
])
def test_a_bad_identity_key_is_a_spec_error_naming_file_and_key(tmp_path: Path, text: str, key: str,
                                                               says: str) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(write(tmp_path, text))
    assert info.value.key == key and info.value.path.endswith("spec.toml"), str(info.value)
    assert says in str(info.value)


def test_the_app_is_told_the_identity_pool_and_its_endpoint() -> None:
    coords = PoolCoordinates(region="us-east-1", pool_id="us-east-1_Abc", client_id="c", client_secret="",
                             issuer="i", jwks_url="j", endpoint="http://127.0.0.1:9229", domain="d",
                             identity_pool_id="us-east-1:0f1e2d3c-0000-4000-8000-000000000000")
    env = coords.env()
    assert env["COGNITO_IDENTITY_POOL_ID"] == "us-east-1:0f1e2d3c-0000-4000-8000-000000000000"
    assert env["AWS_ENDPOINT_URL_COGNITO_IDENTITY"] == "http://127.0.0.1:9229"


# --- the checks on the reference app and its flawed variants ----------------------------------------


@pytest.fixture(scope="module")
def results() -> dict[str, list[Any]]:
    specs = ["reference.toml", *(f"flawed/{name}.toml" for name in EXPECTED_IDENTITY)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(specs, pool.map(lambda s: _results(TARGETS / s), specs)))


@pytest.fixture(scope="module")
def verdicts(results: dict[str, list[Any]]) -> dict[str, tuple[dict[str, Verdict], dict[str, str]]]:
    return {spec: ({r.check_id: r.verdict for r in mine}, {r.check_id: r.reason for r in mine})
            for spec, mine in results.items()}


def test_the_reference_app_passes_every_identity_check(verdicts: dict) -> None:
    got, reasons = verdicts["reference.toml"]
    assert got == {i: Verdict.PASS for i in ALL_IDP}, reasons


def test_the_evidence_shows_whose_credentials_the_pool_issued(results: dict) -> None:
    """The role of the app's credentials comes from the control plane, and the identity pool's own events
    (credentials issued, for which role) are in the check's evidence."""
    check = next(r for r in results["reference.toml"] if r.check_id == "IDP-ROLE-MAPPED")
    notes = [e.data for s in check.steps for e in s.evidence if e.kind == "note" and "issued by the identity pool"
             in e.title]
    assert {n["role_arn"] for n in notes} == {"arn:aws:iam::123456789012:role/reference-app-tenant-admin",
                                              "arn:aws:iam::123456789012:role/reference-app-member"}, notes
    events = [ev for e in check.evidence if e.kind == "event" for ev in e.data["events"]]
    issued = {ev["data"]["access_key_id"]: ev["data"]["role_arn"] for ev in events
              if ev["type"] == "identity.credentials"}
    assert {n["access_key_id"]: n["role_arn"] for n in notes}.items() <= issued.items()


@pytest.mark.parametrize("flaw", sorted(EXPECTED_IDENTITY))
def test_each_flawed_app_fails_exactly_its_identity_check(verdicts: dict, flaw: str) -> None:
    got, reasons = verdicts[f"flawed/{flaw}.toml"]
    assert {i for i, v in got.items() if v is Verdict.FAIL} == EXPECTED_IDENTITY[flaw], reasons
    assert {v for i, v in got.items() if i not in EXPECTED_IDENTITY[flaw]} == {Verdict.PASS}, reasons


@pytest.mark.parametrize(("flaw", "check", "says"), [
    ("idp_login_not_bound_to_caller", "IDP-ROLE-MAPPED", "sent an admin's ID token got the admin's credentials"),
    ("idp_credentials_cached_per_user", "IDP-ROLE-REMOVED",
     "after the removal from the admin group (refreshed tokens): the app's credentials carry the role "
     "arn:aws:iam::123456789012:role/reference-app-tenant-admin"),
    ("idp_credentials_cached_per_token", "IDP-REVOKED-USER", "disabled at the pool must get no AWS credentials"),
    ("idp_guest_served_from_shared_store", "IDP-GUEST-UNAUTH", "issued for an authenticated login"),
])
def test_a_failure_says_what_the_app_did(verdicts: dict, flaw: str, check: str, says: str) -> None:
    _, reasons = verdicts[f"flawed/{flaw}.toml"]
    assert says in reasons[check], reasons[check]


# --- SKIPs: no identity keys, no identity pool ------------------------------------------------------


def _reference_app_spec(tmp_path: Path, requests: str, pool: Path) -> Path:
    """The reference app with only ``requests`` (plus /api/protected) and the pool definition ``pool``."""
    app = TARGETS / "reference_app" / "app.py"
    return write(tmp_path, f"""
[target]
name = "reference-app (identity keys test)"
command = ["{{python}}", "{app}"]
ready_url = "http://127.0.0.1:{{port}}/health"

[requests.protected]
path = "/api/protected"
{requests}
[pool]
definition = "{pool}"
client = "web"
""")


def test_a_spec_without_the_identity_requests_skips_them_saying_why(tmp_path: Path) -> None:
    got, reasons = _run(_reference_app_spec(tmp_path, "", POOLS / "reference_app.toml"))
    assert got == {i: Verdict.SKIP for i in ALL_IDP}, reasons
    assert all("has no [requests.aws_credentials" in reasons[i] for i in ALL_IDP), reasons


def test_a_pool_without_an_identity_pool_skips_them_saying_why(tmp_path: Path) -> None:
    text = (POOLS / "reference_app.toml").read_text()
    pool = write(tmp_path, text[:text.index("[identity_pool]")], "pool.toml")
    requests = "\n".join(f"[requests.{name}]\nmethod = \"POST\"\npath = \"/api/aws-credentials{suffix}\"\n"
                         f"access_key_id = \"/access_key_id\"\n{extra}"
                         for name, suffix, extra in (("aws_credentials", "", 'json = { id_token = "{id_token}" }\n'),
                                                     ("aws_credentials_guest", "/guest", "")))
    got, reasons = _run(_reference_app_spec(tmp_path, requests, pool))
    assert got == {i: Verdict.SKIP for i in ALL_IDP}, reasons
    assert all("declares no [identity_pool]" in reasons[i] for i in ALL_IDP), reasons


# --- the checks never take the app's word --------------------------------------------------------


class _BoastingApp(BaseHTTPRequestHandler):
    """Answers every credentials request with a made-up AccessKeyId and the guest role, in its own words."""

    def log_message(self, fmt: str, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        body = {"status": "ok"} if self.path == "/health" else {
            "access_key_id": "ASIAMADEUPMADEUP0000", "role_arn": "arn:aws:iam::123456789012:role/reference-app-guest",
            "authenticated": False}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer


@pytest.fixture()
def boasting_app() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BoastingApp)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_credentials_the_pool_never_issued_fail_whatever_the_app_says(tmp_path: Path, boasting_app: str) -> None:
    spec = write(tmp_path, f"""
[target]
name = "boasting app"
base_url = "{boasting_app}"

[requests.protected]
path = "/api/protected"

[requests.aws_credentials_guest]
method = "POST"
path = "/creds/guest"
access_key_id = "/access_key_id"

[pool]
definition = "{POOLS / 'reference_app.toml'}"
client = "web"
""")
    got, reasons = _run(spec)
    assert got["IDP-GUEST-UNAUTH"] is Verdict.FAIL, reasons
    assert "never issued" in reasons["IDP-GUEST-UNAUTH"]


# --- a pool that gives some people nothing ---------------------------------------------------------


def _variant_spec(tmp_path: Path, base: str, change: tuple[str, str]) -> Path:
    """``base`` (a spec under fixtures/targets) over the reference pool definition with one ``change``."""
    text = (POOLS / "reference_app.toml").read_text()
    assert change[0] in text
    text = text.replace(*change).replace('"reference_app_roles/', f'"{POOLS}/reference_app_roles/')
    pool = write(tmp_path, text, "pool.toml")
    return write(tmp_path, f'extends = "{TARGETS / base}"\n\n[pool]\ndefinition = "{pool}"\nclient = "web"\n')


DENY = ('ambiguous_role_resolution = "AuthenticatedRole"', 'ambiguous_role_resolution = "Deny"')
NO_GUESTS = ("allow_unauthenticated = true", "allow_unauthenticated = false")


@pytest.mark.parametrize(("base", "change", "failed", "says"), [
    ("reference.toml", DENY, set(), ""),
    ("flawed/idp_credentials_cached_per_user.toml", DENY, {"IDP-ROLE-REMOVED"},
     "no credentials: the app must refuse too: the app handed out AWS credentials"),
    ("reference.toml", NO_GUESTS, set(), ""),
    ("flawed/idp_guest_served_from_shared_store.toml", NO_GUESTS, {"IDP-GUEST-UNAUTH"},
     "allows no unauthenticated identities: a visitor gets no credentials: the app handed out AWS credentials"),
])
def test_where_the_pool_gives_nothing_the_app_must_refuse_too(tmp_path: Path, base: str, change: tuple[str, str],
                                                            failed: set[str], says: str) -> None:
    """The expectation is the pool's own answer: where its mappings give a user nothing (Deny: only tenant admins
    get credentials) or it allows no guests, the app must refuse (the reference app passes on the pool's
    refusal); the other checks use someone the pool admits."""
    got, reasons = _run(_variant_spec(tmp_path, base, change))
    assert {i for i, v in got.items() if v is Verdict.FAIL} == failed, reasons
    assert {v for i, v in got.items() if i not in failed} == {Verdict.PASS}, reasons
    for check in failed:
        assert says in reasons[check], reasons

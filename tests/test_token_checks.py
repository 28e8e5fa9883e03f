"""Token-validation checks as issue 9 asks: refusals of malformed input, measured JWKS windows, ID-token mode.

Real HTTP on loopback throughout: a tiny status server for the expectation
helper, and the bundled reference app (launched by the runner) for the checks.
"""

from __future__ import annotations

import glob
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from harness.coordinates import PoolCoordinates
from harness.runner.context import ScenarioContext
from harness.runner.engine import RunOptions, run
from harness.results import CheckResult, RunResult, Verdict
from harness.runner.scenario import Failure, load_catalogue
from harness.runner.spec import load_spec
from harness.runner.target import TargetClient

TARGETS = Path(__file__).resolve().parents[1] / "fixtures" / "targets"
SEED = 5


# --- expect_refused: any 3xx/4xx refuses, a 2xx or a 5xx fails ----------------------------------


@pytest.fixture(scope="module")
def status_server() -> Iterator[str]:
    """Answers GET /api/protected?status=N with HTTP N."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            status = int(parse_qs(urlsplit(self.path).query)["status"][0])
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _context(base_url: str, tmp_path: Path) -> ScenarioContext:
    spec_file = tmp_path / "spec.toml"
    spec_file.write_text(f'[target]\nname = "status"\nbase_url = "{base_url}"\n\n'
                         '[requests.protected]\npath = "/api/protected"\nallowed = [200]\ndenied = [401, 403]\n')
    spec = load_spec(spec_file)
    pool = PoolCoordinates(region="us-east-1", pool_id="us-east-1_x", client_id="c", client_secret="",
                           issuer="i", jwks_url="j", endpoint="e", domain="d")
    # no pool is involved: only the target is real
    backend = SimpleNamespace(idp=None, control=None, now=time.time, name="none", pool_shape=lambda pool_id: None)
    return ScenarioContext(scenario=load_catalogue()["TV-MALFORMED"], spec=spec, run_seed=0, pool=pool,
                           backend=backend, target=TargetClient(spec, base_url))


@pytest.mark.parametrize("status", [301, 302, 400, 401, 403, 404, 413, 414, 431])
def test_any_3xx_or_4xx_refuses_a_malformed_token(status_server: str, tmp_path: Path, status: int) -> None:
    ctx = _context(status_server, tmp_path)
    response = ctx.call("protected", token="not-a-token", extra_query={"status": str(status)})
    assert ctx.expect_refused(response, "a malformed token").status == status


@pytest.mark.parametrize("status,word", [(200, "accepted"), (204, "accepted"), (500, "crashed"),
                                         (503, "crashed")])
def test_a_2xx_or_a_5xx_fails_it(status_server: str, tmp_path: Path, status: int, word: str) -> None:
    ctx = _context(status_server, tmp_path)
    response = ctx.call("protected", token="not-a-token", extra_query={"status": str(status)})
    with pytest.raises(Failure, match=word) as failure:
        ctx.expect_refused(response, "a malformed token")
    assert f"HTTP {status}" in failure.value.actual


# --- runs against the reference app ---------------------------------------------------------------


def _spec(tmp_path: Path, base: str, text: str) -> Path:
    path = tmp_path / "target.toml"
    path.write_text(f'extends = "{TARGETS / base}"\n{text}')
    return path


def _only(result: RunResult, check: str) -> CheckResult:
    (found,) = [r for r in result.results if r.check_id == check]
    return found


def _presented(result: CheckResult) -> list[dict[str, Any]]:
    """Decoded header and claims of every token the check presented to the app."""
    return [e.data for step in result.steps for e in step.evidence
            if e.kind == "token" and e.title == "token presented to protected"]


def _notes(result: CheckResult, prefix: str) -> list[dict[str, Any]]:
    found = [e.data for e in result.evidence if e.kind == "note" and e.title.startswith(prefix)]
    for step in result.steps:
        found += [e.data for e in step.evidence if e.kind == "note" and e.title.startswith(prefix)]
    return found


def test_rotation_waits_out_the_declared_jwks_cooldown_and_reports_the_window(tmp_path: Path) -> None:
    """An app that refetches no sooner than 3 s after its last fetch (PyJWKClient and jose wait 30 s)."""
    spec = _spec(tmp_path, "reference.toml", '[target]\nenv = { REFERENCE_APP_JWKS_COOLDOWN = "3" }\n\n'
                                             '[limits]\njwks_refetch_cooldown_seconds = 4\n')
    result = _only(run(load_spec(spec), RunOptions(seed=SEED, ids=["TV-ROTATION-NEW-KID"])), "TV-ROTATION-NEW-KID")
    assert result.verdict is Verdict.PASS, (result.reason, result.actual)
    (window,) = _notes(result, "window:")
    assert window["closed"] and 1.0 <= window["seconds"] <= 9.0, window
    assert not window["probes"][0]["closed"]  # refused at first: the cooldown was really waited out


def test_rotation_fails_when_the_new_kid_is_refused_past_the_bound(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "reference.toml", '[target]\nenv = { REFERENCE_APP_JWKS_COOLDOWN = "60" }\n\n'
                                             '[limits]\njwks_refetch_cooldown_seconds = 0\n')
    result = _only(run(load_spec(spec), RunOptions(seed=SEED, ids=["TV-ROTATION-NEW-KID"])), "TV-ROTATION-NEW-KID")
    assert result.verdict is Verdict.FAIL
    assert "still refused after 5.0 s of probing" in result.actual and "until exp" not in result.actual


def test_id_token_mode_forges_id_tokens_and_runs_the_twins() -> None:
    checks = ["TV-EXP-EXPIRED", "TV-CLIENT-OTHER", "TV-TOKEN-USE-ACCESS", "TV-TOKEN-USE-ID", "TV-SCOPE-MISSING",
              "TV-ROTATION-RETIRED"]
    result = run(load_spec(TARGETS / "reference_id.toml"), RunOptions(seed=SEED, ids=checks))
    verdicts = {r.check_id: r.verdict for r in result.results}
    assert verdicts == {"TV-EXP-EXPIRED": Verdict.PASS, "TV-CLIENT-OTHER": Verdict.PASS,
                        "TV-TOKEN-USE-ACCESS": Verdict.PASS, "TV-TOKEN-USE-ID": Verdict.SKIP,
                        "TV-SCOPE-MISSING": Verdict.SKIP, "TV-ROTATION-RETIRED": Verdict.PASS}
    presented = _presented(_only(result, "TV-EXP-EXPIRED"))
    assert len(presented) >= 2 and all(p["claims"]["token_use"] == "id" and "aud" in p["claims"] for p in presented)
    # the twin of client_id confusion: the same user's ID token whose aud is the pool's other client
    auds = {p["claims"]["aud"] for p in _presented(_only(result, "TV-CLIENT-OTHER"))}
    assert len(auds) == 2


def test_a_flawed_id_token_app_fails() -> None:
    """Issue 9 item 5: an app that accepts an ID token without exp was reported PASS; now it FAILs."""
    spec = TARGETS / "flawed" / "id_mode_no_exp_check.toml"
    result = run(load_spec(spec), RunOptions(seed=SEED, profile="strict", ids=["TV-EXP-MISSING", "TV-EXP-EXPIRED"]))
    assert {r.check_id: r.verdict for r in result.results} == {"TV-EXP-MISSING": Verdict.FAIL,
                                                               "TV-EXP-EXPIRED": Verdict.FAIL}
    forged = [p["claims"] for p in _presented(_only(result, "TV-EXP-MISSING")) if "exp" not in p["claims"]]
    assert forged and forged[0]["token_use"] == "id"


def test_kid_file_is_planted_for_a_launched_app_and_removed() -> None:
    before = set(glob.glob(str(Path(tempfile.gettempdir()) / "cognito-harness-kid-*")))
    result = _only(run(load_spec(TARGETS / "flawed" / "kid_names_key_file.toml"),
                       RunOptions(seed=SEED, ids=["TV-KID-FILE"])), "TV-KID-FILE")
    assert result.verdict is Verdict.FAIL and "HTTP 200" in result.actual
    (planted,) = _notes(result, "planted key file")
    assert planted["path"].startswith(tempfile.gettempdir()) and not Path(planted["path"]).exists()
    assert set(glob.glob(str(Path(tempfile.gettempdir()) / "cognito-harness-kid-*"))) == before


def test_missing_kid_check_runs_without_the_control_plane() -> None:
    """Stripping the kid is a client-side edit: the check is backend-neutral, and its forged token has no kid."""
    scenario = load_catalogue()["TV-KID-MISSING"]
    assert not scenario.control_plane and scenario.severity == "MUST" and scenario.profile == "baseline"
    result = _only(run(load_spec(TARGETS / "flawed" / "missing_kid_500.toml"),
                       RunOptions(seed=SEED, ids=["TV-KID-MISSING"])), "TV-KID-MISSING")
    assert result.verdict is Verdict.FAIL and "5xx" in result.reason
    assert any("kid" not in p["header"] for p in _presented(result)), "no kid-less token was presented"

"""Verdicts a CI gate can trust (issue 9 items 3, 6, 7): exit codes, one-request denial of service,
order independence, and per-check acceptable statuses.

Real runs: the emulator backend, real subprocess apps on loopback (the reference app, and
tests/fragile_app.py, which one request crashes or hangs), real HTTP.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

import harness.runner.replay as replay_module
from harness.cli import main as cli_main
from harness.reports.html import write_html
from harness.reports.jsonreport import write_json
from harness.runner.engine import RunOptions, run
from harness.runner.launcher import free_port, wait_ready
from harness.results import EXIT_ERROR, EXIT_FAIL, EXIT_OK, RunResult, Verdict, combine_exit_codes
from harness.runner.scenario import CATALOGUE, load_catalogue, scenario
from harness.runner.spec import SpecError, load_spec
from harness.runner.specfile import validate_check_ids
from tests.test_runner_engine import check, header

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ROOT / "fixtures" / "targets"
FRAGILE = Path(__file__).resolve().parent / "fragile_app.py"
REFERENCE_REQUESTS = (TARGETS / "reference.toml").read_text().split("[auth]", 1)[1]


# --- exit codes -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("codes", "combined"), [
    ((), EXIT_OK), ((EXIT_OK, EXIT_OK), EXIT_OK), ((EXIT_ERROR,), EXIT_ERROR), ((EXIT_OK, EXIT_ERROR), EXIT_ERROR),
    ((EXIT_FAIL, EXIT_ERROR), EXIT_FAIL), ((EXIT_ERROR, EXIT_FAIL), EXIT_FAIL), ((EXIT_FAIL, EXIT_OK), EXIT_FAIL),
])
def test_a_fail_wins_over_an_error_when_outcomes_combine(codes: tuple[int, ...], combined: int) -> None:
    assert combine_exit_codes(*codes) == combined


# --- scenarios and specs for the fragile app ---------------------------------------------------------------


@pytest.fixture()
def dos_scenarios() -> Iterator[None]:
    """Throwaway checks that take the fragile app down (or not), removed from the catalogue afterwards."""
    before = set(load_catalogue())  # loaded first, so only the throwaway checks are removed afterwards

    def good(ctx) -> None:
        ctx.expect_allowed(ctx.call("protected", authorization="Bearer good", title="the valid token"), "valid")

    @scenario(id="TEST-DOS-CRASH", family="test-dos", title="crash after an answer", remediation="n/a",
              needs=["protected"], control_plane=False)
    def _crash(ctx) -> None:
        good(ctx)
        ctx.call("protected", authorization="Bearer crash", title="the token that kills it")

    @scenario(id="TEST-DOS-FIRST", family="test-dos", title="crash on the first request", remediation="n/a",
              needs=["protected"], control_plane=False)
    def _first(ctx) -> None:
        ctx.call("protected", authorization="Bearer crash", title="the first request kills it")

    @scenario(id="TEST-DOS-HANG", family="test-dos", title="hang", remediation="n/a", needs=["protected"],
              control_plane=False)
    def _hang(ctx) -> None:
        good(ctx)
        ctx.call("protected", authorization="Bearer hang", title="the token that hangs it")

    @scenario(id="TEST-DOS-DROP", family="test-dos", title="a dropped connection", remediation="n/a",
              needs=["protected"], control_plane=False)
    def _drop(ctx) -> None:
        good(ctx)
        ctx.call("protected", authorization="Bearer drop", title="the token whose connection is dropped")

    @scenario(id="TEST-DOS-AFTER", family="test-dos", title="a sound check afterwards", remediation="n/a",
              needs=["protected"], control_plane=False)
    def _after(ctx) -> None:
        good(ctx)
        ctx.expect_denied(ctx.call("protected", authorization="Bearer nope", title="a bad token"), "invalid")

    yield
    for key in set(CATALOGUE) - before:
        del CATALOGUE[key]


def fragile_spec(tmp_path: Path, *, env: dict[str, str] | None = None, base_url: str | None = None,
                 extra: str = "") -> Path:
    where = (f'base_url = "{base_url}"\nready_timeout = 1\n' if base_url
             else f'command = ["{{python}}", "{FRAGILE}"]\nready_timeout = 10\n')
    env_line = "env = { " + ", ".join(f'{k} = "{v}"' for k, v in (env or {}).items()) + " }\n" if env else ""
    path = tmp_path / "fragile.toml"
    path.write_text(f'[target]\nname = "fragile"\n{where}ready_url = "/health"\n{env_line}'
                    f'[requests.protected]\npath = "/api/protected"\nallowed = [200]\n{extra}')
    return path


def by_id(result: RunResult) -> dict:
    return {r.check_id: r for r in result.results}


def evidence_of(check) -> list:
    return [*check.evidence, *(e for s in check.steps for e in s.evidence)]


# --- a request that takes the target down is a FAIL of the check that sent it -----------------------------


def test_a_crash_is_a_fail_with_its_evidence_and_the_next_check_is_unaffected(tmp_path: Path,
                                                                               dos_scenarios: None) -> None:
    spec = load_spec(fragile_spec(tmp_path))
    ids = ["TEST-DOS-AFTER", "TEST-DOS-CRASH", "TEST-DOS-AFTER", "TEST-DOS-FIRST", "TEST-DOS-AFTER"]
    result = run(spec, RunOptions(ids=ids, request_timeout=2))
    verdicts = [r.verdict for r in result.results]
    assert verdicts == [Verdict.PASS, Verdict.FAIL, Verdict.PASS, Verdict.FAIL, Verdict.PASS], \
        [(r.check_id, r.verdict, r.reason) for r in result.results]
    assert result.exit_code() == EXIT_FAIL

    crash = result.results[1]
    assert "the target stopped answering" in crash.reason and "the token that kills it" in crash.reason
    assert "exited with status 3" in crash.reason and "denial of service" in crash.reason
    assert "restarts it before the next check" in crash.reason
    assert "no answer" in crash.actual and "exited with status 3" in crash.actual
    # the step that sent the fatal request failed (not "error") and holds that request with no response
    fatal = crash.steps[-1]
    assert fatal.outcome == "failed" and fatal.name == "the token that kills it"
    http = [e for e in fatal.evidence if e.kind == "http"]
    assert http and http[-1].data["response"] is None and http[-1].data["request"]["url"].endswith("/api/protected")
    note = next(e for e in crash.evidence if e.title == "the target stopped answering")
    assert note.data["exit_status"] == 3 and note.data["hung"] is False
    assert any("fatal: cannot parse this token" in line for line in note.data["last_output"])
    # a check whose FIRST request kills it: the target was seen ready at the check's start, so FAIL too
    assert "exited with status 3" in result.results[3].reason
    # the check after each crash ran against a restarted app, and says so
    after = result.results[2]
    assert any(e.title.startswith("target restarted before this check: it stopped answering during "
                                  "TEST-DOS-CRASH") for e in after.evidence)
    assert sum(1 for e in result.target_logs if e.title.startswith("target stdout (start #")) == 3


def test_a_hang_is_a_fail_naming_the_timeout_and_the_hung_app_is_replaced(tmp_path: Path,
                                                                          dos_scenarios: None) -> None:
    spec = load_spec(fragile_spec(tmp_path))
    result = run(spec, RunOptions(ids=["TEST-DOS-HANG", "TEST-DOS-AFTER"], request_timeout=1))
    hang, after = result.results
    assert hang.verdict is Verdict.FAIL, hang.reason
    assert "no answer within 1 s" in hang.reason and "the process is still running" in hang.reason
    note = next(e for e in hang.evidence if e.title == "the target stopped answering")
    assert note.data["hung"] is True and note.data["exit_status"] is None
    assert after.verdict is Verdict.PASS, after.reason
    assert hang.duration_s < 8  # one request timeout, not the default 10 s
    assert "--request-timeout 1" in hang.reproduction


def test_a_dropped_connection_from_an_app_still_up_is_an_error_not_a_denial_of_service(
        tmp_path: Path, dos_scenarios: None) -> None:
    spec = load_spec(fragile_spec(tmp_path))
    result = run(spec, RunOptions(ids=["TEST-DOS-DROP", "TEST-DOS-AFTER"], request_timeout=2))
    drop, after = result.results
    assert drop.verdict is Verdict.ERROR, drop.reason
    assert "dropped the connection" in drop.reason and "still up and answering" in drop.reason
    assert drop.steps[-1].outcome == "error"
    assert any(e.title == "the target dropped a connection without an answer" and e.data["still_answering"]
               for e in drop.evidence)
    assert after.verdict is Verdict.PASS, after.reason
    assert not any(e.title.startswith("target restarted") for e in after.evidence)  # it never went down
    assert result.exit_code() == EXIT_ERROR


def test_a_target_that_cannot_come_back_errors_the_next_check_and_the_run_still_exits_1(
        tmp_path: Path, dos_scenarios: None, capsys: pytest.CaptureFixture[str]) -> None:
    spec = fragile_spec(tmp_path, env={"FRAGILE_START_ONCE": str(tmp_path / "started")})
    code = cli_main(["run", "--target", str(spec), "-k", "TEST-DOS-CRASH or TEST-DOS-AFTER",
                     "--json", str(tmp_path / "r.json")])
    out = capsys.readouterr().out
    doc = json.loads((tmp_path / "r.json").read_text())
    verdicts = {r["check_id"]: r["verdict"] for r in doc["results"]}
    assert verdicts == {"TEST-DOS-CRASH": "FAIL", "TEST-DOS-AFTER": "ERROR"}, out
    assert code == EXIT_FAIL and doc["exit_code"] == EXIT_FAIL  # the finding is not hidden by the ERROR
    error = next(r for r in doc["results"] if r["verdict"] == "ERROR")
    assert "could not be restarted before this check" in error["reason"]
    assert "http://127.0.0.1:" in error["reason"] and "refusing to start again" in error["reason"]
    assert "FAILED: 0 passed, 1 failed, 0 skipped, 1 errors" in out


def test_an_error_alone_exits_2(tmp_path: Path, dos_scenarios: None, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    spec = fragile_spec(tmp_path, base_url=f"http://127.0.0.1:{port}")
    assert cli_main(["run", "--target", str(spec), "-k", "TEST-DOS-AFTER"]) == EXIT_ERROR
    assert f"http://127.0.0.1:{port}" in capsys.readouterr().out


@pytest.fixture()
def external_fragile_app() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(FRAGILE)], env={**os.environ, "PORT": str(port)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(f"http://127.0.0.1:{port}/health", 10)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait(5)


def test_a_base_url_target_taken_down_fails_the_check_and_errors_the_next_naming_the_address(
        tmp_path: Path, dos_scenarios: None, external_fragile_app: str) -> None:
    spec = load_spec(fragile_spec(tmp_path, base_url=external_fragile_app))
    result = run(spec, RunOptions(ids=["TEST-DOS-AFTER", "TEST-DOS-CRASH", "TEST-DOS-AFTER"], request_timeout=2))
    first, crash, after = result.results
    assert first.verdict is Verdict.PASS and crash.verdict is Verdict.FAIL, (first.reason, crash.reason)
    assert "cannot restart" in crash.reason and external_fragile_app in crash.reason
    assert after.verdict is Verdict.ERROR
    assert f"target not answering at {external_fragile_app} at the start of the check" in after.reason
    assert "it stopped answering during TEST-DOS-CRASH" in after.reason and "base_url" in after.reason
    assert result.exit_code() == EXIT_FAIL


# --- the planted flaw: the reference app dies on a 20 KB token ---------------------------------------------


def test_the_reference_app_that_dies_on_an_oversized_token_fails_tv_malformed_only(tmp_path: Path) -> None:
    spec = load_spec(TARGETS / "flawed" / "dies_on_oversized_token.toml")
    ids = ["TV-ACCESS-VALID", "TV-MALFORMED", "TV-SIG-TAMPERED"]
    result = run(spec, RunOptions(ids=ids, seed=3))
    checks = by_id(result)
    assert [checks[i].verdict for i in ids] == [Verdict.PASS, Verdict.FAIL, Verdict.PASS], \
        [(r.check_id, r.reason) for r in result.results]
    malformed = checks["TV-MALFORMED"]
    assert "exited with status 3" in malformed.reason and "20 KB" in malformed.reason
    assert any("token buffer overflow" in line for e in malformed.evidence if e.kind == "log"
               for line in e.data["lines"])
    # the JSON and HTML reports carry the crash evidence like any other
    doc = json.loads(Path(write_json(result, tmp_path / "r.json")).read_text())
    shown = next(r for r in doc["results"] if r["check_id"] == "TV-MALFORMED")
    assert any(e["title"] == "the target stopped answering" and e["data"]["exit_status"] == 3
               for e in shown["evidence"])
    html = Path(write_html(result, tmp_path / "r.html")).read_text()
    assert "the target stopped answering" in html and "no response" in html and "token buffer overflow" in html


# --- order: a check's restart never changes the next check's verdict ------------------------------------


def prefetch_spec(tmp_path: Path, flaw: str | None = None) -> Path:
    env = 'REFERENCE_APP_PREFETCH_JWKS = "1"' + (f', REFERENCE_APP_FLAW = "{flaw}"' if flaw else "")
    path = tmp_path / f"prefetch-{flaw or 'correct'}.toml"
    path.write_text(f'extends = "{TARGETS / "reference.toml"}"\n[target]\nname = "prefetch {flaw or ""}"\n'
                    f"env = {{ {env} }}\n")
    return path


def after_rotation(result: RunResult, alone_spec, seed: int) -> list[str]:
    """The checks that ran after TV-ROTATION-RETIRED whose verdict differs from the one they get alone."""
    order = [r.check_id for r in result.results]
    after = order[order.index("TV-ROTATION-RETIRED") + 1:]
    assert after, order
    in_run = by_id(result)
    alone = {i: run(alone_spec, RunOptions(ids=[i], seed=seed)).results[0] for i in after}
    return [f"{i}: {in_run[i].verdict.value} after the rotation ({in_run[i].reason}), {alone[i].verdict.value} alone"
            for i in after if in_run[i].verdict is not alone[i].verdict]


def test_the_token_family_on_an_app_that_loads_the_jwks_at_start_up_is_order_independent(tmp_path: Path) -> None:
    """A correct app that loads the JWKS at start-up (and refetches on unknown kids): the rotation check's
    restart happens once the pool is back in the next check's state, so the next checks see the run's keys."""
    spec = load_spec(prefetch_spec(tmp_path))
    family = run(spec, RunOptions(families=["token-validation"], seed=4))
    assert after_rotation(family, spec, 4) == []
    assert [r.check_id for r in family.results if r.verdict in (Verdict.FAIL, Verdict.ERROR)] == [], \
        [(r.check_id, r.reason) for r in family.results if r.verdict in (Verdict.FAIL, Verdict.ERROR)]
    retired = by_id(family)["TV-ROTATION-RETIRED"]
    assert any(e.title.startswith("the target is restarted before the next check") for e in retired.evidence)
    nxt = family.results[[r.check_id for r in family.results].index("TV-ROTATION-RETIRED") + 1]
    assert any(e.title.startswith("target restarted before this check: the pool's keys go back")
               for e in nxt.evidence), [e.title for e in nxt.evidence]


def test_a_restart_under_rotated_keys_never_reaches_the_next_check(tmp_path: Path) -> None:
    """An app that loads the JWKS once at start-up and never refetches: restarted while the pool held only
    the rotated keys, it would refuse every later token (TV-JWKS-FLOOD ERRORed, TV-ACCESS-VALID FAILed)."""
    spec = load_spec(prefetch_spec(tmp_path, "jwks_cached_forever"))
    ids = ["TV-ROTATION-RETIRED", "TV-JWKS-FLOOD", "TV-ACCESS-VALID"]
    result = run(spec, RunOptions(ids=ids, seed=4))
    assert after_rotation(result, spec, 4) == []
    assert [r.verdict for r in result.results[1:]] == [Verdict.PASS, Verdict.PASS]


# --- [checks."ID"]: statuses one check accepts -------------------------------------------------------------


def reference_like(tmp_path: Path, extra: str, name: str = "spec.toml") -> Path:
    path = tmp_path / name
    path.write_text(f'extends = "{TARGETS / "reference.toml"}"\n{extra}')
    return path


def test_check_statuses_parse_and_override_for_that_check_only(tmp_path: Path) -> None:
    spec = load_spec(reference_like(tmp_path, '[checks."TV-MALFORMED"]\ndenied = [400, 401, 403, 413, 431]\n'
                                              '[checks."LOCK-DISTINCT".login]\ndenied = [423]\nallowed = [200, 201]\n'))
    assert spec.request("protected").denied == [401, 403]
    assert spec.request("protected", "TV-MALFORMED").denied == [400, 401, 403, 413, 431]
    assert spec.request("protected", "TV-MALFORMED").allowed == [200]
    assert spec.request("login", "TV-MALFORMED").denied == [400, 401, 403, 413, 431]
    assert spec.request("login", "LOCK-DISTINCT").denied == [423]
    assert spec.request("login", "LOCK-DISTINCT").allowed == [200, 201]
    assert spec.request("protected", "LOCK-DISTINCT").denied == [401, 403]
    assert spec.request("protected", "TV-ALG-NONE").denied == [401, 403]
    validate_check_ids(spec, load_catalogue())


@pytest.mark.parametrize(("extra", "key", "expected"), [
    ('[checks."TV-MALFORMED"]\nrefused = [400]\n', '[checks."TV-MALFORMED"].refused', "one of the known keys"),
    ('[checks."TV-MALFORMED"]\ndenied = ["400"]\n', '[checks."TV-MALFORMED"].denied', "HTTP status codes"),
    ('[checks."TV-MALFORMED"]\ndenied = []\n', '[checks."TV-MALFORMED"].denied', "non-empty list"),
    ('[checks."TV-MALFORMED"]\ndenied = [200]\n', '[checks."TV-MALFORMED"]', "do not overlap"),
    ('[checks."TV-MALFORMED".protected]\nallowed = [401]\n', '[checks."TV-MALFORMED".protected]', "do not overlap"),
    ('[checks."TV-MALFORMED".nope]\ndenied = [400]\n', '[checks."TV-MALFORMED"].nope', "one of the known keys"),
    ('[checks]\n"TV-MALFORMED" = 3\n', '[checks."TV-MALFORMED"]', "a table"),
])
def test_bad_check_statuses_name_file_and_key(tmp_path: Path, extra: str, key: str, expected: str) -> None:
    path = reference_like(tmp_path, extra)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert info.value.key == key and expected in str(info.value) and str(path) in str(info.value)


def test_check_statuses_for_a_request_the_spec_lacks_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bare.toml"
    path.write_text('[target]\nname = "bare"\nbase_url = "http://127.0.0.1:9"\n[requests.protected]\npath = "/p"\n'
                    '[checks."LOCK-DISTINCT".login]\ndenied = [423]\n')
    with pytest.raises(SpecError, match=r"\[checks\.\"LOCK-DISTINCT\"\.login\]: expected a request this spec "
                                        r"defines \(\[requests\.login\]\)"):
        load_spec(path)


def test_an_unknown_check_id_is_refused_at_run_start(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = reference_like(tmp_path, '[checks."TV-MALFORMD"]\ndenied = [400, 401]\n')
    spec = load_spec(path)  # the parser cannot see the catalogue...
    with pytest.raises(SpecError, match=r'\[checks\."TV-MALFORMD"\]: expected the id of a check in the catalogue'):
        run(spec, RunOptions(ids=["TV-ALG-NONE"]))
    # ...the run refuses it before starting anything, and the CLI calls it bad usage
    assert cli_main(["run", "--target", str(path), "-k", "TV-ALG-NONE"]) == EXIT_ERROR
    assert 'bad target spec: ' in capsys.readouterr().err


def test_check_statuses_judge_the_answers_of_that_check_only(tmp_path: Path) -> None:
    """The reference app answers a bad token with 401; a spec that lists only 403 as denied fails the check,
    unless [checks."ID"] accepts 401 for that check (and only for it)."""
    strict = '[requests.protected]\ndenied = [403]\n'
    spec = load_spec(reference_like(tmp_path, strict + '[checks."TV-SIG-TAMPERED"]\ndenied = [401, 403]\n'))
    result = by_id(run(spec, RunOptions(ids=["TV-SIG-TAMPERED", "TV-SIG-STRIPPED"], seed=2)))
    assert result["TV-SIG-TAMPERED"].verdict is Verdict.PASS, result["TV-SIG-TAMPERED"].reason
    stripped = result["TV-SIG-STRIPPED"]
    assert stripped.verdict is Verdict.FAIL and "denied (HTTP 403)" in stripped.expected, stripped.expected


def test_pytest_mode_refuses_an_unknown_check_id_as_a_usage_error(tmp_path: Path) -> None:
    spec = reference_like(tmp_path, '[checks."TV-NOPE"]\ndenied = [401]\n')
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--cognito-target",
                           str(spec), "--collect-only"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 4, proc.stdout + proc.stderr  # pytest's usage error, before anything starts
    assert '[checks."TV-NOPE"]: expected the id of a check in the catalogue' in proc.stderr


@pytest.mark.parametrize(("changed", "errored", "code"), [
    (False, False, EXIT_OK), (True, False, EXIT_FAIL), (False, True, EXIT_ERROR), (True, True, EXIT_FAIL),
])
def test_replay_exit_codes_follow_the_same_rule(monkeypatch: pytest.MonkeyPatch, changed: bool, errored: bool,
                                                code: int, capsys: pytest.CaptureFixture[str]) -> None:
    """Changed verdicts (1) are not hidden by a replayed check that ERRORed (2 only when nothing changed)."""
    class Diff:
        replayed = RunResult(header(), [check("A", Verdict.ERROR if errored else Verdict.PASS)])

        def exit_code(self) -> int:
            return EXIT_FAIL if changed else EXIT_OK

        def render(self) -> str:
            return "diff"

    monkeypatch.setattr(replay_module, "replay", lambda *a, **kw: Diff())
    assert cli_main(["replay", "some.jsonl"]) == code


def test_a_bad_request_timeout_is_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli_main(["run", "--request-timeout", "0"])
    assert info.value.code == 2 and "--request-timeout" in capsys.readouterr().err


def test_a_restart_inside_a_check_is_followed_by_one_before_the_next(tmp_path: Path, dos_scenarios: None) -> None:
    """A check that restarts the app for itself leaves it holding that check's pool: the next check gets a
    fresh start after its own pool reset."""
    before = set(CATALOGUE)

    @scenario(id="TEST-DOS-RESTARTS", family="test-dos", title="restarts inside", remediation="n/a",
              needs=["protected"], control_plane=False)
    def _restarts(ctx) -> None:
        ctx.restart_target("the check wants a fresh app mid-way")
        ctx.expect_allowed(ctx.call("protected", authorization="Bearer good"), "valid after the restart")

    try:
        result = run(load_spec(fragile_spec(tmp_path)), RunOptions(ids=["TEST-DOS-RESTARTS", "TEST-DOS-AFTER"]))
    finally:
        for key in set(CATALOGUE) - before:
            del CATALOGUE[key]
    restarts, after = result.results
    assert restarts.verdict is Verdict.PASS and after.verdict is Verdict.PASS, (restarts.reason, after.reason)
    assert any(e.title == "target restarted before this check: the previous check restarted it under its own "
                          "pool state" for e in after.evidence), [e.title for e in after.evidence]

"""``pytest --cognito-target``: catalogue checks as pytest items, agreeing with the CLI verdict for verdict."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "fixtures" / "targets" / "reference.toml"
FLAWED = ROOT / "fixtures" / "targets" / "flawed" / "alg_none_accepted.toml"
SEED = 5
TIMEOUT = 240
# The same -k for both sides: a fixed handful of checks (a positive control, the one the flawed app
# fails, and three other attacks) keeps the four runs fast as the catalogue grows.
SELECTION = "TV-ACCESS-VALID or TV-ALG-NONE or TV-SIG-TAMPERED or TV-KID-UNKNOWN or TV-MALFORMED"


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str
    workdir: Path


def _isolated(workdir: Path) -> list[str]:
    """pytest in an empty directory with its own ini: only the catalogue items run.

    Unrelated installed plugins (hypothesis, faker, benchmark) are blocked: they add
    seconds of start-up to every subprocess and nothing to what is tested.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:faker",
            "-p", "no:benchmark", "--rootdir", str(workdir), "-c", str(workdir / "pytest.ini")]


def _start(cmd: list[str], workdir: Path) -> tuple[subprocess.Popen[str], Path]:
    proc = subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, workdir


def _finish(started: tuple[subprocess.Popen[str], Path]) -> Finished:
    proc, workdir = started
    out, err = proc.communicate(timeout=TIMEOUT)
    return Finished(proc.returncode, out, err, workdir)


def _junit_outcomes(path: Path) -> dict[str, str]:
    """check id -> pytest outcome, from pytest's own --junitxml."""
    out = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        assert case.get("classname", "").startswith("cognito-harness."), case.attrib
        children = {child.tag: child for child in case}
        if "error" in children:
            outcome = "error"
        elif "failure" in children:
            outcome = "failed"
        elif "skipped" in children:
            outcome = "xfailed" if children["skipped"].get("type") == "pytest.xfail" else "skipped"
        else:
            outcome = "passed"
        out[case.get("name", "")] = outcome
    return out


EXPECTED_OUTCOME = {"PASS": "passed", "FAIL": "failed", "SKIP": "skipped", "ERROR": "error"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Finished]:
    """pytest mode and CLI on the reference and the flawed app, same seed, all four at once."""
    base = tmp_path_factory.mktemp("pytest_mode")
    started = {}
    for label, spec in (("reference", REFERENCE), ("flawed", FLAWED)):
        wd = base / f"pytest-{label}"
        cmd = _isolated(wd) + ["--cognito-target", str(spec), "--cognito-seed", str(SEED), "-k", SELECTION,
                               "--junitxml", str(wd / "junit.xml"), "--cognito-json", str(wd / "report.json"), "-q"]
        started[f"pytest-{label}"] = _start(cmd, wd)
        wd = base / f"cli-{label}"
        wd.mkdir()
        cmd = [sys.executable, "-m", "harness.cli", "run", "--target", str(spec), "--seed", str(SEED),
               "-k", SELECTION, "--json", str(wd / "report.json")]
        started[f"cli-{label}"] = _start(cmd, wd)
    return {key: _finish(value) for key, value in started.items()}


@pytest.mark.parametrize("label", ["reference", "flawed"])
def test_pytest_mode_agrees_with_the_cli(runs: dict[str, Finished], label: str) -> None:
    py, cli = runs[f"pytest-{label}"], runs[f"cli-{label}"]
    assert (cli.workdir / "report.json").exists(), cli.stderr[-3000:] + cli.stdout[-3000:]
    cli_doc = json.loads((cli.workdir / "report.json").read_text(encoding="utf-8"))
    cli_verdicts = {r["check_id"]: r["verdict"] for r in cli_doc["results"]}
    assert len(cli_verdicts) == len(SELECTION.split(" or ")), cli_verdicts
    outcomes = _junit_outcomes(py.workdir / "junit.xml")
    # the same checks, in the same order, each with the outcome its CLI verdict maps to
    assert list(outcomes) == list(cli_verdicts), py.stdout[-3000:]
    assert outcomes == {cid: EXPECTED_OUTCOME[v] for cid, v in cli_verdicts.items()}, py.stdout[-5000:]
    # the pytest-mode run itself recorded the same verdicts and seed in its own JSON report
    py_doc = json.loads((py.workdir / "report.json").read_text(encoding="utf-8"))
    assert {r["check_id"]: r["verdict"] for r in py_doc["results"]} == cli_verdicts
    assert py_doc["header"]["seed"] == cli_doc["header"]["seed"] == SEED
    assert py_doc["header"]["target_sha256"] == cli_doc["header"]["target_sha256"]
    # exit codes mean the same thing
    assert py.returncode == (1 if "FAIL" in cli_verdicts.values() else 0), py.stdout[-3000:]
    assert cli.returncode == cli_doc["exit_code"]
    assert "cognito-harness" in py.stdout and f"seed {SEED}" in py.stdout


def test_reference_passes_and_flawed_fails_the_right_check(runs: dict[str, Finished]) -> None:
    ref = _junit_outcomes(runs["pytest-reference"].workdir / "junit.xml")
    flawed = _junit_outcomes(runs["pytest-flawed"].workdir / "junit.xml")
    assert "failed" not in ref.values() and "error" not in ref.values(), runs["pytest-reference"].stdout[-3000:]
    assert flawed["TV-ALG-NONE"] == "failed"
    out = runs["pytest-flawed"].stdout
    # the failure text a CI log shows: expected, actual, requirement, remediation, reproduction
    for needed in ("TV-ALG-NONE [FAIL]", "expected:", "actual:", "requirement:", "remediation:",
                   f"reproduce:   cognito-harness run --target {FLAWED} --seed {SEED} -k TV-ALG-NONE"):
        assert needed in out, needed
    junit = ET.parse(runs["pytest-flawed"].workdir / "junit.xml").getroot()
    failure = next(c for c in junit.iter("testcase") if c.get("name") == "TV-ALG-NONE").find("failure")
    assert "the app accepted it" in failure.get("message")  # a one-line message, not the whole report


def test_collection_ids_and_markers_without_launching(tmp_path: Path) -> None:
    wd = tmp_path / "collect"
    cmd = _isolated(wd) + ["--cognito-target", str(REFERENCE), "--collect-only", "-q", "--strict-markers",
                           "-m", "cognito_family_token_validation and cognito_profile_baseline"]
    proc = subprocess.run(cmd, cwd=wd, capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ids = [line for line in proc.stdout.splitlines() if line.startswith("cognito-harness::")]
    assert "cognito-harness::token-validation::TV-ALG-NONE" in ids
    assert all(line.startswith("cognito-harness::token-validation::") for line in ids)
    # -k on an ID selects exactly that check
    cmd = _isolated(wd) + ["--cognito-target", str(REFERENCE), "--collect-only", "-q", "-k", "TV-ALG-NONE"]
    proc = subprocess.run(cmd, cwd=wd, capture_output=True, text=True, timeout=TIMEOUT)
    assert [ln for ln in proc.stdout.splitlines() if ln.startswith("cognito-")] == [
        "cognito-harness::token-validation::TV-ALG-NONE"
    ]
    # markers are registered (listed by --markers), so --strict-markers users are fine
    proc = subprocess.run(_isolated(wd) + ["--cognito-target", str(REFERENCE), "--markers"], cwd=wd,
                          capture_output=True, text=True, timeout=TIMEOUT)
    for marker in ("@pytest.mark.cognito_family_token_validation", "@pytest.mark.cognito_profile_strict",
                   "@pytest.mark.cognito_severity_must"):
        assert marker in proc.stdout


def test_expected_failure_is_xfail_and_an_unreachable_app_errors(tmp_path: Path) -> None:
    wd = tmp_path / "xfail"
    allow = wd / "expected.toml"
    cmd = _isolated(wd)
    allow.write_text('expected_failures = [{ id = "TV-ALG-NONE", comment = "ticket 7" }]\n', encoding="utf-8")
    proc = subprocess.run(cmd + ["--cognito-target", str(FLAWED), "--cognito-seed", str(SEED), "-k",
                                 "TV-ALG-NONE or TV-ACCESS-VALID", "--cognito-expected-failures", str(allow),
                                 "-rxs"],
                          cwd=wd, capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "1 passed" in proc.stdout and "1 xfailed" in proc.stdout and "ticket 7" in proc.stdout

    # an app that is not there: every check is an ERROR naming the address tried (or a SKIP where
    # the spec lacks a request the check needs)
    spec = wd / "unreachable.toml"
    spec.write_text('[target]\nname = "gone"\nbase_url = "http://127.0.0.1:9"\n\n'
                    '[requests.protected]\npath = "/api/protected"\n', encoding="utf-8")
    proc = subprocess.run(cmd + ["--cognito-target", str(spec), "--cognito-seed", str(SEED), "-k", SELECTION,
                                 "--junitxml", str(wd / "j.xml"), "-q"],
                          cwd=wd, capture_output=True, text=True, timeout=TIMEOUT)
    outcomes = _junit_outcomes(wd / "j.xml")
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert "error" in outcomes.values(), outcomes
    assert "127.0.0.1:9" in proc.stdout
    assert set(outcomes.values()) <= {"error", "skipped"}, outcomes


def test_bad_spec_is_a_usage_error(tmp_path: Path) -> None:
    wd = tmp_path / "bad"
    bad = wd / "bad.toml"
    cmd = _isolated(wd)
    bad.write_text("[target]\nname = 'x'\n", encoding="utf-8")
    proc = subprocess.run(cmd + ["--cognito-target", str(bad)], cwd=wd, capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert proc.returncode == 4, proc.stdout + proc.stderr  # pytest's usage-error exit code
    assert "bad.toml" in proc.stderr and "[target]" in proc.stderr


def test_without_the_option_nothing_is_added(tmp_path: Path) -> None:
    wd = tmp_path / "plain"
    cmd = _isolated(wd)
    (wd / "test_one.py").write_text("def test_one():\n    pass\n", encoding="utf-8")
    proc = subprocess.run(cmd + ["-q", "--collect-only"], cwd=wd, capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "test_one.py::test_one" in proc.stdout and "cognito-harness::" not in proc.stdout


FAKE_ENGINE = '''
import sys
sys.path.insert(0, {root!r})
import harness.runner.engine as engine
from harness.runner.scenario import Scenario
from tests.runner_samples import sample_result

def _noop(ctx):
    pass

FAKE = {{r.check_id: Scenario(id=r.check_id, family=r.family, title=r.title, severity=r.severity, profile=r.profile,
                              requirements=tuple(r.requirements), remediation=r.remediation, fn=_noop)
        for r in sample_result().results}}
engine.load_catalogue = lambda: FAKE  # what engine.select_checks reads at configure
RUNS = []

def fake_run(spec, options, sinks=(), selection=None):
    assert selection is not None and options.ids is None, "the selection is made once, at collection"
    assert all(s is FAKE[s.id] for s in selection.checks) and selection.catalogue is FAKE
    RUNS.append([s.id for s in selection.checks])
    assert len(RUNS) == 1, "the selection must run once per session"
    result = sample_result()
    result.results = [r for r in result.results if r.check_id in RUNS[0]]
    result.header.selection = list(RUNS[0])
    for sink in sinks:  # the events the real engine sends, in its order
        sink.run_started(result.header)
        for check in result.results:
            sink.check_started(FAKE[check.check_id])
            sink.check_finished(check)
        sink.run_finished(result)
    return result

engine.run = fake_run
'''


def test_every_verdict_maps_to_its_pytest_outcome(tmp_path: Path) -> None:
    """PASS/FAIL/SKIP/ERROR/accepted FAIL from one (stand-in) run -> passed/failed/skipped/error/xfailed."""
    wd = tmp_path / "mapping"
    cmd = _isolated(wd)
    (wd / "conftest.py").write_text(FAKE_ENGINE.format(root=str(ROOT)), encoding="utf-8")
    proc = subprocess.run(cmd + ["--cognito-target", str(REFERENCE), "--cognito-profile", "strict", "--junitxml",
                                 str(wd / "j.xml"), "-rA"], cwd=wd, capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 1, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert _junit_outcomes(wd / "j.xml") == {
        "TV-VALID-ACCESS": "passed",
        "TV-ALG-NONE": "failed",
        "TEN-ADMIN-REMOVED": "skipped",
        "LIFE-LOGOUT-ALL": "xfailed",
        "LIFE-REFRESH-ROTATE": "error",
    }
    out = proc.stdout
    assert "reference.toml:1: the spec has no tenant_admin request" in out  # SKIPPED located at the spec
    assert "XFAIL cognito-harness::lifecycle::LIFE-LOGOUT-ALL" in out and "known gap, ticket 12" in out
    # ERROR is a setup error showing the check's report (not a harness traceback), FAIL shows the finding
    assert "ERROR at setup of LIFE-REFRESH-ROTATE" in out
    assert "reason:      target unreachable at http://127.0.0.1:5999/" in out
    assert "ERROR cognito-harness::lifecycle::LIFE-REFRESH-ROTATE - ERROR: target" in out
    assert "FAILED cognito-harness::token_validation::TV-ALG-NONE - the app" in out
    assert "expected:    401 or 403" in out and "remediation: pin the algorithm" in out
    assert "Traceback" not in out.replace("Traceback ...", "") and "CognitoCheck" not in out
    # app output cannot drive the terminal: control characters arrive escaped
    assert "\x1b" not in out and "\\x1b[31m" in out
    assert "stale expected-failure entries (no longer fail; remove them): OLD-CHECK" in out


def test_a_stale_expected_failure_fails_an_otherwise_green_session(tmp_path: Path) -> None:
    wd = tmp_path / "stale"
    cmd = _isolated(wd)
    (wd / "conftest.py").write_text(FAKE_ENGINE.format(root=str(ROOT)), encoding="utf-8")
    proc = subprocess.run(cmd + ["--cognito-target", str(REFERENCE), "-k", "TV-VALID-ACCESS", "-q"], cwd=wd,
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert "1 passed" in proc.stdout and proc.returncode == 1, proc.stdout[-3000:]


WITHOUT_STALE = '''
_sample_with_stale = sample_result

def sample_result():
    result = _sample_with_stale()
    result.stale_expected_failures = []
    return result
'''


def test_report_files_are_the_runs_sinks_and_a_failed_write_fails_the_session(tmp_path: Path) -> None:
    """The --cognito-* reports come from the runner's sink table and hear the run's events; one that
    cannot be written is named and fails an otherwise green session, as it makes the CLI's run an error."""
    wd = tmp_path / "reports"
    cmd = _isolated(wd)
    (wd / "conftest.py").write_text(FAKE_ENGINE.format(root=str(ROOT)) + WITHOUT_STALE, encoding="utf-8")
    args = ["--cognito-target", str(REFERENCE), "-k", "TV-VALID-ACCESS", "-q", "--cognito-json", str(wd / "r.json")]
    green = subprocess.run(cmd + args, cwd=wd, capture_output=True, text=True, timeout=TIMEOUT)
    assert green.returncode == 0 and "1 passed" in green.stdout, green.stdout[-3000:] + green.stderr[-2000:]
    assert f"wrote {wd / 'r.json'}" in green.stdout
    report = json.loads((wd / "r.json").read_text(encoding="utf-8"))
    assert [c["check_id"] for c in report["results"]] == ["TV-VALID-ACCESS"]

    broken = subprocess.run(cmd + args + ["--cognito-html", str(wd)], cwd=wd, capture_output=True, text=True,
                            timeout=TIMEOUT)
    assert "1 passed" in broken.stdout and broken.returncode == 1, broken.stdout[-3000:]
    assert f"could not write html {wd}: " in broken.stdout

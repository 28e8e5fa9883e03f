"""``cognito-harness run`` / ``list`` as real subprocesses against real target apps.

The acceptance of the runner: the bundled reference app passes (exit 0), a
flawed one fails the right check (exit 1) with expected/actual/requirement/
fix/reproduction, an unreachable target is an ERROR naming the address
(exit 2), stale expected failures fail the run, and ``--backend`` pointed at
moto server skips the control-plane checks with the reason.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path


from harness.runner.scenario import load_catalogue
from tests.test_runner_flaws import EXPECTED_TOKENS

ROOT = Path(__file__).resolve().parents[1]
FLAWED = ROOT / "fixtures" / "targets" / "flawed"
CLI = [shutil.which("cognito-harness")] if shutil.which("cognito-harness") else [sys.executable, "-m", "harness.cli"]


def cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([*CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_without_target_uses_the_reference_app_and_passes(tmp_path: Path) -> None:
    proc = cli("run", "--seed", "3", "--json", "out.json", "--junit-xml", "out.xml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "target reference-app" in out
    assert "Summary by family" in out and "token-validation" in out
    assert "[ 1/" in out or "[1/" in out  # progress lines
    report = json.loads((tmp_path / "out.json").read_text())
    results = report["results"]
    catalogue = load_catalogue()
    baseline_must = {s.id for s in catalogue.values() if s.profile == "baseline" and s.severity == "MUST"}
    verdicts = {r["check_id"]: r["verdict"] for r in results}
    assert baseline_must <= set(verdicts)
    # nothing fails or errors; a check whose twin covers the app's mode (access vs ID tokens) SKIPs, saying so
    assert all(verdicts[i] in ("PASS", "SKIP") for i in baseline_must), {i: verdicts[i] for i in baseline_must}
    skipped = [r for r in results if r["verdict"] == "SKIP"]
    assert all(r["reason"] for r in skipped), skipped
    # the bundled spec binds no Lambda functions: the triggers family SKIPs naming the table to add
    # (fixtures/targets/reference_triggers.toml runs it); of the rest, almost everything runs
    trigger_skips = [r for r in skipped if r["family"] == "triggers"]
    assert all("[triggers." in r["reason"] for r in trigger_skips), trigger_skips
    others = [r for r in results if r["family"] != "triggers"]
    assert len(skipped) - len(trigger_skips) < len(others) // 10, skipped
    assert (tmp_path / "out.xml").read_text().startswith("<?xml")


def test_flawed_app_fails_the_right_check_with_a_reproduction(tmp_path: Path) -> None:
    spec = FLAWED / "no_exp_check.toml"
    proc = cli("run", "--target", str(spec), "--seed", "7", "--family", "token-validation", "--json", "out.json",
               cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "out.json").read_text())
    failed = {r["check_id"] for r in report["results"] if r["verdict"] == "FAIL"}
    # the baseline token-validation checks aimed at a missing exp check (the full row: test_runner_flaws.py)
    catalogue = load_catalogue()
    aimed = {i for i in EXPECTED_TOKENS["no_exp_check"]
             if catalogue[i].family == "token-validation" and catalogue[i].profile == "baseline"}
    assert "TV-EXP-EXPIRED" in aimed and failed == aimed
    assert not [r for r in report["results"] if r["verdict"] == "ERROR"]
    out = proc.stdout
    block = out[out.index("TV-EXP-EXPIRED [FAIL]"):]
    for label in ("expected:", "actual:", "requirement:", "remediation:", "reproduce:"):
        assert label in block, label
    assert "HTTP 200" in block  # what happened
    assert "RFC 7519" in block  # the requirement
    repro = next(line for line in block.splitlines() if "reproduce:" in line).split("reproduce:", 1)[1].strip()
    assert repro == f"cognito-harness run --target {spec} --seed 7 -k TV-EXP-EXPIRED"
    # the one-liner reproduces exactly that failure
    again = cli(*shlex.split(repro)[1:], cwd=tmp_path)
    assert again.returncode == 1
    assert "[1/1] FAIL  TV-EXP-EXPIRED" in again.stdout


def test_unreachable_target_is_exit_2_naming_the_address(tmp_path: Path) -> None:
    port = free_port()
    spec = tmp_path / "gone.toml"
    spec.write_text(f'[target]\nname = "gone"\nbase_url = "http://127.0.0.1:{port}"\nready_timeout = 1\n'
                    '[requests.protected]\npath = "/api/protected"\n')
    proc = cli("run", "--target", str(spec), "-k", "TV-ACCESS-VALID or TV-SIG", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"target unreachable at http://127.0.0.1:{port}" in proc.stdout
    assert "ERROR" in proc.stdout


def test_expected_failures_accept_a_known_gap_and_stale_entries_fail_the_run(tmp_path: Path) -> None:
    spec = str(FLAWED / "no_exp_check.toml")
    select = "TV-EXP-EXPIRED or TV-ALG-NONE"
    accepted = tmp_path / "accepted.toml"
    accepted.write_text('[[expected_failure]]\nid = "TV-EXP-EXPIRED"\ncomment = "JIRA-123: exp check lands in v2"\n')
    proc = cli("run", "--target", spec, "-k", select, "--expected-failures", str(accepted), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[expected failure: JIRA-123: exp check lands in v2]" in proc.stdout
    assert "1 failed (1 expected)" in proc.stdout

    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps([{"id": "TV-EXP-EXPIRED", "comment": "known"},
                                 {"id": "TV-ALG-NONE", "comment": "fixed long ago"}]))
    proc = cli("run", "--target", spec, "-k", select, "--expected-failures", str(stale), cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Stale expected failures" in proc.stdout
    assert "  TV-ALG-NONE" in proc.stdout.split("Stale expected failures", 1)[1]

    bad = tmp_path / "bad.toml"
    bad.write_text('[[expected_failure]]\ncheck = "TV-EXP-EXPIRED"\n')
    proc = cli("run", "--target", spec, "-k", select, "--expected-failures", str(bad), cwd=tmp_path)
    assert proc.returncode == 2 and "bad.toml" in proc.stderr


def test_backend_url_skips_control_plane_checks_with_the_reason(tmp_path: Path, moto_server: str) -> None:
    proc = cli("run", "--backend", moto_server, "--json", "out.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "out.json").read_text())
    catalogue = load_catalogue()
    by_id = {r["check_id"]: r for r in report["results"]}
    needs_control = [i for i in by_id if catalogue[i].control_plane]
    neutral = [i for i in by_id if not catalogue[i].control_plane]
    assert needs_control and neutral
    for check_id in needs_control:
        assert by_id[check_id]["verdict"] == "SKIP"
        assert "control plane" in by_id[check_id]["reason"] and moto_server in by_id[check_id]["reason"]
    for check_id in neutral:  # PASS, or SKIP for a reason of the app's own (never the backend's)
        assert by_id[check_id]["verdict"] in ("PASS", "SKIP"), by_id[check_id]["reason"]
        assert by_id[check_id]["verdict"] == "PASS" or "control plane" not in by_id[check_id]["reason"]
    assert sum(1 for i in neutral if by_id[i]["verdict"] == "PASS") > len(neutral) // 2
    assert f"backend {moto_server}" in proc.stdout


def test_bad_usage_is_exit_2_with_a_message(tmp_path: Path) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text('[target]\nname = "x"\nbase_url = "http://127.0.0.1:1"\n[requests.protected]\nmethod = 5\n'
                    'path = "/p"\n')
    proc = cli("run", "--target", str(spec), cwd=tmp_path)
    assert proc.returncode == 2
    assert f"{spec}: [requests.protected].method: expected one of" in proc.stderr
    proc = cli("run", "-k", "(TV-ALG", cwd=tmp_path)
    assert proc.returncode == 2 and "missing ')'" in proc.stderr
    proc = cli("run", "--family", "no-such-family", cwd=tmp_path)
    assert proc.returncode == 2 and "no-such-family" in proc.stderr
    proc = cli("run", "--backend", "ftp://x", "-k", "TV-ACCESS-VALID", cwd=tmp_path)
    assert proc.returncode == 2 and "--backend must be" in proc.stderr and "[1/" not in proc.stdout
    proc = cli("run", "--keep", "-k", "TV-ACCESS-VALID", cwd=tmp_path)
    assert proc.returncode == 2 and "--keep keeps the pools a run made on a --backend URL" in proc.stderr


def test_list_prints_the_catalogue_with_ids_and_references(tmp_path: Path) -> None:
    proc = cli("list", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    catalogue = load_catalogue()
    for s in catalogue.values():
        assert s.id in proc.stdout
        assert s.requirements[0] in proc.stdout
    assert f"{len(catalogue)} checks" in proc.stdout
    proc = cli("list", "--format", "json", "--family", "token-validation", cwd=tmp_path)
    rows = json.loads(proc.stdout)
    assert {r["id"] for r in rows} == {s.id for s in catalogue.values() if s.family == "token-validation"}
    assert all(r["remediation"] and r["severity"] in ("MUST", "SHOULD") for r in rows)

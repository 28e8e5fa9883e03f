"""The runner in-process: the data model, selection, expected failures, and one real run against the
reference app that checks verdict mapping, steps, evidence, masking, determinism and cold restarts."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Iterator

import pytest

from harness.runner.engine import (
    ExpectedFailuresError,
    RunOptions,
    Selection,
    apply_expected_failures,
    load_expected_failures,
    run,
)
from harness.results import CheckResult, Evidence, RunHeader, RunResult, StepRecord, Verdict
from harness.runner.scenario import (
    CATALOGUE,
    Failure,
    Scenario,
    SelectionError,
    Skip,
    keyword_matcher,
    load_catalogue,
    scenario,
    select,
)
from harness.runner.sinks import RunSink
from harness.runner.spec import bundled_spec_path, load_spec
from harness.runner.target import HarnessError


def header(**kw) -> RunHeader:
    base = dict(tool_version="0.1.0", seed=1, target="t", target_sha256="0" * 64, pool_definition={},
                profile="baseline", selection=[], backend="emulator", started_at="2026-01-01T00:00:00Z",
                command=["cognito-harness", "run"])
    base.update(kw)
    return RunHeader(**base)


def check(check_id: str, verdict: Verdict, **kw) -> CheckResult:
    return CheckResult(check_id=check_id, family="f", title="t", severity="MUST", profile="baseline",
                       requirements=["R"], remediation="fix", verdict=verdict, **kw)


# --- the model ------------------------------------------------------------------------------------


def test_run_result_round_trips_through_json() -> None:
    step = StepRecord(0, "call protected", "failed", "refused", [Evidence("http", "GET /", {"status": 200})], 12.5)
    result = RunResult(header(selection=["A", "B"]), [
        check("A", Verdict.FAIL, expected="401", actual="200", steps=[step], evidence=[Evidence("note", "n", {})]),
        check("B", Verdict.SKIP, reason="no spec request"),
    ], stale_expected_failures=["C"], duration_s=1.5, target_logs=[Evidence("log", "stdout", {"lines": ["x"]})])
    again = RunResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again.to_dict() == result.to_dict()
    assert again.results[0].steps[0].evidence[0].data == {"status": 200}
    assert result.to_dict()["counts"] == {"PASS": 0, "FAIL": 1, "SKIP": 1, "ERROR": 0, "total": 2}


@pytest.mark.parametrize(
    ("verdicts", "accepted", "stale", "code"),
    [
        ([Verdict.PASS, Verdict.SKIP], False, [], 0),
        ([Verdict.PASS, Verdict.FAIL], False, [], 1),
        ([Verdict.PASS, Verdict.FAIL], True, [], 0),
        ([Verdict.PASS], False, ["X"], 1),
        # a FAIL is never hidden by an ERROR: 1 whenever something unexpectedly FAILed
        ([Verdict.FAIL, Verdict.ERROR], False, [], 1),
        ([Verdict.ERROR, Verdict.FAIL, Verdict.SKIP], False, [], 1),
        ([Verdict.ERROR], False, ["X"], 1),  # a stale expected-failure entry is a failure of the run too
        # 2 only when nothing FAILed (or every FAIL was accepted) and something ERRORed
        ([Verdict.PASS, Verdict.ERROR], False, [], 2),
        ([Verdict.ERROR, Verdict.SKIP], False, [], 2),
        ([Verdict.FAIL, Verdict.ERROR], True, [], 2),
        ([Verdict.FAIL], True, [], 0),
        ([], False, [], 0),
    ],
)
def test_exit_codes(verdicts, accepted, stale, code) -> None:
    results = [check(f"C{i}", v, expected_failure="ok" if accepted and v is Verdict.FAIL else "")
               for i, v in enumerate(verdicts)]
    assert RunResult(header(), results, stale_expected_failures=stale).exit_code() == code


# --- selection --------------------------------------------------------------------------------------


def fake(id_: str, title: str, family: str = "fam", profile: str = "baseline") -> Scenario:
    return Scenario(id=id_, family=family, title=title, severity="MUST", profile=profile, requirements=(),
                    remediation="x", fn=lambda ctx: None)


def test_keyword_expressions() -> None:
    s = fake("TV-ALG-NONE", "Unsigned tokens are refused")
    assert keyword_matcher("alg")(s) and keyword_matcher("ALG and unsigned")(s)
    assert not keyword_matcher("alg and not unsigned")(s)
    assert keyword_matcher("(exp or none) and tv")(s)
    assert keyword_matcher("tv-alg-*")(s) and not keyword_matcher("tv-exp-*")(s)
    for bad in ("(alg", "alg and", "or alg", "alg )"):
        with pytest.raises(SelectionError):
            keyword_matcher(bad)


def test_select_by_profile_family_keyword_and_ids() -> None:
    cat = {s.id: s for s in (fake("A-ONE", "one"), fake("A-TWO", "two", profile="strict"),
                             fake("B-ONE", "three", family="other"))}
    assert [s.id for s in select(cat, profile="baseline")] == ["A-ONE", "B-ONE"]
    assert [s.id for s in select(cat, profile="strict")] == ["A-ONE", "A-TWO", "B-ONE"]
    assert [s.id for s in select(cat, profile="strict", families=["fam"])] == ["A-ONE", "A-TWO"]
    assert [s.id for s in select(cat, profile="strict", keyword="one")] == ["A-ONE", "B-ONE"]
    assert [s.id for s in select(cat, ids=["B-ONE", "A-TWO"])] == ["B-ONE", "A-TWO"]
    with pytest.raises(SelectionError, match="no such family"):
        select(cat, families=["nope"])
    with pytest.raises(SelectionError, match="--profile"):
        select(cat, profile="paranoid")
    with pytest.raises(SelectionError, match="unknown check id"):
        select(cat, ids=["Z-Z"])


def test_scenario_decorator_validates_metadata() -> None:
    for kwargs, message in (
        ({"id": "lower-case"}, "must look like"),
        ({"severity": "MAY"}, "severity"),
        ({"profile": "paranoid"}, "profile"),
        ({"remediation": " "}, "remediation"),
        ({"needs": ["nonexistent"]}, "unknown request"),
    ):
        args = {"id": "TEST-META-BAD", "family": "f", "title": "t", "remediation": "fix", **kwargs}
        with pytest.raises(ValueError, match=message):
            scenario(**args)(lambda ctx: None)
    assert "TEST-META-BAD" not in CATALOGUE


def test_catalogue_checks_carry_references_and_remediation() -> None:
    catalogue = load_catalogue()
    assert len([s for s in catalogue.values() if s.family == "token-validation"]) >= 10
    for s in catalogue.values():
        assert s.requirements and s.remediation and s.severity in ("MUST", "SHOULD")


# --- expected failures --------------------------------------------------------------------------------


def test_expected_failure_files(tmp_path: Path) -> None:
    toml = tmp_path / "ef.toml"
    toml.write_text('[[expected_failure]]\nid = "A"\ncomment = "gap"\n[[expected_failure]]\nid = "B"\n')
    assert load_expected_failures(toml) == {"A": "gap", "B": ""}
    js = tmp_path / "ef.json"
    js.write_text(json.dumps(["A", {"id": "B", "comment": "c"}]))
    assert load_expected_failures(js) == {"A": "", "B": "c"}
    for text, message in (('[[expected_failure]]\nname = "A"\n', "expected a check id"),
                          ('[[expected_failure]]\nid = "A"\nwhy = "x"\n', "unknown key 'why'"),
                          ("other = 1\n", "unknown key 'other'"),
                          ("[[expected_failure\n", "expected a TOML or JSON")):
        bad = tmp_path / "bad.toml"
        bad.write_text(text)
        with pytest.raises(ExpectedFailuresError, match=message):
            load_expected_failures(bad)


def test_apply_expected_failures_marks_and_finds_stale_entries() -> None:
    result = RunResult(header(), [check("A-A", Verdict.FAIL), check("B-B", Verdict.PASS), check("C-C", Verdict.SKIP)])
    apply_expected_failures(result, {"A-A": "known", "B-B": "", "C-C": "", "D-D": ""})
    assert result.results[0].expected_failure == "known"
    # B passed (stale); C skipped and D not selected say nothing (an id naming no check is refused when the
    # file is read: tests/test_expected_failures.py)
    assert result.stale_expected_failures == ["B-B"]
    assert result.exit_code() == 1


# --- a real run against the reference app ----------------------------------------------------------------


@pytest.fixture()
def temp_scenarios() -> Iterator[list[str]]:
    """Register throwaway scenarios for one test, then remove them from the catalogue."""
    before = set(CATALOGUE)

    @scenario(id="TEST-RUN-SKIP", family="test", title="skips", remediation="n/a", needs=["protected"])
    def _skip(ctx) -> None:
        ctx.user()
        before = ctx.now()
        assert ctx.advance(3600) == before + 3600  # the pool's clock is frozen per scenario: exact
        raise Skip("not applicable here")

    @scenario(id="TEST-RUN-BOOM", family="test", title="crashes", remediation="n/a")
    def _boom(ctx) -> None:
        raise KeyError("surprise")

    @scenario(id="TEST-RUN-HARNESS", family="test", title="harness error", remediation="n/a")
    def _harness(ctx) -> None:
        raise HarnessError("the pool refused the setup")

    @scenario(id="TEST-RUN-FAIL", family="test", title="fails", remediation="n/a", needs=["protected"])
    def _fail(ctx) -> None:
        user = ctx.user()
        ctx.scratch["user"] = user
        ctx.note("who", username=user.username, sub=user.sub)
        raise Failure("the app did X", expected="Y", actual="X")

    @scenario(id="TEST-RUN-COLD", family="test", title="cold app", remediation="n/a", cold_app=True,
              control_plane=False)
    def _cold(ctx) -> None:
        ctx.note("cold start")

    @scenario(id="TEST-RUN-NEEDS", family="test", title="needs login", remediation="n/a", needs=["login"])
    def _needs(ctx) -> None:
        raise AssertionError("never runs")

    @scenario(id="TEST-RUN-TENANT", family="test", title="tenant admin via groups", remediation="n/a",
              needs=["tenant_admin"])
    def _tenant(ctx) -> None:
        admin = ctx.tenant_user("acme", admin=True)
        assert set(admin.groups) == {"tenant-acme-member", "tenant-acme-admin"}
        token = ctx.sign_in(admin).access_token
        ctx.expect_allowed(ctx.call("tenant_admin", token=token, tenant="acme"), "admin of acme")
        ctx.expect_denied(ctx.call("tenant_admin", token=token, tenant="globex"), "not admin of globex")
        ctx.api("AdminRemoveUserFromGroup", Username=admin.username, GroupName="tenant-acme-admin")
        fresh = ctx.sign_in(admin).access_token
        ctx.expect_denied(ctx.call("tenant_admin", token=fresh, tenant="acme"), "removed from acme's admins")
        ctx.expect_allowed(ctx.call("tenant_member", token=fresh, tenant="acme"), "still a member of acme")

    yield ["TEST-RUN-SKIP", "TEST-RUN-BOOM", "TEST-RUN-HARNESS", "TEST-RUN-FAIL", "TEST-RUN-COLD", "TEST-RUN-NEEDS",
           "TEST-RUN-TENANT"]
    for key in set(CATALOGUE) - before:
        del CATALOGUE[key]


def test_verdicts_steps_and_evidence_of_a_real_run(tmp_path: Path, temp_scenarios: list[str]) -> None:
    base = load_spec(bundled_spec_path())
    # a spec without [requests.login] (nor the MFA answers that need it) to see the SKIP for a missing request
    text = bundled_spec_path().read_text()
    lines, skipping = [], False
    for line in text.splitlines():
        if line.startswith("[requests.login"):
            skipping = True
            continue
        if skipping and line.startswith("["):
            skipping = False
        if not skipping:  # relative paths keep pointing next to the bundled spec
            lines.append(line.replace("{spec_dir}", str(base.spec_dir))
                         .replace('definition = "', f'definition = "{base.spec_dir}/'))
    (tmp_path / "spec.toml").write_text("\n".join(lines))
    spec = load_spec(tmp_path / "spec.toml")

    ids = ["TV-ALG-NONE", *temp_scenarios]
    result = run(spec, RunOptions(seed=11, ids=ids, command=["test"]))
    by_id = {r.check_id: r for r in result.results}
    assert [r.check_id for r in result.results] == ids

    assert by_id["TV-ALG-NONE"].verdict is Verdict.PASS
    assert by_id["TEST-RUN-SKIP"].verdict is Verdict.SKIP and by_id["TEST-RUN-SKIP"].reason == "not applicable here"
    assert by_id["TEST-RUN-BOOM"].verdict is Verdict.ERROR and "KeyError" in by_id["TEST-RUN-BOOM"].reason
    assert by_id["TEST-RUN-HARNESS"].verdict is Verdict.ERROR
    assert by_id["TEST-RUN-HARNESS"].reason == "the pool refused the setup"
    failed = by_id["TEST-RUN-FAIL"]
    assert (failed.verdict, failed.expected, failed.actual) == (Verdict.FAIL, "Y", "X")
    assert failed.reproduction == f"cognito-harness run --target {spec.path} --seed 11 -k TEST-RUN-FAIL"
    assert by_id["TEST-RUN-COLD"].verdict is Verdict.PASS
    needs = by_id["TEST-RUN-NEEDS"]
    assert needs.verdict is Verdict.SKIP and "has no [requests.login]" in needs.reason
    assert result.exit_code() == 1  # TEST-RUN-FAIL failed: the ERRORs of BOOM and HARNESS do not hide it
    tenant = by_id["TEST-RUN-TENANT"]
    assert tenant.verdict is Verdict.PASS, tenant.reason
    api_step = next(st for st in tenant.steps if st.name == "pool: AdminRemoveUserFromGroup")
    assert api_step.evidence[0].data["params"]["GroupName"] == "tenant-acme-admin"
    assert api_step.evidence[0].data["params"]["UserPoolId"].startswith("us-east-1_")

    # steps and evidence of the alg-none check
    alg = by_id["TV-ALG-NONE"]
    names = [s.name for s in alg.steps]
    assert names[0].startswith("create user") and names[1].startswith("sign in")
    assert any(n.startswith("attack: alg 'nOnE'") for n in names)
    assert all(s.outcome == "ok" for s in alg.steps)
    assert [s.index for s in alg.steps] == list(range(len(alg.steps)))
    tokens = [e for s in alg.steps for e in s.evidence if e.kind == "token"]
    assert {t.data["header"]["alg"] for t in tokens if "header" in t.data} >= {"RS256", "none", "nOnE"}
    http = [e for s in alg.steps for e in s.evidence if e.kind == "http"]
    assert http and all(e.data["masked"] for e in http)
    auth_values = [e.data["request"]["headers"]["Authorization"] for e in http]
    assert all(v.startswith("Bearer <masked ") for v in auth_values)
    assert "eyJ" not in json.dumps(alg.to_dict())  # no raw token anywhere in the evidence
    events = [e for e in alg.evidence if e.kind == "event"]
    assert events and any(ev["type"] == "token.minted" for ev in events[0].data["events"])
    logs = [e for e in alg.evidence if e.kind == "log"]
    assert logs and any("/api/protected" in line for e in logs for line in e.data["lines"])
    # the target was restarted once for the cold scenario; both starts are in the run's logs
    titles = [e.title for e in result.target_logs]
    assert "target stdout (start #1)" in titles and "target stdout (start #2)" in titles
    assert result.header.selection == ids and result.header.seed == 11
    named = tomllib.loads(spec.pool_definition_path().read_text())["pool"]["name"]  # the spec's own pool
    assert result.header.pool_definition["definition"]["pool"]["name"] == named


def test_same_seed_same_users_whatever_the_order(temp_scenarios: list[str]) -> None:
    spec = load_spec(bundled_spec_path())

    subs: dict[str, set[str]] = {}

    def who(ids: list[str]) -> dict:
        result = run(spec, RunOptions(seed=5, ids=ids))
        for r in result.results:
            notes = [e for s in r.steps for e in s.evidence if e.kind == "note" and "sub" in e.data]
            subs.setdefault(r.check_id, set()).update(e.data["sub"] for e in notes)
        fail = next(r for r in result.results if r.check_id == "TEST-RUN-FAIL")
        everything = [*fail.evidence, *(e for s in fail.steps for e in s.evidence)]
        return next(e for e in everything if e.title == "who").data

    first = who(["TEST-RUN-FAIL"])
    second = who(["TEST-RUN-SKIP", "TV-ACCESS-VALID", "TEST-RUN-FAIL"])
    assert first == second and first["sub"]
    # another scenario's users never share a sub with this one's (the app's own state is keyed by sub)
    assert subs["TV-ACCESS-VALID"] and not subs["TV-ACCESS-VALID"] & subs["TEST-RUN-FAIL"]
    other_seed = run(spec, RunOptions(seed=6, ids=["TEST-RUN-FAIL"])).results[0]
    assert json.dumps(other_seed.to_dict()).count(first["username"]) == 0


def test_an_exact_check_id_selects_only_that_check() -> None:
    cat = {s.id: s for s in (fake("TV-EXP-EXPIRED", "a"), fake("TV-EXP-EXPIRED-ID", "b"),
                             fake("TV-STRICT-ONE", "c", profile="strict"))}
    assert [s.id for s in select(cat, keyword="TV-EXP-EXPIRED")] == ["TV-EXP-EXPIRED"]
    assert [s.id for s in select(cat, keyword="tv-exp-expired")] == ["TV-EXP-EXPIRED"]
    assert [s.id for s in select(cat, keyword="TV-EXP")] == ["TV-EXP-EXPIRED", "TV-EXP-EXPIRED-ID"]
    assert [s.id for s in select(cat, keyword="TV-STRICT-ONE")] == ["TV-STRICT-ONE"]


class RecordingSink(RunSink):
    """Writes down every event the run sends it."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def run_started(self, header: RunHeader) -> None:
        self.events.append(("run_started", list(header.selection)))

    def check_started(self, scenario: Scenario) -> None:
        self.events.append(("check_started", scenario.id))

    def check_finished(self, check: CheckResult) -> None:
        self.events.append(("check_finished", (check.check_id, check.verdict)))

    def run_finished(self, result: RunResult) -> None:
        self.events.append(("run_finished", result))


def test_a_given_selection_runs_as_it_is_and_every_sink_hears_each_step(temp_scenarios: list[str]) -> None:
    spec = load_spec(bundled_spec_path())
    catalogue = load_catalogue()
    chosen = Selection(catalogue, [catalogue["TEST-RUN-SKIP"], catalogue["TEST-RUN-BOOM"]])
    first, second = RecordingSink(), RecordingSink()
    # the options would select nothing: the selection given is not made again from them
    unknown = RunOptions(keyword="NOTHING-MATCHES-THIS", expected_failures={"TEST-RUN-SKIP": "", "NO-SUCH-CHECK": ""})
    with pytest.raises(ExpectedFailuresError, match="'NO-SUCH-CHECK' is not a check"):
        run(spec, unknown, sinks=[first], selection=chosen)
    assert first.events == []  # refused before any sink heard anything
    options = RunOptions(keyword="NOTHING-MATCHES-THIS", expected_failures={"TEST-RUN-SKIP": ""})
    result = run(spec, options, sinks=[first, second], selection=chosen)
    assert [r.check_id for r in result.results] == ["TEST-RUN-SKIP", "TEST-RUN-BOOM"]
    assert first.events == second.events == [
        ("run_started", ["TEST-RUN-SKIP", "TEST-RUN-BOOM"]),
        ("check_started", "TEST-RUN-SKIP"), ("check_finished", ("TEST-RUN-SKIP", Verdict.SKIP)),
        ("check_started", "TEST-RUN-BOOM"), ("check_finished", ("TEST-RUN-BOOM", Verdict.ERROR)),
        ("run_finished", result),
    ]
    # run_finished comes after the expected failures are applied: a listed SKIP is neither accepted nor stale
    assert result.stale_expected_failures == [] and not result.results[0].expected_failure

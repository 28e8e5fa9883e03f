"""``pytest --cognito-target spec.toml``: the scenario catalogue as native pytest items.

One item per selected check, named by its stable ID under
``cognito-harness::<family>::<ID>`` (so JUnit shows ``classname`` =
``cognito-harness.<family>``), with markers ``cognito``,
``cognito_family_<family>``, ``cognito_profile_<profile>`` and
``cognito_severity_<must|should>`` (registered, so ``--strict-markers`` is fine).
``-k`` and ``-m`` select as usual (``-k`` also sees the family and aliases).

The whole selection runs once per session (one launch of the target, one
backend) when the first item sets up, then each item reports its verdict:
PASS -> passed, FAIL -> failed with expected/actual/requirement/remediation and
the evidence, FAIL accepted by ``--cognito-expected-failures`` -> xfailed,
SKIP -> skipped with the reason, ERROR -> error (raised in setup).
The session's exit status is pytest's own: 1 when any item failed or errored
(a FAIL is never hidden by an ERROR, as with the CLI) or an expected-failure
entry is stale; the CLI alone tells "could not test" (2) from "found" (1).
``--collect-only`` never starts the target.

The hooks here are loaded by ``harness.pytest.plugin`` (the package's pytest11
entry point, through its ``pytest_plugins``); they do nothing unless
``--cognito-target`` is given. ``--cognito-seed`` is defined here and shared:
that plugin's fixtures read the same value.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from _pytest._code.code import ReprFileLocation, TerminalRepr  # the crash line pytest's summaries show
from _pytest.outcomes import Skipped

from harness.reports import evidence_summary, printable
from harness.results import CheckResult, RunResult, Verdict
from harness.runner.scenario import PROFILES, SEVERITIES, Scenario, SelectionError, load_catalogue

TOP = "cognito-harness"


def _runner() -> SimpleNamespace:
    """The runner, imported only when ``--cognito-target`` is given.

    Deliberately lazy (the one lazy import of this module): these hooks load in every pytest
    session (through harness.pytest.plugin), and the runner pulls in the whole emulator.
    Module attributes are looked up at call time, so a test may stand in for them.
    """
    from harness.runner import engine, sinks, spec, transcript_signature

    return SimpleNamespace(engine=engine, report_files=sinks.report_files, load_spec=spec.load_spec,
                           SpecError=spec.SpecError, signing=transcript_signature)


class _State:
    """Per-session: the spec, options, selection (made once, at configure) and, after the first setup, the result."""

    def __init__(self, spec: Any, options: Any, selection: Any) -> None:
        self.spec = spec
        self.options = options
        self.selection = selection  # harness.runner.engine.Selection
        self.result: RunResult | None = None
        self.by_id: dict[str, CheckResult] = {}
        self.run_error: str | None = None
        self.reports: list[str] = []
        self.report_errors: list[str] = []
        self.signers: list[Any] = []  # who signs the transcript (--cognito-sign-key / --cognito-hmac-key)


_STATE = pytest.StashKey[_State]()


def marker_name(kind: str, value: str) -> str:
    """``cognito_family_token_validation`` from ("family", "token-validation")."""
    return f"cognito_{kind}_" + re.sub(r"[^0-9a-zA-Z]+", "_", value).strip("_").lower()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cognito-harness", "cognito-harness: run the scenario catalogue against a target app")
    group.addoption("--cognito-target", metavar="SPEC", default=None,
                    help="target spec (TOML): run the cognito-harness checks against this app as pytest items")
    group.addoption("--cognito-profile", choices=PROFILES, default="baseline",
                    help="baseline (default) or strict (adds the strict checks)")
    # shared with harness.pytest.plugin's fixtures (which read it too; None -> their default)
    group.addoption("--cognito-seed", type=int, default=None, metavar="N",
                    help="seed fixing users, codes, keys and ids of the run and of the emulator fixtures "
                         "(run default: the CLI's default seed)")
    group.addoption("--cognito-backend", default="emulator", metavar="emulator|URL",
                    help="pool backend: the in-process emulator (default) or a cognito-idp endpoint URL")
    group.addoption("--cognito-family", action="append", default=[], metavar="FAMILY",
                    help="only this family (repeatable)")
    group.addoption("--cognito-expected-failures", metavar="FILE", default=None,
                    help="accepted FAILs (reported as xfail); entries that no longer fail are reported")
    group.addoption("--cognito-json", metavar="FILE", default=None, help="also write the JSON report")
    group.addoption("--cognito-html", metavar="FILE", default=None, help="also write the HTML report")
    group.addoption("--cognito-transcript", metavar="FILE", default=None, help="also write the transcript")
    group.addoption("--cognito-sign-key", metavar="KEY.pem", default=None,
                    help="sign the transcript with this Ed25519 key (default: $COGNITO_HARNESS_SIGNING_KEY)")
    group.addoption("--cognito-hmac-key", metavar="SECRET", default=None,
                    help="also sign it with HMAC-SHA256 of this secret (default: $COGNITO_HARNESS_TRANSCRIPT_HMAC_KEY)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cognito: a cognito-harness check run against --cognito-target")
    for profile in PROFILES:
        config.addinivalue_line("markers", f"{marker_name('profile', profile)}: a check of the {profile} profile")
    for severity in SEVERITIES:
        config.addinivalue_line("markers", f"{marker_name('severity', severity)}: a {severity} check")
    spec_path = config.getoption("cognito_target", None)
    if not spec_path:
        return
    runner = _runner()
    engine = runner.engine
    try:
        spec = runner.load_spec(spec_path)
    except Exception as exc:  # noqa: BLE001 - SpecError names file and key: a usage error
        raise pytest.UsageError(f"--cognito-target: {exc}") from None
    expected: dict[str, str] = {}
    if config.getoption("cognito_expected_failures"):
        try:
            expected = engine.load_expected_failures(config.getoption("cognito_expected_failures"), load_catalogue())
        except engine.ExpectedFailuresError as exc:
            raise pytest.UsageError(f"--cognito-expected-failures: {exc}") from None
    seed = config.getoption("cognito_seed", None)
    options = engine.RunOptions(
        profile=config.getoption("cognito_profile"),
        families=list(config.getoption("cognito_family")),
        seed=engine.RunOptions().seed if seed is None else seed,
        backend=config.getoption("cognito_backend"),
        expected_failures=expected,
        command=["pytest", *runner.signing.redact_secrets(list(config.invocation_params.args))],
    )
    try:
        selection = engine.select_checks(spec, options)
    except runner.SpecError as exc:
        raise pytest.UsageError(f"--cognito-target: {exc}") from None
    except SelectionError as exc:
        raise pytest.UsageError(str(exc)) from None
    for family in sorted({s.family for s in selection.catalogue.values()}):
        config.addinivalue_line("markers", f"{marker_name('family', family)}: a check of the {family} family")
    config.stash[_STATE] = _State(spec, options, selection)
    try:
        config.stash[_STATE].signers = runner.signing.signers_for(
            config.getoption("cognito_sign_key"), config.getoption("cognito_hmac_key"), os.environ)
    except runner.signing.SigningKeyError as exc:
        raise pytest.UsageError(str(exc)) from None


class CognitoCatalogue(pytest.Collector):
    """The top node (``cognito-harness``); its children are the families."""

    def __init__(self, *, scenarios: list[Scenario], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenarios = scenarios

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        by_family: dict[str, list[Scenario]] = {}
        for scenario in self.scenarios:
            by_family.setdefault(scenario.family, []).append(scenario)
        return [CognitoFamily.from_parent(self, name=family, scenarios=members)
                for family, members in by_family.items()]


class CognitoFamily(pytest.Collector):
    """One family of checks."""

    def __init__(self, *, scenarios: list[Scenario], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenarios = scenarios

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        return [CognitoCheck.from_parent(self, name=s.id, scenario=s) for s in self.scenarios]


class CheckRepr(TerminalRepr):
    """The failure text, with a one-line crash message for summaries and JUnit ``message``."""

    def __init__(self, text: str, message: str, path: str) -> None:
        self.text = text
        self.reprcrash = ReprFileLocation(path, 0, message)

    def toterminal(self, tw: Any) -> None:
        for line in self.text.splitlines():
            tw.line(line)


class CognitoCheckFailed(AssertionError):
    """The check's verdict is FAIL."""

    def __init__(self, text: str, message: str) -> None:
        super().__init__(text)
        self.message = message


class CognitoCheckError(Exception):
    """The check's verdict is ERROR (or the run could not produce one)."""

    def __init__(self, text: str, message: str = "") -> None:
        super().__init__(text)
        self.message = message or text.splitlines()[0]


def _skip(reason: str) -> None:
    """Skip, reported at the item's location (the spec) rather than at this line of the plugin."""
    try:
        raise Skipped(reason, _use_item_location=True)
    except TypeError:  # a pytest without the keyword
        pytest.skip(reason)


class CognitoCheck(pytest.Item):
    """One catalogue check; its verdict comes from the session's single run."""

    def __init__(self, *, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.check: CheckResult | None = None
        self.extra_keyword_matches.update({scenario.family, *scenario.aliases, *scenario.tags})
        for marker in ("cognito", marker_name("family", scenario.family), marker_name("profile", scenario.profile),
                       marker_name("severity", scenario.severity)):
            self.add_marker(marker)

    def setup(self) -> None:
        state = self.config.stash[_STATE]
        _run_once(self.session, state)
        if state.run_error:
            raise CognitoCheckError(state.run_error)
        check = state.by_id.get(self.name)
        if check is None:
            raise CognitoCheckError(f"the run produced no verdict for {self.name}")
        self.check = check
        if check.verdict is Verdict.ERROR:
            raise CognitoCheckError(evidence_summary(check), printable(f"ERROR: {check.reason}"))

    def runtest(self) -> None:
        check = self.check
        assert check is not None
        if check.verdict is Verdict.SKIP:
            _skip(printable(check.reason or "skipped"))
        if check.verdict is Verdict.FAIL:
            if check.expected_failure:
                pytest.xfail(printable(f"{check.reason} (accepted: {check.expected_failure})"))
            raise CognitoCheckFailed(evidence_summary(check), printable(check.reason or f"{check.check_id} failed"))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, (CognitoCheckFailed, CognitoCheckError)):
            state = self.config.stash[_STATE]
            return CheckRepr(str(excinfo.value), excinfo.value.message, str(state.spec.path))
        return super().repr_failure(excinfo, style=style)

    def _repr_failure_py(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        """Setup errors (verdict ERROR) get the same report as failures, not a harness traceback."""
        if isinstance(excinfo.value, CognitoCheckError):
            return self.repr_failure(excinfo, style)
        return super()._repr_failure_py(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        state = self.config.stash[_STATE]
        return Path(state.spec.path), 0, f"{self.name}: {self.scenario.title}"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Add the catalogue items before ``-k``/``-m`` deselect (hence tryfirst)."""
    state = config.stash.get(_STATE, None)
    if state is None:
        return
    top = CognitoCatalogue.from_parent(session, name=TOP, nodeid=TOP, scenarios=list(state.selection.checks))
    items.extend(session.genitems(top))  # collect reports and itemcollected hooks, as for files


def _run_once(session: pytest.Session, state: _State) -> None:
    """Run the checks still selected after ``-k``/``-m`` in one go (one target launch), writing the reports.

    The selection made at configure is narrowed to the items left, not made again; pytest's
    reporter is the terminal, the report files are the run's sinks.
    """
    if state.result is not None or state.run_error is not None:
        return
    runner = _runner()
    kept = dataclasses.replace(state.selection, checks=[item.scenario for item in session.items
                                                        if isinstance(item, CognitoCheck)])
    # pytest writes its own JUnit XML (--junit-xml): no --cognito-junit-xml, so that row finds no option
    files = runner.signing.signing_transcript(
        runner.report_files(lambda dest: session.config.getoption(f"cognito_{dest}", None)), state.signers)
    try:
        result = runner.engine.run(state.spec, state.options, sinks=files, selection=kept)
    except Exception as exc:  # noqa: BLE001 - every item then errors with the reason
        state.run_error = f"cognito-harness could not run the checks: {type(exc).__name__}: {exc}"
        return
    state.result = result
    state.by_id = {r.check_id: r for r in result.results}
    state.reports = [str(f.written) for f in files if f.written is not None]
    state.report_errors = [f.error for f in files if f.error is not None]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is None or (state.result is None and state.run_error is None):
        return
    tr = terminalreporter
    tr.section("cognito-harness")
    if state.run_error:
        tr.write_line(state.run_error)
        return
    result = state.result
    assert result is not None
    h = result.header
    counts = result.counts()
    tr.write_line(f"target {h.target} ({h.target_spec_path}), seed {h.seed}, profile {h.profile}, "
                  f"backend {h.backend}")
    tallies = [f"{v} {counts[v]}" for v in ("PASS", "FAIL", "SKIP", "ERROR")]
    tr.write_line("  ".join([*tallies, f"total {counts['total']}"]))
    if result.stale_expected_failures:
        tr.write_line("stale expected-failure entries (no longer fail; remove them): "
                      + ", ".join(result.stale_expected_failures), red=True)
    for path in state.reports:
        tr.write_line(f"wrote {path}")
    for error in state.report_errors:
        tr.write_line(error, red=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stale expected-failure entries and reports that could not be written fail the session, as in the CLI."""
    state = session.config.stash.get(_STATE, None)
    if state is None or state.result is None or exitstatus != 0:
        return
    if state.result.stale_expected_failures or state.report_errors:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


__all__ = ["CognitoCheck", "marker_name", "pytest_addoption", "pytest_collection_modifyitems", "pytest_configure",
           "pytest_sessionfinish", "pytest_terminal_summary"]

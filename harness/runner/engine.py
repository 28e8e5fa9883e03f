"""Run a selection of scenarios against a target and a pool backend, producing a RunResult.

The order of work for one run:

1. select scenarios once (profile, ``-k``, ``--family``, or an exact id list), or
   take a selection the caller made (pytest mode selects at collection);
2. start the pool backend and prepare the pool once (the coordinates the app
   receives through its environment);
3. start the target (a launch failure makes every selected check ERROR with
   the address tried);
4. for each scenario: SKIP when the spec lacks a needed request or the backend
   lacks the control plane; otherwise reset the pool to the run seed, then
   (and only then: see harness/runner/keeper.py) restart the app when the
   scenario wants it cold, an earlier check asked for it or took it down, or
   it does not answer; run the scenario and turn its outcome into a verdict
   with steps and evidence. A target that stops answering a request of the
   check FAILs the check; one that cannot be brought up for it ERRORs it;
5. stop the target and the backend, apply the expected-failures list.

Every step is told to the run's sinks (harness/runner/sinks.py): the terminal
printer, the report files.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from harness.version import __version__
from harness.awsendpoint.mode import AwsEndpointError, AwsEndpointMode
from harness.runner.backends import BackendError, PoolBackend, PoolPlan, make_backend
from harness.runner.context import ScenarioContext
from harness.coordinates import PoolCoordinates
from harness.runner.keeper import TargetKeeper
from harness.runner.launcher import LaunchError, LaunchOverlay, ProcessTarget, make_target
from harness.results import CheckResult, Evidence, RunHeader, RunResult, Verdict
from harness.runner.scenario import Failure, Scenario, Skip, load_catalogue, select
from harness.runner.sinks import RunSink
from harness.runner.spec import TargetSpec, bundled_spec_path
from harness.runner.specfile import validate_check_ids
from harness.runner.target import (
    DEFAULT_TIMEOUT,
    HarnessError,
    TargetClient,
    TargetStoppedAnswering,
    TargetUnreachable,
)

@dataclass
class RunOptions:
    profile: str = "baseline"
    keyword: str | None = None
    families: list[str] = field(default_factory=list)
    seed: int = 0
    backend: str = "emulator"
    ids: list[str] | None = None  # an exact selection (replay)
    command: list[str] = field(default_factory=list)
    expected_failures: dict[str, str] = field(default_factory=dict)  # check id -> comment
    request_timeout: float = DEFAULT_TIMEOUT  # seconds without an answer before the target counts as hung


class ExpectedFailuresError(ValueError):
    """A bad expected-failures file (bad usage: exit 2)."""


def load_expected_failures(path: str | Path) -> dict[str, str]:
    """Check ids a team accepts as failing, with a comment each.

    TOML: ``[[expected_failure]]`` tables with ``id`` and ``comment``, or a
    top-level ``expected_failures = [...]`` list. JSON: a list of ids or of
    ``{"id": ..., "comment": ...}`` objects (or ``{"expected_failures": [...]}``).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ExpectedFailuresError(f"{path}: cannot read the expected-failures file ({exc.strerror})") from None
    data: Any
    suffix = path.suffix.lower()
    parsers = [json.loads] if suffix == ".json" else [tomllib.loads] if suffix == ".toml" else [json.loads, tomllib.loads]
    errors = []
    for parse in parsers:
        try:
            data = parse(text)
            break
        except ValueError as exc:  # json.JSONDecodeError and tomllib.TOMLDecodeError are ValueErrors
            errors.append(str(exc))
    else:
        raise ExpectedFailuresError(f"{path}: expected a TOML or JSON expected-failures file ({errors[-1]})")
    if isinstance(data, dict):
        entries = data.get("expected_failure", data.get("expected_failures"))
        unknown = set(data) - {"expected_failure", "expected_failures"}
        if unknown:
            raise ExpectedFailuresError(f"{path}: unknown key {sorted(unknown)[0]!r}; expected 'expected_failure'")
    else:
        entries = data
    if not isinstance(entries, list):
        raise ExpectedFailuresError(f"{path}: expected a list of expected failures")
    out: dict[str, str] = {}
    for i, entry in enumerate(entries):
        if isinstance(entry, str):
            out[entry] = ""
        elif isinstance(entry, dict) and isinstance(entry.get("id"), str):
            extra = set(entry) - {"id", "comment"}
            if extra:
                raise ExpectedFailuresError(f"{path}: entry {i + 1}: unknown key {sorted(extra)[0]!r}")
            out[entry["id"]] = str(entry.get("comment", ""))
        else:
            raise ExpectedFailuresError(f"{path}: entry {i + 1}: expected a check id or a table with 'id'")
    return out


def reproduction(spec: TargetSpec, options: RunOptions, check_id: str) -> str:
    parts = ["cognito-harness", "run"]
    if spec.path.resolve() != bundled_spec_path():
        parts += ["--target", str(spec.path)]
    parts += ["--seed", str(options.seed)]
    if options.profile != "baseline":
        parts += ["--profile", options.profile]
    if options.backend not in ("", "emulator"):
        parts += ["--backend", options.backend]
    if options.request_timeout != DEFAULT_TIMEOUT:
        parts += ["--request-timeout", f"{options.request_timeout:g}"]
    parts += ["-k", check_id]
    return shlex.join(parts)


def _result(s: Scenario, verdict: Verdict, reason: str = "", **kw: Any) -> CheckResult:
    return CheckResult(
        check_id=s.id, family=s.family, title=s.title, severity=s.severity, profile=s.profile,
        requirements=list(s.requirements), remediation=s.remediation, verdict=verdict, reason=reason, **kw,
    )


class Runner:
    """One run: owns the backend and the target for its duration."""

    def __init__(self, spec: TargetSpec, options: RunOptions, sinks: Sequence[RunSink] = ()) -> None:
        self.spec = spec
        self.options = options
        self.sinks = tuple(sinks)
        self.plan = PoolPlan.for_spec(spec)
        self.backend: PoolBackend | None = None
        self.target: Any = None
        self.keeper: TargetKeeper | None = None
        self.coords: PoolCoordinates | None = None
        self.aws: AwsEndpointMode | None = None

    def header(self, selection: list[Scenario]) -> RunHeader:
        return RunHeader(
            tool_version=__version__,
            seed=self.options.seed,
            target=self.spec.name,
            target_sha256=self.spec.sha256,
            pool_definition=self.plan.describe(),
            profile=self.options.profile,
            selection=[s.id for s in selection],
            backend=self.options.backend or "emulator",
            started_at=datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
            command=list(self.options.command) or [sys.argv[0], *sys.argv[1:]],
            target_spec_path=str(self.spec.path),
            keyword=self.options.keyword or "",
            families=list(self.options.families),
        )

    @property
    def client(self) -> TargetClient | None:
        return self.keeper.client if self.keeper is not None else None

    def run(self, chosen: Selection | None = None) -> RunResult:
        """Run ``chosen`` as it is, or select from the options when None.

        Selecting raises SpecError (a [checks."ID"] naming no check) or SelectionError: bad usage.
        """
        chosen = chosen if chosen is not None else select_checks(self.spec, self.options)
        catalogue, selection = chosen.catalogue, chosen.checks
        result = RunResult(header=self.header(selection))
        for sink in self.sinks:
            sink.run_started(result.header)
        started = time.monotonic()
        try:
            setup_error = self._setup() if selection else None
            for s in selection:
                for sink in self.sinks:
                    sink.check_started(s)
                check = (_result(s, Verdict.ERROR, setup_error, reproduction=reproduction(self.spec, self.options, s.id))
                         if setup_error else self._run_one(s))
                result.results.append(check)
                for sink in self.sinks:
                    sink.check_finished(check)
        finally:
            self._teardown(result)
        apply_expected_failures(result, self.options.expected_failures, catalogue)
        result.duration_s = round(time.monotonic() - started, 3)
        for sink in self.sinks:
            sink.run_finished(result)
        return result

    # --- setup and teardown --------------------------------------------------------------------

    def _setup(self) -> str | None:
        """Start backend and target; an error message (every check ERRORs with it) or None."""
        try:
            self.backend = make_backend(self.options.backend, self.plan, self.options.seed)
            self.backend.start()
            self.coords = self.backend.prepare(self.options.seed)
        except BackendError as exc:
            return str(exc)
        except Exception as exc:  # noqa: BLE001 - an unreachable backend URL, a broken definition
            return f"pool backend {self.options.backend} failed: {type(exc).__name__}: {exc}"
        try:
            overlay = self._start_aws_endpoints(self.coords)
        except (AwsEndpointError, OSError) as exc:
            return f"AWS endpoint mode could not start: {exc}"
        if self.backend.target_env():  # the run directory the app shares with its bound triggers
            overlay = overlay or LaunchOverlay()
            overlay.env.update(self.backend.target_env())
        self.target = make_target(self.spec, self.coords, overlay)
        try:
            self.target.start()
        except LaunchError as exc:
            return str(exc)
        self.keeper = TargetKeeper(self.target, TargetClient(self.spec, self.target.base_url,
                                                             self.options.request_timeout))
        return None

    def _start_aws_endpoints(self, coords: PoolCoordinates) -> LaunchOverlay | None:
        """[aws].endpoints: CA, TLS front and proxy for this run; what the launched app gets from them."""
        if not self.spec.aws.endpoints:
            return None
        self.aws = AwsEndpointMode(coords.region, coords.endpoint, self.spec.aws.hosts_file).start()
        return LaunchOverlay(env=self.aws.app_env(coords.pool_id), command_prefix=self.aws.command_prefix())

    def _teardown(self, result: RunResult) -> None:
        if self.client is not None:
            self.client.close()
        if self.target is not None:
            try:
                self.target.stop()
            finally:
                result.target_logs = self.target.logs()
        if self.aws is not None:
            result.target_logs.extend(self.aws.evidence())
            self.aws.stop()
        if self.backend is not None:
            result.target_logs.extend(self.backend.function_logs())  # what the app's bound triggers printed
            self.backend.stop()

    # --- one scenario --------------------------------------------------------------------------

    def _skip_reason(self, s: Scenario) -> str | None:
        missing = self.spec.missing(s.needs)
        if missing:
            return f"target spec {self.spec.path.name} has no [requests.{missing[0]}] ({s.id} needs it)"
        if s.control_plane and self.backend is not None and self.backend.control is None:
            return (f"needs the emulator's control plane (clock, minting, events); backend "
                    f"{self.backend.name} has none")
        if s.cold_app and not (self.keeper is not None and self.keeper.restartable):
            return "needs a cold app restart, which the harness can only do for a target it launches"
        return None

    def _run_one(self, s: Scenario) -> CheckResult:
        repro = reproduction(self.spec, self.options, s.id)
        skip = self._skip_reason(s)
        if skip:
            return _result(s, Verdict.SKIP, skip, reproduction=repro)
        assert self.backend is not None and self.keeper is not None
        keeper = self.keeper
        started = time.monotonic()
        ctx: ScenarioContext | None = None
        log_mark = None
        verdict, reason, expected, actual = Verdict.PASS, "", "", ""
        down: list[Evidence] = []
        try:
            self.coords = self.backend.prepare(self.options.seed, s.id)
            restarted = keeper.before_check(s)  # every restart after the pool is in this check's state
            ctx = ScenarioContext(scenario=s, spec=self.spec, run_seed=self.options.seed, pool=self.coords,
                                  backend=self.backend, target=keeper.client,
                                  restart_target=keeper.restart_during_check if keeper.restartable else None,
                                  restart_before_next_check=keeper.owe_restart if keeper.restartable else None)
            if restarted:
                ctx.note(restarted)
            log_mark = self.target.mark() if isinstance(self.target, ProcessTarget) else None
            s.run(ctx)
        except TargetStoppedAnswering as exc:  # a request of this check took the target down: FAIL
            outage = keeper.stopped_answering(s.id, exc)
            verdict, reason, down = outage.verdict, outage.reason, outage.evidence
            if verdict is Verdict.FAIL:
                expected, actual = exc.expected, outage.actual
            elif ctx is not None:  # the app is still up: the step could not be judged, it did not fail
                for step in ctx.steps:
                    if step.outcome == "failed" and step.detail == str(exc):
                        step.outcome, step.detail = "error", reason
        except Failure as exc:
            verdict, reason, expected, actual = Verdict.FAIL, str(exc), exc.expected, exc.actual
        except Skip as exc:
            verdict, reason = Verdict.SKIP, str(exc)
        except TargetUnreachable as exc:
            keeper.unreachable(s.id)
            verdict, reason = Verdict.ERROR, str(exc)
        except (HarnessError, LaunchError, BackendError) as exc:
            verdict, reason = Verdict.ERROR, str(exc)
        except Exception as exc:  # noqa: BLE001 - a bug in a scenario or the backend: ERROR, never a crash
            verdict, reason = Verdict.ERROR, f"{type(exc).__name__}: {exc}"
        evidence: list[Evidence] = []
        steps = []
        if ctx is not None:
            if log_mark is not None:  # after a crash's last words were read (stopped_answering waits for them)
                ctx.evidence.extend(self.target.output_since(log_mark))
            ctx.evidence.extend(down)
            try:
                ctx.finish()
            except Exception:  # noqa: BLE001 - evidence collection must not change the verdict
                pass
            steps, evidence = ctx.steps, ctx.evidence
        if verdict is Verdict.ERROR and isinstance(self.target, ProcessTarget) and not self.target.running():
            reason += f" (the target process exited; last output:\n{self.target.output_tail()})"
        check = _result(s, verdict, reason, expected=expected, actual=actual, reproduction=repro, steps=steps,
                        evidence=evidence, duration_s=round(time.monotonic() - started, 3))
        accept_if_expected(check, self.options.expected_failures)
        return check


def accept_if_expected(check: CheckResult, expected: dict[str, str]) -> None:
    """A FAIL listed in the expected-failures file is accepted, with the file's comment."""
    if check.verdict is Verdict.FAIL and check.check_id in expected:
        check.expected_failure = expected[check.check_id] or "listed in the expected-failures file"


def apply_expected_failures(result: RunResult, expected: dict[str, str], catalogue: dict[str, Scenario]) -> None:
    """Mark accepted FAILs; list entries that did not fail (stale) so the run fails."""
    by_id = {r.check_id: r for r in result.results}
    stale = []
    for check_id in expected:
        r = by_id.get(check_id)
        if r is None:
            if check_id not in catalogue:
                stale.append(check_id)  # names no check at all: a typo or a removed check
            continue
        accept_if_expected(r, expected)
        if r.verdict is Verdict.PASS:
            stale.append(check_id)
    result.stale_expected_failures = stale


@dataclass(frozen=True)
class Selection:
    """What a run executes: the checks chosen from the catalogue (which stale expected failures are told against)."""

    catalogue: dict[str, Scenario]
    checks: list[Scenario]


def select_checks(spec: TargetSpec, options: RunOptions) -> Selection:
    """Load the catalogue, check the spec's ``[checks."ID"]`` names, and select once.

    Raises SpecError (a table naming no check) or SelectionError (a bad -k or family): bad usage.
    """
    catalogue = load_catalogue()
    validate_check_ids(spec, catalogue)
    checks = select(catalogue, profile=options.profile, keyword=options.keyword, families=options.families or None,
                    ids=options.ids)
    return Selection(catalogue, checks)


def run(spec: TargetSpec, options: RunOptions, sinks: Sequence[RunSink] = (),
        selection: Selection | None = None) -> RunResult:
    """Run ``selection`` (by default: select from ``options``), telling ``sinks`` each step.

    A given selection runs as it is: nothing is selected again. The target's output
    lands in ``result.target_logs``.
    """
    return Runner(spec, options, sinks).run(selection)


__all__ = ["ExpectedFailuresError", "RunOptions", "Runner", "Selection", "accept_if_expected", "apply_expected_failures",
           "load_expected_failures", "select_checks",
           "reproduction", "run"]

"""Run a selection of scenarios against a target and a pool backend, producing a RunResult.

The order of work for one run:

1. select scenarios once (profile, ``-k``, ``--family``, or an exact id list), or
   take a selection the caller made (pytest mode selects at collection);
2. start the pool backend and prepare the pool once (the coordinates the app
   receives through its environment), before any sink is told anything: a
   foreign backend that cannot serve the run raises BackendUnavailable (one
   error, exit 2) instead of an ERROR per check;
3. start the target (a launch failure makes every selected check ERROR with
   the address tried);
4. for each scenario: SKIP when the spec lacks a needed request or the backend
   lacks the control plane; otherwise reset the pool to the run seed, then
   (and only then: see harness/runner/keeper.py) restart the app when the
   scenario wants it cold, an earlier check asked for it or took it down, or
   it does not answer; run the scenario and turn its outcome into a verdict
   with steps and evidence. A target that stops answering a request of the
   check FAILs the check; one that cannot be brought up for it ERRORs it;
5. stop the target and the backend (a foreign one deletes the pools the run
   made, also on Ctrl-C; --keep lists them), apply the expected-failures list.

Every step is told to the run's sinks (harness/runner/sinks.py): the terminal
printer, the report files.
"""

from __future__ import annotations

import shlex
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Sequence

from harness.version import __version__
from harness.awsendpoint.mode import AwsEndpointError, AwsEndpointMode
from harness.runner.backends import BackendError, BackendUnavailable, PoolBackend, PoolPlan, make_backend
from harness.runner.context import ScenarioContext
from harness.coordinates import PoolCoordinates
from harness.runner.keeper import TargetKeeper
from harness.runner.expected import (ExpectedFailuresError, accept_if_expected, apply_expected_failures,
                                      check_known, load_expected_failures)
from harness.runner.launcher import LaunchError, LaunchOverlay, ProcessTarget, make_target
from harness.results import CheckResult, Evidence, RunHeader, RunResult, Verdict
from harness.runner.scenario import Failure, Scenario, Skip, control_plane_skip, load_catalogue, select
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
    keep: bool = False  # a foreign backend keeps the pools the run made (--keep); they are listed


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

        Selecting raises SpecError (a [checks."ID"] naming no check) or SelectionError, and an expected
        failure naming no check ExpectedFailuresError: bad usage.
        Raises BackendUnavailable (a foreign backend that cannot serve the run: unreachable, bad URL or
        credentials, pool refused) before any sink is told anything and any check runs.
        """
        chosen = chosen if chosen is not None else select_checks(self.spec, self.options)
        check_known(self.options.expected_failures, chosen.catalogue)  # an unknown id: bad usage, nothing runs
        selection = chosen.checks
        result = RunResult(header=self.header(selection))
        started = time.monotonic()
        backend_error = self._start_backend() if selection else None
        for sink in self.sinks:
            sink.run_started(result.header)
        self._tell_backend_notes()
        try:
            setup_error = (backend_error or self._setup()) if selection else None
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
        apply_expected_failures(result, self.options.expected_failures)
        result.duration_s = round(time.monotonic() - started, 3)
        for sink in self.sinks:
            sink.run_finished(result)
        return result

    # --- setup and teardown --------------------------------------------------------------------

    def _start_backend(self) -> str | None:
        """Start the backend and prepare the pool; an error message (every check ERRORs with it: a broken
        definition) or None. A foreign backend that cannot serve the run raises BackendUnavailable, after
        deleting whatever pool it made."""
        try:
            self.backend = make_backend(self.options.backend, self.plan, self.options.seed, keep=self.options.keep)
            self.backend.start()
            self.coords = self.backend.prepare(self.options.seed)
        except BackendUnavailable as exc:  # told as one error, with what the backend noted (credentials, cleanup)
            raise self._unavailable(exc) from None
        except BackendError as exc:
            return str(exc)
        except Exception as exc:  # noqa: BLE001 - a broken definition, a bug: every check ERRORs with it
            message = f"pool backend {self.options.backend} failed: {type(exc).__name__}: {exc}"
            if self.backend is not None and self.backend.foreign:
                raise self._unavailable(BackendUnavailable(message)) from None
            return message
        except BaseException:  # Ctrl-C while the pool is being made: delete what exists, then stop
            self._stop_backend()
            raise
        return None

    def _unavailable(self, exc: BackendUnavailable) -> BackendUnavailable:
        """Stop a backend that cannot serve the run; the error, with what it noted (credentials, cleanup)."""
        notes: list[str] = []
        if self.backend is not None:
            self.backend.stop()
            notes = self.backend.notes()
        return BackendUnavailable("\n".join([str(exc), *(f"  {note}" for note in notes)]))

    def _stop_backend(self) -> None:
        """Stop the backend (a foreign one deletes the pools the run made, or lists them with --keep)."""
        if self.backend is not None:
            try:
                self.backend.stop()
            finally:
                self._tell_backend_notes()

    def _tell_backend_notes(self) -> None:
        if self.backend is not None:
            for note in self.backend.notes():
                for sink in self.sinks:
                    sink.backend_note(note)

    def _setup(self) -> str | None:
        """Start the target (the backend is up); an error message (every check ERRORs with it) or None."""
        assert self.backend is not None and self.coords is not None
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
            self._stop_backend()

    # --- one scenario --------------------------------------------------------------------------

    def _skip_reason(self, s: Scenario) -> str | None:
        missing = self.spec.missing(s.needs)
        if missing:
            return f"target spec {self.spec.path.name} has no [requests.{missing[0]}]"
        if s.control_plane and self.backend is not None and self.backend.control is None:
            return control_plane_skip(s.control_plane_for, self.backend.name)
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


@dataclass(frozen=True)
class Selection:
    """What a run executes: the checks chosen from the catalogue."""

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

#!/usr/bin/env python3
"""cognito-harness vs moto_server, side by side in one run.

    python bench/run.py                      # defaults: about 1-2 minutes on 2 cores
    python bench/run.py --threads 8 --duration 10 --json bench.json

Both servers run as real subprocesses on free loopback ports. Measured:

* startup: spawn -> first answered ``ListUserPools`` (median of --startup-runs);
* throughput of sign-in (InitiateAuth USER_PASSWORD_AUTH), refresh
  (InitiateAuth REFRESH_TOKEN_AUTH) and GetUser with --threads keep-alive
  client threads (raw HTTP, see loadgen.py), after a warm-up;
* memory: VmRSS of each server process when idle after startup and after the load.

Every ratio is oriented so that > 1 means cognito-harness is better
(throughput harness/moto; startup, latency and memory moto/harness).
The process exits 1 if any call failed, and (with --strict) 2 if the
acceptance targets (sign-in and refresh >= 3x moto, startup no slower) are missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loadgen import (  # noqa: E402 - after the path tweak that lets ``python bench/run.py`` import siblings
    PhaseResult,
    Workload,
    call_json,
    get_user_workload,
    refresh_workload,
    run_phase,
    sign_in_workload,
)
from targets import (  # noqa: E402
    HOST,
    Target,
    harness_command,
    harness_start_mode,
    machine_busy_seconds,
    moto_command,
)

HARNESS, MOTO = "cognito-harness", "moto_server"
REGION = "us-east-1"
PASSWORD = "Bench-Passw0rd!"
THROUGHPUT_TARGET = 3.0
WORKLOAD_KEYS = ("sign_in", "refresh", "get_user")
BUSY_WARNING_CORES = 0.25  # outside CPU use during the load above which figures are flagged unreliable


@dataclass
class Machine:
    """How busy the machine was with work other than this bench while the load ran."""

    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    outside_cores: float | None = None  # average CPUs used by other processes during the load phases

    @property
    def busy(self) -> bool:
        return self.outside_cores is not None and self.outside_cores > BUSY_WARNING_CORES


@dataclass
class ServerResult:
    name: str
    command: list[str] = field(default_factory=list)
    pid: int | None = None  # the measured (last started) server process
    startup_runs: list[float] = field(default_factory=list)
    bare_startup_runs: list[float] = field(default_factory=list)  # harness only: Emulator without the CLI's pool
    rss_idle_kib: int | None = None
    rss_after_kib: int | None = None
    setup_seconds: float = 0.0
    phases: dict[str, PhaseResult] = field(default_factory=dict)

    @property
    def startup(self) -> float | None:
        return statistics.median(self.startup_runs) if self.startup_runs else None

    @property
    def bare_startup(self) -> float | None:
        return statistics.median(self.bare_startup_runs) if self.bare_startup_runs else None

    def errors(self) -> int:
        return sum(p.total_errors() for p in self.phases.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "pid": self.pid,
            "startup_seconds": {"median": self.startup, "runs": [round(s, 4) for s in self.startup_runs]},
            "bare_startup_seconds": {"median": self.bare_startup,
                                     "runs": [round(s, 4) for s in self.bare_startup_runs]},
            "rss_kib": {"idle_after_startup": self.rss_idle_kib, "after_load": self.rss_after_kib},
            "setup_seconds": round(self.setup_seconds, 3),
            "workloads": {k: p.summary() for k, p in self.phases.items()},
            "errors": self.errors(),
        }


# --- setup -------------------------------------------------------------------------------------


def boto3_client(target: Target) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("cognito-idp", endpoint_url=target.url, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"max_attempts": 1, "mode": "standard"}))


@dataclass
class Fixture:
    """What the load needs on one server: a client id, users, and a session per user."""

    client_id: str
    credentials: list[tuple[str, str]]
    refresh_tokens: list[str]
    access_tokens: list[str]

    def workloads(self) -> dict[str, Workload]:
        return {
            "sign_in": sign_in_workload(self.client_id, self.credentials),
            "refresh": refresh_workload(self.client_id, self.refresh_tokens),
            "get_user": get_user_workload(self.access_tokens),
        }


def set_up(target: Target, users: int) -> Fixture:
    """A pool, a public client allowing password and refresh auth, ``users`` confirmed users."""
    idp = boto3_client(target)
    pool_id = idp.create_user_pool(PoolName="bench")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="bench-client", GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    credentials = []
    for i in range(users):
        username = f"bench-user-{i:04d}"
        idp.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS",
                              TemporaryPassword="Temp-Passw0rd!",
                              UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}])
        idp.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=PASSWORD, Permanent=True)
        credentials.append((username, PASSWORD))
    refresh_tokens, access_tokens = [], []
    for username, password in credentials:  # one session per user, over the same raw client as the load
        result = call_json(HOST, target.port, "InitiateAuth", {
            "AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client_id,
            "AuthParameters": {"USERNAME": username, "PASSWORD": password},
        })["AuthenticationResult"]
        refresh_tokens.append(result["RefreshToken"])
        access_tokens.append(result["AccessToken"])
    return Fixture(client_id, credentials, refresh_tokens, access_tokens)


# --- reporting ---------------------------------------------------------------------------------


def _mib(kib: int | None) -> float | None:
    return None if kib is None else kib / 1024


def _ratio(harness: float | None, moto: float | None, higher_is_better: bool) -> float | None:
    """Oriented so > 1 means cognito-harness is better."""
    if harness is None or moto is None or harness <= 0 or moto <= 0:
        return None
    return harness / moto if higher_is_better else moto / harness


@dataclass
class Row:
    metric: str
    harness: float | None
    moto: float | None
    higher_is_better: bool
    fmt: str = "{:.1f}"

    @property
    def ratio(self) -> float | None:
        return _ratio(self.harness, self.moto, self.higher_is_better)

    @property
    def meaning(self) -> str:
        return "harness/moto, higher is better" if self.higher_is_better else "moto/harness, lower is better"

    def cells(self) -> list[str]:
        def show(v: float | None) -> str:
            return "n/a" if v is None else self.fmt.format(v)

        ratio = self.ratio
        return [self.metric, show(self.harness), show(self.moto),
                "n/a" if ratio is None else f"{ratio:.2f}x", self.meaning]


def build_rows(results: dict[str, ServerResult]) -> list[Row]:
    h, m = results.get(HARNESS), results.get(MOTO)

    def pick(fn: Callable[[ServerResult], float | None], r: ServerResult | None) -> float | None:
        return None if r is None else fn(r)

    rows = [Row("startup to first answered call (s)", pick(lambda r: r.startup, h), pick(lambda r: r.startup, m),
                False, "{:.3f}")]
    if h is not None and h.bare_startup_runs:
        rows.append(Row("startup, bare Emulator, no pool loaded (s)", h.bare_startup, pick(lambda r: r.startup, m),
                        False, "{:.3f}"))
    labels = {"sign_in": "sign-in", "refresh": "refresh", "get_user": "GetUser"}
    for key in WORKLOAD_KEYS:
        def thr(r: ServerResult, key: str = key) -> float | None:
            return r.phases[key].throughput if key in r.phases else None

        def p50(r: ServerResult, key: str = key) -> float | None:
            return r.phases[key].percentile_ms(0.5) if key in r.phases else None

        def p99(r: ServerResult, key: str = key) -> float | None:
            return r.phases[key].percentile_ms(0.99) if key in r.phases else None

        def cpu(r: ServerResult, key: str = key) -> float | None:
            return r.phases[key].cpu_ms_per_call if key in r.phases else None

        rows.append(Row(f"{labels[key]} throughput (req/s)", pick(thr, h), pick(thr, m), True))
        rows.append(Row(f"{labels[key]} server CPU per call (ms)", pick(cpu, h), pick(cpu, m), False, "{:.3f}"))
        rows.append(Row(f"{labels[key]} latency p50 (ms)", pick(p50, h), pick(p50, m), False, "{:.2f}"))
        rows.append(Row(f"{labels[key]} latency p99 (ms)", pick(p99, h), pick(p99, m), False, "{:.2f}"))
    rows.append(Row("memory RSS idle after startup (MiB)", pick(lambda r: _mib(r.rss_idle_kib), h),
                    pick(lambda r: _mib(r.rss_idle_kib), m), False))
    rows.append(Row("memory RSS after load (MiB)", pick(lambda r: _mib(r.rss_after_kib), h),
                    pick(lambda r: _mib(r.rss_after_kib), m), False))
    rows.append(Row("errors (all phases, incl. warm-up)", pick(lambda r: float(r.errors()), h),
                    pick(lambda r: float(r.errors()), m), False, "{:.0f}"))
    return rows


def render_table(rows: list[Row]) -> str:
    header = ["metric", HARNESS, MOTO, "ratio", "ratio means"]
    table = [header] + [row.cells() for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) if i in (0, 4) else c.rjust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths))) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule] + [line(cells) for cells in table[1:]])


def verdicts(rows: list[Row]) -> list[tuple[str, bool | None]]:
    by_metric = {row.metric: row for row in rows}
    out: list[tuple[str, bool | None]] = []
    for name in ("sign-in", "refresh"):
        ratio = by_metric[f"{name} throughput (req/s)"].ratio
        out.append((f"{name} throughput >= {THROUGHPUT_TARGET:.0f}x moto_server"
                    + ("" if ratio is None else f" (measured {ratio:.2f}x)"),
                    None if ratio is None else ratio >= THROUGHPUT_TARGET))
    for metric, what in (("startup to first answered call (s)", "startup"),
                         ("startup, bare Emulator, no pool loaded (s)", "startup of the bare Emulator (information)")):
        if metric in by_metric:
            ratio = by_metric[metric].ratio
            out.append((f"{what} no slower than moto_server" + ("" if ratio is None else f" (measured {ratio:.2f}x)"),
                        None if ratio is None else ratio >= 1.0))
    return out


def error_report(results: dict[str, ServerResult]) -> list[str]:
    lines = []
    for r in results.values():
        for key, phase in r.phases.items():
            if phase.total_errors():
                lines.append(f"{r.name} {key}: {phase.errors} errors in {phase.requests} measured calls, "
                             f"{phase.warmup_errors} in {phase.warmup_requests} warm-up calls")
                lines.extend(f"    e.g. {sample}" for sample in phase.error_samples)
    return lines


# --- the run -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--threads", type=int, default=4, help="client threads (keep-alive connections), default 4")
    p.add_argument("--duration", type=float, default=6.0, help="measured seconds per workload per server, default 6")
    p.add_argument("--max-requests", type=int, default=30000,
                   help="cap on measured calls per workload per server, default 30000")
    p.add_argument("--rounds", type=int, default=3,
                   help="split each workload's time into this many rounds alternating the servers, default 3")
    p.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per workload per server, default 1")
    p.add_argument("--warmup-requests", type=int, default=400, help="cap on warm-up calls, default 400")
    p.add_argument("--users", type=int, default=20, help="users per pool (bodies cycle over them), default 20")
    p.add_argument("--startup-runs", type=int, default=3, help="startups measured per server (median), default 3")
    p.add_argument("--startup-timeout", type=float, default=60.0, help="seconds to wait for a server to answer")
    p.add_argument("--servers", default=f"{HARNESS},{MOTO}",
                   help=f"comma-separated subset of {HARNESS},{MOTO} (both by default; ratios need both)")
    p.add_argument("--harness-start", choices=("auto", "cli", "python"), default="auto",
                   help="start the harness via its CLI, via harness.server.Emulator, or the CLI when present")
    p.add_argument("--json", metavar="FILE", help="also write every figure as JSON to FILE")
    p.add_argument("--strict", action="store_true", help="exit 2 when an acceptance target is missed")
    args = p.parse_args(argv)
    if min(args.threads, args.users, args.startup_runs, args.rounds, args.max_requests) < 1 or args.duration <= 0:
        p.error("threads, users, startup-runs, rounds, duration and max-requests must be positive")
    return args


def make_targets(args: argparse.Namespace) -> list[Target]:
    known = {
        HARNESS: lambda: Target(HARNESS, lambda port: harness_command(port, args.harness_start)),
        MOTO: lambda: Target(MOTO, moto_command),
    }
    names = [n.strip() for n in args.servers.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise SystemExit(f"unknown --servers entry {unknown}; choose from {list(known)}")
    return [known[n]() for n in dict.fromkeys(names)]


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def bench(args: argparse.Namespace, targets: list[Target], stop: threading.Event,
          machine: Machine) -> dict[str, ServerResult]:
    results = {t.name: ServerResult(t.name) for t in targets}
    machine.load_before = os.getloadavg()
    bare = None
    if HARNESS in results and harness_start_mode(args.harness_start) == "cli":
        # the CLI also loads fixtures/pools/default.toml (users, SRP verifiers); time the server alone too
        bare = Target(HARNESS + " (bare)", lambda port: harness_command(port, "python"))
    for run in range(args.startup_runs):  # interleaved, one server at a time on an otherwise idle machine
        if bare is not None:
            try:
                seconds = bare.start(args.startup_timeout)
            finally:
                bare.cleanup()
            results[HARNESS].bare_startup_runs.append(seconds)
            say(f"  startup {bare.name} run {run + 1}: {seconds:.3f}s")
        for target in targets:
            seconds = target.start(args.startup_timeout)
            results[target.name].startup_runs.append(seconds)
            results[target.name].command = target.command_for(target.port)
            results[target.name].pid = target.proc.pid if target.proc is not None else None
            say(f"  startup {target.name} run {run + 1}: {seconds:.3f}s")
            if run + 1 < args.startup_runs:
                target.stop()
    time.sleep(0.5)  # let lazy imports and first-call allocations settle before the idle reading
    for target in targets:
        results[target.name].rss_idle_kib = target.rss_kib()
    fixtures: dict[str, Fixture] = {}
    for target in targets:
        t0 = time.perf_counter()
        fixtures[target.name] = set_up(target, args.users)
        results[target.name].setup_seconds = time.perf_counter() - t0
        say(f"  set up {target.name}: pool, client, {args.users} users in {results[target.name].setup_seconds:.1f}s")
    rounds = max(1, args.rounds)
    busy0, own0, wall0 = machine_busy_seconds(), time.process_time(), time.perf_counter()
    servers0 = [t.cpu_seconds() for t in targets]
    for index, key in enumerate(WORKLOAD_KEYS):
        for round_no in range(rounds):
            # rounds alternate which server goes first, so a burst of outside load hits both alike
            order = targets if (index + round_no) % 2 == 0 else list(reversed(targets))
            for target in order:
                workload = fixtures[target.name].workloads()[key]
                first = round_no == 0
                phase = run_phase(HOST, target.port, workload, threads=args.threads,
                                  seconds=args.duration / rounds, max_requests=-(-args.max_requests // rounds),
                                  warmup_seconds=args.warmup if first else 0.0,
                                  warmup_requests=args.warmup_requests if first else 0,
                                  stop=stop, server_cpu=target.cpu_seconds)
                if stop.is_set():
                    raise KeyboardInterrupt
                if first:
                    results[target.name].phases[key] = phase
                else:
                    results[target.name].phases[key].absorb(phase)
        for target in targets:
            phase = results[target.name].phases[key]
            label = fixtures[target.name].workloads()[key].label
            flag = f"  !! {phase.total_errors()} ERRORS" if phase.total_errors() else ""
            say(f"  {target.name:16} {label:44} {phase.throughput:8.1f} req/s "
                f"({phase.requests} calls in {phase.seconds:.2f}s, p50 {phase.percentile_ms(0.5):.2f} ms, "
                f"server CPU {phase.cpu_ms_per_call or 0:.3f} ms/call){flag}")
    busy1, own1, wall1 = machine_busy_seconds(), time.process_time(), time.perf_counter()
    servers1 = [t.cpu_seconds() for t in targets]
    if busy0 is not None and busy1 is not None and None not in servers0 and None not in servers1:
        ours = (own1 - own0) + sum(b - a for a, b in zip(servers0, servers1))  # type: ignore[operator]
        machine.outside_cores = max(0.0, (busy1 - busy0) - ours) / (wall1 - wall0)
    for target in targets:
        results[target.name].rss_after_kib = target.rss_kib()
    return results


def report(args: argparse.Namespace, results: dict[str, ServerResult], machine: Machine) -> int:
    rows = build_rows(results)
    print()
    print(f"cognito-harness vs moto_server: {args.threads} client threads, {args.duration:g}s per workload "
          f"in {args.rounds} alternating rounds "
          f"(max {args.max_requests} calls), {args.users} users, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}")
    print("ratio > 1 means cognito-harness is better")
    print(render_table(rows))
    checks = verdicts(rows) if len(results) == 2 else []
    if checks:
        print()
        for text, ok in checks:
            print(f"  [{'PASS' if ok else 'n/a ' if ok is None else 'MISS'}] {text}")
    outside = "n/a" if machine.outside_cores is None else f"{machine.outside_cores:.2f}"
    print(f"\nother work on this machine during the load: {outside} CPUs on average "
          f"(load average before the run {machine.load_before[0]:.2f})")
    if machine.busy:
        print(f"WARNING: other processes used more than {BUSY_WARNING_CORES} CPUs while the load ran; throughput "
              f"and latency are unreliable (server CPU per call is less affected). Rerun on a quiet machine.")
    errors = error_report(results)
    if errors:
        print()
        print("!" * 78)
        print("!!! THIS RUN HAD FAILED CALLS: its throughput figures are NOT trustworthy")
        for line in errors:
            print("!!! " + line)
        print("!" * 78)
    if args.json:
        document = {
            "config": {k: v for k, v in vars(args).items() if k != "json"},
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                        "load_average_before": machine.load_before, "outside_cpus_during_load": machine.outside_cores,
                        "busy": machine.busy},
            "servers": {name: r.to_json() for name, r in results.items()},
            "rows": [{"metric": r.metric, HARNESS: r.harness, MOTO: r.moto, "ratio": r.ratio,
                      "ratio_means": r.meaning} for r in rows],
            "acceptance": [{"check": text, "passed": ok} for text, ok in checks],
            "errors": errors,
        }
        Path(args.json).write_text(json.dumps(document, indent=2) + "\n")
        print(f"\nwrote {args.json}")
    if errors:
        return 1
    if args.strict and any(ok is False for text, ok in checks if "(information)" not in text):
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    targets = make_targets(args)
    stop = threading.Event()
    machine = Machine()

    def on_term(signum: int, frame: object) -> None:  # SIGTERM behaves like Ctrl-C: clean up, then leave
        stop.set()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        say(f"benchmarking {', '.join(t.name for t in targets)} on {HOST}")
        results = bench(args, targets, stop, machine)
    except KeyboardInterrupt:
        stop.set()
        say("interrupted: stopping servers")
        return 130
    except Exception as exc:  # noqa: BLE001 - report loudly with the servers' own logs, then clean up
        stop.set()
        say(f"!!! BENCH FAILED: {type(exc).__name__}: {exc}")
        for target in targets:
            say(f"--- last lines of the {target.name} log ---\n{target.log_tail()}")
        return 3
    finally:
        stop.set()
        for target in targets:
            target.cleanup()
        signal.signal(signal.SIGTERM, previous)
    return report(args, results, machine)


if __name__ == "__main__":
    sys.exit(main())

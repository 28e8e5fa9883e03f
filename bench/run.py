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
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loadgen import (  # noqa: E402 - after the path tweak that lets ``python bench/run.py`` import siblings
    IDENTITY_PREFIX,
    Workload,
    call_json,
    credentials_workload,
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
from report import HARNESS, MOTO, WORKLOAD_KEYS, Machine, ServerResult, report  # noqa: E402

REGION = "us-east-1"
PASSWORD = "Bench-Passw0rd!"


# --- setup -------------------------------------------------------------------------------------


def boto3_client(target: Target, service: str = "cognito-idp") -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(service, endpoint_url=target.url, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))


@dataclass
class Fixture:
    """What the load needs on one server: a client id, users, a session per user, and each user's
    identity in an identity pool that trusts the client."""

    client_id: str
    credentials: list[tuple[str, str]]
    refresh_tokens: list[str]
    access_tokens: list[str]
    provider: str = ""
    identities: list[tuple[str, str]] = field(default_factory=list)  # (identity id, ID token)

    def workloads(self) -> dict[str, Workload]:
        return {
            "sign_in": sign_in_workload(self.client_id, self.credentials),
            "refresh": refresh_workload(self.client_id, self.refresh_tokens),
            "get_user": get_user_workload(self.access_tokens),
            "credentials": credentials_workload(self.provider, self.identities),
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
    provider = f"cognito-idp.{REGION}.amazonaws.com/{pool_id}"
    identity_pool_id = boto3_client(target, "cognito-identity").create_identity_pool(
        IdentityPoolName="bench", AllowUnauthenticatedIdentities=False,
        CognitoIdentityProviders=[{"ProviderName": provider, "ClientId": client_id}])["IdentityPoolId"]
    try:
        boto3_client(target, "cognito-identity").set_identity_pool_roles(
            IdentityPoolId=identity_pool_id, Roles={"authenticated": "arn:aws:iam::123456789012:role/bench-user"})
    except ClientError as exc:  # moto has no SetIdentityPoolRoles (a 500); it hands out credentials without roles
        if target.name != MOTO:
            raise
        say(f"  {target.name}: SetIdentityPoolRoles not implemented ({exc.response['Error']['Code']}); going on")
    fixture = Fixture(client_id, credentials, [], [], provider)
    for username, password in credentials:  # one session per user, over the same raw client as the load
        result = call_json(HOST, target.port, "InitiateAuth", {
            "AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client_id,
            "AuthParameters": {"USERNAME": username, "PASSWORD": password},
        })["AuthenticationResult"]
        fixture.refresh_tokens.append(result["RefreshToken"])
        fixture.access_tokens.append(result["AccessToken"])
        login = {provider: result["IdToken"]}
        identity_id = call_json(HOST, target.port, "GetId", {"IdentityPoolId": identity_pool_id, "Logins": login},
                                prefix=IDENTITY_PREFIX)["IdentityId"]
        fixture.identities.append((identity_id, result["IdToken"]))
    return fixture


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

#!/usr/bin/env python3
"""Scale: do per-user operations stay flat as the pool grows? And does memory come back?

    python bench/scale.py                         # 1k and 10k users (both servers), RSS phase
    python bench/scale.py --sizes 1000,10000,100000 --json scale.json    # the full table (longer)
    python bench/scale.py --servers cognito-harness --signins 20000      # harness only, shorter RSS phase

Part 1 (both servers, same run, real subprocesses on loopback; raw keep-alive HTTP from
loadgen.py): one pool with AliasAttributes email, users created with a verified email. At
each size, the p50 latency of ``--samples`` sequential calls of

* create: AdminCreateUser (a new user with a verified email: alias uniqueness is checked);
* sign-in: InitiateAuth USER_PASSWORD_AUTH (a few users with passwords, cycled);
* list-filter: ListUsers with ``Filter: email = "<one user's email>"``;

then the pool is filled up to the next size (AdminCreateUser over ``--populate-threads``
connections; population is not timed into the table). Printed: p50 per op and size, the
100k (largest) / 1k (smallest) growth per server, and harness/moto ratios (> 1 = harness faster).

Part 2 (harness only): a fresh ``cognito-harness serve``; RSS idle, after ``--signins``
sign-ins that stay live, and after the virtual clock is moved past their refresh validity
(POST /_harness/clock advance, which sweeps what nothing can use any more).
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loadgen import Workload, body_of, call_json, run_phase, sign_in_workload  # noqa: E402
from report import HARNESS, MOTO  # noqa: E402
from targets import HOST, Target, harness_command, moto_command  # noqa: E402

PASSWORD = "Bench-Passw0rd!"
SIGNERS = 20  # users with a password, cycled by the sign-in workload
OPS = ("create", "sign_in", "list_filter")
LABELS = {"create": "create (AdminCreateUser)", "sign_in": "sign-in (USER_PASSWORD_AUTH)",
          "list_filter": 'ListUsers Filter email = "..."'}
REFRESH_DAYS = 30  # the client's refresh-token validity (the default)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- one server ---------------------------------------------------------------------------------------


@dataclass
class Pool:
    """The bench pool on one server and how many bulk users it holds."""

    target: Target
    pool_id: str
    client_id: str
    size: int = 0
    probes: int = 0
    p50_ms: dict[int, dict[str, float]] = field(default_factory=dict)

    def call(self, operation: str, members: dict[str, Any]) -> dict[str, Any]:
        return call_json(HOST, self.target.port, operation, members)

    def create_body(self, username: str) -> bytes:
        return body_of({"UserPoolId": self.pool_id, "Username": username, "MessageAction": "SUPPRESS",
                        "UserAttributes": [{"Name": "email", "Value": f"{username}@example.com"},
                                           {"Name": "email_verified", "Value": "true"}]})


def set_up(target: Target) -> Pool:
    pool_id = call_json(HOST, target.port, "CreateUserPool",
                        {"PoolName": "scale", "AliasAttributes": ["email"]})["UserPool"]["Id"]
    client_id = call_json(HOST, target.port, "CreateUserPoolClient", {
        "UserPoolId": pool_id, "ClientName": "scale", "GenerateSecret": False,
        "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    })["UserPoolClient"]["ClientId"]
    pool = Pool(target, pool_id, client_id)
    for i in range(SIGNERS):
        username = f"signer-{i:02d}"
        pool.call("AdminCreateUser", {"UserPoolId": pool_id, "Username": username, "MessageAction": "SUPPRESS",
                                      "TemporaryPassword": PASSWORD})
        pool.call("AdminSetUserPassword", {"UserPoolId": pool_id, "Username": username, "Password": PASSWORD,
                                           "Permanent": True})
    return pool


def run_bodies(pool: Pool, key: str, operation: str, bodies: list[bytes], marker: bytes, threads: int,
               stop: threading.Event) -> list[float]:
    """Send every body once (``threads`` keep-alive connections); the latencies; fail loudly on errors."""
    workload = Workload(key, LABELS.get(key, key), operation, tuple(bodies), marker)
    phase = run_phase(HOST, pool.target.port, workload, threads=threads, seconds=3600.0,
                      max_requests=len(bodies), warmup_seconds=0.0, warmup_requests=0, stop=stop)
    if phase.total_errors():
        raise RuntimeError(f"{pool.target.name} {key}: {phase.total_errors()} failed calls: {phase.error_samples}")
    return phase.latencies


def populate(pool: Pool, size: int, threads: int, stop: threading.Event) -> float:
    """Fill the pool up to ``size`` bulk users; seconds taken."""
    count = size - pool.size
    if count <= 0:
        return 0.0
    count -= count % threads  # every connection gets the same share, so each body is sent exactly once
    bodies = [pool.create_body(f"user-{i:06d}") for i in range(pool.size, pool.size + count)]
    t0 = time.perf_counter()
    run_bodies(pool, "populate", "AdminCreateUser", bodies, b'"User"', threads, stop)
    pool.size += count
    return time.perf_counter() - t0


def p50(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[len(ordered) // 2] * 1000 if ordered else 0.0


def measure(pool: Pool, samples: int, stop: threading.Event) -> dict[str, float]:
    """p50 ms of each per-user operation at the pool's current size (one connection, sequential)."""
    creates = [pool.create_body(f"probe-{pool.probes + i:06d}") for i in range(samples)]
    pool.probes += samples
    step = max(1, pool.size // samples)
    lists = [body_of({"UserPoolId": pool.pool_id, "Filter": f'email = "user-{(i * step) % pool.size:06d}@example.com"'})
             for i in range(samples)]
    signers = sign_in_workload(pool.client_id, [(f"signer-{i % SIGNERS:02d}", PASSWORD) for i in range(samples)])
    out = {
        "create": p50(run_bodies(pool, "create", "AdminCreateUser", creates, b'"User"', 1, stop)),
        "sign_in": p50(run_bodies(pool, "sign_in", "InitiateAuth", list(signers.bodies), signers.marker, 1, stop)),
        "list_filter": p50(run_bodies(pool, "list_filter", "ListUsers", lists, b'"Username"', 1, stop)),
    }
    pool.p50_ms[pool.size] = out
    return out


# --- part 2: memory --------------------------------------------------------------------------------------


def control(target: Target, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    conn = http.client.HTTPConnection(HOST, target.port, timeout=600)
    try:
        data = json.dumps(body or {}).encode() if method == "POST" else None
        conn.request(method, f"/_harness{path}", data, {"Content-Type": "application/json"})
        response = conn.getresponse()
        answer = response.read()
        if response.status != 200:
            raise RuntimeError(f"{method} /_harness{path} answered {response.status}: {answer[:300]!r}")
        return json.loads(answer or b"{}")
    finally:
        conn.close()


def memory(signins: int, threads: int, stop: threading.Event, timeout: float,
           max_events: int | None = None) -> dict[str, Any]:
    """RSS of a fresh harness: idle, after ``signins`` live sign-ins, after their refresh validity passed."""
    extra = [] if max_events is None else ["--max-events", str(max_events)]
    target = Target(HARNESS, lambda port: [*harness_command(port, "cli"), *extra])
    try:
        target.start(timeout)
        pool = set_up(target)
        control(target, "POST", "/clock", {"action": "freeze"})
        time.sleep(0.5)
        rss_start = target.rss_kib()
        per_thread = -(-signins // threads)
        workload = sign_in_workload(pool.client_id, [(f"signer-{i:02d}", PASSWORD) for i in range(SIGNERS)])
        t0 = time.perf_counter()
        phase = run_phase(HOST, target.port, workload, threads=threads, seconds=3600.0,
                          max_requests=per_thread * threads, warmup_seconds=0.0, warmup_requests=0, stop=stop)
        seconds = time.perf_counter() - t0
        if phase.total_errors():
            raise RuntimeError(f"sign-ins failed: {phase.error_samples}")
        time.sleep(0.5)
        rss_live = target.rss_kib()
        log = event_log(target)
        t1 = time.perf_counter()
        control(target, "POST", "/clock", {"action": "advance", "seconds": REFRESH_DAYS * 86400 + 3600})
        sweep_seconds = time.perf_counter() - t1
        time.sleep(0.5)
        rss_after = target.rss_kib()
        return {"signins": phase.requests, "signin_seconds": round(seconds, 1), "signin_threads": threads,
                "signins_per_second": round(phase.requests / seconds), "sweep_seconds": round(sweep_seconds, 2),
                "rss_start_mib": _mib(rss_start), "rss_live_mib": _mib(rss_live), "rss_after_expiry_mib": _mib(rss_after),
                "event_log": log}
    finally:
        target.cleanup()


def event_log(target: Target) -> dict[str, Any]:
    """The event ring's size and what it dropped."""
    window = control(target, "GET", "")["event_log"]  # GET /_harness: reads no event
    return {k: window[k] for k in ("max_events", "held", "dropped")}


def _mib(kib: int | None) -> float | None:
    return None if kib is None else round(kib / 1024, 1)


# --- the run -------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sizes", default="1000,10000",
                   help="pool sizes, ascending (default 1000,10000; add 100000 for the full table)")
    p.add_argument("--samples", type=int, default=200, help="calls per operation per size (p50), default 200")
    p.add_argument("--populate-threads", type=int, default=4, help="connections filling the pools, default 4")
    p.add_argument("--servers", default=f"{HARNESS},{MOTO}", help=f"comma-separated subset of {HARNESS},{MOTO}")
    p.add_argument("--moto-max-size", type=int, default=10_000,
                   help="largest size moto_server is filled to (its creates and filters scan the pool: "
                        "10k users take it ~1 minute to fill, 100k would take over an hour), default 10000")
    p.add_argument("--signins", type=int, default=100_000,
                   help="live sign-ins for the RSS phase (0: skip it), default 100000")
    p.add_argument("--signin-threads", type=int, default=8, help="connections for the RSS phase, default 8")
    p.add_argument("--max-events", type=int, default=None,
                   help="serve --max-events for the RSS phase (default: serve's own default)")
    p.add_argument("--startup-timeout", type=float, default=60.0)
    p.add_argument("--json", metavar="FILE", help="also write every figure as JSON to FILE")
    args = p.parse_args(argv)
    try:
        args.size_list = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        p.error("--sizes takes comma-separated integers")
    if not args.size_list or args.size_list[0] < 1 or args.samples < 1 or args.populate_threads < 1:
        p.error("sizes, samples and populate-threads must be positive")
    return args


def _cell(pool: Pool, size: int, op: str) -> str:
    figures = pool.p50_ms.get(size)
    return f"{figures[op]:.2f} ms" if figures else "-"


def table(pools: dict[str, Pool], sizes: list[int]) -> str:
    """Markdown: p50 per operation and size for each server, then growth and harness/moto ratios."""
    names = list(pools)
    head = ["operation", *[f"{n} @{s // 1000}k" if s >= 1000 else f"{n} @{s}" for s in sizes for n in names]]
    lines = [" | ".join(head), " | ".join("---" for _ in head)]
    for op in OPS:
        lines.append(" | ".join([LABELS[op], *[_cell(pools[n], s, op) for s in sizes for n in names]]))
    lines.append("")
    for op in OPS:
        parts = []
        for name in names:
            measured = sorted(pools[name].p50_ms)
            if len(measured) > 1:
                lo, hi = measured[0], measured[-1]
                parts.append(f"{name} {hi}/{lo} users x{pools[name].p50_ms[hi][op] / pools[name].p50_ms[lo][op]:.2f}")
        ratio = ""
        if HARNESS in pools and MOTO in pools:
            both = [s for s in sizes if s in pools[HARNESS].p50_ms and s in pools[MOTO].p50_ms]
            ratio = "; moto/harness p50 at " + ", ".join(
                f"{s}: {pools[MOTO].p50_ms[s][op] / pools[HARNESS].p50_ms[s][op]:.1f}x" for s in both)
        lines.append(f"{LABELS[op]}: growth {', '.join(parts)}{ratio}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    stop = threading.Event()
    names = [n.strip() for n in args.servers.split(",") if n.strip()]
    commands = {HARNESS: lambda port: harness_command(port, "cli"), MOTO: moto_command}
    targets = [Target(n, commands[n]) for n in names if n in commands]
    if not targets:
        raise SystemExit(f"--servers: choose from {list(commands)}")
    out: dict[str, Any] = {"sizes": args.size_list, "samples": args.samples}
    try:
        pools: dict[str, Pool] = {}
        for target in targets:
            target.start(args.startup_timeout)
            pools[target.name] = set_up(target)
        for size in args.size_list:
            for name, pool in pools.items():
                if name == MOTO and size > args.moto_max_size:
                    continue  # moto's create and filter scan: filling 100k users would take hours
                took = populate(pool, size, args.populate_threads, stop)
                figures = measure(pool, args.samples, stop)
                say(f"  {name:16} {pool.size:7d} users (filled in {took:5.1f}s): "
                    + ", ".join(f"{op} {figures[op]:.2f} ms" for op in OPS))
        sizes = sorted({size for pool in pools.values() for size in pool.p50_ms})
        print(table(pools, sizes))
        out["p50_ms"] = {name: pool.p50_ms for name, pool in pools.items()}
        for target in targets:
            out.setdefault("rss_mib_after_scale", {})[target.name] = _mib(target.rss_kib())
    finally:
        for target in targets:
            target.cleanup()
    if args.signins > 0 and HARNESS in names:
        say(f"  memory: {args.signins} live sign-ins on a fresh {HARNESS} ...")
        mem = memory(args.signins, args.signin_threads, stop, args.startup_timeout, args.max_events)
        out["memory"] = mem
        print(f"\nRSS of {HARNESS}: idle {mem['rss_start_mib']} MiB; after {mem['signins']} live sign-ins "
              f"{mem['rss_live_mib']} MiB (goal < 120); after the clock passed their refresh validity "
              f"{mem['rss_after_expiry_mib']} MiB (goal: within 10 of idle; sweep took {mem['sweep_seconds']} s); "
              f"{mem['signins_per_second']} sign-ins/s over {mem['signin_threads']} connections; event log "
              f"{mem['event_log']['held']} held of {mem['event_log']['max_events']}, {mem['event_log']['dropped']} dropped")
    out["run_seconds"] = round(time.perf_counter() - started, 1)
    say(f"  the run took {out['run_seconds']} s")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""HTTP server candidates for the emulator, side by side: start-up and sign-in throughput.

    python bench/http_servers.py                                   # the current server alone
    git show <rev>:harness/web/http.py > stdlib_http.py             # e.g. the old http.server layer
    python bench/http_servers.py --candidate stdlib=stdlib_http.py --candidate mine=mine.py

A candidate is a Python file defining ``HTTPService(router, host, port)`` with
``serve_forever()``; the bench starts ``harness.server.Emulator`` with that
class in place of :class:`harness.web.serving.HTTPService` (``current`` is the
one in the tree), as a real subprocess on a free loopback port, so the engine
is the same and only the HTTP layer differs. Measured per candidate:

* startup: spawn -> first answered ``ListUserPools``, median of ``--startup-runs``
  (each candidate in turn, so outside load hits all alike);
* sign-in (InitiateAuth USER_PASSWORD_AUTH) and a call the engine answers in
  microseconds (ListUserPools, so mostly HTTP cost) over ``--threads``
  keep-alive connections: throughput, p50 latency and the server process's
  CPU per call, in ``--rounds`` rounds that rotate which candidate goes first;
* RSS after the load.

The figures that chose the server (2-core VM shared with five other jobs, load
average 6-8, so throughput moves by +-10 % between runs: server CPU per call is
the steadier figure). Candidates: ``stdlib`` = the old ``http.server`` layer,
waitress 3.0.2 and cheroot 11.1.2 behind one WSGI bridge, ``current`` = h11
0.16 parsing with one thread per connection (harness.web.serving). Run A:
``--duration 6 --rounds 3 --startup-runs 5``, all four:

| server   | startup (s) | sign-in/s | CPU ms/op | ListUserPools/s | CPU ms/op |
|----------|-------------|-----------|-----------|-----------------|-----------|
| current  |       1.986 |     182.3 |     4.205 |          1503.1 |     0.416 |
| stdlib   |       1.654 |     192.7 |     4.017 |          1647.7 |     0.371 |
| waitress |       1.922 |     162.5 |     5.015 |           773.0 |     0.893 |
| cheroot  |       1.961 |     153.2 |     4.670 |          1113.6 |     0.756 |

Run B, after the answer writer stopped going through h11 (``--duration 10
--rounds 10 --startup-runs 5``, current vs stdlib only):

| server   | startup (s) | sign-in/s | CPU ms/op | ListUserPools/s | CPU ms/op |
|----------|-------------|-----------|-----------|-----------------|-----------|
| current  |       1.509 |     150.3 |     4.613 |          1768.9 |     0.355 |
| stdlib   |       1.676 |     155.1 |     4.455 |          1868.1 |     0.347 |

waitress hands each request from its select loop to a worker thread and back
(double the CPU of a cheap call, sign-in -15 %); cheroot is slower per call
and takes ~0.5 s to stop; h11 with a thread per connection stays within the
noise of the old server (2-4 % more CPU per call in run B) while getting the
protocol right. Startup is dominated by imports and the engine; the server
adds nothing measurable (h11 costs ~14 ms of import, about what ``http.server`` did).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loadgen import PhaseResult, Workload, run_phase  # noqa: E402 - after the path tweak that lets the file run directly
from run import set_up  # noqa: E402
from targets import HOST, Target  # noqa: E402

CURRENT = "current"
CHEAP = Workload("list_pools", "ListUserPools", "ListUserPools", (b'{"MaxResults": 1}',), b'"UserPools"')
"""A call the engine answers in microseconds: its cost is mostly the HTTP layer's."""


def candidate_command(path: Path | None) -> Callable[[int], list[str]]:
    """argv that starts a bare Emulator on ``port`` with the HTTPService from ``path`` (None: the tree's)."""

    def command(port: int) -> list[str]:
        swap = "" if path is None else (
            "import importlib.util, sys, harness.server as s; "
            f"spec = importlib.util.spec_from_file_location('candidate_http', {str(path)!r}); "
            "m = sys.modules['candidate_http'] = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); "
            "s.HTTPService = m.HTTPService; ")
        code = swap + ("from harness.server import Emulator; "
                       f"Emulator(host={HOST!r}, port={port}, seed=1).serve_forever()")
        return [sys.executable, "-c", code]

    return command


@dataclass
class Figures:
    name: str
    startups: list[float] = field(default_factory=list)
    phases: dict[str, PhaseResult] = field(default_factory=dict)
    rss_kib: int | None = None

    def add(self, key: str, phase: PhaseResult) -> None:
        if key in self.phases:
            self.phases[key].absorb(phase)
        else:
            self.phases[key] = phase

    def errors(self) -> int:
        return sum(p.total_errors() for p in self.phases.values())

    def row(self) -> str:
        startup = statistics.median(self.startups) if self.startups else float("nan")
        cells = [f"{self.name:20}", f"{startup:11.3f}"]
        for key in WORKLOADS:
            phase = self.phases.get(key) or PhaseResult()
            cpu = phase.cpu_ms_per_call
            cells += [f"{phase.throughput:{9 if key == 'sign_in' else 15}.1f}",
                      f"{'n/a' if cpu is None else f'{cpu:.3f}':>9}", f"{phase.percentile_ms(0.5):8.2f}"]
        cells += [f"{self.rss_kib / 1024:7.1f}" if self.rss_kib else "    n/a", f"{self.errors():6}"]
        return "| " + " | ".join(cells) + " |"


WORKLOADS = ("sign_in", CHEAP.key)
HEADER = ("| server               | startup (s) | sign-in/s | CPU ms/op | p50 (ms) | ListUserPools/s | CPU ms/op "
          "| p50 (ms) | RSS MiB | errors |\n"
          "|----------------------|-------------|-----------|-----------|----------|-----------------|-----------"
          "|----------|---------|--------|")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--candidate", action="append", default=[], metavar="NAME=FILE",
                   help="a file defining HTTPService (repeatable); the current server always runs too")
    p.add_argument("--threads", type=int, default=4, help="client threads (keep-alive connections), default 4")
    p.add_argument("--duration", type=float, default=6.0, help="measured sign-in seconds per candidate, default 6")
    p.add_argument("--rounds", type=int, default=3, help="rounds rotating the candidates' order, default 3")
    p.add_argument("--startup-runs", type=int, default=5, help="startups per candidate (median), default 5")
    p.add_argument("--users", type=int, default=20, help="users per pool, default 20")
    args = p.parse_args(argv)
    if min(args.threads, args.rounds, args.startup_runs, args.users) < 1 or args.duration <= 0:
        p.error("threads, rounds, startup-runs, users and duration must be positive")
    return args


def targets_for(specs: list[str]) -> list[Target]:
    targets = [Target(CURRENT, candidate_command(None))]
    for spec in specs:
        name, sep, file = spec.partition("=")
        if not sep or not Path(file).is_file():
            raise SystemExit(f"--candidate wants NAME=FILE with an existing file, got {spec!r}")
        targets.append(Target(name, candidate_command(Path(file).resolve())))
    return targets


def measure(args: argparse.Namespace, targets: list[Target]) -> list[Figures]:
    figures = {t.name: Figures(t.name) for t in targets}
    for _ in range(args.startup_runs):
        for target in targets:
            figures[target.name].startups.append(target.start())
            target.stop()
    workloads: dict[str, dict[str, Workload]] = {}
    for target in targets:
        target.start()
        workloads[target.name] = {"sign_in": set_up(target, args.users).workloads()["sign_in"], CHEAP.key: CHEAP}
    stop = threading.Event()
    for key in WORKLOADS:
        for round_no in range(args.rounds):
            shift = round_no % len(targets)
            for target in targets[shift:] + targets[:shift]:
                first = round_no == 0
                figures[target.name].add(key, run_phase(
                    HOST, target.port, workloads[target.name][key], threads=args.threads,
                    seconds=args.duration / args.rounds, max_requests=10**9,
                    warmup_seconds=0.5 if first else 0.0, warmup_requests=200 if first else 0,
                    stop=stop, server_cpu=target.cpu_seconds))
    for target in targets:
        figures[target.name].rss_kib = target.rss_kib()
    return list(figures.values())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    targets = targets_for(args.candidate)
    try:
        results = measure(args, targets)
    finally:
        for target in targets:
            target.cleanup()
    print(HEADER)
    for result in results:
        print(result.row())
    return 1 if any(r.errors() for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Results of one bench run and how they are shown: the table, the verdicts, the JSON.

Every ratio is oriented so that > 1 means cognito-harness is better
(throughput harness/moto; startup, CPU, latency and memory moto/harness).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from loadgen import PhaseResult

HARNESS, MOTO = "cognito-harness", "moto_server"
THROUGHPUT_TARGET = 3.0
WORKLOAD_KEYS = ("sign_in", "refresh", "get_user", "credentials")
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
    compared: bool = True  # False: a count that must be zero, no ratio

    @property
    def ratio(self) -> float | None:
        return _ratio(self.harness, self.moto, self.higher_is_better) if self.compared else None

    @property
    def meaning(self) -> str:
        if not self.compared:
            return "must be 0 for both"
        return "harness/moto, higher is better" if self.higher_is_better else "moto/harness, lower is better"

    def cells(self) -> list[str]:
        def show(v: float | None) -> str:
            return "n/a" if v is None else self.fmt.format(v)

        ratio = self.ratio
        shown = "-" if not self.compared else "n/a" if ratio is None else f"{ratio:.2f}x"
        return [self.metric, show(self.harness), show(self.moto), shown, self.meaning]


def build_rows(results: dict[str, ServerResult]) -> list[Row]:
    h, m = results.get(HARNESS), results.get(MOTO)

    def pick(fn: Callable[[ServerResult], float | None], r: ServerResult | None) -> float | None:
        return None if r is None else fn(r)

    rows = [Row("startup to first answered call (s)", pick(lambda r: r.startup, h), pick(lambda r: r.startup, m),
                False, "{:.3f}")]
    if h is not None and h.bare_startup_runs:
        rows.append(Row("startup, bare Emulator, no pool loaded (s)", h.bare_startup, pick(lambda r: r.startup, m),
                        False, "{:.3f}"))
    labels = {"sign_in": "sign-in", "refresh": "refresh", "get_user": "GetUser",
              "credentials": "identity-pool credentials"}
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
                    pick(lambda r: float(r.errors()), m), False, "{:.0f}", compared=False))
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

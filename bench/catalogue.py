#!/usr/bin/env python3
"""How long the whole scenario catalogue takes against the bundled reference app (and library apps).

    python bench/catalogue.py                 # baseline, 3 runs against the reference app
    python bench/catalogue.py --profile strict --runs 5 --json catalogue.json
    python bench/catalogue.py --libs          # also every library app of fixtures/targets/libs

Each run is a real ``cognito-harness run`` in a fresh process (import, emulator,
target app subprocess, every check, teardown), so the figure is what a
developer or CI waits for. The virtual clock replaces every sleep the pool
needs; what is left is work, and the real-time re-probes of windows that live
in the app: the reference app declares no JWKS refetch cooldown, while
library apps that wait one (PyJWKClient, jose: 30 s) make TV-ROTATION-* wait
it out, which the table shows per app. Prints wall time per run, the median,
and the checks run; exits 1 if a run of the reference app did not pass.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.libapps installs the library apps' pinned dependencies

from tests.libapps import LibAppError, all_apps, prepared_spec  # noqa: E402 - needs the path above


def one_run(profile: str, seed: int, target: str | None) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        command = [sys.executable, "-m", "harness", "run", "--profile", profile, "--seed", str(seed),
                   "--json", str(report)]
        if target:
            command += ["--target", target]
        started = time.perf_counter()
        proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
        elapsed = time.perf_counter() - started
        if not report.exists():
            raise SystemExit(f"run failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        data = json.loads(report.read_text())
        data["exit_code"] = proc.returncode
        return elapsed, data


def re_probe_seconds(data: dict) -> float:
    """Real seconds a run spent re-probing windows that live in the app (the "measure:" steps)."""
    total = 0.0
    for result in data.get("results", []):
        for step in result.get("steps", []):
            if step.get("name", "").startswith("measure:"):
                for evidence in step.get("evidence", []):
                    total += float(evidence.get("data", {}).get("seconds") or 0.0)
    return total


def bench_target(label: str, target: str | None, args: argparse.Namespace) -> tuple[str, int, float, float, int]:
    times, last = [], {}
    for i in range(args.runs):
        elapsed, last = one_run(args.profile, args.seed, target)
        times.append(elapsed)
        counts = last["summary"]["by_verdict"] if "summary" in last else last.get("counts", {})
        print(f"{label} run {i + 1}/{args.runs}: {elapsed:6.2f} s  exit {last['exit_code']}  {counts}")
    return label, len(last.get("results", [])), statistics.median(times), re_probe_seconds(last), last["exit_code"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="baseline", choices=["baseline", "strict"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", help="target spec (default: the bundled reference app)")
    parser.add_argument("--libs", action="store_true", help="also time every library app (installs them once)")
    parser.add_argument("--json", help="write the figures as JSON")
    args = parser.parse_args()

    rows = [bench_target(args.target or "reference app", args.target, args)]
    if args.libs:
        with tempfile.TemporaryDirectory() as staging:
            for name in all_apps():
                try:
                    spec = prepared_spec(name, Path(staging) / name)
                except LibAppError as exc:
                    raise SystemExit(f"library app {name}: {exc}") from None
                rows.append(bench_target(name, str(spec), args))
    print(f"\n| catalogue ({args.profile}) | checks | median wall time | of which re-probing | per check | exit |")
    print("|---|---|---|---|---|---|")
    for label, checks, median, probing, code in rows:
        print(f"| {label} | {checks} | {median:.2f} s | {probing:.1f} s | {median / max(checks, 1) * 1000:.0f} ms "
              f"| {code} |")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"profile": args.profile, "targets": [{"target": r[0], "checks": r[1], "median_s": r[2],
                                                   "re_probe_s": r[3], "exit_code": r[4]} for r in rows]},
            indent=2))
    return 0 if rows[0][4] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())

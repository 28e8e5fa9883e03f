#!/usr/bin/env python3
"""How long the whole scenario catalogue takes against the bundled reference app.

    python bench/catalogue.py                 # baseline, 3 runs
    python bench/catalogue.py --profile strict --runs 5 --json catalogue.json

Each run is a real ``cognito-harness run`` in a fresh process (import, emulator,
reference app subprocess, every check, teardown), so the figure is what a
developer or CI waits for. The virtual clock replaces every sleep, so the time
is spent on work, not waiting. Prints wall time per run, the median, and the
checks run; exits 1 if any run did not pass.
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="baseline", choices=["baseline", "strict"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", help="target spec (default: the bundled reference app)")
    parser.add_argument("--json", help="write the figures as JSON")
    args = parser.parse_args()

    times, last = [], {}
    for i in range(args.runs):
        elapsed, last = one_run(args.profile, args.seed, args.target)
        times.append(elapsed)
        counts = last["summary"]["by_verdict"] if "summary" in last else {}
        print(f"run {i + 1}/{args.runs}: {elapsed:6.2f} s  exit {last['exit_code']}  {counts}")
    checks = len(last.get("results", []))
    median = statistics.median(times)
    print(f"\n| catalogue ({args.profile}) | checks | median wall time | per check |")
    print("|---|---|---|---|")
    print(f"| reference app | {checks} | {median:.2f} s | {median / max(checks, 1) * 1000:.0f} ms |")
    if args.json:
        Path(args.json).write_text(json.dumps({"profile": args.profile, "checks": checks, "runs_s": times,
                                               "median_s": median}, indent=2))
    return 0 if last.get("exit_code") == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())

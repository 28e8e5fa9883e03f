"""The benchmark runs end to end with tiny counts and prints its side-by-side table.

Only the plumbing is checked here (both servers start, the load runs without a
single failed call, the table and JSON carry every row). Speed is never
asserted in a test: bench/run.py reports it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("moto.server", reason="moto[server] (test extra) runs the comparison server")

REPO = Path(__file__).resolve().parent.parent
EXPECTED_ROWS = (
    "startup to first answered call (s)",
    "sign-in throughput (req/s)",
    "refresh throughput (req/s)",
    "GetUser throughput (req/s)",
    "identity-pool credentials throughput (req/s)",
    "sign-in latency p50 (ms)",
    "refresh server CPU per call (ms)",
    "memory RSS idle after startup (MiB)",
    "memory RSS after load (MiB)",
    "errors (all phases, incl. warm-up)",
)


def test_bench_runs_end_to_end_and_prints_the_table(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--threads", "2", "--duration", "0.2", "--rounds", "2",
         "--max-requests", "40", "--warmup", "0.1", "--warmup-requests", "4", "--users", "2",
         "--startup-runs", "1", "--json", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, f"bench failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    table = [line for line in proc.stdout.splitlines() if line.startswith("| ")]
    assert [c.strip() for c in table[0].split("|")[1:5]] == ["metric", "cognito-harness", "moto_server", "ratio"]
    metrics = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:5]] for line in table[1:]}
    for row in EXPECTED_ROWS:
        assert row in metrics, f"missing row {row!r} in:\n{proc.stdout}"
        harness, moto, ratio = metrics[row]
        assert harness != "n/a" and moto != "n/a", f"row {row!r} lacks a figure: {metrics[row]}"
        if row.startswith("errors"):
            assert (harness, moto) == ("0", "0")
        elif "CPU" in row:  # CPU time comes in clock ticks: a tiny run may round to zero
            assert float(harness) >= 0 and float(moto) >= 0
        else:
            assert float(harness) > 0 and float(moto) > 0
            assert ratio.endswith("x")
    assert "FAILED CALLS" not in proc.stdout

    document = json.loads(out.read_text())
    assert set(document["servers"]) == {"cognito-harness", "moto_server"}
    for server in document["servers"].values():
        assert server["errors"] == 0
        assert not Path(f"/proc/{server['pid']}").exists(), "the bench left a server running"
        assert server["rss_kib"]["after_load"] > 0
        assert set(server["workloads"]) == {"sign_in", "refresh", "get_user", "credentials"}
        for phase in server["workloads"].values():
            assert phase["requests"] > 0 and phase["errors"] == 0
    assert {row["metric"] for row in document["rows"]} >= set(EXPECTED_ROWS)
    checks = {check["check"].split(" ")[0]: check["passed"] for check in document["acceptance"]}
    assert {"sign-in", "refresh", "startup"} <= set(checks)
    assert all(isinstance(passed, bool) for passed in checks.values())  # judged, whatever the verdict

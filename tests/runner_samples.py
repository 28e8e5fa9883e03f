"""Hand-built RunResults for the report and transcript tests (hostile content included)."""

from __future__ import annotations

from harness.results import CheckResult, Evidence, RunHeader, RunResult, StepRecord, Verdict

HOSTILE = "<script>alert('x')</script>&\"]]><!-- \x1b[31m \x00 \u00e9\u2603 </pre>"
TOKEN = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiI8aW1nIHNyYz14IG9uZXJyb3I9YWxlcnQoMSk+In0."


def _http(status: int, body: str) -> Evidence:
    return Evidence(
        kind="http",
        title="GET /api/me",
        data={
            "request": {
                "method": "GET",
                "url": "http://127.0.0.1:5000/api/me?x=<b>",
                "headers": {"Authorization": f"Bearer {TOKEN}"},
                "body": "",
            },
            "response": {"status": status, "headers": {"Content-Type": "text/html"}, "body": body},
            "elapsed_ms": 3.2,
        },
    )


def _token() -> Evidence:
    return Evidence(
        kind="token",
        title="forged access token (alg none)",
        data={
            "header": {"alg": "none", "typ": "JWT"},
            "claims": {"sub": "<img src=x onerror=alert(1)>", "token_use": "access", "exp": 1700003600},
            "token": TOKEN,
        },
    )


def _events() -> Evidence:
    return Evidence(
        kind="event",
        title="emulator events",
        data={"events": [{"type": "jwks.fetch", "at": 1700000000.0, "detail": {"count": 1}}]},
    )


def sample_result(*, with_error: bool = True, flawed: bool = True) -> RunResult:
    """Six checks over three families: PASS, FAIL (hostile app output), SKIP, ERROR, accepted FAIL."""
    header = RunHeader(
        tool_version="0.1.0",
        seed=42,
        target="reference-app",
        target_sha256="ab" * 32,
        pool_definition={"name": "test-pool", "mfa": "OFF", "note": HOSTILE},
        profile="baseline",
        selection=[],
        backend="emulator",
        started_at="2026-11-26T13:00:00Z",
        command=["cognito-harness", "run", "--seed", "42"],
        target_spec_path="fixtures/targets/reference/target.toml",
    )
    ok_steps = [
        StepRecord(index=0, name="sign in user", outcome="ok", detail="tokens issued", evidence=[_events()], at=1.0),
        StepRecord(index=1, name="call protected request", outcome="ok", detail="200", evidence=[_http(200, "{}")],
                   at=2.0),
    ]
    results = [
        CheckResult(
            check_id="TV-VALID-ACCESS",
            family="token_validation",
            title="a valid access token is accepted",
            severity="MUST",
            profile="baseline",
            requirements=["RFC 8725 3.1"],
            remediation="accept valid tokens",
            verdict=Verdict.PASS,
            steps=ok_steps,
            duration_s=0.01,
        ),
        CheckResult(
            check_id="TV-ALG-NONE",
            family="token_validation",
            title="alg none is rejected",
            severity="MUST",
            profile="baseline",
            requirements=["RFC 8725 3.1", "OIDF rp-id_token-sig-none"],
            remediation="pin the algorithm to RS256 & verify the signature",
            verdict=Verdict.FAIL if flawed else Verdict.PASS,
            reason="the app accepted an unsigned token" if flawed else "",
            expected="401 or 403",
            actual=f"200 with body {HOSTILE}" if flawed else "",
            reproduction="cognito-harness run --seed 42 -k TV-ALG-NONE",
            steps=[
                StepRecord(index=0, name="forge token", outcome="ok", evidence=[_token()], at=1.0),
                StepRecord(
                    index=1,
                    name="present forged token",
                    outcome="failed" if flawed else "ok",
                    detail="status 200" if flawed else "status 401",
                    evidence=[_http(200 if flawed else 401, HOSTILE)],
                    at=2.5,
                ),
            ],
            evidence=[Evidence(kind="note", title="probe", data={"text": "handler reached"})],
            duration_s=0.02,
        ),
        CheckResult(
            check_id="TEN-ADMIN-REMOVED",
            family="tenancy",
            title="a removed tenant admin loses admin rights",
            severity="MUST",
            profile="baseline",
            requirements=["ASVS 8.3.2"],
            remediation="re-check group membership",
            verdict=Verdict.SKIP,
            reason="the spec has no tenant_admin request",
            duration_s=0.0,
        ),
        CheckResult(
            check_id="LIFE-LOGOUT-ALL",
            family="lifecycle",
            title="logout everywhere revokes other sessions",
            severity="SHOULD",
            profile="strict",
            requirements=["ASVS 7.4.1"],
            remediation="honour GlobalSignOut",
            verdict=Verdict.FAIL,
            reason="old token still accepted",
            expected="401",
            actual="200",
            reproduction="cognito-harness run --seed 42 -k LIFE-LOGOUT-ALL",
            expected_failure="known gap, ticket 12",
            steps=[StepRecord(index=0, name="logout everywhere", outcome="failed", detail="200", at=3.0)],
        ),
    ]
    if with_error:
        results.append(
            CheckResult(
                check_id="LIFE-REFRESH-ROTATE",
                family="lifecycle",
                title="a rotated refresh token is rejected",
                severity="MUST",
                profile="baseline",
                requirements=["ASVS 10.4.5"],
                remediation="rotate refresh tokens",
                verdict=Verdict.ERROR,
                reason="target unreachable at http://127.0.0.1:5999/",
                steps=[
                    StepRecord(
                        index=0,
                        name="refresh",
                        outcome="error",
                        detail="connection refused",
                        evidence=[Evidence(kind="log", title="app stderr", data={"text": "Traceback ...\n" + HOSTILE})],
                        at=4.0,
                    )
                ],
            )
        )
    header.selection = [r.check_id for r in results]
    logs = [
        Evidence("log", "target stdout (start #1)", {"stream": "stdout", "lines": ["serving on 127.0.0.1:5000",
                 HOSTILE], "total_lines": 2, "returncode": None, "command": ["python", "app.py"]}),
        Evidence("log", "target stderr (start #1)", {"stream": "stderr", "lines": [], "total_lines": 0,
                 "returncode": None, "command": ["python", "app.py"]}),
    ]
    return RunResult(header=header, results=results, stale_expected_failures=["OLD-CHECK"], duration_s=1.25,
                     target_logs=logs)

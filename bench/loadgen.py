"""A deliberately light load client: raw keep-alive HTTP/1.1 over loopback.

boto3 spends milliseconds of CPU per call (signing, model parsing, retries),
which on a 2-core machine would measure boto3 rather than the server. Here
each client thread owns one ``http.client.HTTPConnection`` and sends
pre-built JSON 1.1 bodies with an ``X-Amz-Target`` header, so the client's
own cost per call is a few tens of microseconds.

Every response is checked (status 200 and a marker in the body); failures
are counted and the first few are kept so a run with errors can say why.
"""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

TARGET_PREFIX = "AWSCognitoIdentityProviderService."
IDENTITY_PREFIX = "AWSCognitoIdentityService."  # identity pools (cognito-identity), on the same server
CONTENT_TYPE = "application/x-amz-json-1.1"
MAX_KEPT_ERRORS = 5


def headers_for(operation: str, prefix: str = TARGET_PREFIX) -> dict[str, str]:
    return {"Content-Type": CONTENT_TYPE, "X-Amz-Target": prefix + operation}


def body_of(members: dict[str, Any]) -> bytes:
    return json.dumps(members, separators=(",", ":")).encode()


def call_once(host: str, port: int, operation: str, body: bytes, timeout: float = 10.0,
              prefix: str = TARGET_PREFIX) -> tuple[int, bytes]:
    """One call over a fresh connection: (status, body). Raises OSError if unreachable."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("POST", "/", body, headers_for(operation, prefix))
        response = conn.getresponse()
        return response.status, response.read()
    except http.client.HTTPException as exc:  # e.g. the server closed mid-answer while starting
        raise OSError(str(exc)) from exc
    finally:
        conn.close()


def call_json(host: str, port: int, operation: str, members: dict[str, Any],
              prefix: str = TARGET_PREFIX) -> dict[str, Any]:
    """One call that must succeed; its decoded answer (used for setup)."""
    status, data = call_once(host, port, operation, body_of(members), prefix=prefix)
    if status != 200:
        raise RuntimeError(f"{operation} answered {status}: {data[:300]!r}")
    return json.loads(data)


@dataclass(frozen=True)
class Workload:
    """One measured operation: the bodies to cycle through and what a good answer contains."""

    key: str  # "sign_in", "refresh", "get_user", "credentials"
    label: str  # human name for the table
    operation: str
    bodies: tuple[bytes, ...]
    marker: bytes  # must appear in every 200 body
    prefix: str = TARGET_PREFIX  # the X-Amz-Target service prefix


def sign_in_workload(client_id: str, credentials: list[tuple[str, str]]) -> Workload:
    bodies = tuple(body_of({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client_id,
                            "AuthParameters": {"USERNAME": u, "PASSWORD": p}}) for u, p in credentials)
    return Workload("sign_in", "sign-in (InitiateAuth USER_PASSWORD_AUTH)", "InitiateAuth", bodies,
                    b'"AccessToken"')


def refresh_workload(client_id: str, refresh_tokens: list[str]) -> Workload:
    bodies = tuple(body_of({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client_id,
                            "AuthParameters": {"REFRESH_TOKEN": t}}) for t in refresh_tokens)
    return Workload("refresh", "refresh (InitiateAuth REFRESH_TOKEN_AUTH)", "InitiateAuth", bodies,
                    b'"AccessToken"')


def get_user_workload(access_tokens: list[str]) -> Workload:
    bodies = tuple(body_of({"AccessToken": t}) for t in access_tokens)
    return Workload("get_user", "GetUser", "GetUser", bodies, b'"Username"')


def credentials_workload(provider: str, identities: list[tuple[str, str]]) -> Workload:
    """GetCredentialsForIdentity with each user's ID token as the login (the enhanced flow's hot call)."""
    bodies = tuple(body_of({"IdentityId": identity_id, "Logins": {provider: id_token}})
                   for identity_id, id_token in identities)
    return Workload("credentials", "credentials (GetCredentialsForIdentity)", "GetCredentialsForIdentity", bodies,
                    b'"SessionToken"', IDENTITY_PREFIX)


@dataclass
class PhaseResult:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list, repr=False)
    error_samples: list[str] = field(default_factory=list)
    warmup_requests: int = 0
    warmup_errors: int = 0
    server_cpu_seconds: float | None = None  # the server's CPU time during the measured calls

    @property
    def cpu_ms_per_call(self) -> float | None:
        """Server CPU per call: unlike throughput, barely moved by other load on the machine."""
        if self.server_cpu_seconds is None or not self.requests:
            return None
        return self.server_cpu_seconds / self.requests * 1000

    @property
    def throughput(self) -> float:
        ok = self.requests - self.errors
        return ok / self.seconds if self.seconds > 0 else 0.0

    def percentile_ms(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.latencies) * 1000 if self.latencies else 0.0

    def total_errors(self) -> int:
        return self.errors + self.warmup_errors

    def absorb(self, other: PhaseResult) -> None:
        """Add another round of the same workload (rounds interleave the two servers)."""
        self.requests += other.requests
        self.errors += other.errors
        self.seconds += other.seconds
        self.latencies.extend(other.latencies)
        self.warmup_requests += other.warmup_requests
        self.warmup_errors += other.warmup_errors
        if other.server_cpu_seconds is not None:
            self.server_cpu_seconds = (self.server_cpu_seconds or 0.0) + other.server_cpu_seconds
        for sample in other.error_samples:
            if len(self.error_samples) < MAX_KEPT_ERRORS:
                self.error_samples.append(sample)

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "warmup_requests": self.warmup_requests,
            "warmup_errors": self.warmup_errors,
            "seconds": round(self.seconds, 3),
            "throughput_rps": round(self.throughput, 1),
            "server_cpu_ms_per_call": None if self.cpu_ms_per_call is None else round(self.cpu_ms_per_call, 3),
            "latency_ms": {"mean": round(self.mean_ms, 3), "p50": round(self.percentile_ms(0.50), 3),
                           "p90": round(self.percentile_ms(0.90), 3), "p99": round(self.percentile_ms(0.99), 3)},
            "error_samples": self.error_samples,
        }


class _Worker(threading.Thread):
    """One client thread: one keep-alive connection, its slice of the bodies, its request quota."""

    def __init__(self, host: str, port: int, workload: Workload, offset: int, quota: int,
                 start_gate: threading.Barrier, stop: threading.Event, deadline_box: list[float]) -> None:
        super().__init__(daemon=True, name=f"bench-{workload.key}-{offset}")
        self.host, self.port, self.workload = host, port, workload
        self.offset, self.quota = offset, quota
        self.start_gate, self.stop, self.deadline_box = start_gate, stop, deadline_box
        self.requests = 0
        self.errors = 0
        self.latencies: list[float] = []
        self.error_samples: list[str] = []
        self.finished_at = 0.0

    def _error(self, text: str) -> None:
        self.errors += 1
        if len(self.error_samples) < MAX_KEPT_ERRORS:
            self.error_samples.append(text[:300])

    def run(self) -> None:
        workload = self.workload
        headers = headers_for(workload.operation, workload.prefix)
        bodies, marker = workload.bodies, workload.marker
        n = len(bodies)
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        latencies = self.latencies
        clock = time.perf_counter
        i = self.offset
        try:
            conn.connect()
            self.start_gate.wait()
        except (OSError, threading.BrokenBarrierError) as exc:
            self._error(f"connect: {exc!r}")
            self.finished_at = clock()
            return
        deadline = self.deadline_box[0]
        while self.requests < self.quota and not self.stop.is_set():
            t0 = clock()
            if t0 >= deadline:
                break
            try:
                conn.request("POST", "/", bodies[i % n], headers)
                response = conn.getresponse()
                data = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                self.requests += 1
                self._error(f"transport: {exc!r}")
                conn.close()
                conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                i += 1
                continue
            latencies.append(clock() - t0)
            self.requests += 1
            i += 1
            if status != 200 or marker not in data:
                self._error(f"{status}: {data[:240]!r}")
            if response.will_close:  # the server chose to close; reconnect (counted by the server's cost)
                conn.close()
                conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self.finished_at = clock()
        conn.close()


def _run(host: str, port: int, workload: Workload, threads: int, seconds: float, max_requests: int,
         stop: threading.Event) -> PhaseResult:
    threads = max(1, threads)
    quota, extra = divmod(max(threads, max_requests), threads)
    gate = threading.Barrier(threads + 1)
    deadline_box = [0.0]
    stride = max(1, len(workload.bodies) // threads)
    workers = [_Worker(host, port, workload, k * stride, quota + (1 if k < extra else 0), gate, stop, deadline_box)
               for k in range(threads)]
    for w in workers:
        w.start()
    deadline_box[0] = time.perf_counter() + seconds  # set before the gate opens; workers read it after
    try:
        gate.wait(timeout=30)
    except threading.BrokenBarrierError:
        stop.set()
    started = time.perf_counter()
    for w in workers:
        while w.is_alive():  # short joins keep Ctrl-C responsive
            w.join(timeout=0.2)
    result = PhaseResult()
    result.seconds = max((w.finished_at for w in workers), default=started) - started
    for w in workers:
        result.requests += w.requests
        result.errors += w.errors
        result.latencies.extend(w.latencies)
        for sample in w.error_samples:
            if len(result.error_samples) < MAX_KEPT_ERRORS:
                result.error_samples.append(sample)
    return result


def run_phase(host: str, port: int, workload: Workload, *, threads: int, seconds: float, max_requests: int,
              warmup_seconds: float, warmup_requests: int, stop: threading.Event,
              server_cpu: Callable[[], float | None] | None = None) -> PhaseResult:
    """Warm up, then measure ``workload`` for ``seconds`` or ``max_requests`` calls, whichever ends first.

    ``server_cpu`` (the server process's CPU seconds so far) is sampled around the measured calls.
    """
    warm = None
    if warmup_seconds > 0 and warmup_requests > 0:
        warm = _run(host, port, workload, threads, warmup_seconds, warmup_requests, stop)
    cpu_before = server_cpu() if server_cpu is not None else None
    result = _run(host, port, workload, threads, seconds, max_requests, stop)
    cpu_after = server_cpu() if server_cpu is not None else None
    if cpu_before is not None and cpu_after is not None:
        result.server_cpu_seconds = cpu_after - cpu_before
    if warm is not None:
        result.warmup_requests, result.warmup_errors = warm.requests, warm.errors
        for sample in warm.error_samples:
            if len(result.error_samples) < MAX_KEPT_ERRORS:
                result.error_samples.append("warm-up " + sample)
    return result

"""The HTTP server under every face holds up when left running and answers bad HTTP with JSON 4xx.

Real servers on loopback, real sockets: raw bytes where a well-behaved client
could not send the request (smuggling, conflicting lengths, floods, slow
headers), ``requests`` and boto3 elsewhere. Limits are shrunk per test
through :class:`ServerLimits` so timeouts take a second, not a minute; no
test asserts a speed.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from harness.server import Emulator
from harness.web.http import (
    MAX_BODY_BYTES,
    TRUNCATION_MARKER,
    InvalidJSON,
    Request,
    Response,
    Router,
    safe_header_value,
)
from harness.web.serving import HTTPService, ServerLimits

REPO = Path(__file__).resolve().parent.parent
TARGET = "AWSCognitoIdentityProviderService."


# --- helpers -----------------------------------------------------------------------------------------


def raw_exchange(port: int, data: bytes, timeout: float = 10.0) -> bytes:
    """Send ``data`` on a fresh connection and read until the server closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
        except OSError:  # the server may refuse and close before taking it all
            pass
        return read_until_closed(sock)


def read_until_closed(sock: socket.socket) -> bytes:
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk


def responses_in(stream: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Every (status, headers, body) in a byte stream of Content-Length-framed answers."""
    found = []
    while stream.startswith(b"HTTP/"):
        head, _, rest = stream.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", len(rest)))
        found.append((int(lines[0].split()[1]), headers, rest[:length]))
        stream = rest[length:]
    return found


def one_answer(port: int, data: bytes) -> tuple[int, dict[str, str], dict]:
    """The single answer to ``data``, its JSON body, after checking the server closed the connection."""
    answers = responses_in(raw_exchange(port, data))
    assert len(answers) == 1, answers
    status, headers, body = answers[0]
    assert "json" in headers["content-type"] and b"<html" not in body.lower(), (status, headers, body)
    return status, headers, json.loads(body)


def cognito_call(operation: str, body: bytes, framing: str) -> bytes:
    return (f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: {TARGET}{operation}\r\n"
            f"Content-Type: application/x-amz-json-1.1\r\n{framing}\r\n").encode() + body


def chunked(body: bytes, size: int = 7) -> bytes:
    pieces = [body[i:i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


def pool_names(emu: Emulator) -> list[str]:
    return [p["Name"] for p in emu.backend.call("ListUserPools", {"MaxResults": 60})["UserPools"]]


def echo_router() -> Router:
    router = Router()
    router.add("GET", "/hello", lambda request: Response.json({"hello": request.client}))
    router.add("POST", "/echo", lambda request: Response(200, request.body, {"Content-Type": "application/octet-stream"}))
    return router


@pytest.fixture()
def emu() -> Iterator[Emulator]:
    with Emulator.start(seed=3) as emulator:
        yield emulator


def serving(router: Router, **limits: float) -> HTTPService:
    return HTTPService(router, limits=ServerLimits(**limits)).start()  # type: ignore[arg-type]


def connection_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("harness-http-conn")]


# --- protocol errors are JSON 4xx ------------------------------------------------------------------


@pytest.mark.parametrize("raw", [
    b"garbage\r\n\r\n",
    b"GET /\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n",
    b"GET / HTTP/1.1\r\n\r\n",  # HTTP/1.1 without Host
    b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40,  # a TLS hello on the plain port
], ids=["garbage-line", "http-0.9", "header-without-colon", "no-host", "bad-length", "unknown-coding", "tls-hello"])
def test_malformed_http_gets_a_json_400_and_the_connection_closes(emu: Emulator, raw: bytes) -> None:
    status, headers, body = one_answer(emu.http.port, raw)
    assert status == 400
    assert body["__type"] == "SerializationException" and body["message"].startswith("Malformed HTTP request")
    assert headers["x-amzn-errortype"] == "SerializationException:"
    assert headers["connection"] == "close"


def test_an_unknown_method_is_a_json_4xx_not_an_html_501(emu: Emulator) -> None:
    answers = responses_in(raw_exchange(emu.http.port, b"BREW / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
    assert [status for status, _, _ in answers] == [405]
    assert json.loads(answers[0][2]) == {"error": "method_not_allowed", "path": "/"}


def test_a_header_flood_gets_431_json_and_the_connection_closes(emu: Emulator) -> None:
    flood = b"".join(b"X-Flood-%d: %s\r\n" % (i, b"a" * 1000) for i in range(200))  # 200 KB of headers
    status, headers, body = one_answer(emu.http.port, b"GET /.well-known/jwks.json HTTP/1.1\r\nHost: x\r\n" + flood + b"\r\n")
    assert status == 431 and body["__type"] == "RequestHeaderFieldsTooLargeException"
    assert headers["connection"] == "close"


def test_one_huge_header_line_is_refused_too(emu: Emulator) -> None:
    status, _, body = one_answer(emu.http.port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 70_000 + b"\r\n\r\n")
    assert status == 431


# --- framing: chunked bodies, conflicting lengths, smuggling -------------------------------------------


def test_a_chunked_cognito_call_is_decoded(emu: Emulator) -> None:
    emu.backend.call("CreateUserPool", {"PoolName": "chunky"})
    body = json.dumps({"MaxResults": 10}).encode()
    answers = responses_in(raw_exchange(emu.http.port, cognito_call(
        "ListUserPools", chunked(body), "Transfer-Encoding: chunked\r\nConnection: close\r\n")))
    assert len(answers) == 1 and answers[0][0] == 200, answers
    assert [p["Name"] for p in json.loads(answers[0][2])["UserPools"]] == ["chunky"]


def test_chunk_bytes_are_never_run_as_a_second_request(emu: Emulator) -> None:
    """The chunk carries a whole CreateUserPool request: it is the body of the first, nothing more."""
    inner_body = b'{"PoolName": "smuggled"}'
    inner = cognito_call("CreateUserPool", inner_body, f"Content-Length: {len(inner_body)}\r\n")
    outer = cognito_call("ListUserPools", chunked(inner, size=len(inner)), "Transfer-Encoding: chunked\r\n")
    with socket.create_connection(("127.0.0.1", emu.http.port), timeout=10) as sock:
        sock.sendall(outer)
        time.sleep(0.3)  # give a second request, if any were parsed, time to be answered
        sock.shutdown(socket.SHUT_WR)
        answers = responses_in(read_until_closed(sock))
    assert [status for status, _, _ in answers] == [400]  # the outer call: its body is not JSON
    assert json.loads(answers[0][2])["__type"] == "SerializationException"
    assert "smuggled" not in pool_names(emu)


def test_content_length_with_transfer_encoding_is_refused_so_nothing_is_smuggled(emu: Emulator) -> None:
    """TE.CL smuggling: a server framing by Content-Length runs the bytes after '5c' as a second request."""
    smuggled_body = b'{"PoolName": "smuggled"}'
    smuggled = cognito_call("CreateUserPool", smuggled_body, f"Content-Length: {len(smuggled_body)}\r\n")
    attack = cognito_call("ListUserPools", b"%x\r\n" % len(smuggled) + smuggled + b"\r\n0\r\n\r\n",
                          "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n")
    status, headers, body = one_answer(emu.http.port, attack)
    assert status == 400 and "both Content-Length and Transfer-Encoding" in body["message"]
    assert headers["connection"] == "close"
    assert "smuggled" not in pool_names(emu)


def test_transfer_encoding_on_http_1_0_is_refused(emu: Emulator) -> None:
    raw = cognito_call("ListUserPools", chunked(b"{}"), "Transfer-Encoding: chunked\r\n").replace(b"HTTP/1.1", b"HTTP/1.0")
    status, _, body = one_answer(emu.http.port, raw)
    assert status == 400 and "HTTP/1.0" in body["message"]


def test_two_different_content_lengths_are_refused(emu: Emulator) -> None:
    body = b'{"MaxResults": 10}'
    raw = cognito_call("ListUserPools", body, f"Content-Length: 5\r\nContent-Length: {len(body)}\r\n")
    status, headers, answer = one_answer(emu.http.port, raw)
    assert status == 400 and "Content-Length" in answer["message"]
    assert headers["connection"] == "close"


def test_the_body_cap_holds_for_chunked_bodies(emu: Emulator) -> None:
    big = b'{"PoolName": "' + b"a" * (MAX_BODY_BYTES + 10) + b'"}'
    status, _, body = one_answer(emu.http.port, cognito_call("CreateUserPool", chunked(big, 256 * 1024),
                                                               "Transfer-Encoding: chunked\r\n"))
    assert status == 400 and body["__type"] == "InvalidParameterException"
    assert str(MAX_BODY_BYTES) in body["message"]


def test_expect_100_continue_is_honoured(emu: Emulator) -> None:
    body = b'{"MaxResults": 1}'
    with socket.create_connection(("127.0.0.1", emu.http.port), timeout=10) as sock:
        sock.sendall(cognito_call("ListUserPools", b"", f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n"
                                                        "Connection: close\r\n"))
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(body)
        answers = responses_in(read_until_closed(sock))
    assert [status for status, _, _ in answers] == [200]


def test_pipelined_requests_are_answered_in_order_on_one_connection(emu: Emulator) -> None:
    emu.backend.call("CreateUserPool", {"PoolName": "first"})
    list_pools = cognito_call("ListUserPools", b'{"MaxResults": 5}', "Content-Length: 17\r\n")
    jwks_miss = b"GET /nope/.well-known/jwks.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    answers = responses_in(raw_exchange(emu.http.port, list_pools + jwks_miss))
    assert [status for status, _, _ in answers] == [200, 404]


# --- limits: timeouts, connections, memory -------------------------------------------------------------


def test_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() -> None:
    service = serving(echo_router(), idle_timeout=0.5)
    try:
        with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
            sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            first = sock.recv(65536)
            assert first.startswith(b"HTTP/1.1 200 ")
            assert b"connection: close" not in first.lower()  # kept alive ...
            assert read_until_closed(sock) == b""  # ... until it idled out: closed without a word
    finally:
        service.stop()


def test_a_slow_header_client_is_cut_off_at_the_head_deadline() -> None:
    """Slowloris: one header line every 0.2 s keeps any per-read timeout happy, never the head deadline."""
    service = serving(echo_router(), idle_timeout=5, header_timeout=1)
    try:
        with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
            sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n")
            started = time.monotonic()
            received = b""
            while time.monotonic() - started < 8:
                try:
                    sock.sendall(b"X-Slow: %d\r\n" % int(time.monotonic() * 1000))
                except OSError:
                    break
                sock.settimeout(0.2)
                try:
                    received += sock.recv(65536)
                except TimeoutError:
                    continue
                except ConnectionResetError:
                    break
                if received:
                    break
            assert received.startswith(b"HTTP/1.1 408 "), received
            assert json.loads(responses_in(received)[0][2])["__type"] == "RequestTimeoutException"
    finally:
        service.stop()


def test_a_stalled_body_is_cut_off_at_the_idle_timeout() -> None:
    service = serving(echo_router(), idle_timeout=0.5)
    try:
        with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
            sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part")
            assert read_until_closed(sock).startswith(b"HTTP/1.1 408 ")
    finally:
        service.stop()


def test_connections_past_the_cap_wait_in_the_backlog_and_threads_stay_bounded() -> None:
    service = serving(echo_router(), connections=3)
    held: list[socket.socket] = []
    try:
        for _ in range(3):
            sock = socket.create_connection(("127.0.0.1", service.port), timeout=10)
            sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
            held.append(sock)
        assert service.open_connections == 3
        waiting = socket.create_connection(("127.0.0.1", service.port), timeout=10)  # the kernel queues it
        waiting.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        waiting.settimeout(1.0)
        with pytest.raises(TimeoutError):
            waiting.recv(65536)  # not served while the cap is reached
        extra = [socket.create_connection(("127.0.0.1", service.port), timeout=10) for _ in range(40)]
        time.sleep(0.3)
        assert len(connection_threads()) <= 3 and service.open_connections == 3
        held.pop().close()  # a slot frees up: the queued connection is served
        waiting.settimeout(10)
        assert read_until_closed(waiting).startswith(b"HTTP/1.1 200 ")
        waiting.close()
        for sock in extra:
            sock.close()
    finally:
        for sock in held:
            sock.close()
        service.stop()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc")
def test_forty_header_floods_do_not_grow_the_servers_memory() -> None:
    """40 connections each sending 2 MB of header lines (never finishing the head) while RSS is read."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "serve", "--port", str(port), "--seed", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/.well-known/nope", timeout=2).status_code:
                    break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and proc.poll() is None, "serve did not start"
                time.sleep(0.1)
        time.sleep(0.5)
        before = rss_kib(proc.pid)
        line = b"X-Pad: " + b"p" * 63_000 + b"\r\n"
        flooded = threading.Barrier(41)
        sockets: list[socket.socket] = []

        def flood() -> None:
            sock = socket.create_connection(("127.0.0.1", port), timeout=20)
            sockets.append(sock)
            try:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
                for _ in range(32):
                    sock.sendall(line)
            except OSError:
                pass  # refused and closed by the server: what a capped server does
            flooded.wait(timeout=60)

        threads = [threading.Thread(target=flood) for _ in range(40)]
        for thread in threads:
            thread.start()
        flooded.wait(timeout=60)
        time.sleep(0.5)
        during = rss_kib(proc.pid)
        for sock in sockets:
            sock.close()
        for thread in threads:
            thread.join()
        assert during - before < 8 * 1024, f"RSS grew {(during - before) / 1024:.1f} MiB ({before} -> {during} KiB)"
        assert requests.get(f"http://127.0.0.1:{port}/.well-known/nope", timeout=5).status_code == 404
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# --- what goes out: capped headers and messages ---------------------------------------------------------


def test_an_echoed_value_is_capped_in_the_header_and_the_body(emu: Emulator) -> None:
    target = "Other." + "x" * 60_000  # UnknownOperation echoes the whole X-Amz-Target
    answer = requests.post(emu.url + "/", data=b"{}", headers={"X-Amz-Target": target}, timeout=10)
    assert answer.status_code == 400 and answer.json()["__type"] == "UnknownOperationException"
    header = answer.headers["x-amzn-ErrorMessage"]
    assert len(header) <= 1024 and header.endswith(TRUNCATION_MARKER)
    message = answer.json()["message"]
    assert len(message) <= 4096 and message.endswith(TRUNCATION_MARKER)


def test_safe_header_value_caps_and_sanitises() -> None:
    assert safe_header_value("a\r\nb\x00c") == "a  b c"
    assert safe_header_value("é") == "é" and safe_header_value("€") == "\\u20ac"
    capped = safe_header_value("v" * 100_000, limit=1024)
    assert len(capped) == 1024 and capped.endswith(TRUNCATION_MARKER)
    assert len(safe_header_value("€" * 10_000)) <= 8192


# --- JSON bombs -------------------------------------------------------------------------------------------


BOMBS = {
    "nested-arrays": b"[" * 100_000,
    "nested-objects": b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
    "long-integer": b'{"MaxResults": ' + b"9" * 5_000 + b"}",
    "not-utf8": b'{"MaxResults": "\xff\xfe"}',
}


@pytest.mark.parametrize("body", BOMBS.values(), ids=BOMBS.keys())
def test_request_json_turns_every_decode_failure_into_invalid_json(body: bytes) -> None:
    with pytest.raises(InvalidJSON):
        Request("POST", "/", {}, {}, body).json()


@pytest.mark.parametrize("body", BOMBS.values(), ids=BOMBS.keys())
def test_json_bombs_on_the_api_are_serialization_exceptions(emu: Emulator, body: bytes) -> None:
    answer = requests.post(emu.url + "/", data=body, headers={"X-Amz-Target": TARGET + "ListUserPools"}, timeout=30)
    assert answer.status_code == 400 and answer.json()["__type"] == "SerializationException"


@pytest.mark.parametrize("operation, member", [("ListUserPools", "NextToken"), ("ListUsers", "PaginationToken")])
def test_a_forged_pagination_token_nesting_json_deep_is_a_400(emu: Emulator, operation: str, member: str) -> None:
    pool = emu.backend.call("CreateUserPool", {"PoolName": "paged"})["UserPool"]["Id"]
    bomb = base64.urlsafe_b64encode(b"[" * 3000).rstrip(b"=").decode()
    body = {"MaxResults": 5, member: bomb} if operation == "ListUserPools" else {"UserPoolId": pool, member: bomb}
    answer = requests.post(emu.url + "/", json=body, timeout=30, headers={"X-Amz-Target": TARGET + operation})
    assert answer.status_code == 400 and answer.json()["__type"] == "InvalidParameterException", answer.text
    assert "token" in answer.json()["message"].lower()


@pytest.mark.parametrize("path", ["/_harness/clock", "/_harness/restore", "/_harness/pools"])
@pytest.mark.parametrize("body", BOMBS.values(), ids=BOMBS.keys())
def test_json_bombs_on_the_control_plane_are_400s(emu: Emulator, path: str, body: bytes) -> None:
    answer = requests.post(emu.url + path, data=body, headers={"Content-Type": "application/json"}, timeout=30)
    assert answer.status_code == 400, answer.text[:300]
    assert answer.json()["error"] == "bad_request" and answer.json()["field"] == "body"


@pytest.mark.parametrize("body", BOMBS.values(), ids=BOMBS.keys())
def test_json_bombs_on_the_oauth2_endpoints_are_4xx(emu: Emulator, body: bytes) -> None:
    pool = emu.backend.call("CreateUserPool", {"PoolName": "bombed"})["UserPool"]["Id"]
    for path in ("/oauth2/token", "/oauth2/revoke", "/oauth2/userInfo"):
        answer = requests.post(f"{emu.url}/{pool}{path}", data=body, headers={"Content-Type": "application/json"},
                               timeout=30)
        assert 400 <= answer.status_code < 500, (path, answer.status_code, answer.text[:300])


# --- streamed answers and the service's life cycle --------------------------------------------------------


def streaming_router(chunks: int = 300, size: int = 10_000) -> Router:
    router = echo_router()

    def pieces() -> Iterator[bytes]:
        for i in range(chunks):
            yield bytes([65 + i % 26]) * size

    def broken() -> Iterator[bytes]:
        yield b"first part "
        raise RuntimeError("the producer failed")

    router.add("GET", "/stream", lambda request: Response.stream(pieces(), content_type="text/plain"))
    router.add("GET", "/broken", lambda request: Response.stream(broken()))
    return router


def test_a_streamed_answer_arrives_whole_and_the_connection_stays_usable() -> None:
    service = serving(streaming_router())
    try:
        with requests.Session() as session:
            answer = session.get(service.url + "/stream", timeout=10)
            assert answer.status_code == 200 and answer.headers["Transfer-Encoding"] == "chunked"
            assert answer.headers["Content-Type"] == "text/plain"
            assert answer.content == b"".join(bytes([65 + i % 26]) * 10_000 for i in range(300))
            assert session.get(service.url + "/hello", timeout=10).json() == {"hello": "127.0.0.1"}
            head = session.head(service.url + "/stream", timeout=10)
            assert head.status_code == 200 and head.content == b""
    finally:
        service.stop()


def test_a_streamed_answer_to_http_1_0_ends_by_closing() -> None:
    service = serving(streaming_router(chunks=3, size=5))
    try:
        received = raw_exchange(service.port, b"GET /stream HTTP/1.0\r\n\r\n")
        head, _, body = received.partition(b"\r\n\r\n")
        assert b"chunked" not in head.lower() and body == b"AAAAABBBBBCCCCC"
    finally:
        service.stop()


def test_a_failing_stream_cuts_the_answer_short_and_the_server_carries_on(capsys: pytest.CaptureFixture[str]) -> None:
    service = serving(streaming_router())
    try:
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            requests.get(service.url + "/broken", timeout=10)
        assert requests.get(service.url + "/hello", timeout=10).status_code == 200
        assert "the producer failed" in capsys.readouterr().err
    finally:
        service.stop()


def test_a_service_starts_and_stops_many_times_and_releases_its_port() -> None:
    threads_before = threading.active_count()
    for _ in range(20):
        service = serving(echo_router())
        with requests.Session() as session:  # a kept-alive connection is open when it stops
            assert session.get(service.url + "/hello", timeout=10).status_code == 200
            port = service.port
            service.stop()
            service.stop()  # idempotent
        HTTPService(echo_router(), port=port).stop()  # the port is free to serve again at once
    never_started = HTTPService(echo_router())
    never_started.stop()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", never_started.port))  # no connection ever: not even TIME_WAIT
    time.sleep(0.1)
    assert threading.active_count() <= threads_before


def test_serve_forever_returns_when_stopped_from_another_thread() -> None:
    service = HTTPService(echo_router())
    runner = threading.Thread(target=service.serve_forever)
    runner.start()
    assert requests.get(service.url + "/hello", timeout=10).status_code == 200
    service.stop()
    runner.join(timeout=10)
    assert not runner.is_alive()


def test_the_raw_path_reaches_the_router_undecoded() -> None:
    router = Router()
    router.add("GET", "/items/{name}", lambda request: Response.json({"name": request.params["name"],
                                                                      "q": request.query}))
    service = serving(router)
    try:
        answer = requests.get(service.url + "/items/a%2Fb?x=1&x=2&y=", timeout=10).json()
        assert answer == {"name": "a%2Fb", "q": {"x": ["1", "2"], "y": [""]}}
    finally:
        service.stop()

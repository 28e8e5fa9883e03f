"""AWS endpoint mode holds the same HTTP rules as the emulator: the TLS front and the proxy are served
by the hardened layer (harness.web.serving), so framing, size limits, timeouts and the connection
cap apply over TLS and through the proxy too.

Real sockets on loopback: the standard ssl module trusting the run's CA, raw bytes where a
well-behaved client could not send the request (smuggling, conflicting lengths, floods, slow
headers). Limits are shrunk per test so timeouts take a second; no test asserts a speed.
"""

from __future__ import annotations

import json
import socket
import ssl
import time
from collections.abc import Iterator

import pytest

from harness.awsendpoint.ca import RunCA
from harness.awsendpoint.front import TLSFront, Upstream
from harness.awsendpoint.proxy import InterceptingProxy
from harness.server import Emulator
from harness.web.http import Request, Response, Router
from harness.web.serving import HTTPService, ServerLimits
from tests.test_http_server import chunked, cognito_call, pool_names, responses_in

IDP = "cognito-idp.us-east-1.amazonaws.com"


# --- helpers -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> RunCA:
    return RunCA(tmp_path_factory.mktemp("run-ca"))


@pytest.fixture()
def emu() -> Iterator[Emulator]:
    with Emulator.start(seed=3) as emulator:
        emulator.backend.call("CreateUserPool", {"PoolName": "listed"})
        yield emulator


def start_front(ca: RunCA, upstream_url: str, **limits: float) -> TLSFront:
    return TLSFront(ca, [Upstream(IDP, upstream_url)], limits=ServerLimits(**limits)).start()  # type: ignore[arg-type]


@pytest.fixture()
def front(ca: RunCA, emu: Emulator) -> Iterator[TLSFront]:
    served = TLSFront(ca, [Upstream(IDP, emu.url)]).start()
    try:
        yield served
    finally:
        served.stop()


def tls_connect(address: tuple[str, int], ca: RunCA, sni: str = IDP, timeout: float = 10.0) -> ssl.SSLSocket:
    """A TLS connection to the front that verifies its certificate against the run CA."""
    ctx = ssl.create_default_context(cafile=str(ca.cert_path))
    raw = socket.create_connection(address, timeout=timeout)
    try:
        return ctx.wrap_socket(raw, server_hostname=sni)
    except BaseException:
        raw.close()
        raise


def read_until_closed(sock: socket.socket, quiet: float = 3.0) -> bytes:
    """Everything the server sends until it closes; a server that keeps the connection open past
    ``quiet`` seconds of silence ends the read too (today's code kept connections it should close)."""
    sock.settimeout(quiet)
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (TimeoutError, ConnectionResetError):
            return received
        if not chunk:
            return received
        received += chunk


def tls_exchange(address: tuple[str, int], ca: RunCA, data: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Every answer to ``data`` sent on one fresh TLS connection."""
    with tls_connect(address, ca) as tls:
        try:
            tls.sendall(data)
        except OSError:  # refused and closed before it took everything
            pass
        return responses_in(read_until_closed(tls))


def json_refusal(answers: list[tuple[int, dict[str, str], bytes]]) -> tuple[int, dict]:
    """The one answer, a JSON protocol error after which the server closed the connection."""
    assert len(answers) == 1, answers
    status, headers, body = answers[0]
    assert "json" in headers["content-type"] and headers["connection"] == "close", (status, headers, body)
    return status, json.loads(body)


def aws_call(operation: str, body: bytes, framing: str) -> bytes:
    """A cognito-idp call with the AWS Host (the front answers 421 to any other)."""
    head, _, rest = cognito_call(operation, body, framing).partition(b"Host: 127.0.0.1")
    return head + f"Host: {IDP}".encode() + rest


def smuggled_request() -> bytes:
    """A whole CreateUserPool call for a pool named 'smuggled', hidden in another request's body."""
    body = b'{"PoolName": "smuggled"}'
    return aws_call("CreateUserPool", body, f"Content-Length: {len(body)}\r\n")


class CountingUpstream:
    """A plain-HTTP upstream that takes any header size and counts what reached it."""

    def __init__(self) -> None:
        self.seen = 0
        router = Router()
        router.fallback = self._answer
        self.service = HTTPService(router, limits=ServerLimits(header_bytes=32 * 1024 * 1024)).start()

    def _answer(self, request: Request) -> Response:
        self.seen += 1
        return Response.json({"reached": "upstream"})

    def stop(self) -> None:
        self.service.stop()


# --- the TLS front: framing and smuggling ------------------------------------------------------------


def test_a_chunked_call_through_the_front_is_decoded(front: TLSFront, ca: RunCA) -> None:
    body = json.dumps({"MaxResults": 10}).encode()
    answers = tls_exchange(front.address, ca, aws_call("ListUserPools", chunked(body),
                                                       "Transfer-Encoding: chunked\r\nConnection: close\r\n"))
    assert [status for status, _, _ in answers] == [200], answers
    assert [p["Name"] for p in json.loads(answers[0][2])["UserPools"]] == ["listed"]
    assert front.log.admitted == {IDP: 1}


def test_te_cl_smuggling_over_tls_is_refused_and_nothing_runs(front: TLSFront, ca: RunCA, emu: Emulator) -> None:
    """A front framing by Content-Length runs the bytes after the 4-byte body as a second request."""
    smuggled = smuggled_request()
    attack = aws_call("ListUserPools", b"%x\r\n" % len(smuggled) + smuggled + b"\r\n0\r\n\r\n",
                      "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n")
    status, body = json_refusal(tls_exchange(front.address, ca, attack))
    assert status == 400 and "both Content-Length and Transfer-Encoding" in body["message"]
    assert "smuggled" not in pool_names(emu)
    assert front.log.admitted == {}  # refused by the front: the emulator never saw it


def test_chunk_bytes_over_tls_are_never_run_as_a_second_request(front: TLSFront, ca: RunCA, emu: Emulator) -> None:
    smuggled = smuggled_request()
    outer = aws_call("ListUserPools", chunked(smuggled, size=len(smuggled)), "Transfer-Encoding: chunked\r\n")
    answers = tls_exchange(front.address, ca, outer)
    assert [status for status, _, _ in answers] == [400], answers  # the outer call: its body is not JSON
    assert json.loads(answers[0][2])["__type"] == "SerializationException"
    assert "smuggled" not in pool_names(emu)


def test_conflicting_content_lengths_over_tls_are_refused_and_nothing_runs(front: TLSFront, ca: RunCA,
                                                                           emu: Emulator) -> None:
    """Two Content-Lengths: a front taking the first (0) runs the body as a second request."""
    smuggled = smuggled_request()
    attack = aws_call("ListUserPools", smuggled, f"Content-Length: 0\r\nContent-Length: {len(smuggled)}\r\n")
    status, body = json_refusal(tls_exchange(front.address, ca, attack))
    assert status == 400 and "Content-Length" in body["message"]
    assert "smuggled" not in pool_names(emu)


def test_malformed_http_over_tls_is_a_json_400(front: TLSFront, ca: RunCA) -> None:
    status, body = json_refusal(tls_exchange(front.address, ca, b"garbage\r\n\r\n"))
    assert status == 400 and body["__type"] == "SerializationException"


def test_a_header_flood_over_tls_gets_431_and_never_reaches_the_upstream(ca: RunCA) -> None:
    """900 KB of headers (15 lines of 60 KB: each under the stdlib's line limit) go no further than the front."""
    upstream = CountingUpstream()
    served = TLSFront(ca, [Upstream(IDP, upstream.service.url)]).start()
    try:
        flood = b"".join(b"X-Flood-%d: %s\r\n" % (i, b"f" * 60_000) for i in range(15))
        status, body = json_refusal(tls_exchange(served.address, ca, f"GET / HTTP/1.1\r\nHost: {IDP}\r\n".encode()
                                                 + flood + b"\r\n"))
        assert status == 431 and body["__type"] == "RequestHeaderFieldsTooLargeException"
        assert upstream.seen == 0
        answers = tls_exchange(served.address, ca, f"GET / HTTP/1.1\r\nHost: {IDP}\r\nConnection: close\r\n\r\n".encode())
        assert [status for status, _, _ in answers] == [200] and upstream.seen == 1  # the front still serves
    finally:
        served.stop()
        upstream.stop()


def test_the_body_cap_holds_through_the_front(front: TLSFront, ca: RunCA) -> None:
    big = b'{"PoolName": "' + b"a" * (front.limits.body_bytes + 10) + b'"}'
    status, body = json_refusal(tls_exchange(front.address, ca, aws_call(
        "CreateUserPool", chunked(big, 256 * 1024), "Transfer-Encoding: chunked\r\n")))
    assert status == 400 and body["__type"] == "InvalidParameterException"


# --- the TLS front: what it always did still holds ----------------------------------------------------


def test_sni_host_mismatch_is_421_and_the_discovery_rewrite_holds(front: TLSFront, ca: RunCA, emu: Emulator) -> None:
    pool = emu.backend.call("CreateUserPool", {"PoolName": "discovered"})["UserPool"]["Id"]
    other = "cognito-idp.eu-west-1.amazonaws.com"
    with tls_connect(front.address, ca) as tls:  # one keep-alive connection for all three
        tls.sendall(f"GET /{pool}/.well-known/openid-configuration HTTP/1.1\r\nHost: {IDP}\r\n\r\n".encode())
        tls.sendall(f"GET / HTTP/1.1\r\nHost: {other}\r\n\r\n".encode())
        tls.sendall(f"GET https://{IDP}/{pool}/.well-known/openid-configuration HTTP/1.1\r\nHost: {IDP}\r\n"
                    "Connection: close\r\n\r\n".encode())  # absolute-form: the target's authority decides
        answers = responses_in(read_until_closed(tls))
    assert [status for status, _, _ in answers] == [200, 421, 200], answers
    assert b"not served on this connection" in answers[1][2]
    for _, _, body in (answers[0], answers[2]):
        assert json.loads(body)["jwks_uri"] == f"https://{IDP}/{pool}/.well-known/jwks.json"
    with pytest.raises(ssl.SSLError):
        tls_connect(front.address, ca, sni="s3.amazonaws.com")
    assert "s3.amazonaws.com" in front.log.refused


# --- the TLS front: timeouts and the connection cap --------------------------------------------------


def test_a_client_that_never_finishes_the_handshake_is_dropped(ca: RunCA, emu: Emulator) -> None:
    served = start_front(ca, emu.url, handshake_timeout=0.5)
    try:
        with socket.create_connection(served.address, timeout=10) as raw:
            raw.sendall(b"\x16\x03\x01")  # the first bytes of a ClientHello, then silence
            assert read_until_closed(raw, quiet=10) == b""
        assert served.open_connections == 0
    finally:
        served.stop()


def test_an_idle_tls_connection_is_closed_after_the_idle_timeout(ca: RunCA, emu: Emulator) -> None:
    served = start_front(ca, emu.url, idle_timeout=0.5)
    try:
        with tls_connect(served.address, ca) as tls:
            tls.sendall(aws_call("ListUserPools", b'{"MaxResults": 1}', "Content-Length: 17\r\n"))
            first = tls.recv(65536)
            assert first.startswith(b"HTTP/1.1 200 ") and b"connection: close" not in first.lower()
            assert read_until_closed(tls, quiet=10) == b""  # kept alive, then closed without a word
    finally:
        served.stop()


def test_a_slow_header_client_over_tls_gets_408(ca: RunCA, emu: Emulator) -> None:
    """One header line every 0.2 s keeps any per-read timeout happy, never the head deadline."""
    served = start_front(ca, emu.url, idle_timeout=5, header_timeout=1)
    try:
        with tls_connect(served.address, ca) as tls:
            tls.sendall(f"GET / HTTP/1.1\r\nHost: {IDP}\r\n".encode())
            received, started = b"", time.monotonic()
            tls.settimeout(0.2)
            while not received and time.monotonic() - started < 10:
                try:
                    tls.sendall(b"X-Slow: %d\r\n" % int(time.monotonic() * 1000))
                    received = tls.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
        assert received.startswith(b"HTTP/1.1 408 "), received
        assert json.loads(responses_in(received)[0][2])["__type"] == "RequestTimeoutException"
    finally:
        served.stop()


def test_tls_connections_past_the_cap_wait_even_for_their_handshake(ca: RunCA, emu: Emulator) -> None:
    served = start_front(ca, emu.url, connections=2)
    held = [tls_connect(served.address, ca) for _ in range(2)]
    try:
        for tls in held:
            tls.sendall(aws_call("ListUserPools", b'{"MaxResults": 1}', "Content-Length: 17\r\n"))
            assert tls.recv(65536).startswith(b"HTTP/1.1 200 ")
        with pytest.raises(TimeoutError):  # the kernel queues it; nobody answers its ClientHello
            tls_connect(served.address, ca, timeout=1.0)
        assert served.open_connections == 2
        held.pop().close()  # a slot frees up: the next one is served
        with tls_connect(served.address, ca) as tls:
            tls.sendall(f"GET /nope HTTP/1.1\r\nHost: {IDP}\r\nConnection: close\r\n\r\n".encode())
            assert read_until_closed(tls).startswith(b"HTTP/1.1 404 ")
    finally:
        for tls in held:
            tls.close()
        served.stop()


def test_stopping_the_front_closes_its_open_tls_connections(ca: RunCA, emu: Emulator) -> None:
    served = start_front(ca, emu.url)
    with tls_connect(served.address, ca) as tls:
        tls.sendall(aws_call("ListUserPools", b'{"MaxResults": 1}', "Content-Length: 17\r\n"))
        assert tls.recv(65536).startswith(b"HTTP/1.1 200 ")
        served.stop()  # the kept-alive connection's thread is woken and ends, not left for the idle timeout
        assert served.open_connections == 0
        assert read_until_closed(tls, quiet=10) == b""


# --- the proxy ------------------------------------------------------------------------------------------


@pytest.fixture()
def proxy(front: TLSFront, emu: Emulator) -> Iterator[InterceptingProxy]:
    served = InterceptingProxy({IDP: front.address}, {IDP: Upstream(IDP, emu.url)}).start()
    try:
        yield served
    finally:
        served.stop()


def plain_exchange(url: str, data: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        try:
            sock.sendall(data)
        except OSError:
            pass
        return responses_in(read_until_closed(sock))


def absolute_call(operation: str, body: bytes, framing: str) -> bytes:
    """A cognito-idp call as a client sends it to an HTTP proxy: absolute-form https target."""
    return aws_call(operation, body, framing).replace(b"POST / ", f"POST https://{IDP}/ ".encode(), 1)


def test_a_chunked_absolute_form_call_through_the_proxy_is_decoded(proxy: InterceptingProxy) -> None:
    body = json.dumps({"MaxResults": 10}).encode()
    answers = plain_exchange(proxy.url, absolute_call("ListUserPools", chunked(body),
                                                      "Transfer-Encoding: chunked\r\nConnection: close\r\n"))
    assert [status for status, _, _ in answers] == [200], answers
    assert [p["Name"] for p in json.loads(answers[0][2])["UserPools"]] == ["listed"]


@pytest.mark.parametrize("framing, message", [
    ("Content-Length: 0\r\nContent-Length: {n}\r\n", "Content-Length"),
    ("Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", "both Content-Length and Transfer-Encoding"),
], ids=["two-lengths", "te-and-cl"])
def test_ambiguous_framing_through_the_proxy_is_refused(proxy: InterceptingProxy, emu: Emulator, framing: str,
                                                        message: str) -> None:
    smuggled = smuggled_request()
    attack = absolute_call("ListUserPools", smuggled, framing.format(n=len(smuggled)))
    status, body = json_refusal(plain_exchange(proxy.url, attack))
    assert status == 400 and message in body["message"]
    assert "smuggled" not in pool_names(emu)
    assert proxy.log.admitted == {}


def test_a_header_flood_at_the_proxy_gets_431_json(proxy: InterceptingProxy) -> None:
    flood = b"".join(b"X-Flood-%d: %s\r\n" % (i, b"f" * 1000) for i in range(200))
    status, body = json_refusal(plain_exchange(proxy.url, f"CONNECT {IDP}:443 HTTP/1.1\r\nHost: {IDP}:443\r\n".encode()
                                               + flood + b"\r\n"))
    assert status == 431 and body["__type"] == "RequestHeaderFieldsTooLargeException"


def test_a_slow_header_client_at_the_proxy_gets_408(front: TLSFront, emu: Emulator) -> None:
    served = InterceptingProxy({IDP: front.address}, {IDP: Upstream(IDP, emu.url)},
                               limits=ServerLimits(idle_timeout=5, header_timeout=1)).start()
    try:
        host, port = served.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(f"CONNECT {IDP}:443 HTTP/1.1\r\n".encode())
            received, started = b"", time.monotonic()
            sock.settimeout(0.2)
            while not received and time.monotonic() - started < 10:
                try:
                    sock.sendall(b"X-Slow: %d\r\n" % int(time.monotonic() * 1000))
                    received = sock.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
        assert received.startswith(b"HTTP/1.1 408 "), received
    finally:
        served.stop()


def open_tunnel(proxy_url: str, ca: RunCA, eager: bool = False, timeout: float = 10.0) -> ssl.SSLSocket:
    """CONNECT through the proxy, then TLS to the front over the tunnel.

    ``eager``: the ClientHello goes in the same write as the CONNECT, before the proxy's 200 (the
    bytes the proxy already read past the request must reach the tunnel, not be lost).
    """
    host, port = proxy_url.removeprefix("http://").split(":")
    raw = socket.create_connection((host, int(port)), timeout=timeout)
    connect = f"CONNECT {IDP}:443 HTTP/1.1\r\nHost: {IDP}:443\r\n\r\n".encode()
    ctx = ssl.create_default_context(cafile=str(ca.cert_path))
    try:
        if not eager:
            raw.sendall(connect)
            head = b""
            while not head.endswith(b"\r\n\r\n"):  # the proxy sends nothing past its head until TLS starts
                byte = raw.recv(1)
                if not byte:
                    raise ConnectionError(f"the proxy closed the connection after {head!r}")
                head += byte
            assert head.startswith(b"HTTP/1.1 200 "), head
            return ctx.wrap_socket(raw, server_hostname=IDP)
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = ctx.wrap_bio(incoming, outgoing, server_hostname=IDP)
        with pytest.raises(ssl.SSLWantReadError):
            tls.do_handshake()
        raw.sendall(connect + outgoing.read())  # CONNECT and ClientHello in one segment
        head = b""
        while b"\r\n\r\n" not in head:
            head += raw.recv(4096)
        head, _, early = head.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 "), head
        incoming.write(early)
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                raw.sendall(outgoing.read())
                incoming.write(raw.recv(65536))
        raw.sendall(outgoing.read())
        assert ("DNS", IDP) in tls.getpeercert()["subjectAltName"]
        raw.close()
        return tls  # type: ignore[return-value] - only its handshake is looked at
    except BaseException:
        raw.close()
        raise


def test_a_clienthello_sent_with_the_connect_reaches_the_front(proxy: InterceptingProxy, ca: RunCA) -> None:
    open_tunnel(proxy.url, ca, eager=True)
    assert proxy.log.admitted == {IDP: 1}


def test_tunnels_past_the_proxys_cap_wait_and_stop_ends_open_tunnels(front: TLSFront, emu: Emulator,
                                                                     ca: RunCA) -> None:
    served = InterceptingProxy({IDP: front.address}, {IDP: Upstream(IDP, emu.url)},
                               limits=ServerLimits(connections=2)).start()
    held = [open_tunnel(served.url, ca) for _ in range(2)]
    try:
        for tls in held:
            tls.sendall(aws_call("ListUserPools", b'{"MaxResults": 1}', "Content-Length: 17\r\n"))
            assert tls.recv(65536).startswith(b"HTTP/1.1 200 ")
        assert served.open_connections == 2
        with pytest.raises(TimeoutError):  # queued in the kernel: its CONNECT is not answered
            open_tunnel(served.url, ca, timeout=1.0)
        held.pop().close()
        with open_tunnel(served.url, ca) as tls:
            tls.sendall(f"GET /nope HTTP/1.1\r\nHost: {IDP}\r\nConnection: close\r\n\r\n".encode())
            assert read_until_closed(tls).startswith(b"HTTP/1.1 404 ")
        served.stop()  # the tunnel still open is cut, its thread ends
        assert served.open_connections == 0
        assert read_until_closed(held[0], quiet=10) == b""
    finally:
        for tls in held:
            tls.close()
        served.stop()



# --- the upstream: kept-alive connections to the emulator ----------------------------------------------


def test_upstream_connections_are_reused_and_a_stale_one_is_retried_once() -> None:
    upstream_service = HTTPService(_echo_router(), limits=ServerLimits(idle_timeout=0.3)).start()
    upstream = Upstream(IDP, upstream_service.url)
    try:
        for _ in range(5):
            assert upstream.forward("GET", "/hello", {}, b"").status == 200
        assert upstream_service.open_connections == 1  # one kept-alive connection for all five
        deadline = time.monotonic() + 10
        while upstream_service.open_connections and time.monotonic() < deadline:
            time.sleep(0.05)  # the emulator side closes it after its idle timeout ...
        answer = upstream.forward("POST", "/echo", {"content-type": "text/plain"}, b"once")
        assert (answer.status, answer.body) == (200, b"once")  # ... and the pooled one is replaced, not a 502
    finally:
        upstream.close()
        upstream_service.stop()


def test_an_unreachable_emulator_is_a_502_from_the_front(ca: RunCA) -> None:
    gone = HTTPService(_echo_router())
    gone.stop()  # a port nobody listens on
    served = TLSFront(ca, [Upstream(IDP, gone.url)]).start()
    try:
        answers = tls_exchange(served.address, ca, f"GET / HTTP/1.1\r\nHost: {IDP}\r\nConnection: close\r\n\r\n".encode())
        assert [status for status, _, _ in answers] == [502] and b"the emulator did not answer" in answers[0][2]
    finally:
        served.stop()


def _echo_router() -> Router:
    router = Router()
    router.add("GET", "/hello", lambda request: Response.json({"hello": "upstream"}))
    router.add("POST", "/echo", lambda request: Response(200, request.body, {"Content-Type": "text/plain"}))
    return router

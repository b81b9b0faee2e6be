"""The shared HTTP delivery: what each answer means for the data, how long to wait, and real POSTs."""

from __future__ import annotations

import contextlib
import email.utils
import gzip
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from exporters.http_delivery import (
    RETRY_AFTER_CAP,
    Backoff,
    HttpDelivery,
    Outcome,
    Result,
    classify,
    parse_retry_after,
)
from tests.support.endpoint import Fault, FaultyEndpoint, free_port

BODY = json.dumps({"records": [{"type": "conversation_log", "log_id": "a"}]}).encode()


# -- classify --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (202, Outcome.DELIVERED),
        (204, Outcome.DELIVERED),
        # a redirect is not followed, and drops nothing: the endpoint setting is to be changed
        (301, Outcome.RETRY),
        (302, Outcome.RETRY),
        (307, Outcome.RETRY),
        (308, Outcome.RETRY),
        (400, Outcome.REJECTED),
        (401, Outcome.AUTH),
        (403, Outcome.AUTH),
        (404, Outcome.REJECTED),
        (408, Outcome.RETRY),
        (413, Outcome.REJECTED),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (502, Outcome.RETRY),
        (503, Outcome.RETRY),
        (504, Outcome.RETRY),
        (599, Outcome.RETRY),
    ],
)
def test_classify_maps_each_status_to_what_happens_to_the_data(status: int, outcome: Outcome) -> None:
    result = classify(status)
    assert result.outcome is outcome
    assert result.status == status
    assert result.keep is (outcome in (Outcome.RETRY, Outcome.AUTH))


def test_classify_keeps_the_servers_text_and_retry_after() -> None:
    result = classify(503, "7", "  overloaded\n")
    assert result.retry_after == 7.0
    assert result.error == "HTTP 503: overloaded"
    assert classify(429, "3").retry_after == 3.0
    assert classify(401, "120").retry_after == 120.0
    assert classify(400, "5").retry_after is None  # nothing will be retried


# -- Retry-After -----------------------------------------------------------------------------


def test_retry_after_seconds() -> None:
    assert parse_retry_after("1") == 1.0
    assert parse_retry_after(" 30 ") == 30.0
    assert parse_retry_after("0") == 0.0
    assert parse_retry_after("-5") == 0.0  # never a negative wait


def test_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 42, usegmt=True)
    assert parse_retry_after(date, now=now) == pytest.approx(42.0)
    past = email.utils.formatdate(now - 100, usegmt=True)
    assert parse_retry_after(past, now=now) == 0.0


def test_retry_after_is_capped() -> None:
    assert parse_retry_after("86400") == RETRY_AFTER_CAP
    assert parse_retry_after("inf") == RETRY_AFTER_CAP
    now = 1_700_000_000.0
    far = email.utils.formatdate(now + 7 * 86400, usegmt=True)
    assert parse_retry_after(far, now=now) == RETRY_AFTER_CAP


@pytest.mark.parametrize("value", [None, "", "soon", "nan", "Mon, 99 Foo 20xx", "1 hour"])
def test_unusable_retry_after_is_ignored(value: str | None) -> None:
    assert parse_retry_after(value) is None


# -- Backoff ---------------------------------------------------------------------------------

RETRY = Result(Outcome.RETRY, 503)
AUTH = Result(Outcome.AUTH, 401)


def test_backoff_grows_exponentially_within_its_jitter_bounds_up_to_the_cap() -> None:
    for _ in range(50):
        backoff = Backoff(base=1.0, cap=16.0)
        for failures in range(1, 10):
            ceiling = min(16.0, 2 ** (failures - 1))
            delay = backoff.delay(RETRY)
            assert ceiling / 2 <= delay <= ceiling, (failures, delay)


def test_backoff_is_jittered() -> None:
    delays = {Backoff(base=1.0, cap=60.0).delay(RETRY) for _ in range(20)}
    assert len(delays) > 1


def test_backoff_resets_after_a_success() -> None:
    backoff = Backoff(base=1.0, cap=60.0)
    for _ in range(6):
        backoff.delay(RETRY)
    backoff.reset()
    assert backoff.delay(RETRY) <= 1.0


def test_backoff_honours_retry_after() -> None:
    backoff = Backoff(base=1.0, cap=60.0)
    for _ in range(5):
        backoff.delay(RETRY)
    assert backoff.delay(Result(Outcome.RETRY, 429, retry_after=1.0)) == 1.0
    assert backoff.delay(Result(Outcome.RETRY, 503, retry_after=120.0)) == 120.0


def test_backoff_after_an_auth_failure_waits_long_from_the_first() -> None:
    for _ in range(20):
        backoff = Backoff(base=1.0, cap=60.0, auth_cap=300.0)
        first = backoff.delay(AUTH)
        assert first >= 15.0
        assert first > Backoff(base=1.0, cap=60.0).delay(RETRY)
        for _ in range(20):
            assert backoff.delay(AUTH) <= 300.0


# -- real POSTs ------------------------------------------------------------------------------


@pytest.fixture
def endpoint() -> Iterator[FaultyEndpoint]:
    with FaultyEndpoint() as server:
        yield server


@pytest.fixture
def delivery(endpoint: FaultyEndpoint) -> Iterator[HttpDelivery]:
    client = HttpDelivery(endpoint.url, {"Authorization": "Bearer t0ken", "X-Tenant": "acme"}, timeout=2.0)
    yield client
    client.close()


def test_post_sends_gzip_json_with_custom_headers(endpoint: FaultyEndpoint, delivery: HttpDelivery) -> None:
    result = delivery.post(BODY, "application/json")
    assert result.outcome is Outcome.DELIVERED
    assert result.status == 200
    assert endpoint.accepted == [json.loads(BODY)]
    ((status, headers),) = endpoint.attempts
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert headers["content-type"] == "application/json"
    assert headers["authorization"] == "Bearer t0ken"
    assert headers["x-tenant"] == "acme"


def test_post_body_on_the_wire_is_gzip_of_the_given_bytes() -> None:
    """A plain server that keeps the raw bytes, to check what FaultyEndpoint decodes for us."""
    raw: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            raw.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client = HttpDelivery(f"http://127.0.0.1:{server.server_address[1]}/ingest")
    try:
        assert client.post(BODY, "application/json").outcome is Outcome.DELIVERED
    finally:
        client.close()
        server.shutdown()
        server.server_close()
    ((headers, body),) = raw
    assert headers["content-encoding"] == "gzip"
    assert body[:2] == b"\x1f\x8b"
    assert gzip.decompress(body) == BODY
    assert headers["user-agent"].startswith("otel-distro")


def test_post_answers_are_classified(endpoint: FaultyEndpoint, delivery: HttpDelivery) -> None:
    endpoint.fail(
        Fault(status=503, retry_after="1"),
        Fault(status=429, retry_after="2"),
        Fault(status=400),
        Fault(status=401),
    )
    first = delivery.post(BODY, "application/json")
    assert (first.outcome, first.status, first.retry_after) == (Outcome.RETRY, 503, 1.0)
    second = delivery.post(BODY, "application/json")
    assert (second.outcome, second.status, second.retry_after) == (Outcome.RETRY, 429, 2.0)
    assert delivery.post(BODY, "application/json").outcome is Outcome.REJECTED
    assert delivery.post(BODY, "application/json").outcome is Outcome.AUTH
    assert delivery.post(BODY, "application/json").outcome is Outcome.DELIVERED
    assert len(endpoint.accepted) == 1


def test_a_redirect_is_not_followed_and_keeps_the_data_naming_where_the_endpoint_moved(
    endpoint: FaultyEndpoint, delivery: HttpDelivery
) -> None:
    endpoint.fail(Fault(status=307, location="http://127.0.0.1:1/elsewhere"))
    result = delivery.post(BODY, "application/json")
    assert (result.outcome, result.status, result.keep) == (Outcome.RETRY, 307, True)
    assert "127.0.0.1:1/elsewhere" in result.error and "not followed" in result.error
    assert endpoint.accepted == [] and len(endpoint.attempts) == 1  # nothing sent anywhere else
    assert delivery.post(BODY, "application/json").outcome is Outcome.DELIVERED


def test_dropped_connection_is_retry(endpoint: FaultyEndpoint, delivery: HttpDelivery) -> None:
    endpoint.fail(Fault(drop=True))
    result = delivery.post(BODY, "application/json")
    assert result.outcome is Outcome.RETRY
    assert result.status is None
    assert result.error
    assert endpoint.accepted == []
    assert delivery.post(BODY, "application/json").outcome is Outcome.DELIVERED  # the client recovers


def test_refused_connection_is_retry() -> None:
    port = free_port()
    client = HttpDelivery(f"http://127.0.0.1:{port}/v1/conversations", timeout=2.0)
    try:
        result = client.post(BODY, "application/json")
        assert result.outcome is Outcome.RETRY
        assert result.error
        with FaultyEndpoint(port) as server:  # the endpoint comes back on the same port
            assert client.post(BODY, "application/json").outcome is Outcome.DELIVERED
            assert len(server.accepted) == 1
    finally:
        client.close()


def test_answer_slower_than_the_timeout_is_retry(endpoint: FaultyEndpoint) -> None:
    endpoint.fail(Fault(delay=3.0))
    client = HttpDelivery(endpoint.url, timeout=0.3)
    try:
        result = client.post(BODY, "application/json")
        assert result.outcome is Outcome.RETRY
        assert "Timeout" in result.error
    finally:
        client.close()


def test_a_per_request_timeout_shortens_but_never_extends_the_configured_one(
    endpoint: FaultyEndpoint,
) -> None:
    """``post(timeout=...)`` is "this request's, if shorter"."""
    endpoint.fail(Fault(delay=0.8), Fault(delay=1.5))
    client = HttpDelivery(endpoint.url, timeout=5.0)
    try:
        assert client.post(BODY, "application/json", timeout=0.2).outcome is Outcome.RETRY
    finally:
        client.close()
    strict = HttpDelivery(endpoint.url, timeout=0.3)
    try:
        assert strict.post(BODY, "application/json", timeout=30.0).outcome is Outcome.RETRY
    finally:
        strict.close()


def test_post_never_raises_on_a_bad_url() -> None:
    client = HttpDelivery("http://127.0.0.1:0/x", timeout=1.0)
    try:
        assert client.post(BODY, "application/json").outcome is Outcome.RETRY
    finally:
        client.close()


def test_uncompressed_posts_send_the_body_as_is(endpoint: FaultyEndpoint) -> None:
    client = HttpDelivery(endpoint.url, compress=False)
    try:
        assert client.post(BODY, "application/json").outcome is Outcome.DELIVERED
    finally:
        client.close()
    ((_, headers),) = endpoint.attempts
    assert "content-encoding" not in headers
    assert endpoint.accepted == [json.loads(BODY)]


def test_delivery_is_usable_from_several_threads(endpoint: FaultyEndpoint, delivery: HttpDelivery) -> None:
    results: list[Outcome] = []

    def send() -> None:
        for _ in range(5):
            results.append(delivery.post(BODY, "application/json").outcome)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [Outcome.DELIVERED] * 20
    deadline = time.monotonic() + 10
    while len(endpoint.accepted) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(endpoint.accepted) == 20


# -- our own requests are not telemetry; deadlines; answers whatever their body; exit ---------


def test_deliveries_are_not_recorded_by_an_instrumented_httpx(endpoint: FaultyEndpoint) -> None:
    """Issue 20 item 5: with opentelemetry-instrumentation-httpx on, each POST became a span."""
    import httpx
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    recorded = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(recorded))
    instrumentor = HTTPXClientInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    client = HttpDelivery(endpoint.url, timeout=2.0)
    try:
        assert client.post(BODY, "application/json").outcome is Outcome.DELIVERED
        assert client.send(BODY, "application/json", retry_seconds=1.0).outcome is Outcome.DELIVERED
        assert recorded.get_finished_spans() == ()
        with httpx.Client() as plain:  # the instrumentation is live: anyone else's request is a span
            plain.post(endpoint.url, content=BODY)
        assert len(recorded.get_finished_spans()) == 1
    finally:
        client.close()
        instrumentor.uninstrument()
    assert len(endpoint.accepted) == 3


class _RawServer:
    """A TCP server on 127.0.0.1 that answers each connection with ``answer(conn)``."""

    def __init__(self, answer: Callable[[socket.socket], None]) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1/conversations"
        self.answer = answer
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(65536)
            head, _, body = request.partition(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
            while len(body) < length:
                body += conn.recv(65536)
            self.answer(conn)

    def close(self) -> None:
        self.sock.close()


def test_the_timeout_bounds_the_whole_request_against_an_endpoint_answering_a_byte_at_a_time() -> None:
    """Issue 21 item 6: a 3 s timeout let one POST run 81 s; the timeout is a total deadline."""
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Padding: " + b"x" * 60 + b"\r\n\r\n"

    def dribble(conn: socket.socket) -> None:
        for byte in answer:
            conn.sendall(bytes([byte]))
            time.sleep(0.1)

    server = _RawServer(dribble)
    client = HttpDelivery(server.url, timeout=1.0)
    try:
        start = time.monotonic()
        result = client.post(BODY, "application/json")
        took = time.monotonic() - start
    finally:
        client.close()
        server.close()
    assert result.outcome is Outcome.RETRY
    assert "Timeout" in result.error
    assert took < 2.0  # the dribble takes 9 s


def test_a_2xx_is_success_whatever_its_body() -> None:
    """Issue 21 item 8: a 200 whose body could not be decoded was retried (each turn sent 5 times)."""

    def garbled(conn: socket.socket) -> None:
        body = b"this is not gzip"
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )

    server = _RawServer(garbled)
    client = HttpDelivery(server.url, timeout=2.0)
    try:
        result = client.post(BODY, "application/json")
    finally:
        client.close()
        server.close()
    assert (result.outcome, result.status) == (Outcome.DELIVERED, 200)


def test_an_error_answer_keeps_its_text_even_gzipped() -> None:
    def refused(conn: socket.socket) -> None:
        body = gzip.compress(b"bad record 7")
        conn.sendall(
            b"HTTP/1.1 400 Bad Request\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s"
            % (len(body), body)
        )

    server = _RawServer(refused)
    client = HttpDelivery(server.url, timeout=2.0)
    try:
        result = client.post(BODY, "application/json")
    finally:
        client.close()
        server.close()
    assert result.outcome is Outcome.REJECTED
    assert result.error == "HTTP 400: bad record 7"


def test_at_exit_an_endpoint_that_does_not_answer_gets_one_short_try(endpoint: FaultyEndpoint) -> None:
    """Issue 21 item 7: a dead endpoint cost every exit 2.5-6 s."""
    endpoint.fail(*[Fault(delay=5.0)] * 3)
    client = HttpDelivery(endpoint.url, timeout=10.0)
    try:
        client.begin_exit()
        start = time.monotonic()
        first = client.send(BODY, "application/json", retry_seconds=30.0)
        second = client.post(BODY, "application/json")
        took = time.monotonic() - start
    finally:
        client.close()
    assert first.outcome is Outcome.RETRY and "Timeout" in first.error
    assert second.outcome is Outcome.RETRY  # not tried: the endpoint already failed at exit
    assert took < 1.5
    assert len(endpoint.attempts) == 0  # never answered


def test_a_request_in_flight_when_the_exit_begins_ends_within_the_exit_s_second() -> None:
    """A review of issue 21: Langfuse and Helicone held every exit for the full 10 s timeout
    when an endpoint took the request and never answered, the request having started before
    the exit began."""
    silent = threading.Event()
    server = _RawServer(lambda _conn: silent.wait(30))  # reads the request, answers nothing
    client = HttpDelivery(server.url, timeout=10.0)
    results: list[Result] = []
    sender = threading.Thread(target=lambda: results.append(client.post(BODY, "application/json")))
    try:
        sender.start()
        time.sleep(0.5)  # the request is in flight, waiting for an answer
        start = time.monotonic()
        client.begin_exit()
        sender.join(5.0)
        took = time.monotonic() - start
    finally:
        silent.set()
        client.close()
        server.close()
    assert results and results[0].outcome is Outcome.RETRY and "Timeout" in (results[0].error or "")
    assert took < 1.6  # the exit's second, and a read's quarter second to notice it


def test_at_exit_an_endpoint_that_answers_is_drained_normally(endpoint: FaultyEndpoint) -> None:
    endpoint.fail(Fault(delay=0.5), Fault(delay=0.7))
    client = HttpDelivery(endpoint.url, timeout=5.0)
    try:
        client.begin_exit(0.8)
        results = [client.post(BODY, "application/json").outcome for _ in range(3)]
    finally:
        client.close()
    assert results == [Outcome.DELIVERED] * 3  # once it answered, the exit budget no longer applies

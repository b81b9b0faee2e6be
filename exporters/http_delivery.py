"""The one HTTP delivery path of every exporter that sends over the network.

:class:`HttpDelivery` POSTs a body (gzipped) and classifies the answer:

- ``DELIVERED``: 2xx, whatever its body (an undecodable one included: the data arrived).
- ``RETRY``: connection errors, timeouts, dropped connections, 408, 429 and 5xx; the caller
  keeps the data and waits :meth:`Backoff.delay` (exponential with full jitter, or the
  server's ``Retry-After`` when it gives one).
- ``AUTH``: 401 and 403. The data is kept and retried with a long backoff: a wrong or expired
  key must not lose a day of records.
- ``REJECTED``: any other 4xx (400: malformed). Retrying cannot help; the caller drops the
  batch, counts it and warns.

Each request has a total deadline (the timeout bounds it from connect to last byte), runs with
OpenTelemetry instrumentation suppressed, and at exit an endpoint that does not answer gets one
short try (:meth:`HttpDelivery.begin_exit`). :meth:`HttpDelivery.send` is the one retry loop,
for senders whose data is only in memory (upload, Langfuse, Helicone, Phoenix): it waits
between tries. The conversation log, whose data is on disk, sends one try at a time
(:meth:`HttpDelivery.post`) and schedules the next with the same :class:`Backoff`, so its
thread goes on with other work (reading the store, exit) between tries: one delivery path and
one backoff, waited on or scheduled.

TLS certificates are verified, and proxies come from the environment (``HTTPS_PROXY``,
``NO_PROXY``, ...), as ``httpx`` does by default. ``httpx`` is imported on first use, on the
exporter's thread, never on the application's import path.
"""

from __future__ import annotations

import email.utils
import enum
import gzip
import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from otel_distro.runtime.errors import caught
from otel_distro.runtime.urls import shown_url

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
OTLP_RETRYABLE_STATUS = frozenset({429, 502, 503, 504})  # the OTLP/HTTP spec's list
AUTH_STATUS = frozenset({401, 403})
TOO_LARGE = 413
RETRY_AFTER_CAP = 600.0
_GZIP_LEVEL = 6
_USER_AGENT = "otel-distro"
EXIT_SECONDS = 1.0  # at exit, what an endpoint that does not answer may cost in all


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    RETRY = "retry"
    AUTH = "auth"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Result:
    """What one POST came to."""

    outcome: Outcome
    status: int | None = None
    retry_after: float | None = None  # seconds the server asked us to wait
    error: str = ""

    @property
    def kept_error(self) -> str:
        """The error as it may be kept on disk (a state file, ``stats``): the status alone, never
        the endpoint's answer, which may echo the records that were sent."""
        return f"HTTP {self.status}" if self.status is not None else self.error

    @property
    def keep(self) -> bool:
        """Whether the data must be kept for a later attempt."""
        return self.outcome in (Outcome.RETRY, Outcome.AUTH)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


class Backoff:
    """Exponential backoff with full jitter; a server's ``Retry-After`` wins when it is given."""

    def __init__(self, base: float = 1.0, cap: float = 60.0, auth_cap: float = 300.0) -> None:
        self.base = base
        self.cap = cap
        self.auth_cap = auth_cap
        self.failures = 0

    def reset(self) -> None:
        self.failures = 0

    def delay(self, result: Result) -> float:
        """Seconds to wait before the next attempt after this failed one."""
        self.failures += 1
        if result.retry_after is not None:  # the server's word, but never a tight loop on "0"
            return max(result.retry_after, self.base / 2)
        cap = self.auth_cap if result.outcome is Outcome.AUTH else self.cap
        ceiling = min(cap, self.base * 2 ** min(self.failures - 1, 30))
        if result.outcome is Outcome.AUTH:  # a key is not fixed in a second: wait long from the start
            ceiling = max(ceiling, min(cap, 30 * self.base))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not cryptography


def otlp_retryable(result: Result) -> bool:
    """Whether the OTLP/HTTP rules retry this: connection errors and timeouts, 429, 502, 503, 504."""
    return result.outcome is Outcome.RETRY and (
        result.status is None or result.status in OTLP_RETRYABLE_STATUS
    )


class HttpDelivery:
    """POSTs bodies to one URL; thread-safe; one connection pool per instance.

    Every request runs with OpenTelemetry instrumentation suppressed (an instrumented ``httpx``
    must not record our own deliveries as telemetry) and under a total deadline of ``timeout``
    seconds, connect to last byte (:mod:`exporters.http_deadline`).

    At exit (:meth:`begin_exit`) an endpoint gets one short chance: until it has answered once,
    requests must end within :data:`EXIT_SECONDS` in all, and after a failure without an answer
    the rest are not tried (what was not acknowledged is on disk, or counted by the caller). An
    endpoint that answers (a 503, a 429) is retried as usual, within the caller's deadline.
    """

    def __init__(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        compress: bool = True,
    ) -> None:
        self.url = url
        self.shown_url = shown_url(url)  # as messages name it: credentials masked
        self.headers = {"User-Agent": _USER_AGENT, **(headers or {})}
        self.timeout = timeout
        self.compress = compress
        self._client: Any = None
        self._lock = threading.Lock()
        self._exit_by: float | None = None  # at exit: requests end by then until one is answered
        self._exit_answered = False
        self.exit_gave_up = False  # at exit, a request failed: no more are tried
        self._exit_event = threading.Event()

    def _http(self) -> Any:
        with self._lock:
            if self._client is None:
                import httpx

                from exporters import http_deadline

                self._client = httpx.Client(timeout=self.timeout, follow_redirects=False)
                http_deadline.install(self._client)
            return self._client

    def begin_exit(self, seconds: float = EXIT_SECONDS) -> None:
        """The process is exiting: an endpoint that does not answer gets at most ``seconds``."""
        with self._lock:
            if self._exit_by is None:
                self._exit_by = time.monotonic() + seconds
        self._exit_event.set()

    def _exit_deadline(self) -> float | None:
        """When a request in flight must end because the process exits: the exit's time, until
        the endpoint has answered once since (then it is worth its usual timeout)."""
        return self._exit_by if not self._exit_answered else None

    @property
    def exiting(self) -> bool:
        return self._exit_by is not None

    def post(self, body: bytes, content_type: str, timeout: float | None = None) -> Result:
        """Send one body within ``timeout`` seconds in total (this request's, if shorter than the
        configured one); never raises: every failure is a :class:`Result`."""
        if self.exit_gave_up:
            return Result(Outcome.RETRY, error="not sent: the endpoint failed at exit")
        limit = min(self.timeout, timeout or self.timeout)
        at = time.monotonic() + limit
        exit_by = self._exit_by
        if exit_by is not None and not self._exit_answered:
            at = min(at, exit_by)
        try:
            result = self._post(body, content_type, at)
        except Exception as exc:  # noqa: BLE001 - an exporter must never raise into its caller
            caught("posting a request", exc)  # a bug of ours: raised under the test suite
            result = Result(Outcome.RETRY, error=f"{type(exc).__name__}: {exc}"[:300])
        if self._exit_by is not None:
            if result.status is not None:
                self._exit_answered = True
            if result.keep and not self._exit_answered:  # unreachable: not worth the exit's time
                self.exit_gave_up = True
        return result

    def _post(self, body: bytes, content_type: str, at: float) -> Result:
        import httpx
        from opentelemetry.instrumentation.utils import (
            suppress_http_instrumentation,
            suppress_instrumentation,
        )

        from exporters import http_deadline

        headers = {**self.headers, "Content-Type": content_type}
        if self.compress:
            body = gzip.compress(body, compresslevel=_GZIP_LEVEL)
            headers["Content-Encoding"] = "gzip"
        client = self._http()
        with (
            suppress_instrumentation(),
            suppress_http_instrumentation(),
            http_deadline.deadline(at, self._exit_deadline),
        ):
            try:
                request = client.build_request("POST", self.url, content=body, headers=headers)
                response = client.send(request, stream=True)
            except httpx.HTTPError as exc:  # connection refused or dropped, timeouts, protocol errors
                return Result(Outcome.RETRY, error=f"{type(exc).__name__}: {exc}"[:300])
            try:
                raw = _read_some(response)  # a 2xx is success whatever its body (or its encoding)
            finally:
                response.close()
        text = "" if 200 <= response.status_code < 300 else raw.decode("utf-8", "replace")[:300]
        return classify(
            response.status_code, response.headers.get("Retry-After"), text, response.headers.get("Location")
        )

    def send(
        self,
        body: bytes,
        content_type: str,
        retry_seconds: float,
        stop: threading.Event | None = None,
        retryable: Callable[[Result], bool] = otlp_retryable,
    ) -> Result:
        """Post ``body``, retrying what ``retryable`` allows with backoff for up to
        ``retry_seconds`` (``stop`` ends the waiting); the last :class:`Result`. At exit, an
        endpoint that has not answered gets one try; one that answers is still retried."""
        backoff = Backoff()
        deadline = time.monotonic() + retry_seconds
        while True:
            result = self.post(body, content_type)
            if result.outcome is Outcome.DELIVERED or not retryable(result):
                return result
            if self.exiting and (self.exit_gave_up or not self._exit_answered):
                return result  # at exit, an endpoint that does not answer is not waited for
            delay = backoff.delay(result)
            if time.monotonic() + delay > deadline or self._wait(delay, stop):
                return result

    def _wait(self, seconds: float, stop: threading.Event | None) -> bool:
        """Sleep ``seconds``; True if ``stop`` was set or the exit began meanwhile."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if self._exit_event.is_set() and self._exit_answered:
                time.sleep(min(left, 0.2))  # at exit, an endpoint that answers is still waited for
            elif self._exit_event.wait(min(left, 0.2)) and not self._exit_answered:
                return True
            if stop is not None and stop.is_set():
                return True
        return False

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()


_ERROR_TEXT_BYTES = 4096


def _read_some(response: Any) -> bytes:
    """The first bytes of an answer's body, undecoded; never raises (the status is what counts)."""
    data = b""
    try:
        for chunk in response.iter_raw():
            data += chunk
            if len(data) >= _ERROR_TEXT_BYTES:
                break
    except Exception as exc:  # noqa: BLE001 - a body cut short or odd says nothing about the status
        caught("reading an error response", exc)
        return data
    if data and response.headers.get("Content-Encoding", "").lower() == "gzip":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, ValueError):
            return b""
    return data


@dataclass
class SplitOutcome:
    """What :func:`post_split` came to: where it stopped and what the endpoint refused for good."""

    failure: Result | None = None  # the answer that asks to keep the data (then ``stopped_at`` is set)
    stopped_at: int = 0  # items before this one are finished (delivered or refused); the rest kept
    refused: list[tuple[int, int, Result]] = field(default_factory=list)  # (start, end, answer)


def post_split(count: int, post: Callable[[int, int], Result]) -> SplitOutcome:
    """Post items ``[0, count)`` with ``post(start, end)``; a range the endpoint finds too large
    (413) is halved, down to one item: only a single item still too large is refused.

    Stops at the first answer that keeps the data; items before it are finished, the rest are
    kept. A caller counts ``refused`` only for items it lets go (before ``stopped_at``).
    """
    outcome = SplitOutcome(stopped_at=count)

    def run(start: int, end: int) -> bool:
        result = post(start, end)
        if result.status == TOO_LARGE and end - start > 1:
            middle = (start + end) // 2
            return run(start, middle) and run(middle, end)
        if result.keep:
            outcome.failure, outcome.stopped_at = result, start
            return False
        if result.outcome is Outcome.REJECTED:
            outcome.refused.append((start, end, result))
        return True

    if count:
        run(0, count)
    return outcome


def refusal_reason(result: Result) -> str:
    """The counter a refused record is counted under."""
    return "too_large" if result.status == TOO_LARGE else "refused"


def classify(
    status: int, retry_after: str | None = None, text: str = "", location: str | None = None
) -> Result:
    """The outcome an HTTP status means for the data that was sent. A redirect is not followed
    (the data would go where the user did not point it) and drops nothing: it is kept and tried
    again, with an error that names where the endpoint says it moved."""
    if 200 <= status < 300:
        return Result(Outcome.DELIVERED, status)
    error = f"HTTP {status}" + (f": {text.strip()}" if text.strip() else "")
    if 300 <= status < 400:
        moved = f" to {shown_url(location)[:200]}" if location else ""
        return Result(
            Outcome.RETRY,
            status,
            parse_retry_after(retry_after),
            f"HTTP {status}: the endpoint redirects{moved}; redirects are not followed, so the data "
            "is kept until the endpoint setting names the new address",
        )
    if status in RETRYABLE_STATUS or status >= 500:
        return Result(Outcome.RETRY, status, parse_retry_after(retry_after), error)
    if status in AUTH_STATUS:
        return Result(Outcome.AUTH, status, parse_retry_after(retry_after), error)
    return Result(Outcome.REJECTED, status, None, error)

"""The one HTTP delivery path of every exporter that sends over the network.

:class:`HttpDelivery` POSTs a body (gzipped) and classifies the answer:

- ``DELIVERED``: 2xx.
- ``RETRY``: connection errors, timeouts, dropped connections, 408, 429 and 5xx; the caller
  keeps the data and waits :meth:`Backoff.delay` (exponential with full jitter, or the
  server's ``Retry-After`` when it gives one).
- ``AUTH``: 401 and 403. The data is kept and retried with a long backoff: a wrong or expired
  key must not lose a day of records.
- ``REJECTED``: any other 4xx (400: malformed). Retrying cannot help; the caller drops the
  batch, counts it and warns.

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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
OTLP_RETRYABLE_STATUS = frozenset({429, 502, 503, 504})  # the OTLP/HTTP spec's list
AUTH_STATUS = frozenset({401, 403})
RETRY_AFTER_CAP = 600.0
_GZIP_LEVEL = 6
_USER_AGENT = "otel-distro"


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
    """POSTs bodies to one URL; thread-safe; one connection pool per instance."""

    def __init__(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        compress: bool = True,
    ) -> None:
        self.url = url
        self.headers = {"User-Agent": _USER_AGENT, **(headers or {})}
        self.timeout = timeout
        self.compress = compress
        self._client: Any = None
        self._lock = threading.Lock()

    def _http(self) -> Any:
        with self._lock:
            if self._client is None:
                import httpx

                self._client = httpx.Client(timeout=self.timeout, follow_redirects=False)
            return self._client

    def post(self, body: bytes, content_type: str, timeout: float | None = None) -> Result:
        """Send one body (``timeout``: this request's, if shorter); never raises: every failure
        is a :class:`Result`."""
        headers = {**self.headers, "Content-Type": content_type}
        if self.compress:
            body = gzip.compress(body, compresslevel=_GZIP_LEVEL)
            headers["Content-Encoding"] = "gzip"
        import httpx

        try:
            response = self._http().post(
                self.url, content=body, headers=headers, timeout=min(self.timeout, timeout or self.timeout)
            )
        except httpx.HTTPError as exc:  # connection refused or dropped, timeouts, protocol errors
            return Result(Outcome.RETRY, error=f"{type(exc).__name__}: {exc}"[:300])
        except Exception as exc:  # noqa: BLE001 - an exporter must never raise into its caller
            return Result(Outcome.RETRY, error=f"{type(exc).__name__}: {exc}"[:300])
        return classify(response.status_code, response.headers.get("Retry-After"), response.text[:300])

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()


def classify(status: int, retry_after: str | None = None, text: str = "") -> Result:
    """The outcome an HTTP status means for the data that was sent."""
    if 200 <= status < 300:
        return Result(Outcome.DELIVERED, status)
    error = f"HTTP {status}" + (f": {text.strip()}" if text.strip() else "")
    if status in RETRYABLE_STATUS or status >= 500:
        return Result(Outcome.RETRY, status, parse_retry_after(retry_after), error)
    if status in AUTH_STATUS:
        return Result(Outcome.AUTH, status, parse_retry_after(retry_after), error)
    return Result(Outcome.REJECTED, status, None, error)

"""The Phoenix exporter: redacted spans to Arize Phoenix over OTLP/HTTP, GenAI spans in the form it reads.

Phoenix takes OTLP/HTTP protobuf on ``{base}/v1/traces`` (``arize-phoenix-otel`` builds the same
URL from ``PHOENIX_COLLECTOR_ENDPOINT``; a base that already ends with ``/v1/traces`` is taken
as it is, and a path such as Phoenix Cloud's ``/s/<space>`` is kept), with
``Authorization: Bearer <key>`` when a key is given. It files spans under the project their
resource names (``openinference.project.name``): the one configured, else the resource's own,
else its service name. GenAI spans are enriched from the one GenAI view
(:mod:`exporters.phoenix_mapping`): Phoenix reads attributes only, not message events. Every span
goes by default, so trees stay whole (``spans="genai"``: GenAI spans only). Delivery goes through
:class:`HttpDelivery`, retried per the OTLP rules for a bounded time; other answers drop the
batch, counted and warned once. :class:`PhoenixSpanProcessor` queues spans (bounded, counted
when full) for a thread of its own: the app never waits on Phoenix.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from exporters.http_delivery import HttpDelivery, Outcome, Result, post_split
from exporters.phoenix_mapping import ProjectResources, phoenix_span
from exporters.queued import QueuedSpanProcessor
from instrumentations.genai_view import (
    CHOICE_EVENT,
    DETAILS_EVENT,
    DUPLICATE_OF,
    MESSAGE_EVENTS,
    convention_of,
)

_logger = logging.getLogger(f"otel_distro.{__name__}")

TRACES_PATH = "/v1/traces"
CONTENT_TYPE = "application/x-protobuf"
MAX_SPANS_PER_REQUEST = 512
RETRY_SECONDS = 30.0  # how long one batch is retried before it is dropped (counted)
QUEUE_SIZE = 2048
_GENAI_EVENTS = frozenset({*MESSAGE_EVENTS, CHOICE_EVENT, DETAILS_EVENT})


def base_url(endpoint: str) -> str:
    """The base URL of a Phoenix endpoint (``/v1/traces`` and trailing slashes taken off)."""
    endpoint = endpoint.rstrip("/")
    return endpoint[: -len(TRACES_PATH)] if endpoint.endswith(TRACES_PATH) else endpoint


def traces_url(endpoint: str) -> str:
    """Where Phoenix takes spans: ``{base}/v1/traces``."""
    return base_url(endpoint) + TRACES_PATH


def auth_headers(api_key: str | None) -> dict[str, str]:
    """The headers ``arize-phoenix-otel`` sends for a key."""
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


@dataclass
class PhoenixStats:
    sent_spans: int = 0
    dropped_invalid: int = 0  # no trace or span id, or not mappable
    dropped_failed: int = 0  # not accepted in time (down, slow, a wrong key)
    dropped_refused: int = 0  # refused for good (malformed, too large)


class PhoenixSpanExporter(SpanExporter):
    """Sends spans to Phoenix (see the module docstring)."""

    def __init__(
        self,
        endpoint: str,
        *,
        project: str | None = None,
        api_key: str | None = None,
        spans: str = "all",
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self.delivery = HttpDelivery(
            traces_url(endpoint), {**(headers or {}), **auth_headers(api_key)}, timeout
        )
        self.all_spans = spans == "all"
        self.retry_seconds = retry_seconds
        self.stats = PhoenixStats()
        self._resources = ProjectResources(project)
        self._lock = threading.Lock()  # the stats and the resources made
        self._warned: set[Outcome] = set()

    def wants(self, span: ReadableSpan) -> bool:
        """A cheap first look (on the app's thread): could this span be sent at all?"""
        if self.all_spans:
            return True
        attributes = span.attributes or {}
        if DUPLICATE_OF in attributes:
            return False
        return convention_of(attributes) is not None or any(e.name in _GENAI_EVENTS for e in span.events)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        chosen = self._choose(spans)  # never raises: a span that cannot be mapped is counted
        if not chosen:
            return SpanExportResult.SUCCESS
        try:
            for start in range(0, len(chosen), MAX_SPANS_PER_REQUEST):
                self._send_chunk(chosen[start : start + MAX_SPANS_PER_REQUEST])
        except Exception as exc:  # noqa: BLE001 - an exporter must not raise into its caller
            with self._lock:
                self.stats.dropped_failed += len(chosen)
            _logger.warning("otel-distro: the Phoenix exporter failed on a batch: %r", exc)
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def _choose(self, spans: Sequence[ReadableSpan]) -> list[ReadableSpan]:
        chosen: list[ReadableSpan] = []
        for span in spans:
            context = span.context
            if context is None or not context.trace_id or not context.span_id:
                with self._lock:
                    self.stats.dropped_invalid += 1
                continue
            if not self.wants(span):
                continue
            try:
                with self._lock:
                    resource = self._resources(span.resource)
                chosen.append(phoenix_span(span, resource))
            except Exception as exc:  # noqa: BLE001 - one odd span must not cost the batch
                with self._lock:
                    self.stats.dropped_invalid += 1
                _logger.debug("otel-distro: a span could not be mapped for Phoenix: %r", exc)
        return chosen

    def _send_chunk(self, chunk: list[ReadableSpan]) -> None:
        """One request's spans; a request Phoenix finds too large (413) is halved."""
        outcome = post_split(len(chunk), lambda first, end: self._post(chunk[first:end]))
        refused = sum(end - first for first, end, _ in outcome.refused)
        failed = len(chunk) - outcome.stopped_at  # not accepted in time: dropped
        with self._lock:
            self.stats.dropped_refused += refused
            self.stats.dropped_failed += failed
        if outcome.failure is not None:
            self._warn(outcome.failure, failed)
        for _, _, result in outcome.refused[:1]:
            self._warn(result, refused)

    def _post(self, spans: list[ReadableSpan]) -> Result:
        body = encode_spans(spans).SerializeToString()
        result = self.delivery.send(body, CONTENT_TYPE, self.retry_seconds)
        if result.outcome is Outcome.DELIVERED:
            with self._lock:
                self.stats.sent_spans += len(spans)
        return result

    def _warn(self, result: Result, count: int) -> None:
        if result.outcome in self._warned:
            return
        self._warned.add(result.outcome)
        hint = "; check PHOENIX_API_KEY" if result.outcome is Outcome.AUTH else ""
        _logger.warning(
            "otel-distro: Phoenix at %s: %s; %d spans dropped%s (further failures are counted)",
            self.delivery.url,
            result.error or result.outcome.value,
            count,
            hint,
        )

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True

    def shutdown(self) -> None:
        self.delivery.close()


class PhoenixSpanProcessor(QueuedSpanProcessor):
    """Queues the spans the Phoenix exporter may send for a thread of its own (bounded: what
    does not fit is dropped and counted); the app pays a look at the span and an append."""

    label = "phoenix"
    title = "Phoenix"

    def __init__(
        self,
        exporter: PhoenixSpanExporter,
        *,
        max_queue_size: int = QUEUE_SIZE,
        schedule_delay_millis: int = 1_000,
        max_export_batch_size: int = MAX_SPANS_PER_REQUEST,
    ) -> None:
        super().__init__(
            exporter,
            max_queue_size=max_queue_size,
            schedule_delay_millis=schedule_delay_millis,
            max_export_batch_size=max_export_batch_size,
        )

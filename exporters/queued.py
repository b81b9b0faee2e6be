"""Our HTTP span exporters: the sending half they share and the queue in front of some of them.

:class:`HttpSpanSender` is how the Langfuse, Helicone and Phoenix exporters post spans: delivery
through :class:`HttpDelivery` (retried per the OTLP rules for ``retry_seconds``), a request the
endpoint finds too large (413) halved down to one span, every dropped span counted by reason in
:class:`SenderStats` and each kind of failure warned once; a subclass says how a request is
encoded (``_encode``). :class:`QueuedHttpExporter` adds what Helicone and Phoenix (and any later
one built the same way) share: the cheap first look on the app's thread (``wants``) and requests
of at most ``max_spans_per_request`` spans; a subclass says which spans it sends and how
(``_choose``).

They take spans through :class:`QueuedSpanProcessor`: the app pays a look at the span
(``exporter.wants``) and an append; a full queue drops the span, counted by reason with the
exporter's own drops (``<label>_queue_full``, ``<label>_shut_down``, ``<label>_invalid``, ``<label>_failed``,
``<label>_refused``) and warned once; at exit an endpoint that does not answer gets one short try.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from exporters.http_delivery import HttpDelivery, Outcome, Result, post_split
from instrumentations.genai_view import (
    CHOICE_EVENT,
    DETAILS_EVENT,
    DUPLICATE_OF,
    MESSAGE_EVENTS,
    convention_of,
)
from otel_distro.runtime.counts import Counts
from otel_distro.runtime.errors import caught
from otel_distro.runtime.say_once import SayOnce
from otel_distro.runtime.write_queue import WriteQueue

_logger = logging.getLogger(f"otel_distro.{__name__}")

RETRY_SECONDS = 30.0  # how long one batch is retried before it is dropped (counted)
QUEUE_SIZE = 2048  # spans waiting for the sender's thread
_GENAI_EVENTS = frozenset({*MESSAGE_EVENTS, CHOICE_EVENT, DETAILS_EVENT})


class SenderStats(Counts):
    """What an HTTP sender sent and dropped, by reason."""

    sent_spans = 0
    dropped_invalid = 0  # no trace or span id, or not mappable
    dropped_failed = 0  # not accepted in time (down, slow, a wrong key)
    dropped_refused = 0  # refused for good (malformed, too large)


class HttpSpanSender:
    """Posts spans through ``delivery``: a request the endpoint finds too large (413) is halved,
    down to one span; spans not accepted are counted in ``stats`` by reason, and each kind of
    failure is warned once. ``title`` names the destination in warnings, ``key_hint`` is added
    to the warning for a refused key (401, 403)."""

    title = "The exporter"
    key_hint = ""
    content_type = "application/x-protobuf"

    def __init__(self, delivery: HttpDelivery, retry_seconds: float) -> None:
        self.delivery = delivery
        self.retry_seconds = retry_seconds
        self.stats = SenderStats()
        self._lock = threading.Lock()  # the stats and whatever a subclass remembers
        self._say = SayOnce(_logger)  # each kind of failure (an Outcome)

    def _encode(self, spans: Sequence[ReadableSpan]) -> bytes:
        return encode_spans(spans).SerializeToString()

    def _send_chunk(self, chunk: Sequence[ReadableSpan]) -> None:
        """One request's spans; a request the endpoint finds too large (413) is halved."""
        outcome = post_split(len(chunk), lambda first, end: self._post(chunk[first:end]))
        refused = sum(end - first for first, end, _ in outcome.refused)
        failed = len(chunk) - outcome.stopped_at  # not accepted in time: dropped
        self.stats.add(dropped_refused=refused, dropped_failed=failed)
        if outcome.failure is not None:
            self._warn(outcome.failure, failed)
        for _, _, result in outcome.refused[:1]:
            self._warn(result, refused)

    def _post(self, spans: Sequence[ReadableSpan]) -> Result:
        result = self.delivery.send(self._encode(spans), self.content_type, self.retry_seconds)
        if result.outcome is Outcome.DELIVERED:
            self.stats.add(sent_spans=len(spans))
        return result  # a wrong key (401, 403) is not retried here: nothing is kept to retry later

    def _warn(self, result: Result, count: int) -> None:
        hint = f"; {self.key_hint}" if result.outcome is Outcome.AUTH and self.key_hint else ""
        self._say(
            result.outcome,
            "otel-distro: %s at %s: %s; %d spans dropped%s (further failures are counted)",
            self.title,
            self.delivery.shown_url,
            result.error or result.outcome.value,
            count,
            hint,
        )


class QueuedHttpExporter(HttpSpanSender, SpanExporter):
    """Sends the spans ``_choose`` picks, encoded by ``_encode``, through ``delivery``; ``title``
    names it in warnings, ``key_hint`` is added to the warning for a refused key (401, 403)."""

    max_spans_per_request = 512

    def __init__(self, delivery: HttpDelivery, *, spans: str, retry_seconds: float) -> None:
        super().__init__(delivery, retry_seconds)
        self.all_spans = spans == "all"

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
            for start in range(0, len(chosen), self.max_spans_per_request):
                self._send_chunk(chosen[start : start + self.max_spans_per_request])
        except Exception as exc:  # noqa: BLE001 - an exporter must not raise into its caller
            caught("exporting a batch", exc)  # a bug of ours: raised under the test suite
            self.stats.add(dropped_failed=len(chosen))
            _logger.warning("otel-distro: the %s exporter failed on a batch: %r", self.title, exc)
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def _choose(self, spans: Sequence[ReadableSpan]) -> list[ReadableSpan]:
        """The spans to send, mapped (:meth:`_map`); one that has no ids or cannot be mapped is
        counted, and costs no other span."""
        chosen: list[ReadableSpan] = []
        for span in spans:
            context = span.context
            if context is None or not context.trace_id or not context.span_id:
                self._count_invalid()
                continue
            try:
                mapped = self._map(span)
            except Exception as exc:  # noqa: BLE001 - one odd span must not cost the batch
                caught(f"choosing spans for {self.title}", exc)  # a bug of ours: raised under tests
                self._count_invalid(exc)
                continue
            if mapped is not None:
                chosen.append(mapped)
        return chosen

    def _map(self, span: ReadableSpan) -> ReadableSpan | None:
        """A span with ids in the form the destination reads, or None where it is not sent."""
        raise NotImplementedError

    def _count_invalid(self, exc: Exception | None = None) -> None:
        self.stats.add(dropped_invalid=1)
        if exc is not None:
            _logger.debug("otel-distro: a span could not be mapped for %s: %r", self.title, exc)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True

    def shutdown(self) -> None:
        self.delivery.close()


class QueuedExporter(Protocol):
    stats: Any  # dropped_invalid, dropped_failed, dropped_refused
    delivery: Any  # an HttpDelivery

    def wants(self, span: ReadableSpan) -> bool: ...

    def export(self, spans: list[ReadableSpan]) -> object: ...

    def force_flush(self, timeout_millis: int = 30_000) -> bool: ...

    def shutdown(self) -> None: ...


class QueuedSpanProcessor(SpanProcessor):
    """Queues the spans ``exporter`` may send for a thread of its own (bounded: what does not fit
    is dropped and counted); ``label`` names its drops and its thread, ``title`` its warnings."""

    label = "queued"
    title = "The exporter"

    def __init__(
        self,
        exporter: QueuedExporter,
        *,
        max_queue_size: int = QUEUE_SIZE,
        schedule_delay_millis: int = 1_000,
        max_export_batch_size: int = QueuedHttpExporter.max_spans_per_request,
    ) -> None:
        self.exporter = exporter
        self._queue: WriteQueue[ReadableSpan] = WriteQueue.of_records(
            self._export,
            max_items=max_queue_size,
            batch_size=max_export_batch_size,
            delay_seconds=schedule_delay_millis / 1000,
            name=self.label,
        )
        self._say = SayOnce(_logger)
        self._unqueued = 0  # spans on_end failed on (counted as invalid)
        self._unqueued_lock = threading.Lock()

    def _export(self, spans: list[ReadableSpan]) -> None:
        self.exporter.export(spans)

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        try:
            if not self.exporter.wants(span) or self._queue.put(span, 1):
                return
        except Exception as exc:  # noqa: BLE001 - nothing of ours reaches the app
            caught("queueing a span", exc)  # a bug of ours: raised under the test suite
            _logger.debug("otel-distro: %s processor: %r", self.label, exc)
            with self._unqueued_lock:
                self._unqueued += 1  # a span it could not look at
            return
        if not self._queue.closed:
            self._say(
                "queue full",
                "otel-distro: the %s sender is %d spans behind; spans are dropped until it "
                "catches up (counted)",
                self.title,
                self._queue.max_items,
            )

    @property
    def queue(self) -> WriteQueue[ReadableSpan]:
        """Its queue (for the distro's own metrics: size and capacity)."""
        return self._queue

    def drop_counts(self) -> dict[str, int]:
        """Spans dropped so far, by reason (for the drop ledger)."""
        stats = self.exporter.stats
        return {
            f"{self.label}_queue_full": self._queue.refused_full,
            f"{self.label}_shut_down": self._queue.refused_closed,
            f"{self.label}_lost": self._queue.lost,
            f"{self.label}_invalid": stats.dropped_invalid + self._unqueued,
            f"{self.label}_failed": stats.dropped_failed,
            f"{self.label}_refused": stats.dropped_refused,
        }

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._queue.flush(timeout_millis / 1000)

    def shutdown(self) -> None:
        self.exporter.delivery.begin_exit()  # an endpoint that does not answer gets one short try
        try:
            self._queue.close()
        finally:
            self.exporter.shutdown()

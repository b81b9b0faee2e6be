"""The Langfuse exporter: redacted spans to Langfuse's OTLP endpoint, enriched so Langfuse shows them well.

``POST {host}/api/public/otel/v1/traces`` as OTLP/HTTP protobuf (gzip), ``Authorization: Basic``
with the project's keys and ``x-langfuse-ingestion-version: 4``. Spans are held per trace until
the trace's local root ends (at most ``hold_seconds``: a sweeper sends older ones even when
no new span comes), so that the session and user found
anywhere in a trace reach every span of it and trees stay whole (:mod:`exporters.langfuse_mapping`
says what is added). By default only GenAI spans and their ancestors are sent; ``spans="all"``
sends every span. Sampling keeps or drops whole traces by trace id. Spans without a valid trace
or span id are dropped and counted (Langfuse fails a whole batch over one). Delivery goes
through :class:`HttpSpanSender`, retried per the OTLP rules (connection errors, 429, 502, 503,
504, with backoff and ``Retry-After``) for a bounded time; a request Langfuse finds too large
(413) is halved down to one span; other answers drop the spans, counted and warned. It runs on
its batch processor's thread: the app never waits on Langfuse, and the spans held are bounded.
"""

from __future__ import annotations

import base64
import collections
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from exporters.http_delivery import HttpDelivery
from exporters.langfuse_mapping import SESSION_KEYS, USER_KEYS, first_value, is_genai, trace_attributes
from exporters.queued import QUEUE_SIZE, HttpSpanSender, QueuedSpanProcessor
from otel_distro.runtime.errors import caught
from otel_distro.runtime.worker import Worker

_logger = logging.getLogger(f"otel_distro.{__name__}")

DEFAULT_HOST = "https://cloud.langfuse.com"
OTLP_PATH = "/api/public/otel/v1/traces"
INGESTION_VERSION = "4"
CONTENT_TYPE = "application/x-protobuf"
HOLD_SECONDS = 30.0  # a trace whose root has not ended by then is sent as it is
MAX_HELD_SPANS = 10_000  # beyond this the oldest traces are sent as they are
MAX_SPANS_PER_REQUEST = 512
RETRY_SECONDS = 30.0  # how long one batch is retried before it is dropped (counted)
_LATE_TRACES = 4096  # traces sent before their root ended, whose ancestors may still come


@dataclass
class _Held:
    since: float
    spans: list[ReadableSpan] = field(default_factory=list)


@dataclass
class _Late:
    """A trace sent before its ancestors ended: the ids still wanted, and its session and user."""

    wanted: set[int]
    session: str | None
    user: str | None


def _any_value(value: str | bool) -> AnyValue:
    return AnyValue(bool_value=value) if isinstance(value, bool) else AnyValue(string_value=value)


def _local_root(span: ReadableSpan) -> bool:
    return span.parent is None or span.parent.is_remote


class LangfuseSpanExporter(HttpSpanSender, SpanExporter):
    """Sends spans to Langfuse whole trace by whole trace (see the module docstring)."""

    title = "Langfuse"
    key_hint = "check LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY"
    content_type = CONTENT_TYPE

    def __init__(
        self,
        public_key: str,
        secret_key: str,
        host: str = DEFAULT_HOST,
        *,
        sample_rate: float = 1.0,
        spans: str = "genai",
        timeout: float = 10.0,
        headers: dict[str, str] | None = None,
        hold_seconds: float = HOLD_SECONDS,
        max_held_spans: int = MAX_HELD_SPANS,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        token = base64.b64encode(f"{public_key}:{secret_key}".encode()).decode()
        delivery = HttpDelivery(
            host.rstrip("/") + OTLP_PATH,
            {
                **(headers or {}),
                "Authorization": f"Basic {token}",
                "x-langfuse-ingestion-version": INGESTION_VERSION,
            },
            timeout,
        )
        super().__init__(delivery, retry_seconds)  # the stats, and _lock: also the held and late traces
        self.threshold = int(max(0.0, min(1.0, sample_rate)) * (1 << 64))
        self.all_spans = spans == "all"
        self.hold_seconds = hold_seconds
        self.max_held_spans = max_held_spans
        self._held: collections.OrderedDict[int, _Held] = collections.OrderedDict()
        self._held_count = 0
        self._late: collections.OrderedDict[int, _Late] = collections.OrderedDict()
        self._send_lock = threading.Lock()  # one sender at a time: the batch thread or the sweeper
        self._extra: dict[tuple[int, int], dict[str, str | bool]] = {}  # what the batch being sent adds

    # -- taking spans (the queue's thread) ------------------------------------------------------
    def wants(self, span: ReadableSpan) -> bool:
        """Every span is queued: which ones Langfuse gets is chosen by whole trace, as they are sent."""
        return True

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            with self._lock:
                ready = self._take(spans)
                ready += self._expired(time.monotonic())
            self._send(ready)
        except Exception as exc:  # noqa: BLE001 - an exporter must not raise into its processor
            caught("exporting to Langfuse", exc)  # a bug of ours: raised under the test suite
            self.stats.add(dropped_failed=len(spans))  # at most: some may be held still, or sent
            _logger.warning("otel-distro: the Langfuse exporter failed on a batch: %r", exc)
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def send_expired(self) -> None:
        """Send the traces held longer than ``hold_seconds`` whose root has not ended."""
        with self._lock:
            ready = self._expired(time.monotonic())
        if ready:
            self._send(ready)

    def _sampled(self, trace_id: int) -> bool:
        return (trace_id & 0xFFFFFFFFFFFFFFFF) < self.threshold

    def _take(self, spans: Sequence[ReadableSpan]) -> list[tuple[list[ReadableSpan], _Late | None]]:
        ready: list[tuple[list[ReadableSpan], _Late | None]] = []
        for span in spans:
            context = span.context
            if context is None or not context.trace_id or not context.span_id:
                self.stats.add(dropped_invalid=1)
                continue
            if not self._sampled(context.trace_id):
                continue
            late = self._late.get(context.trace_id)
            if late is not None and context.span_id in late.wanted:  # an ancestor of spans sent
                late.wanted.discard(context.span_id)
                if span.parent is not None and not span.parent.is_remote:
                    late.wanted.add(span.parent.span_id)
                ready.append(([span], late))
                continue
            held = self._held.get(context.trace_id)
            if held is None:
                held = self._held[context.trace_id] = _Held(time.monotonic())
            held.spans.append(span)
            self._held_count += 1
            if _local_root(span):
                del self._held[context.trace_id]
                self._held_count -= len(held.spans)
                ready.append((held.spans, None))
        while self._held_count > self.max_held_spans and self._held:
            ready.append((self._release_oldest(), None))
        return ready

    def _release_oldest(self) -> list[ReadableSpan]:
        _, held = self._held.popitem(last=False)
        self._held_count -= len(held.spans)
        return held.spans

    def _expired(self, now: float) -> list[tuple[list[ReadableSpan], _Late | None]]:
        ready: list[tuple[list[ReadableSpan], _Late | None]] = []
        while self._held:
            oldest = next(iter(self._held.values()))
            if now - oldest.since < self.hold_seconds:
                break
            ready.append((self._release_oldest(), None))
        return ready

    # -- choosing and sending -----------------------------------------------------------------
    def _select(self, spans: list[ReadableSpan], late: _Late | None) -> list[ReadableSpan]:
        """GenAI spans and their ancestors (or all); a trace sent early remembers what is missing."""
        if self.all_spans or late is not None:
            return spans
        by_id = {span.context.span_id: span for span in spans if span.context is not None}
        chosen: dict[int, ReadableSpan] = {}
        missing: set[int] = set()
        for span in spans:
            if not is_genai(span):
                continue
            current: ReadableSpan | None = span
            while current is not None and current.context is not None:
                if current.context.span_id in chosen:
                    break
                chosen[current.context.span_id] = current
                parent = current.parent
                if parent is None or parent.is_remote:
                    break
                current = by_id.get(parent.span_id)
                if current is None:
                    missing.add(parent.span_id)
        if missing and chosen:
            self._remember_late(spans, missing)
        return [span for span in spans if span.context is not None and span.context.span_id in chosen]

    def _remember_late(self, spans: list[ReadableSpan], missing: set[int]) -> None:
        trace_id = spans[0].context.trace_id
        with self._lock:
            self._late[trace_id] = _Late(
                missing, first_value(spans, SESSION_KEYS), first_value(spans, USER_KEYS)
            )
            while len(self._late) > _LATE_TRACES:
                self._late.popitem(last=False)

    def _send(self, ready: list[tuple[list[ReadableSpan], _Late | None]]) -> None:
        with self._send_lock:
            self._send_locked(ready)

    def _send_locked(self, ready: list[tuple[list[ReadableSpan], _Late | None]]) -> None:
        batch: list[ReadableSpan] = []
        extra: dict[tuple[int, int], dict[str, str | bool]] = {}
        for spans, late in ready:
            try:
                chosen = self._select(spans, late)
                if not chosen:
                    continue
                trace_id = chosen[0].context.trace_id
                roots = {s.context.span_id for s in chosen if s.context is not None and _local_root(s)}
                added = trace_attributes(chosen, roots)
            except Exception as exc:  # noqa: BLE001 - one trace's odd values must not cost the others
                caught("mapping a trace for Langfuse", exc)  # a bug of ours: raised under tests
                self.stats.add(dropped_invalid=len(spans))
                self._say(
                    "unmappable",
                    "otel-distro: a trace could not be mapped for Langfuse (%r); its %d "
                    "spans are dropped and counted in `otel-distro stats`",
                    exc,
                    len(spans),
                )
                continue
            for span_id, attributes in added.items():
                if late is not None:
                    if late.session and "langfuse.session.id" not in attributes:
                        attributes["langfuse.session.id"] = late.session
                    if late.user and "langfuse.user.id" not in attributes:
                        attributes["langfuse.user.id"] = late.user
                extra[(trace_id, span_id)] = attributes
            batch += chosen
        self._extra = extra
        try:
            for start in range(0, len(batch), MAX_SPANS_PER_REQUEST):
                self._send_chunk(batch[start : start + MAX_SPANS_PER_REQUEST])
        finally:
            self._extra = {}

    def _encode(self, spans: Sequence[ReadableSpan]) -> bytes:
        """OTLP protobuf, with the attributes the batch being sent adds to its spans."""
        extra = self._extra
        request = encode_spans(spans)
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    key = (int.from_bytes(span.trace_id, "big"), int.from_bytes(span.span_id, "big"))
                    for name, value in extra.get(key, {}).items():
                        span.attributes.append(KeyValue(key=name, value=_any_value(value)))
        return request.SerializeToString()

    # -- lifecycle ----------------------------------------------------------------------------
    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Send every trace held, complete or not."""
        with self._lock:
            ready: list[tuple[list[ReadableSpan], _Late | None]] = [
                (self._release_oldest(), None) for _ in range(len(self._held))
            ]
        self._send(ready)
        return True

    def shutdown(self) -> None:
        self.delivery.begin_exit()  # a Langfuse that does not answer gets one short try
        try:
            self.force_flush()
        except Exception as exc:  # noqa: BLE001 - shutdown must finish
            caught("flushing Langfuse at exit", exc)  # a bug of ours: raised under the test suite
            _logger.debug("otel-distro: Langfuse exporter at exit: %r", exc)
        finally:
            self.delivery.close()


class LangfuseSpanProcessor(QueuedSpanProcessor):
    """The queue in front of the Langfuse exporter (bounded: what does not fit is dropped and
    counted as ``langfuse_queue_full``), whose flush also sends the traces the exporter holds.

    A sweeper thread sends traces held past ``hold_seconds`` (a root that never ends, or
    ends after the app went quiet): the sender only looks when new spans arrive.
    """

    label = "langfuse"
    title = "Langfuse"

    def __init__(
        self,
        exporter: LangfuseSpanExporter,
        schedule_delay_millis: int = 1_000,
        max_queue_size: int = QUEUE_SIZE,
    ) -> None:
        super().__init__(exporter, max_queue_size=max_queue_size, schedule_delay_millis=schedule_delay_millis)
        self._sweeper = Worker(
            "langfuse-sweeper", exporter.send_expired, max(0.05, exporter.hold_seconds / 4)
        )

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        flushed = super().force_flush(timeout_millis)
        return self.exporter.force_flush(timeout_millis) and flushed

    def shutdown(self) -> None:
        self._sweeper.stop(0)
        super().shutdown()  # what waits is sent (one short try for a Langfuse that does not answer)

"""The Helicone exporter: redacted GenAI spans to Helicone's asynchronous logging, in the form it reads.

Helicone logs each span it receives as one LLM request. Its route ``POST {host}/v1/trace/log``
takes OTLP/JSON (the route of its Node logger and of its REST reference); ``/v1/trace/log-python``
takes OTLP protobuf (``TracesData``, the route of its Python logger). Both want
``Authorization: Bearer <key>``. The host is ``https://api.helicone.ai``, or
``https://eu.api.helicone.ai`` for an EU key (``sk-helicone-eu-``, ``pk-helicone-eu-``); a base
URL overrides it. Each GenAI model call, whatever convention it came in, is mapped to
OpenLLMetry's attributes (:mod:`exporters.helicone_mapping`); a session or user found on another
span of the same trace seen so far fills a span that has none. By default only model calls are
sent (Helicone has no place for a plain span: each would be an empty request);
``spans="all"`` sends every span, the others as they are. Delivery goes through
:class:`HttpDelivery`, retried per the OTLP rules (connection errors, 429, 502, 503, 504, with
backoff and ``Retry-After``) for a bounded time; other answers drop the batch, counted and
warned. :class:`HeliconeSpanProcessor` queues spans (bounded, counted when full) for a thread of
its own: the app never waits on Helicone.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from exporters import otlp_json
from exporters.helicone_mapping import helicone_span, is_model_call, view_of
from exporters.http_delivery import HttpDelivery, Outcome, Result, post_split
from exporters.queued import QueuedSpanProcessor
from instrumentations.genai_view import (
    CHOICE_EVENT,
    DETAILS_EVENT,
    DUPLICATE_OF,
    MESSAGE_EVENTS,
    SESSION_KEYS,
    USER_KEYS,
    convention_of,
)

_logger = logging.getLogger(f"otel_distro.{__name__}")

DEFAULT_HOST = "https://api.helicone.ai"
EU_HOST = "https://eu.api.helicone.ai"
EU_KEY_PREFIXES = ("sk-helicone-eu-", "pk-helicone-eu-")
# encoding -> (path, content type), as Helicone's routes take them
ENCODINGS = {
    "json": ("/v1/trace/log", "application/json"),
    "protobuf": ("/v1/trace/log-python", "application/x-protobuf"),
}
MAX_SPANS_PER_REQUEST = 512
RETRY_SECONDS = 30.0  # how long one batch is retried before it is dropped (counted)
QUEUE_SIZE = 2048
_TRACES_REMEMBERED = 4096  # traces whose session and user fill their later spans
_GENAI_EVENTS = frozenset({*MESSAGE_EVENTS, CHOICE_EVENT, DETAILS_EVENT})


def host_for(api_key: str, base_url: str | None = None) -> str:
    """Where a key's data lives: the base URL when given, else the EU or the US host by the key."""
    if base_url:
        return base_url.rstrip("/")
    return EU_HOST if api_key.startswith(EU_KEY_PREFIXES) else DEFAULT_HOST


def endpoint_url(api_key: str, base_url: str | None = None, encoding: str = "json") -> str:
    """The logging URL (a base URL that already ends with the route is taken as it is)."""
    path = ENCODINGS[encoding][0]
    host = host_for(api_key, base_url)
    return host if host.endswith(path) else host + path


@dataclass
class HeliconeStats:
    sent_spans: int = 0
    dropped_invalid: int = 0  # no trace or span id, or not mappable
    dropped_failed: int = 0  # not accepted in time (down, slow, a wrong key)
    dropped_refused: int = 0  # refused for good (malformed, too large)


def _first(attributes: Mapping[str, object], keys: Sequence[str]) -> str | None:
    for key in keys:
        value = attributes.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and value != "":
            return str(value)
    return None


class HeliconeSpanExporter(SpanExporter):
    """Sends GenAI spans to Helicone (see the module docstring)."""

    def __init__(
        self,
        api_key: str,
        base_url: str | None = None,
        *,
        spans: str = "genai",
        encoding: str = "json",
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
        properties: Mapping[str, str] | None = None,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        if encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {sorted(ENCODINGS)}, not {encoding!r}")
        self.content_type = ENCODINGS[encoding][1]
        self.encoding = encoding
        self.delivery = HttpDelivery(
            endpoint_url(api_key, base_url, encoding),
            {**(headers or {}), "Authorization": f"Bearer {api_key}"},
            timeout,
        )
        self.all_spans = spans == "all"
        self.properties = dict(properties or {})
        self.retry_seconds = retry_seconds
        self.stats = HeliconeStats()
        self._traces: collections.OrderedDict[int, tuple[str | None, str | None]] = collections.OrderedDict()
        self._lock = threading.Lock()  # the stats and the traces remembered
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
            self._send(chosen)
        except Exception as exc:  # noqa: BLE001 - an exporter must not raise into its caller
            with self._lock:
                self.stats.dropped_failed += len(chosen)
            _logger.warning("otel-distro: the Helicone exporter failed on a batch: %r", exc)
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    # -- choosing and mapping -----------------------------------------------------------------
    def _remember(self, spans: Sequence[ReadableSpan]) -> None:
        """The session and user each trace has shown so far (the first seen is kept)."""
        with self._lock:
            for span in spans:
                if span.context is None:
                    continue
                attributes = span.attributes or {}
                session, user = _first(attributes, SESSION_KEYS), _first(attributes, USER_KEYS)
                if session is None and user is None:
                    continue
                trace_id = span.context.trace_id
                known = self._traces.get(trace_id, (None, None))
                self._traces[trace_id] = (known[0] or session, known[1] or user)
                self._traces.move_to_end(trace_id)
            while len(self._traces) > _TRACES_REMEMBERED:
                self._traces.popitem(last=False)

    def _choose(self, spans: Sequence[ReadableSpan]) -> list[ReadableSpan]:
        self._remember(spans)
        chosen: list[ReadableSpan] = []
        for span in spans:
            context = span.context
            if context is None or not context.trace_id or not context.span_id:
                with self._lock:
                    self.stats.dropped_invalid += 1
                continue
            try:
                view = view_of(span)
                if view is not None and is_model_call(view):
                    session, user = self._traces.get(context.trace_id, (None, None))
                    chosen.append(
                        helicone_span(
                            span, view, session=session, user=user, static_properties=self.properties
                        )
                    )
                elif self.all_spans:
                    chosen.append(span)
            except Exception as exc:  # noqa: BLE001 - one odd span must not cost the batch
                with self._lock:
                    self.stats.dropped_invalid += 1
                _logger.debug("otel-distro: a span could not be mapped for Helicone: %r", exc)
        return chosen

    # -- sending --------------------------------------------------------------------------------
    def _encode(self, spans: Sequence[ReadableSpan]) -> bytes:
        if self.encoding == "protobuf":
            return encode_spans(spans).SerializeToString()
        return otlp_json.dumps(otlp_json.traces_data(spans))

    def _send(self, spans: list[ReadableSpan]) -> None:
        for start in range(0, len(spans), MAX_SPANS_PER_REQUEST):
            self._send_chunk(spans[start : start + MAX_SPANS_PER_REQUEST])

    def _send_chunk(self, chunk: list[ReadableSpan]) -> None:
        """One request's spans; a request Helicone finds too large (413) is halved."""
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
        result = self.delivery.send(self._encode(spans), self.content_type, self.retry_seconds)
        if result.outcome is Outcome.DELIVERED:
            with self._lock:
                self.stats.sent_spans += len(spans)
        return result  # a wrong key (401, 403) is not retried here: nothing is kept to retry later

    def _warn(self, result: Result, count: int) -> None:
        if result.outcome in self._warned:
            return
        self._warned.add(result.outcome)
        auth = result.outcome is Outcome.AUTH
        hint = "; check HELICONE_API_KEY (and HELICONE_BASE_URL for an EU key)" if auth else ""
        _logger.warning(
            "otel-distro: Helicone at %s: %s; %d spans dropped%s (further failures are counted)",
            self.delivery.url,
            result.error or result.outcome.value,
            count,
            hint,
        )

    # -- lifecycle ------------------------------------------------------------------------------
    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True

    def shutdown(self) -> None:
        self.delivery.close()


class HeliconeSpanProcessor(QueuedSpanProcessor):
    """Queues the spans the Helicone exporter may send for a thread of its own (bounded: what
    does not fit is dropped and counted); the app pays a look at the span and an append."""

    label = "helicone"
    title = "Helicone"

    def __init__(
        self,
        exporter: HeliconeSpanExporter,
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

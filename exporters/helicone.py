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
from collections.abc import Mapping, Sequence

from opentelemetry.sdk.trace import ReadableSpan

from exporters import otlp_json
from exporters.helicone_mapping import helicone_span, is_model_call, view_of
from exporters.http_delivery import HttpDelivery
from exporters.queued import RETRY_SECONDS, QueuedHttpExporter, QueuedSpanProcessor
from instrumentations.genai_view import SESSION_KEYS, USER_KEYS

DEFAULT_HOST = "https://api.helicone.ai"
EU_HOST = "https://eu.api.helicone.ai"
EU_KEY_PREFIXES = ("sk-helicone-eu-", "pk-helicone-eu-")
# encoding -> (path, content type), as Helicone's routes take them
ENCODINGS = {
    "json": ("/v1/trace/log", "application/json"),
    "protobuf": ("/v1/trace/log-python", "application/x-protobuf"),
}
_TRACES_REMEMBERED = 4096  # traces whose session and user fill their later spans


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


def _first(attributes: Mapping[str, object], keys: Sequence[str]) -> str | None:
    for key in keys:
        value = attributes.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and value != "":
            return str(value)
    return None


class HeliconeSpanExporter(QueuedHttpExporter):
    """Sends GenAI spans to Helicone (see the module docstring)."""

    title = "Helicone"
    key_hint = "check HELICONE_API_KEY (and HELICONE_BASE_URL for an EU key)"

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
        delivery = HttpDelivery(
            endpoint_url(api_key, base_url, encoding),
            {**(headers or {}), "Authorization": f"Bearer {api_key}"},
            timeout,
        )
        super().__init__(delivery, spans=spans, retry_seconds=retry_seconds)
        self.content_type = ENCODINGS[encoding][1]
        self.encoding = encoding
        self.properties = dict(properties or {})
        self._traces: collections.OrderedDict[int, tuple[str | None, str | None]] = collections.OrderedDict()

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
        self._remember(spans)  # the sessions and users of the batch's traces, before any is mapped
        return super()._choose(spans)

    def _map(self, span: ReadableSpan) -> ReadableSpan | None:
        view = view_of(span)
        if view is not None and is_model_call(view):
            assert span.context is not None  # _choose sends only spans with ids here
            session, user = self._traces.get(span.context.trace_id, (None, None))
            return helicone_span(span, view, session=session, user=user, static_properties=self.properties)
        return span if self.all_spans else None

    # -- sending --------------------------------------------------------------------------------
    def _encode(self, spans: Sequence[ReadableSpan]) -> bytes:
        if self.encoding == "protobuf":
            return super()._encode(spans)
        return otlp_json.dumps(otlp_json.traces_data(spans))


class HeliconeSpanProcessor(QueuedSpanProcessor):
    """Queues the spans the Helicone exporter may send for a thread of its own (bounded: what
    does not fit is dropped and counted); the app pays a look at the span and an append."""

    label = "helicone"
    title = "Helicone"

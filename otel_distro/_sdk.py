"""The SDK internals the distro relies on, read and written here only, each marked as such.

Every other module uses the SDK's public API, or these helpers:

- Fast, read-only views of an ended span's attributes, events and links. The public
  properties copy (``events``, ``links``) or wrap (``attributes``) on each access, and
  ``BoundedAttributes``/``BoundedList`` answer ``len`` and iteration in Python under a lock;
  the chain and the encoders read every span, so they read the plain dict and deque inside
  (an ended span's are never changed again). Each falls back to the public value.
- A copy of an ended span with some fields replaced, built with keyword arguments.
- A metric exporter's preferred temporality and aggregation.
- Whether a global provider is still the API's proxy (nothing installed yet).
- The context key that tells instrumentations to record nothing (read and set without
  importing the instrumentation package, which ``suppress_instrumentation`` needs).
- Listing the providers a process holds, and putting a processor in front of a provider's
  existing ones (``TracerProvider._active_span_processor`` and its ``_span_processors`` tuple,
  ``LoggerProvider._multi_log_record_processor`` and its ``_log_record_processors`` tuple).

A test checks, on the installed SDK, that every private name used here still exists.
"""

from __future__ import annotations

import copy
import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import context
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor, ReadableLogRecord, ReadWriteLogRecord
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.trace import Link, Status

PRIVATE_NAMES = {
    TracerProvider: ("_active_span_processor",),
    LoggerProvider: ("_multi_log_record_processor",),
    ReadableSpan: (
        "_attributes",
        "_events",
        "_links",
        "_context",
        "_parent",
        "_name",
        "_kind",
        "_start_time",
        "_end_time",
        "_status",
    ),
    Event: ("_attributes",),
}
UNSET: Any = object()  # a field copy_span keeps as it was
_MISSING: Any = object()  # a private field this SDK does not have: the public value instead
# an SDK batch processor's inner queue: (attribute of the processor, its queue, its bound)
_EMPTY: Mapping[str, Any] = {}


# -- ended spans ----------------------------------------------------------------------------------
def plain(values: Any) -> Any:
    """The plain dict inside a ``BoundedAttributes`` (or the mapping itself): read, never change."""
    return getattr(values, "_dict", values)  # private: BoundedAttributes' dict


def plain_list(values: Any) -> Any:
    """The plain deque inside a ``BoundedList`` (or the sequence itself): read, never change."""
    return getattr(values, "_dq", values)  # private: BoundedList's deque


def raw_attributes(record: ReadableSpan | Event) -> Any:
    """A span's or an event's attributes as held (``BoundedAttributes``: its ``dropped`` count
    too), to pass on unchanged; ``plain(raw_attributes(x))`` reads them."""
    # private: the public property wraps it in a new proxy each time
    values = getattr(record, "_attributes", _MISSING)
    return record.attributes if values is _MISSING else values


def attributes(record: ReadableSpan | Event) -> Mapping[str, Any]:
    """A span's or an event's attributes as a plain mapping (empty when none): read, never change."""
    values = getattr(record, "_attributes", _MISSING)  # private, as above (no call: read per record)
    if values is _MISSING:
        values = record.attributes
    return getattr(values, "_dict", values) or _EMPTY


def raw_events(span: ReadableSpan) -> Sequence[Event]:
    """A span's events as held (an immutable container), to pass on unchanged."""
    held = getattr(span, "_events", _MISSING)  # private: the public property copies them into a new tuple
    return span.events if held is _MISSING else held


def events(span: ReadableSpan) -> Sequence[Event]:
    """A span's events, read without a copy."""
    held = getattr(span, "_events", _MISSING)  # private, as above
    if held is _MISSING:
        return span.events
    return getattr(held, "_dq", held)  # type: ignore[no-any-return]


def raw_links(span: ReadableSpan) -> Sequence[Link]:
    held = getattr(span, "_links", _MISSING)  # private: the public property copies them
    return span.links if held is _MISSING else held


def links(span: ReadableSpan) -> Sequence[Link]:
    held = getattr(span, "_links", _MISSING)  # private, as above
    if held is _MISSING:
        return span.links
    return getattr(held, "_dq", held)  # type: ignore[no-any-return]


def span_parts(span: ReadableSpan) -> tuple[Any, Any, Any, Any, Any, Any]:
    """In one call (the chain and the encoder read every span): its attributes as held and as a
    plain dict, its events as held and as a plain deque, its links as held and as a plain deque."""
    try:
        attrs, events, links = span._attributes, span._events, span._links  # private, as above
    except AttributeError:  # an SDK that keeps them otherwise: the public properties
        attrs, events, links = span.attributes, span.events, span.links
    return (
        attrs,
        getattr(attrs, "_dict", attrs),
        events,
        getattr(events, "_dq", events),
        links,
        getattr(links, "_dq", links),
    )


def span_header(span: ReadableSpan) -> tuple[Any, Any, str, Any, int | None, int | None, Any, str | None]:
    """In one call (the encoder reads every span): its context, parent, name, kind, start and end
    times, status code and status description. ReadableSpan's properties are Python-level calls,
    a dozen per span; the fields behind them are read directly where the SDK keeps them."""
    try:
        status = span._status  # private, as above
        return (
            span._context,
            span._parent,
            span._name,
            span._kind,
            span._start_time,
            span._end_time,
            status._status_code,
            status._description,
        )
    except AttributeError:  # an SDK that keeps them otherwise: the public properties
        status = span.status
        return (
            span.context,
            span.parent,
            span.name,
            span.kind,
            span.start_time,
            span.end_time,
            status.status_code,
            status.description,
        )


def event_parts(event: Event) -> tuple[Any, Any]:
    """An event's attributes as held and as a plain dict, in one call."""
    attrs = raw_attributes(event)
    return attrs, getattr(attrs, "_dict", attrs)


def copy_span(
    span: ReadableSpan,
    *,
    name: str = UNSET,
    attributes: Any = UNSET,
    events: Sequence[Event] = UNSET,
    links: Sequence[Link] = UNSET,
    status: Status = UNSET,
    resource: Resource = UNSET,
    context: Any = UNSET,
    instrumentation_scope: Any = UNSET,
) -> ReadableSpan:
    """A new ``ReadableSpan`` equal to ``span`` but for the given fields, by keyword. What the SDK
    dropped (attributes over the limit) is still counted on the copy, so exporters report the
    same ``dropped_attributes_count`` as for the original."""
    if attributes is not UNSET:
        attributes = _with_dropped(attributes, raw_attributes(span))
    return ReadableSpan(
        name=span.name if name is UNSET else name,
        context=span.context if context is UNSET else context,
        parent=span.parent,
        resource=span.resource if resource is UNSET else resource,
        attributes=raw_attributes(span) if attributes is UNSET else attributes,  # no copy
        events=raw_events(span) if events is UNSET else events,  # no copy
        links=raw_links(span) if links is UNSET else links,  # no copy
        kind=span.kind,
        status=span.status if status is UNSET else status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope
        if instrumentation_scope is UNSET
        else instrumentation_scope,
    )


def copy_log_record(
    record: ReadableLogRecord | ReadWriteLogRecord,
    *,
    body: Any = UNSET,
    attributes: Any = UNSET,
    event_name: str = UNSET,
    context: Any = UNSET,
    resource: Resource | None = UNSET,
    instrumentation_scope: Any = UNSET,
) -> ReadableLogRecord:
    """A new (frozen) ``ReadableLogRecord`` equal to ``record`` but for the given fields, by
    keyword; the API record inside is copied only where one of its own fields changes. A record
    without a resource gets the empty one, as the SDK's batch processor gives it."""
    log = record.log_record
    changes = {"body": body, "attributes": attributes, "event_name": event_name, "context": context}
    changes = {name: value for name, value in changes.items() if value is not UNSET}
    if changes:
        log = copy.copy(log)
        if "attributes" in changes:
            changes["attributes"] = _with_dropped(changes["attributes"], record.log_record.attributes)
        for name, value in changes.items():
            setattr(log, name, value)
    if resource is UNSET:
        resource = record.resource
    return ReadableLogRecord(
        log_record=log,
        resource=resource if resource is not None else Resource.create({}),
        instrumentation_scope=record.instrumentation_scope
        if instrumentation_scope is UNSET
        else instrumentation_scope,
        limits=record.limits,
    )


def _with_dropped(attributes: Any, original: Any) -> Any:
    """``attributes``, still counting what the SDK dropped from ``original`` (over its limits)."""
    dropped = getattr(original, "dropped", 0)
    if not dropped or attributes is None:
        return attributes
    bounded = BoundedAttributes(maxlen=None, attributes=attributes, immutable=True)
    bounded.dropped = dropped
    return bounded


# -- instrumentation suppression -------------------------------------------------------------------
_SUPPRESS = getattr(context, "_SUPPRESS_INSTRUMENTATION_KEY", None)  # private: the key instrumentations read


def instrumentation_suppressed() -> bool:
    """Whether the current context asks instrumentations to record nothing."""
    if _SUPPRESS is not None:
        return bool(context.get_value(_SUPPRESS))
    from opentelemetry.instrumentation.utils import is_instrumentation_enabled

    return not is_instrumentation_enabled()


@contextmanager
def suppressing_instrumentation() -> Iterator[None]:
    """Instrumentations record nothing inside (the distro's own writes and requests)."""
    if _SUPPRESS is None:
        from opentelemetry.instrumentation.utils import suppress_instrumentation

        with suppress_instrumentation():
            yield
        return
    token = context.attach(context.set_value(_SUPPRESS, True))
    try:
        yield
    finally:
        context.detach(token)


# -- metrics and proxies ----------------------------------------------------------------------------
def preferences(exporter: Any) -> tuple[Any, Any]:
    """A metric exporter's preferred temporality and aggregation (public only as constructor args)."""
    # private; without them, the SDK's defaults (cumulative, default aggregations)
    return getattr(exporter, "_preferred_temporality", None), getattr(
        exporter, "_preferred_aggregation", None
    )


def is_proxy_meter_provider(provider: object) -> bool:
    from opentelemetry.metrics import _internal as metrics_internal

    proxy = getattr(metrics_internal, "_ProxyMeterProvider", None)  # private: the API's proxy
    return (
        isinstance(provider, proxy) if proxy is not None else type(provider).__name__ == "_ProxyMeterProvider"
    )


def is_proxy_logger_provider(provider: object) -> bool:
    from opentelemetry._logs import _internal as logs_internal

    proxy = getattr(logs_internal, "ProxyLoggerProvider", None)  # private module of the API
    return (
        isinstance(provider, proxy) if proxy is not None else type(provider).__name__ == "ProxyLoggerProvider"
    )


def _subclasses(kind: type) -> set[type]:
    found = {kind}
    sub: type
    for sub in kind.__subclasses__():
        found |= _subclasses(sub)
    return found


def live_providers() -> tuple[list[TracerProvider], list[LoggerProvider], list[MeterProvider]]:
    """Every SDK tracer, logger and meter provider alive in the process (a scan of the GC's
    objects: about 14 ms per 100,000 objects; ``type()``, never ``isinstance``, which runs lazy
    proxies)."""
    tracer_types = _subclasses(TracerProvider)
    logger_types = _subclasses(LoggerProvider)
    meter_types = _subclasses(MeterProvider)
    tracers: list[TracerProvider] = []
    loggers: list[LoggerProvider] = []
    meters: list[MeterProvider] = []
    for obj in gc.get_objects():
        kind = type(obj)
        if kind in tracer_types:
            tracers.append(obj)
        elif kind in logger_types:
            loggers.append(obj)
        elif kind in meter_types:
            meters.append(obj)
    return tracers, loggers, meters


def watch_new_providers(seen: Callable[[object], None]) -> Callable[[], None]:
    """From now on, ``seen(provider)`` runs for every SDK tracer or logger provider right before
    a processor is first added to it (as it is made, a provider exports nothing: the processor
    is its exporter) or once it is made with one (``active_span_processor=``), and for every
    meter provider once it is made (its readers come with it).
    Returns the undo. The SDK has no hook for this: its two ``add_*_processor`` methods and the
    three providers' ``__init__`` are wrapped, in their classes, for as long as the distro runs.
    A subclass that keeps its processors its own way (an ``add_span_processor`` that does not
    call the SDK's) is not seen."""
    add_span, add_log, init_meter = (
        TracerProvider.add_span_processor,
        LoggerProvider.add_log_record_processor,
        MeterProvider.__init__,
    )
    init_tracer, init_logger = TracerProvider.__init__, LoggerProvider.__init__

    def tracer_init(self: TracerProvider, *args: Any, **kwargs: Any) -> None:
        init_tracer(self, *args, **kwargs)
        if _has_processors(self, "_active_span_processor", "_span_processors"):
            seen(self)  # made with its processor (active_span_processor=): no add will come

    def logger_init(self: LoggerProvider, *args: Any, **kwargs: Any) -> None:
        init_logger(self, *args, **kwargs)
        if _has_processors(self, "_multi_log_record_processor", "_log_record_processors"):
            seen(self)

    def add_span_processor(self: TracerProvider, span_processor: SpanProcessor) -> None:
        seen(self)
        add_span(self, span_processor)

    def add_log_record_processor(self: LoggerProvider, log_record_processor: LogRecordProcessor) -> None:
        seen(self)
        add_log(self, log_record_processor)

    def meter_init(self: MeterProvider, *args: Any, **kwargs: Any) -> None:
        init_meter(self, *args, **kwargs)
        seen(self)

    TracerProvider.add_span_processor = add_span_processor  # type: ignore[method-assign]
    LoggerProvider.add_log_record_processor = add_log_record_processor  # type: ignore[method-assign]
    MeterProvider.__init__ = meter_init  # type: ignore[method-assign]
    TracerProvider.__init__ = tracer_init  # type: ignore[method-assign]
    LoggerProvider.__init__ = logger_init  # type: ignore[method-assign]

    def undo() -> None:
        TracerProvider.__init__ = init_tracer  # type: ignore[method-assign]
        LoggerProvider.__init__ = init_logger  # type: ignore[method-assign]
        TracerProvider.add_span_processor = add_span  # type: ignore[method-assign]
        LoggerProvider.add_log_record_processor = add_log  # type: ignore[method-assign]
        MeterProvider.__init__ = init_meter  # type: ignore[method-assign]

    return undo


def _has_processors(provider: Any, name: str, members: str) -> bool:
    """Whether a provider just made holds a processor already: a composite with members, or a
    processor of its own in the composite's place."""
    held = getattr(provider, name, None)  # private: the provider's composite processor
    inside = getattr(held, members, None)
    return held is not None and (not isinstance(inside, tuple) or bool(inside))


def metric_readers(provider: MeterProvider) -> tuple[Any, ...]:
    """The readers a meter provider was made with."""
    config = getattr(provider, "_sdk_config", None)  # private: the SDK's configuration (1.40 on)
    readers: Any = getattr(config, "metric_readers", None)
    if readers is None:
        readers = getattr(provider, "_metric_readers", ())  # private: kept as given (1.45)
    return tuple(readers)


def reader_exporter(reader: Any) -> Any | None:
    """A push reader's exporter (``PeriodicExportingMetricReader``), None for a pull reader."""
    return getattr(reader, "_exporter", None)  # private: the reader's own


def set_reader_exporter(reader: Any, exporter: Any) -> None:
    """Give a push reader another exporter (its thread reads the attribute at each export)."""
    reader._exporter = exporter  # private, as above


def _multi(provider: Any, name: str, members: str) -> Any | None:
    multi = getattr(provider, name, None)  # private: the provider's composite processor
    return multi if isinstance(getattr(multi, members, None), tuple) else None


def take_span_processors(provider: TracerProvider, front: SpanProcessor) -> tuple[SpanProcessor, ...] | None:
    """Put ``front`` in place of every span processor of ``provider`` and return them (``None``:
    this provider's shape is unknown). Its tracers made earlier hold the composite processor, so
    its members are replaced; later ``add_span_processor`` calls reach ``front``."""
    multi = _multi(provider, "_active_span_processor", "_span_processors")
    if multi is None:
        return None
    with multi._lock:  # private: the composite's own lock, as its add_span_processor takes it
        taken: tuple[SpanProcessor, ...] = multi._span_processors
        multi._span_processors = (front,)
    provider._active_span_processor = front  # type: ignore[assignment]
    provider._otel_distro_composite = multi  # type: ignore[attr-defined]  # for give_back_span_processors
    return taken


def take_log_processors(
    provider: LoggerProvider, front: LogRecordProcessor
) -> tuple[LogRecordProcessor, ...] | None:
    """As :func:`take_span_processors`, for a logger provider's log record processors."""
    multi = _multi(provider, "_multi_log_record_processor", "_log_record_processors")
    if multi is None:
        return None
    with multi._lock:  # private, as above
        taken: tuple[LogRecordProcessor, ...] = multi._log_record_processors
        multi._log_record_processors = (front,)
    provider._multi_log_record_processor = front  # type: ignore[assignment]
    provider._otel_distro_composite = multi  # type: ignore[attr-defined]  # for give_back_log_processors
    return taken


def give_back_span_processors(provider: TracerProvider, processors: Sequence[SpanProcessor]) -> Any | None:
    """Undo :func:`take_span_processors`: the provider's own composite, holding ``processors``,
    in place of the front again (tracers made earlier hold that composite); returns it, for
    the tracers made meanwhile, which hold the front. None where the provider's shape is not
    the one taken."""
    multi = _multi(provider, "_active_span_processor", "_span_processors")
    if multi is not None:  # a composite in place, not the front: given back already, or never taken
        return None
    composite = getattr(provider, "_otel_distro_composite", None)
    if composite is None:
        return None
    with composite._lock:  # private, as above
        composite._span_processors = tuple(processors)
    provider._active_span_processor = composite
    return composite


def give_back_log_processors(
    provider: LoggerProvider, processors: Sequence[LogRecordProcessor]
) -> Any | None:
    """As :func:`give_back_span_processors`, for a logger provider."""
    composite = getattr(provider, "_otel_distro_composite", None)
    if composite is None or _multi(provider, "_multi_log_record_processor", "_log_record_processors"):
        return None
    with composite._lock:  # private, as above
        composite._log_record_processors = tuple(processors)
    provider._multi_log_record_processor = composite
    return composite

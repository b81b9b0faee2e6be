"""The SDK's private names that ``otel_distro._sdk`` relies on still exist on the installed SDK."""

from __future__ import annotations

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

from otel_distro import _sdk


def test_every_private_name_relied_on_exists_on_the_installed_sdk() -> None:
    from opentelemetry.metrics import _internal as metrics_internal
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import Event, ReadableSpan

    from exporters.store.export import JsonlMetricExporter
    from exporters.store.files import JsonlStore

    made = {ReadableSpan: ReadableSpan(name="s", attributes={"a": 1}, events=[Event("e", {"b": 2})])}
    made[Event] = Event("e", {"b": 2})
    for kind, names in _sdk.PRIVATE_NAMES.items():
        instance = made.get(kind) or kind(shutdown_on_exit=False)
        for name in names:
            assert hasattr(instance, name), f"{kind.__name__}.{name}"
    span = made[ReadableSpan]
    assert dict(_sdk.attributes(span)) == {"a": 1} and dict(_sdk.plain(_sdk.raw_attributes(span))) == {"a": 1}
    assert [event.name for event in _sdk.events(span)] == ["e"] and list(_sdk.links(span)) == []
    assert dict(_sdk.attributes(_sdk.events(span)[0])) == {"b": 2}
    public = (span.context, span.parent, span.name, span.kind, span.start_time, span.end_time)
    assert _sdk.span_header(span) == (*public, span.status.status_code, span.status.description)
    copied = _sdk.copy_span(span, name="t")
    assert (copied.name, dict(copied.attributes or {}), copied.context) == ("t", {"a": 1}, span.context)
    assert len(_sdk.preferences(JsonlMetricExporter(JsonlStore("/nonexistent-store")))) == 2
    assert hasattr(metrics_internal, "_ProxyMeterProvider")
    assert not _sdk.is_proxy_meter_provider(InMemoryMetricReader())
    from opentelemetry.instrumentation.utils import is_instrumentation_enabled

    assert _sdk._SUPPRESS is not None and not _sdk.instrumentation_suppressed()
    with _sdk.suppressing_instrumentation():  # the key the instrumentations themselves read
        assert _sdk.instrumentation_suppressed() and not is_instrumentation_enabled()
    assert is_instrumentation_enabled()


def test_live_providers_finds_providers_and_taking_their_processors_puts_a_front_in_place() -> None:
    tracer_provider = TracerProvider(shutdown_on_exit=False)
    logger_provider = LoggerProvider(shutdown_on_exit=False)
    span_processor, log_processor = SpanProcessor(), SimpleLogRecordProcessor(InMemoryLogRecordExporter())
    tracer_provider.add_span_processor(span_processor)
    logger_provider.add_log_record_processor(log_processor)
    tracers, loggers, _meters = _sdk.live_providers()
    assert any(p is tracer_provider for p in tracers) and any(p is logger_provider for p in loggers)
    span_front, log_front = SpanProcessor(), SimpleLogRecordProcessor(InMemoryLogRecordExporter())
    assert _sdk.take_span_processors(tracer_provider, span_front) == (span_processor,)
    assert _sdk.take_log_processors(logger_provider, log_front) == (log_processor,)
    assert _sdk.take_span_processors(tracer_provider, span_front) is None  # the front is no composite


def test_log_records_the_chains_worker_has_no_room_for_are_counted() -> None:
    import threading

    from opentelemetry._logs import LogRecord as ApiLogRecord
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

    from processors.base import RecordProcessor
    from processors.chain import LogChain

    release = threading.Event()

    class Slow(RecordProcessor):
        def process_log(self, record: object) -> object:
            release.wait(10)
            return record

    exporter = InMemoryLogRecordExporter()
    chain = LogChain(
        [Slow()], [SimpleLogRecordProcessor(exporter)], max_queue_size=600, schedule_delay_millis=1
    )
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(chain)
    try:
        for n in range(1200):
            provider.get_logger("t").emit(ApiLogRecord(body=f"line {n}"))
        assert chain.stats.drop_counts()["chain_queue_full"] >= 1200 - 600 - 512  # one batch taken at most
    finally:
        release.set()
        provider.shutdown()


def test_without_the_private_fields_every_helper_answers_from_the_public_api() -> None:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import Event, ReadableSpan

    real = ReadableSpan(name="s", attributes={"a": 1}, events=[Event("e", {"b": 2})], resource=Resource({}))

    class PublicOnly:  # a span of an SDK that keeps its fields under other names
        name, context, parent, kind = real.name, real.context, real.parent, real.kind
        start_time, end_time, status, resource = real.start_time, real.end_time, real.status, real.resource
        instrumentation_scope = real.instrumentation_scope
        attributes, events, links = real.attributes, real.events, real.links

    span = PublicOnly()
    assert not hasattr(span, "_attributes") and not hasattr(span, "_events")
    assert dict(_sdk.attributes(span)) == {"a": 1}  # type: ignore[arg-type]
    assert [event.name for event in _sdk.events(span)] == ["e"] and list(_sdk.links(span)) == []  # type: ignore[arg-type]
    parts = _sdk.span_parts(span)  # type: ignore[arg-type]
    assert dict(parts[1]) == {"a": 1} and [event.name for event in parts[3]] == ["e"]
    assert _sdk.span_header(span)[2] == "s"  # type: ignore[arg-type]
    copied = _sdk.copy_span(span, name="t")  # type: ignore[arg-type]
    assert (copied.name, dict(copied.attributes or {}), [e.name for e in copied.events]) == (
        "t",
        {"a": 1},
        ["e"],
    )
    assert _sdk.preferences(object()) == (None, None)  # the SDK's defaults
    assert not _sdk.is_proxy_meter_provider(object()) and not _sdk.is_proxy_logger_provider(object())


def test_objects_the_sdk_itself_makes_hold_every_private_field_the_helpers_read() -> None:
    """Not hand-built records: a span, its events and links, and a log record as the installed
    SDK's providers end and emit them, so a renamed field fails here instead of quietly sending
    every helper to its slower public fallback."""
    from opentelemetry import metrics as metrics_api
    from opentelemetry._logs import LogRecord as ApiLogRecord
    from opentelemetry._logs import _internal as logs_internal
    from opentelemetry.sdk.metrics.export import AggregationTemporality
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import Link, Status, StatusCode

    spans = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(spans))
    tracer = provider.get_tracer("t")
    with (
        tracer.start_as_current_span("parent") as parent,
        tracer.start_as_current_span(
            "child", attributes={"a": 1}, links=[Link(parent.get_span_context())]
        ) as child,
    ):
        child.add_event("e", {"b": 2})
        child.set_status(Status(StatusCode.ERROR, "broken"))
    span = next(s for s in spans.get_finished_spans() if s.name == "child")
    missing = [name for name in _sdk.PRIVATE_NAMES[ReadableSpan] if not hasattr(span, name)]
    assert not missing, missing
    assert hasattr(span._attributes, "_dict") and hasattr(span._events, "_dq") and hasattr(span._links, "_dq")
    assert hasattr(span._events[0]._attributes, "_dict")
    # what the helpers read is what the public properties say
    assert _sdk.plain(span._attributes) == dict(span.attributes or {}) == {"a": 1}
    assert list(_sdk.events(span)) == list(span.events) and list(_sdk.links(span)) == list(span.links)
    assert _sdk.span_header(span)[-2:] == (StatusCode.ERROR, "broken")
    assert (span.status._status_code, span.status._description) == (span.status.status_code, "broken")
    assert _sdk.span_parts(span)[1] is span._attributes._dict

    logs = InMemoryLogRecordExporter()
    logger_provider = LoggerProvider(shutdown_on_exit=False)
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    logger_provider.get_logger("t").emit(ApiLogRecord(body="line", attributes={"c": 3}))
    (record,) = logs.get_finished_logs()
    assert dict(record.log_record.attributes or {}) == {"c": 3}

    # the composite processors take_*_processors swaps, with the lock their add_* methods take
    multi = provider._active_span_processor
    assert isinstance(multi._span_processors, tuple) and hasattr(multi, "_lock")
    log_multi = logger_provider._multi_log_record_processor
    assert isinstance(log_multi._log_record_processors, tuple) and hasattr(log_multi, "_lock")
    # a metric exporter's preferences, kept where the SDK's MetricExporter base class keeps them
    from opentelemetry.sdk.metrics import Counter
    from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult
    from opentelemetry.sdk.metrics.view import SumAggregation

    class Preferring(MetricExporter):
        def export(
            self, metrics_data: object, timeout_millis: float = 0, **kwargs: object
        ) -> MetricExportResult:
            return MetricExportResult.SUCCESS

        def force_flush(self, timeout_millis: float = 0) -> bool:
            return True

        def shutdown(self, timeout_millis: float = 0, **kwargs: object) -> None:
            return None

    temporality, aggregation = _sdk.preferences(
        Preferring(
            preferred_temporality={Counter: AggregationTemporality.DELTA},
            preferred_aggregation={Counter: SumAggregation()},
        )
    )
    assert temporality[Counter] is AggregationTemporality.DELTA
    assert isinstance(aggregation[Counter], SumAggregation)
    # the API's proxies, before any provider is set, are what the proxy checks recognize
    assert _sdk.is_proxy_logger_provider(logs_internal.ProxyLoggerProvider())
    assert _sdk.is_proxy_meter_provider(metrics_api._internal._ProxyMeterProvider())
    provider.shutdown()
    logger_provider.shutdown()


def test_each_private_field_read_is_there_by_name_and_holds_what_the_public_api_gives() -> None:
    """Every private name _sdk reads, checked by name on real SDK objects (the fallbacks would
    otherwise hide a rename: the public path works, only slower or, for preferences, wrong)."""
    from opentelemetry import context
    from opentelemetry._logs import _internal as logs_internal
    from opentelemetry.sdk.metrics import Counter, Histogram
    from opentelemetry.sdk.metrics.export import AggregationTemporality, ConsoleMetricExporter
    from opentelemetry.sdk.metrics.view import Aggregation, ExplicitBucketHistogramAggregation
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.trace import Status, StatusCode

    span = ReadableSpan(
        name="s", attributes={"a": 1}, events=[Event("e", {"b": 2})], status=Status(StatusCode.ERROR, "why")
    )
    assert dict(span._attributes) == {"a": 1}  # type: ignore[arg-type]  # a plain mapping when built so
    assert list(span._events) == list(span.events)  # _sdk.raw_events
    assert span._status._status_code is StatusCode.ERROR and span._status._description == "why"
    started = TracerProvider(shutdown_on_exit=False).get_tracer("t").start_span("live", attributes={"k": "v"})
    started.add_event("e", {"b": 2})
    started.end()
    assert list(started._events._dq) == list(started.events)  # type: ignore[attr-defined]  # _sdk.events
    assert started._attributes._dict == {"k": "v"}  # type: ignore[attr-defined]
    assert _sdk.events(started) is started._events._dq  # type: ignore[attr-defined]  # read, not copied

    temporality = {Counter: AggregationTemporality.DELTA}
    aggregation: dict[type, Aggregation] = {Histogram: ExplicitBucketHistogramAggregation((1.0, 2.0))}
    exporter = ConsoleMetricExporter(preferred_temporality=temporality, preferred_aggregation=aggregation)
    preferred, aggregations = _sdk.preferences(exporter)
    assert preferred[Counter] is AggregationTemporality.DELTA  # what the chain's wrapper passes on
    assert aggregations[Histogram] is aggregation[Histogram]

    tracer_provider, logger_provider = (
        TracerProvider(shutdown_on_exit=False),
        LoggerProvider(shutdown_on_exit=False),
    )
    for multi, members in (
        (tracer_provider._active_span_processor, "_span_processors"),
        (logger_provider._multi_log_record_processor, "_log_record_processors"),
    ):
        assert isinstance(getattr(multi, members), tuple) and hasattr(multi, "_lock")
    assert isinstance(logger_provider, LoggerProvider) and hasattr(logs_internal, "ProxyLoggerProvider")
    assert _sdk.is_proxy_logger_provider(logs_internal.ProxyLoggerProvider())
    assert not _sdk.is_proxy_logger_provider(logger_provider)
    assert hasattr(context, "_SUPPRESS_INSTRUMENTATION_KEY")

    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader, PeriodicExportingMetricReader

    push = PeriodicExportingMetricReader(exporter, export_interval_millis=60_000)
    pull = InMemoryMetricReader()
    meters = MeterProvider(metric_readers=[push, pull], shutdown_on_exit=False)
    # where the SDK keeps them: its configuration (1.40) or the provider itself (1.45)
    held = getattr(meters._sdk_config, "metric_readers", None) or meters._metric_readers  # type: ignore[attr-defined]
    assert tuple(held) == (push, pull)
    assert _sdk.metric_readers(meters) == (push, pull)
    assert push._exporter is exporter and _sdk.reader_exporter(push) is exporter  # type: ignore[attr-defined]
    assert _sdk.reader_exporter(pull) is None
    meters.shutdown()


def test_copies_of_spans_and_log_records_still_count_what_the_sdk_dropped() -> None:
    """One copy for every rewrite (chain, redaction, Helicone's and Phoenix's forms): what the
    SDK dropped over its attribute limit is still reported on the copy."""
    from opentelemetry._logs import LogRecord
    from opentelemetry.attributes import BoundedAttributes
    from opentelemetry.sdk._logs import ReadableLogRecord
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import SpanLimits
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from exporters.helicone_mapping import helicone_span, view_of
    from exporters.phoenix_mapping import phoenix_span

    exporter = InMemorySpanExporter()
    provider = TracerProvider(span_limits=SpanLimits(max_span_attributes=3), shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    attributes = {"a": 1, "b": 2, "gen_ai.operation.name": "chat", "gen_ai.request.model": "m", "c": 3}
    with provider.get_tracer("t").start_as_current_span("chat m", attributes=attributes):
        pass
    span = exporter.get_finished_spans()[0]
    assert span.dropped_attributes == 2
    view = view_of(span)
    assert view is not None
    for copied in (
        _sdk.copy_span(span, attributes={"x": 1}),
        helicone_span(span, view),
        phoenix_span(span, Resource.create({})),
    ):
        assert copied is not span and copied.dropped_attributes == 2
    assert _sdk.copy_span(span, name="n").dropped_attributes == 2  # attributes as held, not copied

    held = BoundedAttributes(maxlen=1, attributes={"k": 1, "l": 2}, immutable=False)  # as the SDK bounds them
    record = ReadableLogRecord(log_record=LogRecord(body="b", attributes=held), resource=None)
    dropped = record.dropped_attributes
    copied = _sdk.copy_log_record(record, attributes={"k": 9}, body="new")
    assert (copied.log_record.body, dict(copied.log_record.attributes or {})) == ("new", {"k": 9})
    assert (
        dropped == 1 and copied.dropped_attributes == 1 and record.log_record.body == "b"
    )  # the original kept
    assert copied.resource is not None  # a record without one gets the empty resource

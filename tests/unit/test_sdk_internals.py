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
    tracers, loggers = _sdk.live_providers()
    assert any(p is tracer_provider for p in tracers) and any(p is logger_provider for p in loggers)
    span_front, log_front = SpanProcessor(), SimpleLogRecordProcessor(InMemoryLogRecordExporter())
    assert _sdk.take_span_processors(tracer_provider, span_front) == (span_processor,)
    assert _sdk.take_log_processors(logger_provider, log_front) == (log_processor,)
    assert _sdk.take_span_processors(tracer_provider, span_front) is None  # the front is no composite


def test_a_full_batch_queue_is_seen_and_the_chain_counts_what_it_pushes_out() -> None:
    import threading
    from collections.abc import Sequence

    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
    from opentelemetry.trace import SpanContext, TraceFlags

    from processors.chain import SpanChain

    release = threading.Event()

    class Stuck(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            release.wait(10)
            return SpanExportResult.SUCCESS

    batch = BatchSpanProcessor(Stuck(), max_queue_size=4, max_export_batch_size=1, schedule_delay_millis=1)
    chain = SpanChain([], [batch])
    try:
        assert not _sdk.batch_queue_full(batch) and not _sdk.batch_queue_full(SpanProcessor())
        for n in range(20):
            context = SpanContext(n + 1, n + 1, False, TraceFlags(TraceFlags.SAMPLED))
            chain.on_end(ReadableSpan(name=f"s{n}", context=context))
        assert _sdk.batch_queue_full(batch)
        assert 10 <= chain.stats.drop_counts()["exporter_queue_full"] <= 16
    finally:
        release.set()
        chain.shutdown()


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

"""The SDK's private names that ``otel_distro._sdk`` relies on still exist on the installed SDK."""

from __future__ import annotations

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

from otel_distro import _sdk


def test_every_private_name_relied_on_exists_on_the_installed_sdk() -> None:
    for kind, names in _sdk.PRIVATE_NAMES.items():
        instance = kind(shutdown_on_exit=False)
        for name in names:
            assert hasattr(instance, name), f"{kind.__name__}.{name}"


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

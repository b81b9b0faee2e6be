"""One model call recorded by two instrumentations counts once: the later span is marked."""

from __future__ import annotations

import logging

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from instrumentations.genai_view import DUPLICATE_OF, genai_view
from processors.genai_duplicates import DuplicateModelCalls

CHAT = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"}
OPENLLMETRY = {"llm.request.type": "chat", "gen_ai.request.model": "gpt-4o", "gen_ai.usage.prompt_tokens": 5}


def _spans() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def _process(spans: list[ReadableSpan]) -> list[ReadableSpan]:
    processor = DuplicateModelCalls()
    out = [processor.process_span(span) for span in spans]
    assert all(span is not None for span in out)
    return [span for span in out if span is not None]


def test_a_call_recorded_by_two_nested_instrumentations_is_marked_once_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    provider, exporter = _spans()
    official = provider.get_tracer("opentelemetry.instrumentation.genai.openai")
    openllmetry = provider.get_tracer("opentelemetry.instrumentation.openai.v1")
    for _ in range(2):
        with (
            openllmetry.start_as_current_span("openai.chat", attributes=OPENLLMETRY),
            official.start_as_current_span("chat gpt-4o", attributes=CHAT),
        ):
            pass
    with caplog.at_level(logging.WARNING):
        out = _process(list(exporter.get_finished_spans()))
    marked = [span for span in out if DUPLICATE_OF in (span.attributes or {})]
    assert [span.name for span in marked] == ["openai.chat", "openai.chat"]  # the later-ending one
    inner = [span for span in out if span.name == "chat gpt-4o"]
    assert {span.attributes[DUPLICATE_OF] for span in marked} == {f"{s.context.span_id:016x}" for s in inner}
    assert [genai_view(dict(span.attributes or {})) is None for span in out] == [False, True, False, True]
    warnings = [r.getMessage() for r in caplog.records if "two instrumentations" in r.getMessage()]
    assert len(warnings) == 1 and "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS" in warnings[0]
    assert "opentelemetry.instrumentation.openai.v1" in warnings[0]


def test_overlapping_calls_in_separate_traces_are_one_call_one_instrumentation_alone_never() -> None:
    provider, exporter = _spans()
    sdk = provider.get_tracer("anthropic")
    instrumentation = provider.get_tracer("opentelemetry.instrumentation.genai.anthropic")
    outer = sdk.start_span("anthropic.messages.create", attributes=CHAT)  # its own trace
    inner = instrumentation.start_span("chat gpt-4o", attributes=CHAT)  # another trace
    inner.end()
    outer.end()
    alone = instrumentation.start_span("chat gpt-4o", attributes=CHAT)
    concurrent = instrumentation.start_span("chat gpt-4o", attributes=CHAT)  # same scope: two calls
    alone.end()
    concurrent.end()
    other_model = sdk.start_span(
        "anthropic.messages.create", attributes={**CHAT, "gen_ai.request.model": "m2"}
    )
    other_model.end()
    out = _process(list(exporter.get_finished_spans()))
    assert [DUPLICATE_OF in (span.attributes or {}) for span in out] == [False, True, False, False, False]


def test_spans_that_are_no_model_calls_pass_untouched() -> None:
    provider, exporter = _spans()
    tracer = provider.get_tracer("a")
    with tracer.start_as_current_span("execute_tool x", attributes={"gen_ai.operation.name": "execute_tool"}):
        pass
    with provider.get_tracer("b").start_as_current_span("GET /", attributes={"http.method": "GET"}):
        pass
    spans = list(exporter.get_finished_spans())
    assert _process(spans) == spans


def test_an_sdks_own_span_inside_an_instrumentations_is_the_one_marked_though_it_ends_first() -> None:
    from processors.chain import SpanChain

    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SpanChain([DuplicateModelCalls()], [SimpleSpanProcessor(exporter)]))
    instrumentation = provider.get_tracer("opentelemetry.instrumentation.genai.anthropic")
    sdk = provider.get_tracer("com.anthropic.sdk.python")
    with (
        instrumentation.start_as_current_span(
            "chat claude", attributes={**CHAT, "gen_ai.request.model": "c"}
        ),
        sdk.start_as_current_span(
            "anthropic.messages.create", attributes={**CHAT, "gen_ai.request.model": "c"}
        ),
    ):
        pass
    provider.shutdown()
    marked = {span.name: DUPLICATE_OF in (span.attributes or {}) for span in exporter.get_finished_spans()}
    assert marked == {"anthropic.messages.create": True, "chat claude": False}

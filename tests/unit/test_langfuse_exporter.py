"""The Langfuse exporter's trace assembly, selection and mapping, against a local recorder."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext, TraceFlags

from exporters.langfuse import LangfuseSpanExporter
from exporters.langfuse_mapping import observation_type, span_attributes
from tests.support.endpoint import Fault
from tests.support.langfuse_endpoint import LangfuseRecorder

TRACE = 0x0AF7651916CD43DD8448EB211C80319C


def span(
    span_id: int, parent: int | None, name: str, trace_id: int = TRACE, **attributes: Any
) -> ReadableSpan:
    return ReadableSpan(
        name=name,
        context=SpanContext(trace_id, span_id, False, TraceFlags(1)),
        parent=SpanContext(trace_id, parent, False) if parent else None,
        attributes=attributes,
        resource=Resource({"service.name": "svc"}),
        start_time=1,
        end_time=2,
    )


@contextmanager
def exporter_for(recorder: LangfuseRecorder, **options: Any) -> Iterator[LangfuseSpanExporter]:
    exporter = LangfuseSpanExporter("pk-lf-test", "sk-lf-test", recorder.host, retry_seconds=0, **options)
    try:
        yield exporter
    finally:
        exporter.delivery.close()


def test_a_trace_waits_for_its_root_and_the_session_reaches_every_span() -> None:
    with LangfuseRecorder() as recorder, exporter_for(recorder) as exporter:
        exporter.export([span(2, 1, "chat", **{"gen_ai.operation.name": "chat"})])
        assert recorder.spans == []  # held: its root has not ended
        exporter.export([span(1, None, "run", **{"session.id": "s-1"})])
        sent = {s["name"]: s["attributes"] for s in recorder.spans}
        assert sent["chat"]["langfuse.session.id"] == "s-1" and sent["run"]["langfuse.session.id"] == "s-1"
        assert sent["run"]["langfuse.trace.name"] == "run"


def test_an_expired_trace_is_sent_and_its_late_ancestors_follow_with_its_session() -> None:
    with LangfuseRecorder() as recorder, exporter_for(recorder, hold_seconds=0) as exporter:
        exporter.export([span(3, 2, "chat", **{"gen_ai.operation.name": "chat", "session.id": "s-9"})])
        assert [s["name"] for s in recorder.spans] == ["chat"]
        exporter.export([span(2, 1, "step")])  # an ancestor ending later
        exporter.export([span(1, None, "run")])
        assert [s["name"] for s in recorder.spans] == ["chat", "step", "run"]
        assert all(s["attributes"]["langfuse.session.id"] == "s-9" for s in recorder.spans)


def test_a_trace_whose_root_never_ends_goes_out_after_the_hold_without_new_spans_or_a_flush() -> None:
    from exporters.langfuse import LangfuseSpanProcessor

    with LangfuseRecorder() as recorder:
        exporter = LangfuseSpanExporter(
            "pk-lf-test", "sk-lf-test", recorder.host, retry_seconds=0, hold_seconds=0.3
        )
        processor = LangfuseSpanProcessor(exporter, schedule_delay_millis=20)
        processor.on_end(span(2, 1, "chat", **{"gen_ai.operation.name": "chat"}))
        time.sleep(0.15)
        assert recorder.spans == []  # held: its root (span 1) is still running
        deadline = time.monotonic() + 10
        while not recorder.spans and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [s["name"] for s in recorder.spans] == ["chat"]  # the sweeper sent it
        processor.shutdown()
        exporter.delivery.close()


def test_spans_without_valid_ids_are_dropped_and_counted_not_sent() -> None:
    with LangfuseRecorder() as recorder, exporter_for(recorder) as exporter:
        exporter.export([span(0, None, "bad", **{"gen_ai.operation.name": "chat"})])
        exporter.export([span(5, None, "good", **{"gen_ai.operation.name": "chat"})])
        assert [s["name"] for s in recorder.spans] == ["good"]
        assert exporter.stats.dropped_invalid == 1 and exporter.stats.sent_spans == 1


def test_a_trace_the_mapping_cannot_read_is_dropped_and_counted_and_costs_no_other(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from exporters import langfuse

    monkeypatch.setenv("OTEL_DISTRO_STRICT", "0")  # what a user's process does with a mapping failure
    real = langfuse.trace_attributes

    def odd(spans: Any, roots: Any) -> Any:
        if any(s.name == "odd" for s in spans):
            raise ValueError("a value the mapping cannot read")
        return real(spans, roots)

    monkeypatch.setattr(langfuse, "trace_attributes", odd)
    with LangfuseRecorder() as recorder, exporter_for(recorder) as exporter:
        chat = {"gen_ai.operation.name": "chat"}
        exporter.export([span(5, None, "odd", TRACE + 1, **chat), span(6, None, "good", TRACE + 2, **chat)])
        assert [s["name"] for s in recorder.spans] == ["good"]
        assert exporter.stats.dropped_invalid == 1 and exporter.stats.dropped_failed == 0


def test_sampling_keeps_or_drops_whole_traces() -> None:
    with LangfuseRecorder() as recorder, exporter_for(recorder, sample_rate=0.5) as exporter:
        for index in range(1, 200):
            trace_id = index * 0x9E3779B97F4A7C15 << 32 | index
            exporter.export([span(2, 1, "chat", trace_id, **{"gen_ai.operation.name": "chat"})])
            exporter.export([span(1, None, "run", trace_id)])
        traces: dict[str, set[str]] = {}
        for sent in recorder.spans:
            traces.setdefault(sent["trace_id"], set()).add(sent["name"])
        assert all(names == {"chat", "run"} for names in traces.values())
        assert 50 < len(traces) < 150


def test_held_spans_are_bounded_and_flush_sends_what_is_held() -> None:
    with LangfuseRecorder() as recorder, exporter_for(recorder, max_held_spans=3, spans="all") as exporter:
        for index in range(1, 6):  # five traces whose roots never end here
            exporter.export([span(2, 1, "child", index)])
        assert len(recorder.spans) == 2  # the oldest went out to stay within the bound
        exporter.force_flush()
        assert len(recorder.spans) == 5


def test_observation_types_and_usage_follow_langfuse() -> None:
    assert observation_type(span(1, None, "x", **{"gen_ai.operation.name": "embeddings"})) == "embedding"
    assert (
        observation_type(span(1, None, "x", **{"gen_ai.operation.name": "text_completion"})) == "generation"
    )
    assert observation_type(span(1, None, "x", **{"gen_ai.request.model": "m"})) == "generation"
    assert observation_type(span(1, None, "x", **{"langfuse.observation.type": "retriever"})) == "retriever"
    assert observation_type(span(1, None, "x")) is None
    added = span_attributes(
        span(
            1,
            None,
            "chat",
            **{
                "gen_ai.operation.name": "chat",
                "gen_ai.usage.input_tokens": 10,
                "gen_ai.usage.output_tokens": 30,
                "gen_ai.usage.reasoning.output_tokens": 25,
            },
        ),
        root=False,
    )
    assert json.loads(added["langfuse.observation.usage_details"]) == {
        "input": 10,
        "output": 5,
        "output_reasoning_tokens": 25,
        "total": 40,
    }
    assert "langfuse.trace.name" not in added


def test_openllmetry_and_openinference_spans_become_generations_with_input_system_output_and_usage() -> None:
    openllmetry = span(
        1,
        None,
        "openai.chat",
        **{
            "llm.request.type": "chat",
            "gen_ai.system": "openai",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.prompt.0.role": "system",
            "gen_ai.prompt.0.content": "Be brief.",
            "gen_ai.prompt.1.role": "user",
            "gen_ai.prompt.1.content": "Hi?",
            "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.content": "Hello.",
            "gen_ai.usage.prompt_tokens": 7,
            "gen_ai.usage.completion_tokens": 2,
        },
    )
    openinference = span(
        2,
        None,
        "ChatCompletion",
        **{
            "openinference.span.kind": "LLM",
            "llm.model_name": "gpt-4o",
            "llm.input_messages.0.message.role": "system",
            "llm.input_messages.0.message.content": "Be brief.",
            "llm.input_messages.1.message.role": "user",
            "llm.input_messages.1.message.content": "Hi?",
            "llm.output_messages.0.message.role": "assistant",
            "llm.output_messages.0.message.content": "Hello.",
            "llm.token_count.prompt": 7,
            "llm.token_count.completion": 2,
            "llm.invocation_parameters": '{"temperature": 0.1, "model": "gpt-4o"}',
        },
    )
    for one in (openllmetry, openinference):
        added = span_attributes(one, root=True)
        assert added["langfuse.observation.type"] == "generation"
        assert added["langfuse.observation.model.name"] == "gpt-4o"
        assert json.loads(str(added["langfuse.observation.input"])) == [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi?"},
        ]
        assert json.loads(str(added["langfuse.observation.output"])) == [
            {"role": "assistant", "content": "Hello."}
        ]
        assert json.loads(str(added["langfuse.observation.usage_details"])) == {
            "input": 7,
            "output": 2,
            "total": 9,
        }
    parameters = span_attributes(openinference, root=True)["langfuse.observation.model.parameters"]
    assert json.loads(str(parameters)) == {"temperature": 0.1}


def test_system_instructions_lead_the_langfuse_input() -> None:
    added = span_attributes(
        span(
            1,
            None,
            "chat",
            **{
                "gen_ai.operation.name": "chat",
                "gen_ai.system_instructions": '[{"type": "text", "content": "Answer in French."}]',
                "gen_ai.input.messages": '[{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}]',
            },
        ),
        root=True,
    )
    assert json.loads(str(added["langfuse.observation.input"])) == [
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": "Hi"},
    ]


def test_a_batch_too_large_is_halved_down_to_one_span_and_only_a_span_still_too_large_is_dropped() -> None:
    with LangfuseRecorder() as recorder, exporter_for(recorder, spans="all") as exporter:
        # the three spans: too large; the first alone: taken; the other two: too large, and the
        # second alone too; the third alone: taken
        recorder.fail(Fault(413), Fault(), Fault(413), Fault(413))
        exporter.export([span(2, 1, "step"), span(3, 1, "chat"), span(1, None, "run")])
        assert [status for status, _ in recorder.attempts] == [413, 200, 413, 413, 200]
        assert len(recorder.spans) == 2
        assert exporter.stats.sent_spans == 2
        assert exporter.stats.dropped_refused == 1 and exporter.stats.dropped_failed == 0


def test_a_burst_past_the_queue_is_counted_by_reason() -> None:
    """Spans the Langfuse queue has no room for were dropped by the SDK's batch processor with
    a log line and no count; now each is counted by reason, as the other exporters' are."""
    from exporters.langfuse import LangfuseSpanProcessor
    from tests.support.endpoint import free_port

    host = f"http://127.0.0.1:{free_port()}"  # nobody answers there
    exporter = LangfuseSpanExporter("pk-lf-test", "sk-lf-test", host, retry_seconds=2)
    processor = LangfuseSpanProcessor(exporter, schedule_delay_millis=10, max_queue_size=20)
    for index in range(200):
        processor.on_end(span(100 + index, None, "chat", TRACE + index, **{"gen_ai.operation.name": "chat"}))
    processor.shutdown()
    drops = processor.drop_counts()
    assert drops["langfuse_queue_full"] > 0
    reasons = ("queue_full", "shut_down", "lost", "invalid", "failed", "refused")
    assert set(drops) == {f"langfuse_{reason}" for reason in reasons}
    assert processor.queue.max_items == 20  # what the distro's own metrics report

"""The Helicone exporter: mapping, selection and delivery, against a local recorder of its contract."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import SpanContext, TraceFlags

from exporters.helicone import (
    DEFAULT_HOST,
    EU_HOST,
    HeliconeSpanExporter,
    HeliconeSpanProcessor,
    endpoint_url,
)
from tests.support.endpoint import Fault, free_port
from tests.support.helicone_endpoint import JSON_PATH, KEY, PROTOBUF_PATH, HeliconeRecorder

TRACE = 0x0AF7651916CD43DD8448EB211C80319C
SYSTEM, QUESTION, ANSWER = "Be brief.", "Hi?", "Hello."


def span(
    span_id: int,
    name: str = "chat gpt-4o",
    parent: int | None = None,
    trace_id: int = TRACE,
    events: list[Event] | None = None,
    resource: dict[str, Any] | None = None,
    **attributes: Any,
) -> ReadableSpan:
    return ReadableSpan(
        name=name,
        context=SpanContext(trace_id, span_id, False, TraceFlags(1)),
        parent=SpanContext(trace_id, parent, False) if parent else None,
        attributes=attributes,
        events=events or [],
        resource=Resource(resource or {"service.name": "svc"}),
        start_time=1_000,
        end_time=2_000,
    )


def _messages(role: str, text: str, **extra: Any) -> str:
    return json.dumps([{"role": role, "parts": [{"type": "text", "content": text}], **extra}])


# One model call in each convention: system + user in, assistant out, 7 + 2 tokens, session, user.
CONVENTIONS: dict[str, ReadableSpan] = {
    "otel-attributes": span(
        1,
        **{
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.system_instructions": json.dumps([{"type": "text", "content": SYSTEM}]),
            "gen_ai.input.messages": _messages("user", QUESTION),
            "gen_ai.output.messages": _messages("assistant", ANSWER, finish_reason="stop"),
            "gen_ai.usage.input_tokens": 7,
            "gen_ai.usage.output_tokens": 2,
            "gen_ai.conversation.id": "session-1",
            "user.id": "user-1",
        },
    ),
    "otel-events": span(
        2,
        events=[
            Event("gen_ai.system.message", {"content": SYSTEM}),
            Event("gen_ai.user.message", {"content": QUESTION}),
            Event("gen_ai.choice", {"content": ANSWER, "finish_reason": "stop", "index": 0}),
        ],
        **{
            "gen_ai.operation.name": "chat",
            "gen_ai.system": "openai",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 7,
            "gen_ai.usage.output_tokens": 2,
            "session.id": "session-1",
            "enduser.id": "user-1",
        },
    ),
    "openllmetry": span(
        3,
        name="openai.chat",
        **{
            "llm.request.type": "chat",
            "gen_ai.system": "openai",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.prompt.0.role": "system",
            "gen_ai.prompt.0.content": SYSTEM,
            "gen_ai.prompt.1.role": "user",
            "gen_ai.prompt.1.content": QUESTION,
            "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.content": ANSWER,
            "gen_ai.completion.0.finish_reason": "stop",
            "gen_ai.usage.prompt_tokens": 7,
            "gen_ai.usage.completion_tokens": 2,
            "traceloop.association.properties.session_id": "session-1",
            "traceloop.association.properties.user_id": "user-1",
        },
    ),
    "openinference": span(
        4,
        name="ChatCompletion",
        **{
            "openinference.span.kind": "LLM",
            "llm.provider": "openai",
            "llm.model_name": "gpt-4o",
            "llm.input_messages.0.message.role": "system",
            "llm.input_messages.0.message.content": SYSTEM,
            "llm.input_messages.1.message.role": "user",
            "llm.input_messages.1.message.content": QUESTION,
            "llm.output_messages.0.message.role": "assistant",
            "llm.output_messages.0.message.content": ANSWER,
            "llm.output_messages.0.message.finish_reason": "stop",
            "llm.token_count.prompt": 7,
            "llm.token_count.completion": 2,
            "input.value": QUESTION,
            "output.value": ANSWER,
            "session.id": "session-1",
            "user.id": "user-1",
        },
    ),
}

HELICONE_FORM = {
    "llm.request.type": "chat",
    "gen_ai.system": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.response.model": "gpt-4o",
    "gen_ai.prompt.0.role": "system",
    "gen_ai.prompt.0.content": SYSTEM,
    "gen_ai.prompt.1.role": "user",
    "gen_ai.prompt.1.content": QUESTION,
    "gen_ai.completion.0.role": "assistant",
    "gen_ai.completion.0.content": ANSWER,
    "gen_ai.completion.0.finish_reason": "stop",
    "gen_ai.usage.prompt_tokens": 7,
    "gen_ai.usage.completion_tokens": 2,
    "llm.usage.total_tokens": 9,
    "traceloop.association.properties.Helicone-Session-Id": "session-1",
    "traceloop.association.properties.Helicone-User-Id": "user-1",
}
OTHER_CONVENTIONS_CONTENT = (
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "llm.input_messages.",
    "llm.output_messages.",
    "input.value",
    "output.value",
)


@contextmanager
def exporter_for(recorder: HeliconeRecorder, **options: Any) -> Iterator[HeliconeSpanExporter]:
    options.setdefault("retry_seconds", 0)
    exporter = HeliconeSpanExporter(KEY, recorder.host, **options)
    try:
        yield exporter
    finally:
        exporter.shutdown()


@pytest.mark.parametrize("encoding", ["json", "protobuf"])
@pytest.mark.parametrize("convention", list(CONVENTIONS))
def test_every_convention_arrives_in_the_openllmetry_form_with_model_usage_session_and_user(
    convention: str, encoding: str
) -> None:
    with HeliconeRecorder() as recorder, exporter_for(recorder, encoding=encoding) as exporter:
        exporter.export([CONVENTIONS[convention]])
        assert len(recorder.spans) == 1
        sent = recorder.spans[0]["attributes"]
        assert {key: sent.get(key) for key in HELICONE_FORM} == HELICONE_FORM
        assert not [key for key in sent if key.startswith(OTHER_CONVENTIONS_CONTENT)]  # not sent twice
        assert "gen_ai.user.message" not in recorder.spans[0]["events"]
        assert recorder.paths == [JSON_PATH if encoding == "json" else PROTOBUF_PATH]
        assert exporter.stats.sent_spans == 1


def test_the_json_route_refuses_protobuf_as_helicone_does_and_the_batch_is_counted() -> None:
    with HeliconeRecorder() as recorder, exporter_for(recorder) as exporter:
        exporter.content_type = "application/x-protobuf"
        exporter.encoding = "protobuf"  # the wrong body for /v1/trace/log
        exporter.export([CONVENTIONS["openllmetry"]])
        assert recorder.spans == [] and recorder.attempts[0][0] == 400
        assert exporter.stats.dropped_refused == 1


def test_plain_tool_agent_and_duplicate_spans_are_not_sent_by_default_but_all_sends_every_span() -> None:
    others = [
        span(10, "GET /health", **{"http.route": "/health"}),
        span(11, "execute_tool search", **{"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "s"}),
        span(12, "invoke_agent", **{"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "a"}),
        span(13, "chat", **{"gen_ai.operation.name": "chat", "otel_distro.genai.duplicate_of": "1"}),
    ]
    with HeliconeRecorder() as recorder, exporter_for(recorder) as exporter:
        assert not exporter.wants(others[0]) and not exporter.wants(others[3])
        exporter.export([*others, CONVENTIONS["openllmetry"]])
        assert [s["name"] for s in recorder.spans] == ["openai.chat"]
    with HeliconeRecorder() as recorder, exporter_for(recorder, spans="all") as exporter:
        exporter.export(others)
        sent = {s["name"]: s["attributes"] for s in recorder.spans}
        assert sorted(sent) == sorted(s.name for s in others)
        assert sent["GET /health"] == {"http.route": "/health"}  # sent as it is
        assert "llm.request.type" not in sent["chat"]  # a duplicate is no second model call


def test_session_and_user_seen_on_another_span_of_the_trace_fill_a_call_without_them() -> None:
    call = span(5, parent=1, **{"gen_ai.operation.name": "chat", "gen_ai.request.model": "m"})
    root = span(1, "run", **{"session.id": "s-9", "user.id": "u-9"})
    with HeliconeRecorder() as recorder, exporter_for(recorder) as exporter:
        exporter.export([call, root])  # one batch: the root ended last
        exporter.export([span(6, parent=1, **{"gen_ai.operation.name": "chat"})])  # a later call
        assert len(recorder.spans) == 2
        for sent in recorder.spans:
            attributes = sent["attributes"]
            assert attributes["traceloop.association.properties.Helicone-Session-Id"] == "s-9"
            assert attributes["traceloop.association.properties.Helicone-User-Id"] == "u-9"
            assert attributes["traceloop.association.properties.Helicone-Session-Name"] == "svc"
            assert attributes["traceloop.association.properties.Helicone-Session-Path"] == "/chat"


def test_custom_properties_come_from_settings_resource_association_properties_and_metadata() -> None:
    call = span(
        7,
        resource={"service.name": "svc", "deployment.environment.name": "prod", "service.version": "1.2"},
        **{
            "gen_ai.operation.name": "chat",
            "traceloop.association.properties.tier": "gold",
            "conversation.metadata.channel": "web",
            "conversation.metadata.turn": 3,
            "traceloop.association.properties.Helicone-Property-tier": "explicit",
        },
    )
    with HeliconeRecorder() as recorder, exporter_for(recorder, properties={"team": "ml"}) as exporter:
        exporter.export([call])
        sent = recorder.spans[0]["attributes"]
        prefix = "traceloop.association.properties.Helicone-Property-"
        properties = {k.removeprefix(prefix): v for k, v in sent.items() if k.startswith(prefix)}
        assert properties == {
            "team": "ml",
            "environment": "prod",
            "service": "svc",
            "release": "1.2",
            "tier": "explicit",  # what the app set in Helicone's own form wins
            "channel": "web",
            "turn": "3",
        }


def test_503_and_429_are_retried_then_the_batch_is_delivered() -> None:
    with HeliconeRecorder() as recorder, exporter_for(recorder, retry_seconds=20) as exporter:
        recorder.fail(Fault(503, retry_after="0"), Fault(429, retry_after="0"))
        exporter.export([CONVENTIONS["otel-attributes"]])
        assert [status for status, _ in recorder.attempts] == [503, 429, 200]
        assert exporter.stats.sent_spans == 1 and exporter.stats.dropped_failed == 0


def test_a_batch_too_large_is_halved_until_it_fits() -> None:
    with HeliconeRecorder() as recorder, exporter_for(recorder) as exporter:
        recorder.fail(Fault(413))
        exporter.export([CONVENTIONS["openllmetry"], CONVENTIONS["openinference"]])
        assert [status for status, _ in recorder.attempts] == [413, 200, 200]
        assert exporter.stats.sent_spans == 2


def test_a_wrong_key_gets_401_and_its_spans_are_dropped_counted_and_warned_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with HeliconeRecorder(api_key="sk-helicone-other") as recorder, exporter_for(recorder) as exporter:
        with caplog.at_level(logging.WARNING):
            exporter.export([CONVENTIONS["openllmetry"]])
            exporter.export([CONVENTIONS["openinference"]])
        assert recorder.spans == [] and [status for status, _ in recorder.attempts] == [401, 401]
        assert exporter.stats.dropped_failed == 2
        warnings = [r.getMessage() for r in caplog.records if "Helicone" in r.getMessage()]
        assert len(warnings) == 1 and "HELICONE_API_KEY" in warnings[0]


def test_a_dead_host_costs_the_app_nothing_and_every_span_is_counted() -> None:
    exporter = HeliconeSpanExporter(KEY, f"http://127.0.0.1:{free_port()}", retry_seconds=2)
    processor = HeliconeSpanProcessor(exporter, max_queue_size=20, schedule_delay_millis=10)
    slowest = 0.0
    for index in range(200):
        started = time.perf_counter()
        processor.on_end(span(100 + index, **{"gen_ai.operation.name": "chat"}))
        slowest = max(slowest, time.perf_counter() - started)
    assert slowest < 0.25  # queued or dropped at once, never waiting on the network (2 s of retries)
    started = time.monotonic()
    processor.shutdown()
    assert time.monotonic() - started < 10  # at exit, a host that never answers gets a short try
    drops = processor.drop_counts()
    assert drops["helicone_queue_full"] > 0
    assert sum(drops.values()) + exporter.stats.sent_spans == 200
    assert set(drops) <= {
        f"helicone_{r}" for r in ("queue_full", "shut_down", "lost", "invalid", "failed", "refused")
    }


def test_the_processor_queues_off_the_app_thread_and_a_flush_delivers() -> None:
    with HeliconeRecorder() as recorder:
        exporter = HeliconeSpanExporter(KEY, recorder.host, retry_seconds=0)
        processor = HeliconeSpanProcessor(exporter, schedule_delay_millis=60_000)
        processor.on_end(span(1, "GET /", **{"http.route": "/"}))  # not queued at all
        processor.on_end(CONVENTIONS["otel-events"])
        assert recorder.spans == []
        assert processor.force_flush()
        assert [s["name"] for s in recorder.spans] == ["chat gpt-4o"]
        processor.shutdown()
        assert processor.drop_counts() == dict.fromkeys(
            (
                "helicone_queue_full",
                "helicone_shut_down",
                "helicone_lost",
                "helicone_invalid",
                "helicone_failed",
                "helicone_refused",
            ),
            0,
        )


@pytest.mark.parametrize(
    ("key", "host"),
    [
        ("sk-helicone-eu-aaaaaaa-bbbbbbb-ccccccc-ddddddd", EU_HOST),
        ("pk-helicone-eu-aaaaaaa-bbbbbbb-ccccccc-ddddddd", EU_HOST),
        ("sk-helicone-aaaaaaa-bbbbbbb-ccccccc-ddddddd", DEFAULT_HOST),
        ("pk-helicone-aaaaaaa-bbbbbbb-ccccccc-ddddddd", DEFAULT_HOST),
    ],
)
def test_the_host_follows_the_key_region(key: str, host: str) -> None:
    assert endpoint_url(key) == host + "/v1/trace/log"
    assert endpoint_url(key, encoding="protobuf") == host + "/v1/trace/log-python"
    exporter = HeliconeSpanExporter(key)
    assert exporter.delivery.url == host + "/v1/trace/log"
    assert exporter.delivery.headers["Authorization"] == f"Bearer {key}"


def test_the_base_url_overrides_the_region_and_is_not_given_the_route_twice() -> None:
    eu_key = "sk-helicone-eu-aaaaaaa-bbbbbbb-ccccccc-ddddddd"
    assert endpoint_url(eu_key, "https://helicone.internal/") == "https://helicone.internal/v1/trace/log"
    assert endpoint_url(eu_key, "https://h.internal/v1/trace/log") == "https://h.internal/v1/trace/log"
    with HeliconeRecorder(api_key=eu_key) as recorder:
        exporter = HeliconeSpanExporter(eu_key, recorder.host, retry_seconds=0)
        exporter.export([CONVENTIONS["openllmetry"]])
        exporter.shutdown()
        assert len(recorder.spans) == 1 and recorder.content_types == ["application/json"]

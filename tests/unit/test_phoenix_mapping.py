"""The Phoenix form of GenAI spans: what Phoenix reads, from every convention the GenAI view knows."""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import SpanContext, TraceFlags

from exporters import otlp_json
from exporters.otlp_proto import to_protobuf
from exporters.phoenix import base_url, traces_url
from exporters.phoenix_mapping import (
    PROJECT,
    ProjectResources,
    enrich_traces_data,
    enriched,
    phoenix_span,
    project_of,
)
from exporters.store.decode import decode_attributes

CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "gen_ai.request.temperature": 0.2,
    "gen_ai.usage.input_tokens": 12,
    "gen_ai.usage.output_tokens": 3,
    "gen_ai.response.finish_reasons": ("stop",),
}
EVENTS = [
    ("gen_ai.system.message", {"content": "Answer briefly."}),
    ("gen_ai.user.message", {"content": "Capital of France?"}),
    (
        "gen_ai.choice",
        {
            "index": 0,
            "finish_reason": "stop",
            "message": json.dumps({"role": "assistant", "content": "Paris"}),
        },
    ),
]


def _span(
    attributes: dict[str, Any], events: list[tuple[str, dict[str, Any]]], resource: Resource
) -> ReadableSpan:
    context = SpanContext(0x1234, 0x5678, False, TraceFlags(1))
    return ReadableSpan(
        name="chat gpt-4o",
        context=context,
        resource=resource,
        attributes=attributes,
        events=[Event(name, attrs, timestamp=1) for name, attrs in events],
        start_time=1,
        end_time=2,
    )


def test_a_chat_with_messages_as_events_gets_its_prompt_and_answer_as_attributes() -> None:
    out = enriched(CHAT, EVENTS)
    assert out["openinference.span.kind"] == "LLM"
    assert out["llm.input_messages.0.message.role"] == "system"
    assert out["llm.input_messages.0.message.content"] == "Answer briefly."
    assert out["llm.input_messages.1.message.role"] == "user"
    assert out["llm.input_messages.1.message.content"] == "Capital of France?"
    assert out["llm.output_messages.0.message.role"] == "assistant"
    assert out["llm.output_messages.0.message.content"] == "Paris"
    assert (out["input.value"], out["input.mime_type"]) == ("Capital of France?", "text/plain")
    assert (out["output.value"], out["output.mime_type"]) == ("Paris", "text/plain")
    assert out["llm.model_name"] == "gpt-4o-2024-08-06"
    assert out["llm.provider"] == "openai"
    assert out["llm.token_count.prompt"] == 12
    assert out["llm.token_count.completion"] == 3
    assert out["llm.token_count.total"] == 15
    assert out["llm.finish_reason"] == "stop"
    assert json.loads(str(out["llm.invocation_parameters"])) == {"temperature": 0.2}
    inputs = json.loads(str(out["gen_ai.input.messages"]))
    assert inputs[1] == {"role": "user", "parts": [{"type": "text", "content": "Capital of France?"}]}
    outputs = json.loads(str(out["gen_ai.output.messages"]))
    assert outputs == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Paris"}], "finish_reason": "stop"}
    ]
    assert "gen_ai.response.finish_reasons" not in out  # the span's own is kept


def test_the_operation_details_event_and_tool_calls_are_read_too() -> None:
    details = {
        "gen_ai.input.messages": json.dumps(
            [{"role": "user", "parts": [{"type": "text", "content": "Weather?"}]}]
        ),
        "gen_ai.output.messages": json.dumps(
            [
                {
                    "role": "assistant",
                    "parts": [
                        {"type": "tool_call", "id": "c1", "name": "weather", "arguments": {"city": "Oslo"}}
                    ],
                    "finish_reason": "tool_calls",
                }
            ]
        ),
    }
    out = enriched(
        {"gen_ai.operation.name": "chat"}, [("gen_ai.client.inference.operation.details", details)]
    )
    assert out["llm.input_messages.0.message.content"] == "Weather?"
    prefix = "llm.output_messages.0.message.tool_calls.0.tool_call"
    assert out[f"{prefix}.function.name"] == "weather"
    assert json.loads(str(out[f"{prefix}.function.arguments"])) == {"city": "Oslo"}
    assert out[f"{prefix}.id"] == "c1"
    assert out["llm.finish_reason"] == "tool_calls"
    assert out["output.mime_type"] == "application/json"  # no text: the messages as JSON


def test_agent_and_tool_spans_get_their_kind_name_arguments_and_result() -> None:
    agent = enriched({"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner"}, [])
    assert agent["openinference.span.kind"] == "AGENT" and agent["agent.name"] == "planner"
    tool = enriched(
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "search",
            "gen_ai.tool.call.id": "call-7",
            "gen_ai.tool.call.arguments": '{"q": "otel"}',
            "gen_ai.tool.call.result": "3 hits",
        },
        [],
    )
    assert tool["openinference.span.kind"] == "TOOL" and tool["tool.name"] == "search"
    assert (tool["input.value"], tool["input.mime_type"]) == ('{"q": "otel"}', "application/json")
    assert (tool["output.value"], tool["output.mime_type"]) == ("3 hits", "text/plain")
    assert tool["tool_call.id"] == "call-7"
    assert enriched({"gen_ai.operation.name": "embeddings"}, [])["openinference.span.kind"] == "EMBEDDING"
    assert enriched({"gen_ai.operation.name": "retrieval"}, [])["openinference.span.kind"] == "RETRIEVER"
    assert enriched({"gen_ai.operation.name": "plan_step"}, [])["openinference.span.kind"] == "CHAIN"


def test_what_a_span_already_says_in_phoenix_form_wins_and_plain_spans_are_left_alone() -> None:
    native = {
        "openinference.span.kind": "LLM",
        "llm.model_name": "claude",
        "input.value": '{"raw": "request"}',
        "llm.input_messages.0.message.role": "user",
        "llm.input_messages.0.message.content": "hi",
    }
    out = enriched(native, [])
    assert not set(out) & set(native)
    assert enriched({"http.method": "GET"}, []) == {}


def test_the_project_is_the_one_configured_else_the_resources_else_its_service() -> None:
    assert project_of({"service.name": "svc"}) == "svc"
    assert project_of({"service.name": "svc", PROJECT: "own"}) == "own"
    assert project_of({"service.name": "svc", PROJECT: "own"}, "configured") == "configured"
    assert project_of({}) == "default"
    resources = ProjectResources()
    resource = Resource({"service.name": "chat-app"})
    made = resources(resource)
    assert made.attributes[PROJECT] == "chat-app" and made.attributes["service.name"] == "chat-app"
    assert resources(resource) is made  # made once per resource


def test_a_stored_line_is_enriched_exactly_as_a_live_span_and_still_encodes() -> None:
    resource = Resource({"service.name": "chat-app"})
    span = _span(dict(CHAT), EVENTS, resource)
    live = phoenix_span(span, ProjectResources("proj")(resource))
    line = json.loads(otlp_json.dumps(otlp_json.traces_data([span])))
    enrich_traces_data(line, "proj")
    stored = line["resourceSpans"][0]
    assert decode_attributes(stored["resource"]["attributes"])[PROJECT] == "proj"
    stored_attributes = decode_attributes(stored["scopeSpans"][0]["spans"][0]["attributes"])
    live_attributes = {k: list(v) if isinstance(v, tuple) else v for k, v in (live.attributes or {}).items()}
    assert stored_attributes == live_attributes
    assert len(stored["scopeSpans"][0]["spans"][0]["events"]) == 3  # the events stay
    request = TracesData.FromString(to_protobuf("traces", line))
    assert (
        json_format.MessageToDict(request)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["name"]
        == span.name
    )


def test_the_traces_url_follows_arize_phoenix_otel() -> None:
    assert traces_url("http://127.0.0.1:6006") == "http://127.0.0.1:6006/v1/traces"
    assert traces_url("http://127.0.0.1:6006/") == "http://127.0.0.1:6006/v1/traces"
    assert traces_url("http://127.0.0.1:6006/v1/traces") == "http://127.0.0.1:6006/v1/traces"
    assert (
        traces_url("https://app.phoenix.arize.com/s/my-space")
        == "https://app.phoenix.arize.com/s/my-space/v1/traces"
    )
    assert base_url("http://h:6006/v1/traces/") == "http://h:6006"

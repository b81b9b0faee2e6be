"""The one GenAI view of a span: the same facts from the OTel GenAI conventions (attributes and
events), OpenLLMetry's indexed attributes, and OpenInference's."""

from __future__ import annotations

import json
from typing import Any

import pytest

from instrumentations.genai_view import GenAiView, Message, ToolCall, Usage, genai_view

SYSTEM, QUESTION, ANSWER = "You are terse.", "Where is my parcel?", "It is on its way."

OTEL_ATTRIBUTES: dict[str, Any] = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "gen_ai.system_instructions": json.dumps([{"type": "text", "content": SYSTEM}]),
    "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [{"type": "text", "content": QUESTION}]}]),
    "gen_ai.output.messages": json.dumps(
        [
            {
                "role": "assistant",
                "parts": [
                    {"type": "text", "content": ANSWER},
                    {"type": "tool_call", "name": "track", "arguments": {"id": 7}, "id": "c1"},
                ],
                "finish_reason": "stop",
            }
        ]
    ),
    "gen_ai.usage.input_tokens": 20,
    "gen_ai.usage.output_tokens": 9,
    "gen_ai.usage.cache_read.input_tokens": 4,
    "gen_ai.response.finish_reasons": ("stop",),
    "gen_ai.conversation.id": "s-1",
    "user.id": "u-1",
}
OPENLLMETRY_ATTRIBUTES: dict[str, Any] = {
    "llm.request.type": "chat",
    "gen_ai.system": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "gen_ai.prompt.0.role": "system",
    "gen_ai.prompt.0.content": SYSTEM,
    "gen_ai.prompt.1.role": "user",
    "gen_ai.prompt.1.content": QUESTION,
    "gen_ai.completion.0.role": "assistant",
    "gen_ai.completion.0.content": ANSWER,
    "gen_ai.completion.0.finish_reason": "stop",
    "gen_ai.completion.0.tool_calls.0.name": "track",
    "gen_ai.completion.0.tool_calls.0.arguments": '{"id": 7}',
    "gen_ai.usage.prompt_tokens": 20,
    "gen_ai.usage.completion_tokens": 9,
    "gen_ai.usage.cache_read_input_tokens": 4,
    "traceloop.association.properties.session_id": "s-1",
    "traceloop.association.properties.user_id": "u-1",
}
OPENINFERENCE_ATTRIBUTES: dict[str, Any] = {
    "openinference.span.kind": "LLM",
    "llm.provider": "openai",
    "llm.model_name": "gpt-4o-2024-08-06",
    "llm.input_messages.0.message.role": "system",
    "llm.input_messages.0.message.content": SYSTEM,
    "llm.input_messages.1.message.role": "user",
    "llm.input_messages.1.message.contents.0.message_content.type": "text",
    "llm.input_messages.1.message.contents.0.message_content.text": QUESTION,
    "llm.output_messages.0.message.role": "assistant",
    "llm.output_messages.0.message.content": ANSWER,
    "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "track",
    "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": '{"id": 7}',
    "llm.token_count.prompt": 20,
    "llm.token_count.completion": 9,
    "llm.token_count.prompt_details.cache_read": 4,
    "input.value": json.dumps({"messages": [{"role": "user", "content": QUESTION}]}),
    "input.mime_type": "application/json",
    "session.id": "s-1",
    "user.id": "u-1",
}


@pytest.mark.parametrize(
    ("convention", "attributes"),
    [
        ("otel", OTEL_ATTRIBUTES),
        ("openllmetry", OPENLLMETRY_ATTRIBUTES),
        ("openinference", OPENINFERENCE_ATTRIBUTES),
    ],
)
def test_each_convention_gives_the_same_model_call(convention: str, attributes: dict[str, Any]) -> None:
    view = genai_view(attributes)
    assert view is not None
    assert view.convention == convention
    assert view.operation == "chat" and view.is_model_call
    assert view.provider == "openai"
    assert view.model == "gpt-4o-2024-08-06"
    assert view.system_instructions == SYSTEM
    assert view.user_query == QUESTION and view.response == ANSWER
    assert view.output_messages[0].tool_calls[0].name == "track"
    assert json.loads(view.output_messages[0].tool_calls[0].arguments) == {"id": 7}
    assert view.usage == Usage(input=20, output=9, cached=4, reasoning=None)
    assert view.session_id == "s-1" and view.user_id == "u-1"
    if convention != "openinference":  # OpenInference records no finish reason
        assert view.finish_reasons == ("stop",)


def test_per_message_events_of_the_older_otel_form_are_read() -> None:
    view = genai_view(
        {"gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o", "gen_ai.operation.name": "chat"},
        [
            ("gen_ai.system.message", {"content": SYSTEM}),
            ("gen_ai.user.message", {"content": QUESTION}),
            ("gen_ai.choice", {"index": 0, "finish_reason": "stop", "message": {"content": ANSWER}}),
        ],
    )
    assert view is not None
    assert view.input_messages == (Message("system", SYSTEM), Message("user", QUESTION))
    assert view.output_messages == (Message("assistant", ANSWER, "stop"),)
    assert view.system_instructions == SYSTEM and view.finish_reasons == ("stop",)


def test_the_details_event_with_structured_messages_is_read() -> None:
    view = genai_view(
        {"gen_ai.operation.name": "chat", "gen_ai.request.model": "m"},
        [
            (
                "gen_ai.client.inference.operation.details",
                {
                    "gen_ai.input.messages": [
                        {"role": "user", "parts": [{"type": "text", "content": QUESTION}]}
                    ],
                    "gen_ai.output.messages": [
                        {"role": "assistant", "parts": [{"type": "text", "content": ANSWER}]}
                    ],
                },
            )
        ],
    )
    assert view is not None and view.user_query == QUESTION and view.response == ANSWER


@pytest.mark.parametrize(
    ("kind", "operation"),
    [
        ("TOOL", "execute_tool"),
        ("AGENT", "invoke_agent"),
        ("EMBEDDING", "embeddings"),
        ("RETRIEVER", "retrieval"),
        ("CHAIN", None),
    ],
)
def test_openinference_span_kinds_map_to_operations(kind: str, operation: str | None) -> None:
    view = genai_view(
        {
            "openinference.span.kind": kind,
            "tool.name": "lookup",
            "agent.name": "support",
            "input.value": '{"q": 1}',
            "output.value": "done",
            "session.id": "s-9",
        }
    )
    assert view is not None and view.operation == operation and view.session_id == "s-9"
    if operation == "execute_tool":
        assert (view.tool_name, view.tool_arguments, view.tool_result) == ("lookup", '{"q": 1}', "done")
    if operation == "invoke_agent":
        assert view.agent_name == "support"


def test_otel_tool_and_agent_spans() -> None:
    tool = genai_view(
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "web_search",
            "gen_ai.tool.call.arguments": '{"q": "x"}',
            "gen_ai.tool.call.result": "3 pages",
        }
    )
    agent = genai_view({"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "researcher"})
    assert tool == GenAiView(
        "otel", "execute_tool", tool_name="web_search", tool_arguments='{"q": "x"}', tool_result="3 pages"
    )
    assert agent is not None and agent.agent_name == "researcher" and not agent.is_model_call


def test_a_plain_span_has_no_view_and_tool_calls_in_parts_are_not_text() -> None:
    assert genai_view({"http.method": "GET"}) is None
    view = genai_view(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.output.messages": json.dumps(
                [{"role": "assistant", "parts": [{"type": "tool_call", "name": "f", "arguments": "{}"}]}]
            ),
        }
    )
    assert view is not None
    assert view.output_messages == (Message("assistant", "", None, (ToolCall("f", "{}"),)),)


def test_the_summary_the_store_index_reads_agrees_with_the_view_in_every_convention() -> None:
    import random

    from instrumentations.genai_view import DUPLICATE_OF, genai_summary

    rng = random.Random(5)
    pool: dict[str, list[object]] = {
        "gen_ai.operation.name": ["chat", "embeddings", "", 3, None],
        "gen_ai.request.model": ["gpt-4o-mini", "", None, 7],
        "gen_ai.response.model": ["gpt-4o-mini-2024-07-18", "", None],
        "gen_ai.usage.input_tokens": [12, "40", 3.0, True, None],
        "gen_ai.usage.prompt_tokens": [5, None],
        "gen_ai.usage.output_tokens": [7, None, "x"],
        "gen_ai.usage.cache_read.input_tokens": [2, None],
        "gen_ai.usage.reasoning.output_tokens": [1, None],
        "gen_ai.conversation.id": ["conv-1", "", None],
        "session.id": ["s-9", None, ["a"]],
        "gen_ai.prompt.0.content": ["hi", None],
        "gen_ai.prompt.0.role": ["user", None],
        "llm.request.type": ["chat", None],
        "llm.usage.total_tokens": [9, None],
        "openinference.span.kind": ["LLM", "TOOL", None],
        "llm.model_name": ["claude-3-5-sonnet", None],
        "llm.token_count.prompt": [11, None],
        "gen_ai.input.messages": ['[{"role": "user", "parts": [{"type": "text", "content": "q"}]}]', None],
        DUPLICATE_OF: [None, None, None, "00f067aa0ba902b7"],
        "http.route": ["/chat", None],
    }
    checked = 0
    for _ in range(3000):
        attributes = {key: value for key, values in pool.items() if (value := rng.choice(values)) is not None}
        view = genai_view(attributes)
        summary = genai_summary(attributes)
        if view is None:
            assert summary is None, attributes
            continue
        assert summary is not None, attributes
        assert (summary.operation, summary.model, summary.session_id, summary.usage) == (
            view.operation,
            view.model,
            view.session_id,
            view.usage,
        ), attributes
        checked += 1
    assert checked > 1000

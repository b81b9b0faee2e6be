"""The GenAI view and every exporter's mapping of it take any attribute values a library can
set: odd types, digits int() refuses ("\u00b2"), JSON of the wrong shape, in every convention."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import SpanContext, TraceFlags

from exporters import conversation_records, helicone_mapping, langfuse_mapping, phoenix_mapping
from instrumentations.genai_view import genai_summary, genai_view

ODD = [
    None,
    0,
    -1,
    2**70,
    3.5,
    math.nan,
    math.inf,
    True,
    "",
    "\u00b2",
    "\u0661\u0662",
    "12",
    " 12",
    "x",
    "[]",
    "{}",
    "[1,2]",
    '{"a":1}',
    '[{"role": 3, "parts": 5}]',
    '[{"role":"user","parts":[{"type":"tool_call","arguments":"{","name":7}]}]',
    '[{"role":"assistant","tool_calls":3}]',
    '[{"role":"assistant","tool_calls":[3,{"function":5}]}]',
    '[{"role":"user","content":[{"type":"text","text":5},{"type":"image"},7]}]',
    '"just a string"',
    "null",
    "[null]",
    (1, 2),
    ("a", "b"),
    (True,),
    ("[", "]"),
    b"bytes",
    '[{"parts":[{"type":"text","content":{"x":1}}]}]',
    '[{"role":"user","parts":"notalist"}]',
    '[{"role":"tool","parts":[{"type":"tool_call_response","response":{"a":[1]}}]}]',
]
KEYS = [
    "gen_ai.operation.name",
    "gen_ai.provider.name",
    "gen_ai.system",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.prompt_tokens",
    "gen_ai.usage.completion_tokens",
    "gen_ai.usage.cache_read_input_tokens",
    "gen_ai.usage.reasoning.output_tokens",
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.conversation.id",
    "gen_ai.agent.name",
    "gen_ai.tool.name",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
    "gen_ai.response.finish_reasons",
    "gen_ai.prompt.0.content",
    "gen_ai.prompt.0.role",
    "gen_ai.completion.0.content",
    "gen_ai.completion.0.tool_calls.0.name",
    "gen_ai.completion.0.tool_calls.0.arguments",
    "gen_ai.prompt.1.tool_calls.0.arguments",
    "llm.request.type",
    "openinference.span.kind",
    "llm.model_name",
    "llm.input_messages.0.message.content",
    "llm.input_messages.0.message.role",
    "llm.output_messages.0.message.content",
    "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments",
    "llm.token_count.prompt",
    "llm.token_count.completion",
    "input.value",
    "output.value",
    "llm.invocation_parameters",
    "session.id",
    "user.id",
    "tool.name",
    "tool.parameters",
    "llm.tools.0.tool.json_schema",
]
EVENTS = [
    "gen_ai.user.message",
    "gen_ai.choice",
    "gen_ai.system.message",
    "gen_ai.tool.message",
    "gen_ai.assistant.message",
    "gen_ai.client.inference.operation.details",
]


def _odd_spans(seed: int, count: int) -> list[tuple[dict[str, Any], list[Event]]]:
    rng = random.Random(seed)
    spans = []
    for _ in range(count):
        attrs: dict[str, Any] = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "m"}
        for key in rng.sample(KEYS, rng.randrange(1, 10)):
            value = rng.choice(ODD)
            if value is not None:
                attrs[key] = value
        events = []
        for _ in range(rng.randrange(0, 3)):
            keys = ["content", "message", "role", "index", "finish_reason", "tool_calls", "id"]
            event_attrs = {
                key: value
                for key in rng.sample(keys, rng.randrange(1, 4))
                if (value := rng.choice(ODD)) is not None
            }
            events.append(Event(rng.choice(EVENTS), event_attrs))
        spans.append((attrs, events))
    return spans


@pytest.mark.parametrize("seed", [1, 2])
def test_odd_genai_values_in_any_convention_raise_nowhere(seed: int) -> None:
    context = SpanContext(1, 2, False, TraceFlags(TraceFlags.SAMPLED))
    for attrs, events in _odd_spans(seed, 1500):
        span = ReadableSpan(
            name="chat m", context=context, attributes=attrs, events=events, resource=Resource({})
        )
        pairs = [(event.name, event.attributes) for event in events]
        view = genai_view(attrs, pairs)
        genai_summary(attrs)
        conversation_records.records(conversation_records.snapshot(span))
        langfuse_mapping.span_attributes(span, True)
        helicone_view = helicone_mapping.view_of(span)
        if helicone_view is not None:
            helicone_mapping.helicone_attributes(span, helicone_view)
        if view is not None:
            phoenix_mapping.phoenix_attributes(attrs, view)


def test_a_token_count_in_digits_int_refuses_is_no_count_and_odd_tool_calls_are_none() -> None:
    attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "m",
        "gen_ai.usage.input_tokens": "\u00b2",
    }
    attrs["gen_ai.output.messages"] = '[{"role": "assistant", "tool_calls": 3}]'
    view = genai_view(attrs)
    assert view is not None and view.usage.input is None
    assert all(not message.tool_calls for message in view.output_messages)

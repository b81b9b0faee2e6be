"""Spans in every GenAI semantic-convention form map to the right conversation turn and execution trace."""

from __future__ import annotations

import json
from typing import Any

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from exporters.conversation_records import (
    CONVERSATION_LOG,
    EXECUTION_TRACE,
    carries_messages,
    conversation_log,
    execution_trace,
    log_id,
    records,
    snapshot,
    stored_snapshots,
)
from exporters.otlp_json import traces_line

TRACE_ID = 0x0AF7651916CD43DD8448EB211C80319C
SPAN_ID = 0xB7AD6B7169203331
START = 1_700_000_000_000_000_000
END = START + 250_000_000  # 250 ms


def make_span(
    name: str = "chat gpt-4o",
    attributes: dict[str, Any] | None = None,
    events: list[Event] | None = None,
    *,
    trace_id: int = TRACE_ID,
    span_id: int = SPAN_ID,
    status: Status | None = None,
    parent: SpanContext | None = None,
) -> ReadableSpan:
    context = SpanContext(trace_id, span_id, is_remote=False, trace_flags=TraceFlags(TraceFlags.SAMPLED))
    return ReadableSpan(
        name,
        context=context,
        parent=parent,
        resource=Resource.create({"service.name": "assistant"}),
        attributes=attributes or {},
        events=events or [],
        kind=SpanKind.CLIENT,
        status=status or Status(StatusCode.UNSET),
        start_time=START,
        end_time=END,
    )


CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "gen_ai.usage.input_tokens": 12,
    "gen_ai.usage.output_tokens": 34,
    "gen_ai.conversation.id": "conv-1",
}

INPUT_MESSAGES: Any = [
    {"role": "system", "parts": [{"type": "text", "content": "You are terse."}]},
    {"role": "user", "parts": [{"type": "text", "content": "What is OTel?"}]},
    {"role": "assistant", "parts": [{"type": "text", "content": "A telemetry standard."}]},
    {
        "role": "user",
        "parts": [
            {"type": "text", "content": "And its GenAI conventions?"},
            {"type": "image", "uri": "https://example.invalid/x.png"},
        ],
    },
]
OUTPUT_MESSAGES: Any = [
    {
        "role": "assistant",
        "parts": [
            {"type": "text", "content": "They name model calls."},
            {"type": "tool_call", "id": "c1", "name": "search", "arguments": {"q": "otel"}},
        ],
        "finish_reason": "stop",
    },
    {
        "role": "assistant",
        "parts": [{"type": "text", "content": "Second choice."}],
        "finish_reason": "length",
    },
]


def turn(span: ReadableSpan) -> dict[str, Any]:
    found = conversation_log(span)
    assert found is not None
    return found


# -- the forms a turn can take ---------------------------------------------------------------


def test_per_message_events_give_last_user_message_and_first_choice() -> None:
    span = make_span(
        attributes=CHAT,
        events=[
            Event("gen_ai.system.message", {"content": "You are terse."}),
            Event("gen_ai.user.message", {"content": "first question"}),
            Event("gen_ai.assistant.message", {"content": "first answer"}),
            Event("gen_ai.tool.message", {"content": "tool output", "id": "call-1"}),
            Event("gen_ai.user.message", {"content": "second question"}),
            Event(
                "gen_ai.choice",
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": json.dumps({"role": "assistant", "content": "second answer"}),
                },
            ),
            Event(
                "gen_ai.choice",
                {"index": 1, "finish_reason": "length", "message": {"content": "other answer"}},
            ),
        ],
    )
    found = turn(span)
    assert found["user_query"] == "second question"
    assert found["system_response"] == "second answer"
    assert found["metadata"]["finish_reasons"] == ["stop", "length"]


def test_system_message_alone_is_not_a_user_query() -> None:
    span = make_span(
        attributes=CHAT,
        events=[
            Event("gen_ai.system.message", {"content": "You are terse."}),
            Event("gen_ai.choice", {"finish_reason": "stop", "message": {"content": "Hello."}}),
        ],
    )
    found = turn(span)
    assert found["user_query"] == ""
    assert found["system_response"] == "Hello."


def test_choice_message_given_as_a_mapping_or_as_plain_content() -> None:
    as_mapping = make_span(
        events=[
            Event("gen_ai.user.message", {"content": "q"}),
            Event("gen_ai.choice", {"message": {"role": "assistant", "content": "mapped"}}),
        ]
    )
    as_content = make_span(
        events=[Event("gen_ai.user.message", {"content": "q"}), Event("gen_ai.choice", {"content": "plain"})]
    )
    assert turn(as_mapping)["system_response"] == "mapped"
    assert turn(as_content)["system_response"] == "plain"


def test_operation_details_event_with_input_and_output_messages_json() -> None:
    span = make_span(
        attributes=CHAT,
        events=[
            Event(
                "gen_ai.client.inference.operation.details",
                {
                    "gen_ai.input.messages": json.dumps(INPUT_MESSAGES),
                    "gen_ai.output.messages": json.dumps(OUTPUT_MESSAGES),
                },
            )
        ],
    )
    found = turn(span)
    assert found["user_query"] == "And its GenAI conventions?"  # the image part is not text
    assert found["system_response"] == "They name model calls."  # the tool call part is not text
    assert found["metadata"]["finish_reasons"] == ["stop", "length"]


def test_operation_details_event_with_structured_message_values() -> None:
    span = make_span(
        attributes=CHAT,
        events=[
            Event(
                "gen_ai.client.inference.operation.details",
                {"gen_ai.input.messages": INPUT_MESSAGES, "gen_ai.output.messages": OUTPUT_MESSAGES},
            )
        ],
    )
    found = turn(span)
    assert found["user_query"] == "And its GenAI conventions?"
    assert found["system_response"] == "They name model calls."


def test_input_and_output_messages_as_span_attributes() -> None:
    span = make_span(
        attributes={
            **CHAT,
            "gen_ai.input.messages": json.dumps(INPUT_MESSAGES),
            "gen_ai.output.messages": json.dumps(OUTPUT_MESSAGES),
        }
    )
    found = turn(span)
    assert found["user_query"] == "And its GenAI conventions?"
    assert found["system_response"] == "They name model calls."


def test_output_messages_attribute_alone_gives_a_turn_with_only_a_response() -> None:
    span = make_span(attributes={"gen_ai.output.messages": json.dumps(OUTPUT_MESSAGES[:1])})
    found = turn(span)
    assert found["user_query"] == ""
    assert found["system_response"] == "They name model calls."


TURN_FORMS = {
    "input messages attribute": make_span(attributes={"gen_ai.input.messages": json.dumps(INPUT_MESSAGES)}),
    "output messages attribute": make_span(
        attributes={"gen_ai.output.messages": json.dumps(OUTPUT_MESSAGES)}
    ),
    "user message event": make_span(events=[Event("gen_ai.user.message", {"content": "q"})]),
    "choice event": make_span(events=[Event("gen_ai.choice", {"message": {"content": "a"}})]),
    "details event": make_span(
        events=[
            Event(
                "gen_ai.client.inference.operation.details",
                {"gen_ai.output.messages": json.dumps(OUTPUT_MESSAGES)},
            )
        ]
    ),
}


@pytest.mark.parametrize("form", TURN_FORMS)
def test_every_span_that_yields_a_turn_passes_the_app_thread_screen(form: str) -> None:
    """``carries_messages`` decides on the app thread which spans reach the exporter at all:
    a span the mapping turns into a conversation log must not be screened out."""
    span = TURN_FORMS[form]
    assert conversation_log(span) is not None
    assert carries_messages(span)


def test_spans_without_genai_data_are_screened_out() -> None:
    plain = make_span("GET /health", attributes={"http.method": "GET"}, events=[Event("retry", {})])
    assert not carries_messages(plain)


# -- the fields of a turn --------------------------------------------------------------------


def test_session_id_from_conversation_id_else_session_id() -> None:
    events = [Event("gen_ai.user.message", {"content": "q"})]
    both = make_span(attributes={"gen_ai.conversation.id": "conv-9", "session.id": "sess-1"}, events=events)
    session_only = make_span(attributes={"session.id": "sess-1"}, events=events)
    neither = make_span(events=events)
    assert turn(both)["session_id"] == "conv-9"
    assert turn(session_only)["session_id"] == "sess-1"
    assert turn(neither)["session_id"] is None


def test_metadata_names_model_provider_operation_usage_and_ids() -> None:
    span = make_span(
        attributes={
            **CHAT,
            "gen_ai.usage.cache_read.input_tokens": 4,
            "gen_ai.response.finish_reasons": ("stop",),
        },
        events=[
            Event("gen_ai.user.message", {"content": "q"}),
            Event("gen_ai.choice", {"finish_reason": "length", "message": {"content": "a"}}),
        ],
    )
    found = turn(span)
    metadata = found["metadata"]
    assert metadata["model"] == "gpt-4o-2024-08-06"  # the response model wins over the request's
    assert metadata["provider"] == "openai"
    assert metadata["operation"] == "chat"
    assert metadata["usage"] == {"input_tokens": 12, "output_tokens": 34, "cache_read.input_tokens": 4}
    assert metadata["finish_reasons"] == ["stop"]  # the span's own list wins
    assert metadata["trace_id"] == f"{TRACE_ID:032x}"
    assert metadata["span_id"] == f"{SPAN_ID:016x}"
    assert found["timestamp"].startswith("2023-11-14T22:13:20.25")
    json.dumps(found)  # a record is plain JSON


def test_request_model_and_legacy_system_when_newer_keys_are_missing() -> None:
    span = make_span(
        attributes={"gen_ai.request.model": "claude-3", "gen_ai.system": "anthropic"},
        events=[Event("gen_ai.user.message", {"content": "q"})],
    )
    metadata = turn(span)["metadata"]
    assert metadata["model"] == "claude-3"
    assert metadata["provider"] == "anthropic"


def test_log_id_is_stable_for_a_span_and_differs_between_spans() -> None:
    events = [Event("gen_ai.user.message", {"content": "q"})]
    first = make_span(attributes=CHAT, events=events)
    again = make_span(attributes=CHAT, events=events)
    other_span = make_span(attributes=CHAT, events=events, span_id=SPAN_ID + 1)
    other_trace = make_span(attributes=CHAT, events=events, trace_id=TRACE_ID + 1)
    assert turn(first)["log_id"] == turn(again)["log_id"] == log_id(first)
    assert len({log_id(first), log_id(other_span), log_id(other_trace)}) == 3


def test_no_turn_without_messages() -> None:
    assert conversation_log(make_span(attributes=CHAT)) is None
    assert conversation_log(make_span(attributes=CHAT, events=[Event("gen_ai.user.message", {})])) is None
    empty_lists = make_span(
        attributes={**CHAT, "gen_ai.input.messages": "[]", "gen_ai.output.messages": "[]"}
    )
    assert conversation_log(empty_lists) is None


@pytest.mark.parametrize("text", ["true", "null", "1e5", '"quoted"', "[1, 2]", '{"name": "Ada", "age": 36}'])
def test_plain_text_that_happens_to_parse_as_json_is_kept_verbatim(text: str) -> None:
    """A user's message is text: a JSON value or document the user typed must not be mangled
    into something else (``[1, 2]`` -> ``1\\n2``) or vanish (``{"name": ...}`` -> empty)."""
    span = make_span(
        events=[
            Event("gen_ai.user.message", {"content": text}),
            Event("gen_ai.choice", {"message": {"content": "ok"}}),
        ]
    )
    assert turn(span)["user_query"] == text


def test_a_snapshot_after_a_json_round_trip_maps_like_the_span() -> None:
    """The exporter keeps snapshots on disk and maps them when it sends: same records either way."""
    parent = SpanContext(TRACE_ID, 0x1111111111111111, is_remote=False)
    span = make_span(
        attributes={**CHAT, "gen_ai.response.finish_reasons": ("stop",), "session.id": "s"},
        events=[
            Event("gen_ai.system.message", {"content": "sys"}),
            Event("gen_ai.user.message", {"content": "q"}),
            Event("gen_ai.choice", {"finish_reason": "stop", "message": {"content": "a"}}),
            Event("exception", {"exception.type": "ValueError", "exception.message": "boom"}),
        ],
        status=Status(StatusCode.ERROR),
        parent=parent,
    )
    stored = json.loads(json.dumps(snapshot(span)))
    for selection in ("genai", "all", "none"):
        assert records(stored, selection) == records(span, selection)
    assert log_id(stored) == log_id(span)


# -- execution traces ------------------------------------------------------------------------


def test_execution_trace_selection_genai_all_none() -> None:
    genai = make_span(attributes=CHAT)
    agent = make_span("invoke_agent planner", attributes={"gen_ai.operation.name": "invoke_agent"})
    tool = make_span("execute_tool search", attributes={"gen_ai.operation.name": "execute_tool"})
    plain = make_span("GET /health", attributes={"http.method": "GET"})

    def kinds(span: ReadableSpan, selection: str) -> list[str]:
        return [kind for kind, _ in records(span, selection)]

    for span in (genai, agent, tool):
        assert kinds(span, "genai") == [EXECUTION_TRACE]
    assert kinds(plain, "genai") == []
    assert kinds(plain, "all") == [EXECUTION_TRACE]
    assert kinds(genai, "none") == []
    with_turn = make_span(attributes=CHAT, events=[Event("gen_ai.user.message", {"content": "q"})])
    assert kinds(with_turn, "genai") == [CONVERSATION_LOG, EXECUTION_TRACE]
    assert kinds(with_turn, "none") == [CONVERSATION_LOG]


def test_execution_trace_fields_of_a_successful_span() -> None:
    parent = SpanContext(TRACE_ID, 0x1111111111111111, is_remote=False)
    record = execution_trace(make_span(attributes=CHAT, parent=parent))
    assert record["trace_id"] == f"{TRACE_ID:032x}"
    assert record["request_id"] == f"{SPAN_ID:016x}"
    assert record["service"] == "assistant"
    assert record["method"] == "chat gpt-4o"
    assert record["duration_ms"] == 250.0
    assert record["success"] is True
    assert record["error"] is None
    assert record["metadata"]["parent_span_id"] == "1111111111111111"
    assert record["metadata"]["operation"] == "chat"
    json.dumps(record)


def test_error_span_gives_success_false_and_the_error_text() -> None:
    described = make_span(attributes=CHAT, status=Status(StatusCode.ERROR, "rate limited by provider"))
    from_exception = make_span(
        attributes={**CHAT, "error.type": "TimeoutError"},
        events=[
            Event("exception", {"exception.type": "TimeoutError", "exception.message": "read timed out"})
        ],
        status=Status(StatusCode.ERROR),
    )
    bare = make_span(attributes=CHAT, status=Status(StatusCode.ERROR))
    assert execution_trace(described)["success"] is False
    assert execution_trace(described)["error"] == "rate limited by provider"
    record = execution_trace(from_exception)
    assert record["success"] is False
    assert record["error"] == "read timed out"
    assert record["metadata"]["error_type"] == "TimeoutError"
    assert execution_trace(bare)["error"]  # some text, never empty for a failure


def test_a_failed_call_gives_a_turn_with_the_error_and_no_empty_response() -> None:
    """A receiver must tell a failed turn (no answer came) from a model that answered ``""``."""
    failed = make_span(
        attributes={**CHAT, "error.type": "RateLimitError"},
        events=[
            Event("gen_ai.user.message", {"content": "Summarise the report"}),
            Event("exception", {"exception.type": "RateLimitError", "exception.message": "quota exceeded"}),
        ],
        status=Status(StatusCode.ERROR),
    )
    record = turn(failed)
    assert record["user_query"] == "Summarise the report"
    assert record["system_response"] is None
    assert record["status"] == "error"
    assert record["error"] == "quota exceeded"
    assert record["metadata"]["error_type"] == "RateLimitError"
    described = make_span(
        attributes=CHAT,
        events=[Event("gen_ai.user.message", {"content": "q"})],
        status=Status(StatusCode.ERROR, "upstream 503"),
    )
    assert turn(described)["error"] == "upstream 503"
    json.dumps(record)


def test_an_empty_answer_stays_an_empty_string_with_status_ok() -> None:
    empty = make_span(
        attributes=CHAT,
        events=[
            Event("gen_ai.user.message", {"content": "Say nothing"}),
            Event("gen_ai.choice", {"finish_reason": "stop", "message": {"content": ""}}),
        ],
    )
    record = turn(empty)
    assert record["system_response"] == ""
    assert record["status"] == "ok"
    assert record["error"] is None
    assert "error_type" not in record["metadata"]


def test_a_failed_call_that_answered_in_part_keeps_the_partial_answer_and_the_error() -> None:
    partial = make_span(
        attributes={**CHAT, "gen_ai.output.messages": json.dumps(OUTPUT_MESSAGES[:1])},
        events=[Event("gen_ai.user.message", {"content": "q"})],
        status=Status(StatusCode.ERROR, "stream cut"),
    )
    record = turn(partial)
    assert record["system_response"] == "They name model calls."
    assert (record["status"], record["error"]) == ("error", "stream cut")


def test_a_failed_turn_read_back_from_the_store_keeps_its_error() -> None:
    """The exporter follows the store's OTLP/JSON lines: the error survives that path too."""
    failed = make_span(
        attributes=CHAT,
        events=[
            Event("gen_ai.user.message", {"content": "q"}),
            Event("exception", {"exception.type": "TimeoutError", "exception.message": "read timed out"}),
        ],
        status=Status(StatusCode.ERROR),
    )
    (stored,) = stored_snapshots(json.loads(traces_line([failed])))
    assert conversation_log(stored) == conversation_log(failed)
    record = turn(failed)
    assert (record["status"], record["error"], record["system_response"]) == ("error", "read timed out", None)


# -- odd inputs never raise ------------------------------------------------------------------

ODD_VALUES: list[Any] = [
    "",
    "not json {",
    "{broken",
    '[{"role": "user"',
    "42",
    42,
    3.5,
    True,
    [],
    [[]],
    [[{"role": "user", "content": "nested"}]],
    [["a", "b"], ["c"]],
    {"role": "user"},
    {"parts": None},
    {"parts": [None, 3, {"type": None, "content": "x"}]},
    [{"role": None, "parts": [{"content": {"text": {"message": "deep"}}}]}],
    "[" * 5000 + "]" * 5000,  # deeply nested JSON text
    '[1, 2, "x"]',
    ["plain", "strings"],
    b"bytes",
]


@pytest.mark.parametrize("value", ODD_VALUES, ids=lambda value: repr(value)[:30])
def test_odd_values_in_every_form_never_raise(value: Any) -> None:
    spans = [
        make_span(attributes={**CHAT, "gen_ai.input.messages": value, "gen_ai.output.messages": value}),
        make_span(
            attributes=CHAT,
            events=[
                Event("gen_ai.user.message", {"content": value}),
                Event("gen_ai.system.message", {"content": value}),
                Event("gen_ai.choice", {"message": value, "finish_reason": value}),
                Event(
                    "gen_ai.client.inference.operation.details",
                    {"gen_ai.input.messages": value, "gen_ai.output.messages": value},
                ),
            ],
        ),
        make_span(attributes={**CHAT, "gen_ai.response.finish_reasons": value, "session.id": value}),
    ]
    for span in spans:
        carries_messages(span)
        for selection in ("genai", "all", "none"):
            for _, record in records(span, selection):
                json.dumps(record, default=str)


def test_openllmetry_and_openinference_spans_give_turns_with_usage_and_the_system_instructions() -> None:
    from instrumentations.genai_view import DUPLICATE_OF

    base = {"trace_id": "ab" * 16, "span_id": "cd" * 8, "parent_span_id": None, "name": "x", "kind": "CLIENT"}
    base |= {"start": START, "end": END, "error": False, "description": None, "service": "svc", "events": []}
    openllmetry = {
        "llm.request.type": "chat",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.prompt.0.role": "system",
        "gen_ai.prompt.0.content": "Be brief.",
        "gen_ai.prompt.1.role": "user",
        "gen_ai.prompt.1.content": "Hi?",
        "gen_ai.completion.0.content": "Hello.",
        "gen_ai.completion.0.finish_reason": "stop",
        "gen_ai.usage.prompt_tokens": 7,
        "gen_ai.usage.completion_tokens": 2,
    }
    openinference = {
        "openinference.span.kind": "LLM",
        "llm.model_name": "gpt-4o",
        "llm.input_messages.0.message.role": "user",
        "llm.input_messages.0.message.content": "Hi?",
        "llm.output_messages.0.message.content": "Hello.",
        "llm.token_count.prompt": 7,
        "llm.token_count.completion": 2,
        "session.id": "s-1",
    }
    for attributes in (openllmetry, openinference):
        turn = conversation_log({**base, "attributes": attributes})
        assert turn is not None
        assert (turn["user_query"], turn["system_response"]) == ("Hi?", "Hello.")
        assert turn["metadata"]["model"] == "gpt-4o"
        assert turn["metadata"]["usage"] == {"input_tokens": 7, "output_tokens": 2}
        assert records({**base, "attributes": attributes})[1][0] == EXECUTION_TRACE
    assert (
        conversation_log({**base, "attributes": openllmetry})["metadata"]["system_instructions"]
        == "Be brief."
    )
    assert conversation_log({**base, "attributes": openinference})["session_id"] == "s-1"
    # the second record of one call (another instrumentation's) gives no second turn
    assert conversation_log({**base, "attributes": {**openllmetry, DUPLICATE_OF: "ef" * 8}}) is None

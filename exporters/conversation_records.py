"""Conversation-log and execution-trace records, mapped from spans in the GenAI semantic conventions.

A span yields a ``ConversationLog`` (one turn) when it carries messages in any of the forms
the conventions have used: per-message events (``gen_ai.user.message``,
``gen_ai.system.message``, ``gen_ai.assistant.message``, ``gen_ai.tool.message``,
``gen_ai.choice``), the ``gen_ai.client.inference.operation.details`` event, or the
``gen_ai.input.messages`` / ``gen_ai.output.messages`` attributes (JSON with ``role`` and
``parts``). ``user_query`` is the text of the last user message, ``system_response`` the
text of the first output message. A span the selection admits also yields an
``ExecutionTrace``. The spans given here are already redacted and hashed.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

CONVERSATION_LOG = "conversation_log"
EXECUTION_TRACE = "execution_trace"
MESSAGE_EVENTS = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
CHOICE_EVENT = "gen_ai.choice"
DETAILS_EVENT = "gen_ai.client.inference.operation.details"
INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
OPERATION = "gen_ai.operation.name"
_TURN_EVENTS = frozenset({*MESSAGE_EVENTS, CHOICE_EVENT, DETAILS_EVENT})
SELECTIONS = ("genai", "all", "none")
_LOG_ID_NAMESPACE = uuid.UUID("6f0c1d2e-7b1a-4c55-9a3e-0d15c0a1f7e2")
_USAGE_KEYS = (
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.reasoning.output_tokens",
)


def _iso(nanos: int | None) -> str | None:
    if nanos is None:
        return None
    return dt.datetime.fromtimestamp(nanos / 1e9, dt.UTC).isoformat(timespec="microseconds")


def _ids(span: ReadableSpan) -> tuple[str, str]:
    context = span.context
    return (f"{context.trace_id:032x}", f"{context.span_id:016x}") if context else ("", "")


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value  # not JSON (or spoiled): the text itself
    return value


def _text(content: Any) -> str:
    """The text of a message's content, in any of the shapes the conventions allow."""
    content = _json(content)
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):
        if "parts" in content:
            return _text(content["parts"])
        for key in ("content", "text", "message"):
            if key in content:
                return _text(content[key])
        return ""
    if isinstance(content, Sequence):
        texts = []
        for part in content:
            if isinstance(part, Mapping) and part.get("type", "text") not in ("text", None):
                continue  # tool calls, images, blobs: not conversation text
            text = _text(part)
            if text:
                texts.append(text)
        return "\n".join(texts)
    return str(content)


def _messages(value: Any) -> list[tuple[str, str, Any]]:
    """(role, text, finish_reason) of each message in a ``gen_ai.*.messages`` value."""
    value = _json(value)
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, Sequence) or isinstance(value, str):
        return [("user", value, None)] if isinstance(value, str) and value else []
    found = []
    for message in value:
        if isinstance(message, Mapping):
            found.append((str(message.get("role", "")), _text(message), message.get("finish_reason")))
        elif isinstance(message, str):
            found.append(("", message, None))
    return found


def _turn(span: ReadableSpan) -> tuple[list[tuple[str, str]], list[tuple[str, str, Any]]]:
    """The input messages (role, text) and output messages (role, text, finish) a span carries."""
    inputs: list[tuple[str, str]] = []
    outputs: list[tuple[str, str, Any]] = []
    attributes = span.attributes or {}
    for event in span.events:
        attrs = event.attributes or {}
        if event.name in MESSAGE_EVENTS:
            inputs.append((MESSAGE_EVENTS[event.name], _text(attrs.get("content", attrs.get("message")))))
        elif event.name == CHOICE_EVENT:
            message = attrs.get("message", attrs.get("content"))
            outputs.append(("assistant", _text(message), attrs.get("finish_reason")))
        elif event.name == DETAILS_EVENT:
            inputs += [(role, text) for role, text, _ in _messages(attrs.get(INPUT_MESSAGES))]
            outputs += _messages(attrs.get(OUTPUT_MESSAGES))
    if not inputs and INPUT_MESSAGES in attributes:
        inputs = [(role, text) for role, text, _ in _messages(attributes[INPUT_MESSAGES])]
    if not outputs and OUTPUT_MESSAGES in attributes:
        outputs = _messages(attributes[OUTPUT_MESSAGES])
    return inputs, outputs


def carries_messages(span: ReadableSpan) -> bool:
    """Cheap test (app thread) for a span the mapping can use."""
    attributes = span._attributes
    if attributes and (OPERATION in attributes or INPUT_MESSAGES in attributes):
        return True
    return any(
        event._name in MESSAGE_EVENTS or event._name in (CHOICE_EVENT, DETAILS_EVENT)
        for event in span._events
    )


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence):
        return [str(item) for item in value]
    return []


def _metadata(span: ReadableSpan) -> dict[str, Any]:
    attributes = span.attributes or {}
    trace_id, span_id = _ids(span)
    metadata: dict[str, Any] = {
        "model": attributes.get("gen_ai.response.model") or attributes.get("gen_ai.request.model"),
        "provider": attributes.get("gen_ai.provider.name") or attributes.get("gen_ai.system"),
        "operation": attributes.get(OPERATION),
        "usage": {
            key.removeprefix("gen_ai.usage."): attributes[key] for key in _USAGE_KEYS if key in attributes
        },
        "finish_reasons": _strings(attributes.get("gen_ai.response.finish_reasons")),
        "trace_id": trace_id,
        "span_id": span_id,
    }
    for key, name in (("gen_ai.agent.name", "agent"), ("gen_ai.tool.name", "tool")):
        if key in attributes:
            metadata[name] = attributes[key]
    return metadata


def log_id(span: ReadableSpan) -> str:
    """Stable per turn: the same span always maps to the same id, so receivers can drop repeats."""
    trace_id, span_id = _ids(span)
    return str(uuid.uuid5(_LOG_ID_NAMESPACE, f"{trace_id}-{span_id}"))


def conversation_log(span: ReadableSpan) -> dict[str, Any] | None:
    """The turn this span records, or ``None`` when it carries no user query and no response."""
    inputs, outputs = _turn(span)
    user_query = next((text for role, text in reversed(inputs) if role == "user"), "")
    system_response = outputs[0][1] if outputs else ""
    if not user_query and not system_response:
        return None
    attributes = span.attributes or {}
    metadata = _metadata(span)
    if not metadata["finish_reasons"]:
        metadata["finish_reasons"] = [str(reason) for _, _, reason in outputs if reason]
    session = attributes.get("gen_ai.conversation.id") or attributes.get("session.id")
    return {
        "log_id": log_id(span),
        "session_id": str(session) if session is not None else None,
        "user_query": user_query,
        "system_response": system_response,
        "metadata": metadata,
        "timestamp": _iso(span.end_time),
    }


def selected(span: ReadableSpan, selection: str) -> bool:
    """Whether the span gets an execution trace: GenAI operations (agent runs and tool calls
    included, as the conventions name them all by ``gen_ai.operation.name``), all, or none."""
    if selection == "all":
        return True
    if selection == "none":
        return False
    return OPERATION in (span.attributes or {})


def execution_trace(span: ReadableSpan) -> dict[str, Any]:
    """The execution record of one span."""
    trace_id, span_id = _ids(span)
    failed = span.status.status_code is StatusCode.ERROR
    error = None
    if failed:
        error = span.status.description or next(
            (
                str(
                    (event.attributes or {}).get("exception.message")
                    or (event.attributes or {}).get("exception.type")
                )
                for event in span.events
                if event.name == "exception"
            ),
            "error",
        )
    start, end = span.start_time or 0, span.end_time or span.start_time or 0
    attributes = span.attributes or {}
    return {
        "trace_id": trace_id,
        "request_id": span_id,
        "service": span.resource.attributes.get("service.name"),
        "method": span.name,
        "duration_ms": round((end - start) / 1e6, 3),
        "success": not failed,
        "error": error,
        "metadata": {
            **_metadata(span),
            "parent_span_id": f"{span.parent.span_id:016x}" if span.parent else None,
            "kind": span.kind.name,
            "error_type": attributes.get("error.type"),
        },
        "timestamp": _iso(span.start_time),
    }


def records(span: ReadableSpan, selection: str = "genai") -> list[tuple[str, dict[str, Any]]]:
    """Every record a span yields, as (type, record)."""
    found: list[tuple[str, dict[str, Any]]] = []
    turn = conversation_log(span)
    if turn is not None:
        found.append((CONVERSATION_LOG, turn))
    if selected(span, selection):
        found.append((EXECUTION_TRACE, execution_trace(span)))
    return found

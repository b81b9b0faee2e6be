"""Conversation-log and execution-trace records, mapped from spans in the GenAI semantic conventions.

A span yields a ``ConversationLog`` (one turn) when it carries messages in any of the forms
the conventions have used: per-message events (``gen_ai.user.message``,
``gen_ai.system.message``, ``gen_ai.assistant.message``, ``gen_ai.tool.message``,
``gen_ai.choice``), the ``gen_ai.client.inference.operation.details`` event, or the
``gen_ai.input.messages`` / ``gen_ai.output.messages`` attributes (JSON with ``role`` and
``parts``). ``user_query`` is the text of the last user message, ``system_response`` the
text of the first output message. A turn whose span failed says so (``status`` ``error``,
``error`` the reason) and, when no answer came, has ``system_response`` ``None``: a receiver
tells a failed turn from an empty answer. A span the selection admits also yields an
``ExecutionTrace``. The spans given here are already redacted and hashed.

Mapping costs tens of microseconds a span, so the exporter does not map as spans arrive: it
keeps a :func:`snapshot` (ids, times, status, the attribute and event dicts: a few
microseconds to take and to write) and maps snapshots when it sends. Every function here
takes a span or a snapshot.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from exporters.otlp_json_decode import decode_attributes

SpanLike = Any  # a ReadableSpan or a snapshot dict

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


def _attrs(mapping: Any) -> dict[str, Any]:
    if not mapping:
        return {}
    inner = getattr(mapping, "_dict", None)  # BoundedAttributes: its plain dict
    return inner if type(inner) is dict else dict(mapping)


_services: dict[int, tuple[Any, Any]] = {}  # id(resource) -> (resource, service.name)


def _service(resource: Any) -> Any:
    hit = _services.get(id(resource))
    if hit is None or hit[0] is not resource:
        if len(_services) > 64:
            _services.clear()
        hit = _services[id(resource)] = (resource, resource.attributes.get("service.name"))
    return hit[1]


def snapshot(span: ReadableSpan) -> dict[str, Any]:
    """What the mapping needs of a span, as plain JSON-ready values (cheap: no copies)."""
    context = span._context
    parent = span._parent
    status = span._status
    return {
        "trace_id": f"{context.trace_id:032x}" if context else "",
        "span_id": f"{context.span_id:016x}" if context else "",
        "parent_span_id": f"{parent.span_id:016x}" if parent else None,
        "name": span._name,
        "kind": span._kind.name,
        "start": span._start_time,
        "end": span._end_time,
        "error": status._status_code is StatusCode.ERROR,
        "description": status._description,
        "service": _service(span._resource),
        "attributes": _attrs(span._attributes),
        "events": [[event._name, _attrs(event._attributes)] for event in span._events],
    }


_KIND_NAMES = ("UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER")
_ERROR = 2


def stored_snapshots(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Snapshots of the spans of one OTLP/JSON ``TracesData`` object (a line of the JSONL store)."""
    found = []
    for resource_spans in data.get("resourceSpans") or ():
        resource = decode_attributes((resource_spans.get("resource") or {}).get("attributes"))
        service = resource.get("service.name")
        for scope_spans in resource_spans.get("scopeSpans") or ():
            for span in scope_spans.get("spans") or ():
                found.append(_stored_snapshot(span, service))
    return found


def _stored_snapshot(span: Mapping[str, Any], service: Any) -> dict[str, Any]:
    status = span.get("status") or {}
    kind = span.get("kind", 0)
    return {
        "trace_id": span.get("traceId", ""),
        "span_id": span.get("spanId", ""),
        "parent_span_id": span.get("parentSpanId") or None,
        "name": span.get("name", ""),
        "kind": _KIND_NAMES[kind] if isinstance(kind, int) and 0 <= kind < len(_KIND_NAMES) else str(kind),
        "start": int(span.get("startTimeUnixNano") or 0),
        "end": int(span.get("endTimeUnixNano") or 0),
        "error": status.get("code") == _ERROR,
        "description": status.get("message") or None,
        "service": service,
        "attributes": decode_attributes(span.get("attributes")),
        "events": [
            [event.get("name", ""), decode_attributes(event.get("attributes"))]
            for event in span.get("events") or ()
        ],
    }


def _view(span: SpanLike) -> dict[str, Any]:
    return snapshot(span) if isinstance(span, ReadableSpan) else span


def _iso(nanos: int | None) -> str | None:
    if nanos is None:
        return None
    return dt.datetime.fromtimestamp(nanos / 1e9, dt.UTC).isoformat(timespec="microseconds")


_MESSAGE_KEYS = frozenset({"role", "parts", "content", "text", "message"})


def _message_shaped(value: Any) -> bool:
    if isinstance(value, Mapping):
        return not _MESSAGE_KEYS.isdisjoint(value)
    return isinstance(value, list) and all(isinstance(item, str) or _message_shaped(item) for item in value)


def _json(value: Any) -> Any:
    """Messages or parts encoded as JSON, decoded; any other text (even text that happens to be
    JSON, such as a user's "[1, 2]") is kept as it is."""
    if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
        try:
            decoded = json.loads(value)
        except (ValueError, RecursionError):
            return value  # not JSON (or spoiled, or nested too deep): the text itself
        return decoded if _message_shaped(decoded) else value
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


def _turn(view: dict[str, Any]) -> tuple[list[tuple[str, str]], list[tuple[str, str, Any]]]:
    """The input messages (role, text) and output messages (role, text, finish) a span carries."""
    inputs: list[tuple[str, str]] = []
    outputs: list[tuple[str, str, Any]] = []
    attributes = view["attributes"]
    for name, attrs in view["events"]:
        if name in MESSAGE_EVENTS:
            inputs.append((MESSAGE_EVENTS[name], _text(attrs.get("content", attrs.get("message")))))
        elif name == CHOICE_EVENT:
            message = attrs.get("message", attrs.get("content"))
            outputs.append(("assistant", _text(message), attrs.get("finish_reason")))
        elif name == DETAILS_EVENT:
            inputs += [(role, text) for role, text, _ in _messages(attrs.get(INPUT_MESSAGES))]
            outputs += _messages(attrs.get(OUTPUT_MESSAGES))
    if not inputs and INPUT_MESSAGES in attributes:
        inputs = [(role, text) for role, text, _ in _messages(attributes[INPUT_MESSAGES])]
    if not outputs and OUTPUT_MESSAGES in attributes:
        outputs = _messages(attributes[OUTPUT_MESSAGES])
    return inputs, outputs


def messages_of(span: SpanLike) -> tuple[list[tuple[str, str]], list[tuple[str, str, Any]]]:
    """The input messages (role, text) and output messages (role, text, finish reason) of a span,
    from whichever form of the conventions it carries."""
    return _turn(_view(span))


def carries_messages(span: ReadableSpan) -> bool:
    """Cheap test (app thread) for a span the mapping can use: a GenAI operation or messages."""
    attributes = span._attributes
    if attributes and (
        OPERATION in attributes or INPUT_MESSAGES in attributes or OUTPUT_MESSAGES in attributes
    ):
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


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    attributes = view["attributes"]
    metadata: dict[str, Any] = {
        "model": attributes.get("gen_ai.response.model") or attributes.get("gen_ai.request.model"),
        "provider": attributes.get("gen_ai.provider.name") or attributes.get("gen_ai.system"),
        "operation": attributes.get(OPERATION),
        "usage": {
            key.removeprefix("gen_ai.usage."): attributes[key] for key in _USAGE_KEYS if key in attributes
        },
        "finish_reasons": _strings(attributes.get("gen_ai.response.finish_reasons")),
        "trace_id": view["trace_id"],
        "span_id": view["span_id"],
    }
    for key, name in (("gen_ai.agent.name", "agent"), ("gen_ai.tool.name", "tool")):
        if key in attributes:
            metadata[name] = attributes[key]
    return metadata


def log_id(span: SpanLike) -> str:
    """Stable per turn: the same span always maps to the same id, so receivers can drop repeats."""
    view = _view(span)
    return str(uuid.uuid5(_LOG_ID_NAMESPACE, f"{view['trace_id']}-{view['span_id']}"))


def conversation_log(span: SpanLike) -> dict[str, Any] | None:
    """The turn this span records, or ``None`` when it carries no user query and no response."""
    view = _view(span)
    inputs, outputs = _turn(view)
    user_query = next((text for role, text in reversed(inputs) if role == "user"), "")
    system_response = outputs[0][1] if outputs else ""
    if not user_query and not system_response:
        return None
    attributes = view["attributes"]
    metadata = _metadata(view)
    if not metadata["finish_reasons"]:
        metadata["finish_reasons"] = [str(reason) for _, _, reason in outputs if reason]
    session = attributes.get("gen_ai.conversation.id") or attributes.get("session.id")
    turn: dict[str, Any] = {
        "log_id": log_id(view),
        "session_id": str(session) if session is not None else None,
        "user_query": user_query,
        "system_response": system_response,
        "status": "error" if view["error"] else "ok",
        "error": _error_text(view),
        "metadata": metadata,
        "timestamp": _iso(view["end"]),
    }
    if view["error"]:
        metadata["error_type"] = attributes.get("error.type")
        if not outputs:  # a failed call gave no answer: not an empty one
            turn["system_response"] = None
    return turn


def _error_text(view: dict[str, Any]) -> str | None:
    """Why the span failed (its status description, else its exception), or None if it did not."""
    if not view["error"]:
        return None
    exceptions = [attrs for name, attrs in view["events"] if name == "exception"]
    return str(view["description"] or "") or next(
        (str(e.get("exception.message") or e.get("exception.type")) for e in exceptions), "error"
    )


def selected(span: SpanLike, selection: str) -> bool:
    """Whether the span gets an execution trace: GenAI operations (agent runs and tool calls
    included, as the conventions name them all by ``gen_ai.operation.name``), all, or none."""
    if selection == "all":
        return True
    if selection == "none":
        return False
    if isinstance(span, ReadableSpan):
        return OPERATION in _attrs(span._attributes)
    return OPERATION in span["attributes"]


def execution_trace(span: SpanLike) -> dict[str, Any]:
    """The execution record of one span."""
    view = _view(span)
    attributes = view["attributes"]
    start = view["start"] or 0
    end = view["end"] or start
    return {
        "trace_id": view["trace_id"],
        "request_id": view["span_id"],
        "service": view["service"],
        "method": view["name"],
        "duration_ms": round((end - start) / 1e6, 3),
        "success": not view["error"],
        "error": _error_text(view),
        "metadata": {
            **_metadata(view),
            "parent_span_id": view["parent_span_id"],
            "kind": view["kind"],
            "error_type": attributes.get("error.type"),
        },
        "timestamp": _iso(view["start"]),
    }


def records(span: SpanLike, selection: str = "genai") -> list[tuple[str, dict[str, Any]]]:
    """Every record a span (or its snapshot) yields, as (type, record)."""
    view = _view(span)
    found: list[tuple[str, dict[str, Any]]] = []
    turn = conversation_log(view)
    if turn is not None:
        found.append((CONVERSATION_LOG, turn))
    if selected(view, selection):
        found.append((EXECUTION_TRACE, execution_trace(view)))
    return found

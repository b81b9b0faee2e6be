"""Conversation-log and execution-trace records, mapped from spans in the GenAI semantic conventions.

A span yields a ``ConversationLog`` (one turn) when it carries messages in any GenAI
convention: the span's one GenAI view (:mod:`instrumentations.genai_view`) reads the OTel
GenAI attributes and events, OpenLLMetry's indexed ``gen_ai.prompt.N.*`` and OpenInference's
``llm.input_messages.N.*``; the second span of a call that two instrumentations recorded has
no view, so a call gives one turn. ``user_query`` is the text of the last user message,
``system_response`` the text of the first output message. A turn whose span failed says so
(``status`` ``error``, ``error`` the reason) and, when no answer came, has
``system_response`` ``None``: a receiver tells a failed turn from an empty answer. A span the
selection admits also yields an ``ExecutionTrace``. The spans given here are already redacted
and hashed.

Mapping costs tens of microseconds a span, so the exporter does not map as spans arrive: it
keeps a :func:`snapshot` (ids, times, status, the attribute and event dicts: a few
microseconds to take and to write) and maps snapshots when it sends. Every function here
takes a span or a snapshot.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from exporters.store.files import ReadProblems
from exporters.store.spans import StoredSpan, stored_spans
from instrumentations.genai_view import (
    CHOICE_EVENT,
    DETAILS_EVENT,
    INPUT_MESSAGES,
    MESSAGE_EVENTS,
    OPERATION,
    OUTPUT_MESSAGES,
    GenAiView,
    Usage,
    genai_view,
)
from otel_distro import _sdk

SpanLike = Any  # a ReadableSpan or a snapshot dict

CONVERSATION_LOG = "conversation_log"
EXECUTION_TRACE = "execution_trace"
SELECTIONS = ("genai", "all", "none")
_LOG_ID_NAMESPACE = uuid.UUID("6f0c1d2e-7b1a-4c55-9a3e-0d15c0a1f7e2")


def _attrs(mapping: Any) -> dict[str, Any]:
    if not mapping:
        return {}
    inner = _sdk.plain(mapping)  # BoundedAttributes: its plain dict
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
    context = span.context
    parent = span.parent
    status = span.status
    return {
        "trace_id": f"{context.trace_id:032x}" if context else "",
        "span_id": f"{context.span_id:016x}" if context else "",
        "parent_span_id": f"{parent.span_id:016x}" if parent else None,
        "name": span.name,
        "kind": span.kind.name,
        "start": span.start_time,
        "end": span.end_time,
        "error": status.status_code is StatusCode.ERROR,
        "description": status.description,
        "service": _service(span.resource),
        "attributes": _attrs(_sdk.raw_attributes(span)),
        "events": [[event.name, _attrs(_sdk.raw_attributes(event))] for event in _sdk.events(span)],
    }


_KIND_NAMES = ("UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER")
_ERROR = 2


def stored_snapshots(data: Mapping[str, Any], problems: ReadProblems | None = None) -> list[dict[str, Any]]:
    """Snapshots of the spans of one OTLP/JSON ``TracesData`` object (a line of the JSONL store);
    a part not shaped as OTLP/JSON is skipped and counted in ``problems`` (the rest is read)."""
    return [_stored_snapshot(span) for span in stored_spans(data, problems)]


def _stored_snapshot(span: StoredSpan) -> dict[str, Any]:
    kind = span.kind
    return {
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "parent_span_id": span.parent_id or None,
        "name": span.name,
        "kind": _KIND_NAMES[kind] if isinstance(kind, int) and 0 <= kind < len(_KIND_NAMES) else str(kind),
        "start": span.start_ns,
        "end": span.end_ns,
        "error": span.status_code == _ERROR,
        "description": span.status_message or None,
        "service": span.resource.get("service.name"),
        "attributes": span.attributes,
        "events": [[name, attributes] for name, _, attributes in span.events],
    }


def _view(span: SpanLike) -> dict[str, Any]:
    return snapshot(span) if isinstance(span, ReadableSpan) else span


def _iso(nanos: int | None) -> str | None:
    if nanos is None:
        return None
    return dt.datetime.fromtimestamp(nanos / 1e9, dt.UTC).isoformat(timespec="microseconds")


def genai_of(view: dict[str, Any]) -> GenAiView | None:
    """The one GenAI view (any convention) of a snapshot."""
    return genai_view(view["attributes"], view["events"])


def messages_of(span: SpanLike) -> tuple[list[tuple[str, str]], list[tuple[str, str, Any]]]:
    """The input messages (role, text) and output messages (role, text, finish reason) of a span,
    from whichever convention it was written in."""
    genai = genai_of(_view(span))
    if genai is None:
        return [], []
    inputs = [(m.role, m.text) for m in genai.input_messages]
    return inputs, [(m.role, m.text, m.finish_reason) for m in genai.output_messages]


# What says a span may be a GenAI one, in any convention (a cheap test on the app thread)
_GENAI_KEYS = (
    OPERATION,
    INPUT_MESSAGES,
    OUTPUT_MESSAGES,
    "openinference.span.kind",
    "llm.request.type",
    "traceloop.span.kind",
    "gen_ai.prompt.0.content",
    "gen_ai.completion.0.content",
    "gen_ai.request.model",
)


def carries_messages(span: ReadableSpan) -> bool:
    """Cheap test (app thread) for a span the mapping can use: a GenAI operation or messages,
    in any convention."""
    attributes = _sdk.attributes(span)
    if attributes and any(key in attributes for key in _GENAI_KEYS):
        return True
    return any(
        event.name in MESSAGE_EVENTS or event.name in (CHOICE_EVENT, DETAILS_EVENT)
        for event in _sdk.events(span)
    )


def _metadata(view: dict[str, Any], genai: GenAiView | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "model": genai.model if genai else None,
        "provider": genai.provider if genai else None,
        "operation": genai.operation if genai else None,
        "usage": _usage(genai.usage) if genai else {},
        "finish_reasons": list(genai.finish_reasons) if genai else [],
        "trace_id": view["trace_id"],
        "span_id": view["span_id"],
    }
    if genai is not None:
        if genai.agent_name is not None:
            metadata["agent"] = genai.agent_name
        if genai.tool_name is not None:
            metadata["tool"] = genai.tool_name
    return metadata


def _usage(usage: Usage) -> dict[str, int]:
    """Usage under the OTel names (input_tokens, output_tokens, ...), whatever convention gave it."""
    found = {
        "input_tokens": usage.input,
        "output_tokens": usage.output,
        "cache_read.input_tokens": usage.cached,
        "reasoning.output_tokens": usage.reasoning,
    }
    return {key: value for key, value in found.items() if value is not None}


def log_id(span: SpanLike) -> str:
    """Stable per turn: the same span always maps to the same id, so receivers can drop repeats."""
    view = _view(span)
    return str(uuid.uuid5(_LOG_ID_NAMESPACE, f"{view['trace_id']}-{view['span_id']}"))


def conversation_log(span: SpanLike) -> dict[str, Any] | None:
    """The turn this span records, or ``None`` when it carries no user query and no response
    (or is the second record of a call another instrumentation recorded too)."""
    view = _view(span)
    genai = genai_of(view)
    if genai is None:
        return None
    user_query, system_response = genai.user_query, genai.response
    if not user_query and not system_response:
        return None
    metadata = _metadata(view, genai)
    if genai.system_instructions:
        metadata["system_instructions"] = genai.system_instructions
    turn: dict[str, Any] = {
        "log_id": log_id(view),
        "session_id": genai.session_id,
        "user_query": user_query,
        "system_response": system_response,
        "status": "error" if view["error"] else "ok",
        "error": _error_text(view),
        "metadata": metadata,
        "timestamp": _iso(view["end"]),
    }
    if view["error"]:
        metadata["error_type"] = view["attributes"].get("error.type")
        if not genai.output_messages:  # a failed call gave no answer: not an empty one
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
    """Whether the span gets an execution trace: GenAI operations in any convention (agent runs
    and tool calls included), all, or none."""
    if selection == "all":
        return True
    if selection == "none":
        return False
    genai = genai_of(_view(span))
    return genai is not None and genai.operation is not None


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
            **_metadata(view, genai_of(view)),
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

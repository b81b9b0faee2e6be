"""What Langfuse needs added to a trace's spans to show generations, sessions, users and usage.

Langfuse reads the OTel GenAI conventions itself, but several of its views stay empty without
help: its session and user views need the ids on every span of a trace (an app usually sets them
on one), list views need ``langfuse.observation.input``/``output`` as JSON strings (structured
attribute values are not decoded), and usage is shown net of cached and reasoning tokens.
:func:`trace_attributes` returns, for each span of one trace, the attributes to add; nothing
here changes the span itself. The spans are already redacted and hashed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from instrumentations.genai_view import DUPLICATE_OF, GenAiView, Message, Usage, genai_view

APP_ROOT = "langfuse.internal.is_app_root"
OBSERVATION_TYPE = "langfuse.observation.type"
# GenAI operation (from any convention, see instrumentations.genai_view) -> Langfuse observation
# type, as Langfuse itself maps them
OPERATION_TYPES = {
    "chat": "generation",
    "text_completion": "generation",
    "generate_content": "generation",
    "embeddings": "embedding",
    "invoke_agent": "agent",
    "create_agent": "agent",
    "execute_tool": "tool",
    "retrieval": "retriever",
}
SESSION_KEYS = (
    "langfuse.session.id",
    "session.id",
    "gen_ai.conversation.id",
    "traceloop.association.properties.session_id",
)
USER_KEYS = ("langfuse.user.id", "user.id", "enduser.id", "traceloop.association.properties.user_id")
_REQUEST_PREFIX = "gen_ai.request."


def view_of(span: ReadableSpan) -> GenAiView | None:
    """The GenAI view of an SDK span (``None``: no GenAI span in any convention)."""
    return genai_view(span.attributes or {}, ((event.name, event.attributes or {}) for event in span.events))


def is_genai(span: ReadableSpan) -> bool:
    """A GenAI span in any convention, or one with an explicit Langfuse type."""
    return OBSERVATION_TYPE in (span.attributes or {}) or view_of(span) is not None


def observation_type(span: ReadableSpan, view: GenAiView | None = None) -> str | None:
    """The Langfuse observation type of a GenAI span, or None to leave it a plain span."""
    attributes = span.attributes or {}
    explicit = attributes.get(OBSERVATION_TYPE)
    if isinstance(explicit, str) and explicit:
        return explicit
    view = view or view_of(span)
    if view is None:
        return None
    if view.operation in OPERATION_TYPES:
        return OPERATION_TYPES[view.operation]
    if attributes.get("openinference.span.kind") == "CHAIN":
        return "chain"
    if view.model is not None:
        return "generation"
    return None


def first_value(spans: Sequence[ReadableSpan], keys: Sequence[str]) -> str | None:
    """The first non-empty value of these keys (in their order of preference) on any span."""
    for key in keys:
        for span in spans:
            value = (span.attributes or {}).get(key)
            if value not in (None, ""):
                return str(value)
    return None


def _messages_json(messages: Sequence[Message]) -> str:
    return json.dumps([_message(message) for message in messages])


def _message(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role or "user", "content": message.text}
    if message.tool_calls:
        out["tool_calls"] = [
            {"name": call.name, "arguments": call.arguments, **({"id": call.id} if call.id else {})}
            for call in message.tool_calls
        ]
    return out


def _usage(usage: Usage) -> dict[str, int]:
    """Usage as Langfuse normalizes it: input and output net of cached and reasoning tokens."""
    cached = usage.cached or 0
    reasoning = usage.reasoning or 0
    out: dict[str, int] = {}
    if usage.input is not None:
        out["input"] = max(0, usage.input - cached)
    if usage.output is not None:
        out["output"] = max(0, usage.output - reasoning)
    if cached:
        out["input_cached_tokens"] = cached
    if reasoning:
        out["output_reasoning_tokens"] = reasoning
    if usage:
        out["total"] = (usage.input or 0) + (usage.output or 0)
    return out


def _parameters(attributes: Mapping[str, Any]) -> dict[str, Any]:
    parameters = {
        key.removeprefix(_REQUEST_PREFIX): list(value) if isinstance(value, tuple) else value
        for key, value in attributes.items()
        if key.startswith(_REQUEST_PREFIX) and key != "gen_ai.request.model"
    }
    invocation = attributes.get("llm.invocation_parameters")  # OpenInference: a JSON object
    if isinstance(invocation, str) and not parameters:
        try:
            decoded = json.loads(invocation)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict):
            parameters = {key: value for key, value in decoded.items() if key != "model"}
    return parameters


def span_attributes(span: ReadableSpan, root: bool) -> dict[str, str | bool]:
    """What Langfuse needs on this span that it cannot read from the span as it is."""
    attributes = span.attributes or {}
    added: dict[str, str | bool] = {}
    view = view_of(span)
    kind = observation_type(span, view)
    if DUPLICATE_OF in attributes:  # a second record of a model call: no second generation
        kind = "span"
    if kind is not None and OBSERVATION_TYPE not in attributes:
        added[OBSERVATION_TYPE] = kind
    if root and "langfuse.trace.name" not in attributes:
        added["langfuse.trace.name"] = span.name
    if root and span.parent is not None:  # under an upstream caller: Langfuse takes it as the root
        added[APP_ROOT] = True  # only by this flag (its root test: no parent id, or this)
    if view is not None:
        _add_view(added, attributes, view, kind)
    status = span.status
    if status.status_code is StatusCode.ERROR:
        added["langfuse.observation.level"] = "ERROR"
        if status.description:
            added["langfuse.observation.status_message"] = status.description
    return added


def _add_view(
    added: dict[str, str | bool], attributes: Mapping[str, Any], view: GenAiView, kind: str | None
) -> None:
    inputs = view.prompt
    if "langfuse.observation.input" not in attributes:
        if inputs:
            added["langfuse.observation.input"] = _messages_json(inputs)
        elif view.tool_arguments is not None:
            added["langfuse.observation.input"] = view.tool_arguments
    if "langfuse.observation.output" not in attributes:
        if view.output_messages:
            added["langfuse.observation.output"] = _messages_json(view.output_messages[:1])
        elif view.tool_result is not None:
            added["langfuse.observation.output"] = view.tool_result
    if kind in ("generation", "embedding"):
        if view.model is not None:
            added["langfuse.observation.model.name"] = view.model
        parameters = _parameters(attributes)
        if parameters:
            added["langfuse.observation.model.parameters"] = json.dumps(parameters, default=str)
        usage = _usage(view.usage)
        if usage:
            added["langfuse.observation.usage_details"] = json.dumps(usage)


def trace_attributes(spans: Sequence[ReadableSpan], roots: set[int]) -> dict[int, dict[str, str | bool]]:
    """Span id -> attributes to add, for the spans of one trace (``roots``: the local root ids).

    The session and user found anywhere in the trace go onto every span; environment and
    release come from the resource.
    """
    session = first_value(spans, SESSION_KEYS)
    user = first_value(spans, USER_KEYS)
    out = {}
    for span in spans:
        context = span.context
        if context is None:
            continue
        added = span_attributes(span, context.span_id in roots)
        attributes = span.attributes or {}
        if session is not None and "langfuse.session.id" not in attributes:
            added["langfuse.session.id"] = session
        if user is not None and "langfuse.user.id" not in attributes:
            added["langfuse.user.id"] = user
        resource = span.resource.attributes
        environment = resource.get("deployment.environment.name") or resource.get("deployment.environment")
        if environment and "langfuse.environment" not in attributes:
            added["langfuse.environment"] = str(environment)
        release = resource.get("service.version")
        if release and "langfuse.release" not in attributes:
            added["langfuse.release"] = str(release)
        out[context.span_id] = added
    return out

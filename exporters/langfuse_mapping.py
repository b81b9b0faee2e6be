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

from exporters.conversation_records import INPUT_MESSAGES, OUTPUT_MESSAGES, messages_of

APP_ROOT = "langfuse.internal.is_app_root"
OBSERVATION_TYPE = "langfuse.observation.type"
# gen_ai.operation.name -> Langfuse observation type, as Langfuse itself maps them
OPERATION_TYPES = {
    "chat": "generation",
    "text_completion": "generation",
    "generate_content": "generation",
    "embeddings": "embedding",
    "invoke_agent": "agent",
    "create_agent": "agent",
    "execute_tool": "tool",
}
SESSION_KEYS = ("langfuse.session.id", "session.id", "gen_ai.conversation.id")
USER_KEYS = ("langfuse.user.id", "user.id", "enduser.id")
MODEL_KEYS = ("gen_ai.response.model", "gen_ai.request.model")
_REQUEST_PREFIX = "gen_ai.request."
_GENAI_EVENT_PREFIX = "gen_ai."


def is_genai(span: ReadableSpan) -> bool:
    """A GenAI span: an operation, a model, messages, or an explicit Langfuse type."""
    attributes = span.attributes or {}
    if (
        "gen_ai.operation.name" in attributes
        or "gen_ai.request.model" in attributes
        or OBSERVATION_TYPE in attributes
        or INPUT_MESSAGES in attributes
        or OUTPUT_MESSAGES in attributes
    ):
        return True
    return any(event.name.startswith(_GENAI_EVENT_PREFIX) for event in span.events)


def observation_type(span: ReadableSpan) -> str | None:
    """The Langfuse observation type of a GenAI span, or None to leave it a plain span."""
    attributes = span.attributes or {}
    explicit = attributes.get(OBSERVATION_TYPE)
    if isinstance(explicit, str) and explicit:
        return explicit
    operation = attributes.get("gen_ai.operation.name")
    if isinstance(operation, str) and operation in OPERATION_TYPES:
        return OPERATION_TYPES[operation]
    if any(key in attributes for key in MODEL_KEYS):
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


def _messages_json(messages: Sequence[tuple[Any, ...]]) -> str:
    return json.dumps([{"role": role or "user", "content": text} for role, text, *_ in messages])


def _usage(attributes: Mapping[str, Any]) -> dict[str, int]:
    """Usage as Langfuse normalizes it: input and output net of cached and reasoning tokens."""

    def number(key: str) -> int | None:
        value = attributes.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    input_tokens = number("gen_ai.usage.input_tokens")
    output_tokens = number("gen_ai.usage.output_tokens")
    cached = number("gen_ai.usage.cache_read.input_tokens") or 0
    reasoning = number("gen_ai.usage.reasoning.output_tokens") or 0
    usage: dict[str, int] = {}
    if input_tokens is not None:
        usage["input"] = max(0, input_tokens - cached)
    if output_tokens is not None:
        usage["output"] = max(0, output_tokens - reasoning)
    if cached:
        usage["input_cached_tokens"] = cached
    if reasoning:
        usage["output_reasoning_tokens"] = reasoning
    if input_tokens is not None or output_tokens is not None:
        usage["total"] = (input_tokens or 0) + (output_tokens or 0)
    return usage


def _parameters(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key.removeprefix(_REQUEST_PREFIX): list(value) if isinstance(value, tuple) else value
        for key, value in attributes.items()
        if key.startswith(_REQUEST_PREFIX) and key != "gen_ai.request.model"
    }


def span_attributes(span: ReadableSpan, root: bool) -> dict[str, str | bool]:
    """What Langfuse needs on this span that it cannot read from the span as it is."""
    attributes = span.attributes or {}
    added: dict[str, str | bool] = {}
    kind = observation_type(span)
    if kind is not None and OBSERVATION_TYPE not in attributes:
        added[OBSERVATION_TYPE] = kind
    if root and "langfuse.trace.name" not in attributes:
        added["langfuse.trace.name"] = span.name
    if root and span.parent is not None:  # under an upstream caller: Langfuse takes it as the root
        added[APP_ROOT] = True  # only by this flag (its root test: no parent id, or this)
    inputs, outputs = messages_of(span)
    if inputs and "langfuse.observation.input" not in attributes:
        added["langfuse.observation.input"] = _messages_json(inputs)
    if outputs and "langfuse.observation.output" not in attributes:
        added["langfuse.observation.output"] = _messages_json(outputs[:1])
    if kind in ("generation", "embedding"):
        model = next((attributes[key] for key in MODEL_KEYS if attributes.get(key)), None)
        if model is not None:
            added["langfuse.observation.model.name"] = str(model)
        parameters = _parameters(attributes)
        if parameters:
            added["langfuse.observation.model.parameters"] = json.dumps(parameters, default=str)
        usage = _usage(attributes)
        if usage:
            added["langfuse.observation.usage_details"] = json.dumps(usage)
    status = span.status
    if status.status_code is StatusCode.ERROR:
        added["langfuse.observation.level"] = "ERROR"
        if status.description:
            added["langfuse.observation.status_message"] = status.description
    return added


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

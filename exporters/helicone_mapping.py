"""A GenAI span in the attribute form Helicone's asynchronous logging reads (OpenLLMetry's).

Helicone's ingestion of ``/v1/trace/log`` turns each span into one logged request and reads
only a few attributes, as string or integer values: ``gen_ai.prompt.N.role``/``content`` (a
message counts only when its role is set), ``gen_ai.completion.N.role``/``content``/
``finish_reason``, ``gen_ai.response.model``, ``gen_ai.system`` (the provider),
``llm.request.type``, ``gen_ai.usage.prompt_tokens``/``completion_tokens``,
``llm.usage.total_tokens``, the user from ``traceloop.association.properties.Helicone-User-Id``
and properties from the other ``traceloop.association.properties.Helicone-*`` keys
(``Helicone-Property-X`` becomes property ``X``; ``Helicone-Session-Id``/``-Path``/``-Name``
keep their names and make sessions). :func:`helicone_span` builds that form from the one
GenAI view of a span, whatever convention it came in; the content of the other conventions is
left out, so it is not sent twice. The spans are already redacted and hashed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.util.types import AttributeValue

from instrumentations.genai_view import (
    CHOICE_EVENT,
    DETAILS_EVENT,
    MESSAGE_EVENTS,
    GenAiView,
    Message,
    genai_view,
)
from otel_distro._sdk import copy_span

ASSOCIATION = "traceloop.association.properties."
HELICONE = ASSOCIATION + "Helicone-"
USER_ID = HELICONE + "User-Id"
SESSION_ID = HELICONE + "Session-Id"
SESSION_PATH = HELICONE + "Session-Path"
SESSION_NAME = HELICONE + "Session-Name"
PROPERTY = HELICONE + "Property-"
# GenAI operation -> OpenLLMetry's llm.request.type
REQUEST_TYPES = {
    "chat": "chat",
    "generate_content": "chat",
    "text_completion": "completion",
    "embeddings": "embedding",
}
# Where the conventions put message content: replaced by the indexed form, never sent twice
_CONTENT_KEYS = frozenset(
    {
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "input.value",
        "output.value",
    }
)
_CONTENT_PREFIXES = ("gen_ai.prompt.", "gen_ai.completion.", "llm.input_messages.", "llm.output_messages.")
_CONTENT_EVENTS = frozenset({*MESSAGE_EVENTS, CHOICE_EVENT, DETAILS_EVENT})
_METADATA = "conversation.metadata."  # instrumentations.records: a turn's metadata
_ASSOCIATION_IDS = frozenset({"session_id", "user_id"})  # OpenLLMetry's own: read by the view


def view_of(span: ReadableSpan) -> GenAiView | None:
    """The GenAI view of an SDK span (``None``: no GenAI span, or a duplicate record of a call)."""
    return genai_view(span.attributes or {}, ((event.name, event.attributes or {}) for event in span.events))


def is_model_call(view: GenAiView) -> bool:
    """A model call, the one kind of span Helicone logs as a request (tools and agents are not)."""
    if view.operation is not None:
        return view.is_model_call
    return view.model is not None or bool(view.input_messages or view.output_messages)


def _text(value: Any) -> str | None:
    """A property value as Helicone keeps it (text; numbers as text; nothing else)."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def properties_of(
    attributes: Mapping[str, Any], resource: Resource, static: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Helicone custom properties (name -> value) of a span: the exporter's own, then the
    resource's environment, service and release, then the span's association properties and
    conversation metadata (the later wins)."""
    found: dict[str, str] = dict(static or {})
    resource_attributes = resource.attributes
    for name, keys in (
        ("environment", ("deployment.environment.name", "deployment.environment")),
        ("service", ("service.name",)),
        ("release", ("service.version",)),
    ):
        value = next((v for key in keys if (v := _text(resource_attributes.get(key))) is not None), None)
        if value is not None:
            found[name] = value
    for key, raw in attributes.items():
        if key.startswith(_METADATA):
            name = key[len(_METADATA) :]
        elif key.startswith(ASSOCIATION) and not key.startswith(HELICONE):
            name = key[len(ASSOCIATION) :]
            if name in _ASSOCIATION_IDS:
                continue
        else:
            continue
        value = _text(raw)
        if name and value is not None:
            found[name] = value
    return found


def _messages(
    out: dict[str, AttributeValue], prefix: str, messages: list[Message], reasons: tuple[str, ...]
) -> None:
    for index, message in enumerate(messages):
        key = f"{prefix}.{index}"
        out[f"{key}.role"] = message.role or ("assistant" if prefix == "gen_ai.completion" else "user")
        out[f"{key}.content"] = message.text
        reason = message.finish_reason or (reasons[index] if index < len(reasons) else None)
        if prefix == "gen_ai.completion" and reason:
            out[f"{key}.finish_reason"] = reason
        for number, call in enumerate(message.tool_calls):
            out[f"{key}.tool_calls.{number}.name"] = call.name
            out[f"{key}.tool_calls.{number}.arguments"] = call.arguments
            if call.id:
                out[f"{key}.tool_calls.{number}.id"] = call.id


def helicone_attributes(
    span: ReadableSpan,
    view: GenAiView,
    *,
    session: str | None = None,
    user: str | None = None,
    static_properties: Mapping[str, str] | None = None,
) -> dict[str, AttributeValue]:
    """The attributes Helicone reads, for one GenAI span (``session``/``user``: found elsewhere in
    its trace, used when the span has none of its own)."""
    attributes = span.attributes or {}
    out: dict[str, AttributeValue] = {}
    request_type = REQUEST_TYPES.get(view.operation or "", "chat")
    out["llm.request.type"] = request_type
    if view.provider:
        out["gen_ai.system"] = view.provider
    if view.request_model or view.model:
        out["gen_ai.request.model"] = view.request_model or view.model or ""
    if view.model:
        out["gen_ai.response.model"] = view.model  # the model Helicone shows and prices
    max_tokens = attributes.get("gen_ai.request.max_tokens")
    if isinstance(max_tokens, int) and not isinstance(max_tokens, bool):
        out["gen_ai.response.max_tokens"] = max_tokens  # the key Helicone reads it from
    _messages(out, "gen_ai.prompt", view.prompt, ())
    _messages(out, "gen_ai.completion", list(view.output_messages), view.finish_reasons)
    usage = view.usage
    if usage.input is not None:
        out["gen_ai.usage.prompt_tokens"] = usage.input
    if usage.output is not None:
        out["gen_ai.usage.completion_tokens"] = usage.output
    if usage:
        out["llm.usage.total_tokens"] = (usage.input or 0) + (usage.output or 0)
    if usage.cached:
        out["gen_ai.usage.cache_read_input_tokens"] = usage.cached
    for name, value in properties_of(attributes, span.resource, static_properties).items():
        out[PROPERTY + name] = value
    user = view.user_id or user
    if user:
        out[USER_ID] = user
    session = view.session_id or session
    if session:
        out[SESSION_ID] = session
        out[SESSION_NAME] = str(span.resource.attributes.get("service.name") or "otel-distro")
        steps = [step for step in (view.agent_name, view.operation or request_type) if step]
        out[SESSION_PATH] = "/" + "/".join(step.replace("/", "_") for step in steps)
    for key, raw in attributes.items():  # what the app set in Helicone's own form wins
        if key.startswith(HELICONE):
            out[key] = raw
    return out


def helicone_span(
    span: ReadableSpan,
    view: GenAiView,
    *,
    session: str | None = None,
    user: str | None = None,
    static_properties: Mapping[str, str] | None = None,
) -> ReadableSpan:
    """A copy of a GenAI span in Helicone's form: its other attributes and events kept, the
    content of the other conventions replaced by the indexed OpenLLMetry form."""
    kept = {
        key: value
        for key, value in (span.attributes or {}).items()
        if key not in _CONTENT_KEYS and not key.startswith(_CONTENT_PREFIXES)
    }
    kept.update(
        helicone_attributes(span, view, session=session, user=user, static_properties=static_properties)
    )
    return copy_span(
        span, attributes=kept, events=[event for event in span.events if event.name not in _CONTENT_EVENTS]
    )

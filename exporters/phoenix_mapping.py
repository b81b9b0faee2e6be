"""A GenAI span in the attribute form Arize Phoenix reads (OpenInference's), from the one GenAI view.

Phoenix reads span attributes only: message events (``gen_ai.user.message``, ``gen_ai.choice``,
``gen_ai.client.inference.operation.details``) are not shown. :func:`phoenix_attributes` gives,
from the GenAI view of a span in any convention, what Phoenix shows: ``openinference.span.kind``
(LLM, TOOL, AGENT, CHAIN, EMBEDDING, RETRIEVER, RERANKER, from the operation), the messages as
``llm.input_messages.N.message.*`` / ``llm.output_messages.N.message.*`` and as
``gen_ai.input.messages`` / ``gen_ai.output.messages`` JSON, ``input.value`` / ``output.value``
with their mime types, ``llm.model_name``, ``llm.provider``, ``llm.token_count.*``,
``llm.finish_reason``, ``agent.name``, a tool's name, arguments and result, the session and the
user. What the span already says in Phoenix's own form is kept. The project is the resource's
``openinference.project.name``: :func:`project_of`. Functions over attribute mappings, so SDK
spans (:func:`phoenix_span`) and stored OTLP/JSON lines (:func:`enrich_traces_data`) map alike.
The spans are already redacted: nothing here reads anything the chain did not see.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.util.types import AttributeValue

from exporters import otlp_json
from exporters.store.decode import decode_attributes
from instrumentations.genai_view import INPUT_MESSAGES, OUTPUT_MESSAGES, GenAiView, Message, genai_view
from otel_distro._sdk import copy_span

PROJECT = "openinference.project.name"
SPAN_KIND = "openinference.span.kind"
DEFAULT_PROJECT = "default"
JSON_MIME = "application/json"
TEXT_MIME = "text/plain"
# GenAI operation -> OpenInference span kind (anything else: CHAIN)
SPAN_KINDS = {
    "chat": "LLM",
    "text_completion": "LLM",
    "generate_content": "LLM",
    "embeddings": "EMBEDDING",
    "execute_tool": "TOOL",
    "invoke_agent": "AGENT",
    "create_agent": "AGENT",
    "retrieval": "RETRIEVER",
    "rerank": "RERANKER",
}
# gen_ai.request.* parameters shown as llm.invocation_parameters
_PARAMETERS = ("temperature", "max_tokens", "top_p", "top_k", "frequency_penalty", "presence_penalty", "seed")


def span_kind(view: GenAiView) -> str:
    """The OpenInference span kind of a GenAI span."""
    kind = SPAN_KINDS.get(view.operation or "")
    if kind is not None:
        return kind
    return "LLM" if view.model is not None and (view.input_messages or view.output_messages) else "CHAIN"


def _json_or_text(text: str) -> tuple[str, str]:
    """A value and its mime type: JSON when the text is a JSON object or array."""
    if text.lstrip()[:1] in ("{", "["):
        try:
            json.loads(text)
        except ValueError:
            return text, TEXT_MIME
        return text, JSON_MIME
    return text, TEXT_MIME


def _indexed(out: dict[str, AttributeValue], prefix: str, messages: list[Message]) -> None:
    for index, message in enumerate(messages):
        key = f"{prefix}.{index}.message"
        out[f"{key}.role"] = message.role
        if message.text:
            out[f"{key}.content"] = message.text
        for number, call in enumerate(message.tool_calls):
            call_key = f"{key}.tool_calls.{number}.tool_call"
            out[f"{call_key}.function.name"] = call.name
            out[f"{call_key}.function.arguments"] = call.arguments
            if call.id:
                out[f"{call_key}.id"] = call.id


def _genai_messages(messages: list[Message], output: bool, reasons: tuple[str, ...]) -> str:
    """Messages in the GenAI conventions' JSON form (``role``, ``parts``, ``finish_reason``)."""
    found: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        parts: list[dict[str, Any]] = []
        if message.text:
            parts.append({"type": "text", "content": message.text})
        for call in message.tool_calls:
            part: dict[str, Any] = {"type": "tool_call", "name": call.name, "arguments": call.arguments}
            if call.id:
                part["id"] = call.id
            parts.append(part)
        item: dict[str, Any] = {"role": message.role, "parts": parts}
        if output:
            reason = message.finish_reason or (reasons[index] if index < len(reasons) else None)
            item["finish_reason"] = reason or "stop"
        found.append(item)
    return json.dumps(found, ensure_ascii=False)


def _usage(out: dict[str, AttributeValue], view: GenAiView) -> None:
    usage = view.usage
    if usage.input is not None:
        out["llm.token_count.prompt"] = usage.input
    if usage.output is not None:
        out["llm.token_count.completion"] = usage.output
    if usage:
        out["llm.token_count.total"] = (usage.input or 0) + (usage.output or 0)
    if usage.cached is not None:
        out["llm.token_count.prompt_details.cache_read"] = usage.cached
    if usage.reasoning is not None:
        out["llm.token_count.completion_details.reasoning"] = usage.reasoning


def _values(out: dict[str, AttributeValue], view: GenAiView, prompt: list[Message]) -> None:
    """``input.value`` / ``output.value``: what Phoenix lists for a span (text where there is one)."""
    if view.operation == "execute_tool":
        given, result = view.tool_arguments, view.tool_result
    else:
        given = view.user_query or (_genai_messages(prompt, False, ()) if prompt else None)
        outputs = list(view.output_messages)
        result = view.response or (_genai_messages(outputs, True, view.finish_reasons) if outputs else None)
    if given:
        out["input.value"], out["input.mime_type"] = _json_or_text(given)
    if result:
        out["output.value"], out["output.mime_type"] = _json_or_text(result)


def _parameters(attributes: Mapping[str, Any]) -> str | None:
    found = {
        name: attributes[f"gen_ai.request.{name}"]
        for name in _PARAMETERS
        if isinstance(attributes.get(f"gen_ai.request.{name}"), int | float | str)
    }
    return json.dumps(found) if found else None


def phoenix_attributes(attributes: Mapping[str, Any], view: GenAiView) -> dict[str, AttributeValue]:
    """The attributes Phoenix reads for one GenAI span; what the span already has in Phoenix's
    own form is not given again (it wins)."""
    out: dict[str, AttributeValue] = {}
    kind = span_kind(view)
    out[SPAN_KIND] = kind
    if view.model:
        out["llm.model_name"] = view.model
    if view.provider:
        out["llm.provider"] = view.provider
        out["llm.system"] = view.provider
    parameters = _parameters(attributes)
    if parameters and kind == "LLM":
        out["llm.invocation_parameters"] = parameters
    prompt = view.prompt
    outputs = list(view.output_messages)
    _indexed(out, "llm.input_messages", prompt)
    _indexed(out, "llm.output_messages", outputs)
    if prompt:
        out[INPUT_MESSAGES] = _genai_messages(prompt, False, ())
    if outputs:
        out[OUTPUT_MESSAGES] = _genai_messages(outputs, True, view.finish_reasons)
    _values(out, view, prompt)
    _usage(out, view)
    if view.finish_reasons:
        out["llm.finish_reason"] = view.finish_reasons[0]
        out["gen_ai.response.finish_reasons"] = list(view.finish_reasons)
    agent = view.agent_name or attributes.get("gen_ai.agent.name")
    if isinstance(agent, str) and agent:
        out["agent.name"] = agent
    if view.tool_name:
        out["tool.name"] = view.tool_name
    call_id = attributes.get("gen_ai.tool.call.id")
    if kind == "TOOL" and isinstance(call_id, str) and call_id:
        out["tool_call.id"] = call_id
    if view.session_id:
        out["session.id"] = view.session_id
    if view.user_id:
        out["user.id"] = view.user_id
    return {key: value for key, value in out.items() if key not in attributes}


def enriched(
    attributes: Mapping[str, Any], events: Iterable[tuple[str, Mapping[str, Any]]]
) -> dict[str, Any]:
    """The attributes to add to a span for Phoenix (empty: no GenAI span)."""
    view = genai_view(attributes, events)
    return phoenix_attributes(attributes, view) if view is not None else {}


def project_of(resource_attributes: Mapping[str, Any], project: str | None = None) -> str:
    """The Phoenix project of a resource: the one configured, else the resource's own, else its
    service name, else Phoenix's default."""
    for value in (project, resource_attributes.get(PROJECT), resource_attributes.get("service.name")):
        if isinstance(value, str) and value:
            return value
    return DEFAULT_PROJECT


class ProjectResources:
    """Each resource with its Phoenix project set, made once per resource (spans share them)."""

    def __init__(self, project: str | None = None) -> None:
        self.project = project
        self._made: dict[int, tuple[Resource, Resource]] = {}  # id -> (resource, with project)

    def __call__(self, resource: Resource) -> Resource:
        held = self._made.get(id(resource))
        if held is not None and held[0] is resource:
            return held[1]
        made = resource.merge(Resource({PROJECT: project_of(resource.attributes, self.project)}))
        if len(self._made) > 64:  # resources are few; a leak of them must not grow this
            self._made.clear()
        self._made[id(resource)] = (resource, made)
        return made


def phoenix_span(span: ReadableSpan, resource: Resource) -> ReadableSpan:
    """A copy of a span in the form Phoenix reads (GenAI spans enriched), on ``resource``."""
    attributes = dict(span.attributes or {})
    attributes.update(enriched(attributes, ((event.name, event.attributes or {}) for event in span.events)))
    return copy_span(span, resource=resource, attributes=attributes)


def _set(items: list[dict[str, Any]], extra: Mapping[str, Any]) -> list[dict[str, Any]]:
    """OTLP/JSON key-values with ``extra`` set (replacing the same keys)."""
    return [item for item in items if item.get("key") not in extra] + otlp_json.attributes(extra)


def enrich_traces_data(data: dict[str, Any], project: str | None = None) -> None:
    """A stored OTLP/JSON ``TracesData`` line in the form Phoenix reads, changed in place: each
    resource with its project, each GenAI span enriched."""
    for resource_spans in data.get("resourceSpans", ()):
        resource = resource_spans.setdefault("resource", {})
        items = resource.get("attributes") or []
        name = project_of(decode_attributes(items), project)
        resource["attributes"] = _set(items, {PROJECT: name})
        for scope in resource_spans.get("scopeSpans", ()):
            for span in scope.get("spans", ()):
                attributes = decode_attributes(span.get("attributes"))
                events = [
                    (str(event.get("name", "")), decode_attributes(event.get("attributes")))
                    for event in span.get("events", ())
                ]
                extra = enriched(attributes, events)
                if extra:
                    span["attributes"] = _set(span.get("attributes") or [], extra)

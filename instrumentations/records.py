"""One-call records of what already happened: a model interaction, a memory operation, a routing
decision, a conversation turn. Each is a span in the GenAI conventions (a child of the current
span, if any), ending now and starting ``duration_s`` earlier when that is given."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from opentelemetry.trace import SpanKind

from instrumentations import conventions as c
from instrumentations._spans import clean_attributes, meter, run_defaults, tracer, warn_once

Message = str | dict[str, Any]

_token_usage = meter.create_histogram(
    "gen_ai.client.token.usage", unit="{token}", description="Tokens used per model operation, by type."
)
_operation_duration = meter.create_histogram(
    "gen_ai.client.operation.duration", unit="s", description="Duration of model operations."
)


def messages_json(
    messages: Sequence[Message] | Message | None, role: str, finish_reason: str | None = None
) -> str | None:
    """Messages as the conventions' ``gen_ai.*.messages`` JSON: role and text parts.

    A plain string is one message of ``role``; a dict may give ``role`` and ``content``
    (a string, or a list of parts) and is kept as close to the conventions as it is.
    """
    if messages is None:
        return None
    items = [messages] if isinstance(messages, str | dict) else list(messages)
    shaped = []
    for item in items:
        if isinstance(item, dict):
            message = dict(item)
            message.setdefault("role", role)
            content = message.pop("content", None)
            if "parts" not in message:
                message["parts"] = (
                    content
                    if isinstance(content, list)
                    else [{"type": "text", "content": str(content or "")}]
                )
        else:
            message = {"role": role, "parts": [{"type": "text", "content": str(item)}]}
        if finish_reason is not None:
            message.setdefault("finish_reason", finish_reason)
        shaped.append(message)
    return json.dumps(shaped, ensure_ascii=False, default=str)


def _emit(name: str, kind: SpanKind, attributes: dict[str, Any], duration_s: float | None) -> None:
    end = time.time_ns()
    start = end - int(duration_s * 1e9) if duration_s and duration_s > 0 else end
    span = tracer.start_span(name, kind=kind, attributes=clean_attributes(attributes), start_time=start)
    span.end(end_time=end)


def record_model_interaction(
    model: str,
    *,
    provider: str | None = None,
    operation: str = c.CHAT,
    input_messages: Sequence[Message] | Message | None = None,
    output_messages: Sequence[Message] | Message | None = None,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    response_model: str | None = None,
    response_id: str | None = None,
    finish_reasons: Sequence[str] | None = None,
    conversation_id: str | None = None,
    duration_s: float | None = None,
    **attrs: Any,
) -> None:
    """Record a call to a model made without an instrumented SDK: a ``chat {model}`` (client)
    span with usage and messages, and the ``gen_ai.client.*`` metrics."""
    try:
        run_provider, run_model = run_defaults()
        provider = provider or run_provider
        model = model or run_model or ""
        reason = finish_reasons[0] if finish_reasons else None
        attributes = {
            c.OPERATION: operation,
            c.PROVIDER: provider,
            c.REQUEST_MODEL: model,
            c.RESPONSE_MODEL: response_model or model,
            c.RESPONSE_ID: response_id,
            c.FINISH_REASONS: list(finish_reasons) if finish_reasons else None,
            c.INPUT_TOKENS: input_tokens,
            c.OUTPUT_TOKENS: output_tokens,
            c.CONVERSATION_ID: conversation_id,
            c.INPUT_MESSAGES: messages_json(input_messages, "user"),
            c.OUTPUT_MESSAGES: messages_json(output_messages, "assistant", reason or "stop"),
            **attrs,
        }
        _emit(f"{operation} {model}" if model else operation, SpanKind.CLIENT, attributes, duration_s)
        labels = clean_attributes({c.OPERATION: operation, c.PROVIDER: provider, c.REQUEST_MODEL: model})
        for kind, count in (("input", input_tokens), ("output", output_tokens)):
            if count is not None:
                _token_usage.record(count, {**labels, "gen_ai.token.type": kind})
        if duration_s is not None:
            _operation_duration.record(duration_s, labels)
    except Exception as exc:  # noqa: BLE001
        warn_once("record_model_interaction", exc)


def record_memory_operation(
    operation: str,
    store_id: str,
    *,
    memory_type: str | None = None,
    provider: str | None = None,
    memory_id: str | None = None,
    query: str | None = None,
    result_count: int | None = None,
    duration_s: float | None = None,
    **attrs: Any,
) -> None:
    """Record a memory operation: ``search``, ``update``, ``delete``, ``create`` or ``upsert``
    (of a memory), or ``create_memory_store`` / ``delete_memory_store``, as a
    ``{operation} {store_id}`` span."""
    try:
        name = operation if operation.endswith(("_memory", "_memory_store")) else f"{operation}_memory"
        provider = provider or run_defaults()[0]
        attributes = {
            c.OPERATION: name,
            c.MEMORY_STORE_ID: store_id,
            c.MEMORY_TYPE: memory_type,
            c.PROVIDER: provider,
            c.MEMORY_ID: memory_id,
            c.MEMORY_QUERY: query,
            c.MEMORY_RESULT_COUNT: result_count,
            **attrs,
        }
        _emit(f"{name} {store_id}", SpanKind.CLIENT, attributes, duration_s)
    except Exception as exc:  # noqa: BLE001
        warn_once("record_memory_operation", exc)


def record_routing_decision(
    router: str,
    decision: str,
    *,
    candidates: Sequence[str] | None = None,
    reason: str | None = None,
    score: float | None = None,
    duration_s: float | None = None,
    **attrs: Any,
) -> None:
    """Record which agent, tool or model a router chose (``route {router}`` span, ``routing.*``)."""
    try:
        attributes = {
            c.OPERATION: c.ROUTE,
            c.AGENT_NAME: router,
            c.ROUTING_DECISION: decision,
            c.ROUTING_CANDIDATES: list(candidates) if candidates else None,
            c.ROUTING_REASON: reason,
            c.ROUTING_SCORE: score,
            **attrs,
        }
        _emit(f"{c.ROUTE} {router}", SpanKind.INTERNAL, attributes, duration_s)
    except Exception as exc:  # noqa: BLE001
        warn_once("record_routing_decision", exc)


def record_conversation_turn(session_id: str, user_query: str, system_response: str, **metadata: Any) -> None:
    """Record one turn of a conversation: a ``chat`` span with ``gen_ai.conversation.id`` and the
    user and assistant messages, which the conversation-log exporter turns into a record.
    ``model``, ``provider``, ``agent_name``, ``input_tokens``, ``output_tokens`` and
    ``duration_s`` fill their GenAI attributes (model and provider default to the enclosing
    run's); other metadata keys become
    ``conversation.metadata.<key>`` attributes."""
    try:
        run_provider, run_model = run_defaults()  # the enclosing run's, where the turn names none
        model = metadata.pop("model", None) or run_model
        provider = metadata.pop("provider", None) or run_provider
        agent = metadata.pop("agent_name", None)
        input_tokens = metadata.pop("input_tokens", None)
        output_tokens = metadata.pop("output_tokens", None)
        duration_s = metadata.pop("duration_s", None)
        attributes = {
            c.OPERATION: c.CHAT,
            c.CONVERSATION_ID: session_id,
            c.PROVIDER: provider,
            c.REQUEST_MODEL: model,
            c.RESPONSE_MODEL: model,
            c.AGENT_NAME: agent,
            c.INPUT_TOKENS: input_tokens,
            c.OUTPUT_TOKENS: output_tokens,
            c.FINISH_REASONS: ["stop"],
            c.INPUT_MESSAGES: messages_json(user_query, "user"),
            c.OUTPUT_MESSAGES: messages_json(system_response, "assistant", "stop"),
            **{f"conversation.metadata.{key}": value for key, value in metadata.items()},
        }
        name = f"{c.CHAT} {model}" if model else c.CHAT
        _emit(name, SpanKind.INTERNAL, attributes, duration_s)
    except Exception as exc:  # noqa: BLE001
        warn_once("record_conversation_turn", exc)

"""The one GenAI view of a span, read from whichever convention its instrumentation wrote.

Three conventions are in use: the OTel GenAI semantic conventions (attributes such as
``gen_ai.input.messages``, or the per-message events of their older form), OpenLLMetry's
indexed attributes (``gen_ai.prompt.N.role/content``, ``gen_ai.completion.N.*``,
``llm.request.type``, ``gen_ai.usage.prompt_tokens``), and OpenInference's
(``openinference.span.kind``, ``llm.input_messages.N.message.*``, ``llm.token_count.*``,
``input.value`` / ``output.value``). :func:`genai_view` reads any of them into one
:class:`GenAiView`; every GenAI reader (conversation log, Langfuse, stats, compliance)
uses it. Plain functions over an attribute mapping and ``(name, attributes)`` events: no SDK
types, so spans, snapshots and stored OTLP JSON all read the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Events = Iterable[tuple[str, Mapping[str, Any]]]

OPERATION = "gen_ai.operation.name"
# Set by the distro on the second span of one model call recorded by two instrumentations:
# such a span has no view, so every reader counts the call once.
DUPLICATE_OF = "otel_distro.genai.duplicate_of"
INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions"
MESSAGE_EVENTS = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
CHOICE_EVENT = "gen_ai.choice"
DETAILS_EVENT = "gen_ai.client.inference.operation.details"
# OpenInference span kinds as GenAI operations (CHAIN: a plain span that may still hold a session)
OPENINFERENCE_OPERATIONS = {
    "LLM": "chat",
    "TOOL": "execute_tool",
    "AGENT": "invoke_agent",
    "EMBEDDING": "embeddings",
    "RETRIEVER": "retrieval",
    "RERANKER": "rerank",
}
# OpenLLMetry's llm.request.type and traceloop.span.kind as GenAI operations
OPENLLMETRY_OPERATIONS = {
    "chat": "chat",
    "completion": "text_completion",
    "embedding": "embeddings",
    "rerank": "rerank",
    "agent": "invoke_agent",
    "tool": "execute_tool",
}
MODEL_OPERATIONS = frozenset({"chat", "text_completion", "generate_content", "embeddings"})
SESSION_KEYS = (
    "gen_ai.conversation.id",
    "session.id",
    "langfuse.session.id",
    "traceloop.association.properties.session_id",
)
USER_KEYS = ("user.id", "enduser.id", "langfuse.user.id", "traceloop.association.properties.user_id")
_INDEXED = re.compile(r"(\d+)\.(.+)")
_MESSAGE_KEYS = frozenset({"role", "parts", "content", "text", "message"})


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: str = ""
    id: str | None = None


@dataclass(frozen=True)
class Message:
    role: str
    text: str
    finish_reason: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class Usage:
    input: int | None = None
    output: int | None = None
    cached: int | None = None  # input tokens read from a cache (part of input)
    reasoning: int | None = None  # output tokens spent reasoning (part of output)

    def __bool__(self) -> bool:
        return self.input is not None or self.output is not None


@dataclass(frozen=True)
class GenAiView:
    """What a GenAI span says, whatever convention it was written in."""

    convention: str  # "otel", "openllmetry" or "openinference"
    operation: str | None = None
    provider: str | None = None
    request_model: str | None = None
    response_model: str | None = None
    system_instructions: str = ""
    input_messages: tuple[Message, ...] = ()
    output_messages: tuple[Message, ...] = ()
    usage: Usage = field(default_factory=Usage)
    finish_reasons: tuple[str, ...] = ()
    tool_name: str | None = None
    tool_arguments: str | None = None
    tool_result: str | None = None
    agent_name: str | None = None
    session_id: str | None = None
    user_id: str | None = None

    @property
    def model(self) -> str | None:
        return self.response_model or self.request_model

    @property
    def is_model_call(self) -> bool:
        return self.operation in MODEL_OPERATIONS

    @property
    def prompt(self) -> list[Message]:
        """The input messages, with the system instructions first (once)."""
        messages = list(self.input_messages)
        if self.system_instructions and not any(m.role == "system" for m in messages):
            messages.insert(0, Message("system", self.system_instructions))
        return messages

    @property
    def user_query(self) -> str:
        """The text of the last user message ("" when there is none)."""
        return next((m.text for m in reversed(self.input_messages) if m.role == "user"), "")

    @property
    def response(self) -> str:
        """The text of the first output message ("" when there is none)."""
        return self.output_messages[0].text if self.output_messages else ""


# -- shared readers ------------------------------------------------------------------------------
def _str(value: Any) -> str | None:
    """A name-like value as text; ``None`` when empty or not a scalar (a list is no name)."""
    if type(value) is str:  # the common case first: every span of a store index passes here
        return value or None
    if value is None or isinstance(value, list | tuple | dict | bool):
        return None
    if isinstance(value, str):
        return value or None
    return str(value)


def _int(value: Any) -> int | None:
    if type(value) is int:
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.isascii() and value.isdigit():  # not "²": a digit int() refuses
        return int(value)
    return None


def _first(attributes: Mapping[str, Any], keys: Sequence[str]) -> str | None:
    for key in keys:
        value = attributes.get(key)
        if value is not None and (value := _str(value)) is not None:
            return value
    return None


def _message_shaped(value: Any) -> bool:
    if isinstance(value, Mapping):
        return not _MESSAGE_KEYS.isdisjoint(value)
    return isinstance(value, list) and all(isinstance(item, str) or _message_shaped(item) for item in value)


def _json(value: Any) -> Any:
    """Messages or parts encoded as JSON, decoded; other text (even a user's "[1, 2]") kept."""
    if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
        try:
            decoded = json.loads(value)
        except (ValueError, RecursionError):
            return value
        return decoded if _message_shaped(decoded) else value
    return value


def text_of(content: Any) -> str:
    """The text of a message's content, in any of the shapes the conventions allow."""
    content = _json(content)
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):
        if "parts" in content:
            return text_of(content["parts"])
        for key in ("content", "text", "message"):
            if key in content:
                return text_of(content[key])
        return ""
    if isinstance(content, Sequence):
        texts = []
        for part in content:
            if isinstance(part, Mapping) and part.get("type", "text") not in ("text", None):
                continue  # tool calls, images, blobs: not conversation text
            text = text_of(part)
            if text:
                texts.append(text)
        return "\n".join(texts)
    return str(content)


def _arguments(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _tool_calls_of_parts(message: Mapping[str, Any]) -> tuple[ToolCall, ...]:
    calls = []
    parts = _json(message.get("parts"))
    for part in parts if isinstance(parts, list) else ():
        if isinstance(part, Mapping) and part.get("type") == "tool_call":
            calls.append(
                ToolCall(str(part.get("name", "")), _arguments(part.get("arguments")), _str(part.get("id")))
            )
    older = _json(message.get("tool_calls"))  # the older event form
    for call in older if isinstance(older, list | tuple) else ():
        if isinstance(call, Mapping):
            inner = call.get("function")
            function: Mapping[str, Any] = inner if isinstance(inner, Mapping) else call
            calls.append(
                ToolCall(
                    str(function.get("name", "")), _arguments(function.get("arguments")), _str(call.get("id"))
                )
            )
    return tuple(calls)


def messages_of_value(value: Any, default_role: str = "user") -> list[Message]:
    """The messages of a ``gen_ai.*.messages`` value (JSON text or structured)."""
    value = _json(value)
    if isinstance(value, Mapping):
        value = [value]
    if isinstance(value, str):
        return [Message(default_role, value)] if value else []
    if not isinstance(value, Sequence):
        return []
    found = []
    for message in value:
        if isinstance(message, Mapping):
            found.append(
                Message(
                    str(message.get("role") or default_role),
                    text_of(message),
                    _str(message.get("finish_reason")),
                    _tool_calls_of_parts(message),
                )
            )
        elif isinstance(message, str):
            found.append(Message(default_role, message))
    return found


def _indexed(attributes: Mapping[str, Any], prefix: str) -> list[dict[str, Any]]:
    """``prefix.N.rest = value`` attributes grouped by N (in order): [{rest: value}, ...]."""
    groups: dict[int, dict[str, Any]] = {}
    for key, value in attributes.items():
        if not key.startswith(prefix):
            continue
        match = _INDEXED.fullmatch(key, len(prefix))
        if match is not None:
            groups.setdefault(int(match.group(1)), {})[match.group(2)] = value
    return [groups[index] for index in sorted(groups)]


def _tool_calls_indexed(
    fields: Mapping[str, Any], prefix: str, name: str, arguments: str
) -> tuple[ToolCall, ...]:
    calls = []
    for call in _indexed(fields, prefix):
        calls.append(ToolCall(str(call.get(name, "")), _arguments(call.get(arguments)), _str(call.get("id"))))
    return tuple(calls)


# -- the three conventions ------------------------------------------------------------------------
def _otel_usage(attributes: Mapping[str, Any]) -> Usage:
    return Usage(
        _int(attributes.get("gen_ai.usage.input_tokens", attributes.get("gen_ai.usage.prompt_tokens"))),
        _int(attributes.get("gen_ai.usage.output_tokens", attributes.get("gen_ai.usage.completion_tokens"))),
        _int(
            attributes.get(
                "gen_ai.usage.cache_read.input_tokens", attributes.get("gen_ai.usage.cache_read_input_tokens")
            )
        ),
        _int(attributes.get("gen_ai.usage.reasoning.output_tokens")),
    )


def _otel(attributes: Mapping[str, Any], events: list[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    inputs: list[Message] = []
    outputs: list[Message] = []
    for name, attrs in events:
        if name in MESSAGE_EVENTS:
            body = attrs.get("content", attrs.get("message"))
            inputs.append(Message(MESSAGE_EVENTS[name], text_of(body), None, _tool_calls_of_parts(attrs)))
        elif name == CHOICE_EVENT:
            message = attrs.get("message", attrs.get("content"))
            calls = _tool_calls_of_parts(message) if isinstance(message, Mapping) else ()
            outputs.append(Message("assistant", text_of(message), _str(attrs.get("finish_reason")), calls))
        elif name == DETAILS_EVENT:
            inputs += messages_of_value(attrs.get(INPUT_MESSAGES))
            outputs += messages_of_value(attrs.get(OUTPUT_MESSAGES), "assistant")
            if SYSTEM_INSTRUCTIONS in attrs and SYSTEM_INSTRUCTIONS not in attributes:
                attributes = {**attributes, SYSTEM_INSTRUCTIONS: attrs[SYSTEM_INSTRUCTIONS]}
    if not inputs and INPUT_MESSAGES in attributes:
        inputs = messages_of_value(attributes[INPUT_MESSAGES])
    if not outputs and OUTPUT_MESSAGES in attributes:
        outputs = messages_of_value(attributes[OUTPUT_MESSAGES], "assistant")
    system = text_of(attributes.get(SYSTEM_INSTRUCTIONS))
    if not system:
        system = "\n".join(m.text for m in inputs if m.role == "system" and m.text)
    usage = _otel_usage(attributes)
    return {
        "operation": _str(attributes.get(OPERATION)),
        "provider": _first(attributes, ("gen_ai.provider.name", "gen_ai.system")),
        "request_model": _str(attributes.get("gen_ai.request.model")),
        "response_model": _str(attributes.get("gen_ai.response.model")),
        "system_instructions": system,
        "input_messages": tuple(inputs),
        "output_messages": tuple(outputs),
        "usage": usage,
        "tool_name": _str(attributes.get("gen_ai.tool.name")),
        "tool_arguments": _str(attributes.get("gen_ai.tool.call.arguments")),
        "tool_result": _str(attributes.get("gen_ai.tool.call.result")),
        "agent_name": _str(attributes.get("gen_ai.agent.name")),
    }


def _openllmetry(attributes: Mapping[str, Any]) -> dict[str, Any]:
    inputs = [
        Message(
            str(fields.get("role") or "user"),
            text_of(fields.get("content")),
            None,
            _tool_calls_indexed(fields, "tool_calls.", "name", "arguments"),
        )
        for fields in _indexed(attributes, "gen_ai.prompt.")
    ]
    outputs = [
        Message(
            str(fields.get("role") or "assistant"),
            text_of(fields.get("content")),
            _str(fields.get("finish_reason")),
            _tool_calls_indexed(fields, "tool_calls.", "name", "arguments"),
        )
        for fields in _indexed(attributes, "gen_ai.completion.")
    ]
    kind = _str(attributes.get("llm.request.type")) or _str(attributes.get("traceloop.span.kind"))
    operation = OPENLLMETRY_OPERATIONS.get(kind or "")
    return {
        "operation": operation,
        "input_messages": tuple(inputs),
        "output_messages": tuple(outputs),
        "usage": Usage(
            _int(attributes.get("gen_ai.usage.prompt_tokens", attributes.get("gen_ai.usage.input_tokens"))),
            _int(
                attributes.get("gen_ai.usage.completion_tokens", attributes.get("gen_ai.usage.output_tokens"))
            ),
            _int(attributes.get("gen_ai.usage.cache_read_input_tokens")),
            None,
        ),
        "tool_name": _str(attributes.get("traceloop.entity.name")) if operation == "execute_tool" else None,
        "tool_arguments": _str(attributes.get("traceloop.entity.input"))
        if operation == "execute_tool"
        else None,
        "tool_result": _str(attributes.get("traceloop.entity.output"))
        if operation == "execute_tool"
        else None,
        "agent_name": _str(attributes.get("traceloop.entity.name")) if operation == "invoke_agent" else None,
        "system_instructions": "\n".join(m.text for m in inputs if m.role == "system" and m.text),
    }


def _openinference_messages(attributes: Mapping[str, Any], prefix: str, role: str) -> list[Message]:
    found = []
    for fields in _indexed(attributes, prefix):
        text = text_of(fields.get("message.content"))
        if not text:
            text = "\n".join(
                text_of(part.get("message_content.text"))
                for part in _indexed(fields, "message.contents.")
                if part.get("message_content.text")
            )
        found.append(
            Message(
                str(fields.get("message.role") or role),
                text,
                _str(fields.get("message.finish_reason")),
                _tool_calls_indexed(
                    fields, "message.tool_calls.", "tool_call.function.name", "tool_call.function.arguments"
                ),
            )
        )
    return found


def _openinference(attributes: Mapping[str, Any]) -> dict[str, Any]:
    kind = _str(attributes.get("openinference.span.kind"))
    operation = OPENINFERENCE_OPERATIONS.get((kind or "").upper())
    inputs = _openinference_messages(attributes, "llm.input_messages.", "user")
    outputs = _openinference_messages(attributes, "llm.output_messages.", "assistant")
    value_in, value_out = _str(attributes.get("input.value")), _str(attributes.get("output.value"))
    if operation == "chat" and not inputs and value_in:
        inputs = messages_of_value(value_in)
    if operation == "chat" and not outputs and value_out:
        outputs = messages_of_value(value_out, "assistant")
    model = _str(attributes.get("llm.model_name"))
    return {
        "operation": operation,
        "provider": _first(attributes, ("llm.provider", "llm.system")),
        "request_model": model,
        "response_model": model,
        "input_messages": tuple(inputs),
        "output_messages": tuple(outputs),
        "system_instructions": "\n".join(m.text for m in inputs if m.role == "system" and m.text),
        "usage": Usage(
            _int(attributes.get("llm.token_count.prompt")),
            _int(attributes.get("llm.token_count.completion")),
            _int(attributes.get("llm.token_count.prompt_details.cache_read")),
            _int(attributes.get("llm.token_count.completion_details.reasoning")),
        ),
        "tool_name": _str(attributes.get("tool.name")) if operation == "execute_tool" else None,
        "tool_arguments": (_str(attributes.get("tool.parameters")) or value_in)
        if operation == "execute_tool"
        else None,
        "tool_result": value_out if operation == "execute_tool" else None,
        "agent_name": _str(attributes.get("agent.name")) if operation == "invoke_agent" else None,
    }


def convention_of(attributes: Mapping[str, Any]) -> str | None:
    """Which convention a span's attributes are written in, if any of the GenAI ones."""
    if "openinference.span.kind" in attributes:
        return "openinference"
    if "llm.request.type" in attributes or "traceloop.span.kind" in attributes:
        return "openllmetry"
    for key in attributes:
        if key.startswith(("gen_ai.prompt.", "gen_ai.completion.")):
            return "openllmetry"
    for key in attributes:
        if key.startswith("gen_ai."):
            return "otel"
    return None


@dataclass(frozen=True)
class GenAiSummary:
    """What the store index keeps of a GenAI span: as :func:`genai_view` gives them."""

    operation: str | None
    model: str | None
    session_id: str | None
    usage: Usage


def genai_summary(attributes: Mapping[str, Any]) -> GenAiSummary | None:
    """The operation, model, session and usage of a span with these attributes (no events), the
    same as its :func:`genai_view`'s, without reading its messages where the OTel convention
    alone is used (the common case, and the only one read here; the others ask the view)."""
    if DUPLICATE_OF in attributes:
        return None
    convention = convention_of(attributes)
    if convention == "otel":
        model = _str(attributes.get("gen_ai.response.model")) or _str(attributes.get("gen_ai.request.model"))
        return GenAiSummary(
            _str(attributes.get(OPERATION)), model, _first(attributes, SESSION_KEYS), _otel_usage(attributes)
        )
    view = genai_view(attributes)
    if view is None:
        return None
    return GenAiSummary(view.operation, view.model, view.session_id, view.usage)


def genai_view(attributes: Mapping[str, Any], events: Events = ()) -> GenAiView | None:
    """The GenAI view of a span (its attributes and ``(name, attributes)`` events), or ``None``
    when it is no GenAI span in any convention, or the second record of a call (DUPLICATE_OF)."""
    if DUPLICATE_OF in attributes:
        return None
    event_list = [(name, attrs or {}) for name, attrs in events]
    convention = convention_of(attributes)
    if convention is None:
        if not any(name in MESSAGE_EVENTS or name in (CHOICE_EVENT, DETAILS_EVENT) for name, _ in event_list):
            return None
        convention = "otel"
    fields = _otel(attributes, event_list)
    if convention == "openllmetry":
        fields = _merge(fields, _openllmetry(attributes))
    elif convention == "openinference":
        fields = _merge(fields, _openinference(attributes))
    finish = attributes.get("gen_ai.response.finish_reasons")
    if isinstance(finish, str):
        reasons: tuple[str, ...] = (finish,)
    elif isinstance(finish, list | tuple):
        reasons = tuple(str(reason) for reason in finish)
    else:
        reasons = ()
    if not reasons:
        reasons = tuple(m.finish_reason for m in fields["output_messages"] if m.finish_reason)
    return GenAiView(
        convention=convention,
        finish_reasons=reasons,
        session_id=_first(attributes, SESSION_KEYS),
        user_id=_first(attributes, USER_KEYS),
        **fields,
    )


def _merge(otel: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """A convention's own fields, with the OTel ones filling what it leaves empty."""
    merged = dict(otel)
    for key, value in other.items():
        if value:  # an empty Usage is false too
            merged[key] = value
    return merged

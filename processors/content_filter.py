"""The GenAI content filter: drops message content (inputs, outputs or both) before any exporter.

For users who must not keep prompts or answers at all (``TELEMETRY_RECORD_INPUTS=false`` /
``TELEMETRY_RECORD_OUTPUTS=false``). It knows where each convention puts content: the OTel
GenAI attributes (``gen_ai.input.messages``, ``gen_ai.system_instructions``,
``gen_ai.output.messages``, tool-call arguments and results), the per-message span and log
events (``gen_ai.user.message``, ``gen_ai.choice``, …), OpenLLMetry's indexed
``gen_ai.prompt.N.*`` / ``gen_ai.completion.N.*``, ``traceloop.entity.input/output`` and
``gen_ai.task.input/output``, OpenInference's ``llm.input_messages.N.*``, ``input.value`` /
``output.value``, embedded and retrieved documents, and CrewAI's tasks, agents and results
(``crewai.*``, ``crew_*``). Content is
removed whatever the instrumentation's own capture setting; model, usage, roles, finish reasons
and timing stay.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.trace import Event

from otel_distro import _sdk
from otel_distro.runtime.bounded import bounded_put
from processors.records import replace_log
from processors.rewrite import RecordRewriter

# Attribute keys holding input content, in every convention (indexed forms: all but the role).
_INPUT_KEYS = (
    r"gen_ai\.input\.messages|gen_ai\.system_instructions|gen_ai\.prompt"
    r"|gen_ai\.prompt\.\d+\.(?!role$).+|gen_ai\.tool\.call\.arguments|gen_ai\.tool\.definitions"
    r"|input\.value|llm\.input_messages\.\d+\.message\.(?!role$).+|llm\.prompts(?:\.\d+.*)?"
    r"|llm\.prompt_template\.(?:template|variables)|llm\.tools\..+|traceloop\.entity\.input"
    r"|gen_ai\.request\.messages|gen_ai\.task\.input"
    # agent frameworks: CrewAI's tasks and agents (OpenLLMetry's crewai.*, OpenInference's
    # crew_*), documents an embedding or a retrieval read (OpenInference)
    r"|crewai\.(?:task\.(?:description|expected_output|context)|agent\.(?:backstory|goal|role)"
    r"|crew\.(?:agents|tasks))|crew_(?:agents|tasks|inputs)"
    r"|embedding\.embeddings\.\d+\.embedding\.text|retrieval\.documents\.\d+\.document\.content"
    r"|reranker\.(?:input|output)_documents\.\d+\.document\.content|reranker\.query"
)
_OUTPUT_KEYS = (
    r"gen_ai\.output\.messages|gen_ai\.completion|gen_ai\.completion\.\d+\.(?!role$|finish_reason$).+"
    r"|gen_ai\.tool\.call\.result|output\.value|llm\.output_messages\.\d+\.message\.(?!role$).+"
    r"|traceloop\.entity\.output|gen_ai\.response\.messages|gen_ai\.task\.output"
    r"|crewai\.(?:crew\.(?:result|tasks_output)|task\.output|agent\.output)|crew_output"
)
# Per-message events (span events and log records) of the GenAI conventions, old and new.
INPUT_EVENTS = frozenset(
    {
        "gen_ai.system.message",
        "gen_ai.user.message",
        "gen_ai.assistant.message",
        "gen_ai.tool.message",
        "gen_ai.content.prompt",
    }
)
OUTPUT_EVENTS = frozenset({"gen_ai.choice", "gen_ai.content.completion"})
# What a message event keeps when its content goes.
_KEPT_IN_MESSAGES = frozenset(
    {"role", "index", "finish_reason", "id", "type", "gen_ai.system", "gen_ai.provider.name"}
)
_KEYS_LIMIT = 4096


def _kept(value: Mapping[str, Any]) -> dict[str, Any]:
    """A message event's body or attributes with only the kept keys (and the message's own)."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key == "message" and isinstance(item, Mapping):
            out[key] = _kept(item)
        elif key in _KEPT_IN_MESSAGES and isinstance(item, str | int | float | bool):
            out[key] = item
    return out


class ContentFilter(RecordRewriter):
    """Removes GenAI message content from spans, span events and log records."""

    rewrites_text = False

    def __init__(self, inputs: bool = True, outputs: bool = True) -> None:
        """``inputs`` / ``outputs``: drop that side's content."""
        super().__init__()
        sources = [source for drop, source in ((inputs, _INPUT_KEYS), (outputs, _OUTPUT_KEYS)) if drop]
        self._keys = re.compile("|".join(f"(?:{source})" for source in sources) or "(?!)")
        self._message_events = (INPUT_EVENTS if inputs else frozenset()) | (
            OUTPUT_EVENTS if outputs else frozenset()
        )
        self._dropped: dict[str, bool] = {}

    def drops(self, key: str) -> bool:
        """Whether values under this attribute key are content this filter removes; cached."""
        dropped = self._dropped.get(key)
        if dropped is None:
            dropped = bounded_put(self._dropped, key, self._keys.fullmatch(key) is not None, _KEYS_LIMIT)
        return dropped

    def rewrite_attributes(self, attrs: Mapping[str, Any], counts: Counter[str]) -> dict[str, Any] | None:
        values = _sdk.plain(attrs)
        if not any(self.drops(key) for key in values):
            return None
        return {key: value for key, value in values.items() if not self.drops(key)}

    def _events(self, events: Sequence[Event], counts: Counter[str]) -> list[Event] | None:
        changed = False
        out = []
        for event in events:
            attrs = event.attributes or {}
            if event.name in self._message_events:
                new: dict[str, Any] | None = _kept(dict(attrs))
            else:
                new = self.rewrite_attributes(attrs, counts)
            if new is None or new == dict(attrs):
                out.append(event)
                continue
            changed = True
            out.append(Event(event.name, new, event.timestamp))
        return out if changed else None

    def process_log(self, record: ReadableLogRecord) -> ReadableLogRecord | None:
        log = record.log_record
        name = getattr(log, "event_name", None) or (log.attributes or {}).get("event.name")
        attrs = log.attributes or {}
        if name in self._message_events:
            body = _kept(log.body) if isinstance(log.body, Mapping) else None
            attributes: Mapping[str, Any] | None = {
                key: value for key, value in attrs.items() if key in _KEPT_IN_MESSAGES or key == "event.name"
            }
            if body == log.body and attributes == dict(attrs):
                return record
            return replace_log(record, body=body, attributes=attributes)
        attributes = self.rewrite_attributes(attrs, Counter())
        return record if attributes is None else replace_log(record, attributes=attributes)

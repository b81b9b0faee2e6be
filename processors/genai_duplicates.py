"""One model call recorded by two instrumentations: the second span is marked, so it counts once.

Two instrumentations of one client (the official OpenAI one and OpenLLMetry's, say), or an SDK
that traces itself beside an instrumentation, record each model call twice: one span inside
the other, or in separate traces. :class:`DuplicateModelCalls` notes each model-call span as
it ends (model, instrumentation scope, start and end); a span of another scope for the same
model whose time overlaps one noted and not yet paired is the same call, and gets
``otel_distro.genai.duplicate_of`` (the other span's id). Every GenAI reader (conversation
log, Langfuse, stats, compliance) skips marked spans; the span itself still reaches the store.
A warning names both instrumentations once.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from instrumentations.genai_view import DUPLICATE_OF
from processors.base import RecordProcessor
from processors.records import replace_span

_logger = logging.getLogger(__name__)
_MODEL_KEYS = ("gen_ai.request.model", "llm.model_name", "gen_ai.response.model")
# Operations that are model calls, in each convention (a span with a model and none of these
# operation keys counts too: older instrumentations set only the model)
_CALL_OPERATIONS = frozenset(
    {"chat", "text_completion", "generate_content", "embeddings", "completion", "LLM"}
)
_OPERATION_KEYS = ("gen_ai.operation.name", "llm.request.type", "openinference.span.kind")
_RECENT = 256  # model calls remembered (spans of one call end within a moment of each other)


@dataclass
class _Call:
    model: str
    scope: str
    start: int
    end: int
    span_id: int
    paired: bool = False


def _model_call(attributes: Mapping[str, Any]) -> str | None:
    """The model of a model-call span, else None (two dict lookups for most spans)."""
    model = None
    for key in _MODEL_KEYS:
        value = attributes.get(key)
        if isinstance(value, str) and value:
            model = value
            break
    if model is None:
        return None
    for key in _OPERATION_KEYS:
        operation = attributes.get(key)
        if operation is not None:
            return model if operation in _CALL_OPERATIONS else None
    return model


class DuplicateModelCalls(RecordProcessor):
    """Marks the later-ending span of a model call that another instrumentation recorded too."""

    def __init__(self) -> None:
        self._recent: deque[_Call] = deque(maxlen=_RECENT)
        self._lock = threading.Lock()
        self._warned: set[tuple[str, str]] = set()

    def process_span(self, span: ReadableSpan) -> ReadableSpan | None:
        attrs = span._attributes  # private: the plain dict, as the rewriters read it (see rewrite.py)
        attributes = getattr(attrs, "_dict", attrs) or {}
        model = _model_call(attributes)
        if model is None or DUPLICATE_OF in attributes or span.context is None:
            return span
        scope = span.instrumentation_scope.name if span.instrumentation_scope else ""
        start, end = span.start_time or 0, span.end_time or 0
        twin: _Call | None = None
        with self._lock:
            for call in self._recent:
                if (
                    not call.paired
                    and call.scope != scope
                    and call.model == model
                    and call.start <= end
                    and start <= call.end
                ):
                    call.paired = True
                    twin = call
                    break
            else:
                self._recent.append(_Call(model, scope, start, end, span.context.span_id))
        if twin is None:
            return span
        self._warn(twin.scope, scope)
        return replace_span(span, attributes={**attributes, DUPLICATE_OF: f"{twin.span_id:016x}"})

    def _warn(self, first: str, second: str) -> None:
        pair = (min(first, second), max(first, second))
        if pair in self._warned:
            return
        self._warned.add(pair)
        _logger.warning(
            "otel-distro: two instrumentations record the same model calls (%s and %s); each call is "
            "counted once (the conversation log, Langfuse, stats and compliance skip the second span). "
            "Disable one with OTEL_PYTHON_DISABLED_INSTRUMENTATIONS",
            first or "an unnamed tracer",
            second or "an unnamed tracer",
        )

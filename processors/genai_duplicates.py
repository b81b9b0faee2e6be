"""One model call recorded by two instrumentations: one span is marked, so the call counts once.

Two instrumentations of one client (the official OpenAI one and OpenLLMetry's, say), or an SDK
that traces itself beside an instrumentation (the Anthropic SDK), record each model call twice:
one span inside the other, or in separate traces. :class:`DuplicateModelCalls` notes each
model-call span as it ends (model, instrumentation scope, start and end); a span of another
scope for the same model whose time overlaps one noted and not yet paired is the same call, and
gets ``otel_distro.genai.duplicate_of`` (the other span's id). An SDK's own span (a scope that
is no instrumentation's) is the one marked whenever it can be: it carries usage but seldom the
messages, so at its end it is marked if an instrumentation's span of the same model is still
open (it started before and has not ended: the SDK's span is inside it). Every GenAI reader
(conversation log, Langfuse, stats, compliance) skips marked spans; the span itself still
reaches the store. A warning names both once.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Mapping
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from instrumentations.genai_view import DUPLICATE_OF
from otel_distro import _sdk
from otel_distro.runtime.bounded import bounded_add, bounded_put
from otel_distro.runtime.say_once import SayOnce
from processors.base import RecordProcessor
from processors.records import replace_span

_logger = logging.getLogger(f"otel_distro.{__name__}")
_MODEL_KEYS = ("gen_ai.request.model", "llm.model_name", "gen_ai.response.model")
# Operations that are model calls, in each convention (a span with a model and none of these
# operation keys counts too: older instrumentations set only the model)
_CALL_OPERATIONS = frozenset(
    {"chat", "text_completion", "generate_content", "embeddings", "completion", "LLM"}
)
_OPERATION_KEYS = ("gen_ai.operation.name", "llm.request.type", "openinference.span.kind")
_RECENT = 256  # model calls remembered (spans of one call end within a moment of each other)
_MARKS_OF_INSTRUMENTATIONS = ("instrumentation", "openinference", "traceloop", "openllmetry")


_SCOPES: dict[str, bool] = {}  # scope name -> an instrumentation's? (a process has few scopes)


def _is_instrumentation(scope: str) -> bool:
    """An instrumentation library's scope, not an SDK tracing itself ("com.anthropic.sdk.python")."""
    known = _SCOPES.get(scope)
    if known is None:
        known = bounded_put(_SCOPES, scope, any(mark in scope for mark in _MARKS_OF_INSTRUMENTATIONS), 1024)
    return known


_Call = tuple[int, int, int]  # start, end, span id


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
        # model -> instrumentation scope -> its recent calls: a model seen from one scope only
        # (the usual case) costs two dict lookups and an append
        self._recent: dict[str, dict[str, deque[_Call]]] = {}
        self._paired: set[int] = set()  # span ids of calls already matched with a twin
        self._open: dict[int, tuple[str, str]] = {}  # instrumentations' model calls started: (model, scope)
        self._lock = threading.Lock()
        self._say = SayOnce(_logger)

    notes_starts = True

    def note_start(self, span: ReadableSpan) -> None:
        """An instrumentation's model call starts: an SDK span of that model ending while it is
        open is the same call."""
        scope = span.instrumentation_scope.name if span.instrumentation_scope else ""
        if not _is_instrumentation(scope) or span.context is None:
            return
        model = _model_call(_sdk.attributes(span))
        if model is not None:
            bounded_put(self._open, span.context.span_id, (model, scope), _RECENT * 4)  # some never end

    def process_span(self, span: ReadableSpan) -> ReadableSpan | None:
        attributes = _sdk.attributes(span)
        model = _model_call(attributes)
        if model is None or DUPLICATE_OF in attributes or span.context is None:
            return span
        scope = span.instrumentation_scope.name if span.instrumentation_scope else ""
        own_id = span.context.span_id
        if self._open.pop(own_id, None) is None and self._open and not _is_instrumentation(scope):
            outer = self._open_call(model, scope)
            if outer is not None:  # an SDK's own span inside an instrumentation's: this one goes
                self._warn(outer[1], scope)
                return replace_span(span, attributes={**attributes, DUPLICATE_OF: f"{outer[0]:016x}"})
        call = (span.start_time or 0, span.end_time or 0, own_id)
        scopes = self._recent.get(model)
        if scopes is not None and len(scopes) == 1 and scope in scopes:
            scopes[scope].append(call)  # one instrumentation for this model: nothing to pair
            return span
        twin = self._pair(model, scope, call)
        if twin is None:
            return span
        self._warn(twin[0], scope)
        return replace_span(span, attributes={**attributes, DUPLICATE_OF: f"{twin[1]:016x}"})

    def _open_call(self, model: str, scope: str) -> tuple[int, str] | None:
        """An instrumentation's model call of this model, of another scope, still open; paired."""
        with self._lock:
            for span_id, (open_model, open_scope) in list(self._open.items()):
                if open_model == model and open_scope != scope and span_id not in self._paired:
                    bounded_add(self._paired, span_id, _RECENT * 4)
                    return span_id, open_scope
        return None

    def _pair(self, model: str, scope: str, call: _Call) -> tuple[str, int] | None:
        """The (scope, span id) of an unpaired call of another scope overlapping this one, which
        is then paired; else None, and this call is noted."""
        start, end, _ = call
        with self._lock:
            scopes = self._recent.get(model)
            if scopes is None:
                scopes = bounded_put(self._recent, model, {}, _RECENT)
            for other, calls in scopes.items():
                if other == scope:
                    continue
                for other_start, other_end, span_id in calls:
                    if span_id not in self._paired and other_start <= end and start <= other_end:
                        if len(self._paired) >= _RECENT * 4:
                            self._paired.clear()
                        self._paired.add(span_id)
                        return other, span_id
            own = scopes.get(scope)
            if own is None:
                own = scopes[scope] = deque(maxlen=_RECENT)
            own.append(call)
        return None

    def _warn(self, first: str, second: str) -> None:
        self._say(
            (min(first, second), max(first, second)),
            "otel-distro: two instrumentations record the same model calls (%s and %s); each call is "
            "counted once (the conversation log, Langfuse, stats and compliance skip the second span). "
            "To record each call once, disable one: name it in OTEL_PYTHON_DISABLED_INSTRUMENTATIONS "
            "where the two register different entry-point names, else uninstall one package (or turn "
            "off the SDK's own tracing, where one of them is an SDK tracing itself)",
            first or "an unnamed tracer",
            second or "an unnamed tracer",
        )

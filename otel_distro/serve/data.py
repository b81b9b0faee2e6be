"""What the viewer shows, as plain data: traces, spans with their GenAI view, runs, conversations."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Iterator
from typing import Any

from exporters.store.files import JsonlStore
from exporters.store.index import IndexUnavailable, StoreIndex, open_index
from exporters.store.index_query import TraceFilter, index_trace, spans_with
from exporters.store.index_schema import OPERATION, SESSION
from exporters.store.query import parse_duration, trace_tree
from exporters.store.spans import StoredSpan
from instrumentations.genai_view import GenAiView

REFRESH_SECONDS = 1.0  # at most one look at the files' growth per second


class StoreReader:
    """One process's index of the store, shared by the request threads (one at a time)."""

    def __init__(self, store: JsonlStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._index: StoreIndex | None = None
        self._refreshed = 0.0

    @contextlib.contextmanager
    def index(self) -> Iterator[StoreIndex]:
        """The up-to-date index (raises IndexUnavailable when it cannot be had)."""
        with self._lock:
            if self._index is None:
                self._index = open_index(self.store, in_memory_if_sealed=True)
                self._refreshed = time.monotonic()
            elif time.monotonic() - self._refreshed >= REFRESH_SECONDS:
                try:
                    self._index.refresh()
                except IndexUnavailable:
                    self._index.close()
                    self._index = open_index(self.store, in_memory_if_sealed=True)
                self._refreshed = time.monotonic()
            yield self._index

    def close(self) -> None:
        with self._lock:
            if self._index is not None:
                self._index.close()
                self._index = None


def parse_time(text: str | None, now: dt.datetime | None = None) -> int | None:
    """A time filter: a duration back from now (``24h``), an ISO time, or Unix nanoseconds."""
    if not text:
        return None
    now = now or dt.datetime.now(dt.UTC)
    text = text.strip()
    if text.isdigit() and len(text) > 12:
        return int(text)
    try:
        return int((now - parse_duration(text)).timestamp() * 1e9)
    except ValueError:
        pass
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1e9)


def trace_filter(params: Any) -> TraceFilter:
    """The trace filter named by query parameters (raises ValueError on a bad time)."""
    status = params.get("status") or None
    if status not in (None, "error", "ok"):
        raise ValueError("status is error or ok")
    return TraceFilter(
        since_ns=parse_time(params.get("since")),
        until_ns=parse_time(params.get("until")),
        service=params.get("service") or None,
        status=status,
        name=params.get("name") or None,
        operation=params.get("operation") or None,
        model=params.get("model") or None,
        text=params.get("q") or None,
    )


def _message(message: Any) -> dict[str, Any]:
    return {
        "role": message.role,
        "text": message.text,
        "finish_reason": message.finish_reason,
        "tool_calls": [{"name": c.name, "arguments": c.arguments, "id": c.id} for c in message.tool_calls],
    }


def genai_json(view: GenAiView) -> dict[str, Any]:
    """A span's GenAI view as data: the conversation, usage and model."""
    return {
        "convention": view.convention,
        "operation": view.operation,
        "provider": view.provider,
        "model": view.model,
        "agent": view.agent_name,
        "session": view.session_id,
        "system": view.system_instructions,
        "input": [_message(m) for m in view.input_messages],
        "output": [_message(m) for m in view.output_messages],
        "usage": {
            "input": view.usage.input,
            "output": view.usage.output,
            "cached": view.usage.cached,
            "reasoning": view.usage.reasoning,
        },
        "finish_reasons": list(view.finish_reasons),
        "tool": {"name": view.tool_name, "arguments": view.tool_arguments, "result": view.tool_result}
        if view.tool_name
        else None,
    }


def span_json(span: StoredSpan, depth: int = 0) -> dict[str, Any]:
    """One span with everything the trace page shows."""
    attributes = span.attributes
    events = [
        {"name": name, "time_unix_nano": time, "attributes": attrs} for name, time, attrs in span.events
    ]
    view = span.genai()
    return {
        "depth": depth,
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "parent_span_id": span.parent_id or None,
        "name": span.name,
        "kind": int(span.kind),
        "service": span.service,
        "start_unix_nano": span.start_ns,
        "duration_ms": round(span.duration_ms, 3),
        "status": {"code": span.status_code, "message": span.status_message},
        "attributes": attributes,
        "events": events,
        "exceptions": [event for event in events if event["name"] == "exception"],
        "links": [
            {"trace_id": trace_id, "span_id": span_id, "attributes": attrs}
            for trace_id, span_id, attrs in span.links
        ],
        "genai": genai_json(view) if view is not None else None,
    }


def trace_json(index: StoreIndex, trace_id: str) -> dict[str, Any] | None:
    spans = index_trace(index, trace_id)
    if not spans:
        return None
    return {"trace_id": trace_id.strip().lower(), "spans": [span_json(s, d) for d, s in trace_tree(spans)]}


def run_json(span: StoredSpan) -> dict[str, Any]:
    """An agent run (an ``invoke_agent`` span): agent, job, status, duration, items, metrics, commit."""
    attributes = span.attributes
    items = {k.rsplit(".", 1)[1]: v for k, v in attributes.items() if k.startswith("agent.run.items.")}
    metrics = {
        k[len("agent.run.metrics.") :]: v for k, v in attributes.items() if k.startswith("agent.run.metrics.")
    }
    status = attributes.get("agent.run.status") or ("failed" if span.status_code == 2 else "success")
    commit = None
    if attributes.get("vcs.ref.head.revision"):
        commit = {
            "revision": attributes.get("vcs.ref.head.revision"),
            "repository": attributes.get("vcs.repository.url.full"),
            "provider": attributes.get("vcs.provider.name"),
        }
    return {
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "run_id": attributes.get("agent.run.id"),
        "agent": attributes.get("gen_ai.agent.name"),
        "job": attributes.get("agent.run.job_type"),
        "status": status,
        "error": attributes.get("error.type"),
        "start_unix_nano": span.start_ns,
        "duration_ms": round(span.duration_ms, 3),
        "items": items,
        "metrics": metrics,
        "commit": commit,
        "service": span.service,
    }


def runs(index: StoreIndex, limit: int = 50, before_ns: int | None = None) -> list[dict[str, Any]]:
    dim_id = index.dim_ids(OPERATION, "invoke_agent")
    if dim_id is None:
        return []
    return [run_json(span) for span in spans_with(index, "op", dim_id, limit, before_ns)]


def conversations(
    index: StoreIndex, session: str | None, limit: int = 20, turns: int = 50
) -> list[dict[str, Any]]:
    """Sessions (newest first), each with its model turns in time order."""
    from exporters.store.index_query import sessions as list_sessions

    chosen = [{"session": session}] if session else list_sessions(index, limit)
    found = []
    for entry in chosen:
        name = entry["session"]
        dim_id = index.dim_ids(SESSION, name) if name else None
        if dim_id is None:
            continue
        spans = spans_with(index, "session", dim_id, turns)
        turn_list = []
        for span in reversed(spans):
            view = span.genai()
            if view is None or not (view.input_messages or view.output_messages):
                continue
            turn_list.append(
                {
                    "trace_id": span.trace_id,
                    "span_id": span.span_id,
                    "start_unix_nano": span.start_ns,
                    "name": span.name,
                    "model": view.model,
                    "agent": view.agent_name,
                    "user": view.user_query,
                    "assistant": view.response,
                    "usage": {"input": view.usage.input, "output": view.usage.output},
                }
            )
        found.append({"session": name, "turns": turn_list})
    return found

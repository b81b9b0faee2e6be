"""The JSON API (``/api/v1``), ``/health``, ``/version`` and ``/metrics``: read-only, from the index."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from exporters.store.decode import json_safe
from exporters.store.index import IndexUnavailable, StoreIndex
from exporters.store.index_query import index_stats, list_traces
from exporters.store.index_query import series as index_series
from exporters.store.query import parse_duration
from otel_distro.serve import data
from otel_distro.serve.metrics import family

MAX_LIMIT = 500


def _state(request: Request) -> dict[str, Any]:
    state: dict[str, Any] = request.app.state.serve
    return state


def page_limit(request: Request, default: int = 50) -> int:
    try:
        return max(1, min(MAX_LIMIT, int(request.query_params.get("limit", default))))
    except ValueError:
        return default


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def with_index(request: Request, work: Any) -> Response:
    """Run ``work(index)`` on a worker thread; its dict (or a Response) is the answer."""
    reader: data.StoreReader = _state(request)["reader"]

    def call() -> Any:
        with reader.index() as index:
            return work(index)

    try:
        result = await run_in_threadpool(call)
    except IndexUnavailable as exc:
        return _error(f"the store index cannot be used: {exc}", 503)
    except ValueError as exc:
        return _error(str(exc))
    return result if isinstance(result, Response) else JSONResponse(json_safe(result))


async def health(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def version(_request: Request) -> Response:
    from otel_distro.version import __version__

    return JSONResponse({"name": "otel-distro", "version": __version__, "api": "v1"})


async def traces(request: Request) -> Response:
    def work(index: StoreIndex) -> dict[str, Any]:
        where = data.trace_filter(request.query_params)
        page = list_traces(index, where, page_limit(request), request.query_params.get("cursor") or None)
        return {"traces": page.traces, "next_cursor": page.next_cursor}

    return await with_index(request, work)


async def trace(request: Request) -> Response:
    trace_id = request.path_params["trace_id"]

    def work(index: StoreIndex) -> Any:
        found = data.trace_json(index, trace_id)
        return found if found is not None else _error(f"trace {trace_id} not found", 404)

    return await with_index(request, work)


async def runs(request: Request) -> Response:
    def work(index: StoreIndex) -> dict[str, Any]:
        before = request.query_params.get("before")
        return {"runs": data.runs(index, page_limit(request), int(before) if before else None)}

    return await with_index(request, work)


async def conversations(request: Request) -> Response:
    def work(index: StoreIndex) -> dict[str, Any]:
        session = request.query_params.get("session") or None
        return {"sessions": data.conversations(index, session, page_limit(request, 20))}

    return await with_index(request, work)


def stats_data(request: Request, index: StoreIndex, since_text: str) -> dict[str, Any]:
    from otel_distro.store_context import stats_json

    context = _state(request)["context"]
    window = parse_duration(since_text)
    result = index_stats(
        index, dt.datetime.now(dt.UTC) - window, top=int(request.query_params.get("top", 10))
    )
    return stats_json(context, result, context.conversation_log())


async def stats(request: Request) -> Response:
    return await with_index(
        request, lambda index: stats_data(request, index, request.query_params.get("since", "24h"))
    )


async def series(request: Request) -> Response:
    """The dashboard's series: per-step spans, errors, latency by name, tokens by model,
    redactions; with the conversation-log state and the stats of the window."""

    def work(index: StoreIndex) -> dict[str, Any]:
        since_text = request.query_params.get("since", "1h")
        window = parse_duration(since_text)
        step = max(60, int(window.total_seconds() // 120) // 60 * 60)
        since_ns = int((dt.datetime.now(dt.UTC) - window).timestamp() * 1e9)
        found = index_series(index, since_ns, step * 10**9)
        found["stats"] = stats_data(request, index, since_text)
        return found

    return await with_index(request, work)


async def prometheus(request: Request) -> Response:
    state = _state(request)

    def work(index: StoreIndex) -> Response:
        metrics = state["metrics"]
        metrics.refresh()
        lines = metrics.exposition()
        lines += own_metrics(request, index)
        return PlainTextResponse(
            "\n".join(lines) + "\n", media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    return await with_index(request, work)


def own_metrics(request: Request, index: StoreIndex) -> list[str]:
    """The distro's own counters: spans in the store, drops, redactions, conversation-log state."""
    from otel_distro.store_context import dropped_counts

    context = _state(request)["context"]
    spans = index.db.execute("SELECT count(*) FROM spans").fetchone()[0]
    errors = index.db.execute("SELECT count(*) FROM spans WHERE status = 2").fetchone()[0]
    redacted = index.db.execute(
        "SELECT d.text, sum(r.count) FROM redhist r JOIN dims d ON d.id = r.entity GROUP BY 1"
    ).fetchall()
    conversation_log = context.conversation_log()
    dropped = dropped_counts(context.base_dir)
    lines = family(
        "otel_distro_store_spans", "gauge", "Spans in the local store (within retention).", [({}, spans)]
    )
    lines += family(
        "otel_distro_store_error_spans", "gauge", "Spans with status ERROR in the store.", [({}, errors)]
    )
    lines += family(
        "otel_distro_dropped_records_total",
        "counter",
        "Records dropped, by reason (every process of the store, all time).",
        [({"reason": reason}, count) for reason, count in dropped.items()] or [({"reason": "none"}, 0)],
    )
    lines += family(
        "otel_distro_redactions",
        "gauge",
        "Values the redactor replaced in stored spans, by entity.",
        [({"entity": entity}, count) for entity, count in redacted],
    )
    state = conversation_log or {}
    lines += family(
        "otel_distro_conversation_log_backlog_spans",
        "gauge",
        "Spans waiting for the conversation-log endpoint.",
        [({}, state.get("cached_spans", 0) or 0)],
    )
    lines += family(
        "otel_distro_conversation_log_backlog_bytes",
        "gauge",
        "Bytes waiting for the conversation-log endpoint.",
        [({}, state.get("cached_bytes", 0) or 0)],
    )
    lines += family(
        "otel_distro_conversation_log_delivered_records_total",
        "counter",
        "Records the conversation-log endpoint accepted.",
        [({}, state.get("delivered_records", 0) or 0)],
    )
    lines += family(
        "otel_distro_conversation_log_configured",
        "gauge",
        "1 when the conversation log is configured or has left a cache.",
        [({}, 1 if conversation_log else 0)],
    )
    return lines

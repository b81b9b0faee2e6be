"""Queries answered from the side index: stats, one trace, trace lists, agent runs, conversations,
series over time. Each falls back to scanning the files when the index cannot be used."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from exporters.store.files import JsonlStore, ReadProblems
from exporters.store.index import IndexUnavailable, StoreIndex, open_index
from exporters.store.index_schema import (
    HOUR_NS,
    MODEL,
    NAME,
    OPERATION,
    SERVICE,
    SESSION,
    bucket_bounds,
    duration_bucket,
    trace_key,
)
from exporters.store.query import SpanStats, find_trace, log_counts, percentile, span_stats
from exporters.store.spans import StoredSpan, stored_spans

_logger = logging.getLogger(f"otel_distro.{__name__}")

_TOKEN_NAMES = (
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.reasoning.output_tokens",
)
FETCH_ALL_DURATIONS = 150_000  # windows with at most this many spans sort their durations whole


def _ns(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1e9)


def indexed_span_stats(store: JsonlStore, window: dt.timedelta, top: int = 10) -> SpanStats:
    """:func:`~exporters.store.query.span_stats` from the index (the files when it cannot be used)."""
    try:
        index = open_index(store)
    except IndexUnavailable as exc:
        _logger.debug("store index not used: %s", exc)
        return span_stats(store, window, top)
    try:
        return index_stats(index, dt.datetime.now(dt.UTC) - window, top)
    finally:
        index.close()


def index_stats(index: StoreIndex, since: dt.datetime, top: int = 10) -> SpanStats:
    db = index.db
    stats = SpanStats(since=since.isoformat(timespec="seconds"))
    cutoff = _ns(since)
    full_hour = -(-cutoff // HOUR_NS)
    names: Counter[str] = Counter()
    services: Counter[str] = Counter()
    tokens = [0, 0, 0, 0]
    rows = db.execute(
        "SELECT name, service, sum(spans), sum(errors), sum(tok_in), sum(tok_out), sum(tok_cached), "
        "sum(tok_reasoning) FROM rollup WHERE hour >= ? GROUP BY 1, 2",
        (full_hour,),
    ).fetchall()
    rows += db.execute(
        "SELECT name, service, count(*), total(status = 2), total(tok_in), total(tok_out), "
        "total(tok_cached), total(tok_reasoning) FROM spans WHERE start_ns >= ? AND start_ns < ? "
        "GROUP BY 1, 2",
        (cutoff, full_hour * HOUR_NS),
    ).fetchall()
    for name, service, count, errors, *used in rows:
        stats.spans += int(count)
        stats.errors += int(errors)
        names[index.text(name) or ""] += int(count)
        services[index.text(service) or ""] += int(count)
        for position, value in enumerate(used):
            tokens[position] += int(value or 0)
    stats.p50_ms, stats.p95_ms = (value / 1e6 for value in _percentiles(index, cutoff, stats.spans))
    stats.traces = int(db.execute("SELECT count(*) FROM traces WHERE last_ns >= ?", (cutoff,)).fetchone()[0])
    stats.top_names = [(name, count) for name, count in names.most_common(top) if count]
    stats.services = {name: count for name, count in services.most_common() if count}
    stats.tokens = dict(
        sorted((name, count) for name, count in zip(_TOKEN_NAMES, tokens, strict=True) if count)
    )
    redacted: Counter[str] = Counter()
    for entity, count in (
        db.execute(
            "SELECT entity, sum(count) FROM redhist WHERE hour >= ? GROUP BY 1", (full_hour,)
        ).fetchall()
        + db.execute(
            "SELECT entity, sum(count) FROM redactions WHERE start_ns >= ? AND start_ns < ? GROUP BY 1",
            (cutoff, full_hour * HOUR_NS),
        ).fetchall()
    ):
        redacted[index.text(entity) or ""] += int(count)
    stats.redacted = {entity: count for entity, count in redacted.most_common() if count}
    logs, log_errors = db.execute(
        "SELECT count(*), total(severity >= 17) FROM logs WHERE time_ns >= ?", (cutoff,)
    ).fetchone()
    stats.log_records, stats.log_errors = int(logs), int(log_errors)
    first_day = (since - dt.timedelta(days=1)).date().isoformat()
    malformed = db.execute("SELECT total(malformed) FROM files WHERE name >= ?", (first_day,)).fetchone()[0]
    stats.problems.malformed = int(malformed)
    stats.problems.unreadable = list(index.problems.unreadable)
    return stats


def _percentiles(index: StoreIndex, cutoff: int, count: int) -> tuple[float, float]:
    """The exact p50 and p95 span durations (ns) of the window, as the file scan picks them."""
    if not count:
        return 0.0, 0.0
    db = index.db
    if count <= FETCH_ALL_DURATIONS:
        durations = sorted(
            row[0] for row in db.execute("SELECT dur_ns FROM spans WHERE start_ns >= ?", (cutoff,))
        )
        values: list[float] = list(map(float, durations))
        return percentile(values, 0.50), percentile(values, 0.95)
    full_hour = -(-cutoff // HOUR_NS)
    buckets: Counter[int] = Counter()
    for bucket, number in db.execute(
        "SELECT bucket, sum(count) FROM durhist WHERE hour >= ? GROUP BY 1", (full_hour,)
    ):
        buckets[int(bucket)] += int(number)
    for (dur_ns,) in db.execute(
        "SELECT dur_ns FROM spans WHERE start_ns >= ? AND start_ns < ?", (cutoff, full_hour * HOUR_NS)
    ):
        buckets[duration_bucket(dur_ns)] += 1
    total = sum(buckets.values())
    results = []
    for fraction in (0.50, 0.95):
        rank = min(total - 1, max(0, round(fraction * (total - 1))))
        below = 0
        for bucket in sorted(buckets):
            if below + buckets[bucket] > rank:
                low, high = bucket_bounds(bucket)
                inside = sorted(
                    dur
                    for (dur,) in db.execute(
                        "SELECT dur_ns FROM spans WHERE dur_ns BETWEEN ? AND ? AND start_ns >= ?",
                        (low, high, cutoff),
                    )
                    if duration_bucket(dur) == bucket
                )
                results.append(float(inside[min(rank - below, len(inside) - 1)]) if inside else 0.0)
                break
            below += buckets[bucket]
    return results[0], results[1]


def index_trace(index: StoreIndex, trace_id: str) -> list[StoredSpan]:
    """Every span of one trace, in start order, read from the lines the index points at."""
    trace_id = trace_id.strip().lower()
    try:
        key = trace_key(trace_id)
    except ValueError:
        return []
    refs = [
        (int(file_id), int(offset))
        for file_id, offset in index.db.execute(
            "SELECT DISTINCT file, offset FROM spans WHERE trace = ? ORDER BY file, offset", (key,)
        )
    ]
    spans: dict[str, StoredSpan] = {}
    for record in index.read_lines(refs):
        for span in stored_spans(record):
            if span.trace_id == trace_id:
                spans[span.span_id] = span
    return sorted(spans.values(), key=lambda span: span.start_ns)


def indexed_find_trace(
    store: JsonlStore, trace_id: str, problems: ReadProblems | None = None
) -> list[StoredSpan]:
    """:func:`~exporters.store.query.find_trace` from the index (the files when it cannot be used)."""
    try:
        index = open_index(store)
    except IndexUnavailable as exc:
        _logger.debug("store index not used: %s", exc)
        return find_trace(store, trace_id, problems)
    try:
        spans = index_trace(index, trace_id)
        if problems is not None:  # files the index could not read: the trace may be in one
            problems.add(index.problems)
        return spans
    finally:
        index.close()


@dataclass
class TraceFilter:
    """What a trace list is narrowed to; None = any."""

    since_ns: int | None = None
    until_ns: int | None = None
    service: str | None = None
    status: str | None = None  # "error" or "ok"
    name: str | None = None
    operation: str | None = None
    model: str | None = None
    text: str | None = None
    session: str | None = None


@dataclass
class TracePage:
    traces: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: str | None = None


_SPAN_FILTERS = (("service", SERVICE, "service"), ("name", NAME, "name"), ("operation", OPERATION, "op"),
                 ("model", MODEL, "model"), ("session", SESSION, "session"))  # fmt: skip


def _trace_row(index: StoreIndex, row: Sequence[Any]) -> dict[str, Any]:
    key, trace_id, first, end, spans, errors, root_name, root_service = row
    if root_name is None:  # the root has not been indexed (yet): the first span stands in
        found = index.db.execute(
            "SELECT name, service FROM spans WHERE trace = ? ORDER BY start_ns LIMIT 1", (key,)
        ).fetchone()
        root_name, root_service = found if found else (None, None)
    return {
        "trace_id": trace_id,
        "start_unix_nano": first,
        "duration_ms": round((end - first) / 1e6, 3),
        "spans": spans,
        "errors": int(errors),
        "root_name": index.text(root_name),
        "service": index.text(root_service),
    }


_NEWEST_CHECKED = 5000  # traces looked at one by one for a span filter before the other way
_TRACE_COLUMNS = "t.id, t.trace_id, t.first_ns, t.end_ns, t.spans, t.errors, t.root_name, t.root_service"
_NEWEST_FIRST = " ORDER BY t.first_ns DESC, t.id DESC"


def _newest_with_spans(
    index: StoreIndex,
    clauses: list[str],
    params: list[Any],
    span_filters: list[tuple[str, list[Any]]],
    time_clause: str,
    limit: int,
) -> list[Any]:
    """A page of traces that have a span passing each filter, found by checking the newest
    :data:`_NEWEST_CHECKED` traces one by one: quick for a filter most traces pass (the only
    service, the common model); a rarer one fills no page this way and is looked up by its
    spans instead (the caller's other way)."""
    # "+" keeps SQLite from looking the column up by its own index (every span of that service):
    # the trace's spans are found by their trace, then checked
    plain_time = time_clause.replace("start_ns", "+s.start_ns")
    exists = " AND ".join(
        f"EXISTS (SELECT 1 FROM spans s WHERE s.trace = t.id AND +s.{column} = ?{plain_time})"  # noqa: S608
        for column, _ in span_filters
    )
    where_sql = " WHERE " + " AND ".join(clauses) if clauses else ""
    newest = f"SELECT * FROM traces t{where_sql}{_NEWEST_FIRST} LIMIT ?"  # noqa: S608
    sql = f"SELECT {_TRACE_COLUMNS} FROM ({newest}) t WHERE {exists}{_NEWEST_FIRST} LIMIT ?"  # noqa: S608
    values = [value for _, column_values in span_filters for value in column_values]
    return index.db.execute(sql, [*params, _NEWEST_CHECKED, *values, limit + 1]).fetchall()


def _text_clause(
    index: StoreIndex, text: str, time_clause: str, time_params: list[Any]
) -> tuple[str, list[Any]]:
    """Free text: a trace id's start, or a span name, service, model or operation that holds it."""
    matches = ["t.trace_id LIKE ?"]
    params: list[Any] = [text.lower() + "%"]
    for kind, column in ((NAME, "name"), (SERVICE, "service"), (MODEL, "model"), (OPERATION, "op")):
        ids = index.dims_like(kind, text)[:500]
        if ids:
            marks = ",".join("?" * len(ids))
            inner = f"SELECT trace FROM spans WHERE {column} IN ({marks}){time_clause}"  # noqa: S608 - a fixed column
            matches.append(f"t.id IN ({inner})")
            params += [*ids, *time_params]
    return "(" + " OR ".join(matches) + ")", params


def list_traces(
    index: StoreIndex, where: TraceFilter, limit: int = 50, cursor: str | None = None
) -> TracePage:
    """Traces newest first (by their first span's start), ``limit`` per page, after ``cursor``."""
    clauses: list[str] = []
    params: list[Any] = []
    time_clause = ""
    time_params: list[Any] = []
    if where.since_ns is not None:
        clauses.append("t.last_ns >= ?")
        params.append(where.since_ns)
        time_clause += " AND start_ns >= ?"
        time_params.append(where.since_ns)
    if where.until_ns is not None:
        clauses.append("t.first_ns <= ?")
        params.append(where.until_ns)
        time_clause += " AND start_ns <= ?"
        time_params.append(where.until_ns)
    if where.status == "error":
        clauses.append("t.errors > 0")
    elif where.status == "ok":
        clauses.append("t.errors = 0")
    span_filters: list[tuple[str, list[Any]]] = []  # (column, params) a trace needs a span with
    for attribute, kind, column in _SPAN_FILTERS:
        value = getattr(where, attribute)
        if value:
            dim_id = index.dim_ids(kind, value)
            if dim_id is None:
                return TracePage()
            span_filters.append((column, [dim_id, *time_params]))
    if where.text:
        clause, text_params = _text_clause(index, where.text.strip(), time_clause, time_params)
        clauses.append(clause)
        params += text_params
    if cursor:
        first, _, key = cursor.partition(":")
        clauses.append("(t.first_ns < ? OR (t.first_ns = ? AND t.id < ?))")
        params += [int(first), int(first), int(key)]
    rows = (
        _newest_with_spans(index, clauses, params, span_filters, time_clause, limit) if span_filters else []
    )
    if len(rows) <= limit:  # the other way round: the traces of the spans that pass, newest first
        for column, values in span_filters:
            clauses.append(f"t.id IN (SELECT trace FROM spans WHERE {column} = ?{time_clause})")  # noqa: S608
            params += values
        where_sql = " WHERE " + " AND ".join(clauses) if clauses else ""
        sql = f"SELECT {_TRACE_COLUMNS} FROM traces t{where_sql}{_NEWEST_FIRST} LIMIT ?"  # noqa: S608
        rows = index.db.execute(sql, [*params, limit + 1]).fetchall()
    page = TracePage()
    page.traces = [_trace_row(index, row) for row in rows[:limit]]
    if len(rows) > limit:
        last = rows[limit - 1]
        page.next_cursor = f"{last[2]}:{last[0]}"
    return page


def spans_with(
    index: StoreIndex, column: str, dim_id: int, limit: int, before_ns: int | None = None
) -> list[StoredSpan]:
    """The newest spans whose ``column`` (op, session, ...) is ``dim_id``, newest first."""
    assert column in {"op", "session", "model", "name", "service"}
    sql = f"SELECT file, offset, trace, start_ns FROM spans WHERE {column} = ?"  # noqa: S608 - a fixed column
    params: list[Any] = [dim_id]
    if before_ns is not None:
        sql += " AND start_ns < ?"
        params.append(before_ns)
    rows = index.db.execute(sql + " ORDER BY start_ns DESC LIMIT ?", [*params, limit]).fetchall()
    wanted = {(int(trace), int(start)) for _, _, trace, start in rows}
    found: dict[str, StoredSpan] = {}
    refs = sorted({(int(file_id), int(offset)) for file_id, offset, _, _ in rows})
    names = index.text(dim_id)
    for record in index.read_lines(refs):
        for span in stored_spans(record):
            if (trace_key(span.trace_id), span.start_ns) in wanted and _matches(index, span, column, names):
                found[span.span_id] = span
    return sorted(found.values(), key=lambda span: span.start_ns, reverse=True)[:limit]


def _matches(index: StoreIndex, span: StoredSpan, column: str, value: str | None) -> bool:
    if column == "name":
        return span.name == value
    if column == "service":
        return span.service == value
    from instrumentations.genai_view import genai_view

    view = genai_view(span.attributes)
    if view is None:
        return False
    return {"op": view.operation, "session": view.session_id, "model": view.model}[column] == value


def series(index: StoreIndex, since_ns: int, step_ns: int) -> dict[str, Any]:
    """Per-step series of the window for the dashboard: spans, errors, p50/p95 latency by span
    name (the top names), tokens by model, redactions by entity."""
    db = index.db
    spans_rows = db.execute(
        "SELECT start_ns / ? AS step, count(*), total(status = 2) FROM spans WHERE start_ns >= ? GROUP BY 1",
        (step_ns, since_ns),
    ).fetchall()
    top = [
        row[0]
        for row in db.execute(
            "SELECT name, count(*) FROM spans WHERE start_ns >= ? GROUP BY 1 ORDER BY 2 DESC LIMIT 6",
            (since_ns,),
        )
    ]
    latency: dict[str, list[list[float]]] = {}
    for name in top:
        by_step: dict[int, list[int]] = {}
        for step, dur in db.execute(
            "SELECT start_ns / ?, dur_ns FROM spans WHERE name = ? AND start_ns >= ?",
            (step_ns, name, since_ns),
        ):
            by_step.setdefault(int(step), []).append(int(dur))
        points = []
        for step in sorted(by_step):
            values = sorted(by_step[step])
            points.append(
                [step * step_ns / 1e6, percentile(values, 0.5) / 1e6, percentile(values, 0.95) / 1e6]  # type: ignore[arg-type]
            )
        latency[index.text(name) or ""] = points
    tokens: dict[str, list[list[float]]] = {}
    for step, model, tin, tout in db.execute(
        "SELECT start_ns / ?, model, total(tok_in), total(tok_out) FROM spans WHERE start_ns >= ? "
        "AND model IS NOT NULL GROUP BY 1, 2 ORDER BY 1",
        (step_ns, since_ns),
    ):
        tokens.setdefault(index.text(model) or "", []).append([step * step_ns / 1e6, tin, tout])
    redactions: dict[str, list[list[float]]] = {}
    for step, entity, count in db.execute(
        "SELECT start_ns / ?, entity, total(count) FROM redactions WHERE start_ns >= ?"
        " GROUP BY 1, 2 ORDER BY 1",
        (step_ns, since_ns),
    ):
        redactions.setdefault(index.text(entity) or "", []).append([step * step_ns / 1e6, count])
    return {
        "step_ms": step_ns / 1e6,
        "spans": [[step * step_ns / 1e6, count, errors] for step, count, errors in sorted(spans_rows)],
        "latency_ms": latency,
        "tokens": tokens,
        "redactions": redactions,
    }


def sessions(index: StoreIndex, limit: int = 50) -> list[dict[str, Any]]:
    """Conversation sessions, most recent first: id, turns (GenAI spans), first and last time."""
    rows = index.db.execute(
        "SELECT session, count(*), min(start_ns), max(start_ns) FROM spans WHERE session IS NOT NULL "
        "GROUP BY session ORDER BY 4 DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [
        {"session": index.text(dim), "spans": count, "first_unix_nano": first, "last_unix_nano": last}
        for dim, count, first, last in rows
    ]


__all__ = [
    "TraceFilter",
    "TracePage",
    "index_stats",
    "index_trace",
    "indexed_find_trace",
    "indexed_span_stats",
    "list_traces",
    "log_counts",
    "series",
    "sessions",
    "spans_with",
]

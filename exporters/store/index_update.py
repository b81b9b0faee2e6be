"""Keeping the side index up to date with the store files: growth, replaced files, purged files."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from exporters.store import sealed
from exporters.store.decode import decode_attributes
from exporters.store.files import ReadProblems
from exporters.store.index_schema import (
    BULK_BYTES,
    CHUNK_BYTES,
    ENTITY,
    ERROR_CODE,
    HOUR_NS,
    MODEL,
    NAME,
    OPERATION,
    SERVICE,
    SESSION,
    SPAN_INDEXES,
    dated_files,
    duration_bucket,
    head_digest,
    span_row_values,
    trace_key,
)
from exporters.store.spans import StoredSpan, log_stamps, stored_spans
from instrumentations.genai_view import genai_summary

if TYPE_CHECKING:
    from exporters.store.index import StoreIndex

# What the GenAI view reads (every convention): only these attributes are decoded for it.
_VIEW_KEYS = (
    "gen_ai.",
    "llm.",
    "openinference.",
    "input.",
    "output.",
    "tool.",
    "traceloop.",
    "session.",
    "langfuse.",
    "user.",
    "enduser.",
    "agent.",
    "otel_distro.genai.",
)
_SPAN_INSERT = "INSERT INTO spans VALUES (" + ",".join("?" * 15) + ")"  # noqa: S608 - placeholders only
_TRACE_UPSERT = """
INSERT INTO traces (id, trace_id, first_ns, last_ns, end_ns, spans, errors, root_name, root_service)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET first_ns = min(first_ns, excluded.first_ns),
    last_ns = max(last_ns, excluded.last_ns), end_ns = max(end_ns, excluded.end_ns),
    spans = spans + excluded.spans, errors = errors + excluded.errors,
    root_name = coalesce(excluded.root_name, root_name),
    root_service = coalesce(excluded.root_service, root_service)
"""
_ROLLUP_UPSERT = """
INSERT INTO rollup VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (hour, name, service) DO UPDATE SET spans = spans + excluded.spans,
    errors = errors + excluded.errors, tok_in = tok_in + excluded.tok_in,
    tok_out = tok_out + excluded.tok_out, tok_cached = tok_cached + excluded.tok_cached,
    tok_reasoning = tok_reasoning + excluded.tok_reasoning
"""
_HIST_UPSERT = {
    "durhist": "INSERT INTO durhist VALUES (?, ?, ?) ON CONFLICT (hour, bucket) "
    "DO UPDATE SET count = count + excluded.count",
    "redhist": "INSERT INTO redhist VALUES (?, ?, ?) ON CONFLICT (hour, entity) "
    "DO UPDATE SET count = count + excluded.count",
}


def refresh(index: StoreIndex) -> int:
    """Bring the index up to date with every dated traces and logs file; returns bytes indexed."""
    db = index.db
    index.problems.unreadable.clear()
    plan = _plan(index)
    if not plan:
        return 0
    db.execute("BEGIN IMMEDIATE")
    try:
        plan = _plan(index)  # again under the write lock: another reader may have done it
        backlog = sum(size - start for _, _, start, size, _ in plan)
        bulk = backlog > BULK_BYTES
        if bulk:
            for name in SPAN_INDEXES:
                db.execute(f"DROP INDEX IF EXISTS {name}")
        done = 0
        for signal, path, start, size, file_id in plan:
            done += _index_file(index, signal, path, start, size, file_id)
        if bulk:
            for name, columns in SPAN_INDEXES.items():
                db.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {columns}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return done


def _plan(index: StoreIndex) -> list[tuple[str, Path, int, int, int | None]]:
    """What to index: (signal, path, from offset, to size, known file id or None); files gone or
    replaced are dropped from the index on the way (inside a transaction only)."""
    known = {
        (row[1], row[2]): row
        for row in index.db.execute("SELECT id, signal, name, size, dev, ino, head FROM files")
    }
    plan: list[tuple[str, Path, int, int, int | None]] = []
    present: set[tuple[str, str]] = set()
    unusable = ReadProblems()
    for signal in ("traces", "logs"):
        for path in dated_files(index.store, signal, unusable):
            try:
                info = path.stat()
            except OSError:
                continue
            present.add((signal, path.name))
            row = known.get((signal, path.name))
            if row is None:
                if info.st_size:
                    plan.append((signal, path, 0, info.st_size, None))
                continue
            file_id, _, _, size, dev, ino, head = row
            same = (dev, ino) == (info.st_dev, info.st_ino) and info.st_size >= size
            if same and size:
                same = _head(path, size) == head
            if not same:
                if index.db.in_transaction:
                    drop_file(index, file_id)
                plan.append((signal, path, 0, info.st_size, None))
            elif info.st_size > size:
                plan.append((signal, path, size, info.st_size, file_id))
    gone = [row[0] for key, row in known.items() if key not in present]
    if gone:
        if index.db.in_transaction:
            for file_id in gone:
                drop_file(index, file_id)
        else:
            plan.append(("", Path(), 0, 0, None))  # something to do: the caller locks and looks again
    for where in unusable.unreadable:  # named once, though the plan is made twice
        if where not in index.problems.unreadable:
            index.problems.unreadable.append(where)
    return [item for item in plan if item[0]] if index.db.in_transaction else plan


def _head(path: Path, size: int) -> bytes:
    try:
        with path.open("rb") as handle:
            return head_digest(handle.read(min(size, 1024)))
    except OSError:
        return b""


def drop_file(index: StoreIndex, file_id: int) -> None:
    """Remove one file's rows, its traces' and roll-ups' share included."""
    db = index.db
    db.execute("CREATE TEMP TABLE IF NOT EXISTS gone_traces (id INTEGER PRIMARY KEY)")
    db.execute("DELETE FROM gone_traces")
    db.execute(
        "INSERT OR IGNORE INTO gone_traces SELECT DISTINCT trace FROM spans WHERE file = ?", (file_id,)
    )
    for hour, name, service, spans, errors, tin, tout, tcached, treason in db.execute(
        "SELECT start_ns / ?, name, service, count(*), sum(status = 2), total(tok_in), total(tok_out), "
        "total(tok_cached), total(tok_reasoning) FROM spans WHERE file = ? GROUP BY 1, 2, 3",
        (HOUR_NS, file_id),
    ).fetchall():
        db.execute(
            "UPDATE rollup SET spans = spans - ?, errors = errors - ?, tok_in = tok_in - ?, "
            "tok_out = tok_out - ?, tok_cached = tok_cached - ?, tok_reasoning = tok_reasoning - ? "
            "WHERE hour = ? AND name IS ? AND service IS ?",
            (spans, errors, int(tin), int(tout), int(tcached), int(treason), hour, name, service),
        )
    for hour, dur_ns, count in db.execute(
        "SELECT start_ns / ?, dur_ns, count(*) FROM spans WHERE file = ? GROUP BY 1, 2", (HOUR_NS, file_id)
    ).fetchall():
        db.execute(
            "UPDATE durhist SET count = count - ? WHERE hour = ? AND bucket = ?",
            (count, hour, duration_bucket(dur_ns)),
        )
    db.execute(
        "UPDATE redhist SET count = count - (SELECT total(count) FROM redactions r WHERE r.file = ? "
        "AND r.start_ns / ? = redhist.hour AND r.entity = redhist.entity)",
        (file_id, HOUR_NS),
    )
    db.execute("DELETE FROM spans WHERE file = ?", (file_id,))
    db.execute("DELETE FROM redactions WHERE file = ?", (file_id,))
    db.execute("DELETE FROM logs WHERE file = ?", (file_id,))
    db.execute("DELETE FROM files WHERE id = ?", (file_id,))
    db.execute(
        "UPDATE traces SET (first_ns, last_ns, end_ns, spans, errors) = (SELECT min(start_ns), "
        "max(start_ns), max(start_ns + dur_ns), count(*), total(status = 2) FROM spans "
        "WHERE spans.trace = traces.id) WHERE id IN (SELECT id FROM gone_traces)"
    )
    db.execute("DELETE FROM traces WHERE spans = 0 OR spans IS NULL")
    db.execute("DELETE FROM rollup WHERE spans <= 0")
    db.execute("DELETE FROM durhist WHERE count <= 0")
    db.execute("DELETE FROM redhist WHERE count <= 0")


def _lines(path: Path, start: int, size: int) -> Iterator[tuple[int, bytes]]:
    """(offset, line) of each whole line between ``start`` and ``size``; a line still being
    written (no newline yet) is left for the next reader."""
    with path.open("rb") as handle:
        handle.seek(start)
        offset = start
        while offset < size:
            data = handle.read(min(CHUNK_BYTES, size - offset))
            if not data:
                return
            end = data.rfind(b"\n")
            if end < 0:
                if offset + len(data) >= size:
                    return
                data += handle.readline()  # a line longer than a chunk
                end = data.rfind(b"\n")
                if end < 0:
                    return
            else:
                handle.seek(offset + end + 1)
            position = 0
            body = data[: end + 1]
            for line in body.splitlines(keepends=True):
                yield offset + position, line
                position += len(line)
            offset += end + 1


def _index_file(
    index: StoreIndex, signal: str, path: Path, start: int, size: int, file_id: int | None
) -> int:
    db = index.db
    try:
        info = os.stat(path)
        with path.open("rb") as handle:
            head = head_digest(handle.read(1024))
    except OSError as exc:
        index.problems.unreadable.append(f"{path}: {exc.strerror or exc}")
        return 0
    if file_id is None:
        row = db.execute(
            "INSERT INTO files (signal, name, size, dev, ino, head) VALUES (?, ?, 0, ?, ?, ?) RETURNING id",
            (signal, path.name, info.st_dev, info.st_ino, head),
        ).fetchone()
        file_id = int(row[0])
    batch = _SpanBatch(index, file_id) if signal == "traces" else None
    logs: list[tuple[int, int, int]] = []
    end = start
    pending = malformed = 0
    for offset, raw in _lines(path, start, size):
        end = offset + len(raw)
        pending += len(raw)
        if not raw.strip():
            continue
        line = sealed.plain_line(path, offset, raw, index.problems)
        if line is None:  # not authentic, or no key: counted in the problems, never indexed
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            record = None
        if not isinstance(record, dict):
            malformed += 1
            continue
        if batch is not None:
            malformed += batch.add(record, offset)
        else:
            rows = _log_rows(record, file_id)
            if rows is None:
                malformed += 1
            else:
                logs.extend(rows)
        if pending >= CHUNK_BYTES:
            _flush(index, batch, logs, file_id, end, malformed)
            logs = []
            pending = malformed = 0
    _flush(index, batch, logs, file_id, end, malformed)
    return end - start


def _flush(
    index: StoreIndex,
    batch: _SpanBatch | None,
    logs: list[tuple[int, int, int]],
    file_id: int,
    end: int,
    malformed: int,
) -> None:
    if batch is not None:
        batch.write()
    if logs:
        index.db.executemany("INSERT INTO logs VALUES (?, ?, ?)", logs)
    index.db.execute(
        "UPDATE files SET size = ?, malformed = malformed + ? WHERE id = ?", (end, malformed, file_id)
    )


def _log_rows(record: dict[str, Any], file_id: int) -> list[tuple[int, int, int]] | None:
    """(time, severity, file) of a line's log records; None if it is not shaped as OTLP/JSON."""
    try:
        return [(stamp, severity, file_id) for stamp, severity in log_stamps(record)]
    except (AttributeError, TypeError, ValueError):
        return None


_MAX_TOKENS = 1 << 53


class _SpanBatch:
    """Rows of the spans read since the last write, with their traces' and roll-ups' sums."""

    def __init__(self, index: StoreIndex, file_id: int) -> None:
        self.index = index
        self.file_id = file_id
        self._reset()

    def _reset(self) -> None:
        self.spans: list[tuple[Any, ...]] = []
        self.traces: dict[int, list[Any]] = {}
        self.rollup: dict[tuple[int, int | None, int | None], list[int]] = defaultdict(lambda: [0] * 6)
        self.durhist: dict[tuple[int, int], int] = defaultdict(int)
        self.redhist: dict[tuple[int, int], int] = defaultdict(int)
        self.redactions: list[tuple[int, int, int, int]] = []

    def add(self, record: dict[str, Any], offset: int) -> int:
        """Add a line's spans; returns how many of its parts are not shaped as OTLP/JSON (each
        skipped and counted, as every reader of the store does: :func:`stored_spans`)."""
        problems = ReadProblems()
        for span in stored_spans(record, problems):
            try:
                row = self._row(span, offset)
            except (AttributeError, TypeError, ValueError, KeyError):  # a trace id not in hex, say
                # that span alone is left out
                problems.malformed += 1
                continue
            self._add(*row)
        return problems.malformed

    def _row(self, span: StoredSpan, offset: int) -> tuple[Any, ...]:
        dim = self.index.dim
        raw = span.raw
        trace_id = span.trace_id
        start = span.start_ns
        duration = span.end_ns - start
        name = dim(NAME, span.name)
        service = dim(SERVICE, span.service)
        attributes = raw.get("attributes") or []
        redacted, genai = span_row_values(attributes)
        op = model = session = None
        tokens = [0, 0, 0, 0]
        if genai:
            wanted = [a for a in attributes if a["key"].startswith(_VIEW_KEYS)]
            view = genai_summary(decode_attributes(wanted))
            if view is not None:
                op = dim(OPERATION, view.operation)
                model = dim(MODEL, view.model)
                session = dim(SESSION, view.session_id)
                usage = view.usage
                counts = (usage.input, usage.output, usage.cached, usage.reasoning)
                # an absurd count (past 2**53) is kept at that: SQLite's integers, and their sums, hold it
                tokens = [min(count or 0, _MAX_TOKENS) for count in counts]
        row = (
            trace_key(trace_id),
            start,
            duration,
            name,
            service,
            span.status_code,
            op,
            model,
            session,
            *tokens,
        )
        return row, trace_id, not raw.get("parentSpanId"), redacted, offset

    def _add(
        self, row: tuple[Any, ...], trace_id: str, root: bool, redacted: dict[str, int], offset: int
    ) -> None:
        dim = self.index.dim
        key, start, duration, name, service, status = row[:6]
        tokens = row[9:13]
        self.spans.append((*row, self.file_id, offset))
        error = status == ERROR_CODE
        trace = self.traces.get(key)
        if trace is None:
            self.traces[key] = [
                key,
                trace_id,
                start,
                start,
                start + duration,
                1,
                int(error),
                name if root else None,
                service if root else None,
            ]
        else:
            trace[2] = min(trace[2], start)
            trace[3] = max(trace[3], start)
            trace[4] = max(trace[4], start + duration)
            trace[5] += 1
            trace[6] += error
            if root:
                trace[7], trace[8] = name, service
        hour = start // HOUR_NS
        sums = self.rollup[(hour, name, service)]
        sums[0] += 1
        sums[1] += error
        for position, count in enumerate(tokens):
            sums[2 + position] += count
        self.durhist[(hour, duration_bucket(duration))] += 1
        for entity, count in redacted.items():
            entity_id = dim(ENTITY, entity)
            assert entity_id is not None
            self.redactions.append((start, entity_id, count, self.file_id))
            self.redhist[(hour, entity_id)] += count

    def write(self) -> None:
        db = self.index.db
        if self.spans:
            db.executemany(_SPAN_INSERT, self.spans)
            db.executemany(_TRACE_UPSERT, self.traces.values())
            db.executemany(_ROLLUP_UPSERT, [(*key, *sums) for key, sums in self.rollup.items()])
            db.executemany(_HIST_UPSERT["durhist"], [(*key, n) for key, n in self.durhist.items()])
        if self.redactions:
            db.executemany("INSERT INTO redactions VALUES (?, ?, ?, ?)", self.redactions)
            db.executemany(_HIST_UPSERT["redhist"], [(*key, n) for key, n in self.redhist.items()])
        self._reset()

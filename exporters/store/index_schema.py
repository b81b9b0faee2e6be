"""The store index's tables (SQLite) and the values its rows are made of: shared by the
index's reader (:mod:`exporters.store.index`) and its writer (:mod:`exporters.store.index_update`)."""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from exporters.store.files import JsonlStore, ReadProblems
from exporters.store.layout import file_date

SCHEMA_VERSION = "1"
INDEX_DIR = "index"
INDEX_FILE = "store.sqlite3"
HOUR_NS = 3_600 * 10**9
CHUNK_BYTES = 32 * 1024 * 1024  # store bytes indexed per transaction
BULK_BYTES = 128 * 1024 * 1024  # a backlog this large is indexed with the secondary indexes dropped
BUSY_MS = 120_000  # how long a reader waits for another one that is indexing
BUCKETS_PER_OCTAVE = 8  # duration histogram resolution (about 9 % per bucket)
ERROR_CODE = 2
ERROR_SEVERITY = 17
REDACTED_PREFIX = "otel_distro.redacted."
GENAI_PREFIXES = ("gen_ai.", "llm.", "openinference.")
INDEXED_SIGNALS = ("traces", "logs")
HEAD_BYTES = 1024

# dimension kinds: every text column is a number into the dims table
NAME, SERVICE, OPERATION, MODEL, ENTITY, SESSION = 1, 2, 3, 4, 5, 6

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY, signal TEXT NOT NULL, name TEXT NOT NULL, size INTEGER NOT NULL,
    dev INTEGER NOT NULL, ino INTEGER NOT NULL, head BLOB NOT NULL, malformed INTEGER NOT NULL DEFAULT 0,
    UNIQUE (signal, name));
CREATE TABLE IF NOT EXISTS dims (
    id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, text TEXT NOT NULL, UNIQUE (kind, text));
CREATE TABLE IF NOT EXISTS traces (
    id INTEGER PRIMARY KEY, trace_id TEXT NOT NULL, first_ns INTEGER, last_ns INTEGER, end_ns INTEGER,
    spans INTEGER, errors INTEGER, root_name INTEGER, root_service INTEGER);
CREATE TABLE IF NOT EXISTS spans (
    trace INTEGER NOT NULL, start_ns INTEGER NOT NULL, dur_ns INTEGER NOT NULL, name INTEGER,
    service INTEGER, status INTEGER, op INTEGER, model INTEGER, session INTEGER,
    tok_in INTEGER, tok_out INTEGER, tok_cached INTEGER, tok_reasoning INTEGER,
    file INTEGER NOT NULL, offset INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS redactions (
    start_ns INTEGER NOT NULL, entity INTEGER NOT NULL, count INTEGER NOT NULL, file INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS logs (time_ns INTEGER NOT NULL, severity INTEGER, file INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS rollup (
    hour INTEGER, name INTEGER, service INTEGER, spans INTEGER, errors INTEGER, tok_in INTEGER,
    tok_out INTEGER, tok_cached INTEGER, tok_reasoning INTEGER, PRIMARY KEY (hour, name, service));
CREATE TABLE IF NOT EXISTS durhist (hour INTEGER, bucket INTEGER, count INTEGER, PRIMARY KEY (hour, bucket));
CREATE TABLE IF NOT EXISTS redhist (hour INTEGER, entity INTEGER, count INTEGER, PRIMARY KEY (hour, entity));
CREATE INDEX IF NOT EXISTS traces_first ON traces (first_ns);
CREATE INDEX IF NOT EXISTS traces_last ON traces (last_ns);
CREATE INDEX IF NOT EXISTS traces_trace_id ON traces (trace_id);
CREATE INDEX IF NOT EXISTS redactions_start ON redactions (start_ns);
CREATE INDEX IF NOT EXISTS logs_time ON logs (time_ns, severity);
"""
# The span indexes, dropped during a bulk build and made again after it.
SPAN_INDEXES = {
    "spans_trace": "spans (trace)",
    "spans_start": "spans (start_ns, dur_ns)",
    "spans_dur": "spans (dur_ns, start_ns)",
    "spans_name": "spans (name, start_ns)",
    "spans_service": "spans (service, start_ns)",
    "spans_op": "spans (op, start_ns)",
    "spans_model": "spans (model, start_ns)",
    "spans_session": "spans (session, start_ns) WHERE session IS NOT NULL",
}


def trace_key(trace_id: str) -> int:
    """A trace's row id: the last 64 bits of its id (the random ones, also for 64-bit ids
    padded with zeros), as a signed integer. Answers filter on the whole id."""
    value = int(trace_id[-16:] or "0", 16)
    return value - (1 << 64) if value >= 1 << 63 else value


def duration_bucket(dur_ns: int) -> int:
    return 0 if dur_ns <= 1 else int(math.log2(dur_ns) * BUCKETS_PER_OCTAVE)


def bucket_bounds(bucket: int) -> tuple[int, int]:
    """The smallest and largest duration (ns) of a bucket, widened by one for rounding."""
    if bucket <= 0:
        return (-(1 << 62), 2)
    return (int(2 ** (bucket / BUCKETS_PER_OCTAVE)) - 1, int(2 ** ((bucket + 1) / BUCKETS_PER_OCTAVE)) + 1)


def index_path(base_dir: Path) -> Path:
    return Path(base_dir) / INDEX_DIR / INDEX_FILE


def head_digest(data: bytes) -> bytes:
    return hashlib.blake2b(data[:HEAD_BYTES], digest_size=8).digest()


def dated_files(store: JsonlStore, signal: str, problems: ReadProblems | None = None) -> list[Path]:
    """The store's dated files of a signal; those that cannot be read (a link to nothing, a FIFO)
    are named in ``problems``."""
    return [path for path in store.files(signal, problems=problems) if file_date(path) is not None]


def span_row_values(attributes: list[dict[str, Any]]) -> tuple[dict[str, int], bool]:
    """A span's redaction counts by entity, and whether it has GenAI attributes."""
    redacted: dict[str, int] = defaultdict(int)
    genai = False
    for item in attributes:
        key = item.get("key", "")
        if key.startswith(REDACTED_PREFIX):
            value = item.get("value", {})
            if "intValue" in value:
                redacted[key[len(REDACTED_PREFIX) :]] += int(value["intValue"])
        elif not genai and key.startswith(GENAI_PREFIXES):
            genai = True
    return redacted, genai

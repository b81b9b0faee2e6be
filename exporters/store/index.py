"""The store's side index: spans, traces and logs of the JSONL files in SQLite, for fast queries.

The JSONL files stay the source of truth. The index (``<store>/index/store.sqlite3``, directory
0700, file 0600) holds one row per span (time, duration, name, service, status, GenAI operation,
model, session, tokens, and the byte offset of the line it is on), one per trace, hourly roll-ups
for ``stats`` over long windows, and one row per log record. Whoever reads the store (the CLI,
``serve``) calls :meth:`StoreIndex.refresh` first: it indexes what the files grew by since the
last reader, re-reads a file that was replaced, and forgets files that were purged. An index that
is missing, of another schema version or corrupt is rebuilt from the files; one that cannot be
used at all (a read-only store, say) leaves the callers to scan the files as before.
Nothing here is on the application's span path.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from exporters.store import index_update, sealed
from exporters.store.decode import decode_attributes
from exporters.store.files import JsonlStore, ReadProblems
from exporters.store.index_schema import BUSY_MS, SCHEMA, SCHEMA_VERSION, SPAN_INDEXES, index_path
from exporters.store.sealed import MARKER_FILE
from otel_distro.runtime.files import private_dirs

_logger = logging.getLogger(f"otel_distro.{__name__}")


@dataclass
class SpanRef:
    """Where one indexed span's line is: the file and the byte offset of the line."""

    path: Path
    offset: int


class IndexUnavailable(Exception):
    """The index cannot be used; the caller reads the files instead."""


class StoreIndex:
    """The side index of one store root. Use :func:`open_index`; every query refreshes first."""

    def __init__(self, store: JsonlStore, connection: sqlite3.Connection) -> None:
        self.store = store
        self.db = connection
        self._dims: dict[tuple[int, str], int] = {}
        self._dim_text: dict[int, str] = {}
        self.problems = ReadProblems()  # files the last refresh could not read

    # -- dimensions ------------------------------------------------------------------------------
    def dim(self, kind: int, text: str | None) -> int | None:
        """The id of a text of one kind, made if new (inside the indexing transaction)."""
        if text is None:
            return None
        key = (kind, text)
        found = self._dims.get(key)
        if found is None:
            row = self.db.execute(
                "INSERT INTO dims (kind, text) VALUES (?, ?) ON CONFLICT (kind, text) DO UPDATE "
                "SET text = excluded.text RETURNING id",
                key,
            ).fetchone()
            found = self._dims[key] = int(row[0])
            self._dim_text[found] = text
        return found

    def dim_ids(self, kind: int, text: str) -> int | None:
        """The id of an existing text, or None (no span has it)."""
        row = self.db.execute("SELECT id FROM dims WHERE kind = ? AND text = ?", (kind, text)).fetchone()
        return int(row[0]) if row else None

    def dims_like(self, kind: int, fragment: str) -> list[int]:
        pattern = "%" + fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self.db.execute(
            "SELECT id FROM dims WHERE kind = ? AND text LIKE ? ESCAPE '\\'", (kind, pattern)
        ).fetchall()
        return [int(row[0]) for row in rows]

    def text(self, dim_id: int | None) -> str | None:
        if dim_id is None:
            return None
        found = self._dim_text.get(dim_id)
        if found is None:
            row = self.db.execute("SELECT text FROM dims WHERE id = ?", (dim_id,)).fetchone()
            found = str(row[0]) if row else ""
            self._dim_text[dim_id] = found
        return found

    def dim_values(self, kind: int) -> list[str]:
        return [
            str(row[0])
            for row in self.db.execute("SELECT text FROM dims WHERE kind = ? ORDER BY text", (kind,))
        ]

    # -- keeping up with the files ---------------------------------------------------------------
    def refresh(self) -> int:
        """Index what the store's files grew by; returns the store bytes indexed."""
        try:
            return index_update.refresh(self)
        except (sqlite3.DatabaseError, OverflowError) as exc:  # a value SQLite cannot hold: the files
            raise IndexUnavailable(str(exc)) from exc

    def file_path(self, file_id: int) -> Path | None:
        row = self.db.execute("SELECT signal, name FROM files WHERE id = ?", (file_id,)).fetchone()
        return self.store.signal_dir(row[0]) / row[1] if row else None

    def read_lines(self, refs: list[tuple[int, int]]) -> Iterator[dict[str, Any]]:
        """The parsed store lines at (file id, offset), each once, in the order given."""
        handles: dict[int, tuple[Path, Any]] = {}
        seen: set[tuple[int, int]] = set()
        try:
            for file_id, offset in refs:
                if (file_id, offset) in seen:
                    continue
                seen.add((file_id, offset))
                opened = handles.get(file_id)
                if opened is None:
                    path = self.file_path(file_id)
                    if path is None:
                        continue
                    try:
                        opened = handles[file_id] = (path, path.open("rb"))
                    except OSError:
                        continue
                path, handle = opened
                handle.seek(offset)
                line = sealed.plain_line(path, offset, handle.readline(), self.problems)
                if line is None:
                    continue
                try:
                    record = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(record, dict):
                    yield record
        finally:
            for _, handle in handles.values():
                handle.close()

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.close()


def _connect(path: Path) -> sqlite3.Connection:
    if not path.exists():
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        os.close(fd)
    connection = sqlite3.connect(path, timeout=BUSY_MS / 1000, isolation_level=None, check_same_thread=False)
    connection.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("PRAGMA temp_store = MEMORY")
    connection.execute("PRAGMA cache_size = -65536")
    return connection


def _check_schema(connection: sqlite3.Connection) -> bool:
    """True when the file holds this version's schema (a new file gets it)."""
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        connection.executescript(SCHEMA)
        connection.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        for name, columns in SPAN_INDEXES.items():
            connection.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {columns}")
        return True
    if "meta" not in tables:
        return False
    row = connection.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    if not row or row[0] != SCHEMA_VERSION:
        return False
    connection.execute("SELECT count(*) FROM files").fetchone()  # raises on a damaged file
    return True


def remove_index(base_dir: Path) -> None:
    """Delete the index files (the next reader rebuilds them)."""
    path = index_path(base_dir)
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()


def open_index(store: JsonlStore, refresh: bool = True, in_memory_if_sealed: bool = False) -> StoreIndex:
    """The store's index, made or rebuilt as needed and brought up to date with the files.

    An encrypted store has no index on disk (it would keep what the store holds in plain
    text): ``in_memory_if_sealed`` builds one in this process's memory instead, from the opened
    lines (``serve`` keeps it for its lifetime); else :class:`IndexUnavailable`.
    Raises :class:`IndexUnavailable` when it cannot be used (the caller scans the files)."""
    path = index_path(store.base_dir)
    if not store.base_dir.is_dir():
        raise IndexUnavailable(f"no store at {store.base_dir}")
    if (store.base_dir / MARKER_FILE).exists():
        if not in_memory_if_sealed:
            raise IndexUnavailable("the store is encrypted: an index would keep what it holds in plain text")
        # what an index holds (names, models, sessions) stays in this process's memory, never on disk
        memory = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        _check_schema(memory)
        index = StoreIndex(store, memory)
        if refresh:
            index.refresh()
        return index
    for attempt in range(2):
        connection = None
        try:
            private_dirs(path.parent)
            connection = _connect(path)
            if _check_schema(connection):
                index = StoreIndex(store, connection)
                if refresh:
                    index.refresh()
                return index
            reason = "of another version"
        except IndexUnavailable as exc:
            reason = str(exc)
        except sqlite3.DatabaseError as exc:
            reason = f"damaged ({exc})"
        except OSError as exc:
            raise IndexUnavailable(f"cannot open {path}: {exc}") from exc
        if connection is not None:
            with contextlib.suppress(sqlite3.Error):
                connection.close()
        if attempt == 0:
            _logger.info("otel-distro: the store index %s is %s; rebuilding it", path, reason)
            remove_index(store.base_dir)
    raise IndexUnavailable(f"cannot build {path}")


def forget_files(base_dir: Path, paths: list[Path]) -> None:
    """Remove the index rows of store files that were deleted (purge); never raises. Readers
    notice deleted files anyway: this makes it immediate."""
    if not paths or not index_path(base_dir).exists():
        return
    try:
        index = open_index(JsonlStore(base_dir), refresh=False)
    except IndexUnavailable:
        return
    try:
        index.db.execute("BEGIN IMMEDIATE")
        try:
            for path in paths:
                row = index.db.execute(
                    "SELECT id FROM files WHERE signal = ? AND name = ?", (path.parent.name, path.name)
                ).fetchone()
                if row:
                    index_update.drop_file(index, int(row[0]))
            index.db.execute("COMMIT")
        except BaseException:
            index.db.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        _logger.warning("otel-distro: could not update the store index (%s); removing it", exc)
        index.close()
        remove_index(base_dir)
        return
    index.close()


__all__ = [
    "IndexUnavailable",
    "SpanRef",
    "StoreIndex",
    "decode_attributes",
    "forget_files",
    "open_index",
    "remove_index",
]

"""A spool: a private JSONL store of segments that an exporter follows and empties as they are acknowledged.

An exporter that must not lose what its endpoint has not taken, and has no store of the user's
to follow, keeps a spool: the store's own writing (whole lines appended under the file's lock,
sealed where the store is, 0600 files) and the store's own following
(:class:`~exporters.store.follow.StoreTail`), with two differences from the user's store.

- Files are segments, not days: each process writes its own ``<created ns>-<pid>.jsonl`` and
  starts a new one past ``segment_bytes``, so the names sort oldest first and a segment stops
  growing soon.
- The size is bounded: when the segments outgrow ``max_bytes``, the oldest are deleted whole,
  what the follower had not sent of them counted (:attr:`Spool.dropped_overflow`); never the
  one this process writes, nor, while the follower holds its lock, the one it reads (it may be
  sending it for as long as a request takes). Each goes holding its append lock, so no line
  is added between the count and the deletion. The follower deletes what it sent
  (:meth:`StoreTail.remove_sent`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

from exporters.store import sealed
from exporters.store.files import JsonlStore, close_locked, open_locked
from exporters.store.follow import StoreTail, follower_lock
from otel_distro.runtime.say_once import SayOnce
from otel_distro.runtime.state_file import StateFile

_logger = logging.getLogger(f"otel_distro.{__name__}")

SIGNAL = "traces"
MEASURE_SECONDS = 5.0  # the segments' size is measured again at least this often (other processes write)
KEEP_FRACTION = 0.9  # when over the bound, delete down to this share of it


class Spool(JsonlStore):
    """The segments of one exporter's spool under ``base_dir`` (its ``traces/`` folder).

    ``follower_state``: where the exporter following the spool saves its positions (its lock
    says it is sending); what a segment the bound deletes held unsent is counted from them
    (:attr:`dropped_overflow`).
    """

    def __init__(
        self,
        base_dir: Path,
        max_bytes: int,
        follower_state: Path,
        segment_bytes: int | None = None,
        sealer: sealed.Sealer | None = None,
    ) -> None:
        super().__init__(base_dir, sealer=sealer)
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes or max(64 * 1024, min(8 << 20, max_bytes // 16))
        self.line_bytes = max(4096, self.segment_bytes // 4)  # a batch: several lines, segments
        self.follower_state = follower_state
        self.dropped_overflow = 0  # spans deleted unsent by the bound (this process)
        self._segment: Path | None = None
        self._incoming = 0  # bytes of the piece being appended
        self._pid = 0
        self._bytes: int | None = None  # the segments' size as last measured, plus what we wrote
        self._measured = 0.0
        self._say = SayOnce(_logger)
        # the follower's positions, read (never saved) to tell the segment it is sending
        self._follower = StoreTail(self.signal_dir(SIGNAL), follower_state, None, lambda _data, _problems: [])

    def path_for(self, signal: str, day: dt.date) -> Path:
        """This process's segment; a new one once it is past ``segment_bytes`` (or in a child)."""
        segment = self._segment
        if segment is not None and self._pid == os.getpid():
            with contextlib.suppress(OSError):
                size = segment.stat().st_size
                if not size or size + self._incoming <= self.segment_bytes:
                    return segment
        self._pid = os.getpid()
        self._segment = self.signal_dir(signal) / f"{time.time_ns():020d}-{self._pid}.jsonl"
        return self._segment

    def append(self, signal: str, payload: bytes | Sequence[bytes], records: int) -> bool:
        """Append lines, a segment's worth at a time (a large batch spans several segments, so
        none outgrows ``segment_bytes`` by more than a line and the bound deletes in small steps)."""
        lines = payload.splitlines(keepends=True) if isinstance(payload, bytes) else list(payload)
        written = True
        start = 0
        while start < len(lines):
            end, size = start, 0
            while end < len(lines) and (end == start or size + len(lines[end]) <= self.segment_bytes):
                size += len(lines[end])
                end += 1
            # the records each piece holds, in proportion (one line of a batch holds many spans)
            held = records * end // len(lines) - records * start // len(lines)
            written = self._append_piece(signal, lines[start:end], size, held) and written
            start = end
        return written

    def _append_piece(self, signal: str, lines: list[bytes], size: int, records: int) -> bool:
        self._incoming = size  # for path_for: a segment it would take past segment_bytes is done
        try:
            self._make_room(size)
        except OSError as exc:  # the bound is kept at the next append
            _logger.debug("otel-distro: cannot make room in the spool %s: %r", self.base_dir, exc)
        written = super().append(signal, lines, records)
        if written and self._bytes is not None:
            self._bytes += size
        return written

    def refuse(self, records: int, reason: str, why: str, warn: bool = True) -> None:
        """Counted, and said, as records the conversation log's spool could not take."""
        super().refuse(records, "conversation_log_cache_unwritable", why, warn)

    def segments(self) -> list[Path]:
        """The segments, oldest first."""
        try:
            return sorted(self.signal_dir(SIGNAL).glob("*.jsonl"))
        except OSError:
            return []

    def size(self) -> int:
        total = 0
        for path in self.segments():
            with contextlib.suppress(OSError):
                total += path.stat().st_size
        return total

    def _make_room(self, incoming: int) -> None:
        now = time.monotonic()
        if self._bytes is None or now - self._measured > MEASURE_SECONDS:
            self._bytes, self._measured = self.size(), now
        if self._bytes + incoming <= self.max_bytes:
            return
        self._bytes, self._measured = self.size(), now
        if self._bytes + incoming <= self.max_bytes:
            return
        fd = follower_lock(self.follower_state)
        # the follower busy (sending, perhaps for as long as a request's timeout): all but the
        # segment it reads
        sending = self._follower.next_file() if fd is None else None
        try:
            goal = int(self.max_bytes * KEEP_FRACTION) - incoming
            for path in self.segments():
                if self._bytes <= goal:
                    break
                if path not in (self._segment, sending):
                    self._drop(path)
        finally:
            if fd is not None:
                StateFile.unlock(fd)

    def _drop(self, path: Path) -> None:
        """Delete a segment holding its append lock (no line is added between the count and the
        deletion; a process still writing it starts the file again)."""
        try:
            fd = open_locked(path, create=False, wait=False)
        except OSError:
            return
        try:
            unsent = self._follower.unsent_spans(path)
            size = os.fstat(fd).st_size
            path.unlink()
        except OSError:
            return
        finally:
            close_locked(fd)
        assert self._bytes is not None
        self._bytes -= size
        self.dropped_overflow += unsent
        self._say(
            "bound",
            "otel-distro: the spool %s reached its bound of %.1f MB; the oldest records are deleted "
            "to make room (counted in `otel-distro stats`)",
            self.base_dir,
            self.max_bytes / 1e6,
        )

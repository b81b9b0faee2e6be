"""The local OTLP JSON Lines store: daily files per signal, safe appends, reading, retention.

Layout: ``<base>/{traces,metrics,logs}/YYYY-MM-DD.jsonl`` (UTC dates), directories
0700 and files 0600. Each append is one ``write`` of whole lines under an
exclusive lock (a thread lock plus an ``flock`` on the file), so processes
sharing a store never interleave lines; a partial last line left by a killed
writer is fenced off with a newline and skipped by readers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
import stat
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from exporters.store import sealed
from exporters.store.guard import DiskGuard
from exporters.store.layout import SIGNALS, file_date, file_name, utc_today
from otel_distro.runtime.counts import Counts
from otel_distro.runtime.errors import caught
from otel_distro.runtime.files import private_dirs
from otel_distro.runtime.forking import hold, in_child, let_go
from otel_distro.runtime.say_once import SayOnce

_logger = logging.getLogger(f"otel_distro.{__name__}")


def _unusable(path: Path) -> str | None:
    """Why a dated name cannot be read as a store file, or None: a FIFO, a device or a socket
    (opening one may block), a link to nothing or a loop of links (a directory or a file that
    cannot be read fails at once and is named by its reader; a file gone meanwhile is none)."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if path.is_symlink():  # the name is there, what it points to is not
            return f"a link that cannot be followed ({exc.strerror or exc})"
        return None
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISSOCK(mode):
        return "not a regular file"
    return None


class StoreStats(Counts):
    """What the store has done in this process."""

    lines_written = 0
    records_dropped = 0
    files_purged = 0
    purged_unsent = 0  # records purged (retention, size cap) before a follower of the store sent them

    def __init__(self) -> None:
        super().__init__()
        self.last_error: str | None = None
        self.refused: dict[str, int] = {}  # by the disk guard or a missing key, by reason


class JsonlStore:
    """Appends, lists, reads and purges the daily JSON Lines files of one store root."""

    line_bytes: int | None = None  # a smaller bound than the writers' own on the bytes of a line

    def __init__(
        self,
        base_dir: Path,
        retention_days: int = 30,
        retention: Mapping[str, int] | None = None,
        sealer: sealed.Sealer | None = None,
        guard: DiskGuard | None = None,
    ) -> None:
        self.base_dir = Path(base_dir)
        # With a sealer every line is sealed (see exporters.store.sealed); a callable that raises
        # (no key) refuses the append: an encrypted store never gets a plain line.
        self.sealer = sealer
        self.guard = guard
        self.retention_days = retention_days
        # Days kept per signal; a signal not named keeps retention_days.
        self.retention = {signal: retention_days for signal in SIGNALS} | dict(retention or {})
        self.stats = StoreStats()
        # (signal, file) -> records of it a follower (upload, conversation log) has not sent yet;
        # asked before a file is purged, so what is purged unsent is counted (None: nobody asks)
        self.unsent: Callable[[str, Path], int] | None = None
        self._lock = threading.Lock()
        self._say = SayOnce(_logger)  # the first write that failed, the first refusal of each reason
        self._last_day: dt.date | None = None

    def signal_dir(self, signal: str) -> Path:
        return self.base_dir / signal

    def path_for(self, signal: str, day: dt.date) -> Path:
        return self.signal_dir(signal) / file_name(day)

    def append(self, signal: str, payload: bytes | Sequence[bytes], records: int) -> bool:
        """Append complete lines: one buffer ending with a newline, or a list of lines. Never raises."""
        day = utc_today()
        if self.guard is not None and (reason := self.guard.refusal(self)):
            self.refuse(records, reason, self.guard.why(), warn=False)  # the guard warns per episode
            return False
        try:
            if day != self._last_day:
                self._last_day = day
                self.purge()
            path = self.path_for(signal, day)
            private_dirs(path.parent)
            with append_lock:
                _append_locked(path, payload, self.sealer)
        except sealed.SealError as exc:
            self.refuse(records, "store_no_key", f"the store is encrypted but {exc}")
            return False
        except OSError as exc:
            self._record_failure(records, f"cannot write {signal} to {self.base_dir}: {exc}")
            return False
        self.stats.add(lines_written=payload.count(b"\n") if isinstance(payload, bytes) else len(payload))
        return True

    def _record_failure(self, records: int, message: str) -> None:
        self.stats.add(records_dropped=records)
        self.stats.last_error = message
        self._say(
            "failed", "otel-distro: %s; dropping records (further failures are counted, not logged)", message
        )

    def drop(self, records: int, reason: str) -> None:
        """Count records that could not be written, warning the first time."""
        self._record_failure(records, reason)

    def refuse(self, records: int, reason: str, why: str, warn: bool = True) -> None:
        """Count records the store did not write on purpose (``reason``: a drop-ledger reason),
        warning once per reason (unless the caller warns)."""
        with self._lock:
            self.stats.refused[reason] = self.stats.refused.get(reason, 0) + records
        if not warn:  # the caller warns: this reason is said
            self._say.first(("refused", reason))
        else:
            self._say(
                ("refused", reason), "otel-distro: %s; records are dropped (counted as %s)", why, reason
            )

    def files(
        self, signal: str, since: dt.date | None = None, problems: ReadProblems | None = None
    ) -> list[Path]:
        """The store's dated files of one signal, oldest first, optionally from a date on (a
        directory that exists but cannot be listed, and a dated name that is a FIFO, a device or
        a socket, are named in ``problems``)."""
        directory = self.signal_dir(signal)
        try:
            entries = list(directory.iterdir())
        except FileNotFoundError:
            return []
        except OSError as exc:
            if problems is not None:
                problems.unreadable.append(f"{directory}: {exc.strerror or exc}")
            return []
        dated = []
        for path in entries:
            if (day := file_date(path)) is None:
                continue
            if (why := _unusable(path)) is not None:  # a FIFO would block every reader
                if problems is not None:
                    problems.unreadable.append(f"{path}: {why}")
                continue
            dated.append((day, path))
        return [path for day, path in sorted(dated) if since is None or day >= since]

    def purge(self, older_than_days: int | None = None, everything: bool = False) -> list[Path]:
        """Delete dated files older than each signal's retention (or than ``older_than_days``, or
        all of them). Never raises."""
        removed = []
        for signal in SIGNALS:
            days = self.retention[signal] if older_than_days is None else older_than_days
            cutoff = utc_today() - dt.timedelta(days=days)
            for path in self.files(signal):
                day = file_date(path)
                if (everything or (day is not None and day < cutoff)) and self.remove(
                    signal, path, "retention"
                ):
                    removed.append(path)
        return removed

    def remove(self, signal: str, path: Path, why: str) -> bool:
        """Delete one of the store's files (``why``: for the warning if it cannot be); what a
        follower of the store had not sent of it yet is counted first. Never raises."""
        unsent = 0
        if self.unsent is not None:
            try:
                unsent = self.unsent(signal, path)
            except Exception as exc:  # noqa: BLE001 - a count must not keep a file
                caught("counting what a purge takes unsent", exc)  # a bug of ours: raised under tests
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            _logger.warning("otel-distro: cannot purge %s (%s): %s", path, why, exc)
            return False
        self.stats.add(files_purged=1, purged_unsent=unsent)
        if unsent:
            _logger.warning(
                "otel-distro: purged %s (%s) with %d records not yet sent by the upload or the "
                "conversation log (counted in `otel-distro stats`)",
                path,
                why,
                unsent,
            )
        return True


# Appends are serialized within a process by a thread lock and across processes by an flock on
# the file. Not a POSIX record lock (lockf): a process loses those on a file whenever it closes
# any descriptor of it, and a follower of the store in the writer's process opens and closes its
# files all the time, so another process's append got in between (in an encrypted store, a line
# sealed for the offset the other took: lost). An flock belongs to the descriptor that took it;
# a forked child closes its copy at once (otel_distro.runtime.forking.hold), so a fork during an
# append cannot leave the child holding the store's lock.
append_lock = threading.Lock()


def _reset_append_lock() -> None:
    global append_lock
    append_lock = threading.Lock()


in_child(_reset_append_lock)


_IOV_BATCH = 512  # buffers per writev call, well under IOV_MAX


def _append_locked(path: Path, payload: bytes | Sequence[bytes], sealer: sealed.Sealer | None = None) -> None:
    """Append whole lines under the record lock; a failed append (disk full, say) is cut back to
    the size before it, still under the lock, so no torn line is left mid-file. With a sealer,
    each line is sealed for the offset it is written at (known only under the lock)."""
    fd = open_locked(path)
    try:
        size = os.fstat(fd).st_size
        try:
            if sealer is not None:
                lines = payload.splitlines(keepends=True) if isinstance(payload, bytes) else payload
                fence = 1 if size and os.pread(fd, 1, size - 1) != b"\n" else 0
                payload = sealer.seal_lines(sealed.line_name(path), size + fence, lines)
            _write_lines(fd, size, payload)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
            raise
    finally:
        close_locked(fd)


def open_locked(path: Path, create: bool = True, wait: bool = True) -> int:
    """The file, opened for appending and locked (close it with :func:`close_locked`); if it was
    replaced while the lock was awaited (``store rotate-key`` rewrites files), the new one.
    ``create`` false: a missing file raises ``FileNotFoundError`` (one about to be deleted);
    ``wait`` false: a lock another holds raises ``BlockingIOError`` (a deletion that can wait
    for its next round, never for a stuck process)."""
    flags = os.O_RDWR | os.O_APPEND | os.O_CLOEXEC | (os.O_CREAT if create else 0)
    operation = fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB
    for _ in range(100):
        fd = os.open(path, flags, 0o600)
        try:
            fcntl.flock(hold(fd), operation)
            here, now = os.fstat(fd), os.stat(path)
        except FileNotFoundError:  # purged while waiting: create it again
            close_locked(fd)
            continue
        except BaseException:
            close_locked(fd)
            raise
        if (here.st_dev, here.st_ino) == (now.st_dev, now.st_ino):
            return fd
        close_locked(fd)
    raise OSError(f"{path} keeps being replaced")


def close_locked(fd: int) -> None:
    """Close a descriptor :func:`open_locked` gave (its lock goes with it)."""
    let_go(fd)
    os.close(fd)


def _write_lines(fd: int, size: int, payload: bytes | Sequence[bytes]) -> None:
    if size and os.pread(fd, 1, size - 1) != b"\n":
        os.write(fd, b"\n")  # fence off a partial line left by a killed writer
    buffers = [payload] if isinstance(payload, bytes) else list(payload)
    for start in range(0, len(buffers), _IOV_BATCH):
        group = buffers[start : start + _IOV_BATCH]
        written = os.writev(fd, group)  # no copy into one big buffer
        rest = sum(len(buffer) for buffer in group) - written
        if rest:  # short write (rare on regular files): finish it byte-exactly
            view = memoryview(b"".join(group))[written:]
            while view:
                view = view[os.write(fd, view) :]


@dataclass
class ReadProblems:
    """What a reader of the store had to pass over: files it could not read, records it skipped."""

    unreadable: list[str] = field(default_factory=list)  # "<path>: <why>"
    malformed: int = 0  # lines that are not JSON objects, or records not shaped as OTLP/JSON
    unauthentic: int = 0  # sealed lines that did not open (altered, moved, swapped, no key)

    def add(self, other: ReadProblems) -> None:
        """Take in what another reader passed over (a file named by both is named once)."""
        self.unreadable += [where for where in other.unreadable if where not in self.unreadable]
        self.malformed += other.malformed
        self.unauthentic += other.unauthentic

    def as_dict(self) -> dict[str, Any]:
        return {
            "unreadable_files": self.unreadable,
            "malformed_records": self.malformed,
            "unauthenticated_records": self.unauthentic,
        }


def read_records(
    path: Path, needle: bytes | None = None, problems: ReadProblems | None = None
) -> Iterator[dict[str, Any]]:
    """Yield each line of a store file as a dict, skipping partial or corrupt lines (counted in
    ``problems``, with a file that cannot be read). Sealed lines are opened first; one that
    does not open (altered, moved, swapped, no key) is counted and never returned.

    With ``needle``, only lines containing those bytes are parsed (a cheap prefilter).
    """
    try:
        handle = path.open("rb")
    except OSError as exc:
        if problems is not None:
            problems.unreadable.append(f"{path}: {exc.strerror or exc}")
        return
    offset = 0
    with handle:
        try:
            for line in handle:
                start = offset
                offset += len(line)
                opened = sealed.plain_line(path, start, line, problems)
                if opened is None:
                    continue
                line = opened  # noqa: PLW2901
                if not line.strip() or (needle is not None and needle not in line):
                    continue
                try:
                    record = orjson.loads(line)
                except orjson.JSONDecodeError:
                    record = None
                if isinstance(record, dict):
                    yield record
                elif problems is not None:
                    problems.malformed += 1
        except OSError as exc:  # an I/O error part way: what was read stands, the file is named
            if problems is not None:
                problems.unreadable.append(f"{path}: {exc.strerror or exc}")

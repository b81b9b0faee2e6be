"""A disk queue of records not yet acknowledged by an endpoint, shared safely by processes.

Records are appended, as JSON lines, to this process's open segment the moment an exporter
takes them, so a killed process loses nothing it had written. A segment is sealed (it
becomes *ready*) when it holds a batch or when the sender's flush interval comes; the sender
claims the oldest ready segment, sends it, and deletes it once acknowledged or puts it back.

File names say the state: ``open.<base>``, ``ready.<base>``, ``sending.<base>``, where
``<base>`` is ``<created ns>-<pid>-<seq>.jsonl`` and orders segments oldest first. Whoever
acts on a segment holds an ``flock`` on it, and a process that dies drops its locks: an
open or sending segment whose lock can be taken belongs to a dead process and is made ready
again (by this or the next process). Pid reuse cannot fool this. Files are 0600, the
directory 0700. When the segments outgrow the size bound the oldest ready ones are deleted,
counted and warned about.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from otel_distro.runtime.files import private_dirs, replaced_privately
from otel_distro.runtime.forking import after_fork_in_child, hold, let_go
from otel_distro.runtime.say_once import SayOnce

_logger = logging.getLogger(f"otel_distro.{__name__}")

OPEN, READY, SENDING, TEMP = "open.", "ready.", "sending.", "tmp."
_STALE_TEMP_SECONDS = 3600.0


class SpillError(OSError):
    """Records the cache could not write: the first ``kept`` of them were written whole."""

    def __init__(self, kept: int, cause: OSError) -> None:
        super().__init__(cause.errno, cause.strerror or str(cause))
        self.kept = kept


def _write_whole(fd: int, data: bytes) -> None:
    """Append all of ``data`` (a short write goes on where it stopped); where the disk refuses
    the rest, the file is cut back to its size before, so no torn line stays in it."""
    before = os.lseek(fd, 0, os.SEEK_END)
    view = memoryview(data)
    try:
        while view:
            written = os.write(fd, view)
            view = view[written:]
    except OSError:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, before)
        raise


@dataclass
class Segment:
    """A claimed segment: its lines, and the locked descriptor that keeps it ours."""

    path: Path
    base: str
    fd: int
    lines: list[bytes]
    corrupt: int = 0  # lines that were not whole (a writer killed mid-line)


def _base(name: str) -> str:
    for state in (OPEN, READY, SENDING):
        if name.startswith(state):
            return name[len(state) :]
    return name


def _lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _close(fd: int) -> None:
    """Close a descriptor that held a segment's lock (releasing it)."""
    let_go(fd)
    os.close(fd)


class SpillCache:
    """The segments of one exporter in one directory."""

    def __init__(self, directory: Path, max_bytes: int, segment_records: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.segment_records = max(1, segment_records)
        self.dropped_overflow = 0
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._open_name = ""
        self._open_records = 0
        self._pid = os.getpid()
        self._seq = 0
        self._bytes: int | None = None  # estimate of the directory's size; None: measure
        self._say = SayOnce(_logger)
        after_fork_in_child(self._after_fork)

    def _after_fork(self) -> None:
        """In a forked child: let go of the parent's open segment (its lock is the parent's)."""
        self._lock = threading.Lock()
        self._forget_inherited()

    # -- writing ------------------------------------------------------------------------------
    def append(self, lines: list[bytes]) -> None:
        """Write records (each one line, without the newline) to the open segment. Raises
        :class:`SpillError` (an OSError) when the disk refuses them: the segment is cut back
        to its last whole line, and ``kept`` says how many of ``lines`` were written whole."""
        with self._lock:
            if self._pid != os.getpid():  # a forked child: the parent's segment is not ours
                self._forget_inherited()
            start = 0
            while start < len(lines):
                room = self.segment_records - self._open_records
                chunk = lines[start : start + room]
                data = b"".join(line + b"\n" for line in chunk)
                try:
                    self._make_room(len(data))
                    if self._fd is None:
                        self._start_segment()
                    assert self._fd is not None
                    _write_whole(self._fd, data)
                except OSError as exc:
                    raise SpillError(start, exc) from exc
                start += len(chunk)
                self._open_records += len(chunk)
                if self._bytes is not None:
                    self._bytes += len(data)
                if self._open_records >= self.segment_records:
                    self._seal_locked()

    def seal(self) -> None:
        """Make the open segment ready to send (the flush interval came, or the process ends)."""
        with self._lock:
            if self._pid == os.getpid():
                self._seal_locked()

    def _start_segment(self) -> None:
        private_dirs(self.directory)
        self._seq += 1
        base = f"{time.time_ns():020d}-{self._pid}-{self._seq}.jsonl"
        temp = self.directory / (TEMP + base)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)  # before it has a name others act on
        os.rename(temp, self.directory / (OPEN + base))
        self._fd, self._open_name, self._open_records = fd, base, 0

    def _seal_locked(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):  # gone (purged): nothing to seal
            os.rename(self.directory / (OPEN + self._open_name), self.directory / (READY + self._open_name))
        os.close(self._fd)  # releases the lock
        self._fd, self._open_name, self._open_records = None, "", 0

    def _forget_inherited(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # the parent still holds its descriptor, and the lock
        self._fd, self._open_name, self._open_records = None, "", 0
        self._pid, self._seq = os.getpid(), 0

    # -- the bound ----------------------------------------------------------------------------
    def size(self) -> int:
        total = 0
        for path in self._files():
            with contextlib.suppress(OSError):
                total += path.stat().st_size
        return total

    def _make_room(self, incoming: int) -> None:
        if self._bytes is None:
            self._bytes = self.size()
        if self._bytes + incoming <= self.max_bytes:
            return
        self._bytes = self.size()
        # Make room for more than this write, so the next writes need not measure again.
        goal = self.max_bytes - max(incoming, self.max_bytes // 10)
        for path in sorted(self._files(READY)):
            if self._bytes <= goal:
                break
            dropped = self._drop(path)
            if dropped is not None:
                self._bytes -= dropped[0]
                self.dropped_overflow += dropped[1]
                self._warn_overflow()

    def _take(self, path: Path) -> int | None:
        """A descriptor of the segment at ``path``, locked by us (the caller closes it), or
        ``None`` when it is gone or another live process holds it."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        if _lock(fd) and self._same_file(fd, path):
            return hold(fd)  # a forked child closes its copy: the lock stays ours alone
        os.close(fd)
        return None

    def _drop(self, path: Path) -> tuple[int, int] | None:
        fd = self._take(path)
        if fd is None:
            return None
        try:
            with os.fdopen(os.dup(fd), "rb") as handle:
                data = handle.read()
            os.unlink(path)
            return len(data), data.count(b"\n")
        except OSError:
            return None
        finally:
            _close(fd)

    def _warn_overflow(self) -> None:
        self._say(
            "overflow",
            "otel-distro: the spill cache %s reached its bound of %.0f MB; the oldest records are "
            "dropped to make room (counted in `otel-distro stats`)",
            self.directory,
            self.max_bytes / 1e6,
        )

    # -- sending ------------------------------------------------------------------------------
    def claim(self) -> Segment | None:
        """The oldest ready segment, locked and renamed to sending, or ``None``."""
        for path in sorted(self._files(READY)):
            segment = self._claim(path)
            if segment is not None:
                return segment
        return None

    def _claim(self, path: Path) -> Segment | None:
        fd = self._take(path)
        if fd is None:
            return None
        base = _base(path.name)
        sending = self.directory / (SENDING + base)
        try:
            os.rename(path, sending)
            with os.fdopen(os.dup(fd), "rb") as handle:
                raw = handle.read()
        except OSError:
            _close(fd)
            return None
        lines = raw.split(b"\n")
        corrupt = 0
        if lines and lines[-1]:  # the last line is not whole: its writer died mid-write
            lines.pop()
            corrupt = 1
        return Segment(sending, base, fd, [line for line in lines if line.strip()], corrupt)

    def done(self, segment: Segment) -> None:
        """Delete a segment that was acknowledged (or rejected for good)."""
        with contextlib.suppress(OSError):
            os.unlink(segment.path)
        _close(segment.fd)
        with self._lock:
            self._bytes = None

    def keep(self, segment: Segment, lines: list[bytes]) -> None:
        """Put back only these lines of a segment (the rest was sent), in its place in the queue."""
        if not lines:
            self.done(segment)
            return
        ready = self.directory / (READY + segment.base)
        try:
            with replaced_privately(
                ready, sync=False, temporary=self.directory / (TEMP + segment.base)
            ) as out:
                out.write(b"".join(line + b"\n" for line in lines))
            os.unlink(segment.path)
        except OSError:  # could not rewrite: put the whole segment back (repeats beat losses)
            self.release(segment)
            return
        _close(segment.fd)
        with self._lock:
            self._bytes = None

    def release(self, segment: Segment) -> None:
        """Put a segment back, to be sent later."""
        with contextlib.suppress(OSError):
            os.rename(segment.path, self.directory / (READY + segment.base))
        _close(segment.fd)

    def recover(self) -> int:
        """Make segments of dead processes ready again; returns how many."""
        recovered = 0
        own = self.directory / (OPEN + self._open_name) if self._open_name else None
        for path in self._files(OPEN, SENDING):
            if path == own:
                continue
            fd = self._take(path)
            if fd is None:
                continue
            try:
                os.rename(path, self.directory / (READY + _base(path.name)))
                recovered += 1
            except OSError:
                pass
            finally:
                _close(fd)
        now = time.time()
        for path in self._files(TEMP):
            with contextlib.suppress(OSError):
                if now - path.stat().st_mtime > _STALE_TEMP_SECONDS:
                    path.unlink()
        return recovered

    # -- reading ------------------------------------------------------------------------------
    def pending(self) -> tuple[int, int]:
        """Records and bytes waiting in every segment (a line count; for stats)."""
        records = size = 0
        for path in self._files(OPEN, READY, SENDING):
            with contextlib.suppress(OSError), path.open("rb") as handle:
                data = handle.read()
                size += len(data)
                records += data.count(b"\n")
        return records, size

    def _files(self, *states: str) -> Iterator[Path]:
        states = states or (OPEN, READY, SENDING)
        try:
            entries = list(os.scandir(self.directory))
        except OSError:
            return
        for entry in entries:
            if entry.name.endswith(".jsonl") and entry.name.startswith(states):
                yield Path(entry.path)

    @staticmethod
    def _same_file(fd: int, path: Path) -> bool:
        """Whether the path still names the file we locked (it was not renamed under us)."""
        try:
            return os.path.samestat(os.fstat(fd), os.stat(path))
        except OSError:
            return False

    def close(self) -> None:
        """Seal the open segment, so the next process can send it."""
        self.seal()

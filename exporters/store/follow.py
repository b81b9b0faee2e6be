"""Follows one signal's JSONL store files for an exporter: what was appended since the last acknowledgement.

The store already holds every span, redacted, on disk within a second of its end; an exporter
that ships spans elsewhere can read them from there instead of keeping a copy of its own, and
then costs the application nothing per span. The position reached in each file (the offset of
the first line not finished, and how many spans of that line are done) is kept in a state file
(mode 0600), written after each acknowledgement, so a restarted or later process resumes where
the last one left off.

One process at a time follows the store: ``claim`` takes an ``flock`` (without waiting) that
stays held until ``done``, ``keep`` or ``release``; a process that dies drops it. Lines still
being written (no newline yet) are left for later. When the backlog (store bytes not yet
acknowledged) outgrows the bound, the oldest is skipped, counted and warned about. A directory
the follower owns (an exporter's :mod:`~exporters.store.spool`) is emptied as it is sent
(:meth:`StoreTail.remove_sent`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import astuple, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from exporters.store import sealed
from exporters.store.files import ReadProblems, close_locked, open_locked
from otel_distro.runtime.errors import caught
from otel_distro.runtime.forking import after_fork_in_child
from otel_distro.runtime.say_once import SayOnce
from otel_distro.runtime.state_file import StateFile

_logger = logging.getLogger(f"otel_distro.{__name__}")

READ_BYTES = 256 * 1024  # store bytes read (and parsed) per claim; a longer line is read whole
KEEP_FRACTION = 0.8  # when over the bound, skip until the backlog is this share of it
_HEAD_BYTES = 1024  # a file's first bytes, digested into its saved position
_TAIL_BYTES = 256  # and the bytes just before the position: a file truncated in place and written
# again to the same length ("copytruncate" rotation, the same resource at its head) differs there
_POSITION_FIELDS = (2, 5, 6)  # lengths of a saved position: older versions wrote 2, then 5
TORN_SECONDS = 600.0  # a line without its end, untouched this long: its writer died mid-line
_SPAN_MARK = b',"kind":'  # once per span in an OTLP/JSON line (never inside an escaped string)


@dataclass
class _Position:
    """How far one file was acknowledged, and which file that was (device, inode, a digest of its
    first bytes): a file replaced under the same name, even on a reused inode, reads from 0."""

    offset: int
    skip: int
    dev: int = 0
    ino: int = 0  # 0: saved by an older version (no identity)
    head: int = 0  # digest of the first min(offset, _HEAD_BYTES) bytes
    tail: int = 0  # digest of the min(offset, _TAIL_BYTES) bytes before offset (0: not saved)


def _digest(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=7).digest(), "big")


@dataclass
class StoreSegment:
    """Spans claimed from one store file, with where each one sits so a partial send can commit."""

    path: Path
    lines: list[Any]  # the parsed spans, in file order
    positions: list[tuple[int, int]]  # (offset of the span's line, index of the span in it)
    end: int  # offset just past the last whole line read
    corrupt: int = 0  # lines (or parts of lines) that did not parse (a writer killed mid-line)
    fd: int = field(default=-1, repr=False)
    identity: tuple[int, int] = (0, 0)  # the file's device and inode when it was read
    head: bytes = field(default=b"", repr=False)  # its first bytes, for the saved position's digest

    def position(self, offset: int, skip: int) -> _Position:
        head = _digest(self.head[: min(offset, _HEAD_BYTES)]) if offset else 0
        return _Position(offset, skip, self.identity[0], self.identity[1], head)


def _offset(positions: dict[str, _Position], name: str) -> int:
    saved = positions.get(name)
    return saved.offset if saved else 0


def _identify(path: Path, offset: int, skip: int = 0, identity: tuple[int, int] | None = None) -> _Position:
    """A position in ``path`` with the file's identity (none if it cannot be read, or is no
    longer the file of ``identity``: device and inode)."""
    try:
        with path.open("rb") as handle:
            fd = handle.fileno()
            stat = os.fstat(fd)
            if identity is not None and (stat.st_dev, stat.st_ino) != identity:
                return _Position(offset, skip)
            head = os.pread(fd, min(offset, _HEAD_BYTES), 0)
            tail = os.pread(fd, min(offset, _TAIL_BYTES), offset - min(offset, _TAIL_BYTES))
    except OSError:
        return _Position(offset, skip)
    if not offset:
        return _Position(offset, skip, stat.st_dev, stat.st_ino)
    return _Position(offset, skip, stat.st_dev, stat.st_ino, _digest(head), _digest(tail))


def _sealed_spans(path: Path, handle: Any, offset: int) -> int:
    """Spans in the rest of an encrypted store file from ``offset`` (its lines opened)."""
    spans = 0
    for line in handle:
        opened = sealed.plain_line(path, offset, line)
        offset += len(line)
        if opened is not None:
            spans += opened.count(_SPAN_MARK)
    return spans


def _state(state_path: Path) -> StateFile:
    """The positions' state file (its lock also says which process follows the store)."""
    return StateFile(state_path, lock_path=state_path.with_suffix(".lock"))


def _save_positions(state_path: Path, files: dict[str, Any]) -> None:
    _state(state_path).write({"files": files})


def follower_lock(state_path: Path) -> int | None:
    """The lock of the follower that saves its positions in ``state_path``, if free now (give
    the descriptor to :meth:`StateFile.unlock`): while it is held, that follower neither claims
    nor sends. None when the follower holds it."""
    return _state(state_path).lock(wait=False)


@contextlib.contextmanager
def followers_held(state_paths: list[Path]) -> Iterator[None]:
    """The followers that save their positions in ``state_paths`` held still (each one's lock,
    waited for): none claims, sends or saves until the block ends."""
    with contextlib.ExitStack() as stack:
        for state_path in state_paths:
            fd = _state(state_path).lock()
            assert fd is not None  # a waiting lock is always taken
            stack.callback(StateFile.unlock, fd)
        yield


def rebase_positions(state_path: Path, path: Path, before: tuple[int, int], moves: Mapping[int, int]) -> bool:
    """Carry a follower's saved position in the store file ``path`` over to its new version: the
    file was rewritten (re-sealed under a new key) with the same lines in the same order, each
    moved as ``moves`` says (old offset -> new offset), and ``before`` is the old file's device
    and inode. What was sent is then not sent again. True if a position was carried over; a
    position of another file, or not at a line's start, is left to the follower's own checks."""
    try:
        files = json.loads(state_path.read_text())["files"]
        value = files[path.name]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    ints = isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    if not ints or len(value) not in _POSITION_FIELDS:
        return False
    position = _Position(*value)
    if position.ino and (position.dev, position.ino) != before:
        return False
    offset = moves.get(position.offset)
    if offset is None:
        return False
    files[path.name] = list(astuple(_identify(path, offset, position.skip)))
    _save_positions(state_path, files)
    return True


def unsent_records(state_path: Path, path: Path, count: Callable[[dict[str, Any]], int]) -> int:
    """How many records of the store file ``path`` the follower that saves its positions in
    ``state_path`` has not sent yet (``count``: the records of one decoded line): all of them
    where it saved no position for this file (or one that no longer holds), none where it has
    no position file at all (it never followed this store). Asked before a file is purged."""
    if not state_path.exists():
        return 0
    tail = StoreTail(path.parent, state_path, None, lambda _data, _problems: [])
    offset, skip = tail.positions().get(path.name, (0, 0))
    unsent = 0
    with contextlib.suppress(OSError), path.open("rb") as handle:
        handle.seek(offset)
        at = offset
        for line in handle:
            opened = sealed.plain_line(path, at, line)
            at += len(line)
            if opened is None:
                continue
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                records = count(orjson.loads(opened))
                unsent += records - min(skip, records)
            skip = 0  # the part of a line already sent is in the first line only
    return unsent


class StoreTail:
    """Reads new records from ``directory`` (e.g. the store's ``traces``) and remembers what was acknowledged.

    ``parse`` turns one decoded line into the records the exporter sends (spans, say, or the
    whole line as one request), counting in its ``ReadProblems`` the parts it had to skip
    (these count as corrupt, with lines that do not parse); ``max_backlog_bytes`` None: no
    bound; ``since``: only files named for that day (``YYYY-MM-DD``) or later.
    """

    def __init__(
        self,
        directory: Path,
        state_path: Path,
        max_backlog_bytes: int | None,
        parse: Callable[[dict[str, Any], ReadProblems], list[Any]],
        read_bytes: int = READ_BYTES,
        since: str | None = None,
    ) -> None:
        self.directory = directory
        self.since = since
        self.busy = False  # the last claim found another process following this store
        self.state_path = state_path
        self.max_backlog_bytes = max_backlog_bytes
        self.parse = parse
        self.read_bytes = read_bytes
        self.dropped_overflow = 0
        self.unreadable: dict[str, str] = {}  # store files that could not be read: path -> why
        # what was acknowledged but could not be saved (the state file unwritable): kept here, so
        # this process sends each record once; the next one sends them again
        self._unsaved: dict[str, _Position] = {}
        self._lock = threading.Lock()
        self._say = SayOnce(_logger)  # the backlog skipped, the state file, a position per file
        after_fork_in_child(self._after_fork)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()

    # -- positions ----------------------------------------------------------------------------
    def positions(self) -> dict[str, tuple[int, int]]:
        """File name -> (offset, spans of the line at offset already done), for the files as they
        are now: a position saved for a file since replaced (another inode, or other first bytes)
        or shrunk counts from 0, and one that cannot be right is discarded with a warning."""
        return {name: (pos.offset, pos.skip) for name, pos in self._positions().items()}

    def _positions(self) -> dict[str, _Position]:
        try:
            text = self.state_path.read_text()
        except FileNotFoundError:
            return self._with_unsaved({})
        except OSError as exc:
            self._warn_once("state", "cannot read %s (%r); sending from the start of each file", exc)
            return self._with_unsaved({})
        try:
            raw = json.loads(text)
            files = raw["files"]
            if not isinstance(files, dict):
                raise TypeError(type(files).__name__)
        except (ValueError, TypeError, KeyError) as exc:
            self._warn_once("state", "%s is unreadable (%r); sending from the start of each file", exc)
            return self._with_unsaved({})
        out: dict[str, _Position] = {}
        for name, value in files.items():
            position = self._checked(str(name), value)
            if position is not None:
                out[str(name)] = position
        return self._with_unsaved(out)

    def _with_unsaved(self, saved: dict[str, _Position]) -> dict[str, _Position]:
        """``saved``, moved on to what this process acknowledged but could not save."""
        for name, unsaved in list(self._unsaved.items()):
            position = self._checked(name, list(astuple(unsaved)))
            if position is None:  # that file is gone or was replaced
                del self._unsaved[name]
                continue
            held = saved.get(name)
            if held is None or (held.offset, held.skip) < (position.offset, position.skip):
                saved[name] = position
        return saved

    def _checked(self, name: str, value: object) -> _Position | None:
        """The saved position if it still holds for the file now named ``name``, else None (from 0)."""
        ints = isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        if not ints or len(value) not in _POSITION_FIELDS:  # type: ignore[arg-type]
            self._bad(name, "unreadable", value)
            return None
        position = _Position(*value)  # type: ignore[misc]
        if position.offset < 0 or position.skip < 0:
            self._bad(name, "negative", value)
            return None
        path = self.directory / name
        try:
            with path.open("rb") as handle:
                stat = os.fstat(handle.fileno())
                if position.ino and (stat.st_dev, stat.st_ino) != (position.dev, position.ino):
                    return None  # another file of the same name (purged, rotated): all of it is new
                if position.offset > stat.st_size:
                    if position.ino:  # the same file, shrunk: what it holds now was never sent
                        return None
                    self._bad(name, "past its end", value)
                    return None
                if position.offset == 0:
                    return position
                head = handle.read(min(position.offset, _HEAD_BYTES))
                if position.head and _digest(head) != position.head:
                    return None  # same inode number, other contents: a new file
                before = min(position.offset, _TAIL_BYTES)
                handle.seek(position.offset - before)
                tail = handle.read(before)
                if position.tail and _digest(tail) != position.tail:
                    return None  # truncated in place and written again (copytruncate): a new file
                if not tail.endswith(b"\n"):
                    self._bad(name, "inside a line", value)
                    return None
        except FileNotFoundError:
            return position  # gone: forgotten by the next claim
        except OSError:
            return position  # unreadable now: the file is skipped when read anyway
        return position

    def _bad(self, name: str, what: str, value: object) -> None:
        """A saved position that cannot be right: discarded, with a warning (once per file)."""
        self._say(
            ("position", name),
            "otel-distro: the position saved in %s for %s is %s (%r); reading that file from its start",
            self.state_path,
            name,
            what,
            value,
        )

    def _warn_once(self, key: str, message: str, detail: object) -> None:
        self._say(key, "otel-distro: " + message, self.state_path, detail)

    def _save(self, positions: dict[str, _Position]) -> None:
        """Save the positions; where the state file cannot be written, this process keeps them
        (each record is sent once by it, and again by the next process), with a warning."""
        try:
            _save_positions(self.state_path, {name: list(astuple(pos)) for name, pos in positions.items()})
        except OSError as exc:
            self._unsaved.update(positions)
            self._warn_once(
                "save", "cannot record what was sent in %s (%r); the next process sends it again", exc
            )
            return
        self._unsaved.clear()

    def _files(self) -> list[Path]:
        try:
            files = sorted(self.directory.glob("*.jsonl"))
        except OSError:
            return []
        since = self.since
        return files if since is None else [path for path in files if path.stem >= since]

    def backlog(self) -> int:
        """Store bytes not yet acknowledged (for the bound)."""
        positions = self.positions()
        total = 0
        for path in self._files():
            with contextlib.suppress(OSError):
                total += max(0, path.stat().st_size - positions.get(path.name, (0, 0))[0])
        return total

    def pending(self) -> tuple[int, int]:
        """Spans and store bytes not yet acknowledged (for stats; reads the backlog)."""
        positions = self.positions()
        spans = size = 0
        for path in self._files():
            found, read = self._unsent(path, *positions.get(path.name, (0, 0)))
            spans, size = spans + found, size + read
        return spans, size

    def unsent_spans(self, path: Path) -> int:
        """Spans of one file not yet acknowledged (counted by their mark, not parsed)."""
        return self._unsent(path, *self.positions().get(path.name, (0, 0)))[0]

    def _unsent(self, path: Path, offset: int, skip: int) -> tuple[int, int]:
        found = size = 0
        with contextlib.suppress(OSError), path.open("rb") as handle:
            handle.seek(offset)
            while chunk := handle.read(self.read_bytes * 4):
                if sealed.PREFIX in chunk:  # an encrypted store: its lines are counted opened
                    handle.seek(offset + size)
                    found += _sealed_spans(path, handle, offset + size)
                    size = handle.tell() - offset
                    break
                found += chunk.count(_SPAN_MARK)
                size += len(chunk)
        return found - min(skip, found), size

    def next_file(self) -> Path | None:
        """The first file with lines not acknowledged: the one a claim reads (or is sending) now."""
        positions = self.positions()
        for path in self._files():
            with contextlib.suppress(OSError):
                if path.stat().st_size > positions.get(path.name, (0, 0))[0]:
                    return path
        return None

    # -- claiming -----------------------------------------------------------------------------
    def claim(self) -> StoreSegment | None:
        """The next spans not acknowledged, holding the lock; None if none or another process follows."""
        self.busy = False
        if not self._lock.acquire(blocking=False):
            self.busy = True
            return None
        try:
            fd = _state(self.state_path).lock(wait=False)
            if fd is None:
                self._lock.release()
                self.busy = True
                return None
        except BaseException:
            self._lock.release()
            raise
        try:
            segment = self._next(fd)
        except BaseException:
            StateFile.unlock(fd)
            self._lock.release()
            raise
        if segment is None:
            StateFile.unlock(fd)
            self._lock.release()
        return segment

    def _next(self, fd: int) -> StoreSegment | None:
        files = self._files()
        positions = self._positions()
        known = {path.name for path in files}
        changed = any(name not in known for name in positions)  # purged files
        positions = {name: pos for name, pos in positions.items() if name in known}
        sizes = {}
        for path in files:
            with contextlib.suppress(OSError):
                sizes[path.name] = path.stat().st_size
        if self._trim(files, sizes, positions):
            changed = True
        if changed:
            self._save(positions)
        for path in files:
            saved = positions.get(path.name)
            offset, skip = (saved.offset, saved.skip) if saved else (0, 0)
            if sizes.get(path.name, 0) <= offset:
                continue
            segment = self._read(path, offset, skip)
            if segment is None:
                continue
            segment.fd = fd  # a segment of only bad lines too: the exporter counts and acknowledges it
            return segment
        return None

    def _read(self, path: Path, offset: int, skip: int) -> StoreSegment | None:
        try:
            with path.open("rb") as handle:
                stat = os.fstat(handle.fileno())
                head = os.pread(handle.fileno(), _HEAD_BYTES, 0)
                handle.seek(offset)
                data = handle.read(self.read_bytes)
                cut = data.rfind(b"\n")
                if cut < 0 and len(data) == self.read_bytes:  # one line longer than a read
                    rest = handle.readline()
                    if rest.endswith(b"\n"):
                        data, cut = data + rest, len(data) + len(rest) - 1
        except OSError as exc:
            if str(path) not in self.unreadable:
                _logger.warning("otel-distro: cannot read %s (%s); it is skipped", path, exc.strerror or exc)
            self.unreadable[str(path)] = str(exc.strerror or exc)
            return None
        self.unreadable.pop(str(path), None)
        if cut < 0:
            return None  # a line still being written
        segment = StoreSegment(path, [], [], offset + cut + 1, identity=(stat.st_dev, stat.st_ino), head=head)
        position = offset
        for line in data[: cut + 1].splitlines(keepends=True):
            start, position = position, position + len(line)
            if not line.strip():
                continue
            opened = sealed.plain_line(path, start, line)  # an encrypted store's line opened
            if opened is None:
                segment.corrupt += 1
                continue
            line = opened  # noqa: PLW2901
            try:
                problems = ReadProblems()  # its parts not shaped as OTLP/JSON: skipped, counted
                spans = self.parse(orjson.loads(line), problems)
                segment.corrupt += problems.malformed
            except Exception as exc:  # noqa: BLE001 - a partial line left by a killed writer, say
                caught("reading a stored line", exc)  # a bug of ours: raised under tests
                segment.corrupt += 1
                continue
            first = skip if start == offset else 0
            if first >= len(spans) and first:  # more than the line holds: not a position of it
                self._bad(path.name, f"past the {len(spans)} spans of its line", [offset, skip])
                first = 0
            for index in range(first, len(spans)):
                segment.lines.append(spans[index])
                segment.positions.append((start, index))
        return segment

    def _trim(self, files: list[Path], sizes: dict[str, int], positions: dict[str, _Position]) -> bool:
        """Skip the oldest backlog beyond the bound (counted); True if a position moved."""
        if self.max_backlog_bytes is None:
            return False
        backlog = sum(max(0, sizes.get(p.name, 0) - _offset(positions, p.name)) for p in files)
        if backlog <= self.max_backlog_bytes:
            return False
        excess = backlog - int(self.max_backlog_bytes * KEEP_FRACTION)
        dropped = 0
        for path in files:
            if excess <= 0:
                break
            offset = _offset(positions, path.name)
            size = sizes.get(path.name, 0)
            target = min(size, offset + excess)
            new_offset, spans = self._skip(path, offset, target, size)
            excess -= new_offset - offset
            dropped += spans
            positions[path.name] = _identify(path, new_offset)
        self.dropped_overflow += dropped
        self._say(
            "backlog",
            "otel-distro: more than %d MB of spans wait for the endpoint; the oldest %d spans are "
            "skipped (the store keeps them; further skips are counted)",
            self.max_backlog_bytes // (1024 * 1024),
            dropped,
        )
        return True

    def _skip(self, path: Path, offset: int, target: int, size: int) -> tuple[int, int]:
        """The first line start at or after ``target``, and how many spans lie before it."""
        spans = 0
        try:
            with path.open("rb") as handle:
                handle.seek(offset)
                position = offset
                while position < target:
                    chunk = handle.read(min(self.read_bytes, max(1, target - position)))
                    if not chunk:
                        return position, spans
                    spans += chunk.count(_SPAN_MARK)
                    position += len(chunk)
                if position < size:  # finish the line the target fell in
                    rest = handle.readline()
                    spans += rest.count(_SPAN_MARK)
                    position += len(rest)
                    if not rest.endswith(b"\n"):
                        position -= len(rest)  # a line still being written: stop before it
                        spans -= rest.count(_SPAN_MARK)
        except OSError:
            return size, spans
        return position, spans

    # -- acknowledging ------------------------------------------------------------------------
    def done(self, segment: StoreSegment) -> None:
        """Everything the segment read was acknowledged."""
        self._commit(segment, (segment.end, 0))

    def keep(self, segment: StoreSegment, remaining: list[Any]) -> None:
        """The segment's spans before ``remaining`` were acknowledged; the rest are read again later."""
        if not remaining:
            self.done(segment)
            return
        self._commit(segment, segment.positions[len(segment.lines) - len(remaining)])

    def advance(self, segment: StoreSegment, remaining: list[Any]) -> None:
        """Like :meth:`keep`, but the lock stays held: the caller goes on sending the rest."""
        if remaining:
            self._commit(segment, segment.positions[len(segment.lines) - len(remaining)], unlock=False)
        else:
            self._commit(segment, (segment.end, 0), unlock=False)

    def release(self, segment: StoreSegment) -> None:
        """Nothing acknowledged: give the lock back."""
        self._unlock(segment)

    def _commit(self, segment: StoreSegment, position: tuple[int, int], unlock: bool = True) -> None:
        try:
            positions = self._positions()
            saved = _identify(segment.path, *position, identity=segment.identity)
            if not saved.ino:  # the file was replaced since it was read: its identity then
                saved = segment.position(*position)
            positions[segment.path.name] = saved
            self._save(positions)
        finally:
            if unlock:
                self._unlock(segment)

    def _unlock(self, segment: StoreSegment) -> None:
        if segment.fd >= 0:
            StateFile.unlock(segment.fd)  # drops the flock
            segment.fd = -1
            self._lock.release()

    # -- letting go of what was sent ------------------------------------------------------------
    def remove_sent(self) -> tuple[int, int]:
        """Delete the files every line of which was acknowledged: how many, and how many torn
        lines went with them. Only for a directory the follower owns (an exporter's spool),
        never the user's store.

        Each file is deleted holding its append lock, its size checked under that lock, so a
        line another process appends meanwhile is never deleted unsent: that writer finds the
        name gone (or a new file under it) once it has the lock, and starts the file again. A
        file whose only rest is a line without its end, untouched for :data:`TORN_SECONDS` (its
        writer died mid-line), goes too, the line counted. Nothing happens while another process
        follows the directory."""
        fd = follower_lock(self.state_path)
        if fd is None:
            return 0, 0
        removed = torn = 0
        try:
            positions = self._positions()
            for path in self._files():
                saved = positions.get(path.name) or _Position(0, 0)  # none: only an empty file goes
                if saved.skip:
                    continue
                gone = self._remove_if_sent(path, saved)
                if gone is not None:
                    positions.pop(path.name, None)
                    removed += 1
                    torn += gone
            if removed:
                self._save(positions)
        finally:
            StateFile.unlock(fd)
        return removed, torn

    @staticmethod
    def _remove_if_sent(path: Path, saved: _Position) -> int | None:
        """None if kept; else the torn lines the deleted file ended with (0 or 1)."""
        try:
            fd = open_locked(path, create=False, wait=False)
        except OSError:
            return None
        try:
            stat = os.fstat(fd)
            if saved.ino and (stat.st_dev, stat.st_ino) != (saved.dev, saved.ino):
                return None
            rest = stat.st_size - saved.offset
            torn = 0
            if rest:
                stale = time.time() - stat.st_mtime > TORN_SECONDS
                if rest < 0 or not stale or b"\n" in os.pread(fd, rest, saved.offset):
                    return None
                torn = 1
            path.unlink()
            return torn
        except OSError:
            return None
        finally:
            close_locked(fd)

"""A small JSON state file shared by processes: read freely, changed under a lock, replaced atomically.

Several processes (gunicorn workers, forks) share one store, so a change is made under an
exclusive ``flock`` on a lock file beside the state file: the current content is read, changed
and written to a 0600 temporary file that replaces the state file in one ``rename``. A reader
never sees a half-written file, and counters added by two processes at once both count.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from otel_distro.runtime.files import private_dirs, replaced_privately
from otel_distro.runtime.forking import hold, let_go

FILE_MODE = 0o600


class StateFile:
    """One JSON object in ``path``; ``lock_path`` (``path`` + ``.lock`` unless given) serializes
    changes across processes."""

    def __init__(self, path: Path, lock_path: Path | None = None) -> None:
        self.path = Path(path)
        self.lock_path = (
            Path(lock_path) if lock_path is not None else self.path.with_name(self.path.name + ".lock")
        )

    def read(self) -> dict[str, Any]:
        """The object in the file; empty if there is none or it is unreadable."""
        try:
            data = json.loads(self.path.read_bytes())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def lock(self, wait: bool = True) -> int | None:
        """Take the lock and return its descriptor (give it to :meth:`unlock`); ``None`` when
        ``wait`` is false and another holder has it. Raises ``OSError`` when it cannot be taken."""
        private_dirs(self.path.parent)
        return take_lock(self.lock_path, wait)

    @staticmethod
    def unlock(fd: int) -> None:
        release_lock(fd)

    def write(self, value: Mapping[str, Any]) -> None:
        """Replace the object in one rename (holding the lock where other processes change it)."""
        private_dirs(self.path.parent)
        with replaced_privately(self.path, "w", sync=False) as handle:
            json.dump(value, handle, sort_keys=True)

    def update(self, change: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        """Replace the object by ``change(current)`` under the lock; returns what was written.
        Raises ``OSError`` when the file cannot be locked or written."""
        fd = self.lock()
        assert fd is not None  # a waiting lock is always taken
        try:
            new = change(self.read())
            self.write(new)
            return new
        finally:
            self.unlock(fd)

    def add(self, counts: Mapping[str, int], key: str | None = None) -> dict[str, Any]:
        """Add ``counts`` to the integer counters of the object (of its ``key`` member, if given)."""

        def added(current: dict[str, Any]) -> dict[str, Any]:
            table = current.get(key, {}) if key is not None else current
            if not isinstance(table, dict):
                table = {}
            for name, count in counts.items():
                old = table.get(name)
                table[name] = (old if isinstance(old, int) else 0) + int(count)
            if key is not None:
                current[key] = table
            return current

        return self.update(added)


def take_lock(lock_path: Path, wait: bool = True) -> int | None:
    """An exclusive ``flock`` on ``lock_path`` (created 0600): its descriptor, for
    :func:`release_lock`; ``None`` when ``wait`` is false and another holder has it. A forked
    child closes its copy at once, so the lock stays the holder's alone. Raises ``OSError``."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return hold(fd)


def release_lock(fd: int) -> None:
    let_go(fd)
    os.close(fd)  # releases the lock


@contextlib.contextmanager
def locked(lock_path: Path) -> Iterator[None]:
    """The block runs holding an exclusive lock on ``lock_path`` (see :func:`take_lock`), across
    processes: one lock mechanism for state files and for the store's one-at-a-time commands."""
    private_dirs(Path(lock_path).parent)
    fd = take_lock(Path(lock_path))
    assert fd is not None  # a waiting lock is always taken
    try:
        yield
    finally:
        release_lock(fd)

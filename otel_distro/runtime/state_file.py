"""A small JSON state file shared by processes: read freely, changed under a lock, replaced atomically.

Several processes (gunicorn workers, forks) share one store, so a change is made under an
exclusive ``flock`` on a lock file beside the state file: the current content is read, changed
and written to a 0600 temporary file that replaces the state file in one ``rename``. A reader
never sees a half-written file, and counters added by two processes at once both count.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from otel_distro.runtime.files import private_dirs, replaced_privately

FILE_MODE = 0o600


class StateFile:
    """One JSON object in ``path``; ``path`` + ``.lock`` serializes changes across processes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    def read(self) -> dict[str, Any]:
        """The object in the file; empty if there is none or it is unreadable."""
        try:
            data = json.loads(self.path.read_bytes())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def update(self, change: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        """Replace the object by ``change(current)`` under the lock; returns what was written.
        Raises ``OSError`` when the file cannot be locked or written."""
        private_dirs(self.path.parent)
        lock = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            new = change(self.read())
            with replaced_privately(self.path, "w", sync=False) as handle:
                json.dump(new, handle, sort_keys=True)
            return new
        finally:
            os.close(lock)  # releases the lock

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

"""Saying a problem once: the first time each kind happens it is logged, after that only counted.

Every queue, exporter and store of the distro counts what it drops and warns about the first
drop of each kind, so a dead endpoint or a full disk does not flood the app's log with one line
per record. :class:`SayOnce` is that "first time?" question, asked under a lock so two threads
never both say it. A problem that went away can be re-armed (:meth:`SayOnce.again`), so its
return is said too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Hashable


class SayOnce:
    """The kinds of problem already said, and the logger they are said to."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._said: set[Hashable] = set()
        self._lock = threading.Lock()

    def first(self, kind: Hashable = None) -> bool:
        """Whether this is the first time ``kind`` happens (it is then marked as said)."""
        with self._lock:
            if kind in self._said:
                return False
            self._said.add(kind)
            return True

    def __call__(self, kind: Hashable, message: str, *args: object) -> bool:
        """Log ``message % args`` as a warning the first time ``kind`` happens; whether it was."""
        if not self.first(kind):
            return False
        self._logger.warning(message, *args)
        return True

    def again(self, kind: Hashable = None) -> None:
        """``kind`` went away: the next time it happens is said again."""
        with self._lock:
            self._said.discard(kind)

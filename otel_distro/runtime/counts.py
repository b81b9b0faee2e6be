"""The counting block: a component's counters (records sent, dropped by reason), one lock.

Every stats class builds on :class:`Counts`: it declares its counters as class attributes of
value 0, any thread adds to them with :meth:`Counts.add` (under the block's lock, so two threads'
additions both count), and readers read them as plain attributes (an int read is atomic).
"""

from __future__ import annotations

import threading


class Counts:
    """Counters added to under one lock (see the module docstring)."""

    def __init__(self) -> None:
        self._counts_lock = threading.Lock()

    def add(self, **counts: int) -> None:
        """Add to the named counters (``stats.add(dropped_failed=3, dropped_refused=1)``)."""
        with self._counts_lock:
            for name, count in counts.items():
                setattr(self, name, getattr(self, name) + count)

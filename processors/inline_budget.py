"""The app-thread text budget: how much long text a span may carry and still be processed inline.

The chain processes a span as it ends, on the application thread, when that is cheap. A
processor that scans texts charges every long one here while it works; past the budget it
raises :class:`HandOff` and the chain gives the span to its worker instead. So no span has
to be measured up front: the scan that has to happen anyway finds the large ones.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

INLINE_TEXT_BUDGET = 64 * 1024  # characters of long text a span may carry and still be processed inline
LONG_TEXT = 256  # longer strings are never cached; shorter ones are counted only when not cached
# characters each element of a list counts for: a list of many short strings costs its length in
# scanning however short each one is (they escape the long-text count above)
LIST_ITEM_CHARGE = 64

# A background thread scanning text (the chain's worker) pauses every PACE_SECONDS while the
# app's threads want the GIL: they share it, and a waiting thread gets it only after CPython's
# switch interval (5 ms), or at once when the holder sleeps (long enough for it to wake: a
# shorter pause restarts its wait instead). When nobody took the GIL during a pause, the next
# comes later, up to MAX_PACE_SECONDS apart.
PACE_SECONDS = 0.001
MAX_PACE_SECONDS = 0.016
PAUSE_SECONDS = 0.0002


class _Slot(threading.local):
    """Per thread: a budget (int), pacing state (list: when it last paused, how long until the
    next) or neither; the class default answers for threads that never set it, without the
    AttributeError a plain ``threading.local`` raises inside ``getattr``."""

    left: int | list[float] | None = None


_inline = _Slot()


class HandOff(Exception):
    """The span carries too much text to process on the app thread: the chain's worker takes it."""


def charge_inline(chars: int) -> None:
    """Count ``chars`` of long text scanned for the span being processed on the app thread.

    Raises :class:`HandOff` once the span's texts pass :data:`INLINE_TEXT_BUDGET`; on a paced
    thread (:func:`paced`) pauses briefly every :data:`PACE_SECONDS`; does nothing elsewhere
    (a processor used on its own).
    """
    left = _inline.left
    if left is None:
        return
    if isinstance(left, list):
        if (now := time.perf_counter()) - left[0] >= left[1]:
            time.sleep(PAUSE_SECONDS)  # the app's threads take the GIL while this one sleeps
            after = time.perf_counter()
            # back late: another thread held the GIL meanwhile, so keep pausing often
            left[1] = PACE_SECONDS if after - now > 2 * PAUSE_SECONDS else min(2 * left[1], MAX_PACE_SECONDS)
            left[0] = after
        return
    left -= chars
    if left < 0:
        raise HandOff
    _inline.left = left


def set_inline_budget(chars: int | None) -> None:
    """Start (``chars``) or end (``None``) processing one span on the calling thread under a budget."""
    _inline.left = chars


@contextmanager
def paced() -> Iterator[None]:
    """Scan on the calling (background) thread, pausing every :data:`PACE_SECONDS` of scanning
    while other threads want the GIL, so they wait about that long at most, not a switch interval."""
    before = _inline.left
    _inline.left = [time.perf_counter(), PACE_SECONDS]
    try:
        yield
    finally:
        _inline.left = before

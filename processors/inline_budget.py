"""The app-thread text budget: how much long text a span may carry and still be processed inline.

The chain processes a span as it ends, on the application thread, when that is cheap. A
processor that scans texts charges every long one here while it works; past the budget it
raises :class:`HandOff` and the chain gives the span to its worker instead. So no span has
to be measured up front: the scan that has to happen anyway finds the large ones.
"""

from __future__ import annotations

import threading

INLINE_TEXT_BUDGET = 64 * 1024  # characters of long text a span may carry and still be processed inline
LONG_TEXT = 256  # shorter strings are not counted: they cost little to scan (and are cached)
# characters each element of a list counts for: a list of many short strings costs its length in
# scanning however short each one is (they escape the long-text count above)
LIST_ITEM_CHARGE = 64

_inline = threading.local()


class HandOff(Exception):
    """The span carries too much text to process on the app thread: the chain's worker takes it."""


def charge_inline(chars: int) -> None:
    """Count ``chars`` of long text scanned for the span being processed on the app thread.

    Raises :class:`HandOff` once the span's texts pass :data:`INLINE_TEXT_BUDGET`; does nothing
    where no budget is set (the chain's worker, or a processor used on its own).
    """
    left = getattr(_inline, "left", None)
    if left is None:
        return
    left -= chars
    if left < 0:
        raise HandOff
    _inline.left = left


def set_inline_budget(chars: int | None) -> None:
    """Start (``chars``) or end (``None``) processing one span on the calling thread under a budget."""
    _inline.left = chars

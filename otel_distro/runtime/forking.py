"""Run a method in a forked child without keeping its object alive for the life of the process."""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable


def after_fork_in_child(method: Callable[[], object]) -> None:
    """Call the bound ``method`` in every child forked from now on, while its object lives.

    ``os.register_at_fork`` cannot unregister; a weak reference lets the object be collected.
    """
    weak = weakref.WeakMethod(method)

    def call() -> None:
        alive = weak()
        if alive is not None:
            alive()

    os.register_at_fork(after_in_child=call)

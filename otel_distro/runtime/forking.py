"""What runs in a forked child: every fork hook of the distro is registered here.

A module's own state (a lock, the exit hooks) is reset by a function kept for the life of the
process (:func:`in_child`); an object's (a worker's thread, a cache's open segment) by its
method, without keeping the object alive (:func:`after_fork_in_child`). Hooks run in the order
they were registered.
"""

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


def in_child(function: Callable[[], object]) -> None:
    """Call ``function`` in every child forked from now on (for the life of the process)."""
    os.register_at_fork(after_in_child=function)

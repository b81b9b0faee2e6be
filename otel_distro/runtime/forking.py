"""What runs in a forked child: every fork hook of the distro is registered here.

A module's own state (a lock, the exit hooks) is reset by a function kept for the life of the
process (:func:`in_child`); an object's (a worker's thread, a cache's open segment) by its
method, without keeping the object alive (:func:`after_fork_in_child`). Hooks run in the order
they were registered.
"""

from __future__ import annotations

import contextlib
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


# Descriptors that hold an flock for this process right now (a follower's claim, a state file's
# update, a store file's append). A forked child that does not exec inherits them, and an
# flock lives as long as any descriptor of it is open: the parent's release would not free the
# lock while the child lives, and every follower of the store would stop. The child closes its
# copies at once (closing, never unlocking: the lock is the parent's, and stays with it).
_held: set[int] = set()


def hold(fd: int) -> int:
    """Note that ``fd`` holds a lock of this process's (closed in a forked child); returns it."""
    _held.add(fd)
    return fd


def let_go(fd: int) -> None:
    """``fd`` no longer holds a lock (call before closing it)."""
    _held.discard(fd)


def _close_held() -> None:
    for fd in list(_held):
        with contextlib.suppress(OSError):
            os.close(fd)
    _held.clear()


in_child(_close_held)

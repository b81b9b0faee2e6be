"""Flushing at the ways a process ends: normal exit, multiprocessing workers, SIGTERM."""

from __future__ import annotations

import atexit
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

_logger = logging.getLogger("otel_distro")

SIGTERM_FLUSH_MILLIS = 2_000

_lock = threading.Lock()
_shutdowns: list[Callable[[], None]] = []
_flushes: list[Callable[[int], object]] = []
_fork_hook_installed = False


def register(shutdown: Callable[[], None], flush: Callable[[int], object]) -> None:
    """Run ``shutdown`` at normal interpreter exit and in exiting multiprocessing workers;
    run ``flush`` (bounded) when SIGTERM arrives and the app has no handler of its own."""
    global _fork_hook_installed
    with _lock:
        _shutdowns.append(shutdown)
        _flushes.append(flush)
        install_fork_hook = not _fork_hook_installed
        _fork_hook_installed = True
    atexit.register(_safely, shutdown)
    if install_fork_hook:
        os.register_at_fork(after_in_child=_after_fork_in_child)
    _install_sigterm_handler()


def _safely(step: Callable[[], object]) -> None:
    try:
        step()
    except Exception as exc:  # noqa: BLE001 - exit paths must not raise
        _logger.warning("otel-distro: %r while shutting down telemetry", exc)


def _after_fork_in_child() -> None:
    # multiprocessing workers leave through os._exit, which skips atexit; its own finalizers
    # run instead. They are cleared in the new process before its after-fork callbacks run,
    # so the finalizer is registered from one of those.
    mp_util = sys.modules.get("multiprocessing.util")
    if mp_util is not None:
        for shutdown in list(_shutdowns):
            mp_util.register_after_fork(_Holder(shutdown), _register_finalizer)


class _Holder:
    """A weak-referenceable owner for a callback (multiprocessing keys its registries weakly)."""

    _alive: list[_Holder] = []

    def __init__(self, shutdown: Callable[[], None]) -> None:
        self.shutdown = shutdown
        _Holder._alive.append(self)


def _register_finalizer(holder: _Holder) -> None:
    import multiprocessing.util

    multiprocessing.util.Finalize(holder, _safely, args=(holder.shutdown,), exitpriority=100)


def _install_sigterm_handler() -> None:
    """Flush before the default SIGTERM action, if the app left SIGTERM at its default."""
    if threading.current_thread() is not threading.main_thread():
        return
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # not the main interpreter, or signals unavailable
        return


def _flush_all() -> None:
    for flush in list(_flushes):
        _safely(lambda flush=flush: flush(SIGTERM_FLUSH_MILLIS))  # type: ignore[misc]


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Flush on another thread: the interrupted main thread may hold a lock the flush needs.
    flusher = threading.Thread(target=_flush_all, name="otel-distro-sigterm-flush", daemon=True)
    flusher.start()
    flusher.join(SIGTERM_FLUSH_MILLIS / 1000 + 0.5)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)  # the default action: the exit status the app would have had

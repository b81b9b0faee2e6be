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

from otel_distro.runtime import forking
from otel_distro.runtime.errors import caught
from otel_distro.runtime.worker import run_later

_logger = logging.getLogger("otel_distro")

SIGTERM_FLUSH_SECONDS = 2.0

_lock = threading.Lock()
_shutdowns: list[Callable[[], None]] = []
_done: list[Callable[[], None]] = []  # shutdowns run in this process
_flushes: list[Callable[[float, bool], object]] = []
_fork_hook_installed = False
_shutting_down = threading.Event()
_term_pending = threading.Event()
# The process whose telemetry state is its own: a forked child becomes it once its after-fork
# hooks have run; before that, what it holds is its parent's and must not be flushed.
_ready_pid = os.getpid()


def register(shutdown: Callable[[], None], flush: Callable[[float, bool], object]) -> None:
    """Run ``shutdown`` at normal interpreter exit and in exiting multiprocessing workers;
    run ``flush(seconds, final)`` when SIGTERM arrives (``final``: the app left SIGTERM at its
    default, so the process ends right after; else the app's own handler chained to ours)."""
    global _fork_hook_installed, _ready_pid
    with _lock:
        _ready_pid = os.getpid()  # registering here: this process's telemetry is its own
        _shutdowns.append(shutdown)
        _flushes.append(flush)
        install_fork_hook = not _fork_hook_installed
        _fork_hook_installed = True
    atexit.register(_shut_down, shutdown)
    if install_fork_hook:
        forking.in_child(_after_fork_in_child)
    _in_worker_process(shutdown)
    _install_sigterm_handler()


def _in_worker_process(shutdown: Callable[[], None]) -> None:
    """Where the app uses multiprocessing, configured maybe inside a worker (a ``forkserver`` or
    ``spawn`` child importing the main module, which it does before it knows it is a worker, or
    a task calling configure()): a worker leaves through os._exit, so its finalizers must flush.
    One now (a task's case; elsewhere multiprocessing's exit runs it, as atexit would), and one
    from an after-fork callback, which a worker's start runs after clearing the finalizers (the
    main module's import comes before that start). Each shutdown runs once, whoever asks first."""
    if "multiprocessing" not in sys.modules:
        return
    import multiprocessing.util

    holder = _Holder(shutdown)
    _register_finalizer(holder)
    multiprocessing.util.register_after_fork(holder, _register_finalizer)


def _shut_down(shutdown: Callable[[], None]) -> None:
    """Run one shutdown (once: a worker's finalizer and atexit may both ask); a SIGTERM arriving
    meanwhile takes effect once it is done."""
    with _lock:
        if any(done is shutdown for done in _done):
            return
        _done.append(shutdown)
    _shutting_down.set()
    try:
        shutdown()
    except Exception as exc:  # noqa: BLE001 - exit paths must not raise
        caught("shutting down at exit", exc)  # a bug of ours: raised under the test suite
        _logger.warning("otel-distro: %r while shutting down telemetry", exc)
    finally:
        _shutting_down.clear()
        if _term_pending.is_set():
            os.kill(os.getpid(), signal.SIGTERM)  # handler is back at SIG_DFL: the default action


def _after_fork_in_child() -> None:
    global _ready_pid
    _done.clear()
    _shutting_down.clear()
    _term_pending.clear()
    _ready_pid = os.getpid()  # registered after the pipelines' own hooks, so it runs after them
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

    multiprocessing.util.Finalize(holder, _shut_down, args=(holder.shutdown,), exitpriority=100)


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


def _flush_all(seconds: float, final: bool) -> None:
    for flush in list(_flushes):
        try:
            flush(seconds, final)  # each pipeline bounds its own flush
        except Exception as exc:  # noqa: BLE001 - a flush that fails must not stop the others
            caught("flushing at exit", exc)  # a bug of ours: raised under the test suite
            _logger.warning("otel-distro: %r while flushing telemetry", exc)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    chained = signal.getsignal(signal.SIGTERM) is not _on_sigterm  # called by the app's own handler
    if os.getpid() != _ready_pid:  # a forked child still setting up has nothing of its own to flush
        if not chained:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
        return
    if _shutting_down.is_set():
        # Exit is already under way: let the shutdown finish (it flushes), then take the default action.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _term_pending.set()
        _start_watchdog()
        return
    try:
        _flush_all(SIGTERM_FLUSH_SECONDS, final=not chained)
    finally:
        if not chained:  # the app chose what SIGTERM does: we only flushed
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)  # the default action, so the exit status is unchanged


def _start_watchdog() -> None:
    """Take the default action after the flush budget, should the shutdown not end first."""

    pid = os.getpid()
    if not run_later(SIGTERM_FLUSH_SECONDS, lambda: os.kill(pid, signal.SIGTERM), "sigterm-watchdog"):
        os.kill(pid, signal.SIGTERM)  # no new threads at interpreter shutdown: do not wait at all

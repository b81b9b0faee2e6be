"""The one background-thread block: a step run every ``interval`` seconds and whenever woken,
steps run once on threads of their own with a deadline (:func:`run_bounded`), and a step run
once after a delay (:func:`run_later`).

Every periodic task the distro owns (the conversation-log sender and cache writer, the
Langfuse sweeper, the settings reloader, ...) is a :class:`Worker`: a daemon thread named
``otel-distro-<name>``, a fresh thread (and fresh events) in a forked child, a ``stop`` that
waits at most its deadline, and a step whose failure is reported once and never ends the
loop. The SDK's ``BatchProcessor`` is the model (one worker shape, used everywhere).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from otel_distro.runtime.errors import caught
from otel_distro.runtime.forking import after_fork_in_child

_logger = logging.getLogger("otel_distro.worker")


class Worker:
    """Runs ``step()`` every ``interval`` seconds (a number, or a callable read each round: 0 or
    less ends the loop) and whenever :meth:`wake` is called, on a thread of its own."""

    def __init__(
        self,
        name: str,
        step: Callable[[], object],
        interval: float | Callable[[], float],
        *,
        first: Callable[[], object] | None = None,
        in_child: Callable[[], object] | None = None,
    ) -> None:
        """``first``: run once as the thread starts; ``in_child``: run in a forked child before
        its worker starts (reset what the parent's state left)."""
        self.name = name
        self.step = step
        self.interval = interval
        self.first = first
        self.in_child = in_child
        self.failures = 0
        self._thread: threading.Thread | None = None
        self._start()
        after_fork_in_child(self._after_fork)

    def _seconds(self) -> float:
        return float(self.interval()) if callable(self.interval) else float(self.interval)

    def _start(self) -> None:
        self._wake = threading.Event()
        self._stop = threading.Event()
        if self._seconds() <= 0:
            self._thread = None
            return
        thread = threading.Thread(target=self._run, name=f"otel-distro-{self.name}", daemon=True)
        try:
            thread.start()
        except RuntimeError:  # no new threads at interpreter shutdown: flush and exit still run steps
            self._thread = None
            return
        self._thread = thread

    def _after_fork(self) -> None:
        if self.in_child is not None:
            self.in_child()
        self._start()

    def _run(self) -> None:
        if self.first is not None:
            self._call(self.first)
        while not self._stop.is_set():
            seconds = self._seconds()
            if seconds <= 0:
                return
            self._wake.wait(seconds)
            self._wake.clear()
            if self._stop.is_set():
                return
            self._call(self.step)

    def _call(self, step: Callable[[], object]) -> None:
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - the loop outlives any one failure
            self.failures += 1
            if self.failures == 1:
                _logger.warning("otel-distro: %s: %r (further failures are counted)", self.name, exc)
            caught(f"the {self.name} worker", exc)  # a bug of ours: raised under the test suite

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def yielding(self) -> bool:
        """Whether the caller is the worker's own thread and the worker is asked to stop: a long
        step ends early (what it has not done stays for whoever stops the worker)."""
        return self._stop.is_set() and threading.current_thread() is self._thread

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wake(self) -> None:
        """Run the step now (on the worker's thread), not at the next interval."""
        self._wake.set()

    def stop(self, timeout: float = 1.0) -> bool:
        """End the loop and wait at most ``timeout`` seconds; True if the thread has ended."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return True
        thread.join(timeout)
        return not thread.is_alive()


def run_bounded(
    steps: Sequence[Callable[[], object]], seconds: float, name: str = "otel-distro-flush"
) -> bool:
    """Run steps on threads of their own and wait for them at most ``seconds`` in all (flush,
    shutdown: a step that hangs costs the app its deadline, no more).

    True if every step finished in time and reported success (did not return False nor raise).
    Where no thread can be started (interpreter shutdown), the steps run here, one after another.
    """
    results: list[bool] = []
    threads = []
    for step in steps:
        thread = threading.Thread(target=_call, args=(step, results), name=name, daemon=True)
        try:
            thread.start()
        except RuntimeError:
            _call(step, results)
            continue
        threads.append(thread)
    deadline = time.monotonic() + seconds
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return len(results) == len(steps) and all(results)


def run_later(seconds: float, action: Callable[[], object], name: str) -> bool:
    """Run ``action`` once, ``seconds`` from now, on a daemon thread of its own (a deadline's
    last resort: nothing waits for it, and a forked child has none). False where no thread can
    be started (interpreter shutdown): the caller decides what to do instead."""

    def later() -> None:
        time.sleep(seconds)
        _call(action, [])

    try:
        threading.Thread(target=later, name=f"otel-distro-{name}", daemon=True).start()
    except RuntimeError:
        return False
    return True


def _call(step: Callable[[], object], results: list[bool]) -> None:
    try:
        results.append(step() is not False)
    except Exception as exc:  # noqa: BLE001 - flush and shutdown must not raise into the app
        caught("flushing or shutting down", exc)  # a bug of ours: raised under the test suite
        _logger.warning("otel-distro: %r while flushing or shutting down telemetry", exc)
        results.append(False)

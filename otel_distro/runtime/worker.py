"""The one background-thread block: a step run every ``interval`` seconds and whenever woken.

Every periodic task the distro owns (the conversation-log sender and cache writer, the
Langfuse sweeper, the settings reloader, ...) is a :class:`Worker`: a daemon thread named
``otel-distro-<name>``, a fresh thread (and fresh events) in a forked child, a ``stop`` that
waits at most its deadline, and a step whose failure is reported once and never ends the
loop. The SDK's ``BatchProcessor`` is the model (one worker shape, used everywhere).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

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

"""A bounded queue that one writer thread drains in batches; the threads that fill it only append.

The one queue block: the store's writer, the HTTP senders' queues (Langfuse, Helicone,
Phoenix) and the conversation log's cache writer use it, each on its own :class:`Worker`.
Made for the store, whose items are spans already encoded on the thread that ended them.
The SDK's ``BatchSpanProcessor`` costs that thread about 2 µs per span (property reads, a
``getpid`` for fork detection, an event check); :meth:`WriteQueue.put` costs one lock and an
append. Memory is bounded by count and by bytes, what is being written included, so a stuck
disk cannot eat memory: what does not fit is refused and the caller counts it.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from otel_distro.runtime.errors import caught
from otel_distro.runtime.worker import Worker

_logger = logging.getLogger(__name__)  # otel_distro.runtime.write_queue
_T = TypeVar("_T")


class WriteQueue(Generic[_T]):
    """Items wait here until the writer thread hands them to ``write`` in batches of ``batch_size``.

    The writer wakes when a batch is full or ``delay_seconds`` after it last ran; ``flush``
    writes everything on the calling thread. ``size`` tells an item's bytes.
    """

    def __init__(
        self,
        write: Callable[[list[_T]], object],
        size: Callable[[_T], int],
        *,
        max_items: int,
        max_bytes: int,
        batch_size: int,
        delay_seconds: float,
        name: str,
        coalesce: bool = False,
    ) -> None:
        """``coalesce``: everything waiting goes to one ``write`` call, however many batches it
        makes (a store appends it at once: the fewer system calls, the fewer times the writer
        waits for the GIL while the app's thread computes)."""
        self._write = write
        self.coalesce = coalesce
        self._size = size
        self.max_items = max_items
        self.max_bytes = max_bytes
        self.batch_size = max(1, batch_size)
        self.name = name
        self.closed = False
        self.refused_full = 0  # items refused for want of room (count or bytes), for the drop ledger
        self.refused_closed = 0  # items refused after close
        self.lost = 0  # items taken but never written: the write raised, or close ran out of time
        self.abandoned = False  # close ran out of time: what the writer still holds is counted lost
        self._reset()
        # the writer: the one worker block, woken by a full batch (a fresh thread in a forked child)
        self._worker = Worker(name, self._drain, max(delay_seconds, 0.01), in_child=self._reset)

    @classmethod
    def of_records(
        cls,
        write: Callable[[list[_T]], object],
        *,
        max_items: int,
        batch_size: int,
        delay_seconds: float,
        name: str,
    ) -> WriteQueue[_T]:
        """A queue bounded by count alone (records whose size the exporter behind it bounds)."""
        return cls(
            write,
            lambda _record: 1,
            max_items=max_items,
            max_bytes=max_items,
            batch_size=batch_size,
            delay_seconds=delay_seconds,
            name=name,
        )

    def _reset(self) -> None:
        """A fresh queue (at start, and in a forked child: the parent writes its own)."""
        if getattr(self, "_pid", None) == os.getpid():
            return  # this process has its own already (a flush came before the after-fork hook)
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._pending: list[_T] = []
        self.items = 0  # queued or being written
        self.bytes = 0
        self._finished = [0, 0]  # items and bytes of the batch being written that ``write`` is done with
        self._writing = 0  # items of the batch being written

    def put(self, item: _T, size: int) -> bool:
        """Queue ``item`` (``size`` bytes); False if the queue is full or closed."""
        with self._lock:
            over = self.bytes + size > self.max_bytes and self.items  # one item always fits
            if self.closed:
                self.refused_closed += 1
                return False
            if self.items >= self.max_items or over:
                self.refused_full += 1
                return False
            self.items += 1
            self.bytes += size
            pending = self._pending
            pending.append(item)
            full = len(pending) == self.batch_size
        if full:
            self._worker.wake()
        return True

    def finished(self, count: int, size: int) -> None:
        """For ``write``: it is done with ``count`` items (``size`` bytes) of the batch it was given,
        before it returns, so :attr:`items` counts only what is still to do (a slow batch at an
        exit deadline: what was done is not counted as lost)."""
        with self._lock:
            self.items -= count
            self.bytes -= size
            self._finished[0] += count
            self._finished[1] += size

    def drop_counts(self) -> dict[str, int]:
        """Items refused so far, by reason (the caller counts them too; these say why), and items
        taken but lost (``lost``: only this queue counts them)."""
        return {"queue_full": self.refused_full, "shut_down": self.refused_closed, "lost": self.lost}

    def _drain(self, timeout: float = -1) -> bool:
        # A forked child can be told to flush before its after-fork hooks have run (a SIGTERM to a
        # pool worker still starting): what it holds then is its parent's, which the parent writes.
        self._reset()
        if not self._write_lock.acquire(timeout=timeout):
            return False
        try:
            while True:
                with self._lock:
                    batch, self._pending = self._pending, []
                if not batch:
                    return True
                step = len(batch) if self.coalesce else self.batch_size
                for start in range(0, len(batch), step):
                    chunk = batch[start : start + step]
                    with self._lock:
                        if self.abandoned:  # close gave up on what is left: counted as lost there
                            return True
                        self._writing = len(chunk)
                    failed = False
                    try:
                        self._write(chunk)
                    except Exception as exc:
                        caught(f"writing a batch ({self.name})", exc)  # a bug of ours: raised under tests
                        _logger.exception("otel-distro: %s failed to write a batch", self.name)
                        failed = True
                    size = sum(map(self._size, chunk))
                    with self._lock:
                        self._writing = 0
                        (done, done_bytes), self._finished = self._finished, [0, 0]
                        self.items -= len(chunk) - done
                        self.bytes -= size - done_bytes
                        self.lost += len(chunk) - done if failed else 0
        finally:
            self._write_lock.release()

    def flush(self, timeout_seconds: float | None = None) -> bool:
        """Write everything queued so far, on this thread; False if the writer held on past the timeout."""
        return self._drain(-1 if timeout_seconds is None else max(0.0, timeout_seconds))

    def close(self, timeout_seconds: float = 30.0) -> None:
        """Refuse new items, stop the writer thread and write what is queued."""
        with self._lock:
            self.closed = True
        self._worker.stop(timeout_seconds)  # a batch it is writing is finished first
        if not self._drain(timeout_seconds):  # the writer held on: what it has not written is lost
            with self._lock:
                self._pending = []  # taken away: no late write of it either
                # what waits, and what the writer took but has not begun (the batch it writes now
                # is its own to count: it may still be written)
                writing = self._writing - self._finished[0]
                unfinished = max(0, self.items - writing)
                self.abandoned = True
                self.lost += unfinished
                self.items -= unfinished
            if unfinished:
                _logger.warning(
                    "otel-distro: %s did not finish writing at shutdown; %d items are dropped (counted)",
                    self.name,
                    unfinished,
                )

"""The store's write queue: batches, bounds, flush and close."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from otel_distro.runtime.write_queue import WriteQueue
from tests.support.waiting import wait_until


def _queue(write: object, **overrides: object) -> WriteQueue[bytes]:
    options: dict[str, object] = {
        "max_items": 100,
        "max_bytes": 10_000,
        "batch_size": 4,
        "delay_seconds": 60.0,
        "name": "test writer",
    }
    options.update(overrides)
    return WriteQueue(write, len, **options)  # type: ignore[arg-type]


def test_a_full_batch_wakes_the_writer_without_waiting_for_the_delay() -> None:
    batches: list[list[bytes]] = []
    queue = _queue(batches.append)
    for index in range(8):
        assert queue.put(b"x%d" % index, 2)
    assert wait_until(lambda: sum(map(len, batches)) == 8, timeout=5)
    assert [len(batch) for batch in batches] == [4, 4]
    assert [item for batch in batches for item in batch] == [b"x%d" % i for i in range(8)]
    assert wait_until(lambda: (queue.items, queue.bytes) == (0, 0), timeout=5)
    queue.close()


def test_items_and_bytes_are_bounded_while_the_writer_is_stuck_and_freed_after() -> None:
    release = threading.Event()
    written: list[bytes] = []

    def stuck(batch: list[bytes]) -> None:
        release.wait(10)
        written.extend(batch)

    by_count = _queue(stuck, max_items=6)
    accepted = sum(by_count.put(b"1234", 4) for _ in range(10))
    assert accepted == 6 and by_count.items == 6
    by_bytes = _queue(stuck, max_bytes=1_000)
    accepted = sum(by_bytes.put(b"b" * 300, 300) for _ in range(10))
    assert accepted == 3 and by_bytes.bytes == 900
    assert by_bytes.put(b"big", 5_000) is False  # too big while others wait
    release.set()
    for queue in (by_count, by_bytes):
        assert queue.flush(5)
        assert (queue.items, queue.bytes) == (0, 0)
        queue.close()
    assert len(written) == 9
    lone = _queue(written.append, max_bytes=10)
    assert lone.put(b"a" * 50, 50)  # one item always fits, however big
    lone.close()


def test_a_coalescing_writer_behind_writes_everything_waiting_in_one_call() -> None:
    """The store's writer: however far behind (it waited for the GIL), one append catches up."""
    batches: list[list[bytes]] = []
    queue = _queue(batches.append, coalesce=True)
    for index in range(11):  # almost three batches' worth before the writer gets to run
        assert queue.put(b"x%d" % index, 2)
    assert queue.flush(5)
    assert [item for batch in batches for item in batch] == [b"x%d" % i for i in range(11)]
    assert len(batches) < 3  # the writer may have woken at the first full batch; never once per batch
    assert len(batches[-1]) > 4
    queue.close()


def test_flush_writes_a_partial_batch_on_the_calling_thread() -> None:
    threads: list[str] = []
    queue = _queue(lambda batch: threads.append(threading.current_thread().name))
    queue.put(b"one", 3)
    assert queue.flush()
    assert threads == [threading.current_thread().name]
    queue.close()


def test_close_writes_what_is_queued_refuses_more_and_stops_the_writer() -> None:
    written: list[bytes] = []
    queue = _queue(written.extend)
    for index in range(3):
        queue.put(b"%d" % index, 1)
    queue.close(timeout_seconds=5)
    assert written == [b"0", b"1", b"2"]
    assert queue.put(b"late", 4) is False
    assert not queue._worker.alive


def test_a_failing_write_loses_that_batch_only_and_the_writer_goes_on() -> None:
    written: list[bytes] = []

    def flaky(batch: list[bytes]) -> None:
        if b"bad" in batch:
            raise OSError("disk full")
        written.extend(batch)

    queue = _queue(flaky, batch_size=1)
    for item in (b"bad", b"good"):
        queue.put(item, len(item))
    assert wait_until(lambda: written == [b"good"], timeout=5)
    assert (queue.items, queue.bytes) == (0, 0)
    queue.close()


def test_a_forked_child_starts_empty_with_a_writer_of_its_own() -> None:
    read_end, write_end = os.pipe()
    release = threading.Event()
    queue = _queue(lambda batch: release.wait(10), batch_size=100)
    queue.put(b"parent's", 8)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            written: list[bytes] = []
            queue._write = written.extend
            empty = (queue.items, queue.bytes) == (0, 0)
            queue.put(b"child's", 7)
            deadline = time.monotonic() + 5
            queue._worker.wake()
            while not written and time.monotonic() < deadline:
                queue._worker.wake()
                time.sleep(0.01)
            os.write(write_end, b"ok" if empty and written == [b"child's"] else b"bad")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read_end, 10) == b"ok"
    release.set()
    queue.close()


_early_flush: list[WriteQueue[bytes]] = []  # the queue a test flushes in children before its own hook


def _flush_early_in_child() -> None:
    for queue in _early_flush:
        queue.flush()


os.register_at_fork(after_in_child=_flush_early_in_child)  # runs before any queue's own reset


def test_a_child_flushing_before_its_after_fork_reset_writes_nothing_of_its_parents(
    tmp_path: Path,
) -> None:
    # A pool worker terminated while it is still starting flushes before its after-fork hooks
    # have run: what the queue holds then is its parent's, and the parent writes it.
    out = tmp_path / "written"

    def write(batch: list[bytes]) -> None:
        with out.open("ab") as file:
            file.write(b"".join(item + b"\n" for item in batch))

    queue = _queue(write, batch_size=100)
    queue.put(b"parent's", 8)
    _early_flush.append(queue)
    try:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the early flush already ran in the child's hooks
            os._exit(0)
        os.waitpid(pid, 0)
    finally:
        _early_flush.clear()
    queue.close()
    assert out.read_bytes() == b"parent's\n"

"""The drop ledger and its state file: deltas added once, processes added up, nothing lost on rebuild."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider

from exporters.store.export import JsonlSpanProcessor
from exporters.store.files import JsonlStore
from otel_distro.drop_ledger import DropLedger, read_drops
from otel_distro.runtime.state_file import StateFile
from otel_distro.runtime.write_queue import WriteQueue
from processors.chain import ChainStats


class Counting:
    def __init__(self, **counts: int) -> None:
        self.counts = counts

    def drop_counts(self) -> dict[str, int]:
        return dict(self.counts)


def _ledger(store: Path, sources: list[object]) -> DropLedger:
    return DropLedger(store / "drops.json", lambda: sources, interval=0)


def test_persisting_twice_adds_only_what_was_dropped_in_between(tmp_path: Path) -> None:
    chain = ChainStats()
    ledger = _ledger(tmp_path, [chain])
    chain.queue_full = 7
    assert ledger.persist()
    assert ledger.persist()
    assert read_drops(tmp_path) == {"chain_queue_full": 7}
    chain.queue_full = 10
    ledger.persist()
    assert read_drops(tmp_path) == {"chain_queue_full": 10}
    assert ledger.totals() == {"chain_queue_full": 10}


def test_two_ledgers_on_one_store_add_up_rather_than_overwrite(tmp_path: Path) -> None:
    first, second = Counting(langfuse_failed=0), Counting(langfuse_failed=0)
    ledgers = [_ledger(tmp_path, [first]), _ledger(tmp_path, [second])]
    first.counts["langfuse_failed"] = 5
    second.counts["langfuse_failed"] = 6
    threads = [threading.Thread(target=ledger.persist) for ledger in ledgers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert read_drops(tmp_path) == {"langfuse_failed": 11}


def test_a_component_rebuilt_on_reload_keeps_what_it_counted(tmp_path: Path) -> None:
    sources: list[object] = [Counting(upload_refused=0)]
    ledger = DropLedger(tmp_path / "drops.json", lambda: sources, interval=0)
    sources[0].counts["upload_refused"] = 4  # type: ignore[attr-defined]
    ledger.persist()
    sources[0].counts["upload_refused"] = 9  # counted after the last look, then the part is replaced
    sources[:] = [Counting(upload_refused=1)]
    ledger.persist()
    assert read_drops(tmp_path) == {"upload_refused": 10}


def test_store_drops_are_split_into_queue_full_and_write_failed_without_counting_twice(
    tmp_path: Path,
) -> None:
    store = JsonlStore(tmp_path / "store")
    processor = JsonlSpanProcessor(store, max_queue_size=1, schedule_delay_millis=60_000)
    ledger = _ledger(tmp_path, [store, processor])
    tracer = TracerProvider(shutdown_on_exit=False).get_tracer("t")
    for _ in range(4):  # one fits; three are refused, which the store counts too
        span = tracer.start_span("s")
        span.end()
        processor.on_end(span)  # type: ignore[arg-type]
    store.drop(2, "disk full")
    ledger.persist()
    assert read_drops(tmp_path) == {"store_queue_full": 3, "store_write_failed": 2}
    processor.shutdown()


def test_a_ledger_that_cannot_write_never_raises_and_retries_later(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    chain = ChainStats()
    ledger = DropLedger(blocker / "drops.json", lambda: [chain], interval=0)
    chain.lost_at_exit = 2
    assert not ledger.persist()
    ledger.file = StateFile(tmp_path / "drops.json")
    assert ledger.persist()
    assert read_drops(tmp_path) == {"chain_lost_at_exit": 2}


def test_the_state_file_is_private_and_replaced_whole(tmp_path: Path) -> None:
    state = StateFile(tmp_path / "sub" / "state.json")
    state.add({"a": 1}, "dropped")
    state.add({"a": 2, "b": 1}, "dropped")
    assert state.read() == {"dropped": {"a": 3, "b": 1}}
    assert stat.S_IMODE(os.stat(state.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(state.path.parent).st_mode) == 0o700
    assert sorted(p.name for p in state.path.parent.iterdir()) == ["state.json", "state.json.lock"]


def test_the_write_queue_counts_what_it_refuses_by_reason() -> None:
    queue: WriteQueue[bytes] = WriteQueue(
        lambda batch: None, len, max_items=2, max_bytes=10, batch_size=10, delay_seconds=60, name="t"
    )
    assert queue.put(b"a", 1) and queue.put(b"b", 1)
    assert not queue.put(b"c", 1)
    queue.close(1.0)
    assert not queue.put(b"d", 1)
    assert queue.drop_counts() == {"queue_full": 1, "shut_down": 1, "lost": 0}


def test_the_write_queue_counts_what_it_took_and_never_wrote() -> None:
    import threading

    def fails(batch: list[bytes]) -> None:
        raise OSError("a writer that fails")  # not ours: the suite's strict mode lets it pass

    queue: WriteQueue[bytes] = WriteQueue(
        fails, len, max_items=10, max_bytes=100, batch_size=10, delay_seconds=60, name="t"
    )
    assert queue.put(b"a", 1) and queue.put(b"b", 1)
    assert queue.flush(1.0)
    assert queue.drop_counts()["lost"] == 2 and queue.items == 0

    entered, release = threading.Event(), threading.Event()

    def stuck(batch: list[bytes]) -> None:
        entered.set()
        release.wait(10)

    slow: WriteQueue[bytes] = WriteQueue(
        stuck, len, max_items=10, max_bytes=100, batch_size=1, delay_seconds=60, name="slow"
    )
    slow.put(b"x", 1)  # a full batch: the writer takes it and holds on
    assert entered.wait(5)
    slow.put(b"y", 1)
    slow.put(b"z", 1)
    slow.close(0.2)  # the writer is still on x: y and z are lost, counted, never written later
    release.set()
    assert slow.drop_counts()["lost"] == 2


def test_a_damaged_drops_file_shows_only_positive_counts(tmp_path: Path) -> None:
    """A hand-edited or damaged drops.json showed "-5 records" in stats."""
    from otel_distro.drop_ledger import DROPS_FILE, DROPS_KEY

    damaged = {"chain_queue_full": -5, "store_disk_full": 3, "x": True, "y": "7", "z": 1.5}
    (tmp_path / DROPS_FILE).write_text(json.dumps({DROPS_KEY: damaged}))
    assert read_drops(tmp_path) == {"store_disk_full": 3}

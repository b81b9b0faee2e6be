"""The conversation-log exporter in process, against the real test endpoint on 127.0.0.1."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from exporters.conversation_log import ConversationLogExporter
from exporters.http_delivery import Backoff
from tests.support.endpoint import Fault, FaultyEndpoint


def _spans(count: int) -> list:  # type: ignore[type-arg]
    memory = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("t")
    for index in range(count):
        with tracer.start_as_current_span("chat", attributes={"gen_ai.operation.name": "chat"}) as span:
            span.add_event("gen_ai.user.message", {"content": f"question {index}"})
            span.add_event("gen_ai.choice", {"message": f"answer {index}"})
    return list(memory.get_finished_spans())


def _flushed_and_shut(exporter: ConversationLogExporter, millis: int = 5_000) -> bool:
    """Whether one flush sent all that waited; the exporter is shut down either way."""
    try:
        return exporter.force_flush(millis)
    finally:
        exporter.shutdown()


def _turns(endpoint: FaultyEndpoint) -> list[str]:
    """The user queries of the conversation logs the endpoint received, sorted."""
    return sorted(r["user_query"] for r in endpoint.records() if r["type"] == "conversation_log")


def test_a_batch_too_large_for_the_endpoint_is_halved_not_dropped(tmp_path: Path) -> None:
    with FaultyEndpoint() as endpoint:
        endpoint.fail(Fault(413), Fault(413))
        exporter = ConversationLogExporter(
            endpoint.url,
            tmp_path,
            batch_size=8,
            flush_interval=3600,
            backoff=Backoff(base=0.05, cap=0.2),
        )
        try:
            exporter.export(_spans(4))  # 4 turns and 4 execution traces: one request of 8
            assert exporter.force_flush(20_000)
        finally:
            exporter.shutdown()
        records = endpoint.records()
    statuses = [status for status, _ in endpoint.attempts]
    assert statuses[:2] == [413, 413] and set(statuses[2:]) == {200}
    turns = [r for r in records if r["type"] == "conversation_log"]
    assert sorted(r["user_query"] for r in turns) == [f"question {i}" for i in range(4)]
    assert len(records) == 8


def test_at_exit_an_endpoint_that_never_answers_costs_at_most_about_a_second(tmp_path: Path) -> None:
    """Issue 21 item 7: a dead endpoint cost every exit 2.5-6 s; what it did not take stays on disk."""
    import time

    with FaultyEndpoint() as endpoint:
        endpoint.fail(*[Fault(delay=20.0)] * 5)
        exporter = ConversationLogExporter(endpoint.url, tmp_path, batch_size=8, flush_interval=3600)
        exporter.export(_spans(3))
        started = time.monotonic()
        exporter.shutdown()
        took = time.monotonic() - started
    assert took < 1.8
    assert list((tmp_path / "spool" / "traces").glob("*.jsonl"))  # kept for the next process
    assert exporter.cache.pending()[0] == 3


def test_413_for_everything_drops_single_records_counted_apart_and_nothing_else(tmp_path: Path) -> None:
    """Issue 21 item 14: the batch shrinks to single records first; only those still too large go,
    counted by reason, and a chunk kept for later counts nothing yet."""
    import json

    with FaultyEndpoint() as endpoint:
        endpoint.fail(*[Fault(413)] * 15)  # 8 records: 1 + 2 + 4 requests, then 8 single ones
        exporter = ConversationLogExporter(
            endpoint.url, tmp_path, batch_size=8, flush_interval=3600, backoff=Backoff(base=0.05, cap=0.2)
        )
        try:
            exporter.export(_spans(4))
            assert exporter.force_flush(20_000)
        finally:
            exporter.shutdown()
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["too_large_records"] == 8
    assert state["rejected_records"] == 0
    assert [status for status, _ in endpoint.attempts] == [413] * 15


def test_the_spool_keeps_only_what_waits_files_sent_whole_are_deleted(tmp_path: Path) -> None:
    """Without the store the exporter keeps its own spool; what the endpoint acknowledged is
    deleted, so the spool's size is what waits, not everything ever sent."""
    with FaultyEndpoint() as endpoint:
        endpoint.fail(Fault(503))
        exporter = ConversationLogExporter(
            endpoint.url, tmp_path, batch_size=8, flush_interval=3600, backoff=Backoff(base=0.05, cap=0.1)
        )
        try:
            exporter.export(_spans(3))
            spool = tmp_path / "spool" / "traces"
            assert not exporter.force_flush(2_000)  # refused with 503: kept
            assert [path.stat().st_size > 0 for path in spool.glob("*.jsonl")] == [True]
            deadline = __import__("time").monotonic() + 10
            while not exporter.force_flush(2_000) and __import__("time").monotonic() < deadline:
                pass
            assert not list(spool.glob("*.jsonl"))  # all acknowledged: deleted
            exporter.export(_spans(2))  # a new file under the same name, read from its start
            assert exporter.force_flush(5_000)
            assert not list(spool.glob("*.jsonl"))
        finally:
            exporter.shutdown()
    turns = [r["user_query"] for r in endpoint.records() if r["type"] == "conversation_log"]
    assert sorted(turns) == sorted([f"question {i}" for i in range(3)] + ["question 0", "question 1"])


def test_spans_the_cache_writer_has_no_room_for_are_counted_by_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from exporters import conversation_log
    from otel_distro.drop_ledger import DropLedger, read_drops

    monkeypatch.setattr(conversation_log, "QUEUE_SIZE", 2)
    exporter = ConversationLogExporter("http://127.0.0.1:9/unused", tmp_path / "cache", flush_interval=3600)
    processor = conversation_log.ConversationLogProcessor(exporter, flush_interval=3600)
    ledger = DropLedger(tmp_path / "drops.json", lambda: [processor], interval=0)
    spans = _spans(5)
    for span in spans:  # the writer sleeps an hour: two wait, three find no room
        processor.on_end(span)
    processor.shutdown()  # what waited is written to the cache
    processor.on_end(spans[0])  # ended after the shutdown
    ledger.persist()
    assert read_drops(tmp_path) == {"conversation_log_queue_full": 3, "conversation_log_shut_down": 1}
    assert processor.drop_counts()["conversation_log_cache_unwritable"] == 0
    assert exporter.cache is not None and exporter.cache.pending()[0] == 2  # the two that waited, on disk


def test_spans_the_cache_cannot_take_are_counted_not_lost_silently(tmp_path: Path) -> None:
    import shutil

    from exporters import conversation_log

    cache = tmp_path / "cache"
    exporter = ConversationLogExporter("http://127.0.0.1:9/unused", cache, flush_interval=3600)
    processor = conversation_log.ConversationLogProcessor(exporter, flush_interval=3600)
    shutil.rmtree(cache, ignore_errors=True)
    cache.write_text("a file where the cache's directory was: every write fails\n")
    for span in _spans(2):
        processor.on_end(span)
    processor.force_flush(1_000)
    assert processor.drop_counts()["conversation_log_cache_unwritable"] == 2
    processor.shutdown()


def test_an_endpoints_answer_echoing_the_records_is_not_kept_on_disk(tmp_path: Path) -> None:
    """A validation error that echoes what was sent (FastAPI's 422 does) holds the records'
    text: the state file and ``stats`` keep the status alone (an encrypted store keeps nothing
    readable beside it)."""
    echo = b'{"detail": [{"loc": ["body"], "input": {"user_query": "question 0 ECHOED"}}]}'
    with FaultyEndpoint() as endpoint:
        endpoint.fail(Fault(422, body=echo))
        exporter = ConversationLogExporter(
            endpoint.url, tmp_path, batch_size=8, flush_interval=3600, backoff=Backoff(base=0.05, cap=0.2)
        )
        try:
            exporter.export(_spans(1))
            exporter.force_flush(5_000)
        finally:
            exporter.shutdown()
    kept = b"".join(path.read_bytes() for path in tmp_path.rglob("*.json"))
    assert b"ECHOED" not in kept and b"question 0" not in kept
    assert exporter.state.values["last_error"] == "HTTP 422"


def test_a_graceful_exit_mid_segment_keeps_only_what_was_not_acknowledged(tmp_path: Path) -> None:
    """The sender was mid-segment when the process left: its segment stayed "sending" and the
    next process sent all of it again, the acknowledged part included (a review saw 400-1,150 of
    9,000 records twice). Now the sender yields between requests and keeps only the rest."""
    import time

    with FaultyEndpoint() as endpoint:
        endpoint.fail(*[Fault(delay=0.4)] * 200)  # each request answered (200) after 0.4 s
        exporter = ConversationLogExporter(endpoint.url, tmp_path, batch_size=2, flush_interval=3600)
        exporter.export(_spans(30))  # 30 turns, 60 records: 30 requests of one span's two
        exporter._sender.wake()
        deadline = time.monotonic() + 10
        while len(endpoint.records()) < 6 and time.monotonic() < deadline:
            time.sleep(0.02)
        exporter.shutdown()  # mid-segment: the drain at exit has about a second, not enough
        first = [r["user_query"] for r in endpoint.records() if r["type"] == "conversation_log"]
        assert 3 <= len(first) < 30
        later = ConversationLogExporter(endpoint.url, tmp_path, batch_size=30, flush_interval=3600)
        try:
            assert later.force_flush(20_000)
        finally:
            later.shutdown()
        turns = [r["user_query"] for r in endpoint.records() if r["type"] == "conversation_log"]
    counts = Counter(turns)
    assert set(counts) == {f"question {i}" for i in range(30)}  # none lost
    # twice at most the one request in flight when the process left (the endpoint took it, the
    # answer never came): the acknowledged part of the segment is not sent again
    assert sum(count - 1 for count in counts.values()) <= 1, counts


def test_what_an_older_versions_spill_cache_left_is_sent_as_the_same_records(tmp_path: Path) -> None:
    """Before the spool, unsent spans waited as snapshot lines in ``ready.*``/``open.*`` segments;
    after an upgrade they are sent, as the records the spans themselves give, and deleted; a
    segment a live process of the older version holds is left to it."""
    import fcntl
    import json

    import orjson

    from exporters.conversation_records import snapshot

    spans = _spans(3)
    (tmp_path / "old").mkdir()
    legacy = tmp_path / "old" / "ready.00000000000000000001-4242-1.jsonl"
    legacy.write_bytes(b"".join(orjson.dumps(snapshot(span), default=str) + b"\n" for span in spans[:2]))
    with legacy.open("ab") as handle:
        handle.write(b'{"trace_id": "ab')  # its writer killed mid-line
    held = tmp_path / "old" / "open.00000000000000000002-4243-1.jsonl"
    held.write_bytes(orjson.dumps(snapshot(spans[2]), default=str) + b"\n")
    holder = held.open("rb")
    fcntl.flock(holder.fileno(), fcntl.LOCK_EX)  # a live older process still writes it
    with FaultyEndpoint() as endpoint:
        fresh = ConversationLogExporter(endpoint.url, tmp_path / "new", batch_size=50, flush_interval=3600)
        try:
            fresh.export(spans[:2])
            assert fresh.force_flush(5_000)
        finally:
            fresh.shutdown()
        expected = sorted(json.dumps(r, sort_keys=True) for r in endpoint.records())
        assert len(expected) == 4  # two spans: a conversation log and an execution trace each
        before = len(endpoint.records())
        exporter = ConversationLogExporter(endpoint.url, tmp_path / "old", batch_size=50, flush_interval=3600)
        try:
            deadline = __import__("time").monotonic() + 10
            while len(endpoint.records()) < 2 * before and __import__("time").monotonic() < deadline:
                exporter.force_flush(1_000)
        finally:
            exporter.shutdown()
        moved = sorted(json.dumps(r, sort_keys=True) for r in endpoint.records()[before:])
    holder.close()
    assert moved == expected  # the same records, the same log ids
    assert not legacy.exists() and held.exists()
    assert json.loads((tmp_path / "old" / "state.json").read_text())["corrupt_lines"] == 1


def test_an_unusable_directory_makes_a_flush_fail_with_a_warning_not_raise(tmp_path: Path) -> None:
    """Following the store with a file where its directory should be: the follower's lock cannot
    be had; force_flush raised FileExistsError (into the app's flush) before."""
    traces = tmp_path / "traces"
    traces.mkdir()
    (traces / "2026-01-01.jsonl").write_text('{"resourceSpans": []}\n')
    (tmp_path / "cache").write_text("a file where the directory should be\n")
    exporter = ConversationLogExporter(
        "http://127.0.0.1:9/unused", tmp_path / "cache", flush_interval=3600, store_traces=traces
    )
    try:
        assert exporter.force_flush(1_000) is False
    finally:
        exporter.shutdown()


def test_switching_between_store_and_spool_sends_what_waited_in_the_other(tmp_path: Path) -> None:
    """The store turned on (or off) while the endpoint was down: what waited in the spool (or in
    the store past the sent position) is sent by the next exporter, whichever way it keeps spans."""
    from exporters.store.export import JsonlSpanExporter
    from exporters.store.files import JsonlStore

    spans = _spans(4)
    store = JsonlStore(tmp_path / "store")
    cache = tmp_path / "cache"
    with FaultyEndpoint() as endpoint:
        endpoint.fail(*[Fault(503)] * 100)
        off = ConversationLogExporter(endpoint.url, cache, flush_interval=3600, backoff=Backoff(base=9))
        off.export(spans[:2])  # store off: the spool keeps them
        off.shutdown()
        endpoint.faults.clear()
        JsonlSpanExporter(store).export(spans[2:3])
        on = ConversationLogExporter(
            endpoint.url, cache, flush_interval=3600, store_traces=store.signal_dir("traces")
        )
        assert _flushed_and_shut(on)
        assert _turns(endpoint) == ["question 0", "question 1", "question 2"]
        assert not list((cache / "spool" / "traces").glob("*.jsonl"))  # sent: deleted
        endpoint.fail(*[Fault(503)] * 100)
        JsonlSpanExporter(store).export(spans[3:])  # the store keeps it; the endpoint is down
        on_again = ConversationLogExporter(
            endpoint.url,
            cache,
            flush_interval=3600,
            store_traces=store.signal_dir("traces"),
            backoff=Backoff(base=9),
        )
        on_again.force_flush(500)
        on_again.shutdown()
        endpoint.faults.clear()
        off_again = ConversationLogExporter(
            endpoint.url, cache, flush_interval=3600, former_store_traces=store.signal_dir("traces")
        )
        assert _flushed_and_shut(off_again)
        assert _turns(endpoint) == ["question 0", "question 1", "question 2", "question 3"]  # each once


def test_a_half_delivered_before_the_other_half_failed_is_not_sent_again(tmp_path: Path) -> None:
    """413 for the batch, 200 for its first half, 503 for the second: the first half's spans are
    let go, only the second half's are sent again (before, the whole batch was)."""
    with FaultyEndpoint() as endpoint:
        endpoint.fail(Fault(413), Fault(200), Fault(503))
        exporter = ConversationLogExporter(
            endpoint.url, tmp_path, batch_size=50, flush_interval=3600, backoff=Backoff(base=0.05, cap=0.1)
        )
        try:
            exporter.export(_spans(4))  # 8 records: [0, 4) delivered, [4, 8) kept
            deadline = __import__("time").monotonic() + 10
            while not exporter.force_flush(1_000) and __import__("time").monotonic() < deadline:
                pass
        finally:
            exporter.shutdown()
    turns = Counter(r["user_query"] for r in endpoint.records() if r["type"] == "conversation_log")
    assert turns == Counter({f"question {i}": 1 for i in range(4)})
    assert exporter.state.values["delivered_records"] == 8


def test_counts_that_could_not_be_written_are_added_at_the_next_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk refused the state file: the delivered count was lost for good."""
    from exporters.conversation_log import SenderState
    from otel_distro.runtime.state_file import StateFile

    state = SenderState(tmp_path / "state.json")
    real = StateFile.update

    def full(self: StateFile, change: object) -> object:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(StateFile, "update", full)
    state.update(delivered_records=200, last_success="then")
    monkeypatch.setattr(StateFile, "update", real)
    state.update(delivered_records=1)
    assert SenderState(tmp_path / "state.json").values["delivered_records"] == 201
    assert state.values["last_success"] == "then"
    state.update(delivered_records=1)
    assert SenderState(tmp_path / "state.json").values["delivered_records"] == 202  # once, not again


def test_unreadable_stored_lines_are_counted_as_a_drop_and_shown(tmp_path: Path) -> None:
    """A line cut by a killed writer was counted only in a state field nothing showed."""
    from exporters.store.files import JsonlStore

    store = JsonlStore(tmp_path / "store")
    traces = store.signal_dir("traces")
    store.append("traces", [b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "cut\n'], 1)
    with FaultyEndpoint() as endpoint:
        exporter = ConversationLogExporter(
            endpoint.url, tmp_path / "cache", flush_interval=3600, store_traces=traces
        )
        try:
            assert exporter.force_flush(5_000)
        finally:
            exporter.shutdown()
    assert exporter.drop_counts()["conversation_log_unreadable"] == 1
    from exporters.conversation_log import SenderState

    assert SenderState.DEFAULTS["corrupt_lines"] == 0  # so stats shows it

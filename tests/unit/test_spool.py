"""The spool: an exporter's private JSONL store of segments, followed, emptied once acknowledged, bounded."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import orjson

from exporters.store.follow import StoreTail, follower_lock
from exporters.store.spool import Spool
from otel_distro.runtime.state_file import StateFile

ROOT = Path(__file__).resolve().parents[2]


def line(number: int, pad: int = 0) -> bytes:
    """One store line holding one span named by ``number`` (``pad`` bytes of attribute text)."""
    span = {"traceId": "0" * 32, "spanId": f"{number:016x}", "name": f"s{number}", "kind": 1}
    span["attributes"] = [{"key": "pad", "value": {"stringValue": "x" * pad}}]
    data = {"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {}, "spans": [span]}]}]}
    return orjson.dumps(data) + b"\n"


def names(data: dict[str, Any], problems: Any) -> list[str]:
    return [
        span["name"]
        for resource in data["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    ]


def spool_and_tail(
    tmp_path: Path, max_bytes: int = 1 << 30, segment_bytes: int | None = None
) -> tuple[Spool, StoreTail]:
    position = tmp_path / "position.json"
    spool = Spool(tmp_path / "spool", max_bytes, position, segment_bytes=segment_bytes)
    tail = StoreTail(spool.signal_dir("traces"), position, None, names)
    return spool, tail


def send_all(tail: StoreTail) -> list[str]:
    sent = []
    while (segment := tail.claim()) is not None:
        sent += segment.lines
        tail.done(segment)
    return sent


def test_each_process_writes_its_own_segments_oldest_first_private(tmp_path: Path) -> None:
    spool, tail = spool_and_tail(tmp_path, segment_bytes=600)
    for number in range(6):
        assert spool.append("traces", line(number, pad=200), 1)
    segments = spool.segments()
    assert len(segments) >= 3  # past segment_bytes a new one starts
    assert all(path.name.endswith(f"-{os.getpid()}.jsonl") for path in segments)
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in segments)
    assert stat.S_IMODE(spool.signal_dir("traces").stat().st_mode) == 0o700
    assert send_all(tail) == [f"s{number}" for number in range(6)]


def test_segments_sent_whole_are_deleted_and_a_segment_written_after_the_send_is_kept(tmp_path: Path) -> None:
    spool, tail = spool_and_tail(tmp_path)
    spool.append("traces", line(1), 1)
    assert send_all(tail) == ["s1"]
    spool.append("traces", line(2), 1)  # appended after the acknowledgement: unsent
    assert tail.remove_sent() == (0, 0)
    assert len(spool.segments()) == 1
    assert send_all(tail) == ["s2"]
    assert tail.remove_sent() == (1, 0)
    assert spool.segments() == []
    spool.append("traces", line(3), 1)  # the same name again, a new file: read from its start
    assert send_all(tail) == ["s3"]


def test_nothing_is_deleted_while_another_process_follows_the_spool(tmp_path: Path) -> None:
    spool, tail = spool_and_tail(tmp_path)
    spool.append("traces", line(1), 1)
    assert send_all(tail) == ["s1"]
    fd = follower_lock(tail.state_path)
    assert fd is not None
    try:
        assert tail.remove_sent() == (0, 0)
    finally:
        StateFile.unlock(fd)
    assert tail.remove_sent() == (1, 0)


def test_a_line_left_torn_by_a_dead_writer_goes_with_its_file_once_stale_counted(tmp_path: Path) -> None:
    spool, tail = spool_and_tail(tmp_path)
    spool.append("traces", line(1), 1)
    segment = spool.segments()[0]
    with segment.open("ab") as handle:
        handle.write(line(2)[:40])  # the writer died mid-line
    assert send_all(tail) == ["s1"]
    assert tail.remove_sent() == (0, 0)  # fresh: its writer may be mid-write
    old = time.time() - 3600
    os.utime(segment, (old, old))
    assert tail.remove_sent() == (1, 1)
    assert spool.segments() == []


def test_the_bound_deletes_the_oldest_segments_counting_what_was_unsent(tmp_path: Path) -> None:
    spool, tail = spool_and_tail(tmp_path, max_bytes=20_000, segment_bytes=2_000)
    written = 0
    for number in range(200):  # about 60 KB: three times the bound, the endpoint never answering
        assert spool.append("traces", line(number, pad=200), 1)
        written += 1
        assert spool.size() <= 20_000 + 2_000
    left = send_all(tail)
    assert spool.dropped_overflow + len(left) == written  # every span sent or counted
    assert left == [f"s{number}" for number in range(written - len(left), written)]  # the newest kept


def test_the_bound_spares_the_segment_the_follower_is_sending(tmp_path: Path) -> None:
    """A follower may hold its lock for a whole request's timeout (a black-holed endpoint): the
    bound goes on holding meanwhile, deleting every old segment but the one being sent."""
    spool, tail = spool_and_tail(tmp_path, max_bytes=5_000, segment_bytes=1_000)
    for number in range(10):
        spool.append("traces", line(number, pad=200), 1)
    segment = tail.claim()  # sending: holds the follower's lock
    assert segment is not None and segment.lines == ["s0", "s1"]  # a segment: at most 1,000 bytes
    for number in range(10, 40):
        spool.append("traces", line(number, pad=200), 1)
        assert spool.size() <= 5_000 + 1_000
    assert segment.path in spool.segments()  # never deleted under the sender
    tail.done(segment)
    left = send_all(tail)
    assert left[:1] != ["s0"] and left[-1] == "s39"
    assert 2 + len(left) + spool.dropped_overflow == 40  # sent, waiting or counted: nothing else


def test_processes_writing_one_spool_while_it_is_sent_and_emptied_lose_nothing(tmp_path: Path) -> None:
    position = tmp_path / "position.json"
    source = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(ROOT)!r})
        from exporters.store.spool import Spool
        from tests.unit.test_spool import line
        directory, position = Path({str(tmp_path / "spool")!r}), Path({str(position)!r})
        spool = Spool(directory, 1 << 30, position, segment_bytes=4_000)
        first = int(sys.argv[1])
        for number in range(first, first + 300):
            assert spool.append("traces", line(number), 1)
        """
    )
    script = tmp_path / "writer.py"
    script.write_text(source)
    writers = [subprocess.Popen([sys.executable, str(script), str(1000 * n)]) for n in range(3)]
    tail = StoreTail(tmp_path / "spool" / "traces", position, None, names)
    sent: list[str] = []
    while any(writer.poll() is None for writer in writers):
        sent += send_all(tail)
        tail.remove_sent()
    assert [writer.returncode for writer in writers] == [0, 0, 0]
    sent += send_all(tail)
    tail.remove_sent()
    expected = {f"s{1000 * n + i}" for n in range(3) for i in range(300)}
    assert sorted(sent) == sorted(expected)  # each exactly once
    assert list((tmp_path / "spool" / "traces").glob("*.jsonl")) == []


def test_one_large_batch_is_cut_into_segments_and_the_bound_holds_at_rest(tmp_path: Path) -> None:
    """A writer behind writes all that waits at once: before, one batch made one line in one
    segment, 2.5 MB against a 1 MB bound, and stayed so while nothing else was written."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from exporters.store.export import JsonlSpanExporter

    memory = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    for index in range(3000):
        provider.get_tracer("t").start_span(f"s{index}", attributes={"text": "x" * 1000}).end()
    spool, tail = spool_and_tail(tmp_path, max_bytes=1 << 20)
    assert JsonlSpanExporter(spool).export(memory.get_finished_spans()).name == "SUCCESS"
    sizes = [path.stat().st_size for path in spool.segments()]
    assert max(sizes) <= spool.segment_bytes + 2_000  # a segment's worth, give or take a span
    assert 0.8 * (1 << 20) <= sum(sizes) <= 1 << 20  # the bound, and not much less
    left = send_all(tail)
    assert len(left) + spool.dropped_overflow == 3000
    assert left[-1] == "s2999"


def test_a_segment_locked_by_a_stuck_process_holds_up_neither_the_writer_nor_the_sender(
    tmp_path: Path,
) -> None:
    """A process frozen while it holds a segment's lock (SIGSTOP, a paused container): the bound
    and the deletion of what was sent skip that segment instead of waiting on it for ever."""
    import fcntl
    import threading

    spool, tail = spool_and_tail(tmp_path, max_bytes=5_000, segment_bytes=1_000)
    for number in range(6):
        spool.append("traces", line(number, pad=200), 1)
    send_all(tail)
    stuck = spool.segments()[0]
    holder = os.open(stuck, os.O_RDONLY)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:

        def work() -> None:
            tail.remove_sent()
            for number in range(6, 40):
                spool.append("traces", line(number, pad=200), 1)

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        worker.join(10)
        assert not worker.is_alive()  # before: both waited on the lock with no end
        assert stuck.exists()  # left for a later round
        assert spool.size() <= 5_000 + 1_000 + stuck.stat().st_size
    finally:
        os.close(holder)
    assert tail.remove_sent()[0] >= 1  # the lock let go: it goes
    assert not stuck.exists()

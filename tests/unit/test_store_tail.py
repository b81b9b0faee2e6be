"""StoreTail: following the store's trace files from the last acknowledged position."""

from __future__ import annotations

import logging
import stat
from pathlib import Path
from typing import Any

import orjson
import pytest

from exporters.conversation_records import stored_snapshots
from exporters.store.follow import StoreTail


def line(*span_ids: str) -> bytes:
    """One TracesData line holding spans with these ids."""
    spans = [
        {
            "traceId": "0" * 31 + "1",
            "spanId": span_id,
            "name": f"chat {span_id}",
            "kind": 3,
            "startTimeUnixNano": "1",
            "endTimeUnixNano": "2",
            "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}}],
        }
        for span_id in span_ids
    ]
    data = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
                "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}],
            }
        ]
    }
    return orjson.dumps(data) + b"\n"


def ids(segment: Any) -> list[str]:
    return [span["span_id"] for span in segment.lines]


@pytest.fixture
def traces(tmp_path: Path) -> Path:
    directory = tmp_path / "store" / "traces"
    directory.mkdir(parents=True)
    return directory


def tail_of(tmp_path: Path, traces: Path, bound: int = 1 << 30, read_bytes: int = 1 << 20) -> StoreTail:
    return StoreTail(traces, tmp_path / "cache" / "position.json", bound, stored_snapshots, read_bytes)


def test_spans_are_read_once_acknowledged_and_a_new_tail_resumes_after_them(
    tmp_path: Path, traces: Path
) -> None:
    day = traces / "2026-11-20.jsonl"
    day.write_bytes(line("a1", "a2") + line("a3"))
    tail = tail_of(tmp_path, traces)
    segment = tail.claim()
    assert segment is not None and ids(segment) == ["a1", "a2", "a3"]
    assert segment.lines[0]["service"] == "svc" and segment.lines[0]["kind"] == "CLIENT"
    tail.done(segment)
    assert tail.claim() is None
    with day.open("ab") as handle:
        handle.write(line("a4"))
    later = tail_of(tmp_path, traces)  # another process, or a restart
    segment = later.claim()
    assert segment is not None and ids(segment) == ["a4"]
    later.done(segment)
    assert later.backlog() == 0
    assert stat.S_IMODE((tmp_path / "cache" / "position.json").stat().st_mode) == 0o600


def test_keep_resumes_inside_a_line_at_the_first_span_not_acknowledged(tmp_path: Path, traces: Path) -> None:
    (traces / "2026-11-20.jsonl").write_bytes(line("a1", "a2", "a3") + line("b1"))
    tail = tail_of(tmp_path, traces)
    segment = tail.claim()
    assert segment is not None
    tail.keep(segment, segment.lines[2:])  # a1 and a2 were acknowledged
    segment = tail_of(tmp_path, traces).claim()
    assert segment is not None and ids(segment) == ["a3", "b1"]


def test_release_acknowledges_nothing(tmp_path: Path, traces: Path) -> None:
    (traces / "2026-11-20.jsonl").write_bytes(line("a1"))
    tail = tail_of(tmp_path, traces)
    segment = tail.claim()
    assert segment is not None
    tail.release(segment)
    again = tail.claim()
    assert again is not None and ids(again) == ["a1"]


def test_a_line_still_being_written_is_left_for_later(tmp_path: Path, traces: Path) -> None:
    day = traces / "2026-11-20.jsonl"
    whole = line("a2")
    day.write_bytes(line("a1") + whole[:20])  # the writer is mid-line
    tail = tail_of(tmp_path, traces)
    segment = tail.claim()
    assert segment is not None and ids(segment) == ["a1"]
    tail.done(segment)
    assert tail.claim() is None
    with day.open("ab") as handle:
        handle.write(whole[20:])
    segment = tail.claim()
    assert segment is not None and ids(segment) == ["a2"]


def test_files_are_followed_oldest_first_and_reads_are_bounded(tmp_path: Path, traces: Path) -> None:
    (traces / "2026-11-21.jsonl").write_bytes(line("new"))
    (traces / "2026-11-20.jsonl").write_bytes(line("old1") + line("old2"))
    tail = tail_of(tmp_path, traces, read_bytes=len(line("old1")) + 10)  # a bit more than a line
    seen = []
    while (segment := tail.claim()) is not None:
        seen.append(ids(segment))
        tail.done(segment)
    assert seen == [["old1"], ["old2"], ["new"]]


def test_a_line_longer_than_a_read_is_read_whole(tmp_path: Path, traces: Path) -> None:
    (traces / "2026-11-20.jsonl").write_bytes(line(*[f"s{i}" for i in range(50)]))
    segment = tail_of(tmp_path, traces, read_bytes=64).claim()
    assert segment is not None and len(segment.lines) == 50


def test_a_corrupt_line_is_counted_and_passed_over(tmp_path: Path, traces: Path) -> None:
    (traces / "2026-11-20.jsonl").write_bytes(line("a1")[:30] + b"\n" + line("a2"))
    tail = tail_of(tmp_path, traces)
    segment = tail.claim()
    assert segment is not None and ids(segment) == ["a2"] and segment.corrupt == 1


def test_a_purged_file_is_forgotten(tmp_path: Path, traces: Path) -> None:
    old = traces / "2026-10-01.jsonl"
    old.write_bytes(line("a1"))
    tail = tail_of(tmp_path, traces)
    segment = tail.claim()
    assert segment is not None
    tail.done(segment)
    assert "2026-10-01.jsonl" in tail.positions()
    old.unlink()  # retention purge
    (traces / "2026-11-20.jsonl").write_bytes(line("b1"))
    segment = tail.claim()
    assert segment is not None and ids(segment) == ["b1"]
    assert "2026-10-01.jsonl" not in tail.positions()


def test_one_follower_at_a_time(tmp_path: Path, traces: Path) -> None:
    (traces / "2026-11-20.jsonl").write_bytes(line("a1"))
    first, second = tail_of(tmp_path, traces), tail_of(tmp_path, traces)
    segment = first.claim()
    assert segment is not None
    assert second.claim() is None  # the lock is held (flock: also between two tails of one process)
    first.done(segment)
    assert second.claim() is None  # and now there is nothing new


def test_a_backlog_over_the_bound_loses_the_oldest_spans_counted_and_warned(
    tmp_path: Path, traces: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lines = [line(f"s{i}a", f"s{i}b") for i in range(10)]
    (traces / "2026-11-20.jsonl").write_bytes(b"".join(lines))
    bound = len(lines[0]) * 5  # room for five lines
    tail = tail_of(tmp_path, traces, bound=bound)
    with caplog.at_level(logging.WARNING):
        segment = tail.claim()
    assert segment is not None
    kept = ids(segment)
    assert kept[-1] == "s9b" and "s0a" not in kept
    assert tail.dropped_overflow == 20 - len(kept)
    assert tail.backlog() <= bound
    assert sum("skipped" in record.getMessage() for record in caplog.records) == 1


# -- positions belong to a file, not to its name (issue 21 item 1) ---------------------------


def _acknowledge_all(tail: StoreTail) -> None:
    while (segment := tail.claim()) is not None:
        tail.done(segment)


def test_a_file_replaced_by_a_shorter_one_of_the_same_name_is_read_from_its_start(
    tmp_path: Path, traces: Path
) -> None:
    day = traces / "2026-11-20.jsonl"
    day.write_bytes(b"".join(line(f"old{i}") for i in range(10)))
    tail = tail_of(tmp_path, traces)
    _acknowledge_all(tail)
    day.unlink()  # purge --all, then a later process of the same day
    day.write_bytes(line("new1") + line("new2"))
    assert tail.pending()[0] == 2  # stats: what waits
    segment = tail.claim()
    assert segment is not None and ids(segment) == ["new1", "new2"]


def test_a_file_replaced_by_a_longer_one_even_on_the_same_inode_is_read_from_its_start(
    tmp_path: Path, traces: Path
) -> None:
    day = traces / "2026-11-20.jsonl"
    day.write_bytes(line("old1") + line("old2"))
    tail = tail_of(tmp_path, traces)
    _acknowledge_all(tail)
    with day.open("r+b") as handle:  # same inode, other contents (an inode reused looks the same)
        handle.truncate(0)
        handle.write(b"".join(line(f"new{i}") for i in range(5)))
    segment = tail.claim()
    assert segment is not None and ids(segment) == [f"new{i}" for i in range(5)]


def test_a_file_that_only_grew_resumes_where_it_was(tmp_path: Path, traces: Path) -> None:
    day = traces / "2026-11-20.jsonl"
    day.write_bytes(line("a1"))
    tail = tail_of(tmp_path, traces)
    _acknowledge_all(tail)
    with day.open("ab") as handle:
        handle.write(line("a2"))
    segment = tail.claim()
    assert segment is not None and ids(segment) == ["a2"]


def test_a_file_truncated_in_place_and_written_again_to_the_same_length_is_read_from_its_start(
    tmp_path: Path, traces: Path
) -> None:
    """A review of issue 21: copytruncate rotation, the same resource at the head (a fixed
    service.instance.id) and lines of the same length left the inode, the head and the size as
    they were: the new lines were taken for sent."""

    def long_line(*span_ids: str) -> bytes:  # a resource of 1,200 characters before the spans
        return line(*span_ids).replace(b'"svc"', b'"' + b"s" * 1200 + b'"')

    day = traces / "2026-11-20.jsonl"
    day.write_bytes(long_line("old1", "old2") + long_line("old3"))
    tail = tail_of(tmp_path, traces)
    _acknowledge_all(tail)
    with day.open("r+b") as handle:  # copytruncate: same inode, emptied, then written again
        handle.truncate(0)
        handle.write(long_line("new1", "new2") + long_line("new3"))
    assert day.stat().st_size == len(long_line("old1", "old2") + long_line("old3"))
    segment = tail.claim()
    assert segment is not None and ids(segment) == ["new1", "new2", "new3"]


def test_what_was_sent_is_not_sent_again_by_this_process_when_its_position_cannot_be_saved(
    tmp_path: Path, traces: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A review of issue 21: with the state file unwritable, the same batch was claimed and sent
    again without end (13,275 identical requests in 10 minutes), a warning each time."""
    (traces / "2026-11-20.jsonl").write_bytes(line("a1") + line("a2"))
    state = tmp_path / "cache" / "position.json"
    state.mkdir(parents=True)  # a directory where the file goes: it cannot be written
    tail = tail_of(tmp_path, traces, read_bytes=len(line("a1")))
    sent = []
    with caplog.at_level(logging.WARNING):
        for _ in range(10):
            segment = tail.claim()
            if segment is None:
                break
            sent += ids(segment)
            tail.done(segment)
    assert sent == ["a1", "a2"]
    assert caplog.text.count("cannot record what was sent") == 1


def test_a_saved_skip_past_the_spans_of_its_line_is_discarded_with_a_warning(
    tmp_path: Path, traces: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (traces / "2026-11-20.jsonl").write_bytes(line("a1", "a2", "a3") + line("a4"))
    state = tmp_path / "cache" / "position.json"
    state.parent.mkdir()
    state.write_text(orjson.dumps({"files": {"2026-11-20.jsonl": [0, 99999]}}).decode())
    with caplog.at_level(logging.WARNING):
        segment = tail_of(tmp_path, traces).claim()
    assert segment is not None and ids(segment) == ["a1", "a2", "a3", "a4"]
    assert "past the 3 spans of its line" in caplog.text


@pytest.mark.parametrize(
    ("saved", "why"),
    [
        ([-5, 0], "negative"),
        ([10**9, 0], "past its end"),
        ([7, 0], "inside a line"),
        (["x", 0], "unreadable"),
    ],
)
def test_a_saved_position_that_cannot_be_right_is_discarded_with_a_warning(
    tmp_path: Path, traces: Path, caplog: pytest.LogCaptureFixture, saved: list[Any], why: str
) -> None:
    (traces / "2026-11-20.jsonl").write_bytes(line("a1") + line("a2"))
    state = tmp_path / "cache" / "position.json"
    state.parent.mkdir()
    state.write_text(orjson.dumps({"files": {"2026-11-20.jsonl": saved}}).decode())
    tail = tail_of(tmp_path, traces)
    with caplog.at_level(logging.WARNING):
        segment = tail.claim()
    assert segment is not None and ids(segment) == ["a1", "a2"]
    assert why in caplog.text


def test_an_unreadable_state_file_is_discarded_with_a_warning(
    tmp_path: Path, traces: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (traces / "2026-11-20.jsonl").write_bytes(line("a1"))
    state = tmp_path / "cache" / "position.json"
    state.parent.mkdir()
    state.write_text('{"files": 5')
    tail = tail_of(tmp_path, traces)
    with caplog.at_level(logging.WARNING):
        segment = tail.claim()
    assert segment is not None and ids(segment) == ["a1"]
    assert "unreadable" in caplog.text


def test_a_malformed_resource_costs_only_itself_and_is_counted(tmp_path: Path, traces: Path) -> None:
    """A line with a good resource and one not shaped as OTLP/JSON: the good spans are read (the
    whole line was skipped), the bad part counted as corrupt."""
    good = orjson.loads(line("g1", "g2"))
    bad = {"resource": {}, "scopeSpans": [{"spans": [{"traceId": "0" * 32, "attributes": 5}]}]}
    mixed = {"resourceSpans": [bad, *good["resourceSpans"]]}
    (traces / "2026-11-20.jsonl").write_bytes(orjson.dumps(mixed) + b"\n" + line("g3"))
    segment = tail_of(tmp_path, traces).claim()
    assert segment is not None and ids(segment) == ["g1", "g2", "g3"]
    assert segment.corrupt == 1

"""The store's side index: the same answers as the file scan, kept up to date from the files'
growth, rebuilt when lost or damaged, purged files forgotten, private file modes."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import orjson
import pytest

from exporters.store.files import JsonlStore
from exporters.store.index import forget_files, open_index
from exporters.store.index_query import (
    FETCH_ALL_DURATIONS,
    TraceFilter,
    index_stats,
    index_trace,
    indexed_span_stats,
    list_traces,
)
from exporters.store.index_schema import index_path
from exporters.store.query import find_trace, span_stats

NOW = dt.datetime.now(dt.UTC)


def _attr(key: str, value: object) -> dict[str, object]:
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": str(value)}}


def _span(
    trace: int, n: int, start: dt.datetime, duration_ms: float, error: bool = False
) -> dict[str, object]:
    start_ns = int(start.timestamp() * 1e9)
    attributes = (
        [_attr("gen_ai.request.model", "m1"), _attr("gen_ai.usage.input_tokens", 3)] if n == 1 else []
    )
    if n == 2:
        attributes.append(_attr("otel_distro.redacted.EMAIL", 2))
    span: dict[str, object] = {
        "traceId": f"{trace:032x}", "spanId": f"{trace * 16 + n:016x}", "name": f"op{n}", "kind": 1,
        "startTimeUnixNano": str(start_ns), "endTimeUnixNano": str(start_ns + int(duration_ms * 1e6)),
        "attributes": attributes, "status": {"code": 2} if error else {},
    }  # fmt: skip
    if n:
        span["parentSpanId"] = f"{trace * 16:016x}"
    return span


def _write(base: Path, spans: list[dict[str, object]], day: dt.date | None = None) -> Path:
    path = base / "traces" / f"{(day or NOW.date()).isoformat()}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    line = {"resourceSpans": [{"resource": {"attributes": [_attr("service.name", "svc")]},
                               "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]}  # fmt: skip
    with path.open("ab") as handle:
        handle.write(orjson.dumps(line) + b"\n")
    return path


def _trace(trace: int, start: dt.datetime, error: bool = False) -> list[dict[str, object]]:
    return [_span(trace, n, start + dt.timedelta(milliseconds=n), 1.5 * (n + 1) + trace % 7, error and n == 3)
            for n in range(4)]  # fmt: skip


def _same_stats(store: JsonlStore, window: dt.timedelta) -> None:
    scanned = span_stats(store, window).as_dict()
    indexed = indexed_span_stats(store, window).as_dict()
    scanned.pop("since"), indexed.pop("since")
    assert indexed == scanned


def test_index_stats_and_traces_equal_the_file_scan(tmp_path: Path) -> None:
    for trace in range(1, 40):
        _write(tmp_path, _trace(trace, NOW - dt.timedelta(minutes=trace * 7), error=trace % 5 == 0))
    store = JsonlStore(tmp_path)
    for window in (dt.timedelta(hours=1), dt.timedelta(hours=3), dt.timedelta(days=2)):
        _same_stats(store, window)
    index = open_index(store)
    try:
        for trace in (1, 17, 39):
            trace_id = f"{trace:032x}"
            assert [s.raw for s in index_trace(index, trace_id)] == [
                s.raw for s in find_trace(store, trace_id)
            ]
    finally:
        index.close()


def test_the_index_and_every_reader_skip_the_same_malformed_parts_of_a_line(tmp_path: Path) -> None:
    # one resource whose second span holds a value OTLP/JSON does not allow (an intValue that is
    # not a number, in an attribute the index itself does not read), one resource that is fine
    bad = _trace(1, NOW - dt.timedelta(minutes=3))
    bad[1]["attributes"] = [{"key": "retries", "value": {"intValue": "many"}}]
    good = _trace(2, NOW - dt.timedelta(minutes=2))
    path = tmp_path / "traces" / f"{NOW.date().isoformat()}.jsonl"
    path.parent.mkdir(parents=True)
    line = {"resourceSpans": [{"resource": {"attributes": [_attr("service.name", "svc")]},
                               "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}
                              for spans in (bad, good)]}  # fmt: skip
    path.write_bytes(orjson.dumps(line) + b"\n")
    store = JsonlStore(tmp_path)
    scanned = span_stats(store, dt.timedelta(hours=1))
    # the bad span alone is skipped and counted: the other spans of its batch are kept
    assert scanned.spans == 7 and scanned.problems.malformed == 1
    _same_stats(store, dt.timedelta(hours=1))
    index = open_index(store)
    try:
        kept = [s.raw for s in find_trace(store, f"{1:032x}")]
        assert [s.raw for s in index_trace(index, f"{1:032x}")] == kept and len(kept) == 3
        assert bad[1] not in kept
        assert len(index_trace(index, f"{2:032x}")) == 4
    finally:
        index.close()


# Spans no reader can take, each beside good ones (found by a hostile review of the readers)
ODD_SPANS = {
    "a start past 64 bits": {"startTimeUnixNano": "18446744073709551615"},
    "a start read as a float": {"startTimeUnixNano": 1e23},  # a JSON number past 64 bits
    "an event time that is no number": {"events": [{"name": "e", "timeUnixNano": "abc"}]},
    "links that are no list": {"links": 5},
    "a kind that is no number": {"kind": "SERVER"},
    "an attribute key that is no text": {"attributes": [{"key": 5, "value": {"intValue": "1"}}]},
    "a trace id not in hex": {"traceId": "zz" * 16},
}


@pytest.mark.parametrize("odd", sorted(ODD_SPANS))
def test_a_span_no_reader_can_take_is_skipped_alike_by_the_scan_and_the_index(
    tmp_path: Path, odd: str
) -> None:
    good = _trace(2, NOW - dt.timedelta(minutes=2))
    bad = _trace(1, NOW - dt.timedelta(minutes=3))
    bad[1].update(ODD_SPANS[odd])
    bad[2]["attributes"] = [{"key": "ratio", "value": {"doubleValue": "NaN"}}]  # odd but allowed
    _write(tmp_path, bad)
    _write(tmp_path, good)
    store = JsonlStore(tmp_path)
    scanned = span_stats(store, dt.timedelta(hours=1))
    assert (scanned.spans, scanned.problems.malformed) == (7, 1)  # the odd span alone: skipped
    _same_stats(store, dt.timedelta(hours=1))
    index = open_index(store)
    try:
        for trace in (1, 2):
            assert [s.raw for s in index_trace(index, f"{trace:032x}")] == [
                s.raw for s in find_trace(store, f"{trace:032x}")
            ]
        assert len(index_trace(index, f"{2:032x}")) == 4
        if odd != "a trace id not in hex":  # else it is not found under trace 1 at all
            assert bad[1] not in [s.raw for s in find_trace(store, f"{1:032x}")]
            assert len(find_trace(store, f"{1:032x}")) == 3
    finally:
        index.close()


def test_a_double_json_cannot_hold_is_written_as_otlp_json_writes_it(tmp_path: Path) -> None:
    import json

    from exporters.store.decode import json_safe
    from otel_distro.serve.data import span_json

    spans = _trace(3, NOW - dt.timedelta(minutes=1))
    spans[0]["attributes"] = [
        {"key": key, "value": {"doubleValue": value}} for key, value in (("a", "NaN"), ("b", "-Infinity"))
    ]
    _write(tmp_path, spans)
    shown = json_safe(span_json(find_trace(JsonlStore(tmp_path), f"{3:032x}")[0]))
    assert shown["attributes"] == {"a": "NaN", "b": "-Infinity"}
    json.loads(json.dumps(shown, allow_nan=False))  # valid JSON


def test_long_windows_use_the_histogram_and_still_give_exact_percentiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for trace in range(1, 60):
        _write(tmp_path, _trace(trace, NOW - dt.timedelta(minutes=trace * 31)))
    store = JsonlStore(tmp_path)
    import exporters.store.index_query as query

    monkeypatch.setattr(query, "FETCH_ALL_DURATIONS", 0)
    assert FETCH_ALL_DURATIONS > 0
    _same_stats(store, dt.timedelta(days=2))
    _same_stats(store, dt.timedelta(hours=5))


def test_growth_of_the_files_is_indexed_by_the_next_reader(tmp_path: Path) -> None:
    _write(tmp_path, _trace(1, NOW))
    store = JsonlStore(tmp_path)
    assert indexed_span_stats(store, dt.timedelta(hours=1)).spans == 4
    _write(tmp_path, _trace(2, NOW))
    path = tmp_path / "traces" / f"{NOW.date().isoformat()}.jsonl"
    with path.open("ab") as handle:
        handle.write(b'{"resourceSpans": [')  # a line still being written: left for later
    assert indexed_span_stats(store, dt.timedelta(hours=1)).spans == 8


def test_a_deleted_or_corrupt_index_is_rebuilt_from_the_files(tmp_path: Path) -> None:
    _write(tmp_path, _trace(1, NOW))
    store = JsonlStore(tmp_path)
    open_index(store).close()
    index_path(tmp_path).write_bytes(b"this is not a database" * 100)
    assert indexed_span_stats(store, dt.timedelta(hours=1)).spans == 4
    for suffix in ("", "-wal", "-shm"):
        Path(f"{index_path(tmp_path)}{suffix}").unlink(missing_ok=True)
    assert indexed_span_stats(store, dt.timedelta(hours=1)).spans == 4


def test_purged_and_replaced_files_leave_the_index(tmp_path: Path) -> None:
    old_day = (NOW - dt.timedelta(days=3)).date()
    old = _write(tmp_path, _trace(1, NOW - dt.timedelta(days=3)), day=old_day)
    today = _write(tmp_path, _trace(2, NOW))
    store = JsonlStore(tmp_path)
    assert indexed_span_stats(store, dt.timedelta(days=5)).spans == 8
    old.unlink()
    forget_files(tmp_path, [old])
    index = open_index(store)
    try:
        assert index_stats(index, NOW - dt.timedelta(days=5)).spans == 4
        assert index_trace(index, f"{1:032x}") == []
        assert [t["trace_id"] for t in list_traces(index, TraceFilter()).traces] == [f"{2:032x}"]
    finally:
        index.close()
    today.unlink()
    _write(tmp_path, _trace(3, NOW))  # a new file under the same name
    stats = indexed_span_stats(store, dt.timedelta(days=5))
    assert stats.spans == 4 and stats.traces == 1


def test_the_index_is_private(tmp_path: Path) -> None:
    _write(tmp_path, _trace(1, NOW))
    open_index(JsonlStore(tmp_path)).close()
    path = index_path(tmp_path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700


def test_trace_list_filters_and_pages(tmp_path: Path) -> None:
    for trace in range(1, 8):
        _write(tmp_path, _trace(trace, NOW - dt.timedelta(minutes=trace), error=trace == 3))
    index = open_index(JsonlStore(tmp_path))
    try:
        page = list_traces(index, TraceFilter(), limit=3)
        assert [t["trace_id"] for t in page.traces] == [f"{n:032x}" for n in (1, 2, 3)]
        rest = list_traces(index, TraceFilter(), limit=10, cursor=page.next_cursor)
        assert [t["trace_id"] for t in rest.traces] == [f"{n:032x}" for n in range(4, 8)]
        assert [t["trace_id"] for t in list_traces(index, TraceFilter(status="error")).traces] == [
            f"{3:032x}"
        ]
        assert len(list_traces(index, TraceFilter(model="m1")).traces) == 7
        assert list_traces(index, TraceFilter(model="m2")).traces == []
        assert len(list_traces(index, TraceFilter(text="op3")).traces) == 7
    finally:
        index.close()


def test_an_encrypted_store_gets_no_index_so_nothing_it_holds_is_kept_in_plain_text(tmp_path: Path) -> None:
    from exporters.store.index import IndexUnavailable
    from exporters.store.sealed import MARKER_FILE

    store = JsonlStore(tmp_path / "store")
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / MARKER_FILE).write_text("abcd1234\n")
    with pytest.raises(IndexUnavailable, match="encrypted"):
        open_index(store)
    assert not index_path(store.base_dir).exists()

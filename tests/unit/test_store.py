"""The local JSON Lines store: permissions, whole-line appends, fencing, reading, purge, failures."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricExportResult, MetricsData
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from exporters.store.export import JsonlLogExporter, JsonlMetricExporter, JsonlSpanExporter
from exporters.store.files import JsonlStore, read_records
from exporters.store.layout import SIGNALS, utc_today

STORE_LOGGER = "otel_distro.exporters.store.files"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _line(**fields: object) -> bytes:
    return orjson.dumps(fields) + b"\n"


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """A umask of 0, so modes seen afterwards come from the store itself, not from the umask."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture
def unwritable_base(tmp_path: Path) -> Path:
    """A store root below a regular file: nothing can be created there, even as root."""
    blocker = tmp_path / "a-regular-file"
    blocker.write_text("not a directory")
    return blocker / "store"


# --- permissions -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("permissive_umask")
def test_store_creates_its_directories_0700_and_its_files_0600(tmp_path: Path) -> None:
    base = tmp_path / "store"
    store = JsonlStore(base)

    assert store.append("traces", _line(n=1), 1)

    path = store.path_for("traces", utc_today())
    assert path.is_file()
    assert _mode(base) == 0o700
    assert _mode(base / "traces") == 0o700
    assert _mode(path) == 0o600


@pytest.mark.usefixtures("permissive_umask")
def test_store_leaves_an_existing_base_dir_alone_but_creates_its_own_dirs_0700(tmp_path: Path) -> None:
    base = tmp_path / "shared-dir"  # e.g. TELEMETRY_BASE_DIR pointed at a dir the user already had
    base.mkdir(mode=0o755)
    os.chmod(base, 0o755)

    assert JsonlStore(base).append("logs", _line(n=1), 1)

    assert _mode(base) == 0o755
    assert _mode(base / "logs") == 0o700
    assert _mode(JsonlStore(base).path_for("logs", utc_today())) == 0o600


def test_store_writes_each_signal_to_its_own_daily_file_named_for_today_utc(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path)

    for signal in SIGNALS:
        assert store.append(signal, _line(signal=signal), 1)

    today = dt.datetime.now(dt.UTC).date().isoformat()
    for signal in SIGNALS:
        path = tmp_path / signal / f"{today}.jsonl"
        assert [record["signal"] for record in read_records(path)] == [signal]
        assert store.files(signal) == [path]


# --- whole lines -------------------------------------------------------------------------------------


def test_one_append_writes_exactly_its_payload_as_whole_lines(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path)
    first = _line(batch=1, item=1) + _line(batch=1, item=2)
    second = _line(batch=2, item=1)

    assert store.append("traces", first, 2)
    assert store.append("traces", second, 1)

    content = store.path_for("traces", utc_today()).read_bytes()
    assert content == first + second
    assert content.endswith(b"\n")
    assert store.stats.lines_written == 3
    assert store.stats.records_dropped == 0


def test_second_append_to_the_same_daily_file_succeeds(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path)

    assert store.append("traces", _line(seq=1), 1)
    assert store.append("traces", _line(seq=2), 1), store.stats.last_error

    assert [r["seq"] for r in read_records(store.path_for("traces", utc_today()))] == [1, 2]
    assert store.stats.records_dropped == 0


def test_partial_last_line_of_a_killed_writer_is_fenced_so_the_next_line_stays_intact(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path)
    path = store.path_for("traces", utc_today())
    path.parent.mkdir(parents=True)
    # A writer killed mid-line: one good line, then half a record and no newline.
    path.write_bytes(_line(seq=1) + b'{"seq": 2, "name": "cut sho')

    assert store.append("traces", _line(seq=3), 1)

    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"", "the file must end with a newline"
    assert lines[-2] == _line(seq=3).rstrip(b"\n"), "the appended line must be whole and on its own"
    assert lines[-3] == b'{"seq": 2, "name": "cut sho', "the garbage is kept, fenced onto its own line"
    assert [record["seq"] for record in read_records(path)] == [1, 3]


def test_fence_newline_is_not_counted_as_a_written_line(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path)
    path = store.path_for("traces", utc_today())
    path.parent.mkdir(parents=True)
    path.write_bytes(b'{"partial":')

    assert store.append("traces", _line(seq=1), 1)

    assert store.stats.lines_written == 1


def test_append_to_a_file_ending_in_newline_adds_no_blank_line(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path)
    path = store.path_for("metrics", utc_today())
    path.parent.mkdir(parents=True)
    path.write_bytes(_line(seq=1))

    assert store.append("metrics", _line(seq=2), 1)

    assert path.read_bytes() == _line(seq=1) + _line(seq=2)


# --- reading -----------------------------------------------------------------------------------------


def test_read_records_skips_blank_corrupt_and_non_object_lines_but_keeps_the_good_ones(
    tmp_path: Path,
) -> None:
    path = tmp_path / "2024-05-01.jsonl"
    path.write_bytes(
        _line(seq=1)
        + b"\n"
        + b"   \t \n"
        + b"this is not json\n"
        + b'{"seq": 2, "unterminated": \n'
        + b"[1, 2, 3]\n"
        + b'"a string"\n'
        + b"\xff\xfe binary junk\n"
        + _line(seq=3)
        + b'{"seq": 4, "partial'
    )

    assert [record["seq"] for record in read_records(path)] == [1, 3]


def test_read_records_of_a_missing_file_yields_nothing(tmp_path: Path) -> None:
    assert list(read_records(tmp_path / "missing.jsonl")) == []


# --- purge -------------------------------------------------------------------------------------------


def _dated(store: JsonlStore, signal: str, days_ago: int) -> Path:
    path = store.path_for(signal, utc_today() - dt.timedelta(days=days_ago))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_line(days_ago=days_ago))
    return path


def _foreign_files(store: JsonlStore) -> list[Path]:
    old = (utc_today() - dt.timedelta(days=400)).isoformat()
    paths = [
        store.base_dir / "traces" / "notes.txt",
        store.base_dir / "traces" / f"{old}.jsonl.bak",
        store.base_dir / "traces" / f"{old}.json",
        store.base_dir / "metrics" / "latest.jsonl",
        store.base_dir / "logs" / "2020-13-45.jsonl",
        store.base_dir / "logs" / f"backup-{old}.jsonl",
        store.base_dir / f"{old}.jsonl",
        store.base_dir / "cache" / f"{old}.jsonl",
    ]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("foreign\n")
    return paths


def test_purge_removes_files_older_than_retention_and_keeps_younger_ones(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path, retention_days=7)
    old = [_dated(store, signal, days) for signal in SIGNALS for days in (8, 30, 400)]
    young = [_dated(store, signal, days) for signal in SIGNALS for days in (0, 1, 6)]

    removed = store.purge()

    assert sorted(removed) == sorted(old)
    assert not any(path.exists() for path in old)
    assert all(path.exists() for path in young)
    assert store.stats.files_purged == len(old)


def test_per_signal_retention_overrides_the_store_wide_retention(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path, retention_days=30, retention={"traces": 7, "metrics": 90})
    traces = {days: _dated(store, "traces", days) for days in (6, 8)}
    metrics = {days: _dated(store, "metrics", days) for days in (40, 91)}
    logs = {days: _dated(store, "logs", days) for days in (29, 31)}

    removed = store.purge()

    assert sorted(removed) == sorted([traces[8], metrics[91], logs[31]])
    assert traces[6].exists() and metrics[40].exists() and logs[29].exists()


def test_purge_older_than_days_overrides_the_retention(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path, retention_days=30)
    three_days = _dated(store, "traces", 3)
    today = _dated(store, "traces", 0)

    assert store.purge(older_than_days=2) == [three_days]
    assert today.exists()


def test_purge_everything_removes_every_dated_file_including_today(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path, retention_days=7)
    dated = [_dated(store, signal, days) for signal in SIGNALS for days in (0, 3, 100)]

    removed = store.purge(everything=True)

    assert sorted(removed) == sorted(dated)
    assert not any(path.exists() for path in dated)
    assert all(store.files(signal) == [] for signal in SIGNALS)


@pytest.mark.parametrize("everything", [False, True], ids=["retention", "everything"])
def test_purge_never_touches_foreign_files(tmp_path: Path, everything: bool) -> None:
    store = JsonlStore(tmp_path, retention_days=1)
    foreign = _foreign_files(store)
    _dated(store, "traces", 50)

    removed = store.purge(everything=everything)

    assert len(removed) == 1
    assert all(path.read_text() == "foreign\n" for path in foreign)


def test_purge_warns_about_an_undeletable_file_and_still_removes_the_others(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = JsonlStore(tmp_path, retention_days=7)
    stuck = store.path_for("traces", utc_today() - dt.timedelta(days=20))
    stuck.mkdir(parents=True)  # a directory with a store file's name: unlink fails
    others = [_dated(store, signal, 20) for signal in ("metrics", "logs")]

    with caplog.at_level(logging.WARNING, logger=STORE_LOGGER):
        removed = store.purge()

    assert sorted(removed) == sorted(others)
    assert stuck.is_dir()
    assert any(str(stuck) in r.getMessage() for r in caplog.records if r.name == STORE_LOGGER)
    assert store.stats.files_purged == 2


def test_first_append_of_the_day_applies_the_retention(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path, retention_days=5)
    expired = _dated(store, "logs", 6)
    kept = _dated(store, "logs", 4)

    assert store.append("traces", _line(n=1), 1)

    assert not expired.exists()
    assert kept.exists()


def test_files_lists_only_dated_files_oldest_first_and_filters_by_since(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path)
    _foreign_files(store)
    paths = {days: _dated(store, "traces", days) for days in (10, 0, 3)}

    assert store.files("traces") == [paths[10], paths[3], paths[0]]
    assert store.files("traces", since=utc_today() - dt.timedelta(days=3)) == [paths[3], paths[0]]
    assert store.files("metrics") == []


# --- failures ----------------------------------------------------------------------------------------


def test_unwritable_store_never_raises_warns_once_and_counts_dropped_records(
    unwritable_base: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = JsonlStore(unwritable_base)

    with caplog.at_level(logging.WARNING, logger=STORE_LOGGER):
        results = [
            store.append("traces", _line(n=1), 3),
            store.append("metrics", _line(n=2), 2),
            store.append("logs", _line(n=3) + _line(n=4), 4),
        ]

    assert results == [False, False, False]
    warnings = [record for record in caplog.records if record.name == STORE_LOGGER]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert str(unwritable_base) in warnings[0].getMessage()
    assert store.stats.records_dropped == 9
    assert store.stats.lines_written == 0
    assert store.stats.last_error is not None
    assert not unwritable_base.exists()


def test_unwritable_store_reads_and_purges_as_empty_without_raising(unwritable_base: Path) -> None:
    store = JsonlStore(unwritable_base)

    assert store.files("traces") == []
    assert store.purge() == []
    assert store.purge(everything=True) == []


def test_span_exporter_reports_failure_but_does_not_raise_on_an_unwritable_store(
    unwritable_base: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = JsonlStore(unwritable_base)
    spans = _finished_spans(["a", "b"])

    with caplog.at_level(logging.WARNING, logger=STORE_LOGGER):
        first = JsonlSpanExporter(store).export(spans)
        second = JsonlSpanExporter(store).export(spans[:1])

    assert first is SpanExportResult.FAILURE
    assert second is SpanExportResult.FAILURE
    assert store.stats.records_dropped == 3
    assert len([r for r in caplog.records if r.name == STORE_LOGGER]) == 1


def test_drop_counts_records_and_shares_the_single_warning_with_write_failures(
    unwritable_base: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = JsonlStore(unwritable_base)

    with caplog.at_level(logging.WARNING, logger=STORE_LOGGER):
        store.drop(2, "cannot encode")
        store.append("traces", _line(n=1), 1)

    assert store.stats.records_dropped == 3
    warnings = [r for r in caplog.records if r.name == STORE_LOGGER]
    assert len(warnings) == 1
    assert "cannot encode" in warnings[0].getMessage()


# --- concurrency -------------------------------------------------------------------------------------


def test_concurrent_appends_from_many_threads_leave_only_intact_lines(tmp_path: Path) -> None:
    threads_count, appends_per_thread = 8, 150
    shared = JsonlStore(tmp_path)
    padding = "x" * 3000  # lines bigger than a page, so a torn write would show
    barrier = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        # Half the workers share one store object, half have their own (like separate processes).
        store = shared if worker % 2 else JsonlStore(tmp_path)
        try:
            barrier.wait()
            for seq in range(appends_per_thread):
                lines = _line(worker=worker, seq=seq, part=0, pad=padding)
                lines += _line(worker=worker, seq=seq, part=1, pad=padding)
                assert store.append("traces", lines, 2)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(worker,)) for worker in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    raw_lines = shared.path_for("traces", utc_today()).read_bytes().split(b"\n")
    assert raw_lines[-1] == b""
    records = [orjson.loads(line) for line in raw_lines[:-1]]  # every line must parse
    assert len(records) == threads_count * appends_per_thread * 2
    assert all(record["pad"] == padding for record in records)
    assert {(r["worker"], r["seq"], r["part"]) for r in records} == {
        (w, s, p) for w in range(threads_count) for s in range(appends_per_thread) for p in (0, 1)
    }
    # Each append is one write: its two lines are adjacent.
    for first, second in zip(records[::2], records[1::2], strict=True):
        assert (first["worker"], first["seq"], first["part"]) == (second["worker"], second["seq"], 0)
        assert second["part"] == 1


# --- span exporter -----------------------------------------------------------------------------------


def _finished_spans(names: list[str]) -> list[ReadableSpan]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": "store-test"}), shutdown_on_exit=False
    )
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("test_store")
    for name in names:
        tracer.start_span(name).end()
    provider.shutdown()
    return list(memory.get_finished_spans())


def test_span_exporter_writes_one_otlp_json_line_per_export_call(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path)
    provider = TracerProvider(
        resource=Resource.create({"service.name": "store-test"}), shutdown_on_exit=False
    )
    provider.add_span_processor(SimpleSpanProcessor(JsonlSpanExporter(store)))
    tracer = provider.get_tracer("test_store")

    contexts = []
    for name in ("first", "second", "third"):
        span = tracer.start_span(name, attributes={"index": len(contexts)})
        contexts.append(span.get_span_context())
        span.end()
    provider.shutdown()

    raw_lines = store.path_for("traces", utc_today()).read_bytes().split(b"\n")
    assert raw_lines[-1] == b""
    records = [orjson.loads(line) for line in raw_lines[:-1]]
    assert len(records) == 3
    for record, name, context in zip(records, ("first", "second", "third"), contexts, strict=True):
        (resource_spans,) = record["resourceSpans"]
        service = {kv["key"]: kv["value"] for kv in resource_spans["resource"]["attributes"]}["service.name"]
        assert service == {"stringValue": "store-test"}
        (scope_spans,) = resource_spans["scopeSpans"]
        (span,) = scope_spans["spans"]
        assert span["name"] == name
        assert span["traceId"] == f"{context.trace_id:032x}"
        assert span["spanId"] == f"{context.span_id:016x}"
    assert store.stats.lines_written == 3


def test_span_exporter_writes_a_whole_batch_as_a_single_line(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path)
    spans = _finished_spans(["a", "b", "c"])

    assert JsonlSpanExporter(store).export(spans) is SpanExportResult.SUCCESS

    records = list(read_records(store.path_for("traces", utc_today())))
    assert len(records) == 1
    names = [s["name"] for rs in records[0]["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
    assert names == ["a", "b", "c"]


# --- log and metric exporters ------------------------------------------------------------------------


def test_log_exporter_writes_one_otlp_json_line_per_export_call(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path)
    provider = LoggerProvider(
        resource=Resource.create({"service.name": "store-test"}), shutdown_on_exit=False
    )
    provider.add_log_record_processor(SimpleLogRecordProcessor(JsonlLogExporter(store)))
    logger = provider.get_logger("test_store")

    logger.emit(body="first message", severity_number=SeverityNumber.INFO)
    logger.emit(body="second message", severity_number=SeverityNumber.ERROR, attributes={"k": 1})
    provider.shutdown()

    records = list(read_records(store.path_for("logs", utc_today())))
    assert len(records) == 2
    bodies = [
        log["body"]
        for r in records
        for rl in r["resourceLogs"]
        for sl in rl["scopeLogs"]
        for log in sl["logRecords"]
    ]
    assert bodies == [{"stringValue": "first message"}, {"stringValue": "second message"}]


def test_metric_exporter_writes_one_line_per_collection_and_nothing_for_an_empty_one(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path)
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
    provider.get_meter("test_store").create_counter("requests").add(3, {"route": "/x"})
    data = reader.get_metrics_data()
    assert data is not None
    exporter = JsonlMetricExporter(store)

    assert exporter.export(MetricsData(resource_metrics=[])) is MetricExportResult.SUCCESS
    assert not store.path_for("metrics", utc_today()).exists()
    assert exporter.export(data) is MetricExportResult.SUCCESS
    provider.shutdown()

    records = list(read_records(store.path_for("metrics", utc_today())))
    assert len(records) == 1
    metrics = [m for rm in records[0]["resourceMetrics"] for sm in rm["scopeMetrics"] for m in sm["metrics"]]
    assert [m["name"] for m in metrics] == ["requests"]
    assert metrics[0]["sum"]["dataPoints"][0]["asInt"] == "3"


@contextlib.contextmanager
def _parked_append(store: JsonlStore) -> Iterator[threading.Event]:
    """A thread of this process appending, parked inside the store's lock until the event given
    is set (then it finishes); the file holds one line before it."""
    store.append("traces", _line(n=0), 1)
    holding = threading.Event()
    release = threading.Event()
    original = os.writev

    def slow_writev(fd: int, buffers: list[bytes]) -> int:
        holding.set()
        release.wait(10)
        return original(fd, buffers)

    writer = threading.Thread(target=store.append, args=("traces", _line(n=1), 1))
    os.writev = slow_writev  # type: ignore[assignment]
    try:
        writer.start()
        assert holding.wait(10)
        os.writev = original
        yield release
    finally:
        os.writev = original
        release.set()
        writer.join(10)


def test_a_child_forked_during_an_append_does_not_block_other_writers(tmp_path: Path) -> None:
    """flock is inherited by forked children; the store's lock must not be."""
    import multiprocessing

    store = JsonlStore(tmp_path / "store")
    ctx = multiprocessing.get_context("fork")
    with _parked_append(store) as release:
        child = ctx.Process(target=time.sleep, args=(5,))
        child.start()  # forked while the parent holds the store's locks
        release.set()
    try:
        other = ctx.Process(target=_append_one, args=(tmp_path / "store",))
        started = time.monotonic()
        other.start()
        other.join(10)
        elapsed = time.monotonic() - started
    finally:
        child.terminate()
        child.join()
    assert other.exitcode == 0
    assert elapsed < 4, "a writer waited for a forked child that inherited the lock"
    assert len(store.path_for("traces", utc_today()).read_bytes().splitlines()) == 3


def test_a_reader_in_the_writers_process_does_not_let_another_process_in_mid_append(tmp_path: Path) -> None:
    """A follower of the store opens and closes its files in the writing process all the time; a
    POSIX record lock is lost on any close, and another process's append got in between (in an
    encrypted store, a line sealed for the offset the other took was lost). The lock must hold."""
    import multiprocessing

    store = JsonlStore(tmp_path / "store")
    path = store.path_for("traces", utc_today())
    other = multiprocessing.get_context("spawn").Process(target=_append_one, args=(tmp_path / "store",))
    with _parked_append(store):
        path.read_bytes()  # a reader in this process: opens and closes the file
        other.start()
        other.join(3)
        got_in = other.exitcode is not None  # appended while this process was mid-append
    other.join(20)
    assert not got_in, "another process appended while this one held the store's lock"
    assert other.exitcode == 0
    assert [orjson.loads(line) for line in path.read_bytes().splitlines()] == [
        orjson.loads(_line(n=n)) for n in (0, 1, 2)
    ]


def test_a_dated_name_that_is_no_regular_file_is_passed_over_and_named_not_opened(tmp_path: Path) -> None:
    """A FIFO under traces/ made every reader (stats, bundle, store export) hang on its open."""
    from exporters.store.files import ReadProblems

    store = JsonlStore(tmp_path / "store")
    store.append("traces", _line(n=0), 1)
    fifo = store.signal_dir("traces") / "2026-01-01.jsonl"
    os.mkfifo(fifo)
    problems = ReadProblems()
    assert store.files("traces", problems=problems) == [store.path_for("traces", utc_today())]
    assert problems.unreadable == [f"{fifo}: not a regular file"]


def _append_one(base: Path) -> None:
    assert JsonlStore(base).append("traces", _line(n=2), 1)


def test_a_batch_of_huge_spans_is_written_as_several_lines_under_the_line_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from exporters.store import export as jsonl

    monkeypatch.setattr(jsonl, "MAX_LINE_BYTES", 64 * 1024)
    store = JsonlStore(tmp_path)
    provider = TracerProvider(shutdown_on_exit=False)
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    for index in range(10):
        provider.get_tracer("t").start_span(f"big{index}", attributes={"prompt": "p" * 30_000}).end()
    assert JsonlSpanExporter(store).export(memory.get_finished_spans()) is SpanExportResult.SUCCESS
    lines = store.path_for("traces", utc_today()).read_bytes().splitlines()
    assert len(lines) == 5  # two 30 KB spans fit under 64 KB, a third does not
    names = [
        span["name"]
        for line in lines
        for rs in orjson.loads(line)["resourceSpans"]
        for ss in rs["scopeSpans"]
        for span in ss["spans"]
    ]
    assert names == [f"big{index}" for index in range(10)]


def test_the_store_processor_bounds_the_bytes_waiting_for_a_stuck_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from exporters.store import export as jsonl

    monkeypatch.setattr(jsonl, "MAX_INFLIGHT_BYTES", 100_000)
    store = JsonlStore(tmp_path)
    processor = jsonl.JsonlSpanProcessor(store, schedule_delay_millis=60_000)
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(processor)
    for index in range(20):  # ~20 KB each: only about five fit before the writer runs
        provider.get_tracer("t").start_span(f"s{index}", attributes={"prompt": "p" * 20_000}).end()
    assert store.stats.records_dropped >= 14
    provider.shutdown()
    written = len(store.path_for("traces", utc_today()).read_bytes())
    assert 80_000 < written < 130_000


def test_the_store_log_processor_bounds_the_bytes_waiting_for_a_stuck_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Log records wait in a queue bounded in bytes as spans do: 1 MB bodies behind a slow disk
    held 1.27 GB in the SDK's batcher, which counts records only."""
    from opentelemetry._logs import LogRecord as ApiLogRecord

    from exporters.store import export as jsonl

    monkeypatch.setattr(jsonl, "MAX_INFLIGHT_BYTES", 100_000)
    store = JsonlStore(tmp_path)
    processor = jsonl.JsonlLogProcessor(store, schedule_delay_millis=60_000)
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(processor)
    for index in range(20):  # ~20 KB each: only about five fit before the writer runs
        record = ApiLogRecord(body=f"{index:02d}" + "p" * 20_000, attributes={"n": index})
        provider.get_logger("t").emit(record)
    assert processor.queue.bytes <= 100_000 + 21_000
    dropped = store.stats.records_dropped
    assert dropped >= 14 and processor.drop_counts()["store_queue_full"] == dropped
    provider.shutdown()
    lines = store.path_for("logs", utc_today()).read_bytes().splitlines()
    written = sum(len(orjson.loads(line)["resourceLogs"][0]["scopeLogs"][0]["logRecords"]) for line in lines)
    assert written + dropped == 20


@pytest.mark.parametrize("privacy", [True, False], ids=["redaction-on", "redaction-off"])
def test_spans_with_huge_text_are_redacted_and_encoded_off_the_app_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, privacy: bool
) -> None:
    from exporters import otlp_json
    from otel_distro.pipeline import build_pipeline
    from otel_distro.settings import load_settings

    encoding_threads: dict[str, str] = {}
    original = otlp_json._span_bytes

    def recording(span: ReadableSpan) -> bytes:
        encoding_threads[span.name] = threading.current_thread().name
        return original(span)

    monkeypatch.setattr(otlp_json, "_span_bytes", recording)
    overrides = {} if privacy else {"pii_redaction": False}  # hashing alone does not scan texts
    settings = load_settings({"base_dir": str(tmp_path), **overrides}, env={})
    pipeline = build_pipeline(settings, install=False)
    tracer = pipeline.tracer_provider.get_tracer("t")
    tracer.start_span("small", attributes={"prompt": "short, mail me at ann@example.com"}).end()
    assert encoding_threads == {"small": threading.current_thread().name}  # encoded at once, cache-hot
    # over the app-thread budget in one value, and in many long values together
    tracer.start_span("huge", attributes={"prompt": "p ann@example.com " * 12_000}).end()
    tracer.start_span("many", attributes={f"k{i}": "q" * 3000 for i in range(40)}).end()
    deadline = time.monotonic() + 10  # waited for, not flushed: a flush would encode them here
    while len(encoding_threads) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert encoding_threads["huge"] != threading.current_thread().name
    assert encoding_threads["many"] != threading.current_thread().name
    pipeline.shutdown()
    text = JsonlStore(tmp_path).path_for("traces", utc_today()).read_text()
    assert text.count('"name":"huge"') == text.count('"name":"many"') == 1
    if privacy:
        assert "ann@example.com" not in text and "<EMAIL>" in text


def test_the_store_processor_ignores_unsampled_spans_and_its_budget_returns_to_zero(tmp_path: Path) -> None:
    from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult

    from exporters.store import export as jsonl

    class Alternate(Sampler):
        def __init__(self) -> None:
            self.calls = 0

        def should_sample(self, *args: object, **kwargs: object) -> SamplingResult:
            self.calls += 1
            return SamplingResult(Decision.RECORD_AND_SAMPLE if self.calls % 2 else Decision.RECORD_ONLY)

        def get_description(self) -> str:
            return "alternate"

    store = JsonlStore(tmp_path)
    processor = jsonl.JsonlSpanProcessor(store, schedule_delay_millis=60_000)
    provider = TracerProvider(sampler=Alternate(), shutdown_on_exit=False)
    provider.add_span_processor(processor)
    for index in range(100):
        provider.get_tracer("t").start_span(f"s{index}", attributes={"big": "b" * (index * 1000)}).end()
    assert processor._queue.items == 50
    processor.force_flush()
    assert (processor._queue.items, processor._queue.bytes) == (0, 0)
    assert store.stats.records_dropped == 0
    provider.shutdown()


def test_an_append_that_fills_the_disk_leaves_no_torn_line_mid_file(tmp_path: Path) -> None:
    """Issue 21 item 10: a failed append (disk full) left a partial line that later appends buried
    mid-file. A real process whose file-size limit plays the full disk."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        f"""
        import resource, signal
        from pathlib import Path
        from exporters.store.files import JsonlStore

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death, as ENOSPC would be
        store = JsonlStore(Path({str(tmp_path)!r}))
        assert store.append("logs", b'{{"first": 1}}\\n', 1)
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))
        assert not store.append("logs", [b'{{"big": "' + b"x" * 10_000 + b'"}}\\n'], 1)
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        assert store.append("logs", b'{{"after": 1}}\\n', 1)
        print(store.stats.records_dropped)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1"]
    (path,) = (tmp_path / "logs").iterdir()
    assert path.read_bytes() == b'{"first": 1}\n{"after": 1}\n'


def test_a_record_that_cannot_be_encoded_is_counted_once_when_the_rest_cannot_be_written(
    unwritable_base: Path,
) -> None:
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no text")

        __repr__ = __str__

    store = JsonlStore(unwritable_base)
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(SimpleLogRecordProcessor(JsonlLogExporter(store)))
    logger = provider.get_logger("t")
    batched = LoggerProvider(shutdown_on_exit=False)
    batched.add_log_record_processor(
        BatchLogRecordProcessor(JsonlLogExporter(store), schedule_delay_millis=60_000)
    )
    for index in range(4):
        batched.get_logger("t").emit(body=f"fine {index}", severity_number=SeverityNumber.INFO)
    batched.get_logger("t").emit(body=Unprintable(), severity_number=SeverityNumber.INFO)  # type: ignore[arg-type]
    batched.force_flush()
    assert store.stats.records_dropped == 5  # one could not be encoded, four not written: 5, not 6
    logger.emit(body="one more", severity_number=SeverityNumber.INFO)
    assert store.stats.records_dropped == 6
    batched.shutdown()
    provider.shutdown()

"""The store's disk guard: no writing while free space is low (counted, one warning, resumes),
and a size cap that purges the oldest days first."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from pathlib import Path

import pytest

from exporters.store.files import JsonlStore
from exporters.store.guard import DISK_LOW, MAX_SIZE, MB, DiskGuard
from exporters.store.layout import utc_today
from otel_distro.drop_ledger import _split_store, counts_of

LINE = b'{"resourceSpans": []}\n'
HUGE = 1 << 60  # more free space than any disk has: "the disk is low"


def test_low_free_space_stops_writing_counts_drops_warns_once_and_resumes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    guard = DiskGuard(min_free_bytes=HUGE, interval=0)
    store = JsonlStore(tmp_path, guard=guard)
    with caplog.at_level(logging.WARNING, "otel_distro"):
        assert not store.append("traces", LINE, 3)
        assert not store.append("traces", LINE, 2)
    assert store.files("traces") == []
    assert counts_of(store)[DISK_LOW] == 5
    assert _split_store(Counter(counts_of(store))) == {DISK_LOW: 5}  # not counted as a failed write
    warnings = [r.getMessage() for r in caplog.records if "store_disk_low" in r.getMessage()]
    assert len(warnings) == 1 and "TELEMETRY_MIN_FREE_DISK_MB" in warnings[0]
    guard.min_free_bytes = 1  # space came back
    assert store.append("traces", LINE, 1)
    assert store.files("traces")[0].read_bytes() == LINE
    assert guard.state.refusing is None


def test_the_disk_is_looked_at_only_every_interval(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    import exporters.store.guard as guard_module

    def counted(directory: Path) -> int:
        calls.append(directory)
        return 10 * 1024 * MB

    monkeypatch.setattr(guard_module, "free_bytes", counted)
    store = JsonlStore(tmp_path, guard=DiskGuard(interval=3600))
    for _ in range(50):
        assert store.append("traces", LINE, 1)
    assert len(calls) == 1


def _day_files(store: JsonlStore, days_ago: int, size: int) -> None:
    day = utc_today() - dt.timedelta(days=days_ago)
    for signal in ("traces", "logs"):
        path = store.path_for(signal, day)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * (size - 1) + b"\n")


def test_a_size_cap_purges_the_oldest_days_first(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path, guard=DiskGuard(min_free_bytes=0, max_store_bytes=5 * MB // 2, interval=0))
    for days_ago in (4, 3, 2, 1):
        _day_files(store, days_ago, MB // 2)  # 1 MB a day over two signals
    assert store.append("traces", LINE, 1)
    left = sorted({path.stem for signal in ("traces", "logs") for path in store.files(signal)})
    today = utc_today()
    assert left == [(today - dt.timedelta(days=n)).isoformat() for n in (2, 1, 0)]
    assert store.guard is not None and store.guard.state.purged_files == 4


def test_when_today_alone_is_over_the_cap_the_store_stops_writing(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path, guard=DiskGuard(min_free_bytes=0, max_store_bytes=MB, interval=0))
    _day_files(store, 0, MB)
    assert not store.append("traces", LINE, 4)
    assert counts_of(store)[MAX_SIZE] == 4
    state = DiskGuard(0, MB).inspect(store)
    assert state.refusing == MAX_SIZE and state.store_bytes == 2 * MB

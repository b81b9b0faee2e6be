"""The spill cache: segments on disk that survive killed processes and are sent exactly by one owner."""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from pathlib import Path

import pytest

from exporters.spill_cache import SpillCache

READY_TIMEOUT = 30.0


def lines(*names: str) -> list[bytes]:
    return [f'{{"n":"{name}"}}'.encode() for name in names]


def segment_files(directory: Path, state: str = "") -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.name.endswith(".jsonl") and p.name.startswith(state))


def claim_all(cache: SpillCache) -> list[list[bytes]]:
    claimed = []
    while (segment := cache.claim()) is not None:
        claimed.append(segment.lines)
        cache.done(segment)
    return claimed


def child(directory: Path, body: str) -> subprocess.Popen[str]:
    """A real child process with its own SpillCache on ``directory``; prints ``ready`` when set."""
    source = "import os, sys, time\nfrom pathlib import Path\nfrom exporters.spill_cache import SpillCache\n"
    source += f"cache = SpillCache(Path({str(directory)!r}), 10_000_000, 100)\n"
    source += textwrap.dedent(body)
    return subprocess.Popen(
        [sys.executable, "-c", source], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


def wait_ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line == "ready", (line, proc.poll())


# -- the life of a segment -------------------------------------------------------------------


def test_append_seal_claim_done(tmp_path: Path) -> None:
    cache = SpillCache(tmp_path / "cache", 1_000_000, 100)
    cache.append(lines("a", "b"))
    assert [p.name.split(".")[0] for p in segment_files(tmp_path / "cache")] == ["open"]
    assert cache.claim() is None  # an open segment is not sent yet
    assert cache.pending()[0] == 2
    cache.seal()
    segment = cache.claim()
    assert segment is not None
    assert segment.lines == lines("a", "b")
    assert segment.corrupt == 0
    assert [p.name.split(".")[0] for p in segment_files(tmp_path / "cache")] == ["sending"]
    assert cache.claim() is None  # it is ours now
    cache.done(segment)
    assert segment_files(tmp_path / "cache") == []
    assert cache.pending() == (0, 0)


def test_release_puts_a_segment_back_for_a_later_attempt(tmp_path: Path) -> None:
    cache = SpillCache(tmp_path / "cache", 1_000_000, 100)
    cache.append(lines("a"))
    cache.seal()
    segment = cache.claim()
    assert segment is not None
    cache.release(segment)
    assert [p.name.split(".")[0] for p in segment_files(tmp_path / "cache")] == ["ready"]
    again = cache.claim()
    assert again is not None and again.lines == lines("a")
    cache.done(again)


def test_segments_are_claimed_oldest_first(tmp_path: Path) -> None:
    cache = SpillCache(tmp_path / "cache", 1_000_000, 100)
    for name in "abc":
        cache.append(lines(name))
        cache.seal()
    assert claim_all(cache) == [lines("a"), lines("b"), lines("c")]


def test_appends_after_a_seal_start_a_new_segment(tmp_path: Path) -> None:
    cache = SpillCache(tmp_path / "cache", 1_000_000, 100)
    cache.append(lines("a"))
    cache.seal()
    cache.append(lines("b"))
    cache.close()
    assert claim_all(cache) == [lines("a"), lines("b")]


def test_a_segment_is_sealed_when_it_holds_segment_records(tmp_path: Path) -> None:
    cache = SpillCache(tmp_path / "cache", 1_000_000, 2)
    for name in "abcde":
        cache.append(lines(name))
    assert len(segment_files(tmp_path / "cache", "ready.")) == 2
    cache.seal()
    assert claim_all(cache) == [lines("a", "b"), lines("c", "d"), lines("e")]


def test_segments_hold_at_most_segment_records_even_from_one_large_append(tmp_path: Path) -> None:
    cache = SpillCache(tmp_path / "cache", 1_000_000, 2)
    cache.append(lines("a"))
    cache.append(lines("b", "c", "d", "e", "f"))
    cache.seal()
    claimed = claim_all(cache)
    assert [line for segment in claimed for line in segment] == lines("a", "b", "c", "d", "e", "f")
    assert max(len(segment) for segment in claimed) <= 2, [len(segment) for segment in claimed]


def test_files_are_0600_and_the_directory_0700(tmp_path: Path) -> None:
    directory = tmp_path / "deep" / "cache"
    cache = SpillCache(directory, 1_000_000, 100)
    cache.append(lines("a"))
    modes = {p.name.split(".")[0]: stat.S_IMODE(p.stat().st_mode) for p in segment_files(directory)}
    cache.seal()
    modes.update({p.name.split(".")[0]: stat.S_IMODE(p.stat().st_mode) for p in segment_files(directory)})
    segment = cache.claim()
    assert segment is not None
    modes.update({p.name.split(".")[0]: stat.S_IMODE(p.stat().st_mode) for p in segment_files(directory)})
    cache.release(segment)
    assert modes == {"open": 0o600, "ready": 0o600, "sending": 0o600}
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700


# -- the size bound --------------------------------------------------------------------------


def test_the_bound_drops_the_oldest_ready_segments_and_counts_their_records(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "cache"
    line = b"x" * 99  # 100 bytes a record with its newline
    cache = SpillCache(directory, 2_000, 2)  # 200 bytes a segment
    caplog.set_level(logging.WARNING)
    total = 60
    for index in range(total):
        cache.append([f"{index:04d}".encode() + line[4:]])
        assert cache.size() <= 2_000
    cache.seal()
    kept = [int(record[:4]) for segment in claim_all(cache) for record in segment]
    assert kept == sorted(kept)
    assert kept[-1] == total - 1  # the newest are kept
    assert kept[0] > 0  # the oldest went first
    assert kept == list(range(kept[0], total))  # and only the oldest
    assert cache.dropped_overflow == total - len(kept)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "bound" in r.getMessage()]
    assert len(warnings) == 1  # warned once, counted always


def test_the_bound_never_drops_a_segment_someone_is_sending(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    cache = SpillCache(directory, 1_000, 1)
    cache.append([b"first" + b"x" * 200])
    sending = cache.claim()
    assert sending is not None
    for _ in range(20):
        cache.append([b"y" * 200])
    assert (directory / sending.path.name).exists()
    cache.done(sending)


# -- locks: one owner per segment ------------------------------------------------------------


def test_a_segment_locked_by_another_descriptor_is_not_claimed(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    cache = SpillCache(directory, 1_000_000, 100)
    cache.append(lines("a"))
    cache.seal()
    (ready,) = segment_files(directory, "ready.")
    other = os.open(ready, os.O_RDONLY)  # another process's claim in progress
    try:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert cache.claim() is None
        assert ready.exists()
    finally:
        os.close(other)
    segment = cache.claim()
    assert segment is not None and segment.lines == lines("a")
    cache.done(segment)


def test_a_claimed_segment_is_neither_claimed_again_nor_recovered_by_another_cache(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    first, second = SpillCache(directory, 1_000_000, 100), SpillCache(directory, 1_000_000, 100)
    first.append(lines("a"))
    first.seal()
    segment = first.claim()
    assert segment is not None
    assert second.claim() is None
    assert second.recover() == 0  # the owner is alive: its sending segment is not "dead"
    assert second.claim() is None
    first.release(segment)
    again = second.claim()
    assert again is not None and again.lines == lines("a")
    second.done(again)


def test_concurrent_claimers_take_each_segment_exactly_once(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    writer = SpillCache(directory, 10_000_000, 1)
    names = [f"r{index}" for index in range(200)]
    for name in names:
        writer.append(lines(name))
    claimed: list[bytes] = []
    guard = threading.Lock()

    def claimer() -> None:
        cache = SpillCache(directory, 10_000_000, 1)
        while (segment := cache.claim()) is not None:
            with guard:
                claimed.extend(segment.lines)
            cache.done(segment)

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert Counter(claimed) == Counter(lines(*names))


# -- processes that die ----------------------------------------------------------------------


def test_recover_makes_the_open_segment_of_an_exited_process_ready(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    proc = child(directory, 'cache.append([b\'{"n":"a"}\', b\'{"n":"b"}\'])\nos._exit(0)\n')
    proc.communicate(timeout=READY_TIMEOUT)
    assert proc.returncode == 0
    assert [p.name.split(".")[0] for p in segment_files(directory)] == ["open"]
    cache = SpillCache(directory, 1_000_000, 100)
    assert cache.claim() is None
    assert cache.recover() == 1
    assert claim_all(cache) == [lines("a", "b")]


def test_a_live_writer_keeps_its_open_segment_until_it_is_killed(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    proc = child(directory, 'cache.append([b\'{"n":"a"}\'])\nprint("ready", flush=True)\nsys.stdin.read()\n')
    try:
        wait_ready(proc)
        cache = SpillCache(directory, 1_000_000, 100)
        assert cache.recover() == 0  # alive: its segment is still being written
        assert cache.claim() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait(READY_TIMEOUT)
        assert cache.recover() == 1
        assert claim_all(cache) == [lines("a")]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None and proc.stdin is not None
        proc.stdout.close()
        proc.stdin.close()


def test_recover_makes_a_sending_segment_of_a_killed_sender_ready(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    proc = child(
        directory,
        """
        cache.append([b'{"n":"a"}', b'{"n":"b"}'])
        cache.seal()
        segment = cache.claim()
        assert segment is not None
        print("ready", flush=True)
        sys.stdin.read()
        """,
    )
    try:
        wait_ready(proc)
        assert [p.name.split(".")[0] for p in segment_files(directory)] == ["sending"]
        cache = SpillCache(directory, 1_000_000, 100)
        assert cache.recover() == 0
        proc.send_signal(signal.SIGKILL)
        proc.wait(READY_TIMEOUT)
        assert cache.recover() == 1
        assert claim_all(cache) == [lines("a", "b")]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None and proc.stdin is not None
        proc.stdout.close()
        proc.stdin.close()


def test_a_partial_last_line_is_skipped_and_counted_as_corrupt(tmp_path: Path) -> None:
    """A writer killed mid-line leaves a line without its newline."""
    directory = tmp_path / "cache"
    proc = child(
        directory,
        """
        cache.append([b'{"n":"a"}', b'{"n":"b"}'])
        (path,) = [p for p in cache.directory.iterdir() if p.name.startswith("open.")]
        with open(path, "ab") as handle:
            handle.write(b'{"n":"hal')
        os._exit(0)
        """,
    )
    proc.communicate(timeout=READY_TIMEOUT)
    assert proc.returncode == 0
    cache = SpillCache(directory, 1_000_000, 100)
    assert cache.recover() == 1
    segment = cache.claim()
    assert segment is not None
    assert segment.lines == lines("a", "b")
    assert segment.corrupt == 1
    cache.done(segment)


def test_a_forked_child_that_never_writes_does_not_pin_its_parents_segment(tmp_path: Path) -> None:
    """gunicorn-style: the parent had an open segment when it forked; the child (alive, writing
    nothing) must not keep the parent from sending that segment once it is sealed."""
    directory = tmp_path / "cache"
    proc = child(
        directory,
        """
        cache.append([b'{"n":"a"}'])
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(write)
            os.read(read, 1)  # a long-lived worker that never writes a record
            os._exit(0)
        os.close(read)
        cache.seal()
        deadline = time.monotonic() + 3
        segment = None
        while segment is None and time.monotonic() < deadline:
            segment = cache.claim()
            time.sleep(0.05)
        os.close(write)
        os.waitpid(pid, 0)
        print("claimed" if segment is not None else "pinned", flush=True)
        """,
    )
    out, _ = proc.communicate(timeout=READY_TIMEOUT)
    assert out.strip() == "claimed"


def test_nothing_is_lost_across_processes_that_append_and_die(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    procs = [
        child(
            directory,
            f"""
            for n in range(30):
                cache.append([('{{"n":"p{index}-' + str(n) + '"}}').encode()])
                if n % 7 == 6:
                    cache.seal()
            os._exit(0)
            """,
        )
        for index in range(3)
    ]
    for proc in procs:
        proc.communicate(timeout=READY_TIMEOUT)
        assert proc.returncode == 0
    cache = SpillCache(directory, 10_000_000, 100)
    cache.recover()
    found = [line for segment in claim_all(cache) for line in segment]
    expected = lines(*(f"p{index}-{n}" for index in range(3) for n in range(30)))
    assert Counter(found) == Counter(expected)
    assert segment_files(directory) == []  # nothing left behind


def test_a_segment_partly_sent_keeps_only_its_unsent_lines_in_a_private_file(tmp_path: Path) -> None:
    cache = SpillCache(tmp_path, 1 << 20, 100)
    cache.append(lines("a", "b", "c"))
    cache.seal()
    segment = cache.claim()
    assert segment is not None and segment.lines == lines("a", "b", "c")
    cache.keep(segment, lines("c"))  # a and b were acknowledged
    kept = segment_files(tmp_path)
    assert len(kept) == 1 and stat.S_IMODE(kept[0].stat().st_mode) == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("tmp.")]  # no temporary file left
    assert claim_all(cache) == [lines("c")]
    cache.close()


def _disk_with_room(monkeypatch: pytest.MonkeyPatch, room: int) -> None:
    """The spill cache's writes take ``room`` bytes in all, then the disk is full."""
    import errno

    from exporters import spill_cache

    left = [room]

    def write(fd: int, data: bytes | memoryview) -> int:
        if left[0] <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        taken = min(len(data), left[0])
        left[0] -= taken
        return os.pwrite(fd, bytes(data[:taken]), os.lseek(fd, 0, os.SEEK_END))

    monkeypatch.setattr(spill_cache.os, "write", write)


def test_a_full_disk_leaves_whole_lines_only_and_says_how_many_were_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A review of issue 21: on a nearly full disk a write took part of a batch (a short write
    was not checked), leaving a torn line mid-segment and losing the rest without a count."""
    from exporters.spill_cache import SpillError

    cache = SpillCache(tmp_path, 1 << 30, segment_records=2)
    cache.append(lines("a1", "a2"))  # a sealed segment
    _disk_with_room(monkeypatch, len(b'{"n":"b1"}\n') + 5)  # b1 and 5 bytes of b2, then no more
    with pytest.raises(SpillError) as refused:
        cache.append(lines("b1", "b2", "b3"))
    monkeypatch.undo()
    assert refused.value.kept == 0  # b1 and b2 went as one segment's write: both cut back
    cache.seal()
    claimed = [line for segment in claim_all(cache) for line in segment]
    assert claimed == lines("a1", "a2")
    for path in segment_files(tmp_path):
        assert path.read_bytes().endswith(b"\n") or path.stat().st_size == 0


def test_records_written_whole_before_the_disk_refused_are_kept_and_counted_as_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from exporters.spill_cache import SpillError

    cache = SpillCache(tmp_path, 1 << 30, segment_records=2)
    _disk_with_room(monkeypatch, len(b'{"n":"b1"}\n{"n":"b2"}\n'))  # the first segment's write only
    with pytest.raises(SpillError) as refused:
        cache.append(lines("b1", "b2", "b3", "b4"))
    monkeypatch.undo()
    assert refused.value.kept == 2
    cache.seal()
    assert [line for segment in claim_all(cache) for line in segment] == lines("b1", "b2")

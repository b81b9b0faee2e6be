"""``otel-distro store rotate-key`` and ``store export``: a new key for the encrypted store, and
plain OTLP JSON Lines copies of it for a collector."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from exporters.conversation_log import POSITION_FILE, SPOOL_DIR, SPOOL_POSITION_FILE
from exporters.otlp_proto import records_in
from exporters.store import sealed
from exporters.store.files import JsonlStore, ReadProblems
from exporters.store.follow import followers_held, rebase_positions, unsent_records
from exporters.store.layout import SIGNALS, file_date
from exporters.store.reseal import plain_lines, reseal_file
from exporters.upload import state_base
from otel_distro.runtime.files import private_dirs
from otel_distro.runtime.state_file import locked
from otel_distro.store_key import CHECK_SECONDS, StoreKey, new_key


@dataclass
class RotateReport:
    old_key_ids: list[str]
    new_key_id: str
    files: int = 0
    lines: int = 0
    skipped: int = 0  # lines that did not open (left out of the rewritten files)


def follower_states(store: JsonlStore, conversation_log_dir: Path | None) -> dict[str, list[Path]]:
    """Per signal, the files where followers of the store keep how far they sent it: the
    continuous or manual upload (one per endpoint) and the conversation log."""
    states: dict[str, list[Path]] = {signal: [] for signal in SIGNALS}
    for signal in SIGNALS:
        with contextlib.suppress(OSError):
            states[signal] += sorted(state_base(store.base_dir).glob(f"*/{signal}.json"))
    if conversation_log_dir is not None and (conversation_log_dir / POSITION_FILE).exists():
        states["traces"].append(conversation_log_dir / POSITION_FILE)
    return states


def unsent_counter(store: JsonlStore, conversation_log_dir: Path | None) -> Callable[[str, Path], int]:
    """For :attr:`JsonlStore.unsent`: the records of a store file that one of its followers
    (an upload, the conversation log) has not sent yet, the most any of them has left."""

    def unsent(signal: str, path: Path) -> int:
        return max(
            (
                unsent_records(state, path, lambda data: records_in(signal, data))
                for state in follower_states(store, conversation_log_dir)[signal]
            ),
            default=0,
        )

    return unsent


def rotate_key(
    store: JsonlStore,
    key: StoreKey,
    wait_seconds: float = CHECK_SECONDS + 1.0,
    followers: dict[str, list[Path]] | None = None,
    spools: Sequence[tuple[Path, Path]] = (),
) -> RotateReport:
    """A new key; every store file re-sealed with it; then the old keys are gone.

    ``followers``: per signal, the position files of the store's followers (see
    :func:`follower_states`), held still while the files are rewritten and carried over to them.
    ``spools``: directories of segments sealed with the same key (the conversation log's spool,
    see :func:`spools_of`), each with its follower's position file: re-sealed the same way.
    The new key is kept first beside the old ones, and running writers (which look at the key
    marker every few seconds) are given ``wait_seconds`` to take it up; then each file is
    rewritten, and the key set is cut down to the new key. Raises ``KeyStoreError`` when the
    key cannot be changed where it lives (``TELEMETRY_STORE_KEY``), ``ValueError`` when there is
    no key yet or it is unreadable.
    """
    private_dirs(store.base_dir)
    with locked(store.base_dir / ".rotate-key.lock"):
        old = key.load()
        fresh = new_key()
        report = RotateReport([sealed.key_id(k) for k in old], sealed.key_id(fresh))
        key.save([fresh, *old])
        if wait_seconds > 0:
            time.sleep(wait_seconds)
        seal = sealed.LineSeal([fresh, *old])
        followers = followers or {}
        # the followers (upload, conversation log) wait, then find their positions carried over
        # to the re-sealed files: nothing is sent twice
        held = [path for paths in followers.values() for path in paths] + [state for _, state in spools]
        with followers_held(held):
            for signal in SIGNALS:
                for path in store.files(signal):
                    _reseal(report, path, seal, followers.get(signal, []))
            for directory, state_path in spools:
                for path in sorted(directory.glob("*.jsonl")):
                    _reseal(report, path, seal, [state_path])
        key.save([fresh])
        sealed.use_keys(key.load)  # this process's readers too
        return report


def _reseal(report: RotateReport, path: Path, seal: sealed.LineSeal, followers: list[Path]) -> None:
    done = reseal_file(path, seal)
    report.files += 1
    report.lines += done.lines
    report.skipped += done.skipped
    for state_path in followers:
        rebase_positions(state_path, path, done.before, done.moves)


def spools_of(conversation_log_dir: Path) -> list[tuple[Path, Path]]:
    """The conversation log's spool (its segments' directory and position file), if it has one."""
    directory = conversation_log_dir / SPOOL_DIR / "traces"
    return [(directory, conversation_log_dir / SPOOL_POSITION_FILE)] if directory.is_dir() else []


@dataclass
class ExportReport:
    directory: Path
    files: list[Path] = field(default_factory=list)
    records: int = 0
    problems: ReadProblems = field(default_factory=ReadProblems)


def export_plain(store: JsonlStore, since: dt.timedelta | None, directory: Path) -> ExportReport:
    """Plain OTLP JSON Lines copies of the store's files from ``since`` ago on, as
    ``DIRECTORY/{traces,metrics,logs}/YYYY-MM-DD.jsonl`` (0700 / 0600): what a collector's
    ``otlpjsonfile`` receiver reads. Lines that do not open are left out and counted."""
    report = ExportReport(directory)
    first_day = (dt.datetime.now(dt.UTC) - since).date() if since is not None else None
    for signal in SIGNALS:
        for path in store.files(signal, first_day, report.problems):
            if file_date(path) is None:
                continue
            target = directory / signal / path.name
            private_dirs(target.parent)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                for line in plain_lines(path, report.problems):
                    handle.write(line)
                    report.records += 1
            report.files.append(target)
    return report

"""The store's disk guard: no writing while the file system is nearly full, and a cap on the store's size.

Looked at from the writer (never the app's thread), at most once per ``interval`` seconds: one
``statvfs`` of the store's file system, and, with a size cap, the sizes of the store's dated
files. While free space is under ``min_free_bytes`` the store refuses appends (the caller
counts them as ``store_disk_low``, one warning) and resumes once space returns. Over
``max_store_bytes`` the oldest days are purged first (every signal's file of that day); if the
files of today alone are over it, appends are refused (``store_max_size``) until tomorrow.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exporters.store.layout import SIGNALS, file_date

_logger = logging.getLogger(f"otel_distro.{__name__}")

MB = 1024 * 1024
CHECK_SECONDS = 5.0
DISK_LOW = "store_disk_low"
MAX_SIZE = "store_max_size"


@dataclass
class GuardState:
    """What the guard last saw (also what ``otel-distro stats`` shows)."""

    free_bytes: int | None = None
    store_bytes: int | None = None
    refusing: str | None = None  # DISK_LOW, MAX_SIZE or None
    purged_files: int = 0

    def as_dict(self, min_free_bytes: int, max_store_bytes: int | None) -> dict[str, Any]:
        return {
            "free_mb": None if self.free_bytes is None else round(self.free_bytes / MB, 1),
            "min_free_mb": min_free_bytes // MB,
            "store_mb": None if self.store_bytes is None else round(self.store_bytes / MB, 3),
            "max_store_mb": None if max_store_bytes is None else max_store_bytes // MB,
            "writing": self.refusing is None,
            "paused_by": self.refusing,
        }


def free_bytes(directory: Path) -> int | None:
    """Free space for an unprivileged writer on the file system holding ``directory`` (or its
    nearest existing parent); None if it cannot be known."""
    for candidate in (directory, *directory.parents):
        try:
            info = os.statvfs(candidate)
        except FileNotFoundError:
            continue
        except OSError:
            return None
        return info.f_bavail * info.f_frsize
    return None


def dated_sizes(store: Any) -> list[tuple[dt.date, Path, int]]:
    """(day, path, size) of every dated file of the store, oldest first."""
    out = []
    for signal in SIGNALS:
        for path in store.files(signal):
            day = file_date(path)
            try:
                size = path.stat().st_size
            except OSError:
                continue
            if day is not None:
                out.append((day, path, size))
    return sorted(out, key=lambda row: (row[0], str(row[1])))


class DiskGuard:
    """Decides, cheaply, whether the store may write now (see the module docstring)."""

    def __init__(
        self,
        min_free_bytes: int = 1024 * MB,
        max_store_bytes: int | None = None,
        interval: float = CHECK_SECONDS,
    ) -> None:
        self.min_free_bytes = min_free_bytes
        self.max_store_bytes = max_store_bytes
        self.interval = interval
        self.state = GuardState()
        self._checked = -float("inf")
        self._lock = threading.Lock()

    def refusal(self, store: Any) -> str | None:
        """The reason appends are refused now, or None; looks again at most every ``interval``."""
        now = time.monotonic()
        if now - self._checked < self.interval:
            return self.state.refusing
        with self._lock:
            if now - self._checked >= self.interval:
                self._checked = now
                self._check(store)
            return self.state.refusing

    def _check(self, store: Any) -> None:
        before = self.state.refusing
        refusing = None
        self.state.free_bytes = free_bytes(store.base_dir)
        if (
            self.min_free_bytes
            and self.state.free_bytes is not None
            and self.state.free_bytes < self.min_free_bytes
        ):
            refusing = DISK_LOW
        if self.max_store_bytes is not None and self._over_cap(store):
            refusing = refusing or MAX_SIZE
        self.state.refusing = refusing
        if refusing and refusing != before:
            _logger.warning(
                "otel-distro: %s; the store stops writing (drops counted as %s)", self.why(), refusing
            )
        elif before and not refusing:
            _logger.warning("otel-distro: the store writes again (%s resolved)", before)

    def why(self) -> str:
        state = self.state
        if state.refusing == DISK_LOW:
            return (
                f"only {(state.free_bytes or 0) // MB} MB free on the file system of the store, under "
                f"TELEMETRY_MIN_FREE_DISK_MB={self.min_free_bytes // MB}"
            )
        if state.refusing == MAX_SIZE:
            return (
                f"today's files alone hold {(state.store_bytes or 0) // MB} MB, over "
                f"TELEMETRY_MAX_STORE_MB={(self.max_store_bytes or 0) // MB}"
            )
        return "the store may write"

    def inspect(self, store: Any) -> GuardState:
        """What the guard would decide now, without purging anything (for ``stats``)."""
        state = GuardState(free_bytes=free_bytes(store.base_dir))
        if self.min_free_bytes and state.free_bytes is not None and state.free_bytes < self.min_free_bytes:
            state.refusing = DISK_LOW
        files = dated_sizes(store)
        state.store_bytes = sum(size for _, _, size in files)
        today = dt.datetime.now(dt.UTC).date()
        today_bytes = sum(size for day, _, size in files if day >= today)
        if self.max_store_bytes is not None and today_bytes > self.max_store_bytes:
            state.refusing = state.refusing or MAX_SIZE
        return state

    def _over_cap(self, store: Any) -> bool:
        """Purge the oldest days while over the cap; True if still over with only today's left."""
        cap = self.max_store_bytes or 0
        files = dated_sizes(store)
        total = sum(size for _, _, size in files)
        today = dt.datetime.now(dt.UTC).date()
        purged = []
        while total > cap and files and files[0][0] < today:
            day = files[0][0]
            for _, path, size in [row for row in files if row[0] == day]:
                if store.remove(path.parent.name, path, "TELEMETRY_MAX_STORE_MB") or not path.exists():
                    total -= size
                    purged.append(path)
            files = [row for row in files if row[0] != day]
        if purged:
            self.state.purged_files += len(purged)
            _logger.info(
                "otel-distro: the store was over TELEMETRY_MAX_STORE_MB=%d; purged %d file(s), oldest first",
                cap // MB,
                len(purged),
            )
        self.state.store_bytes = total
        return total > cap

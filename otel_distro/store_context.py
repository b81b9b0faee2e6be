"""What the CLI and ``serve`` read a store with: the settings in force, the store, its state.

Both answer the same questions (``stats --json`` and ``/api/v1/stats`` print one document), so
they share this module rather than ``serve`` importing the CLI's internals.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from exporters.store.files import JsonlStore
from otel_distro import settings as settings_module
from otel_distro.runtime.state_file import StateFile
from otel_distro.runtime.urls import shown_url


class StoreContext:
    """The settings in force and the store they name, with readers able to open sealed lines."""

    def __init__(self, base_dir: Path | None) -> None:
        self.resolution = settings_module.resolve()
        self.settings = self.resolution.settings
        self.base_dir = base_dir or self.settings.store_dir
        from otel_distro.store_key import install_readers

        install_readers(self.settings, self.base_dir)  # every reader opens sealed lines

    @property
    def sealed(self) -> bool:
        """The store is (or was) encrypted: read the files, not the side index (which would keep
        what the lines hold in plain text, and cannot open them)."""
        from otel_distro.store_key import marker

        return self.settings.store_encryption or marker(self.base_dir) is not None

    def disk_guard(self) -> dict[str, Any]:
        from exporters.store.guard import MB, DiskGuard

        settings = self.settings
        cap = settings.max_store_mb * MB if settings.max_store_mb is not None else None
        guard = DiskGuard(settings.min_free_disk_mb * MB, cap)
        return guard.inspect(self.store()).as_dict(guard.min_free_bytes, cap)

    def store(self) -> JsonlStore:
        return JsonlStore(self.base_dir, self.settings.retention_days, self.settings.retention)

    def conversation_log(self) -> dict[str, Any] | None:
        """The conversation-log exporter's state, if it is configured or has left a cache."""
        from exporters.conversation_log import (
            POSITION_FILE,
            SPOOL_DIR,
            SPOOL_POSITION_FILE,
            STATE_FILE,
            SenderState,
        )
        from exporters.conversation_records import stored_snapshots
        from exporters.spill_upgrade import legacy_segments
        from exporters.store.follow import StoreTail

        directory = self.settings.cache_path or self.base_dir / "cache" / "conversation_log"
        if not self.settings.endpoint and not directory.is_dir():
            return None
        from otel_distro.components import TRACES

        # its own spool (when the store keeps no traces, or once did not): what waits is all of it
        # past the spool's position
        spool_traces = directory / SPOOL_DIR / "traces"
        spool = StoreTail(spool_traces, directory / SPOOL_POSITION_FILE, 0, stored_snapshots)
        records, size = spool.pending()
        for path in legacy_segments(directory):  # an older version's cache, moved at the next start
            with contextlib.suppress(OSError):
                data = path.read_bytes()
                records, size = records + data.count(b"\n"), size + len(data)
        # it follows the store where the store keeps traces (as the pipeline builds it), or
        # where it once did: then what waits is the store past its position (from the start of
        # each file where it never acknowledged anything yet, an endpoint refusing everything)
        configured = bool(self.settings.endpoint) and TRACES.wants_store(self.settings)
        follows_store = configured or (directory / POSITION_FILE).exists()
        if follows_store:  # the exporter follows the store: what waits is the store past its position
            tail = StoreTail(self.base_dir / "traces", directory / POSITION_FILE, 0, stored_snapshots)
            spans, waiting = tail.pending()
            records, size = records + spans, size + waiting
        # what the exporter recorded, of the shape it writes (a hand-edited or damaged file: none)
        saved = StateFile(directory / STATE_FILE).read()
        state = {key: value for key, value in saved.items() if _of_its_kind(SenderState.DEFAULTS, key, value)}
        return {
            "endpoint": shown_url(self.settings.endpoint) if self.settings.endpoint else None,
            "cache": str(directory),
            "follows_store": follows_store,
            "cached_spans": records,
            "cached_bytes": size,
            **state,
        }


def _of_its_kind(defaults: dict[str, Any], key: str, value: Any) -> bool:
    """A saved value of a known key, of the kind its default says (a counter an int, else text)."""
    if key not in defaults:
        return False
    if isinstance(defaults[key], int):
        return isinstance(value, int) and not isinstance(value, bool)
    return value is None or isinstance(value, str)


def stats_json(
    obj: StoreContext,
    result: Any,
    conversation_log: dict[str, Any] | None,
    dropped: dict[str, int] | None = None,
) -> dict[str, Any]:
    """What `stats --json` prints (and `serve` answers on /api/v1/stats)."""
    dropped = dropped_counts(obj.base_dir) if dropped is None else dropped
    return {
        "store": str(obj.base_dir),
        **result.as_dict(),
        "dropped": dropped,
        "dropped_total": sum(dropped.values()),
        "conversation_log": conversation_log,
        "disk_guard": obj.disk_guard(),
        "encrypted": obj.sealed,
    }


def dropped_counts(base_dir: Path) -> dict[str, int]:
    """Every record dropped in this store, by reason, all processes added up, since it was made
    (the conversation log's refusals too: each process adds its own to the store's drops)."""
    from otel_distro.drop_ledger import read_drops

    return dict(sorted(read_drops(base_dir).items()))

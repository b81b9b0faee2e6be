"""The drop ledger: every drop counter of a running pipeline, added up per store in ``drops.json``.

Each component counts what it drops, by reason, in memory (a counter bump on the thread that
drops). The ledger adds what was counted since it last looked to ``<store>/drops.json``, a
:class:`StateFile` (locked, replaced atomically, 0600), so the processes sharing a store add up
rather than overwrite each other. It looks every :data:`PERSIST_SECONDS` on a thread of its own,
at each flush and at shutdown; never on the app's path. ``otel-distro stats`` shows the file by
reason, and a process that dropped anything says so in one warning at exit.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from exporters.store.files import JsonlStore
from otel_distro.runtime.errors import caught
from otel_distro.runtime.state_file import StateFile
from otel_distro.runtime.worker import Worker, run_bounded

_logger = logging.getLogger("otel_distro")

DROPS_FILE = "drops.json"
DROPS_KEY = "dropped"
PERSIST_SECONDS = 30.0
EXIT_PERSIST_SECONDS = 1.0  # the last record of drops at exit waits no longer than this
# What each reason means, for `otel-distro stats`; a reason not listed is shown by its name.
REASONS = {
    "store_queue_full": "the store writer was behind (its queue was full)",
    "store_shut_down": "ended after the store was shut down",
    "store_purged_unsent": "purged (retention, size cap) before the upload or the conversation log sent them",
    "store_lost": "taken by the store's writer but never written (it failed, or ran out of time at exit)",
    "store_write_failed": "could not be written or encoded (disk full, no permission, odd values)",
    "store_disk_low": "not written while the store's disk was under TELEMETRY_MIN_FREE_DISK_MB free",
    "store_max_size": "not written while today's files alone were over TELEMETRY_MAX_STORE_MB",
    "store_no_key": "not written: the store is encrypted and no key could be had",
    "chain_queue_full": "the redaction worker was behind (its queue was full)",
    "chain_processor_failed": "a privacy processor failed on them (dropped, never sent unredacted)",
    "chain_delivery_failed": "an exporter's processor failed to take them",
    "chain_lost_at_exit": "still waiting for redaction when the exit deadline ended",
    "chain_shut_down": "ended after the pipeline was shut down",
    "exporter_failed": "an exporter named in OTEL_*_EXPORTER failed to export them (refused, unreachable)",
    "log_bridge_failed": "log records the bridge could not read (a bad %-format, a __str__ that raises)",
    "conversation_log_queue_full": "the conversation-log writer was behind",
    "conversation_log_shut_down": "ended after the conversation log was shut down",
    "conversation_log_lost": "taken by the conversation log's spool writer but never written",
    "conversation_log_unencodable": "could not be kept for the conversation log (older versions)",
    "conversation_log_cache_unwritable": (
        "the conversation log's spool could not take them (disk full, no store key, odd values)"
    ),
    "conversation_log_refused": "records refused by the conversation-log endpoint",
    "conversation_log_too_large": "records too large for the conversation-log endpoint",
    "conversation_log_cache_full": (
        "spans skipped, oldest first, by the conversation log's bound on what waits"
        " (TELEMETRY_MAX_CACHE_SIZE_MB; following the store: the store's spans it skipped, GenAI or not)"
    ),
    "conversation_log_unmappable": "spans that could not be mapped to conversation-log records (odd values)",
    "conversation_log_unreadable": (
        "stored lines (of spans) the conversation log could not read: cut by a killed writer, or sealed"
        " with a key it does not have"
    ),
    "langfuse_queue_full": "the Langfuse sender was behind",
    "langfuse_shut_down": "ended after the Langfuse exporter was shut down",
    "langfuse_invalid": "had no valid trace or span id, or values the Langfuse mapping could not read",
    "langfuse_failed": "Langfuse did not accept them in time",
    "langfuse_refused": "Langfuse refused them (a span too large even alone, or a bad body)",
    "helicone_queue_full": "the Helicone exporter's queue was full",
    "helicone_shut_down": "arrived after the Helicone exporter stopped",
    "helicone_invalid": "had no valid trace or span id, or values the Helicone mapping could not read",
    "helicone_failed": "Helicone did not accept them in time",
    "helicone_refused": "Helicone refused them (key or body)",
    "phoenix_queue_full": "the Phoenix exporter's queue was full",
    "phoenix_shut_down": "arrived after the Phoenix exporter stopped",
    "phoenix_invalid": "had no valid trace or span id, or values the Phoenix mapping could not read",
    "phoenix_failed": "Phoenix did not accept them in time",
    "phoenix_refused": "Phoenix refused them (key or body)",
    "exporter_queue_full": "the queue of an exporter named in OTEL_*_EXPORTER was full",
    "exporter_shut_down": "ended after an exporter named in OTEL_*_EXPORTER was shut down",
    "exporter_lost": (
        "an exporter named in OTEL_*_EXPORTER had not sent them when the process left (its endpoint "
        "did not answer within the exit's second; the store has them)"
    ),
    "plugin_queue_full": "an exporter plugin's queue was full",
    "plugin_failed": "an exporter plugin's processor failed to take them",
    "plugin_lost": "an exporter plugin had not sent them when the process left",
    "upload_malformed": "store records the upload could not read as OTLP/JSON (left out, not sent)",
    "upload_refused": "refused by the upload endpoint (not sent again)",
    "upload_too_large": "too large for the upload endpoint (not sent again)",
}
_STORE_TOTAL = "_store_dropped"  # every record the store dropped, whatever the reason


def drops_file(store_dir: Path) -> StateFile:
    return StateFile(Path(store_dir) / DROPS_FILE)


def read_drops(store_dir: Path) -> dict[str, int]:
    """The drops recorded for a store, by reason (every process that used it, added up)."""
    table = drops_file(store_dir).read().get(DROPS_KEY, {})
    if not isinstance(table, dict):
        return {}
    # (a hand-edited or damaged file: only positive counts are counts; a bool is no count either)
    return {str(k): v for k, v in sorted(table.items()) if type(v) is int and v > 0}


@runtime_checkable
class DropCounter(Protocol):
    """A component that counts what it drops: its counters by reason, cumulative since it was made."""

    def drop_counts(self) -> Mapping[str, int]: ...


def counts_of(source: DropCounter | JsonlStore) -> dict[str, int]:
    """One component's drop counters, by reason (cumulative since it was made)."""
    if isinstance(source, JsonlStore):  # every record it dropped (split by _split_store)
        stats = source.stats
        return {
            _STORE_TOTAL: stats.records_dropped,
            "store_purged_unsent": stats.purged_unsent,
            **stats.refused,
        }
    return dict(source.drop_counts())


def _split_store(totals: Counter[str]) -> dict[str, int]:
    """The store counts every drop, queue refusals included: what the queues did not refuse
    failed to be written. (The store is read before the queues, so this never overcounts.)"""
    store_total = totals.pop(_STORE_TOTAL, 0)
    refused = totals["store_queue_full"] + totals["store_shut_down"]
    totals["store_write_failed"] = max(0, store_total - refused)
    return {reason: count for reason, count in totals.items() if count}


class DropLedger:
    """Adds the pipeline's drops to the store's ``drops.json`` (see the module docstring).

    ``sources()`` lists the live components (the store first); one that leaves the list (a
    part rebuilt on reload) has its last counts kept, so nothing it counted is lost.
    """

    def __init__(
        self,
        path: Path,
        sources: Callable[[], Sequence[DropCounter | JsonlStore]],
        interval: float = PERSIST_SECONDS,
    ) -> None:
        self.file = StateFile(path)
        self._sources = sources
        self.interval = interval
        self._known: dict[int, DropCounter | JsonlStore] = {}
        self._retired: Counter[str] = Counter()
        self._closed = False
        # from zero: what the components counted before the ledger existed (a purge at start-up
        # of files not yet sent) is this process's to record; a forked child starts from its
        # parent's counts instead (_reset)
        self._lock = threading.Lock()
        self._reported: dict[str, int] = {}
        self._start: dict[str, int] = {}
        # persists every interval on the one worker block (none once closed, in a fork too)
        self._worker = Worker(
            "drop-ledger", self.persist, lambda: 0.0 if self._closed else self.interval, in_child=self._reset
        )

    def _reset(self) -> None:
        """In a forked child: count from what the components hold now (the parent's counts are
        the parent's to record)."""
        self._lock = threading.Lock()
        try:
            self._reported = self._start = self._totals()
        except Exception as exc:  # noqa: BLE001 - never raise into the app (or a fork)
            caught("starting the drop ledger", exc)  # a bug of ours: raised under the test suite
            _logger.debug("otel-distro: drop ledger: %r", exc)

    def _totals(self) -> dict[str, int]:
        live = {id(source): source for source in self._sources()}
        for key in set(self._known) - set(live):
            self._retired.update(counts_of(self._known.pop(key)))
        self._known.update(live)
        totals = Counter(self._retired)
        for source in self._known.values():
            totals.update(counts_of(source))
        return _split_store(totals)

    def totals(self) -> dict[str, int]:
        """What this process dropped since it started recording, by reason."""
        with self._lock:
            current = self._totals()
        return {k: n - self._start.get(k, 0) for k, n in sorted(current.items()) if n > self._start.get(k, 0)}

    def persist(self) -> bool:
        """Add what was dropped since the last call to the file; never raises. False if it failed."""
        try:
            with self._lock:
                current = self._totals()
                delta = {k: n - self._reported.get(k, 0) for k, n in current.items()}
                delta = {k: n for k, n in delta.items() if n > 0}
                if delta:
                    self.file.add(delta, DROPS_KEY)
                    self._reported = {**self._reported, **{k: current[k] for k in delta}}
            return True
        except Exception as exc:  # noqa: BLE001 - the ledger must never disturb the app
            caught("recording drops", exc)  # a bug of ours: raised under the test suite
            _logger.debug("otel-distro: cannot record drops in %s: %r", self.file.path, exc)
            return False

    def _persist_at_exit(self) -> None:
        """One more :meth:`persist`, within :data:`EXIT_PERSIST_SECONDS` (never holding up the exit)."""
        run_bounded([self.persist], EXIT_PERSIST_SECONDS, "otel-distro-drops-at-exit")

    def close(self) -> None:
        """Stop the thread, record the last drops, and say in one warning what this process dropped."""
        if not self._closed:
            # what is dropped after this (spans that end after shutdown, say) is recorded at exit
            atexit.register(self._persist_at_exit)
        self._closed = True
        self._worker.stop(timeout=0)  # not waited for: a persist it is running takes the same lock
        recorded = self.persist()
        dropped = self.totals()
        if dropped:
            _logger.warning(  # by reason, not summed: reasons count spans, log records or requests' records
                "otel-distro: this process dropped telemetry (%s)%s",
                ", ".join(f"{reason}: {count}" for reason, count in dropped.items()),
                "; `otel-distro stats` shows them" if recorded else "",
            )


def describe(drops: Mapping[str, int]) -> list[tuple[str, int, str]]:
    """(reason, count, what it means) for display, largest first."""
    return [
        (reason, count, REASONS.get(reason, reason))
        for reason, count in sorted(drops.items(), key=lambda item: (-item[1], item[0]))
    ]

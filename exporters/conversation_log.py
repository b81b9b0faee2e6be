"""The conversation-log exporter: GenAI spans become records that reach a training endpoint, without loss.

Where the JSONL store keeps traces (the default), the store is the exporter's disk: a sender
thread follows the store's trace files (:mod:`exporters.store.follow`), maps the spans appended
since the last acknowledgement to ``conversation_log`` and ``execution_trace`` records
(:mod:`exporters.conversation_records`) and POSTs them, at most ``batch_size`` records a
request, through :class:`HttpDelivery`, recording how far it got after each acknowledgement.
The application pays nothing per span, and a dead endpoint costs it nothing at all.

Without the store, the spans the exporter can use (already redacted) are written as they end
to a spool of its own: a JSONL store of the same format under the exporter's directory,
written by the store's own writer (:class:`JsonlSpanProcessor`) and followed the same way. A
spool file is deleted once every line of it was acknowledged, so it holds only what waits.

Either way, what the endpoint does not take stays on disk and is retried with backoff, by this
process or the next; records sent before a failure in the same batch may be sent again
(receivers drop the repeats by ``log_id``). At shutdown the sender drains for a bounded time and
leaves the rest on disk.

Body of each POST (JSON, gzip)::

    {"records": [{"type": "conversation_log", "log_id": ..., ...}, ...],
     "sent_at": "<ISO 8601>", "source": {"distro": "otel-distro", "version": ...}}
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from exporters.conversation_records import carries_messages, records, stored_snapshots
from exporters.http_delivery import (
    EXIT_SECONDS,
    Backoff,
    HttpDelivery,
    Outcome,
    Result,
    SplitOutcome,
    post_split,
    refusal_reason,
)
from exporters.store import sealed
from exporters.store.export import JsonlSpanExporter, JsonlSpanProcessor
from exporters.store.follow import StoreSegment, StoreTail
from exporters.store.spool import SIGNAL, Spool
from otel_distro.runtime.errors import caught
from otel_distro.runtime.forking import after_fork_in_child
from otel_distro.runtime.say_once import SayOnce
from otel_distro.runtime.state_file import StateFile
from otel_distro.runtime.worker import Worker
from otel_distro.runtime.write_queue import WriteQueue

_logger = logging.getLogger(f"otel_distro.{__name__}")

STATE_FILE = "state.json"
POSITION_FILE = "store_position.json"  # how far the store was sent, when the store is the source
SPOOL_DIR = "spool"  # the exporter's own store, when the user's keeps no traces
SPOOL_POSITION_FILE = "spool_position.json"  # how far the spool was sent
QUEUE_SIZE = 4096  # spans waiting for the spool's writer: a bound (and the store's bound in bytes)
WRITE_BATCH = 512  # the writer is woken when this many wait
WRITE_SECONDS = 1.0  # and at least this often, so a killed process loses at most about this much
DRAIN_SECONDS = 5.0
CONTENT_TYPE = "application/json"
_REFUSAL_COUNTERS = {"refused": "rejected_records", "too_large": "too_large_records"}
# the state file's counters of records let go, and the drop reasons they are counted under
DROP_REASONS = {
    "rejected_records": "conversation_log_refused",
    "too_large_records": "conversation_log_too_large",
    "dropped_overflow": "conversation_log_cache_full",
    "unmappable_records": "conversation_log_unmappable",
    "corrupt_lines": "conversation_log_unreadable",
}
_COUNTERS = frozenset(
    {
        "delivered_records",
        "rejected_records",
        "too_large_records",
        "dropped_overflow",
        "corrupt_lines",
        "unmappable_records",
    }
)


class SenderState:
    """What ``otel-distro stats`` shows: last success, last error, and what was dropped (a
    :class:`StateFile` shared by the processes that send from one store)."""

    DEFAULTS: dict[str, Any] = {
        "last_success": None,
        "last_error": None,
        "last_error_at": None,
        "delivered_records": 0,
        "rejected_records": 0,
        "too_large_records": 0,
        "dropped_overflow": 0,
        "unmappable_records": 0,
        "corrupt_lines": 0,
    }

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = StateFile(path)
        self.values: dict[str, Any] = {**self.DEFAULTS, **self.file.read()}
        self._unsaved: dict[str, Any] = {}  # what could not be written yet (a full disk): added later
        self._lock = threading.Lock()
        after_fork_in_child(self._after_fork)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()
        self._unsaved = {}  # the parent's to write

    def update(self, **values: Any) -> None:
        """Add counters and set the rest, under the file's lock (what other processes wrote counts).
        Where the file cannot be written, the change waits in memory for the next update."""
        with self._lock:
            for key, value in values.items():
                if key in _COUNTERS:
                    self._unsaved[key] = int(self._unsaved.get(key) or 0) + int(value)
                else:
                    self._unsaved[key] = value
            pending = dict(self._unsaved)

            def change(current: dict[str, Any]) -> dict[str, Any]:
                merged = {**self.DEFAULTS, **current}
                for key, value in pending.items():
                    if key in _COUNTERS:
                        merged[key] = int(merged.get(key) or 0) + int(value)
                    else:
                        merged[key] = value
                return merged

            try:
                self.values = self.file.update(change)
            except OSError as exc:
                _logger.debug("otel-distro: cannot write %s: %r", self.path, exc)
                return
            self._unsaved = {}


def _whole_lines(counts: list[int], finished: int) -> tuple[int, int]:
    """Of lines giving ``counts`` records each, how many lead the chunk with every record among
    the first ``finished``, and how many records those are."""
    lines = records = 0
    for count in counts:
        if records + count > finished:
            break
        lines, records = lines + 1, records + count
    return lines, records


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class ConversationLogExporter(SpanExporter):
    """Maps spans to records, keeps them on disk, and sends them from its own thread."""

    def __init__(
        self,
        endpoint: str,
        cache_dir: Path,
        *,
        batch_size: int = 100,
        flush_interval: float = 60.0,
        max_cache_bytes: int = 100 * 1024 * 1024,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
        selection: str = "genai",
        source: Callable[[], dict[str, str]] | None = None,
        backoff: Backoff | None = None,
        store_traces: Path | None = None,
        sealer: sealed.Sealer | None = None,
        former_store_traces: Path | None = None,
    ) -> None:
        """``store_traces``: the JSONL store's traces directory, followed; then no span needs
        handing to :meth:`export`, and ``max_cache_bytes`` bounds the backlog. Without it, spans
        handed to :meth:`export` (or written by a :class:`ConversationLogProcessor`) go to the
        exporter's :attr:`spool`, bounded by ``max_cache_bytes`` and sealed with ``sealer`` as the
        store would be. ``source()``: what each request says of its sender (read at each
        request: the privacy settings in force then have scrubbed it).

        What waits from the other way of keeping spans is sent first: a spool left from a time
        the store kept no traces, or (``former_store_traces``: the store's traces directory
        when it keeps none now) what the store holds past the position reached while it was
        followed."""
        self.directory = cache_dir
        self.spool: Spool | None = None
        spool_traces = cache_dir / SPOOL_DIR / SIGNAL
        spool_tail = StoreTail(spool_traces, cache_dir / SPOOL_POSITION_FILE, None, stored_snapshots)
        store_position = cache_dir / POSITION_FILE
        earlier: list[StoreTail] = []
        if store_traces is None:
            self.spool = Spool(cache_dir / SPOOL_DIR, max_cache_bytes, spool_tail.state_path, sealer=sealer)
            self.cache = spool_tail
            if former_store_traces is not None and store_position.exists():
                earlier.append(
                    StoreTail(former_store_traces, store_position, max_cache_bytes, stored_snapshots)
                )
        else:
            self.cache = StoreTail(store_traces, store_position, max_cache_bytes, stored_snapshots)
            if spool_traces.is_dir():
                earlier.append(spool_tail)
        self.tails = [*earlier, self.cache]  # drained in this order
        self._spool_tail = spool_tail if spool_tail in self.tails else None
        self.batch_size = max(1, batch_size)
        self.delivery = HttpDelivery(endpoint, headers, timeout)
        self.flush_interval = flush_interval
        self.selection = selection
        self.source = source or dict
        self.state = SenderState(cache_dir / STATE_FILE)
        self.backoff = backoff or Backoff()
        self._retry_at = 0.0
        self._say = SayOnce(_logger)  # each kind of failure (an Outcome)
        self._send_lock = threading.Lock()
        self._overflow_reported = 0
        self._refused: dict[str, int] = {}  # records let go in this process, by state counter
        self._counts_lock = threading.Lock()
        # the sender; a forked child gets its own (its segments are its own too)
        self._sender = Worker(
            "conversation-log",
            self._send_ready,
            self.flush_interval,
            first=self._upgrade,
            in_child=self._reset_lock,
        )

    def _reset_lock(self) -> None:
        self._send_lock = threading.Lock()
        self._counts_lock = threading.Lock()

    # -- taking spans (the batch processor's thread) -----------------------------------------
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Write spans to the spool (the store is the source: it has them already)."""
        if self.spool is None:
            return SpanExportResult.SUCCESS
        return JsonlSpanExporter(self.spool).export(spans)

    # -- sending (own thread) -----------------------------------------------------------------
    def _upgrade(self) -> None:
        """Move into the spool what an older version's spill cache left in this directory."""
        if self.spool is None:
            return
        from exporters.spill_upgrade import move_legacy_segments

        _, corrupt = move_legacy_segments(self.directory, self.spool)
        if corrupt:
            self._count_unreadable(corrupt)

    def _send_ready(self) -> None:
        self._drain(deadline=time.monotonic() + max(self.flush_interval, DRAIN_SECONDS))
        self._remove_sent()
        self._report_overflow()

    def _remove_sent(self) -> None:
        """Delete the spool's segments that were sent whole (the user's store is never touched)."""
        if self._spool_tail is None:
            return
        try:
            _, torn = self._spool_tail.remove_sent()
        except OSError as exc:  # its lock cannot be had: they go the next time
            _logger.debug("otel-distro: cannot delete the spool's sent files: %r", exc)
            return
        if torn:
            self._count_unreadable(torn)

    def _report_overflow(self) -> None:
        # the backlog's bound following the store, the spool's bound
        dropped = sum(tail.dropped_overflow for tail in self.tails)
        dropped += self.spool.dropped_overflow if self.spool else 0
        if dropped != self._overflow_reported:
            self.state.update(dropped_overflow=dropped - self._overflow_reported)
            self._let_go({"dropped_overflow": dropped - self._overflow_reported})
            self._overflow_reported = dropped

    def _let_go(self, by_counter: dict[str, int]) -> None:
        with self._counts_lock:
            for counter, count in by_counter.items():
                self._refused[counter] = self._refused.get(counter, 0) + count

    def drop_counts(self) -> dict[str, int]:
        """Records this process let go after the endpoint refused them, a bound (the backlog's,
        the spool's) pushed them out, or they could not be read or mapped, by reason (see
        :mod:`otel_distro.drop_ledger`)."""
        with self._counts_lock:
            return {reason: self._refused.get(counter, 0) for counter, reason in DROP_REASONS.items()}

    def _drain(self, deadline: float) -> bool:
        """Send ready segments until none is left (True), a failure asks to wait, or the deadline."""
        if not self._send_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            return False
        try:
            return all(self._drain_tail(tail, deadline) for tail in self.tails)
        finally:
            self._send_lock.release()

    def _drain_tail(self, tail: StoreTail, deadline: float) -> bool:
        while True:
            now = time.monotonic()
            if now < self._retry_at or now >= deadline or self._sender.yielding:
                return False
            try:
                segment = tail.claim()
            except OSError as exc:  # its directory unusable (a file in its place, no permission)
                self._say("claim", "otel-distro: the conversation log cannot read what waits (%r)", exc)
                return False
            if segment is None:
                return True
            self._send(tail, segment, deadline)

    def _records(self, view: dict[str, Any]) -> list[bytes]:
        """The records of one span read from the store (or the spool)."""
        try:
            return [
                orjson.dumps({"type": kind, **record}, default=str)
                for kind, record in records(view, self.selection)
            ]
        except Exception as exc:  # noqa: BLE001 - one odd snapshot must not cost the others
            caught("mapping a cached span", exc)  # a bug of ours: raised under tests
            self.state.update(unmappable_records=1)  # let go: counted, never silently
            self._let_go({"unmappable_records": 1})
            self._say(
                "unmappable",
                "otel-distro: a span could not be mapped to conversation-log records (%r); it is "
                "dropped and counted in `otel-distro stats` (further ones are only counted)",
                exc,
            )
            return []

    def _chunks(self, segment: StoreSegment) -> Iterator[tuple[int, list[bytes], list[int]]]:
        """The segment's records in requests of at most ``batch_size``, never splitting a span's
        records, each with the number of the segment's lines it finishes and how many records
        each of its lines gave. Lazily: when the endpoint refuses the first request, the rest
        of the segment is not mapped."""
        current: list[bytes] = []
        counts: list[int] = []
        for index, line in enumerate(segment.lines):
            found = self._records(line)
            if current and len(current) + len(found) > self.batch_size:
                yield index, current, counts
                current, counts = [], []
            current += found
            counts.append(len(found))
        yield len(segment.lines), current, counts

    def _send(self, tail: StoreTail, segment: StoreSegment, deadline: float) -> None:
        """Post the segment's records in chunks; what was acknowledged is let go, the rest kept."""
        if segment.corrupt:
            self._count_unreadable(segment.corrupt)
        sent_lines = 0
        for lines_done, chunk, counts in self._chunks(segment):
            if self._sender.yielding:  # the process is leaving: what is acknowledged stays let go,
                tail.keep(segment, segment.lines[sent_lines:])  # the rest goes to the shutdown
                return
            if chunk:
                split = post_split(len(chunk), functools.partial(self._post_range, chunk, deadline))
                if split.failure is not None:
                    # the lines whose every record was finished (a half delivered before a
                    # split's other half failed) are let go; the rest is read again later, and
                    # what it had refused is counted then
                    lines, records = _whole_lines(counts, split.stopped_at)
                    self._count_refused(split, below=records)
                    tail.keep(segment, segment.lines[sent_lines + lines :])  # what was taken stays taken
                    self._back_off(split.failure)
                    return
                self._count_refused(split)
            sent_lines = lines_done
        tail.done(segment)

    def _count_unreadable(self, lines: int) -> None:
        """Lines of the store or spool that could not be read: not sent, counted and said."""
        self.state.update(corrupt_lines=lines)
        self._let_go({"corrupt_lines": lines})
        self._say(
            "unreadable",
            "otel-distro: %d stored lines could not be read for the conversation log (cut by a killed "
            "writer, or sealed with a key this process does not have); they are not sent (counted in "
            "`otel-distro stats`)",
            lines,
        )

    def _count_refused(self, split: SplitOutcome, below: int | None = None) -> None:
        """Count, by reason, the records the endpoint refused for good (they are let go now);
        ``below``: only those before this record (the rest is sent again)."""
        by_reason: dict[str, int] = {}
        for start, whole_end, result in split.refused:
            end = whole_end if below is None else min(whole_end, below)
            if end <= start:
                continue
            counter = _REFUSAL_COUNTERS[refusal_reason(result)]
            by_reason[counter] = by_reason.get(counter, 0) + end - start
            self._warn(result, f"dropped {end - start} records the endpoint refused")
        if by_reason:
            last = split.refused[-1][2]
            self.state.update(last_error=last.kept_error, last_error_at=_now(), **by_reason)
            self._let_go(by_reason)

    def _post_range(self, chunk: list[bytes], deadline: float, start: int, end: int) -> Result:
        return self._post(chunk[start:end], deadline)

    def _post(self, chunk: list[bytes], deadline: float) -> Result:
        body = b'{"records":[' + b",".join(chunk) + b'],"sent_at":'
        body += orjson.dumps(_now()) + b',"source":' + orjson.dumps(self.source()) + b"}"
        timeout = min(self.delivery.timeout, max(0.1, deadline - time.monotonic()))
        result = self.delivery.post(body, CONTENT_TYPE, timeout=timeout)
        if result.outcome is Outcome.DELIVERED:
            self.backoff.reset()
            self._retry_at = 0.0
            self.state.update(last_success=_now(), delivered_records=len(chunk))
        return result

    def _back_off(self, result: Result) -> None:
        delay = self.backoff.delay(result)
        self._retry_at = time.monotonic() + delay
        self.state.update(last_error=result.kept_error, last_error_at=_now())
        kept = "kept on disk"
        if result.outcome is Outcome.AUTH:
            kept += "; check the endpoint's credentials"
        self._warn(result, f"{kept}, retrying in {delay:.0f} s")

    def _warn(self, result: Result, what: str) -> None:
        self._say(
            result.outcome,
            "otel-distro: conversation-log endpoint %s: %s; %s (further such failures are counted "
            "in `otel-distro stats`)",
            self.delivery.shown_url,
            result.error or result.outcome.value,
            what,
        )

    # -- lifecycle ----------------------------------------------------------------------------
    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Send what is on disk now; False if some is left (it stays on disk; a backoff is honoured)."""
        drained = self._drain(deadline=time.monotonic() + timeout_millis / 1000)
        self._remove_sent()
        return drained

    def shutdown(self) -> None:
        """Send what is left for a bounded time; an endpoint that does not answer gets one short try
        (:data:`EXIT_SECONDS` in all), and what it did not take stays on disk for the next process."""
        self.delivery.begin_exit()
        stopped = self._sender.stop(EXIT_SECONDS)
        try:
            if stopped:  # else the sender is stuck on the endpoint: leave
                self._retry_at = 0.0  # one last try, whatever the backoff said
                self._drain(deadline=time.monotonic() + DRAIN_SECONDS)
            self._remove_sent()
        except Exception as exc:  # noqa: BLE001 - shutdown must finish; the rest stays on disk
            caught("draining the conversation log at exit", exc)  # a bug of ours: raised under the test suite
            _logger.debug("otel-distro: conversation-log drain at exit: %r", exc)
        finally:
            self._report_overflow()
            if stopped:  # else the sender is mid-request on it: closed under it, the request would
                self.delivery.close()  # fail and be recorded as an error; it ends with the process


class ConversationLogProcessor(SpanProcessor):
    """Writes the spans the exporter can use to its spool, when the store keeps no traces.

    The spool's writer is the store's (:class:`JsonlSpanProcessor`: encoded as the span ends,
    a queue bounded in spans and bytes, one append for all that waits, at least every
    :data:`WRITE_SECONDS`); the app pays a lookup for the other spans. What the writer could not
    keep is counted under the conversation log's reasons, not the store's.
    """

    def __init__(self, exporter: ConversationLogExporter, flush_interval: float) -> None:
        assert exporter.spool is not None, "an exporter that follows the store needs no processor"
        self.exporter = exporter
        self.spool = exporter.spool
        self._all = exporter.selection == "all"
        delay_millis = int(min(flush_interval, WRITE_SECONDS) * 1000)
        self._writer = JsonlSpanProcessor(
            self.spool, QUEUE_SIZE, delay_millis, WRITE_BATCH, label="conversation-log spool"
        )

    def on_end(self, span: ReadableSpan) -> None:
        if self._all or carries_messages(span):
            self._writer.on_end(span)

    @property
    def queue(self) -> WriteQueue[Any]:
        """Its queue (for the distro's own metrics: size and capacity)."""
        return self._writer.queue

    def drop_counts(self) -> dict[str, int]:
        """Spans it could not keep, by reason (see :mod:`otel_distro.drop_ledger`)."""
        refused = self._writer.queue.drop_counts()
        stats = self.spool.stats
        # the spool counts every span it did not write, the queue's refusals included
        unwritten = stats.records_dropped + sum(stats.refused.values())
        return {
            "conversation_log_queue_full": refused["queue_full"],
            "conversation_log_shut_down": refused["shut_down"],
            "conversation_log_lost": refused["lost"],
            "conversation_log_cache_unwritable": max(
                0, unwritten - refused["queue_full"] - refused["shut_down"]
            ),
            **self.exporter.drop_counts(),
        }

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        flushed = self._writer.force_flush(timeout_millis)
        return self.exporter.force_flush(timeout_millis) and flushed

    def shutdown(self) -> None:
        self._writer.shutdown()
        self.exporter.shutdown()


class StoreFollowerProcessor(SpanProcessor):
    """Stands behind the store's processor for an exporter that follows the store (``store_traces``).

    It takes no span (the exporter reads them from the store's files); it is there so that a
    flush or a shutdown reaches the exporter after the store has written what it had.
    """

    def __init__(self, exporter: ConversationLogExporter) -> None:
        self.exporter = exporter

    def on_end(self, span: ReadableSpan) -> None:
        return None

    def drop_counts(self) -> dict[str, int]:
        return self.exporter.drop_counts()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.exporter.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self.exporter.shutdown()

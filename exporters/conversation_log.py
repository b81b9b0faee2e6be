"""The conversation-log exporter: GenAI spans become records that reach a training endpoint, without loss.

Where the JSONL store keeps traces (the default), the store is the exporter's disk: a sender
thread follows the store's trace files (:mod:`exporters.store.follow`), maps the spans appended
since the last acknowledgement to ``conversation_log`` and ``execution_trace`` records
(:mod:`exporters.conversation_records`) and POSTs them, at most ``batch_size`` records a
request, through :class:`HttpDelivery`, recording how far it got after each acknowledgement.
The application pays nothing per span, and a dead endpoint costs it nothing at all.

Without the store, spans (already redacted) are written, as compact snapshots taken as they
end, to a spill cache of the exporter's own (:mod:`exporters.spill_cache`): a segment is
sealed every flush interval (or when it holds a batch), sent the same way, and deleted once
every request was acknowledged.

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
from typing import Any, Protocol

import orjson
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from exporters.conversation_records import carries_messages, records, snapshot, stored_snapshots
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
from exporters.spill_cache import Segment, SpillCache, SpillError
from exporters.store.follow import StoreSegment, StoreTail
from otel_distro.runtime.errors import caught
from otel_distro.runtime.say_once import SayOnce
from otel_distro.runtime.state_file import StateFile
from otel_distro.runtime.worker import Worker
from otel_distro.runtime.write_queue import WriteQueue

_logger = logging.getLogger(f"otel_distro.{__name__}")

STATE_FILE = "state.json"
POSITION_FILE = "store_position.json"  # how far the store was sent, when the store is the source
QUEUE_SIZE = 4096  # snapshots (~1 KB of bytes each) waiting for the cache writer: a bound
QUEUE_BYTES = 64 << 20  # and a bound in bytes (a few huge snapshots), as the store's queue has
WRITE_BATCH = 512  # the writer is woken when this many wait
WRITE_SECONDS = 1.0  # and at least this often, so a killed process loses at most about this much
DRAIN_SECONDS = 5.0
SEGMENT_SPANS = 1000  # spans a cache segment holds before it is sealed (sent in batch_size chunks)
CONTENT_TYPE = "application/json"
_REFUSAL_COUNTERS = {"refused": "rejected_records", "too_large": "too_large_records"}
# the state file's counters of records let go, and the drop reasons they are counted under
DROP_REASONS = {
    "rejected_records": "conversation_log_refused",
    "too_large_records": "conversation_log_too_large",
    "dropped_overflow": "conversation_log_cache_full",
    "unmappable_records": "conversation_log_unmappable",
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


class _Source(Protocol):
    """Where the sender finds spans not yet acknowledged: a spill cache, or the store itself."""

    dropped_overflow: int

    def claim(self) -> Any: ...
    def keep(self, segment: Any, remaining: list[Any]) -> None: ...
    def done(self, segment: Any) -> None: ...
    def seal(self) -> None: ...
    def recover(self) -> int: ...
    def close(self) -> None: ...


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
    }

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = StateFile(path)
        self.values: dict[str, Any] = {**self.DEFAULTS, **self.file.read()}

    def update(self, **values: Any) -> None:
        """Add counters and set the rest, under the file's lock (what other processes wrote counts)."""

        def change(current: dict[str, Any]) -> dict[str, Any]:
            merged = {**self.DEFAULTS, **current}
            for key, value in values.items():
                if key in _COUNTERS:
                    merged[key] = int(merged.get(key) or 0) + int(value)
                else:
                    merged[key] = value
            return merged

        try:
            self.values = self.file.update(change)
        except OSError as exc:
            _logger.debug("otel-distro: cannot write %s: %r", self.path, exc)


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
    ) -> None:
        """``store_traces``: the JSONL store's traces directory, followed instead of a cache of
        its own (:class:`StoreTail`); then no span needs handing to :meth:`export`. ``source()``:
        what each request says of its sender (read at each request: the privacy settings in
        force then have scrubbed it)."""
        self.cache: _Source
        if store_traces is not None:
            self.cache = StoreTail(store_traces, cache_dir / POSITION_FILE, max_cache_bytes, stored_snapshots)
        else:
            self.cache = SpillCache(cache_dir, max_cache_bytes, max(batch_size, SEGMENT_SPANS))
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
            first=self._recover,
            in_child=self._reset_lock,
        )

    def _reset_lock(self) -> None:
        self._send_lock = threading.Lock()
        self._counts_lock = threading.Lock()

    # -- taking spans (the batch processor's thread) -----------------------------------------
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if not isinstance(self.cache, SpillCache):  # the store is the source: it has these spans
            return SpanExportResult.SUCCESS
        lines = []
        for span in spans:
            try:
                lines.append(orjson.dumps(snapshot(span), default=str))
            except Exception as exc:  # noqa: BLE001 - one odd span must not cost the others
                caught("keeping a span for the conversation log", exc)  # a bug of ours: raised under tests
                _logger.warning("otel-distro: a span could not be kept for the conversation log: %r", exc)
        try:
            self.cache.append(lines)
        except OSError as exc:
            _logger.warning("otel-distro: the conversation-log cache cannot be written (%r)", exc)
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    # -- sending (own thread) -----------------------------------------------------------------
    def _recover(self) -> None:
        try:
            self.cache.recover()  # what killed processes left behind
        except OSError as exc:
            _logger.debug("otel-distro: cache recovery: %r", exc)

    def _send_ready(self) -> None:
        self.cache.seal()
        self.cache.recover()
        self._drain(deadline=time.monotonic() + max(self.flush_interval, DRAIN_SECONDS))
        self._report_overflow()

    def _report_overflow(self) -> None:
        dropped = self.cache.dropped_overflow
        if dropped != self._overflow_reported:
            self.state.update(dropped_overflow=dropped - self._overflow_reported)
            self._let_go({"dropped_overflow": dropped - self._overflow_reported})
            self._overflow_reported = dropped

    def _let_go(self, by_counter: dict[str, int]) -> None:
        with self._counts_lock:
            for counter, count in by_counter.items():
                self._refused[counter] = self._refused.get(counter, 0) + count

    def drop_counts(self) -> dict[str, int]:
        """Records this process let go after the endpoint refused them or the cache's bound
        pushed them out, by reason (see :mod:`otel_distro.drop_ledger`)."""
        with self._counts_lock:
            return {reason: self._refused.get(counter, 0) for counter, reason in DROP_REASONS.items()}

    def _drain(self, deadline: float) -> bool:
        """Send ready segments until none is left (True), a failure asks to wait, or the deadline."""
        if not self._send_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            return False
        try:
            while True:
                now = time.monotonic()
                if now < self._retry_at or now >= deadline or self._sender.yielding:
                    return False
                segment = self.cache.claim()
                if segment is None:
                    return True
                self._send(segment, deadline)
        finally:
            self._send_lock.release()

    def _records(self, item: bytes | dict[str, Any]) -> list[bytes]:
        """The records of one cached snapshot line, or of one span read from the store."""
        try:
            view = orjson.loads(item) if isinstance(item, bytes) else item
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

    def _chunks(self, segment: Any) -> Iterator[tuple[int, list[bytes]]]:
        """The segment's records in requests of at most ``batch_size``, never splitting a span's
        records, each with the number of the segment's lines it finishes. Lazily: when the
        endpoint refuses the first request, the rest of the segment is not mapped."""
        current: list[bytes] = []
        for index, line in enumerate(segment.lines):
            found = self._records(line)
            if current and len(current) + len(found) > self.batch_size:
                yield index, current
                current = []
            current += found
        yield len(segment.lines), current

    def _send(self, segment: Segment | StoreSegment, deadline: float) -> None:
        """Post the segment's records in chunks; what was acknowledged is let go, the rest kept."""
        if segment.corrupt:
            self.state.update(corrupt_lines=segment.corrupt)
        sent_lines = 0
        for lines_done, chunk in self._chunks(segment):
            if self._sender.yielding:  # the process is leaving: what is acknowledged stays let go,
                self.cache.keep(segment, segment.lines[sent_lines:])  # the rest goes to the shutdown
                return
            if chunk:
                split = post_split(len(chunk), functools.partial(self._post_range, chunk, deadline))
                if split.failure is not None:
                    # The chunk's lines are read again later: what it had refused is counted then.
                    self.cache.keep(segment, segment.lines[sent_lines:])  # what was taken stays taken
                    self._back_off(split.failure)
                    return
                self._count_refused(split)
            sent_lines = lines_done
        self.cache.done(segment)

    def _count_refused(self, split: SplitOutcome) -> None:
        """Count, by reason, the records the endpoint refused for good (they are let go now)."""
        by_reason: dict[str, int] = {}
        for start, end, result in split.refused:
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
        self.cache.seal()
        return self._drain(deadline=time.monotonic() + timeout_millis / 1000)

    def shutdown(self) -> None:
        """Send what is left for a bounded time; an endpoint that does not answer gets one short try
        (:data:`EXIT_SECONDS` in all), and what it did not take stays on disk for the next process."""
        self.delivery.begin_exit()
        stopped = self._sender.stop(EXIT_SECONDS)
        try:
            self.cache.seal()
            self.cache.recover()
            if stopped:  # else the sender is stuck on the endpoint: leave
                self._retry_at = 0.0  # one last try, whatever the backoff said
                self._drain(deadline=time.monotonic() + DRAIN_SECONDS)
        except Exception as exc:  # noqa: BLE001 - shutdown must finish; the rest stays on disk
            caught("draining the conversation log at exit", exc)  # a bug of ours: raised under the test suite
            _logger.debug("otel-distro: conversation-log drain at exit: %r", exc)
        finally:
            self.cache.close()
            self._report_overflow()
            if stopped:  # else the sender is mid-request on it: closed under it, the request would
                self.delivery.close()  # fail and be recorded as an error; it ends with the process


class ConversationLogProcessor(SpanProcessor):
    """Takes a snapshot of each span the exporter can use, as the span ends, and has a writer
    thread put the snapshots in the cache; the app pays a lookup for the other spans.

    The snapshot is taken on the app thread on purpose: a few microseconds of Python there
    cost the app less than the same work on a background thread, which competes for the GIL.
    The writer (a :class:`~otel_distro.runtime.write_queue.WriteQueue`, bounded in spans and bytes) only
    joins bytes and writes them.
    """

    def __init__(self, exporter: ConversationLogExporter, flush_interval: float) -> None:
        self.exporter = exporter
        self._all = exporter.selection == "all"
        self._failed = 0
        self._unwritten = 0  # spans the cache could not take (disk full, say)
        self._queue: WriteQueue[bytes] = WriteQueue(
            self._write,
            len,
            max_items=QUEUE_SIZE,
            max_bytes=QUEUE_BYTES,
            batch_size=WRITE_BATCH,
            delay_seconds=min(flush_interval, WRITE_SECONDS),
            name="conversation-cache",
            coalesce=True,  # one append to the cache for all that waits
        )

    def on_end(self, span: ReadableSpan) -> None:
        if not (self._all or carries_messages(span)):
            return
        try:
            line = orjson.dumps(snapshot(span), default=str)
        except Exception as exc:  # noqa: BLE001 - an odd span must not reach the app
            caught("keeping a span for the conversation log", exc)  # a bug of ours: raised under tests
            self._failed += 1
            if self._failed == 1:
                _logger.warning("otel-distro: a span could not be kept for the conversation log: %r", exc)
            return
        if not self._queue.put(line, len(line)) and self._queue.refused_full == 1:
            _logger.warning(
                "otel-distro: the conversation-log writer is %d spans behind; spans are dropped "
                "until it catches up (counted)",
                self._queue.items,
            )

    @property
    def queue(self) -> WriteQueue[bytes]:
        """Its queue (for the distro's own metrics: size and capacity)."""
        return self._queue

    def drop_counts(self) -> dict[str, int]:
        """Spans it could not keep, by reason (see :mod:`otel_distro.drop_ledger`)."""
        refused = self._queue.drop_counts()
        return {
            "conversation_log_queue_full": refused["queue_full"],
            "conversation_log_shut_down": refused["shut_down"],
            "conversation_log_lost": refused["lost"],
            "conversation_log_unencodable": self._failed,
            "conversation_log_cache_unwritable": self._unwritten,
            **self.exporter.drop_counts(),
        }

    def _write(self, lines: list[bytes]) -> None:
        try:
            cache = self.exporter.cache
            if isinstance(cache, SpillCache):
                cache.append(lines)
        except OSError as exc:  # disk full, no permission: these spans are lost, and counted
            kept = exc.kept if isinstance(exc, SpillError) else 0
            self._unwritten += len(lines) - kept
            _logger.warning("otel-distro: the conversation-log cache cannot be written (%r)", exc)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        flushed = self._queue.flush(timeout_millis / 1000)
        return self.exporter.force_flush(timeout_millis) and flushed

    def shutdown(self) -> None:
        self._queue.close(1.0)
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

"""The processor chain: every record is transformed once, then fans out to every exporter.

A span's :class:`RecordProcessor` chain runs as the span ends, on the thread that ends it,
when the span is cheap enough (a text budget, and no processor asking for the worker, such as
presidio's free-text scan); otherwise, or when its text passes the budget midway, the span
goes to the chain's worker (a :class:`~otel_distro.runtime.write_queue.WriteQueue`, bounded
in records and in text, drained by one worker thread) and the chain runs there. Log records
always pass the chain on its worker. The result is handed to every exporter's own processor
(the store's write queue, a batch processor, an exporter's queue), so a slow or dead exporter
stalls neither the app nor the other exporters. Metric exporters are wrapped so each
collection passes the chain before it is exported. A processor that fails drops the record
(counted): nothing unprocessed leaks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk._logs import LogRecordProcessor, ReadableLogRecord, ReadWriteLogRecord
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData
from opentelemetry.sdk.trace import Event, ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import Status

from otel_distro import _sdk
from otel_distro.runtime.counts import Counts
from otel_distro.runtime.errors import caught, internal_error
from otel_distro.runtime.forking import after_fork_in_child
from otel_distro.runtime.say_once import SayOnce
from otel_distro.runtime.sizes import log_record_size
from otel_distro.runtime.worker import run_bounded
from otel_distro.runtime.write_queue import WriteQueue
from processors.base import RecordProcessor
from processors.inline_budget import (
    INLINE_TEXT_BUDGET,
    LIST_ITEM_CHARGE,
    LONG_TEXT,
    HandOff,
    paced,
    set_inline_budget,
)

_logger = logging.getLogger(f"otel_distro.{__name__}")

STAGE_QUEUE_SIZE = 8192
STAGE_BATCH_SIZE = 512
STAGE_DELAY_MILLIS = 200
STAGE_MAX_CHARS = 64 * 1024 * 1024  # text waiting for the worker, at most (as the store's queue)
FAIL_CLOSED_AFTER = 5.0  # seconds into shutdown: the worker leaves long texts out from then on
STAGE_SHUTDOWN_SECONDS = 8.0  # then what still waits is counted as lost (the pipeline allows 10)


class ChainStats(Counts):
    """Counts of records the chain dropped, by reason; the first failure of each kind is logged."""

    dropped_by_processor = 0
    failed = 0
    delivery_failures = 0
    queue_full = 0  # spans the worker's queue had no room for (count or bytes)
    fail_closed = 0  # spans finished at the exit deadline with their long texts left out
    lost_at_exit = 0  # records still waiting for the worker when the exit deadline ended
    after_shutdown = 0  # records that ended after the chain was shut down
    exporter_failed = 0  # metrics a named exporter failed to export (MetricsChainExporter)

    def __init__(self) -> None:
        super().__init__()
        self.warn_once = SayOnce(_logger)  # the first drop of each kind is said

    def drop_counts(self) -> dict[str, int]:
        """The drop counters, by reason."""
        return {
            "chain_processor_failed": self.failed,
            "chain_delivery_failed": self.delivery_failures,
            "chain_queue_full": self.queue_full,
            "chain_lost_at_exit": self.lost_at_exit,
            "chain_shut_down": self.after_shutdown,
            "exporter_failed": self.exporter_failed,
        }

    def lost(self, count: int) -> None:
        """Records still waiting for the worker when the exit deadline ended."""
        self.add(lost_at_exit=count)

    def shut_down(self) -> None:
        """A record that ended after the chain was shut down."""
        self.add(after_shutdown=1)

    def worker_behind(self, message: str, *args: object) -> None:
        """A record the chain's worker had no room for: counted, and said once."""
        self.add(queue_full=1)
        self.warn_once("queue", message, *args)

    def export_failed(self, name: str, count: int, why: object = "it failed") -> None:
        """Records an exporter failed to export: counted, and said once."""
        self.add(exporter_failed=count)
        self.warn_once(
            "exporter-failed",
            "otel-distro: exporter %s did not export %d records (%s); such records are dropped and "
            "counted in `otel-distro stats` (further failures are not logged)",
            name,
            count,
            why,
        )

    def failure(self, what: str, processor: RecordProcessor, exc: BaseException) -> None:
        self.add(failed=1)
        if self.warn_once.first("processor"):
            _logger.warning(
                "otel-distro: processor %s failed on a %s (%r); the record is dropped, not sent "
                "unprocessed (further failures are counted)",
                type(processor).__name__,
                what,
                exc,
            )

    def dropped(self) -> None:
        self.add(dropped_by_processor=1)

    def delivery_failure(self, target: object, exc: BaseException) -> None:
        self.add(delivery_failures=1)
        if self.warn_once.first("delivery"):
            _logger.warning(
                "otel-distro: %s failed to take a record (%r); the other exporters are unaffected "
                "(further failures are counted)",
                type(target).__name__,
                exc,
            )


_OUR_PACKAGES = frozenset({"processors", "exporters", "otel_distro", "instrumentations"})


def _ours(processor: object) -> bool:
    """A processor of this project's (not the user's, nor a plugin's)."""
    return type(processor).__module__.split(".", 1)[0] in _OUR_PACKAGES


def _run(
    processors: Sequence[RecordProcessor], record: Any, method: str, expected: type, stats: ChainStats
) -> Any:
    for processor in processors:
        try:
            record = getattr(processor, method)(record)
        except HandOff:
            raise
        except Exception as exc:  # noqa: BLE001 - fail closed
            if _ours(processor):  # a bug of ours: raised under the test suite
                internal_error(f"{type(processor).__name__}.{method}", exc)
            stats.failure(method.removeprefix("process_"), processor, exc)
            return None
        if record is None:
            stats.dropped()
            return None
        if not isinstance(record, expected):
            returned = TypeError(f"returned {type(record).__name__}, not {expected.__name__}")
            stats.failure(method.removeprefix("process_"), processor, returned)
            return None
    return record


def _deliver(targets: Sequence[Any], method: str, record: Any, stats: ChainStats) -> None:
    for target in targets:
        try:
            getattr(target, method)(record)
        except Exception as exc:  # noqa: BLE001 - one broken exporter must not starve the others
            caught("delivering a record to an exporter", exc)  # a bug of ours: raised under the test suite
            stats.delivery_failure(target, exc)


def _each(targets: Sequence[Any], method: str, *args: Any) -> bool:
    """Call ``method`` on every target even if one raises; True if all reported success."""
    ok = True
    for target in targets:
        try:
            ok = getattr(target, method)(*args) is not False and ok
        except Exception as exc:  # noqa: BLE001
            caught("calling an exporter", exc)  # a bug of ours: raised under the test suite
            _logger.warning("otel-distro: %s.%s failed: %r", type(target).__name__, method, exc)
            ok = False
    return ok


def _text_chars(attrs: Any) -> int:
    """Characters of text in an attribute map, each element of a list counted as at least
    :data:`LIST_ITEM_CHARGE` (a list of many short strings costs its length in scanning however
    short each one is)."""
    total = 0
    for value in attrs.values():
        if isinstance(value, str):
            total += len(value)
        elif isinstance(value, tuple | list):
            total += len(value) * LIST_ITEM_CHARGE
            for item in value:
                if isinstance(item, str):
                    total += len(item)
    return total


def span_text_chars(span: ReadableSpan) -> int:
    """What a span costs to scan, in characters: its names, status and string values, and
    :data:`LIST_ITEM_CHARGE` per list element, in one walk of its attributes and events'."""
    total = len(span.name) + len(span.status.description or "")
    attrs = _sdk.attributes(span)
    if attrs:
        total += _text_chars(attrs)
    # BoundedAttributes/BoundedList: their Python-level __iter__/__len__ lock and copy; read the
    # plain deque/dict inside (an ended span's are immutable).
    for event in _sdk.events(span):
        total += len(event.name)
        attrs = _sdk.attributes(event)
        if attrs:
            total += _text_chars(attrs)
    return total


def log_text_chars(record: Any) -> int:
    """What an API log record costs to hold and scan, in characters: its body, attributes and
    event name (the worker's queue of log records is bounded by this, as the spans' is)."""
    return log_record_size(record, LIST_ITEM_CHARGE)


_chars = itemgetter(1)  # a queued (record, characters of text) pair's size


class _Chain:
    """What spans and logs share: the processors, the targets behind them, their stats, and the
    worker (one :class:`WriteQueue` of ``(record, characters of text)`` pairs, bounded in both:
    records it has no room for are refused and counted)."""

    _work: Callable[[list[tuple[Any, int]]], object]  # the worker's step: a batch of queued records

    def __init__(
        self,
        processors: Sequence[RecordProcessor],
        downstream: Sequence[Any],
        max_queue_size: int,
        schedule_delay_millis: int,
        what: str,
    ) -> None:
        self.processors = tuple(processors)
        self.downstream = tuple(downstream)
        self.late: tuple[Any, ...] = ()
        self.stats = ChainStats()
        self.recording = True  # False: records arriving from now on are dropped (recording is off)
        self.closed = False  # shutting down: records for the worker are counted, not queued
        self.abandoned = False  # the exit deadline ended: what is still queued was counted as lost
        self._what = what
        self._lock = threading.Lock()
        # in a forked child the queue starts empty (the parent finishes what it had queued), so a
        # child forked while its parent's worker was behind does not find it full
        self._stage: WriteQueue[tuple[Any, int]] = WriteQueue(
            self._work_suppressed,
            _chars,
            max_items=max_queue_size,
            max_bytes=STAGE_MAX_CHARS,
            batch_size=STAGE_BATCH_SIZE,
            delay_seconds=schedule_delay_millis / 1000,
            name=f"chain-{what.replace(' ', '-')}",
        )
        after_fork_in_child(self._after_fork)

    def _after_fork(self) -> None:
        """In a forked child: new locks (another thread may have held one at the fork)."""
        self._lock = threading.Lock()

    def _work_suppressed(self, batch: list[tuple[Any, int]]) -> None:
        """The worker's step with instrumentation suppressed, as the SDK's batch worker runs
        exports: a processor (a plugin's, presidio's) that calls an instrumented library makes
        no span or log of its own, which would come back to the chain, and again."""
        with _sdk.suppressing_instrumentation():
            self._work(batch)

    @property
    def queued(self) -> int:
        """Records handed to the worker and not yet finished (the worker's queue)."""
        return self._stage.items

    @property
    def queued_chars(self) -> int:
        """Characters of text in the records the worker has not finished."""
        return self._stage.bytes

    @property
    def max_queue_size(self) -> int:
        return self._stage.max_items

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._stage.max_items = value

    @property
    def max_queue_chars(self) -> int:
        return self._stage.max_bytes

    @max_queue_chars.setter
    def max_queue_chars(self, value: int) -> None:
        self._stage.max_bytes = value

    def _queue(self, record: Any, chars: int) -> None:
        """Hand a record to the worker, within its bounds; else count it (and say so once)."""
        if self._stage.put((record, chars), chars):
            return
        if self._stage.closed:  # the worker has stopped taking records
            self.stats.shut_down()
            return
        self.stats.worker_behind(
            "otel-distro: the redaction worker is behind (%d %s, %d MB of text wait); they are "
            "dropped until it catches up (counted in `otel-distro stats`)",
            self.queued,
            self._what,
            self.queued_chars >> 20,
        )

    def close(self) -> None:
        """Stop the worker as shutdown does, and leave the processors behind the chain running
        (they are given back to a provider that goes on)."""
        self._close_stage()
        self.finished = True

    def _close_stage(self) -> None:
        """Refuse new records, let the worker finish what waits for at most
        :data:`STAGE_SHUTDOWN_SECONDS`, and count and warn about what still waits then as lost."""
        self.closed = True
        stage = self._stage
        finished = run_bounded(
            [lambda: stage.close(STAGE_SHUTDOWN_SECONDS)], STAGE_SHUTDOWN_SECONDS, "otel-distro-chain-exit"
        )
        if not finished:
            self.abandon()

    def abandon(self) -> None:
        """The process ends now (an exit deadline ended, or SIGTERM's flush did): what still waits
        for the worker is counted and warned about as lost, and the worker delivers none of it."""
        self.abandoned = True
        lost = self.queued  # what the worker has not finished: done records were given back
        self.stats.lost(lost)
        if lost:
            _logger.warning(
                "otel-distro: %d %s were still being redacted when the exit deadline ended; they are "
                "dropped (counted), none was written unredacted",
                lost,
                self._what,
            )

    def flush_stage(self, timeout_millis: float) -> bool:
        """Finish what the worker holds now (on this thread if the worker is not at it)."""
        return self._stage.flush(timeout_millis / 1000)

    def add_downstream(self, target: Any) -> None:
        """Put a processor added to the provider later (by a library, say) behind the chain."""
        with self._lock:
            self.downstream = (*self.downstream, target)
            self.late = (*self.late, target)

    def set_downstream(self, targets: Sequence[Any]) -> None:
        """Replace the targets behind the chain (those added later by libraries stay, last)."""
        with self._lock:
            self.downstream = (*targets, *self.late)

    def set_processors(self, processors: Sequence[RecordProcessor]) -> None:
        """Replace the processors; records already being processed finish with the old ones."""
        self.processors = tuple(processors)


class SpanChain(_Chain, SpanProcessor):
    """A span processor that runs the chain once per span and fans out to exporters' processors.

    ``run_inline(span)`` decides where: True runs the processors as the span ends, while it is
    hot in the CPU cache (cheap fast-path work: measured, this costs the app less than a
    hand-off, since a worker's CPU competes for the same GIL); False, or no ``run_inline``,
    hands the span to the chain's worker thread (heavy work, such as presidio on free text).
    Spans with very large texts go to the worker too: a processor that scans every text
    (``bounds_inline_text``) raises :class:`HandOff` on the way past
    :data:`INLINE_TEXT_BUDGET`; without one, the chain measures the span's text first.
    """

    def __init__(
        self,
        processors: Sequence[RecordProcessor],
        downstream: Sequence[SpanProcessor],
        max_queue_size: int = STAGE_QUEUE_SIZE,
        schedule_delay_millis: int = STAGE_DELAY_MILLIS,
        run_inline: Callable[[ReadableSpan], bool] | None = None,
    ) -> None:
        super().__init__(processors, downstream, max_queue_size, schedule_delay_millis, "spans")
        self.run_inline = run_inline
        self._measure = not any(p.bounds_inline_text for p in self.processors)
        self._starters = tuple(p for p in self.processors if p.notes_starts)
        self.fail_closed_at: float | None = None  # from then on, the worker takes the cheap path
        self.finished = False  # shut down, the exporters behind too: every span is counted

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        # Processors that note starts (few) see the live span; processors added to the provider
        # later get on_start, as on any provider, but receive the span ended only after the chain.
        for processor in self._starters:
            try:
                processor.note_start(span)
            except Exception as exc:  # noqa: BLE001 - a note is not worth the app's span
                internal_error(f"{type(processor).__name__}.note_start", exc)
        for target in self.late:
            try:
                target.on_start(span, parent_context=parent_context)
            except Exception as exc:  # noqa: BLE001
                caught("starting a span in a later processor", exc)  # a bug of ours: raised under tests
                self.stats.delivery_failure(target, exc)

    def set_processors(
        self,
        processors: Sequence[RecordProcessor],
        run_inline: Callable[[ReadableSpan], bool] | None = None,
    ) -> None:
        self.run_inline = run_inline
        self._measure = not any(p.bounds_inline_text for p in processors)
        self._starters = tuple(p for p in processors if p.notes_starts)
        self.processors = tuple(processors)

    def on_end(self, span: ReadableSpan) -> None:
        if not self.recording:
            return
        if self.late and not span.context.trace_flags.sampled:
            # Recorded but not sampled: no exporter takes it and the batch stage drops it, but a
            # processor that saw on_start is owed on_end (processed here: this is rare).
            result = _run(self.processors, span, "process_span", ReadableSpan, self.stats)
            if result is not None:
                _deliver(self.late, "on_end", result, self.stats)
            return
        if not span.context.trace_flags.sampled:
            # Recorded but not sampled: no exporter takes it (the SDK's processors skip it too), so
            # it is not processed, nor queued for the worker, where it would hold a place for good
            # (the worker's batch stage let it go without a word)
            return
        if self.finished:  # shut down: neither the worker nor the exporters behind take spans
            self.stats.shut_down()
            return
        if not self.processors or self.run_inline is not None:
            try:
                inline = (
                    (self.run_inline is None or self.run_inline(span))
                    # a processor that scans every text charges the budget itself, list items too
                    and (not self._measure or span_text_chars(span) <= INLINE_TEXT_BUDGET)
                )
            except Exception as exc:  # noqa: BLE001 - when unsure, the worker takes it
                caught("choosing where a span is processed", exc)  # a bug of ours: raised under tests
                inline = False
            if inline:
                set_inline_budget(INLINE_TEXT_BUDGET)
                try:
                    result = _run(self.processors, span, "process_span", ReadableSpan, self.stats)
                except HandOff:  # too much text to finish here: the worker starts over
                    self._hand_off(span)
                    return
                finally:
                    set_inline_budget(None)
                if result is not None:
                    _deliver(self.downstream, "on_end", result, self.stats)
                return
        self._hand_off(span)

    def _hand_off(self, span: ReadableSpan) -> None:
        """Queue the span for the worker, within the bounds in spans and in text; else count it."""
        try:
            chars = span_text_chars(span)
        except Exception as exc:  # noqa: BLE001 - an odd span is sized as large
            caught("sizing a span's text", exc)  # a bug of ours: raised under tests
            chars = self.max_queue_chars
        self._queue(span, chars)

    def _work(self, batch: list[tuple[Any, int]]) -> None:
        """The worker's step: each queued span through the processors, then to every exporter
        (past the fail-closed time, with its long texts left out first)."""
        finished = self._stage.finished
        with paced():  # the worker's scans pause now and then: the app's threads get the GIL
            for queued, chars in batch:
                if self.abandoned:  # counted as lost at the exit deadline already
                    return
                span = queued
                if self.fail_closed_at is not None and time.monotonic() >= self.fail_closed_at:
                    span = without_long_texts(queued)  # the cheap, fail-closed path
                    if span is not queued:
                        self.stats.add(fail_closed=1)
                result = _run(self.processors, span, "process_span", ReadableSpan, self.stats)
                if result is not None and not self.abandoned:  # else counted as lost already
                    _deliver(self.downstream, "on_end", result, self.stats)
                finished(1, chars)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        flushed = self.flush_stage(timeout_millis)
        return _each(self.downstream, "force_flush", timeout_millis) and flushed

    def shutdown(self) -> None:
        """Let the worker finish what waits; past :data:`FAIL_CLOSED_AFTER` seconds it leaves long
        texts out (placeholders, never unredacted text), and what is still waiting at
        :data:`STAGE_SHUTDOWN_SECONDS` is counted and warned about as lost."""
        self.fail_closed_at = time.monotonic() + FAIL_CLOSED_AFTER
        self._close_stage()  # meanwhile spans processed as they end still reach the exporters
        if self.stats.fail_closed:
            _logger.warning(
                "otel-distro: at exit, %d spans were finished with their long texts left out "
                "(placeholders with their length) to meet the exit deadline",
                self.stats.fail_closed,
            )
        self.finished = True  # from now on a span would reach exporters already stopping: counted
        _each(self.downstream, "shutdown")


def _placeholder(text: str) -> str:
    return f"[otel-distro: {len(text)} characters left out: not redacted by the exit deadline]"


def _cut(value: Any) -> Any:
    if isinstance(value, str):
        return _placeholder(value) if len(value) > LONG_TEXT else value
    if isinstance(value, tuple | list):
        if sum(len(item) for item in value if isinstance(item, str)) > LONG_TEXT * 4 or len(value) > 1024:
            return (_placeholder(" " * sum(len(str(item)) for item in value)),)
        items = tuple(_cut(item) for item in value)
        return value if all(new is old for new, old in zip(items, value, strict=True)) else items
    return value


def without_long_texts(span: ReadableSpan) -> ReadableSpan:
    """The span with each long text (and long list) replaced wholesale by a labelled placeholder
    giving its length; the rest kept, for the processors to finish cheaply."""
    original = _sdk.attributes(span)
    attributes = {key: _cut(value) for key, value in original.items()}
    cut = any(attributes[key] is not value for key, value in original.items())
    events = []
    for event in span.events:
        event_attributes = dict(event.attributes or {})
        new = {key: _cut(value) for key, value in event_attributes.items()}
        changed = any(new[key] is not value for key, value in event_attributes.items())
        cut = cut or changed
        events.append(Event(event.name, new, event.timestamp) if changed else event)
    status = span.status
    if status.description and len(status.description) > LONG_TEXT:
        status = Status(status.status_code, _placeholder(status.description))
        cut = True
    name = _cut(span.name)
    if not cut and name is span.name:
        return span  # nothing long: the processors finish it as it is
    return _sdk.copy_span(span, name=name, attributes=attributes, events=events, status=status)


def readable_log(record: ReadWriteLogRecord) -> ReadableLogRecord:
    """A log record as the worker keeps it, as the SDK's batch processor does: frozen, and with a
    copy of the API record without its context (a large context is not held while it waits)."""
    return _sdk.copy_log_record(record, context=Context())


class LogChain(_Chain, LogRecordProcessor):
    """A log record processor that runs the chain off the app thread and fans out to exporters'."""

    def __init__(
        self,
        processors: Sequence[RecordProcessor],
        downstream: Sequence[LogRecordProcessor],
        max_queue_size: int = STAGE_QUEUE_SIZE,
        schedule_delay_millis: int = STAGE_DELAY_MILLIS,
    ) -> None:
        super().__init__(processors, downstream, max_queue_size, schedule_delay_millis, "log records")

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        if not self.recording:
            return
        if not self.processors:
            _deliver(self.downstream, "on_emit", log_record, self.stats)
            return
        try:
            chars = log_text_chars(log_record.log_record)
        except Exception as exc:  # noqa: BLE001 - an odd record is sized as large
            caught("sizing a log record's text", exc)  # a bug of ours: raised under tests
            chars = self.max_queue_chars
        try:
            readable = readable_log(log_record)
        except Exception as exc:  # noqa: BLE001 - an odd record: counted, never passed on unprocessed
            caught("queueing a log record", exc)  # a bug of ours: raised under tests
            self.stats.delivery_failure(self, exc)
            return
        self._queue(readable, chars)

    def _work(self, batch: list[tuple[Any, int]]) -> None:
        """The worker's step: each queued record through the processors, then to every exporter."""
        finished = self._stage.finished
        with paced():
            for record, chars in batch:
                if self.abandoned:  # counted as lost at the exit deadline already
                    return
                try:
                    self._work_one(record)
                finally:
                    finished(1, chars)

    def _work_one(self, record: ReadableLogRecord) -> None:
        result = _run(self.processors, record, "process_log", ReadableLogRecord, self.stats)
        if result is None or self.abandoned:  # abandoned: counted as lost at the deadline already
            return
        try:
            writable = ReadWriteLogRecord(
                result.log_record,
                resource=result.resource,
                instrumentation_scope=result.instrumentation_scope,
                **({"limits": result.limits} if result.limits is not None else {}),
            )
        except Exception as exc:  # noqa: BLE001
            caught("delivering a log record", exc)  # a bug of ours: raised under the test suite
            self.stats.delivery_failure(result, exc)
            return
        _deliver(self.downstream, "on_emit", writable, self.stats)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        flushed = self.flush_stage(timeout_millis)
        return _each(self.downstream, "force_flush", timeout_millis) and flushed

    def shutdown(self) -> None:
        """Let the worker finish what waits, for at most :data:`STAGE_SHUTDOWN_SECONDS`; what is
        still waiting then is counted and warned about as lost."""
        self._close_stage()
        _each(self.downstream, "shutdown")


class MetricsChainExporter(MetricExporter):
    """Wraps a metric exporter so every collection passes the chain first."""

    def __init__(
        self, processors: Sequence[RecordProcessor], exporter: MetricExporter, count_failures: bool = False
    ) -> None:
        """``count_failures``: an export the exporter fails counts its metrics as dropped
        (``exporter_failed``; for exporters that count nothing themselves)."""
        super().__init__(
            preferred_temporality=_sdk.preferences(exporter)[0],
            preferred_aggregation=_sdk.preferences(exporter)[1],
        )
        self.processors = tuple(processors)
        self.exporter = exporter
        self.stats = ChainStats()
        self.recording = True  # False: collections are dropped (recording, or this exporter, is off)
        self.count_failures = count_failures

    def set_processors(self, processors: Sequence[RecordProcessor]) -> None:
        self.processors = tuple(processors)

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        if not self.recording:
            return MetricExportResult.SUCCESS
        data = _run(self.processors, metrics_data, "process_metrics", MetricsData, self.stats)
        if data is None:
            return MetricExportResult.FAILURE
        try:
            result = self.exporter.export(data, timeout_millis=timeout_millis, **kwargs)
        except Exception as exc:  # noqa: BLE001 - an exporter's failure costs only its metrics
            caught("exporting metrics", exc)  # a bug of ours: raised under the test suite
            result = MetricExportResult.FAILURE
        if result is not MetricExportResult.SUCCESS and self.count_failures:
            lost = sum(
                len(scope.metrics) for resource in data.resource_metrics for scope in resource.scope_metrics
            )
            self.stats.export_failed(type(self.exporter).__name__, lost)
        return result

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self.exporter.force_flush(timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self.exporter.shutdown(timeout_millis=timeout_millis, **kwargs)

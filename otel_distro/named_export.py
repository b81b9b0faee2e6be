"""The queue in front of each exporter named in ``OTEL_*_EXPORTER`` (``otlp``, ``console``, …) and
each plugin exporter, on our one batch block (:class:`WriteQueue`) instead of the SDK's batch
processors: every record it cannot export is counted by reason (the queue full, the export
failed, still queued or being exported when the process left), and an exit costs an endpoint
that does not answer at most about a second (``EXIT_SECONDS``), while one that answers may
send what waits (up to ``DRAIN_SECONDS``): what was not acknowledged then is counted as lost
(the store has it)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk._logs import LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otel_distro._sdk import suppressing_instrumentation
from otel_distro.runtime.counts import Counts
from otel_distro.runtime.errors import caught
from otel_distro.runtime.say_once import SayOnce
from otel_distro.runtime.worker import run_bounded, run_later
from otel_distro.runtime.write_queue import WriteQueue

_logger = logging.getLogger(__name__)  # otel_distro.named_export

EXIT_SECONDS = 1.0  # at exit, what an exporter that does not answer may cost
DRAIN_SECONDS = 10.0  # at exit, how long one that answers may take to send what waits
QUEUE_SIZE = 2048  # the SDK's batch processors' defaults
BATCH_SIZE = 512
DELAY_SECONDS = 5.0


class ExportStats(Counts):
    """What one named exporter could not export (its queue counts what it never handed over)."""

    exporter_failed = 0  # export returned failure or raised (refused, unreachable)
    exporter_lost = 0  # being exported when the exit gave up on the endpoint


class _QueuedExport:
    """The queue, the counted export and the bounded exit, shared by spans and log records."""

    def __init__(self, exporter: Any, success: object) -> None:
        self.inner = exporter
        self._success = success
        self.stats = ExportStats()
        self._say = SayOnce(_logger)
        self._exporting = 0  # records handed to the exporter and not yet answered for
        self._gave_up = False  # the exit gave up on them (counted lost): a late answer is not counted
        self._lock = threading.Lock()
        self._queue: WriteQueue[Any] = WriteQueue.of_records(
            self._export,
            max_items=QUEUE_SIZE,
            batch_size=BATCH_SIZE,
            delay_seconds=DELAY_SECONDS,
            name=f"export-{type(exporter).__name__}",
        )

    @property
    def queue(self) -> WriteQueue[Any]:
        return self._queue

    def _take(self, record: Any) -> None:
        if not self._queue.put(record, 1) and not self._queue.closed:
            self._say(
                "full",
                "otel-distro: the exporter %s is %d records behind; records are dropped until it "
                "catches up (counted)",
                type(self.inner).__name__,
                self._queue.max_items,
            )

    def _export(self, records: Sequence[Any]) -> None:
        with self._lock:
            self._exporting = len(records)
        try:
            with suppressing_instrumentation():  # its requests and their logs are not recorded
                result = self.inner.export(records)
        except Exception as exc:  # noqa: BLE001 - an exporter's failure costs only its records
            caught("exporting through a named exporter", exc)
            result = exc
        with self._lock:
            self._exporting = 0
            if self._gave_up:  # counted as lost at the exit
                return
        if result is not self._success:
            self.stats.add(exporter_failed=len(records))
            self._say(
                "failed",
                "otel-distro: exporter %s did not export %d records (%r); such records are dropped "
                "and counted in `otel-distro stats` (further failures are not logged)",
                type(self.inner).__name__,
                len(records),
                result,
            )

    def drop_counts(self) -> dict[str, int]:
        queued = self._queue.drop_counts()
        return {
            "exporter_failed": self.stats.exporter_failed,
            "exporter_queue_full": queued["queue_full"],
            "exporter_shut_down": queued["shut_down"],
            "exporter_lost": self.stats.exporter_lost + queued["lost"],
        }

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        flushed = self._queue.flush(timeout_millis / 1000)
        return self.inner.force_flush(timeout_millis) is not False and flushed  # the SDK's base: None

    def shutdown(self) -> None:
        """Export what is queued while the endpoint keeps answering (a batch at least every
        EXIT_SECONDS, DRAIN_SECONDS in all), count the rest, stop the exporter."""
        run_later(0.0, self._queue.flush, "export-drain")  # no thread (interpreter ending): none sent
        deadline = time.monotonic() + DRAIN_SECONDS
        left, moved = self._queue.items, time.monotonic()
        while self._queue.items and time.monotonic() < deadline:
            time.sleep(0.02)
            if self._queue.items < left:  # a batch went: the endpoint answers
                left, moved = self._queue.items, time.monotonic()
            elif time.monotonic() - moved >= EXIT_SECONDS:  # no answer within the exit's second
                break
        self._queue.close(0.05)  # what is still queued is counted lost (the store has it)
        with self._lock:
            if self._exporting:  # an export still waiting for its endpoint: given up on
                self._gave_up = True
                self.stats.add(exporter_lost=self._exporting)
        # an exporter's shutdown may wait on its export (gRPC's does): not waited for long
        run_bounded([self._stop_exporter], EXIT_SECONDS / 4, name="otel-distro-export-shutdown")

    def _stop_exporter(self) -> None:
        try:
            with suppressing_instrumentation():
                self.inner.shutdown()
        except Exception as exc:  # noqa: BLE001 - a failing shutdown costs nothing more
            caught("shutting a named exporter down", exc)


class QueuedSpanExport(_QueuedExport, SpanProcessor):
    """A span exporter behind the queue (see the module docstring)."""

    def __init__(self, exporter: SpanExporter) -> None:
        super().__init__(exporter, SpanExportResult.SUCCESS)

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        self._take(span)


class QueuedLogExport(_QueuedExport, LogRecordProcessor):
    """A log record exporter behind the queue (see the module docstring)."""

    def __init__(self, exporter: LogRecordExporter) -> None:
        super().__init__(exporter, LogRecordExportResult.SUCCESS)

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        self._take(log_record)

    emit = on_emit  # the SDK before 1.39 calls emit

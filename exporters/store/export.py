"""Span, metric and log exporters writing OTLP/JSON lines into a :class:`JsonlStore`.

One export call becomes one line (one ``TracesData``/``MetricsData``/``LogsData``).
A record that cannot be encoded is dropped and counted, never raised; the rest
of its batch is still written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from opentelemetry.context import Context
from opentelemetry.sdk._logs import LogRecordProcessor, ReadableLogRecord, ReadWriteLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from exporters import otlp_json
from exporters.store.files import JsonlStore
from otel_distro._sdk import copy_log_record, suppressing_instrumentation
from otel_distro.runtime.errors import caught
from otel_distro.runtime.sizes import log_record_size
from otel_distro.runtime.write_queue import WriteQueue

_logger = logging.getLogger(f"otel_distro.{__name__}")
_T = TypeVar("_T")


MAX_LINE_BYTES = 8 * 1024 * 1024  # a batch of huge spans becomes several lines, not one giant one
MAX_INFLIGHT_BYTES = 64 * 1024 * 1024  # encoded spans waiting for the writer, at most
DEFAULT_QUEUE_SIZE = 2048
DEFAULT_BATCH_SIZE = 512
DEFAULT_DELAY_MILLIS = 5000


def _encode_lines(
    store: JsonlStore, items: Sequence[_T], encode: Callable[[Sequence[_T]], bytes]
) -> tuple[list[bytes], int]:
    """One line for the batch; if that fails (a value too deep or odd to encode), one line per
    item. With the number of items the lines hold (those that failed are counted as dropped here).

    ``encode`` returns a whole line, newline included.
    """
    try:
        return [encode(items)], len(items)
    except Exception:  # noqa: BLE001 - odd values must not lose the rest of the batch
        lines = []
        for item in items:
            try:
                lines.append(encode([item]))
            except Exception as exc:  # noqa: BLE001 - dropped and counted, never raised
                caught("encoding a record for the store", exc)  # a bug of ours: raised under tests
                store.drop(1, f"cannot encode a record as OTLP/JSON: {exc!r}")
        return lines, len(lines)


class _StoreQueue(Generic[_T]):
    """What the store's span and log processors share: a write queue bounded in items and in
    bytes (:data:`MAX_INFLIGHT_BYTES`) that a writer thread drains into the store, refusals
    counted by the store (and by reason here), flush and close. A subclass names what it
    queues (``what``), how big an item is and how a batch is written."""

    what = "record"
    coalesce = False  # True: everything waiting goes to one write

    def __init__(
        self,
        store: JsonlStore,
        max_queue_size: int | None = None,
        schedule_delay_millis: int | None = None,
        max_export_batch_size: int | None = None,
        label: str = "store",
    ) -> None:
        """``label``: what the warnings and the writer thread call the store."""
        self.store = store
        self.label = label
        self._queue: WriteQueue[_T] = WriteQueue(
            self._write,
            self._item_size,
            max_items=max_queue_size or DEFAULT_QUEUE_SIZE,
            max_bytes=MAX_INFLIGHT_BYTES,
            batch_size=max_export_batch_size or DEFAULT_BATCH_SIZE,
            delay_seconds=(schedule_delay_millis or DEFAULT_DELAY_MILLIS) / 1000,
            name=f"{label.replace(' ', '-')}-{self.what.replace(' ', '-')}-writer",
            coalesce=self.coalesce,
        )

    def _item_size(self, item: _T) -> int:
        raise NotImplementedError

    def _write_items(self, batch: list[_T]) -> None:
        raise NotImplementedError

    def _put(self, item: _T, size: int) -> None:
        if not self._queue.put(item, size):
            closed = self._queue.closed
            label = self.label
            reason = f"the {label} is shut down" if closed else f"the {label} writer is behind (queue full)"
            self.store.drop(1, f"{reason}; {self.what} dropped")

    def _write(self, batch: list[_T]) -> None:
        with suppressing_instrumentation():  # writing must not make spans
            self._write_items(batch)

    @property
    def queue(self) -> WriteQueue[_T]:
        """Its queue (for the distro's own metrics: size and capacity)."""
        return self._queue

    def drop_counts(self) -> dict[str, int]:
        """Records its queue refused, by reason (the store counts them too; these say why)."""
        return {f"store_{reason}": count for reason, count in self._queue.drop_counts().items()}

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._queue.flush(timeout_millis / 1000)

    def shutdown(self) -> None:
        self._queue.close()


class JsonlSpanProcessor(_StoreQueue[otlp_json.EncodedSpan], SpanProcessor):
    """The store's span processor: encodes each span as it ends, then batches and writes on its own thread.

    Encoding happens on the thread that ends the span here; behind the processor chain, that
    is the app's only for spans of modest text (the chain's worker takes the huge ones).

    Encoding right away, while the span is hot in the CPU cache, and queueing bytes instead of
    span objects (which the cyclic GC would keep scanning) costs the process far less than
    encoding whole batches later; a slow disk still stalls only this processor's queue, whose
    memory is bounded by :data:`MAX_INFLIGHT_BYTES` as well as by count.
    """

    what = "span"
    coalesce = True  # one append for all that waits: a writer behind catches up at once

    def _item_size(self, item: otlp_json.EncodedSpan) -> int:
        return len(item.json)

    def _write_items(self, batch: list[otlp_json.EncodedSpan]) -> None:
        JsonlSpanExporter(self.store).export(batch)

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        context = span.context
        if context is None or not context.trace_flags.sampled:  # recorded, not sampled: never exported
            return
        try:
            item = otlp_json.EncodedSpan(span)
            size = len(item.json)
        except Exception as exc:  # noqa: BLE001 - runs on the app thread: never raise into it
            caught("encoding a span for the store", exc)  # a bug of ours: raised under tests
            self.store.drop(1, f"cannot encode a span as OTLP/JSON: {exc!r}")
            return
        self._put(item, size)


_LOG_ITEM_BYTES = 16  # what holding one element of a list in a log record costs besides its text
_LOG_RECORD_BYTES = 256  # and one record itself


class JsonlLogProcessor(_StoreQueue[tuple[ReadableLogRecord, int]], LogRecordProcessor):
    """The store's log processor: records wait in a queue bounded in records and in bytes (as
    spans do: 1 MB bodies no longer pile up in a batcher that counts only records), and a writer
    thread encodes and appends all that waits."""

    what = "log record"

    def _item_size(self, item: tuple[ReadableLogRecord, int]) -> int:
        return item[1]

    def _write_items(self, batch: list[tuple[ReadableLogRecord, int]]) -> None:
        JsonlLogExporter(self.store).export([record for record, _ in batch])

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        try:
            record = copy_log_record(log_record)
            size = _LOG_RECORD_BYTES + log_record_size(log_record.log_record, _LOG_ITEM_BYTES)
        except Exception as exc:  # noqa: BLE001 - never raise into the chain's worker
            caught("queueing a log record for the store", exc)  # a bug of ours: raised under tests
            self.store.drop(1, f"cannot keep a log record for the store: {exc!r}")
            return
        self._put((record, size), size)


def _chunks(spans: Sequence[otlp_json.EncodedSpan], limit: int) -> list[list[otlp_json.EncodedSpan]]:
    """Consecutive spans grouped so each line stays under ``limit`` bytes (one huge span alone)."""
    chunks: list[list[otlp_json.EncodedSpan]] = [[]]
    size = 0
    for span in spans:
        if chunks[-1] and size + len(span.json) > limit:
            chunks.append([])
            size = 0
        chunks[-1].append(span)
        size += len(span.json)
    return chunks


def _traces_line(spans: Sequence[otlp_json.EncodedSpan]) -> bytes:
    return otlp_json.traces_line(spans, end=b"\n")


def _logs_line(records: Sequence[ReadableLogRecord]) -> bytes:
    return otlp_json.logs_line(records) + b"\n"


class JsonlSpanExporter(SpanExporter):
    """Writes span batches (spans, or spans already encoded) to the store's ``traces/`` files."""

    def __init__(self, store: JsonlStore) -> None:
        self.store = store

    def export(self, spans: Sequence[ReadableSpan | otlp_json.EncodedSpan]) -> SpanExportResult:
        encoded: list[otlp_json.EncodedSpan] = []
        size = 0
        for span in spans:  # one pass: this thread's time is taken from the app's (one GIL)
            if type(span) is not otlp_json.EncodedSpan:
                try:
                    span = otlp_json.EncodedSpan(span)  # type: ignore[arg-type]  # noqa: PLW2901
                except Exception as exc:  # noqa: BLE001 - dropped and counted, never raised
                    caught("encoding a span for the store", exc)  # a bug of ours: raised under tests
                    self.store.drop(1, f"cannot encode a span as OTLP/JSON: {exc!r}")
                    continue
            size += len(span.json)
            encoded.append(span)
        lines: list[bytes] = []
        held = 0  # the spans the lines hold (each one that failed was counted as it failed)
        limit = min(MAX_LINE_BYTES, self.store.line_bytes or MAX_LINE_BYTES)
        for chunk in _chunks(encoded, limit) if size > limit else [encoded]:
            chunk_lines, count = _encode_lines(self.store, chunk, _traces_line)
            lines += chunk_lines
            held += count
        if lines and not self.store.append("traces", lines, held):
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class JsonlLogExporter(LogRecordExporter):
    """Writes log record batches to the store's ``logs/`` files."""

    def __init__(self, store: JsonlStore) -> None:
        self.store = store

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        payload, held = _encode_lines(self.store, batch, _logs_line)
        if payload and not self.store.append("logs", payload, held):
            return LogRecordExportResult.FAILURE
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class JsonlMetricExporter(MetricExporter):
    """Writes each metrics collection to the store's ``metrics/`` files."""

    def __init__(self, store: JsonlStore) -> None:
        super().__init__()
        self.store = store

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        if not any(sm.metrics for rm in metrics_data.resource_metrics for sm in rm.scope_metrics):
            return MetricExportResult.SUCCESS
        try:
            payload = otlp_json.dumps(otlp_json.metrics_data(metrics_data)) + b"\n"
        except Exception as exc:  # noqa: BLE001 - dropped and counted, never raised
            caught("encoding metrics for the store", exc)  # a bug of ours: raised under tests
            self.store.drop(1, f"cannot encode metrics as OTLP/JSON: {exc!r}")
            return MetricExportResult.FAILURE
        if not self.store.append("metrics", payload, 1):
            return MetricExportResult.FAILURE
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        return None

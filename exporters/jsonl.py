"""Span, metric and log exporters writing OTLP/JSON lines into a :class:`JsonlStore`.

One export call becomes one line (one ``TracesData``/``MetricsData``/``LogsData``).
A record that cannot be encoded is dropped and counted, never raised; the rest
of its batch is still written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from exporters import otlp_json
from exporters.jsonl_store import JsonlStore

_logger = logging.getLogger(__name__)
_T = TypeVar("_T")


def _encode_lines(store: JsonlStore, items: Sequence[_T], encode: Callable[[Sequence[_T]], bytes]) -> bytes:
    """One line for the batch; if that fails (a value too deep or odd to encode), one line per item."""
    try:
        return encode(items) + b"\n"
    except Exception:
        lines = []
        for item in items:
            try:
                lines.append(encode([item]) + b"\n")
            except Exception as exc:
                store.drop(1, f"cannot encode a record as OTLP/JSON: {exc!r}")
        return b"".join(lines)


class JsonlSpanExporter(SpanExporter):
    """Writes span batches to the store's ``traces/`` files."""

    def __init__(self, store: JsonlStore) -> None:
        self.store = store

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        payload = _encode_lines(self.store, spans, otlp_json.traces_line)
        if payload and not self.store.append("traces", payload, len(spans)):
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
        payload = _encode_lines(self.store, batch, otlp_json.logs_line)
        if payload and not self.store.append("logs", payload, len(batch)):
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
        except Exception as exc:
            self.store.drop(1, f"cannot encode metrics as OTLP/JSON: {exc!r}")
            return MetricExportResult.FAILURE
        if not self.store.append("metrics", payload, 1):
            return MetricExportResult.FAILURE
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        return None

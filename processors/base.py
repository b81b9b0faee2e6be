"""The interface every processor of the chain implements, for spans, logs and metrics."""

from __future__ import annotations

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.metrics.export import MetricsData
from opentelemetry.sdk.trace import ReadableSpan


class RecordProcessor:
    """Transforms finished telemetry before any exporter sees it.

    Each method returns the record to pass on (a new object when anything
    changed: finished spans are immutable and shared), or ``None`` to drop it.
    The defaults pass records through unchanged. Methods run off the
    application thread, in the chain's worker.
    """

    def process_span(self, span: ReadableSpan) -> ReadableSpan | None:
        return span

    def process_log(self, record: ReadableLogRecord) -> ReadableLogRecord | None:
        return record

    def process_metrics(self, data: MetricsData) -> MetricsData | None:
        return data

    def shutdown(self) -> None:
        """Release resources; called once when the pipeline shuts down."""

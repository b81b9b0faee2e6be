"""The interface every processor of the chain implements, for spans, logs and metrics."""

from __future__ import annotations

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.metrics.export import MetricsData
from opentelemetry.sdk.trace import ReadableSpan


class RecordProcessor:
    """Transforms finished telemetry before any exporter sees it.

    Each method returns the record to pass on (a new object when anything
    changed: finished spans are immutable and shared), or ``None`` to drop it.
    The defaults pass records through unchanged. Span processing runs as the span
    ends, on the application thread, unless a processor says (:meth:`needs_worker`) that
    a span is too slow for it there; log records always go to the chain's worker.
    """

    # True: process_span calls charge_inline for every long text it scans, so the chain need
    # not measure a span's text before running it inline (a processor that scans every text
    # tells the chain which spans are too large on the way, for free).
    bounds_inline_text = False

    # True: the chain calls note_start(span) as each span starts (a processor that must know
    # which spans are still open); others cost nothing at a span's start.
    notes_starts = False

    def note_start(self, span: ReadableSpan) -> None:
        """A span started (it is still live: read, never keep, its attributes)."""

    def needs_worker(self, span: ReadableSpan) -> bool:
        """True when processing this span is slow (I/O, NLP) and must happen off the app thread."""
        return False

    def process_span(self, span: ReadableSpan) -> ReadableSpan | None:
        return span

    def process_log(self, record: ReadableLogRecord) -> ReadableLogRecord | None:
        return record

    def process_metrics(self, data: MetricsData) -> MetricsData | None:
        return data

    def shutdown(self) -> None:
        """Release resources; called once when the pipeline shuts down."""

"""A span processor in front of one of our HTTP exporters: a bounded queue and a thread of its own.

The Helicone and Phoenix exporters (and any later one built the same way) take spans through
:class:`QueuedSpanProcessor`: the app pays a look at the span (``exporter.wants``) and an
append; a full queue drops the span, counted by reason with the exporter's own drops
(``<label>_queue_full``, ``<label>_shut_down``, ``<label>_invalid``, ``<label>_failed``,
``<label>_refused``) and warned once; at exit an endpoint that does not answer gets one short try.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from exporters.write_queue import WriteQueue

_logger = logging.getLogger(f"otel_distro.{__name__}")


class QueuedExporter(Protocol):
    stats: Any  # dropped_invalid, dropped_failed, dropped_refused
    delivery: Any  # an HttpDelivery

    def wants(self, span: ReadableSpan) -> bool: ...

    def export(self, spans: list[ReadableSpan]) -> object: ...

    def shutdown(self) -> None: ...


class QueuedSpanProcessor(SpanProcessor):
    """Queues the spans ``exporter`` may send for a thread of its own (bounded: what does not fit
    is dropped and counted); ``label`` names its drops and its thread, ``title`` its warnings."""

    label = "queued"
    title = "The exporter"

    def __init__(
        self,
        exporter: QueuedExporter,
        *,
        max_queue_size: int,
        schedule_delay_millis: int = 1_000,
        max_export_batch_size: int = 512,
    ) -> None:
        self.exporter = exporter
        self._queue: WriteQueue[ReadableSpan] = WriteQueue(
            self._export,
            lambda _span: 1,
            max_items=max_queue_size,
            max_bytes=max_queue_size,
            batch_size=max_export_batch_size,
            delay_seconds=schedule_delay_millis / 1000,
            name=f"otel-distro-{self.label}",
        )
        self._warned_full = False

    def _export(self, spans: list[ReadableSpan]) -> None:
        self.exporter.export(spans)

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        try:
            if not self.exporter.wants(span) or self._queue.put(span, 1):
                return
        except Exception as exc:  # noqa: BLE001 - nothing of ours reaches the app
            _logger.debug("otel-distro: %s processor: %r", self.label, exc)
            return
        if not self._warned_full and not self._queue.closed:
            self._warned_full = True
            _logger.warning(
                "otel-distro: the %s sender is %d spans behind; spans are dropped until it "
                "catches up (counted)",
                self.title,
                self._queue.max_items,
            )

    def drop_counts(self) -> dict[str, int]:
        """Spans dropped so far, by reason (for the drop ledger)."""
        stats = self.exporter.stats
        return {
            f"{self.label}_queue_full": self._queue.refused_full,
            f"{self.label}_shut_down": self._queue.refused_closed,
            f"{self.label}_invalid": stats.dropped_invalid,
            f"{self.label}_failed": stats.dropped_failed,
            f"{self.label}_refused": stats.dropped_refused,
        }

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._queue.flush(timeout_millis / 1000)

    def shutdown(self) -> None:
        self.exporter.delivery.begin_exit()  # an endpoint that does not answer gets one short try
        try:
            self._queue.close()
        finally:
            self.exporter.shutdown()

"""Exporters named in ``OTEL_*_EXPORTER``, their failed exports counted.

The SDK's batch processors ignore what an exporter's ``export`` returns, so a collector that
refuses a batch (a 400) or cannot be reached loses those records with at most a log line of the
exporter's own. Wrapped here, each failed or raising export counts its records
(``exporter_failed``, a :class:`~otel_distro.drop_ledger.DropCounter` source), so
``otel-distro stats`` shows them; the first failure of each exporter is said once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otel_distro.runtime.errors import caught
from processors.chain import ChainStats


class _Counted:
    """The failure count and the one warning (a ChainStats of its own), shared by the span and
    log wrappers."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.stats = ChainStats()

    @property
    def failed(self) -> int:
        """Records this exporter failed to export."""
        return self.stats.exporter_failed

    def drop_counts(self) -> dict[str, int]:
        return {"exporter_failed": self.failed}

    def _lost(self, count: int, why: object) -> None:
        self.stats.export_failed(type(self.inner).__name__, count, why)

    def _export(self, records: Sequence[Any], success: object, failure: Any) -> Any:
        try:
            result = self.inner.export(records)
        except Exception as exc:  # noqa: BLE001 - an exporter's failure costs only its records
            caught("exporting through a named exporter", exc)
            self._lost(len(records), repr(exc))
            return failure
        if result is not success:
            self._lost(len(records), result)
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return bool(self.inner.force_flush(timeout_millis))


class CountedSpanExporter(_Counted, SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result: SpanExportResult = self._export(spans, SpanExportResult.SUCCESS, SpanExportResult.FAILURE)
        return result


class CountedLogExporter(_Counted, LogRecordExporter):
    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        result: LogRecordExportResult = self._export(
            batch, LogRecordExportResult.SUCCESS, LogRecordExportResult.FAILURE
        )
        return result

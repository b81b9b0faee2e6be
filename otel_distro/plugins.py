"""Plugins: third parties' processors and exporters, picked up by entry-point name.

A package declares ``[project.entry-points."otel_distro.processors"]`` or
``["otel_distro.exporters"]``; the user names it in ``TELEMETRY_PROCESSORS`` /
``TELEMETRY_EXPORTERS`` (or ``plugins.processors`` / ``plugins.exporters`` in telemetry.toml).
Each entry point is called with its own ``[plugins.<name>]`` table as keyword arguments.

- A processor plugin returns a :class:`processors.base.RecordProcessor`. It is placed after
  hashing and redaction, so it sees only redacted records, unless its table says
  ``redaction = "after"`` (then it comes first and redaction follows it). If it raises on a
  record, the record goes on as it came (redaction ran or still runs either way): the plugin is
  reported once by name and costs nothing else.
- An exporter plugin returns an SDK ``SpanExporter`` or ``LogRecordExporter``; it sits behind
  the chain on a batch queue of its own (a slow one stalls nothing else). (Metric exporters
  are not taken as plugins yet: name them in ``OTEL_METRICS_EXPORTER`` through the
  ``opentelemetry_metrics_exporter`` entry-point group, which passes them the chain too.)

A plugin that cannot be found, loaded or built is reported once by name and skipped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk._logs import LogRecordProcessor, ReadableLogRecord, ReadWriteLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.metrics.export import MetricExporter, MetricsData
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter

from otel_distro.named_export import QueuedLogExport, QueuedSpanExport
from otel_distro.problems import Problems
from otel_distro.runtime.errors import caught
from otel_distro.settings import Settings
from processors.base import RecordProcessor

_logger = logging.getLogger("otel_distro.plugins")

PROCESSORS_GROUP = "otel_distro.processors"
EXPORTERS_GROUP = "otel_distro.exporters"
REDACTION_OPTION = "redaction"  # "after": the plugin comes before redaction (sees raw records)


def _build(group: str, name: str, options: dict[str, Any], problems: Problems) -> Any | None:
    """The plugin ``name`` of ``group`` built with its options; None (reported) if it cannot be."""
    found = [point for point in entry_points(group=group) if point.name == name]
    if not found:
        known = sorted({point.name for point in entry_points(group=group)})
        problems.report(
            f"no plugin named '{name}' is installed (entry-point group {group}); "
            f"installed: {', '.join(known) or 'none'}; skipped"
        )
        return None
    try:
        return found[0].load()(**options)
    except Exception as exc:  # noqa: BLE001 - a broken plugin costs only itself
        caught("starting a plugin", exc)
        problems.report(f"plugin '{name}' ({group}) failed to load or start ({exc!r}); skipped")
        return None


def _options(settings: Settings, name: str) -> dict[str, Any]:
    return dict(dict(settings.plugin_settings).get(name, ()))


class PluginProcessor(RecordProcessor):
    """A plugin's processor, so that its failures cost nothing: a record it raises on goes on as
    it came, and the first failure is reported by the plugin's name."""

    def __init__(self, name: str, inner: RecordProcessor) -> None:
        self.name = name
        self.inner = inner
        self.failures = 0
        self._lock = threading.Lock()

    def _failed(self, exc: BaseException) -> None:
        caught("calling a plugin processor", exc)
        with self._lock:
            self.failures += 1
            first = self.failures == 1
        if first:
            _logger.warning(
                "otel-distro: plugin processor '%s' failed (%r); records go on without it "
                "(further failures are counted)",
                self.name,
                exc,
            )

    def needs_worker(self, span: ReadableSpan) -> bool:
        try:
            return bool(self.inner.needs_worker(span))
        except Exception as exc:  # noqa: BLE001
            caught("asking a plugin", exc)
            return True  # when unsure, off the app thread

    def process_span(self, span: ReadableSpan) -> ReadableSpan | None:
        try:
            return self.inner.process_span(span)
        except Exception as exc:  # noqa: BLE001 - the plugin's bug is not the record's fault
            self._failed(exc)
            return span

    def process_log(self, record: ReadableLogRecord) -> ReadableLogRecord | None:
        try:
            return self.inner.process_log(record)
        except Exception as exc:  # noqa: BLE001
            self._failed(exc)
            return record

    def process_metrics(self, data: MetricsData) -> MetricsData | None:
        try:
            return self.inner.process_metrics(data)
        except Exception as exc:  # noqa: BLE001
            self._failed(exc)
            return data

    def shutdown(self) -> None:
        try:
            self.inner.shutdown()
        except Exception as exc:  # noqa: BLE001
            self._failed(exc)


def plugin_processors(
    settings: Settings, problems: Problems
) -> tuple[tuple[RecordProcessor, ...], tuple[RecordProcessor, ...]]:
    """The named processor plugins: (those placed before redaction, those after)."""
    before: list[RecordProcessor] = []
    after: list[RecordProcessor] = []
    for name in settings.plugin_processors:
        options = _options(settings, name)
        placement = options.pop(REDACTION_OPTION, "before")
        built = _build(PROCESSORS_GROUP, name, options, problems)
        if built is None:
            continue
        if not isinstance(built, RecordProcessor):
            problems.report(
                f"plugin '{name}' ({PROCESSORS_GROUP}) gave a {type(built).__name__}, not a "
                "processors.base.RecordProcessor; skipped"
            )
            continue
        (before if placement == "after" else after).append(PluginProcessor(name, built))
    return tuple(before), tuple(after)


class PluginBatches(SpanProcessor, LogRecordProcessor):
    """The exporter plugins' queues side by side (:mod:`otel_distro.named_export`), for spans or
    for log records: one that raises stops no other, and what their queues refuse, their
    exporters fail on or the exit leaves is counted (``plugin_queue_full``, ``plugin_failed``,
    ``plugin_lost``) for the drop ledger."""

    def __init__(self, targets: Sequence[Any]) -> None:
        self.targets = tuple(targets)
        self._lock = threading.Lock()
        self._failed = 0

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        self._each("on_end", span)

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        self._each("on_emit", log_record)

    def emit(self, log_record: ReadWriteLogRecord) -> None:  # the name older SDKs call
        self._each("on_emit", log_record)

    def _each(self, method: str, record: Any) -> None:
        for target in self.targets:
            try:
                getattr(target, method)(record)
            except Exception as exc:  # noqa: BLE001 - one plugin costs only itself
                caught("calling a plugin exporter", exc)
                _logger.debug("otel-distro: plugin exporter: %r", exc)
                with self._lock:
                    self._failed += 1

    def drop_counts(self) -> dict[str, int]:
        totals = {"exporter_queue_full": 0, "exporter_failed": 0, "exporter_lost": 0, "exporter_shut_down": 0}
        for target in self.targets:
            for reason, count in target.drop_counts().items():
                totals[reason] = totals.get(reason, 0) + count
        with self._lock:
            failed = self._failed
        return {
            "plugin_queue_full": totals["exporter_queue_full"],
            "plugin_failed": failed + totals["exporter_failed"],
            "plugin_lost": totals["exporter_lost"] + totals["exporter_shut_down"],
        }

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return all([target.force_flush(timeout_millis) for target in self.targets])

    def shutdown(self) -> None:
        for target in self.targets:
            target.shutdown()


def plugin_exporters(
    settings: Settings, problems: Problems
) -> tuple[PluginBatches | None, PluginBatches | None]:
    """The named exporter plugins: one span and one log processor over their batch queues."""
    spans: list[SpanProcessor] = []
    logs: list[LogRecordProcessor] = []
    for name in settings.plugin_exporters:
        built = _build(EXPORTERS_GROUP, name, _options(settings, name), problems)
        if isinstance(built, SpanExporter):
            spans.append(QueuedSpanExport(built))
        elif isinstance(built, LogRecordExporter):
            logs.append(QueuedLogExport(built))
        elif built is not None:
            if isinstance(built, MetricExporter):
                built.shutdown()
            problems.report(
                f"plugin '{name}' ({EXPORTERS_GROUP}) gave a {type(built).__name__}, not an SDK "
                "SpanExporter or LogRecordExporter; skipped"
            )
    return (PluginBatches(spans) if spans else None, PluginBatches(logs) if logs else None)

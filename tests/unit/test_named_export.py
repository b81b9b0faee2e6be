"""The queue in front of exporters named in OTEL_*_EXPORTER and plugin exporters: every record it
cannot export is counted by reason, and an exit costs an endpoint that does not answer about a
second."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import SpanContext, TraceFlags

from otel_distro.named_export import QUEUE_SIZE, QueuedSpanExport


def _span(n: int) -> ReadableSpan:
    return ReadableSpan(
        name=f"s{n}", context=SpanContext(n + 1, n + 1, False, TraceFlags(TraceFlags.SAMPLED))
    )


class Stuck(SpanExporter):
    """An exporter whose endpoint takes the request and never answers (until released)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.calls += 1
        self.release.wait(30)
        return SpanExportResult.FAILURE

    def shutdown(self) -> None:
        self.release.wait(30)  # as gRPC's exporter waits for its export


def test_an_exit_costs_an_endpoint_that_does_not_answer_about_a_second_and_counts_every_span() -> None:
    """A review of issue 21: OTEL_TRACES_EXPORTER=otlp to a black hole held the exit for 11 s and
    lost 1,000 spans without a count (the SDK's batch processor gave them up silently)."""
    exporter = Stuck()
    processor = QueuedSpanExport(exporter)
    try:
        for n in range(1000):
            processor.on_end(_span(n))
        processor.force_flush(200)  # the writer takes a batch and waits on the endpoint
        start = time.monotonic()
        processor.shutdown()
        took = time.monotonic() - start
        counts = processor.drop_counts()
    finally:
        exporter.release.set()
    assert took < 1.6
    assert counts["exporter_lost"] == 1000, counts
    assert counts["exporter_failed"] == 0  # the late answer of an abandoned export is not counted twice


def test_a_full_queue_and_failed_exports_are_counted() -> None:
    exporter = Stuck()  # behind: the queue fills
    processor = QueuedSpanExport(exporter)
    for n in range(QUEUE_SIZE + 10):
        processor.on_end(_span(n))
    exporter.release.set()  # it answers now: each batch refused
    assert processor.force_flush(5_000)
    processor.shutdown()
    processor.on_end(_span(0))  # after the shutdown
    counts = processor.drop_counts()
    assert counts["exporter_queue_full"] == 10
    assert counts["exporter_failed"] == QUEUE_SIZE
    assert counts["exporter_shut_down"] == 1 and counts["exporter_lost"] == 0


def test_a_healthy_exporter_gets_everything_at_exit() -> None:
    received: list[ReadableSpan] = []

    class Taking(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            received.extend(spans)
            return SpanExportResult.SUCCESS

    processor = QueuedSpanExport(Taking())
    for n in range(1500):
        processor.on_end(_span(n))
    processor.shutdown()
    assert len(received) == 1500 and not any(processor.drop_counts().values())


def test_at_exit_a_slow_endpoint_that_keeps_answering_gets_what_waits() -> None:
    """An endpoint that takes 0.6 s per batch is not given up on after a second: the exit waits
    while batches keep going (the SDK's batch processors waited up to 30 s)."""
    received: list[ReadableSpan] = []

    class Slow(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            time.sleep(0.6)
            received.extend(spans)
            return SpanExportResult.SUCCESS

    processor = QueuedSpanExport(Slow())
    for n in range(QUEUE_SIZE):  # four batches: 2.4 s
        processor.on_end(_span(n))
    processor.shutdown()
    assert len(received) == QUEUE_SIZE and not any(processor.drop_counts().values())

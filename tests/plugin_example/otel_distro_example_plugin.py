"""An otel-distro plugin: a processor that tags every span, an exporter that writes spans to a file."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from processors.base import RecordProcessor
from processors.records import replace_span


class Tagger(RecordProcessor):
    """Adds ``example.tag`` to every span (``tag`` from its [plugins.tagger] table)."""

    def __init__(self, tag: str = "tagged") -> None:
        self.tag = tag

    def process_span(self, span: ReadableSpan) -> ReadableSpan | None:
        if span.name == "explode":
            raise RuntimeError("the plugin's own bug")
        return replace_span(span, attributes={**(span.attributes or {}), "example.tag": self.tag})


class JsonFileExporter(SpanExporter):
    """Appends each span's name and attributes to ``path`` (from its [plugins.jsonfile] table);
    ``delay``: seconds each export takes first (a slow backend)."""

    def __init__(self, path: str, delay: float = 0.0) -> None:
        self.path = path
        self.delay = delay

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        time.sleep(self.delay)
        with open(self.path, "a", encoding="utf-8") as out:
            for span in spans:
                out.write(json.dumps({"name": span.name, "attributes": dict(span.attributes or {})}) + "\n")
        return SpanExportResult.SUCCESS

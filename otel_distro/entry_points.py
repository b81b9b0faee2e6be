"""No-argument exporters for the ``opentelemetry_*_exporter`` entry points named ``jsonl``.

Other configurators (the SDK's, another distro's) instantiate exporters without arguments;
these read the store location and retention from the settings model.
"""

from __future__ import annotations

from exporters.jsonl import JsonlLogExporter, JsonlMetricExporter, JsonlSpanExporter
from exporters.jsonl_store import JsonlStore
from otel_distro.settings import load_settings


def _store() -> JsonlStore:
    settings = load_settings()
    return JsonlStore(settings.store_dir, settings.retention_days)


class StoreSpanExporter(JsonlSpanExporter):
    """The local store as a span exporter configured from settings."""

    def __init__(self) -> None:
        super().__init__(_store())


class StoreMetricExporter(JsonlMetricExporter):
    """The local store as a metric exporter configured from settings."""

    def __init__(self) -> None:
        super().__init__(_store())


class StoreLogExporter(JsonlLogExporter):
    """The local store as a log exporter configured from settings."""

    def __init__(self) -> None:
        super().__init__(_store())

"""No-argument exporters for our ``opentelemetry_*_exporter`` entry points (``jsonl``, ``langfuse``).

Other configurators (the SDK's, another distro's) instantiate exporters without arguments;
these read the store location and retention from the settings model.
"""

from __future__ import annotations

from exporters.helicone import HeliconeSpanExporter
from exporters.langfuse import LangfuseSpanExporter
from exporters.phoenix import PhoenixSpanExporter
from exporters.store.export import JsonlLogExporter, JsonlMetricExporter, JsonlSpanExporter
from exporters.store.files import JsonlStore
from otel_distro.settings import load_settings


def _store() -> JsonlStore:
    from otel_distro.pipeline import store_options

    settings = load_settings()
    options = store_options(settings)
    return JsonlStore(settings.store_dir, settings.retention_days, settings.retention, **options)


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


class LangfuseExporter(LangfuseSpanExporter):
    """The Langfuse exporter configured from settings (keys, host, sampling, spans, timeout, headers).

    Under our distro the pipeline wires Langfuse itself; this serves other configurators.
    """

    def __init__(self) -> None:
        settings = load_settings()
        super().__init__(
            settings.langfuse_public_key or "",
            settings.langfuse_secret_key or "",
            settings.langfuse_host,
            sample_rate=settings.langfuse_sample_rate,
            spans=settings.langfuse_spans,
            timeout=settings.langfuse_timeout_secs,
            headers=dict(settings.langfuse_headers),
        )


class HeliconeExporter(HeliconeSpanExporter):
    """The Helicone exporter configured from settings (key, base URL, spans, timeout, headers).

    Under our distro the pipeline wires Helicone itself; this serves other configurators.
    """

    def __init__(self) -> None:
        settings = load_settings()
        super().__init__(
            settings.helicone_api_key or "",
            settings.helicone_base_url,
            spans=settings.helicone_spans,
            timeout=settings.helicone_timeout_secs,
            headers=dict(settings.helicone_request_headers),
            properties=dict(settings.helicone_properties),
        )


class PhoenixExporter(PhoenixSpanExporter):
    """The Phoenix exporter configured from settings (endpoint, project, key, spans, timeout).

    Under our distro the pipeline wires Phoenix itself; this serves other configurators.
    """

    def __init__(self) -> None:
        settings = load_settings()
        super().__init__(
            settings.phoenix_collector_endpoint or "http://localhost:6006",
            project=settings.phoenix_project_name,
            api_key=settings.phoenix_api_key,
            spans=settings.phoenix_spans,
            timeout=settings.phoenix_timeout_secs,
        )

"""Our exporters as parts of the pipeline, declared once in :data:`PARTS`: when each part is
wanted, which settings it is built from (a change rebuilds it) and how it is built.

A part is what the chains see of an exporter: its span and log targets (the store's span
processor and log batch processor, the conversation log's processor, Langfuse's, Helicone's,
Phoenix's, the plugins'), or the continuous upload. :class:`~otel_distro.switchboard.Switchboard`
builds, rebuilds and stops them as the settings say, at start-up and on every reload.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opentelemetry.sdk._logs import LogRecordProcessor
from opentelemetry.sdk.trace import SpanProcessor

from exporters.store.export import JsonlLogProcessor, JsonlSpanProcessor
from otel_distro.components import (
    HELICONE_EXPORTER_NAME,
    LANGFUSE_EXPORTER_NAME,
    LOGS,
    METRICS,
    PHOENIX_EXPORTER_NAME,
    TRACES,
)
from otel_distro.problems import Problems
from otel_distro.runtime.errors import caught
from otel_distro.settings import Settings, applied_by
from otel_distro.version import __version__

if TYPE_CHECKING:
    from otel_distro.switchboard import Switchboard

_logger = logging.getLogger("otel_distro")

STORE_QUEUE_SIZE = 16_384  # encoded spans are bytes: ~1 KB each, not a live span object
STORE_BATCH_SIZE = 512
STORE_DELAY_MILLIS = 1_000

# What each part is built from, as the settings declare it (``applies`` in otel_distro.settings).
_CONVERSATION_LOG_FIELDS = applied_by("conversation_log")
_LANGFUSE_FIELDS = applied_by("langfuse")
_UPLOAD_FIELDS = applied_by("upload")
_HELICONE_FIELDS = applied_by("helicone")
_PHOENIX_FIELDS = applied_by("phoenix")
_PLUGIN_FIELDS = applied_by("plugins")


@dataclass
class Part:
    """One of our exporters as the chains see it: its span and log targets, or its upload."""

    span: SpanProcessor | None = None
    log: LogRecordProcessor | None = None
    upload: Any = None  # a BackgroundUploader

    def stop(self, final: bool) -> None:
        """Stop it, once detached: what its processors hold is flushed. ``final`` (at exit, or
        when its settings changed) runs the upload's last pass; otherwise the upload just stops."""
        for target in (self.span, self.log):
            if target is None:
                continue
            try:
                target.shutdown()
            except Exception as exc:  # noqa: BLE001 - stopping one part must not stop the others
                caught("stopping a part", exc)  # a bug of ours: raised under the test suite
                _logger.warning("otel-distro: %s did not stop cleanly: %r", type(target).__name__, exc)
        if self.upload is not None:
            try:
                self.upload.shutdown() if final else self.upload.stop()
            except Exception as exc:  # noqa: BLE001
                caught("stopping the upload", exc)  # a bug of ours: raised under the test suite
                _logger.warning("otel-distro: the upload did not stop cleanly: %r", exc)


@dataclass(frozen=True)
class PartSpec:
    """When a part is wanted, the settings it is built from (a change rebuilds it), how it is built."""

    wanted: Callable[[Settings], bool]
    signature: Callable[[Settings], tuple[Any, ...]]
    build: Callable[[Switchboard, Settings, Problems], Part | None]


def fields(*names: str) -> Callable[[Settings], tuple[Any, ...]]:
    """The signature of a part built from these settings: their values."""

    def signature(settings: Settings) -> tuple[Any, ...]:
        return tuple(getattr(settings, name) for name in names)

    return signature


def _store_signature(settings: Settings) -> tuple[Any, ...]:
    return (TRACES.wants_store(settings), LOGS.wants_store(settings))


def _store_part(board: Switchboard, settings: Settings, problems: Problems) -> Part | None:
    store = board.store
    part = Part()
    if TRACES.wants_store(settings):
        part.span = JsonlSpanProcessor(store, STORE_QUEUE_SIZE, STORE_DELAY_MILLIS, STORE_BATCH_SIZE)
    if LOGS.wants_store(settings):
        part.log = JsonlLogProcessor(store, STORE_QUEUE_SIZE, STORE_DELAY_MILLIS, STORE_BATCH_SIZE)
    return part


def _conversation_log_signature(settings: Settings) -> tuple[Any, ...]:
    return (*fields(*_CONVERSATION_LOG_FIELDS)(settings), TRACES.wants_store(settings))


def _conversation_log_part(board: Switchboard, settings: Settings, problems: Problems) -> Part | None:
    """The conversation-log exporter: following the store when it keeps traces, else its own spool."""
    from exporters.conversation_log import (
        ConversationLogExporter,
        ConversationLogProcessor,
        StoreFollowerProcessor,
    )

    assert settings.endpoint is not None
    follows_store = TRACES.wants_store(settings)
    exporter = ConversationLogExporter(
        settings.endpoint,
        settings.conversation_log_dir,
        batch_size=settings.batch_size,
        flush_interval=settings.flush_interval_secs,
        max_cache_bytes=settings.max_cache_size_mb * 1024 * 1024,
        headers=dict(settings.endpoint_headers),
        timeout=settings.endpoint_timeout_secs,
        selection=settings.execution_traces,
        source=lambda: {
            "distro": "otel-distro",
            "version": __version__,
            # the resource as the privacy processors leave it, as in every record
            "service": str(board.redacted_resource().attributes.get("service.name", "")),
        },
        store_traces=board.store.signal_dir("traces") if follows_store else None,
        sealer=board.store.sealer,
        former_store_traces=None if follows_store else board.store.signal_dir("traces"),
    )
    if follows_store:
        return Part(span=StoreFollowerProcessor(exporter))
    return Part(span=ConversationLogProcessor(exporter, settings.flush_interval_secs))


def _langfuse_wanted(settings: Settings) -> bool:
    return bool(settings.langfuse_public_key and settings.langfuse_secret_key) or (
        LANGFUSE_EXPORTER_NAME in TRACES.names(settings)
    )


def _langfuse_part(board: Switchboard, settings: Settings, problems: Problems) -> Part | None:
    """The Langfuse exporter, when both keys are set (``OTEL_TRACES_EXPORTER=langfuse`` asks for it too)."""
    if not (settings.langfuse_public_key and settings.langfuse_secret_key):
        problems.report(
            "OTEL_TRACES_EXPORTER names 'langfuse', which needs LANGFUSE_PUBLIC_KEY and "
            "LANGFUSE_SECRET_KEY; not started"
        )
        return None
    from exporters.langfuse import LangfuseSpanExporter, LangfuseSpanProcessor

    exporter = LangfuseSpanExporter(
        settings.langfuse_public_key,
        settings.langfuse_secret_key,
        settings.langfuse_host,
        sample_rate=settings.langfuse_sample_rate,
        spans=settings.langfuse_spans,
        timeout=settings.langfuse_timeout_secs,
        headers=dict(settings.langfuse_headers),
    )
    return Part(span=LangfuseSpanProcessor(exporter))


def _upload_part(board: Switchboard, settings: Settings, problems: Problems) -> Part | None:
    """The continuous upload of the store (opt-in)."""
    if not settings.upload_endpoint:
        problems.report("TELEMETRY_UPLOAD_ENABLED is true but TELEMETRY_UPLOAD_ENDPOINT is unset; no upload")
        return None
    if not any(signal.wants_store(settings) for signal in (TRACES, METRICS, LOGS)):
        problems.report("TELEMETRY_UPLOAD_ENABLED is true but the store is off; nothing to upload")
        return None
    if settings.upload_dp_epsilon is not None:  # never raw metrics where noisy ones were asked for
        problems.report(
            "upload.dp_epsilon applies to `otel-distro upload --dp-epsilon` only for now; the "
            "continuous upload stays off while it is set (each pass would spend the privacy budget)"
        )
        return None
    from exporters.upload import BackgroundUploader, StoreUploader, state_base
    from otel_distro.scrub import record_scrubber

    uploader = StoreUploader(
        board.store.base_dir,
        state_base(board.store.base_dir),
        settings.upload_endpoint,
        dict(settings.upload_headers),
        signals=settings.upload_signals,
        redact=record_scrubber(settings),
    )
    return Part(upload=BackgroundUploader(uploader, interval=settings.upload_interval_secs))


def _helicone_wanted(settings: Settings) -> bool:
    return bool(settings.helicone_api_key) or HELICONE_EXPORTER_NAME in TRACES.names(settings)


def _helicone_part(board: Switchboard, settings: Settings, problems: Problems) -> Part | None:
    """The Helicone exporter, when its key is set (``OTEL_TRACES_EXPORTER=helicone`` asks for it too)."""
    if not settings.helicone_api_key:
        problems.report("OTEL_TRACES_EXPORTER names 'helicone', which needs HELICONE_API_KEY; not started")
        return None
    from exporters.helicone import HeliconeSpanExporter, HeliconeSpanProcessor

    exporter = HeliconeSpanExporter(
        settings.helicone_api_key,
        settings.helicone_base_url,
        spans=settings.helicone_spans,
        timeout=settings.helicone_timeout_secs,
        headers=dict(settings.helicone_request_headers),
        properties=dict(settings.helicone_properties),
    )
    return Part(span=HeliconeSpanProcessor(exporter))


def _phoenix_wanted(settings: Settings) -> bool:
    return bool(settings.phoenix_collector_endpoint) or PHOENIX_EXPORTER_NAME in TRACES.names(settings)


def _phoenix_part(board: Switchboard, settings: Settings, problems: Problems) -> Part | None:
    """The Phoenix exporter, when its endpoint is set (``OTEL_TRACES_EXPORTER=phoenix`` asks for it too)."""
    if not settings.phoenix_collector_endpoint:
        problems.report(
            "OTEL_TRACES_EXPORTER names 'phoenix', which needs PHOENIX_COLLECTOR_ENDPOINT; not started"
        )
        return None
    from exporters.phoenix import PhoenixSpanExporter, PhoenixSpanProcessor

    exporter = PhoenixSpanExporter(
        settings.phoenix_collector_endpoint,
        project=settings.phoenix_project_name,
        api_key=settings.phoenix_api_key,
        spans=settings.phoenix_spans,
        timeout=settings.phoenix_timeout_secs,
    )
    return Part(span=PhoenixSpanProcessor(exporter))


def _plugins_part(board: Switchboard, settings: Settings, problems: Problems) -> Part | None:
    """The exporters of the plugins named in TELEMETRY_EXPORTERS, each on a queue of its own."""
    from otel_distro.plugins import plugin_exporters

    spans, logs = plugin_exporters(settings, problems)
    return Part(span=spans, log=logs) if spans is not None or logs is not None else None


# In chain order: the store first, so the conversation log that follows it flushes after it.
PARTS: dict[str, PartSpec] = {
    "store": PartSpec(lambda s: TRACES.wants_store(s) or LOGS.wants_store(s), _store_signature, _store_part),
    "conversation_log": PartSpec(
        lambda s: bool(s.endpoint), _conversation_log_signature, _conversation_log_part
    ),
    "langfuse": PartSpec(_langfuse_wanted, fields(*_LANGFUSE_FIELDS), _langfuse_part),
    "helicone": PartSpec(_helicone_wanted, fields(*_HELICONE_FIELDS), _helicone_part),
    "phoenix": PartSpec(_phoenix_wanted, fields(*_PHOENIX_FIELDS), _phoenix_part),
    "plugins": PartSpec(lambda s: bool(s.plugin_exporters), fields(*_PLUGIN_FIELDS), _plugins_part),
    "upload": PartSpec(
        lambda s: s.upload_enabled,
        lambda s: (*fields(*_UPLOAD_FIELDS)(s), *_store_signature(s), METRICS.wants_store(s)),
        _upload_part,
    ),
}

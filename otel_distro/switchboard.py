"""What a running pipeline can change without a restart, and the code that changes it.

Each of our exporters (the store, the conversation log, Langfuse, Helicone, Phoenix, the upload) is a
*part* built from a few settings. :meth:`Switchboard.apply` compares the settings with those
each part was built from: a part no longer wanted is detached from the chain and stopped, a
part whose settings changed is rebuilt, a new one is built and attached. The same call turns
recording on and off (the chains' gates), swaps the privacy processors when their settings
change, and points the sampler at a new one. It runs at start-up and on every hot reload.
Exporters named in ``OTEL_*_EXPORTER`` and the resource stay as they were built.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk._logs import LogRecordProcessor
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace import sampling as samplers
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

from exporters.store.export import JsonlLogExporter, JsonlSpanProcessor
from exporters.store.files import JsonlStore
from otel_distro.components import (
    HELICONE_EXPORTER_NAME,
    LANGFUSE_EXPORTER_NAME,
    LOGS,
    METRICS,
    PHOENIX_EXPORTER_NAME,
    TRACES,
    build_sampler,
)
from otel_distro.problems import Problems
from otel_distro.runtime.errors import caught
from otel_distro.settings import Settings, applied_by
from otel_distro.version import __version__
from processors.base import RecordProcessor
from processors.chain import LogChain, MetricsChainExporter, SpanChain

_logger = logging.getLogger("otel_distro")

STORE_QUEUE_SIZE = 16_384  # encoded spans are bytes: ~1 KB each, not a live span object
STORE_BATCH_SIZE = 512
STORE_DELAY_MILLIS = 1_000

# What each part is built from, as the settings declare it (``applies`` in otel_distro.settings).
PRIVACY_FIELDS = applied_by("privacy")  # a change rebuilds the chain's processors
SAMPLER_FIELDS = applied_by("sampler")
_CONVERSATION_LOG_FIELDS = applied_by("conversation_log")
_LANGFUSE_FIELDS = applied_by("langfuse")
_UPLOAD_FIELDS = applied_by("upload")
_HELICONE_FIELDS = applied_by("helicone")
_PHOENIX_FIELDS = applied_by("phoenix")
_PLUGIN_FIELDS = applied_by("plugins")


def privacy_signature(settings: Settings) -> tuple[Any, ...]:
    """What the chain's processors are built from: a change rebuilds them."""
    return _fields(*PRIVACY_FIELDS)(settings)


class ReloadableSampler(samplers.Sampler):
    """Delegates to the sampler the settings name; hot reload points it at another one."""

    def __init__(self, delegate: samplers.Sampler) -> None:
        self.delegate = delegate

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> samplers.SamplingResult:
        return self.delegate.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return self.delegate.get_description()


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
class _Spec:
    wanted: Callable[[Settings], bool]
    signature: Callable[[Settings], tuple[Any, ...]]
    build: Callable[[Switchboard, Settings, Problems], Part | None]


def _fields(*names: str) -> Callable[[Settings], tuple[Any, ...]]:
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
        part.log = BatchLogRecordProcessor(
            JsonlLogExporter(store),
            max_queue_size=STORE_QUEUE_SIZE,
            schedule_delay_millis=STORE_DELAY_MILLIS,
            max_export_batch_size=STORE_BATCH_SIZE,
        )
    return part


def _conversation_log_signature(settings: Settings) -> tuple[Any, ...]:
    return (*_fields(*_CONVERSATION_LOG_FIELDS)(settings), TRACES.wants_store(settings))


def _conversation_log_part(board: Switchboard, settings: Settings, problems: Problems) -> Part | None:
    """The conversation-log exporter: following the store when it keeps traces, else with a cache."""
    from exporters.conversation_log import (
        ConversationLogExporter,
        ConversationLogProcessor,
        StoreFollowerProcessor,
    )

    assert settings.endpoint is not None
    follows_store = TRACES.wants_store(settings)
    exporter = ConversationLogExporter(
        settings.endpoint,
        settings.cache_path or settings.store_dir / "cache" / "conversation_log",
        batch_size=settings.batch_size,
        flush_interval=settings.flush_interval_secs,
        max_cache_bytes=settings.max_cache_size_mb * 1024 * 1024,
        headers=dict(settings.endpoint_headers),
        timeout=settings.endpoint_timeout_secs,
        selection=settings.execution_traces,
        source={
            "distro": "otel-distro",
            "version": __version__,
            "service": str(board.resource.attributes.get("service.name", "")),
        },
        store_traces=board.store.signal_dir("traces") if follows_store else None,
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

    uploader = StoreUploader(
        board.store.base_dir,
        state_base(board.store.base_dir),
        settings.upload_endpoint,
        dict(settings.upload_headers),
        signals=settings.upload_signals,
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
_SPECS: dict[str, _Spec] = {
    "store": _Spec(lambda s: TRACES.wants_store(s) or LOGS.wants_store(s), _store_signature, _store_part),
    "conversation_log": _Spec(
        lambda s: bool(s.endpoint), _conversation_log_signature, _conversation_log_part
    ),
    "langfuse": _Spec(_langfuse_wanted, _fields(*_LANGFUSE_FIELDS), _langfuse_part),
    "helicone": _Spec(_helicone_wanted, _fields(*_HELICONE_FIELDS), _helicone_part),
    "phoenix": _Spec(_phoenix_wanted, _fields(*_PHOENIX_FIELDS), _phoenix_part),
    "plugins": _Spec(lambda s: bool(s.plugin_exporters), _fields(*_PLUGIN_FIELDS), _plugins_part),
    "upload": _Spec(
        lambda s: s.upload_enabled,
        lambda s: (*_fields(*_UPLOAD_FIELDS)(s), *_store_signature(s), METRICS.wants_store(s)),
        _upload_part,
    ),
}


class Switchboard:
    """Holds a running pipeline's switchable parts and applies settings to them."""

    def __init__(
        self,
        *,
        store: JsonlStore,
        resource: Resource,
        span_chain: SpanChain,
        log_chain: LogChain,
        store_metrics: MetricsChainExporter,
        metric_exporters: Sequence[MetricsChainExporter],
        named_spans: Sequence[SpanProcessor],
        named_logs: Sequence[LogRecordProcessor],
        sampler: ReloadableSampler,
        extra_processors: Sequence[RecordProcessor],
        processors: Sequence[RecordProcessor],
        privacy_signature: tuple[Any, ...],
        inline_rule: Callable[[Sequence[RecordProcessor]], Callable[[ReadableSpan], bool]],
    ) -> None:
        self.store = store
        self.resource = resource
        self.span_chain = span_chain
        self.log_chain = log_chain
        self.store_metrics = store_metrics
        self.metric_exporters = tuple(metric_exporters)
        self.named_spans = tuple(named_spans)
        self.named_logs = tuple(named_logs)
        self.sampler = sampler
        self.extra_processors = tuple(extra_processors)
        self.processors = tuple(processors)
        self._privacy_signature = privacy_signature
        self._sampler_signature: tuple[Any, ...] | None = None
        self._inline_rule = inline_rule
        self.parts: dict[str, tuple[tuple[Any, ...], Part]] = {}

    def part(self, name: str) -> Part | None:
        held = self.parts.get(name)
        return held[1] if held else None

    def apply(self, settings: Settings, problems: Problems) -> None:
        """Make the running pipeline match ``settings`` (for everything :data:`RELOADABLE`)."""
        active = settings.active
        if not active:
            self._gate(settings, active=False)  # first: nothing new enters while parts stop
        self._apply_privacy(settings, problems)
        self._apply_sampler(settings, problems)
        self.store.retention = settings.retention
        self.store.retention_days = settings.retention_days
        self._apply_parts(settings, problems, active)
        if active:
            self._gate(settings, active=True)

    def _gate(self, settings: Settings, active: bool) -> None:
        self.span_chain.recording = active
        self.log_chain.recording = active
        store_metrics = METRICS.wants_store(settings)
        for exporter in self.metric_exporters:
            exporter.recording = active and (exporter is not self.store_metrics or store_metrics)

    def _apply_privacy(self, settings: Settings, problems: Problems) -> None:
        signature = privacy_signature(settings)
        if signature == self._privacy_signature:
            return
        from otel_distro.privacy import chain_processors

        processors = chain_processors(settings, problems, self.extra_processors)
        self.span_chain.set_processors(processors, self._inline_rule(processors))
        self.log_chain.set_processors(processors)
        for exporter in self.metric_exporters:
            exporter.set_processors(processors)
        self.processors = processors
        self._privacy_signature = signature

    def _apply_sampler(self, settings: Settings, problems: Problems) -> None:
        signature = _fields(*SAMPLER_FIELDS)(settings)
        if signature != self._sampler_signature:
            self.sampler.delegate = build_sampler(settings, problems)
            self._sampler_signature = signature

    def _apply_parts(self, settings: Settings, problems: Problems, active: bool) -> None:
        stopping: list[Part] = []
        for name, spec in _SPECS.items():
            held = self.parts.get(name)
            wanted = active and spec.wanted(settings)
            signature = spec.signature(settings) if wanted else None
            if held is not None and held[0] == signature:
                continue
            if held is not None:
                del self.parts[name]
                stopping.append(held[1])
            if wanted and signature is not None:
                part = self._build(name, spec, settings, problems)
                if part is not None:
                    self.parts[name] = (signature, part)
        self._attach()
        for part in stopping:  # detached above: what they hold is flushed, nothing new arrives
            part.stop(final=active)

    def _build(self, name: str, spec: _Spec, settings: Settings, problems: Problems) -> Part | None:
        try:
            return spec.build(self, settings, problems)
        except Exception as exc:  # a part that cannot start costs only itself
            if problems.strict:
                raise
            problems.report(f"the {name.replace('_', '-')} exporter failed to start ({exc!r}); skipped")
            return None

    def _attach(self) -> None:
        parts = [self.parts[name][1] for name in _SPECS if name in self.parts]
        self.span_chain.set_downstream([*(p.span for p in parts if p.span is not None), *self.named_spans])
        self.log_chain.set_downstream([*(p.log for p in parts if p.log is not None), *self.named_logs])

    def stop_parts(self, final: bool) -> None:
        """Detach and stop every part (pipeline shutdown does the chains' share itself)."""
        parts = [part for _signature, part in self.parts.values()]
        self.parts.clear()
        self._attach()
        for part in parts:
            part.stop(final)

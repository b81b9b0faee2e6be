"""Assembles the providers: resource, sampler, processor chain, store and named exporters."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry._logs import set_logger_provider
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExporter, MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace import sampling as samplers
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from exporters.jsonl import JsonlLogExporter, JsonlMetricExporter, JsonlSpanProcessor
from exporters.jsonl_store import JsonlStore
from otel_distro import environment_variables as ev
from otel_distro.settings import Settings, SettingsError
from otel_distro.version import DISTRO_NAME, __version__
from processors.base import RecordProcessor
from processors.chain import LogChain, MetricsChainExporter, SpanChain

_logger = logging.getLogger("otel_distro")

STORE_EXPORTER_NAME = "jsonl"
STORE_QUEUE_SIZE = 16_384  # encoded spans are bytes: ~1 KB each, not a live span object
STORE_DELAY_MILLIS = 1_000
_NONE = "none"
_RATIO_SAMPLERS = {
    "traceidratio": samplers.TraceIdRatioBased,
    "parentbased_traceidratio": samplers.ParentBasedTraceIdRatio,
}
_FIXED_SAMPLERS = {
    "always_on": samplers.ALWAYS_ON,
    "always_off": samplers.ALWAYS_OFF,
    "parentbased_always_on": samplers.ParentBased(samplers.ALWAYS_ON),
    "parentbased_always_off": samplers.ParentBased(samplers.ALWAYS_OFF),
}


@dataclass
class Pipeline:
    """The providers and components one configuration installed."""

    settings: Settings
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    logger_provider: LoggerProvider
    store: JsonlStore | None
    span_chain: SpanChain
    log_chain: LogChain
    processors: tuple[RecordProcessor, ...]
    log_handler: logging.Handler | None = None
    _shut_down: bool = field(default=False, repr=False)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        flushed = self.tracer_provider.force_flush(timeout_millis)
        flushed = self.logger_provider.force_flush(timeout_millis) and flushed
        return self.meter_provider.force_flush(timeout_millis) and flushed

    def shutdown(self) -> None:
        if self._shut_down:
            return
        self._shut_down = True
        if self.log_handler is not None:
            logging.getLogger().removeHandler(self.log_handler)
        self.tracer_provider.shutdown()
        self.logger_provider.shutdown()
        self.meter_provider.shutdown()
        for processor in self.processors:
            processor.shutdown()


class _Problems:
    """Collects configuration problems found while assembling: warn, or raise when strict."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict

    def report(self, message: str) -> None:
        if self.strict:
            raise SettingsError(message)
        _logger.warning("otel-distro: %s", message)


def build_resource(settings: Settings) -> Resource:
    attributes: dict[str, Any] = dict(settings.resource_attributes)
    if settings.service_name:
        attributes["service.name"] = settings.service_name
    attributes["telemetry.distro.name"] = DISTRO_NAME
    attributes["telemetry.distro.version"] = __version__
    return Resource.create(attributes)


def build_sampler(settings: Settings, problems: _Problems) -> samplers.Sampler:
    name = (settings.traces_sampler or "parentbased_always_on").strip().lower()
    if name in _FIXED_SAMPLERS:
        return _FIXED_SAMPLERS[name]
    if name in _RATIO_SAMPLERS:
        rate = 1.0
        if settings.traces_sampler_arg is not None:
            try:
                rate = float(settings.traces_sampler_arg)
                if not 0.0 <= rate <= 1.0:
                    raise ValueError
            except ValueError:
                problems.report(
                    f"{ev.OTEL_TRACES_SAMPLER_ARG}={settings.traces_sampler_arg!r} is not valid; "
                    "accepted: a number from 0 to 1; using 1.0"
                )
                rate = 1.0
        return _RATIO_SAMPLERS[name](rate)
    from importlib.metadata import entry_points

    found = entry_points(group="opentelemetry_traces_sampler", name=name)
    try:
        factory = next(iter(found)).load()
        sampler = factory(settings.traces_sampler_arg)
        if isinstance(sampler, samplers.Sampler):
            return sampler
    except StopIteration:
        pass
    except Exception as exc:
        _logger.debug("sampler %s failed to load: %r", name, exc)
    known = sorted({*_FIXED_SAMPLERS, *_RATIO_SAMPLERS})
    problems.report(
        f"{ev.OTEL_TRACES_SAMPLER}={settings.traces_sampler!r} is not a sampler; accepted: "
        f"{', '.join(known)} or an opentelemetry_traces_sampler entry point; using parentbased_always_on"
    )
    return _FIXED_SAMPLERS["parentbased_always_on"]


def _named_exporters(
    names: Sequence[str], group: str, variable: str, problems: _Problems, accept: Callable[[Any], bool]
) -> list[Any]:
    """Instantiate the exporters named in an OTEL_*_EXPORTER list from their entry points."""
    from importlib.metadata import entry_points

    exporters = []
    for name in dict.fromkeys(names):
        if name in (_NONE, STORE_EXPORTER_NAME):
            continue
        found = list(entry_points(group=group, name=name))
        if not found:
            available = sorted({ep.name for ep in entry_points(group=group)} | {_NONE})
            problems.report(
                f"{variable} names '{name}', which is not installed; accepted: {', '.join(available)}"
            )
            continue
        try:
            exporter_class = found[0].load()
            if not accept(exporter_class):
                problems.report(
                    f"{variable} names '{name}', which cannot be placed behind the privacy chain; skipped"
                )
                continue
            exporters.append(exporter_class())
        except SettingsError:
            raise
        except Exception as exc:
            problems.report(f"{variable} exporter '{name}' failed to start ({exc!r}); skipped")
    return exporters


def _wants_store(settings: Settings, names: Sequence[str]) -> bool:
    return settings.store_enabled or STORE_EXPORTER_NAME in names


def _is_class(base: type) -> Callable[[Any], bool]:
    return lambda candidate: isinstance(candidate, type) and issubclass(candidate, base)


def _queue_for(exporter: object) -> tuple[int | None, int | None]:
    """(max queue size, schedule delay): the store gets a deep, quickly drained queue (local writes
    are cheap, bursts are not dropped); other exporters keep the SDK defaults and OTEL_BLRP_*."""
    if isinstance(exporter, JsonlLogExporter):
        return STORE_QUEUE_SIZE, STORE_DELAY_MILLIS
    return None, None


def _bridge_logging(provider: LoggerProvider) -> logging.Handler:
    from opentelemetry.instrumentation.logging.handler import LoggingHandler

    handler = LoggingHandler(logger_provider=provider)
    logging.getLogger().addHandler(handler)
    return handler


def build_pipeline(
    settings: Settings, processors: Sequence[RecordProcessor] = (), strict: bool = False, install: bool = True
) -> Pipeline:
    """Build the tracer, meter and logger providers for these settings; install them as the globals.

    ``install=False`` builds the same providers without touching global state (benchmarks, tests).
    """
    problems = _Problems(strict)
    chain = tuple(processors)
    resource = build_resource(settings)
    store: JsonlStore | None = None
    if any(
        _wants_store(settings, names)
        for names in (settings.traces_exporter, settings.metrics_exporter, settings.logs_exporter)
    ):
        store = JsonlStore(settings.store_dir, settings.retention_days)
        store.purge()

    span_downstream: list[SpanProcessor] = []
    if store is not None and _wants_store(settings, settings.traces_exporter):
        span_downstream.append(JsonlSpanProcessor(store, STORE_QUEUE_SIZE, STORE_DELAY_MILLIS))
    span_exporters: list[SpanExporter] = _named_exporters(
        settings.traces_exporter,
        "opentelemetry_traces_exporter",
        ev.OTEL_TRACES_EXPORTER,
        problems,
        _is_class(SpanExporter),
    )
    span_downstream += [BatchSpanProcessor(exporter) for exporter in span_exporters]
    span_chain = SpanChain(chain, span_downstream)
    tracer_provider = TracerProvider(resource=resource, sampler=build_sampler(settings, problems))
    tracer_provider.add_span_processor(span_chain)

    metric_exporters: list[MetricExporter] = []
    if store is not None and _wants_store(settings, settings.metrics_exporter):
        metric_exporters.append(JsonlMetricExporter(store))
    metric_exporters += _named_exporters(
        settings.metrics_exporter,
        "opentelemetry_metrics_exporter",
        ev.OTEL_METRICS_EXPORTER,
        problems,
        lambda c: _is_class(MetricExporter)(c) and not _is_class(MetricReader)(c),
    )
    readers = [
        PeriodicExportingMetricReader(
            MetricsChainExporter(chain, exporter), export_interval_millis=settings.metric_export_interval_ms
        )
        for exporter in metric_exporters
    ]
    meter_provider = MeterProvider(resource=resource, metric_readers=readers)

    log_exporters: list[LogRecordExporter] = []
    if store is not None and _wants_store(settings, settings.logs_exporter):
        log_exporters.append(JsonlLogExporter(store))
    log_exporters += _named_exporters(
        settings.logs_exporter,
        "opentelemetry_logs_exporter",
        ev.OTEL_LOGS_EXPORTER,
        problems,
        _is_class(LogRecordExporter),
    )
    log_downstream: list[LogRecordProcessor] = [
        BatchLogRecordProcessor(exporter, *_queue_for(exporter)) for exporter in log_exporters
    ]
    log_chain = LogChain(chain, log_downstream)
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(log_chain)

    pipeline = Pipeline(
        settings, tracer_provider, meter_provider, logger_provider, store, span_chain, log_chain, chain
    )
    if not install:
        return pipeline
    _install_globals(pipeline)
    if settings.log_bridge:
        pipeline.log_handler = _bridge_logging(logger_provider)
    _flush_in_multiprocessing_children(pipeline)
    return pipeline


def _install_globals(pipeline: Pipeline) -> None:
    """Make our providers the global ones, saying so clearly where the app installed its own first."""
    from opentelemetry import _logs

    taken = [
        name
        for name, current, proxy in (
            ("tracer", trace.get_tracer_provider(), trace.ProxyTracerProvider),
            ("meter", metrics.get_meter_provider(), metrics._internal._ProxyMeterProvider),
            ("logger", _logs.get_logger_provider(), _logs._internal.ProxyLoggerProvider),
        )
        if not isinstance(current, proxy)
    ]
    if taken:
        _logger.warning(
            "otel-distro: the app installed its own %s provider(s) before otel-distro was configured; "
            "those signals keep going to the app's provider, outside the otel-distro pipeline",
            ", ".join(taken),
        )
    trace.set_tracer_provider(pipeline.tracer_provider)
    metrics.set_meter_provider(pipeline.meter_provider)
    set_logger_provider(pipeline.logger_provider)


_fork_hook_lock = threading.Lock()
_fork_pipelines: list[Pipeline] = []


def _flush_in_multiprocessing_children(pipeline: Pipeline) -> None:
    """Make forked multiprocessing workers (which leave through os._exit) flush on exit."""
    with _fork_hook_lock:
        first = not _fork_pipelines
        _fork_pipelines.append(pipeline)
    if first:
        os.register_at_fork(after_in_child=_after_fork_in_child)


def _after_fork_in_child() -> None:
    mp_util = sys.modules.get("multiprocessing.util")
    if mp_util is None:
        return
    for pipeline in _fork_pipelines:
        # Runs after multiprocessing clears its finalizers in the new process.
        mp_util.register_after_fork(pipeline, _register_exit_flush)


def _register_exit_flush(pipeline: Pipeline) -> None:
    import multiprocessing.util

    multiprocessing.util.Finalize(pipeline, pipeline.shutdown, exitpriority=100)

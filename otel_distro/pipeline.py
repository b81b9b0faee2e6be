"""Assembles the providers: processor chain in front, then the store and the named exporters.

The providers, their chains and the exporters named in ``OTEL_*_EXPORTER`` are built here;
our own exporters are the parts declared in :mod:`otel_distro.parts` (the store's processors
among them), which the :class:`~otel_distro.switchboard.Switchboard` made here builds and
keeps in line with the settings.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry._logs import set_logger_provider
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace import sampling as samplers

from exporters.store.export import JsonlMetricExporter
from exporters.store.files import JsonlStore
from otel_distro import _sdk, lifecycle, self_metrics
from otel_distro.components import (
    LOGS,
    METRICS,
    TRACES,
    Signal,
    build_resource,
    exporter_classes,
)
from otel_distro.drop_ledger import DROPS_FILE, DropCounter, DropLedger
from otel_distro.named_export import QueuedLogExport, QueuedSpanExport
from otel_distro.problems import Problems
from otel_distro.runtime.errors import caught
from otel_distro.runtime.worker import run_bounded
from otel_distro.runtime.write_queue import WriteQueue
from otel_distro.settings import Settings, SettingsError
from otel_distro.switchboard import ReloadableSampler, Switchboard, privacy_signature
from processors.base import RecordProcessor
from processors.chain import LogChain, MetricsChainExporter, SpanChain

_logger = logging.getLogger("otel_distro")

SHUTDOWN_SECONDS = 10.0
FINAL_FLUSH_SECONDS = 0.5  # after SIGTERM's flush: what the chains finished reaches the store


class ChainedTracerProvider(TracerProvider):
    """A tracer provider whose span processors added later (by libraries) go behind the chain.

    ``admits(processor)`` may turn one away (the Langfuse SDK's, when the distro's Langfuse
    exporter already sends to its project).
    """

    def __init__(self, chain: SpanChain, **kwargs: Any) -> None:
        super().__init__(shutdown_on_exit=False, **kwargs)
        super().add_span_processor(chain)
        self.chain = chain
        self.admits: Callable[[SpanProcessor], bool] = _admit_all

    def add_span_processor(self, span_processor: SpanProcessor) -> None:
        if self.admits(span_processor):
            self.chain.add_downstream(span_processor)


def _admit_all(processor: SpanProcessor) -> bool:
    return True


class ChainedLoggerProvider(LoggerProvider):
    """A logger provider whose log processors added later go behind the chain."""

    def __init__(self, chain: LogChain, **kwargs: Any) -> None:
        super().__init__(shutdown_on_exit=False, **kwargs)
        super().add_log_record_processor(chain)
        self.chain = chain

    def add_log_record_processor(self, log_record_processor: LogRecordProcessor) -> None:
        self.chain.add_downstream(log_record_processor)


@dataclass
class Pipeline:
    """The providers and components one configuration installed."""

    settings: Settings
    tracer_provider: ChainedTracerProvider
    meter_provider: MeterProvider
    logger_provider: ChainedLoggerProvider
    store: JsonlStore
    switchboard: Switchboard
    log_bridge: Any = None
    guards: list[Any] = field(default_factory=list)  # other providers' processors, behind the chain
    unwatch: Callable[[], None] | None = None  # stops putting the chain in front of new providers
    ledger: DropLedger | None = None  # adds this process's drops to the store's drops.json
    named_exporters: list[Any] = field(default_factory=list)  # OTEL_*_EXPORTER's, failures counted
    _shut_down: bool = field(default=False, repr=False)

    @property
    def processors(self) -> tuple[RecordProcessor, ...]:
        return self.switchboard.processors

    def admits(self, processor: SpanProcessor) -> bool:
        """Whether a span processor a library adds gets the chain's spans (the Langfuse SDK's stands
        down where the distro's Langfuse exporter sends to the same project)."""
        from otel_distro.langfuse_sdk import stands_down

        langfuse_on = self.switchboard.part("langfuse") is not None
        return not stands_down(processor, self.settings.langfuse_public_key if langfuse_on else None)

    @property
    def uploader(self) -> Any:
        """The continuous upload, when opted in."""
        part = self.switchboard.part("upload")
        return part.upload if part is not None else None

    def drop_sources(self) -> list[DropCounter | JsonlStore]:
        """Every component that counts drops, the store first (see :mod:`otel_distro.drop_ledger`)."""
        board = self.switchboard
        sources: list[DropCounter | JsonlStore] = [self.store, board.span_chain.stats, board.log_chain.stats]
        sources += [chain.stats for chain in board.guarded_chains]
        sources += [exporter.stats for exporter in board.metric_exporters]
        sources += self.named_exporters
        if self.log_bridge is not None:
            sources.append(self.log_bridge.handler)
        for part in [held for _signature, held in list(board.parts.values())]:
            sources += [
                target for target in (part.span, part.log, part.upload) if isinstance(target, DropCounter)
            ]
        return sources

    def queues(self) -> list[tuple[str, int, int]]:
        """(component type, size, capacity) of the redaction worker's queue and our exporters'."""
        chain = self.switchboard.span_chain
        found = [(self_metrics.REDACTION_WORKER, chain.queued, chain.max_queue_size)]
        for name, (_signature, part) in list(self.switchboard.parts.items()):
            queue = getattr(part.span, "queue", None)
            if isinstance(queue, WriteQueue):
                found.append((f"otel_distro_{name}_queue", queue.items, queue.max_items))
        return found

    def dropped(self) -> dict[str, int]:
        """What this process dropped since it started recording, by reason."""
        return self.ledger.totals() if self.ledger is not None else {}

    @property
    def _providers(self) -> tuple[ChainedTracerProvider, ChainedLoggerProvider, MeterProvider]:
        return self.tracer_provider, self.logger_provider, self.meter_provider

    def apply(self, settings: Settings) -> None:
        """Apply changed settings to the running pipeline (what can change without a restart);
        after shutdown, nothing is started again."""
        if self._shut_down:
            return
        self.switchboard.apply(settings, Problems())
        self.settings = settings

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Flush the three signals side by side; returns by the deadline even if an exporter hangs."""
        return self.flush_for(timeout_millis / 1000)

    def flush_for(self, seconds: float, final: bool = False) -> bool:
        """:meth:`force_flush` for ``seconds``; ``final``: the process ends right after (SIGTERM
        at its default action), so what the chains' workers have not finished by then is counted
        as lost before the drop ledger is written."""
        flushes = [p.force_flush for p in (*self._providers, *self.guards)]
        flushed = run_bounded(flushes, seconds)
        if final and not flushed:
            board = self.switchboard
            for chain in (board.span_chain, board.log_chain, *board.guarded_chains):
                chain.abandon()
            # a short second pass: what the workers had finished reaches the store's files
            run_bounded(flushes, FINAL_FLUSH_SECONDS)
        if self.ledger is not None:
            self.ledger.persist()
        return flushed

    def shutdown(self) -> None:
        """Flush and stop everything: signals side by side within one deadline, so a dead endpoint
        cannot hold the process at exit, and each step on its own so one failure stops no other."""
        if self._shut_down:
            return
        self._shut_down = True
        if self.unwatch is not None:
            self.unwatch()
        if self.log_bridge is not None:
            run_bounded([self.log_bridge.remove], SHUTDOWN_SECONDS)
        # other providers go on: they get their own processors back (foreign_providers)
        run_bounded(
            [*(p.shutdown for p in self._providers), *(g.release for g in self.guards)], SHUTDOWN_SECONDS
        )
        uploader = self.uploader
        if uploader is not None:  # after the store flushed: the last pass sends the last spans
            run_bounded([uploader.shutdown], SHUTDOWN_SECONDS)
        run_bounded([processor.shutdown for processor in self.processors], SHUTDOWN_SECONDS)
        if self.ledger is not None:  # last: what stopping dropped is counted too
            run_bounded([self.ledger.close], SHUTDOWN_SECONDS)


class _PartsStopper:
    """Stops the switchboard's parts when a failed start is cleaned up."""

    def __init__(self, switchboard: Switchboard) -> None:
        self.switchboard = switchboard

    def shutdown(self) -> None:
        self.switchboard.stop_parts(final=False)


def _start_named(
    settings: Settings, signal: Signal, problems: Problems, wrap: Callable[[Any], Any]
) -> list[Any]:
    """Instantiate each exporter named for a signal and wrap it; one that fails is skipped."""
    started = []
    for name, exporter_class in exporter_classes(settings, signal, problems):
        try:
            started.append(wrap(exporter_class()))
        except SettingsError:
            raise
        except Exception as exc:  # noqa: BLE001 - a broken exporter costs only itself
            caught("starting an exporter", exc)
            problems.report(f"{signal.variable} exporter '{name}' failed to start ({exc!r}); skipped")
    return started


def validate_processors(processors: object, problems: Problems) -> tuple[RecordProcessor, ...]:
    if isinstance(processors, list | tuple) and all(isinstance(p, RecordProcessor) for p in processors):
        return tuple(processors)
    problems.report(
        f"configure(processors={processors!r:.80}) is not valid; accepted: a list of "
        "processors.base.RecordProcessor instances; using none"
    )
    return ()


def build_pipeline(
    settings: Settings,
    processors: Sequence[RecordProcessor] = (),
    strict: bool = False,
    install: bool = True,
) -> Pipeline:
    """Build the tracer, meter and logger providers for these settings; install them as the globals.

    ``install=False`` builds the same providers without touching global state (benchmarks, tests).
    Whatever was started is stopped again if assembly fails.
    """
    problems = Problems(strict=strict)
    from otel_distro.privacy import chain_processors

    extra = validate_processors(processors, problems)
    chain = chain_processors(settings, problems, extra)
    started: list[Any] = []
    try:
        pipeline = _assemble(settings, chain, extra, problems, started)
    except BaseException:
        for component in reversed(started):
            try:
                component.shutdown()
            except Exception as exc:  # noqa: BLE001 - already failing; report the first error
                caught("cleaning up a failed start", exc)  # a bug of ours: raised under the test suite
                _logger.debug("otel-distro: cleanup after a failed start: %r", exc)
        raise
    if install:
        from otel_distro.foreign_providers import ProviderGuard, guarded_chains

        pipeline.tracer_provider.admits = pipeline.admits
        own_chains = (pipeline.tracer_provider.chain, pipeline.logger_provider.chain)
        guard = ProviderGuard(chain, own_chains, pipeline.admits)
        pipeline.guards = guard.guard_live()  # the same list: guards made later join it
        board = pipeline.switchboard
        board.guarded_chains = guarded_chains(pipeline.guards)
        board.metric_exporters = (*board.metric_exporters, *guard.metric_guards)
        guard.board = board
        # providers a library or the app makes from now on (under zero-code: all of them)
        pipeline.unwatch = _sdk.watch_new_providers(guard.guard)
        _install_globals(pipeline)
        pipeline.ledger = DropLedger(settings.store_dir / DROPS_FILE, pipeline.drop_sources)
        if settings.log_bridge:
            from otel_distro.log_bridge import LogBridge

            pipeline.log_bridge = LogBridge(pipeline.logger_provider, settings.log_bridge_loggers)
        lifecycle.register(pipeline.shutdown, pipeline.flush_for)
    if settings.internal_metrics:
        self_metrics.register(pipeline.meter_provider, pipeline.queues, pipeline.dropped)
    return pipeline


def _unsent_counter(store: JsonlStore, settings: Settings) -> Callable[[str, Path], int]:
    """What the store asks before it purges a file: how much of it its followers have not sent
    (the followers' code is loaded only then: a purge is rare, a start-up is not)."""

    def unsent(signal: str, path: Path) -> int:
        from otel_distro.store_admin import unsent_counter

        return unsent_counter(store, settings.conversation_log_dir)(signal, path)

    return unsent


def store_options(settings: Settings) -> dict[str, Any]:
    """The store's sealer (encryption on) and disk guard, and this process's readers given its keys."""
    from exporters.store.guard import MB, DiskGuard
    from otel_distro.store_key import StoreKey, StoreSealer, install_readers

    install_readers(settings)
    guard = DiskGuard(
        settings.min_free_disk_mb * MB,
        settings.max_store_mb * MB if settings.max_store_mb is not None else None,
    )
    sealer = StoreSealer(StoreKey.of(settings)) if settings.store_encryption else None
    return {"sealer": sealer, "guard": guard}


def _assemble(
    settings: Settings,
    chain: tuple[RecordProcessor, ...],
    extra: tuple[RecordProcessor, ...],
    problems: Problems,
    started: list[Any],
) -> Pipeline:
    resource = build_resource(settings)
    # The store object always exists (it writes nothing until a part uses it), so the store can
    # be switched on while running; retention runs at start only where it is on.
    options = store_options(settings)  # encryption, disk guard
    store = JsonlStore(settings.store_dir, settings.retention_days, settings.retention, **options)
    store.unsent = _unsent_counter(store, settings)
    if any(signal.wants_store(settings) for signal in (TRACES, METRICS, LOGS)):
        store.purge()

    named_spans: list[Any] = _start_named(settings, TRACES, problems, QueuedSpanExport)
    started += named_spans
    # Fast-path privacy work runs as a span ends; spans with very large texts, and spans a
    # processor is slow on (presidio on free text), go to the worker.
    span_chain = SpanChain(chain, named_spans, run_inline=_inline_rule(chain))
    started.append(span_chain)
    sampler = ReloadableSampler(samplers.ALWAYS_ON)
    tracer_provider = ChainedTracerProvider(span_chain, resource=resource, sampler=sampler)

    metric_exporters: list[MetricsChainExporter] = []

    def metric_reader(exporter: Any, named: bool = True) -> MetricReader:
        wrapped = MetricsChainExporter(chain, exporter, count_failures=named)  # the store counts its own
        metric_exporters.append(wrapped)
        interval = settings.metric_export_interval_ms
        return PeriodicExportingMetricReader(wrapped, export_interval_millis=interval)

    readers = [metric_reader(JsonlMetricExporter(store), named=False)]
    readers += _start_named(settings, METRICS, problems, metric_reader)
    started += readers
    meter_provider = MeterProvider(resource=resource, metric_readers=readers, shutdown_on_exit=False)
    started.append(meter_provider)

    named_logs: list[Any] = _start_named(settings, LOGS, problems, QueuedLogExport)
    started += named_logs
    log_chain = LogChain(chain, named_logs)
    started.append(log_chain)
    logger_provider = ChainedLoggerProvider(log_chain, resource=resource)

    switchboard = Switchboard(
        store=store,
        resource=resource,
        span_chain=span_chain,
        log_chain=log_chain,
        store_metrics=metric_exporters[0],
        metric_exporters=metric_exporters,
        named_spans=named_spans,
        named_logs=named_logs,
        sampler=sampler,
        extra_processors=extra,
        processors=chain,
        privacy_signature=privacy_signature(settings),
        inline_rule=_inline_rule,
    )
    started.append(_PartsStopper(switchboard))
    switchboard.apply(settings, problems)
    return Pipeline(
        settings,
        tracer_provider,
        meter_provider,
        logger_provider,
        store,
        switchboard,
        named_exporters=[*named_spans, *named_logs],
    )


def _inline(span: ReadableSpan) -> bool:
    return True


def _inline_rule(chain: Sequence[RecordProcessor]) -> Callable[[ReadableSpan], bool]:
    """Which spans the chain may process on the app thread (the chain itself sends large ones off)."""
    slow = [p for p in chain if type(p).needs_worker is not RecordProcessor.needs_worker]
    if not slow:
        return _inline

    def inline(span: ReadableSpan) -> bool:
        return not any(processor.needs_worker(span) for processor in slow)

    return inline


def _install_globals(pipeline: Pipeline) -> None:
    """Make our providers the global ones, saying so clearly where the app installed its own first."""
    from opentelemetry import _logs

    taken = [
        name
        for name, current, is_proxy in (
            ("tracer", trace.get_tracer_provider(), lambda p: isinstance(p, trace.ProxyTracerProvider)),
            ("meter", metrics.get_meter_provider(), _sdk.is_proxy_meter_provider),
            ("logger", _logs.get_logger_provider(), _sdk.is_proxy_logger_provider),
        )
        if not is_proxy(current)
    ]
    if "meter" in taken:
        _logger.warning(
            "otel-distro: the app installed its own meter provider before otel-distro was configured; "
            "metrics keep going to the app's provider, outside the otel-distro pipeline",
        )
    if "tracer" in taken or "logger" in taken:
        _logger.warning(
            "otel-distro: the app installed its own %s provider(s) before otel-distro was configured; "
            "what they record now passes otel-distro's privacy processors and reaches its exporters too",
            ", ".join(name for name in taken if name != "meter"),
        )
    if "tracer" not in taken:  # a provider set first stays the global one (the API allows one)
        trace.set_tracer_provider(pipeline.tracer_provider)
    if "meter" not in taken:
        metrics.set_meter_provider(pipeline.meter_provider)
    if "logger" not in taken:
        set_logger_provider(pipeline.logger_provider)

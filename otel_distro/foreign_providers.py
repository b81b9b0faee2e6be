"""Providers the distro did not make: their processors and exporters get only redacted records.

A library may build its own SDK provider before ``configure()`` runs (the Langfuse SDK's
``get_client()`` at module level does, and makes it the global one), or after it (under
zero-code, everything the app imports comes after); an app may set its own. Their processors
would export around the privacy chain. At configuration every SDK tracer, logger and meter
provider alive in the process is taken over, and from then on every new one, right before its
first processor is added (a meter provider once it is made): a tracer's or logger's processors
move behind a chain of the privacy processors, so each receives only redacted copies, and
processors added to it later go there too; a meter provider's push readers export through the
chain. The global provider, if it is such a one, feeds the distro's own pipeline as well, as
the distro's provider would have. A provider whose shape is unknown is shut down instead, so
that it exports nothing, and a warning says so, as it does for a pull reader (Prometheus).
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry._logs import get_logger_provider
from opentelemetry.context import Context
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider

from otel_distro import _sdk
from otel_distro.runtime.errors import caught
from processors.base import RecordProcessor
from processors.chain import LogChain, MetricsChainExporter, SpanChain

_logger = logging.getLogger("otel_distro")
_GUARDED = "_otel_distro_guarded"  # set on a provider once it is behind a chain (any provider
# takes an attribute; not all can be kept in a set: a dataclass's are unhashable)


class _Guard:
    """What both guards do at flush and shutdown: their own chain is flushed and stopped, and
    the provider gets its processors back, so an app that goes on after the distro's shutdown
    keeps its own exporters; the distro's chain (a provider that is the global one feeds it)
    is only flushed."""

    chain: SpanChain | LogChain
    owns_chain: bool
    provider: Callable[[], object | None] = staticmethod(lambda: None)  # a weak reference
    # once given back: the provider's own composite, which tracers and loggers made while the
    # guard stood in still reach through it
    given_back: Any = None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.chain.force_flush(timeout_millis)

    def shutdown(self) -> None:
        """The provider itself is shut down: its processors stop with the chain, as without the
        distro (the distro's own chain is only flushed)."""
        if self.owns_chain and self.given_back is None:
            self.chain.shutdown()
        elif self.given_back is not None:
            self.given_back.shutdown()
        else:
            self.chain.force_flush()

    def release(self) -> None:
        """The distro stops and the provider goes on: its chain is flushed and stopped, and it
        gets its processors back (tracers and loggers made meanwhile reach them through this
        guard); the distro's own chain is only flushed."""
        self.chain.force_flush()
        if not self.owns_chain:
            return
        provider = self.provider()
        processors = self.chain.downstream
        if isinstance(provider, TracerProvider):
            self.given_back = _sdk.give_back_span_processors(provider, processors)
        elif isinstance(provider, LoggerProvider):
            self.given_back = _sdk.give_back_log_processors(provider, processors)
        if self.given_back is not None:
            self.chain.close()
        else:
            self.chain.shutdown()


class GuardedSpanProcessors(_Guard, SpanProcessor):
    """Stands in for a provider's span processors: each span passes the chain, then reaches them."""

    chain: SpanChain

    def __init__(
        self, chain: SpanChain, owns_chain: bool, admits: Callable[[SpanProcessor], bool] = bool
    ) -> None:
        self.chain = chain
        self.owns_chain = owns_chain  # False: the distro's own chain, shut down by the distro
        self.admits = admits

    def add_span_processor(self, span_processor: SpanProcessor) -> None:
        if self.admits(span_processor):
            self.chain.add_downstream(span_processor)

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if self.given_back is not None:
            self.given_back.on_start(span, parent_context=parent_context)
            return
        self.chain.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        if self.given_back is not None:
            self.given_back.on_end(span)
            return
        self.chain.on_end(span)


class GuardedLogProcessors(_Guard, LogRecordProcessor):
    """Stands in for a provider's log record processors, as :class:`GuardedSpanProcessors`."""

    chain: LogChain

    def __init__(self, chain: LogChain, owns_chain: bool) -> None:
        self.chain = chain
        self.owns_chain = owns_chain

    def add_log_record_processor(self, log_record_processor: LogRecordProcessor) -> None:
        self.chain.add_downstream(log_record_processor)

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        if self.given_back is not None:
            self.given_back.on_emit(log_record)
            return
        self.chain.on_emit(log_record)


def guarded_chains(guards: Sequence[object]) -> tuple[SpanChain | LogChain, ...]:
    """The chains the guards made of their own (not the distro's), for settings and drop counts."""
    return tuple(
        guard.chain
        for guard in guards
        if isinstance(guard, GuardedSpanProcessors | GuardedLogProcessors) and guard.owns_chain
    )


def _foreign(provider: object) -> bool:
    """Not one of the distro's own providers (this or an earlier configuration), nor guarded yet."""
    return not type(provider).__module__.startswith("otel_distro") and not getattr(provider, _GUARDED, False)


class ProviderGuard:
    """Puts the privacy chain in front of SDK providers the distro did not make: those alive at
    configuration (:meth:`guard_live`), and those made later (:meth:`guard`, called by
    ``_sdk.watch_new_providers`` before a provider's first processor is added). ``guards``: what
    it put in front, each to be flushed and shut down with the pipeline."""

    def __init__(
        self,
        processors: Sequence[RecordProcessor],
        own_chains: tuple[SpanChain, LogChain],
        admits: Callable[[SpanProcessor], bool] = bool,
    ) -> None:
        self.processors = processors
        self.own_chains = own_chains
        self.admits = admits
        self.guards: list[SpanProcessor | LogRecordProcessor] = []
        self.metric_guards: list[MetricsChainExporter] = []
        self.board: Any = None  # the switchboard, once the pipeline runs
        self.refused: list[str] = []
        self.unguarded_readers: list[str] = []
        self._lock = threading.RLock()

    def guard_live(self) -> list[SpanProcessor | LogRecordProcessor]:
        """Every provider alive now; says how many, and which could not be guarded."""
        tracers, loggers, meters = _sdk.live_providers()
        for provider in (*tracers, *loggers, *meters):
            self.guard(provider, later=False)
        if self.guards or self.metric_guards:
            _logger.info(
                "otel-distro: %d provider(s) made before otel-distro was configured now export only "
                "redacted records",
                len(self.guards) + len(self.metric_guards),
            )
        return self.guards

    def guard(self, provider: object, later: bool = True) -> None:
        """Put the chain in front of one provider (once); never raises."""
        try:
            if not _foreign(provider):
                return
            with self._lock:
                if getattr(provider, _GUARDED, False):
                    return
                setattr(provider, _GUARDED, True)
                if isinstance(provider, TracerProvider):
                    self._guard_tracer(provider)
                elif isinstance(provider, LoggerProvider):
                    self._guard_logger(provider)
                elif isinstance(provider, MeterProvider):
                    self._guard_meter(provider)
        except Exception as exc:  # noqa: BLE001 - a provider of an unknown shape: it exports nothing
            caught("putting the privacy chain in front of a provider", exc)
            self._refuse(provider)
        if self.refused or self.unguarded_readers:
            self._warn(later)

    def _guard_tracer(self, provider: TracerProvider) -> None:
        shared = provider is trace.get_tracer_provider()  # the app's spans go there: ours too
        chain = self.own_chains[0] if shared else SpanChain(self._current(), ())
        span_guard = GuardedSpanProcessors(chain, owns_chain=not shared, admits=self.admits)
        taken = _sdk.take_span_processors(provider, span_guard)
        if taken is None:
            self._refuse(provider)
            return
        for processor in taken:
            span_guard.add_span_processor(processor)
        span_guard.provider = weakref.ref(provider)
        self._added(span_guard, chain if not shared else None)

    def _guard_logger(self, provider: LoggerProvider) -> None:
        shared = provider is get_logger_provider()
        log_chain = self.own_chains[1] if shared else LogChain(self._current(), ())
        log_guard = GuardedLogProcessors(log_chain, owns_chain=not shared)
        taken = _sdk.take_log_processors(provider, log_guard)
        if taken is None:
            self._refuse(provider)
            return
        for log_processor in taken:
            log_chain.add_downstream(log_processor)
        log_guard.provider = weakref.ref(provider)
        self._added(log_guard, log_chain if not shared else None)

    def _guard_meter(self, provider: MeterProvider) -> None:
        """Each push reader's exporter behind the chain (the distro's own are behind it already);
        a pull reader (Prometheus) is read by its own server: named in a warning."""
        for reader in _sdk.metric_readers(provider):
            exporter = _sdk.reader_exporter(reader)
            if exporter is None:
                self.unguarded_readers.append(type(reader).__name__)
            elif not isinstance(exporter, MetricsChainExporter):
                wrapped = MetricsChainExporter(self._current(), exporter, count_failures=True)
                wrapped.recording = self.own_chains[0].recording
                _sdk.set_reader_exporter(reader, wrapped)
                self.metric_guards.append(wrapped)
                if self.board is not None:
                    self.board.metric_exporters = (*self.board.metric_exporters, wrapped)

    def _added(self, guard: SpanProcessor | LogRecordProcessor, chain: SpanChain | LogChain | None) -> None:
        """A new guard; ``chain``: its own chain (None: it feeds the distro's)."""
        self.guards.append(guard)
        if chain is not None:
            chain.recording = self.own_chains[0].recording
            if self.board is not None:
                self.board.guarded_chains = (*self.board.guarded_chains, chain)

    def _current(self) -> Sequence[RecordProcessor]:
        """The privacy processors as they are now (a reload may have changed them)."""
        return self.own_chains[0].processors or self.processors

    def _refuse(self, provider: object) -> None:
        shutdown = getattr(provider, "shutdown", None)
        if callable(shutdown):
            shutdown()
        self.refused.append(type(provider).__name__)

    def _warn(self, later: bool) -> None:
        when = "made after" if later else "made before"
        if self.refused:
            _logger.warning(
                "otel-distro: provider(s) %s %s otel-distro was configured could not be put behind "
                "its privacy processors and were shut down: they export nothing",
                ", ".join(self.refused),
                when,
            )
        if self.unguarded_readers:
            _logger.warning(
                "otel-distro: metric reader(s) %s of a meter provider %s otel-distro was configured "
                "serve their metrics themselves; their attributes are not redacted",
                ", ".join(self.unguarded_readers),
                when,
            )
        self.refused, self.unguarded_readers = [], []

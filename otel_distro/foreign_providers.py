"""Providers made before the distro was configured: their processors get only redacted records.

A library may build its own SDK provider before ``configure()`` runs (the Langfuse SDK's
``get_client()`` at module level does, and makes it the global one); an app may set its own.
Their processors would export around the privacy chain. At configuration every SDK tracer and
logger provider alive in the process is taken over: its processors move behind a chain of the
privacy processors, so each receives only redacted copies, and processors added to it later go
there too. The global provider, if it is such a one, feeds the distro's own pipeline as well,
as the distro's provider would have. A provider whose shape is unknown is shut down instead,
so that it exports nothing, and a warning says so.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Sequence

from opentelemetry import trace
from opentelemetry._logs import get_logger_provider
from opentelemetry.context import Context
from opentelemetry.sdk._logs import LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from otel_distro import _sdk
from processors.base import RecordProcessor
from processors.chain import LogChain, SpanChain

_logger = logging.getLogger("otel_distro")
_guarded: weakref.WeakSet[object] = weakref.WeakSet()  # providers already behind a chain


class GuardedSpanProcessors(SpanProcessor):
    """Stands in for a provider's span processors: each span passes the chain, then reaches them."""

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
        self.chain.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        self.chain.on_end(span)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.chain.force_flush(timeout_millis)

    def shutdown(self) -> None:
        if self.owns_chain:
            self.chain.shutdown()
        else:
            self.chain.force_flush()


class GuardedLogProcessors(LogRecordProcessor):
    """Stands in for a provider's log record processors, as :class:`GuardedSpanProcessors`."""

    def __init__(self, chain: LogChain, owns_chain: bool) -> None:
        self.chain = chain
        self.owns_chain = owns_chain

    def add_log_record_processor(self, log_record_processor: LogRecordProcessor) -> None:
        self.chain.add_downstream(log_record_processor)

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        self.chain.on_emit(log_record)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.chain.force_flush(timeout_millis)

    def shutdown(self) -> None:
        if self.owns_chain:
            self.chain.shutdown()
        else:
            self.chain.force_flush()


def guarded_chains(guards: Sequence[object]) -> tuple[SpanChain | LogChain, ...]:
    """The chains the guards made of their own (not the distro's), for settings and drop counts."""
    return tuple(
        guard.chain
        for guard in guards
        if isinstance(guard, GuardedSpanProcessors | GuardedLogProcessors) and guard.owns_chain
    )


def _foreign(provider: object) -> bool:
    """Not one of the distro's own providers (this or an earlier configuration), nor guarded yet."""
    return not type(provider).__module__.startswith("otel_distro") and provider not in _guarded


def guard_providers(
    processors: Sequence[RecordProcessor],
    own_chains: tuple[SpanChain, LogChain],
    admits: Callable[[SpanProcessor], bool] = bool,
) -> list[SpanProcessor | LogRecordProcessor]:
    """Put the privacy chain in front of every other SDK provider alive now; returns the guards
    (each to be shut down with the pipeline)."""
    tracers, loggers = _sdk.live_providers()
    global_tracer, global_logger = trace.get_tracer_provider(), get_logger_provider()
    guards: list[SpanProcessor | LogRecordProcessor] = []
    refused: list[str] = []
    for provider in tracers:
        if not _foreign(provider):
            continue
        shared = provider is global_tracer  # the app's spans go there: they feed our pipeline too
        chain = own_chains[0] if shared else SpanChain(processors, ())
        span_guard = GuardedSpanProcessors(chain, owns_chain=not shared, admits=admits)
        taken = _sdk.take_span_processors(provider, span_guard)
        if taken is None:
            provider.shutdown()
            refused.append(type(provider).__name__)
            continue
        for processor in taken:
            span_guard.add_span_processor(processor)
        _guarded.add(provider)
        guards.append(span_guard)
    for log_provider in loggers:
        if not _foreign(log_provider):
            continue
        shared = log_provider is global_logger
        log_chain = own_chains[1] if shared else LogChain(processors, ())
        log_guard = GuardedLogProcessors(log_chain, owns_chain=not shared)
        taken_logs = _sdk.take_log_processors(log_provider, log_guard)
        if taken_logs is None:
            log_provider.shutdown()
            refused.append(type(log_provider).__name__)
            continue
        for log_processor in taken_logs:
            log_chain.add_downstream(log_processor)
        _guarded.add(log_provider)
        guards.append(log_guard)
    if guards:
        _logger.info(
            "otel-distro: %d provider(s) made before otel-distro was configured now export only "
            "redacted records",
            len(guards),
        )
    if refused:
        _logger.warning(
            "otel-distro: provider(s) %s made before otel-distro was configured could not be put "
            "behind its privacy processors and were shut down: they export nothing",
            ", ".join(refused),
        )
    return guards

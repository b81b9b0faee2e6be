"""The SDK internals the distro relies on, read and written here only, each marked as such.

Public SDK API has no way to list the providers a process holds or to put a processor in
front of a provider's existing ones; these helpers do it with the fewest private names:
``TracerProvider._active_span_processor`` and its ``_span_processors`` tuple,
``LoggerProvider._multi_log_record_processor`` and its ``_log_record_processors`` tuple.
A test checks, on the installed SDK, that each still exists.
"""

from __future__ import annotations

import gc
from typing import Any

from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

PRIVATE_NAMES = {
    TracerProvider: ("_active_span_processor",),
    LoggerProvider: ("_multi_log_record_processor",),
}


def _subclasses(kind: type) -> set[type]:
    found = {kind}
    sub: type
    for sub in kind.__subclasses__():
        found |= _subclasses(sub)
    return found


def live_providers() -> tuple[list[TracerProvider], list[LoggerProvider]]:
    """Every SDK tracer and logger provider alive in the process (a scan of the GC's objects:
    about 14 ms per 100,000 objects; ``type()``, never ``isinstance``, which runs lazy proxies)."""
    tracer_types = _subclasses(TracerProvider)
    logger_types = _subclasses(LoggerProvider)
    tracers: list[TracerProvider] = []
    loggers: list[LoggerProvider] = []
    for obj in gc.get_objects():
        kind = type(obj)
        if kind in tracer_types:
            tracers.append(obj)
        elif kind in logger_types:
            loggers.append(obj)
    return tracers, loggers


def _multi(provider: Any, name: str, members: str) -> Any | None:
    multi = getattr(provider, name, None)  # private: the provider's composite processor
    return multi if isinstance(getattr(multi, members, None), tuple) else None


def take_span_processors(provider: TracerProvider, front: SpanProcessor) -> tuple[SpanProcessor, ...] | None:
    """Put ``front`` in place of every span processor of ``provider`` and return them (``None``:
    this provider's shape is unknown). Its tracers made earlier hold the composite processor, so
    its members are replaced; later ``add_span_processor`` calls reach ``front``."""
    multi = _multi(provider, "_active_span_processor", "_span_processors")
    if multi is None:
        return None
    with multi._lock:  # private: the composite's own lock, as its add_span_processor takes it
        taken: tuple[SpanProcessor, ...] = multi._span_processors
        multi._span_processors = (front,)
    provider._active_span_processor = front  # type: ignore[assignment]
    return taken


def take_log_processors(
    provider: LoggerProvider, front: LogRecordProcessor
) -> tuple[LogRecordProcessor, ...] | None:
    """As :func:`take_span_processors`, for a logger provider's log record processors."""
    multi = _multi(provider, "_multi_log_record_processor", "_log_record_processors")
    if multi is None:
        return None
    with multi._lock:  # private, as above
        taken: tuple[LogRecordProcessor, ...] = multi._log_record_processors
        multi._log_record_processors = (front,)
    provider._multi_log_record_processor = front  # type: ignore[assignment]
    return taken

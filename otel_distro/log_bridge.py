"""Bridges Python ``logging`` into the log pipeline without ever raising into the app.

Uses the handler of ``opentelemetry-instrumentation-logging``. Records of the telemetry
machinery itself (our loggers, the SDK's) stay out of the pipeline they describe. If the
root logger had no handler, Python would have printed warnings through ``logging.lastResort``;
a handler of the same kind is added so adding the bridge changes nothing the app prints.
``basicConfig``/``dictConfig``/``fileConfig`` keep working: our handlers step aside during
the call, and the bridge comes back after it.
"""

from __future__ import annotations

import logging
import logging.config
import sys
import threading
from collections.abc import Callable
from typing import Any

from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.sdk._logs import LoggerProvider

_OWN_LOGGERS = ("otel_distro", "exporters", "processors", "opentelemetry")
_CONFIG_FUNCTIONS = (
    (logging, "basicConfig"),
    (logging.config, "dictConfig"),
    (logging.config, "fileConfig"),
)


class SafeLoggingHandler(LoggingHandler):
    """The OTel logging handler, minus any way to raise into the caller."""

    def __init__(self, logger_provider: LoggerProvider) -> None:
        super().__init__(logger_provider=logger_provider)
        self.failures = 0
        self._warned = False
        self._count_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(_OWN_LOGGERS):
            return
        try:
            super().emit(record)
        except Exception as exc:  # noqa: BLE001 - e.g. a bad %-format or a __str__ that raises
            with self._count_lock:
                self.failures += 1
                warn = not self._warned
                self._warned = True
            if warn:
                sys.stderr.write(
                    f"otel-distro: a log record could not be bridged ({exc!r}); it was skipped "
                    "(further failures are counted)\n"
                )


class LogBridge:
    """The handlers installed on the root logger, and their removal."""

    def __init__(self, provider: LoggerProvider) -> None:
        root = logging.getLogger()
        self.handler = SafeLoggingHandler(provider)
        self.fallback: logging.Handler | None = None
        if not root.handlers:
            self.fallback = logging.StreamHandler(sys.stderr)
            self.fallback.setLevel(logging.WARNING)
        root.addHandler(self.handler)
        if self.fallback is not None:
            root.addHandler(self.fallback)
        self._originals: list[tuple[Any, str, Callable[..., Any]]] = []
        for module, name in _CONFIG_FUNCTIONS:
            original = getattr(module, name)
            self._originals.append((module, name, original))
            setattr(module, name, self._wrap(original))

    def _wrap(self, config: Callable[..., Any]) -> Callable[..., Any]:
        def configure_logging(*args: Any, **kwargs: Any) -> Any:
            root = logging.getLogger()
            for handler in (self.handler, self.fallback):
                if handler is not None and handler in root.handlers:
                    root.removeHandler(handler)
            try:
                return config(*args, **kwargs)
            finally:
                root.addHandler(self.handler)
                if self.fallback is not None and len(root.handlers) == 1:
                    root.addHandler(self.fallback)  # the app configured no handler of its own
                else:
                    self.fallback = None

        configure_logging.__wrapped__ = config  # type: ignore[attr-defined]
        return configure_logging

    def remove(self) -> None:
        root = logging.getLogger()
        for handler in (self.handler, self.fallback):
            if handler is not None:
                root.removeHandler(handler)
        for module, name, original in self._originals:
            setattr(module, name, original)

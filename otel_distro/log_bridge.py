"""Bridges Python ``logging`` into the log pipeline without raising into the app or changing its output.

The handler of ``opentelemetry-instrumentation-logging`` sits on the root logger, as OTel's
bridge always does, with three guards:

- nothing raises into the caller (a bad %-format, a ``__str__`` that fails);
- records of the telemetry machinery (our loggers, the SDK's, and anything logged while an
  exporter is exporting, such as urllib3's connection messages) stay out of the pipeline
  they describe, so exporting cannot feed itself;
- what the app prints stays as it was: where no other handler would have taken a record,
  it goes to ``logging.lastResort`` exactly as Python would have sent it, and the
  module-level ``logging.warning()`` & co. still run their implicit ``basicConfig()``.

``basicConfig``/``dictConfig``/``fileConfig`` keep working: our handler steps aside during
the call and comes back after it.
"""

from __future__ import annotations

import logging
import logging.config
import threading
from collections.abc import Callable
from typing import Any

from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, get_value
from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.sdk._logs import LoggerProvider

_OWN_LOGGERS = ("otel_distro", "exporters", "processors", "opentelemetry")
_CONFIG_FUNCTIONS = ((logging, "basicConfig"), (logging.config, "dictConfig"), (logging.config, "fileConfig"))
# The module-level helpers call basicConfig() themselves when the root logger has no handler.
_MODULE_HELPERS = ("critical", "fatal", "error", "exception", "warning", "warn", "info", "debug", "log")


def _is_own(name: str) -> bool:
    return any(name == own or name.startswith(own + ".") for own in _OWN_LOGGERS)


class SafeLoggingHandler(LoggingHandler):
    """The OTel logging handler, minus any way to raise into the caller or to change its output."""

    def __init__(self, logger_provider: LoggerProvider) -> None:
        super().__init__(logger_provider=logger_provider)
        self.failures = 0
        self._warned = False
        self._count_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        if not _is_own(record.name) and not get_value(_SUPPRESS_INSTRUMENTATION_KEY):
            try:
                super().emit(record)
            except Exception as exc:  # noqa: BLE001 - e.g. a bad %-format or a __str__ that raises
                self._failed(exc)
        self._last_resort(record)

    def _failed(self, exc: Exception) -> None:
        with self._count_lock:
            self.failures += 1
            warn = not self._warned
            self._warned = True
        if warn and logging.lastResort is not None:
            logging.lastResort.handle(
                logging.makeLogRecord(
                    {
                        "msg": f"otel-distro: a log record could not be bridged ({exc!r}); it was skipped "
                        "(further failures are counted)",
                        "levelno": logging.WARNING,
                        "levelname": "WARNING",
                    }
                )
            )

    def _last_resort(self, record: logging.LogRecord) -> None:
        """Do what ``Logger.callHandlers`` does when it finds no handler: this one does not count."""
        last_resort = logging.lastResort
        if last_resort is None or record.levelno < last_resort.level:
            return
        logger: logging.Logger | None = logging.getLogger(record.name)
        while logger is not None:
            if any(handler is not self for handler in logger.handlers):
                return
            if not logger.propagate:
                break
            logger = logger.parent
        last_resort.handle(record)

    def flush(self) -> None:
        try:
            super().flush()
        except RuntimeError:  # e.g. no new threads at interpreter shutdown (Python 3.12)
            return


class LogBridge:
    """The handler installed on the root logger, the logging functions wrapped for it, and their removal."""

    def __init__(self, provider: LoggerProvider) -> None:
        self.handler = SafeLoggingHandler(provider)
        logging.getLogger().addHandler(self.handler)
        self._originals: list[tuple[Any, str, Callable[..., Any]]] = []
        for module, name in _CONFIG_FUNCTIONS:
            self._replace(module, name, self._configuring)
        for name in _MODULE_HELPERS:
            self._replace(logging, name, self._module_helper)

    def _replace(
        self, module: Any, name: str, wrapper: Callable[[Callable[..., Any]], Callable[..., Any]]
    ) -> None:
        original = getattr(module, name)
        self._originals.append((module, name, original))
        wrapped = wrapper(original)
        wrapped.__wrapped__ = original  # type: ignore[attr-defined]
        setattr(module, name, wrapped)

    def _only_ours(self) -> bool:
        return all(handler is self.handler for handler in logging.getLogger().handlers)

    def _configuring(self, config: Callable[..., Any]) -> Callable[..., Any]:
        def configure_logging(*args: Any, **kwargs: Any) -> Any:
            root = logging.getLogger()
            if self.handler in root.handlers:
                root.removeHandler(self.handler)
            try:
                return config(*args, **kwargs)
            finally:
                root.addHandler(self.handler)

        return configure_logging

    def _module_helper(self, helper: Callable[..., Any]) -> Callable[..., Any]:
        def log(*args: Any, **kwargs: Any) -> Any:
            if self._only_ours():
                logging.basicConfig()  # what the helper would have done with no handler at all
            return helper(*args, **kwargs)

        return log

    def remove(self) -> None:
        logging.getLogger().removeHandler(self.handler)
        for module, name, original in reversed(self._originals):
            setattr(module, name, original)

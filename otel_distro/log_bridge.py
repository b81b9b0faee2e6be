"""Bridges Python ``logging`` into the log pipeline without raising into the app or changing its output.

The bridge is not a handler on the root logger: libraries decide whether to print by looking
at ``logging.root.handlers`` (werkzeug adds its console handler and sets INFO only when the
root has none; Flask adds its default handler only when no handler in the hierarchy takes the
level), and Python's ``lastResort`` and the implicit ``basicConfig()`` of ``logging.warning()``
look there too. A handler of ours in that list silenced werkzeug's banner and access log and
changed Flask's format. So the bridge wraps ``Logger.callHandlers`` instead (as Sentry's logging
integration does): Python sends a record to the app's handlers exactly as it would without us,
then the bridge takes the record if it reached the root logger, as a root handler would have.

Servers log through loggers that do not propagate (uvicorn's access and error loggers,
gunicorn's): records passing one of the loggers named in :data:`SERVER_LOGGERS`, or in the
``log_bridge_loggers`` setting, are bridged too.

Guards: nothing raises into the caller (a bad %-format, a ``__str__`` that fails); records of
the telemetry machinery (our loggers, the SDK's, and anything logged while an exporter is
exporting, such as urllib3's connection messages) stay out of the pipeline they describe.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.sdk._logs import LoggerProvider

from otel_distro._sdk import instrumentation_suppressed
from otel_distro.runtime.errors import caught
from otel_distro.runtime.say_once import SayOnce

_OWN_LOGGERS = ("otel_distro", "exporters", "processors", "opentelemetry")
# Servers' loggers that do not propagate to the root logger, bridged whenever the bridge is on.
SERVER_LOGGERS = ("uvicorn", "uvicorn.access", "uvicorn.error", "gunicorn.error", "gunicorn.access")

CallHandlers = Callable[[logging.Logger, logging.LogRecord], None]


def _is_own(name: str) -> bool:
    return any(name == own or name.startswith(own + ".") for own in _OWN_LOGGERS)


class SafeLoggingHandler(LoggingHandler):
    """The OTel logging handler, minus any way to raise into the caller."""

    def __init__(self, logger_provider: LoggerProvider) -> None:
        super().__init__(logger_provider=logger_provider)
        self.failures = 0
        # said through logging.lastResort (see _not_bridged)
        self._said = SayOnce(logging.getLogger(__name__))
        self._count_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        if _is_own(record.name) or instrumentation_suppressed():
            return
        try:
            super().emit(record)
        except Exception as exc:  # noqa: BLE001 - the app's own bad call: a %-format, a __str__ that raises
            self._not_bridged(exc)  # (raised in the standard library's formatting, not a bug of ours)

    def drop_counts(self) -> dict[str, int]:
        """Records that could not be bridged (a DropCounter: ``otel-distro stats`` shows them)."""
        return {"log_bridge_failed": self.failures}

    def _not_bridged(self, exc: Exception) -> None:
        with self._count_lock:
            self.failures += 1
        if self._said.first() and logging.lastResort is not None:
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

    def flush(self) -> None:
        try:
            super().flush()
        except RuntimeError:  # e.g. no new threads at interpreter shutdown (Python 3.12)
            return


class LogBridge:
    """``Logger.callHandlers`` wrapped to hand each record that reaches the root logger (or passes
    a bridged non-propagating logger) to the OTel handler, after the app's own handlers; and its removal."""

    def __init__(self, provider: LoggerProvider, loggers: Iterable[str] = ()) -> None:
        self.handler = SafeLoggingHandler(provider)
        self.loggers = frozenset((*SERVER_LOGGERS, *(name.strip() for name in loggers if name.strip())))
        self._active = True
        self._busy = threading.local()
        self._original: CallHandlers = logging.Logger.callHandlers
        original = self._original
        bridge = self._bridge

        def call_handlers(logger: logging.Logger, record: logging.LogRecord) -> None:
            try:
                original(logger, record)
            finally:
                bridge(logger, record)

        call_handlers.__wrapped__ = original  # type: ignore[attr-defined]
        self._wrapper = call_handlers
        logging.Logger.callHandlers = call_handlers  # type: ignore[method-assign,assignment]

    def _reaches_bridge(self, logger: logging.Logger | None) -> bool:
        """Whether a root handler would see the record, or a bridged logger is on its way up."""
        loggers = self.loggers
        while logger is not None:
            if logger.name in loggers or logger.parent is None:
                return True
            if not logger.propagate:
                return False
            logger = logger.parent
        return False

    def _bridge(self, logger: logging.Logger, record: logging.LogRecord) -> None:
        if not self._active or getattr(self._busy, "on", False):
            return
        self._busy.on = True  # a record logged while bridging one is not bridged
        try:
            if self._reaches_bridge(logger):
                self.handler.handle(record)
        except Exception as exc:  # noqa: BLE001 - the app's logging call must not fail because of us
            caught("bridging a log record", exc)  # a bug of ours: raised under the test suite
        finally:
            self._busy.on = False

    def remove(self) -> None:
        """Stop bridging; put ``callHandlers`` back unless someone wrapped it after us."""
        self._active = False
        if logging.Logger.callHandlers is self._wrapper:
            logging.Logger.callHandlers = self._original  # type: ignore[method-assign,assignment]

"""The process-wide configuration: ``configure()`` installs one pipeline and returns its handle."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from otel_distro.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from otel_distro.pipeline import Pipeline
    from processors.base import RecordProcessor

_logger = logging.getLogger("otel_distro")
_lock = threading.Lock()
_current: TelemetryHandle | None = None


class TelemetryHandle:
    """What ``configure()`` returns: the settings in force and the pipeline, if one runs."""

    def __init__(self, settings: Settings | None, pipeline: Pipeline | None) -> None:
        self.settings = settings
        self.pipeline = pipeline

    @property
    def active(self) -> bool:
        """Whether a pipeline is recording."""
        return self.pipeline is not None

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export everything buffered so far; never raises."""
        if self.pipeline is None:
            return True
        try:
            return self.pipeline.force_flush(timeout_millis)
        except Exception as exc:  # noqa: BLE001 - never raise into the app
            _logger.warning("otel-distro: flush failed: %r", exc)
            return False

    def shutdown(self) -> None:
        """Flush and stop the pipeline; never raises."""
        if self.pipeline is None:
            return
        try:
            self.pipeline.shutdown()
        except Exception as exc:  # noqa: BLE001 - never raise into the app
            _logger.warning("otel-distro: shutdown failed: %r", exc)


def configure(
    *,
    strict: bool = False,
    processors: Sequence[RecordProcessor] = (),
    **settings: Any,
) -> TelemetryHandle:
    """Install the otel-distro pipeline once; later calls return the same handle.

    ``settings`` override the environment and ``telemetry.toml`` (option names as in
    :class:`otel_distro.Settings`). ``processors`` are appended to the chain that every
    record passes before any exporter. With ``strict=True`` bad settings raise
    :class:`SettingsError`; otherwise they warn and the default is used.
    """
    global _current
    with _lock:
        if _current is not None:
            if settings or processors:
                _logger.warning("otel-distro: already configured; the settings of this call are ignored")
            return _current
        try:
            resolved = load_settings(settings, strict=strict)
            pipeline = None
            if resolved.active:
                from otel_distro.pipeline import build_pipeline

                pipeline = build_pipeline(resolved, processors, strict=strict)
            _current = TelemetryHandle(resolved, pipeline)
        except SettingsError:
            raise
        except Exception as exc:
            if strict:
                raise
            _logger.warning("otel-distro: telemetry setup failed (%r); the app runs without telemetry", exc)
            _current = TelemetryHandle(None, None)
        return _current


def shutdown() -> None:
    """Flush and stop the installed pipeline, if any; never raises."""
    with _lock:
        handle = _current
    if handle is not None:
        handle.shutdown()

"""The process-wide configuration: ``configure()`` installs one pipeline and returns its handle."""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from otel_distro.genai_content import apply_capture_defaults
from otel_distro.reload import ConfigWatcher
from otel_distro.runtime.errors import caught
from otel_distro.settings import Resolution, Settings, SettingsError, forgotten, load_resolution

if TYPE_CHECKING:
    from otel_distro.pipeline import Pipeline
    from processors.base import RecordProcessor

_logger = logging.getLogger("otel_distro")
_lock = threading.Lock()
_current: TelemetryHandle | None = None


class TelemetryHandle:
    """What ``configure()`` returns: the settings in force and the pipeline, if one runs."""

    def __init__(
        self,
        settings: Settings | None,
        pipeline: Pipeline | None,
        processors: Sequence[RecordProcessor] = (),
    ) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.watcher: ConfigWatcher | None = None
        self._processors = tuple(processors)
        self._reload_lock = threading.Lock()
        self._stopped = False

    def reload(self, resolution: Resolution) -> None:
        """Apply re-resolved settings: what can change while running does, the rest is named in
        a warning and waits for the next start. Never raises."""
        with self._reload_lock:
            if self._stopped or self.settings is None:
                return
            try:
                self._reload(resolution)
            except Exception as exc:  # noqa: BLE001 - never raise into the app
                caught("applying changed settings", exc)  # a bug of ours: raised under the test suite
                _logger.warning("otel-distro: applying changed settings failed: %r", exc)

    def _reload(self, resolution: Resolution) -> None:
        from otel_distro.settings import RELOADABLE

        old = self.settings
        assert old is not None
        new = resolution.settings
        changed = [
            f.name for f in dataclasses.fields(Settings) if getattr(old, f.name) != getattr(new, f.name)
        ]
        if not changed:
            return
        later = [name for name in changed if name not in RELOADABLE]
        if later:
            _logger.warning(
                "otel-distro: changed settings take effect at the next start, not now: %s",
                ", ".join(sorted(later)),
            )
            new = dataclasses.replace(new, **{name: getattr(old, name) for name in later})
        was_forgotten = old.enabled and not new.enabled and forgotten(resolution)
        if self.pipeline is not None:
            self.pipeline.apply(new)
        elif new.active:
            from otel_distro.pipeline import build_pipeline

            self.pipeline = build_pipeline(new, self._processors)
        self.settings = new
        applied = sorted(set(changed) - set(later))
        if applied:
            _logger.info("otel-distro: applied changed settings: %s", ", ".join(applied))
        if was_forgotten:
            from otel_distro import forget

            forget.erase(new.store_dir, new.cache_path)
            _logger.warning(
                "otel-distro: recording stopped: `otel-distro forget` was run on %s; what this "
                "process wrote there is erased (`otel-distro enable` turns recording back on)",
                new.store_dir,
            )

    @property
    def active(self) -> bool:
        """Whether a pipeline is recording."""
        return self.pipeline is not None

    def dropped(self) -> dict[str, int]:
        """Records this process dropped since it started recording, by reason (``otel-distro
        stats`` shows every process's, added up per store); never raises."""
        if self.pipeline is None:
            return {}
        try:
            return self.pipeline.dropped()
        except Exception as exc:  # noqa: BLE001 - never raise into the app
            caught("counting drops", exc)  # a bug of ours: raised under the test suite
            _logger.debug("otel-distro: counting drops failed: %r", exc)
            return {}

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export everything buffered so far; never raises."""
        if self.pipeline is None:
            return True
        try:
            return self.pipeline.force_flush(timeout_millis)
        except Exception as exc:  # noqa: BLE001 - never raise into the app
            caught("flushing", exc)  # a bug of ours: raised under the test suite
            _logger.warning("otel-distro: flush failed: %r", exc)
            return False

    def shutdown(self) -> None:
        """Flush and stop the pipeline; never raises."""
        if self.watcher is not None:
            self.watcher.stop()
        with self._reload_lock:
            self._stopped = True
        if self.pipeline is None:
            return
        try:
            self.pipeline.shutdown()
        except Exception as exc:  # noqa: BLE001 - never raise into the app
            caught("shutting down", exc)  # a bug of ours: raised under the test suite
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
            resolution = load_resolution(settings, strict=strict)
            resolved = resolution.settings
            apply_capture_defaults(resolved, os.environ)  # for instrumentors the app starts later
            pipeline = None
            if resolved.active:
                from otel_distro.pipeline import build_pipeline

                pipeline = build_pipeline(resolved, processors, strict=strict)
            elif forgotten(resolution):
                _logger.info("otel-distro: recording is off: %s", resolution.sources["enabled"])
            _current = TelemetryHandle(resolved, pipeline, processors)
            if not resolved.sdk_disabled:
                _current.watcher = ConfigWatcher(resolution, settings, _current.reload)
        except SettingsError:
            raise
        except Exception as exc:
            caught("setting telemetry up", exc)
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

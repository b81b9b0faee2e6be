"""Hot reload: a running process notices changes to ``telemetry.toml`` and ``otel-distro forget``.

A worker (:mod:`otel_distro.runtime.worker`) looks at the config file and the forget marker every
``reload_interval_secs`` (two ``stat`` calls). When either changed, the settings are resolved
again (same ``configure()`` arguments and environment, so those still win over the file) and
handed to the handle, which applies what can change while running and warns about the rest.
A file that no longer parses, or has a bad value, is not applied: the running settings stay,
and a warning says why. The forget marker is applied in any case.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from otel_distro.runtime.errors import internal_error
from otel_distro.runtime.worker import Worker
from otel_distro.settings import IGNORED, Resolution, forgotten, resolve, watched_state

_logger = logging.getLogger("otel_distro")


class ConfigWatcher:
    """Polls the config file and the forget marker; calls ``apply(resolution)`` on a change."""

    def __init__(
        self,
        resolution: Resolution,
        overrides: Mapping[str, Any],
        apply: Callable[[Resolution], None],
    ) -> None:
        self._overrides = dict(overrides)
        self._apply = apply
        self._resolution = resolution
        self._state = watched_state(resolution.settings)
        self._worker = Worker("reload", self._check, lambda: self.interval)

    @property
    def interval(self) -> float:
        return self._resolution.settings.reload_interval_secs

    def _check(self) -> None:
        try:
            self.check()
        except Exception as exc:  # noqa: BLE001 - reload must never disturb the app
            internal_error("reloading the settings", exc)

    def check(self) -> bool:
        """Apply a change if there is one; True if settings were applied."""
        state = watched_state(self._resolution.settings)
        if state == self._state:
            return False
        self._state = state
        resolution = resolve(self._overrides)
        fresh = [problem for problem in resolution.problems if problem not in self._resolution.problems]
        # an unknown key is ignored, as at start: the rest of the file applies, with the warning
        notes = [problem for problem in fresh if IGNORED in problem]
        fresh = [problem for problem in fresh if IGNORED not in problem]
        for note in notes:
            _logger.warning("otel-distro: %s", note)
        if fresh and not forgotten(resolution):
            _logger.warning(
                "otel-distro: the change to %s is not applied; the running settings stay: %s",
                resolution.config_file or "the settings",
                "; ".join(fresh),
            )
            return False
        self._resolution = resolution
        self._apply(resolution)
        return True

    def stop(self) -> None:
        self._worker.stop(1.0)

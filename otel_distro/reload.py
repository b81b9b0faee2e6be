"""Hot reload: a running process notices changes to ``telemetry.toml`` and ``otel-distro forget``.

A daemon thread looks at the config file and the forget marker every
``reload_interval_secs`` (two ``stat`` calls). When either changed, the settings are resolved
again (same ``configure()`` arguments and environment, so those still win over the file) and
handed to the handle, which applies what can change while running and warns about the rest.
A file that no longer parses, or has a bad value, is not applied: the running settings stay,
and a warning says why. The forget marker is applied in any case.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from exporters.forking import after_fork_in_child
from otel_distro.settings import Resolution, forgotten, resolve, watched_state

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
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._warned_failure = False
        self._start()
        after_fork_in_child(self._start)

    @property
    def interval(self) -> float:
        return self._resolution.settings.reload_interval_secs

    def _start(self) -> None:
        self._stop = threading.Event()
        if self.interval <= 0:
            self._thread = None
            return
        self._thread = threading.Thread(target=self._loop, name="otel-distro-reload", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception as exc:  # noqa: BLE001 - reload must never disturb the app
                if not self._warned_failure:
                    self._warned_failure = True
                    _logger.warning("otel-distro: reloading the settings failed: %r", exc)
            if self.interval <= 0:
                return

    def check(self) -> bool:
        """Apply a change if there is one; True if settings were applied."""
        state = watched_state(self._resolution.settings)
        if state == self._state:
            return False
        self._state = state
        resolution = resolve(self._overrides)
        fresh = [problem for problem in resolution.problems if problem not in self._resolution.problems]
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
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(1.0)

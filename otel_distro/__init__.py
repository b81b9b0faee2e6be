"""otel-distro: a private-by-default OpenTelemetry distribution for LLM and agent applications.

``configure(**settings)`` installs the pipeline once and returns its handle;
``shutdown()`` flushes and stops it. Both never raise into the application
unless ``strict=True`` is passed.

The names below are loaded at first use: importing a shared leaf (``otel_distro._sdk``,
``otel_distro.runtime``) from ``processors``, ``exporters`` or ``instrumentations`` loads
this package, which must stay light for that.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from otel_distro.version import __version__

if TYPE_CHECKING:
    from otel_distro.handle import TelemetryHandle, configure, shutdown
    from otel_distro.settings import Settings, SettingsError

__all__ = ["Settings", "SettingsError", "TelemetryHandle", "__version__", "configure", "shutdown"]

_LAZY = {
    "TelemetryHandle": "otel_distro.handle",
    "configure": "otel_distro.handle",
    "shutdown": "otel_distro.handle",
    "Settings": "otel_distro.settings",
    "SettingsError": "otel_distro.settings",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'otel_distro' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later lookups find it directly
    return value

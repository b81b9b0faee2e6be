"""otel-distro: a private-by-default OpenTelemetry distribution for LLM and agent applications.

``configure(**settings)`` installs the pipeline once and returns its handle;
``shutdown()`` flushes and stops it. Both never raise into the application
unless ``strict=True`` is passed.
"""

from otel_distro.handle import TelemetryHandle, configure, shutdown
from otel_distro.settings import Settings, SettingsError
from otel_distro.version import __version__

__all__ = ["Settings", "SettingsError", "TelemetryHandle", "__version__", "configure", "shutdown"]

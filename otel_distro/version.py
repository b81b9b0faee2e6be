"""The distro's name and version, as recorded in telemetry.distro.* resource attributes."""

from importlib.metadata import PackageNotFoundError, version

DISTRO_NAME = "otel-distro"

try:
    __version__ = version(DISTRO_NAME)
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

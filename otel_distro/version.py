"""The distro's name and version, as recorded in telemetry.distro.* resource attributes.

The single source of the package version (pyproject reads it from here), kept as a
constant so start-up does not scan installed distributions.
"""

DISTRO_NAME = "otel-distro"
__version__ = "0.1.0"

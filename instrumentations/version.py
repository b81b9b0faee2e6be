"""The version the helpers report as their instrumentation scope version."""

__version__ = "0.1.0"

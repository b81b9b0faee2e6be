"""Entry points for ``opentelemetry-instrument``: the distro and its configurator."""

from __future__ import annotations

import os
from typing import Any

from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]

CONFIGURATOR_NAME = "otel_distro"


class OtelDistro(BaseDistro):  # type: ignore[misc]
    """Selects our configurator, and leaves the logging bridge to our pipeline's setting."""

    def _configure(self, **kwargs: Any) -> None:
        # Another installed configurator must not win the race in _load_configurators.
        os.environ.setdefault("OTEL_PYTHON_CONFIGURATOR", CONFIGURATOR_NAME)
        # opentelemetry-instrumentation-logging would otherwise bridge every app's logging
        # unconditionally; the pipeline installs the same handler when the setting asks for it.
        os.environ.setdefault("OTEL_PYTHON_LOG_AUTO_INSTRUMENTATION", "false")
        # Without log correlation its instrumentor would only wrap every LogRecord creation in the
        # app (and cost start-up) for nothing; leave it out unless the user chose the list.
        if os.environ.get("OTEL_PYTHON_LOG_CORRELATION", "").strip().lower() != "true":
            os.environ.setdefault("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "logging")


class OtelDistroConfigurator:
    """Installs the otel-distro pipeline, exactly as ``otel_distro.configure()`` does.

    ``opentelemetry-instrument`` only calls ``configure()`` on it; not subclassing the SDK's
    ``_BaseConfigurator`` keeps ``opentelemetry.sdk._configuration`` (~40 ms) off start-up.
    """

    def configure(self, **kwargs: Any) -> None:
        from otel_distro import configure

        configure()

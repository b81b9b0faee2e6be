"""Entry points for ``opentelemetry-instrument``: the distro and its configurator."""

from __future__ import annotations

import logging
import os
import sys
from importlib.metadata import EntryPoint
from typing import Any

from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]

from otel_distro.runtime.errors import caught

CONFIGURATOR_NAME = "otel_distro"
# Instrumentors whose own module imports their (large) library: loaded when the app first
# imports that library, not at start-up. Entry point name -> the library's top-level module.
DEFERRED_INSTRUMENTORS = {"openai": "openai"}

_logger = logging.getLogger("otel_distro")


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
        # Before any instrumentor reads them (the OpenAI one reads them once, in instrument()).
        try:
            from otel_distro.genai_content import apply_capture_defaults
            from otel_distro.settings import resolve

            settings = resolve().settings
            apply_capture_defaults(settings, os.environ)
            if settings.helicone_gateway_headers:
                from otel_distro.helicone_headers import gateway_headers

                self._hooks = gateway_headers(settings)
        except Exception as exc:  # noqa: BLE001 - the configurator reports settings problems
            caught("reading the GenAI content defaults", exc)  # a bug of ours: raised under the test suite
            _logger.debug("otel-distro: no GenAI content defaults: %r", exc)

    def load_instrumentor(self, entry_point: EntryPoint, **kwargs: Any) -> None:
        """Load an instrumentor; one whose module imports a large library (OpenAI's imports
        ``openai``, ~0.8 s) waits until the app imports that library, so an app that never does
        pays nothing for it."""
        hooks = getattr(self, "_hooks", None)  # Helicone's gateway headers, when asked for
        if hooks is not None:
            kwargs = {**hooks.hook_arguments(entry_point.name), **kwargs}
        module = DEFERRED_INSTRUMENTORS.get(entry_point.name)
        if module is None or module in sys.modules:
            super().load_instrumentor(entry_point, **kwargs)
            return
        from wrapt import when_imported

        when_imported(module)(lambda _module: _instrument_later(entry_point, kwargs))


class OtelDistroConfigurator:
    """Installs the otel-distro pipeline, exactly as ``otel_distro.configure()`` does.

    ``opentelemetry-instrument`` only calls ``configure()`` on it; not subclassing the SDK's
    ``_BaseConfigurator`` keeps ``opentelemetry.sdk._configuration`` (~40 ms) off start-up.
    """

    def configure(self, **kwargs: Any) -> None:
        from otel_distro import configure

        configure()


def _instrument_later(entry_point: EntryPoint, kwargs: dict[str, Any]) -> None:
    """Run a deferred instrumentor as its library finishes importing; a failure costs only it."""
    try:
        entry_point.load()().instrument(**kwargs)
    except ImportError as exc:  # as opentelemetry-instrument treats it: not for this environment
        _logger.debug("otel-distro: skipping instrumentation '%s': %r", entry_point.name, exc)
    except Exception as exc:  # noqa: BLE001 - never break the app's import
        caught("loading an instrumentation", exc)
        _logger.warning("otel-distro: instrumentation '%s' failed to load: %r", entry_point.name, exc)

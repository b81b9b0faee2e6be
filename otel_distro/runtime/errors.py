"""Internal errors: bugs of our own code, swallowed in production but raised under the test suite.

Telemetry must never break the app, so the distro catches what its own code raises where it
runs on the app's behalf (a processor of ours on a span, a hook on a request). Caught silently,
such a bug would also never fail a test. :func:`internal_error` raises the error again when
``OTEL_DISTRO_STRICT=1`` (the test suite sets it, for its own process and its child apps), and
otherwise logs it once per kind under ``otel_distro``, as logfire's internal-error handling does.
"""

from __future__ import annotations

import logging
import os
import threading

STRICT_ENV = "OTEL_DISTRO_STRICT"  # "1": internal errors are raised (the test suite sets it)
_logger = logging.getLogger("otel_distro.internal")
_seen: set[str] = set()
_lock = threading.Lock()


def strict() -> bool:
    return os.environ.get(STRICT_ENV) == "1"


def internal_error(what: str, exc: BaseException) -> None:
    """Report a bug of our own code found while doing ``what``: raised again under the test
    suite, else logged once per ``what`` (the caller goes on as if it had not happened)."""
    if strict():
        raise exc
    with _lock:
        first = what not in _seen
        _seen.add(what)
    if first:
        _logger.warning(
            "otel-distro: internal error while %s (%r); telemetry goes on (further ones are not logged)",
            what,
            exc,
        )

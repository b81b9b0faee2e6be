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
import sysconfig
import threading
from pathlib import Path

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


# A programming error (not an I/O or network failure, nor a foreign library's complaint, which
# the code around it expects to meet some day).
_BUG_TYPES = (TypeError, AttributeError, KeyError, IndexError, NameError, AssertionError)
_OUR_DIRS = tuple(
    str(Path(__file__).resolve().parents[2] / package) + os.sep
    for package in ("otel_distro", "processors", "exporters", "instrumentations")
)
_STDLIB_DIRS = tuple({sysconfig.get_paths()["stdlib"] + os.sep, sysconfig.get_paths()["platstdlib"] + os.sep})


def is_bug(exc: BaseException) -> bool:
    """A programming error raised by this project's own code: the innermost frame outside the
    standard library is ours (not a plugin's, an exporter's or another library's)."""
    if not isinstance(exc, _BUG_TYPES):
        return False
    culprit = None
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not filename.startswith(_STDLIB_DIRS):
            culprit = filename
        tb = tb.tb_next
    return culprit is not None and culprit.startswith(_OUR_DIRS)


def caught(what: str, exc: BaseException) -> None:
    """For a broad ``except`` around code that runs on the app's behalf: a bug of our own
    (:func:`is_bug`) is an :func:`internal_error`, raised under the test suite so it fails a
    test; what the caller expects to meet (I/O, endpoints, plugins, odd values) passes."""
    if is_bug(exc):
        internal_error(what, exc)

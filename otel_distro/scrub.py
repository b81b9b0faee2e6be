"""Stored records redacted once more before they leave: for ``bundle`` and for the upload.

The store was redacted when it was written, but with the settings of that time: a process may
have run with ``TELEMETRY_PII_REDACTION=false``. What leaves the machine while redaction is on
passes this second net: every string of an OTLP/JSON record through the PII redactor (ids and
attribute names kept), and the value of an attribute (``{"key": ..., "value": {...}}``) whose
key names a secret replaced whole, as the redaction processor does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from processors.key_names import is_secret_key
from processors.redaction import DENIED

_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId", "key"})  # ids and attribute names: kept
# OTLP/JSON writes 64-bit integers as strings ("intValue": "4155552671", "timeUnixNano": …):
# numbers, never text. Redacted, they would no longer parse, and the line would be lost.
_NUMBER_KEYS = frozenset({"intValue", "asInt", "count", "bucketCounts", "zeroCount"})
# and bytes as base64 ("bytesValue"): redacted as text, they would decode to other bytes
_DENIED = {"stringValue": DENIED}  # an attribute's value under a key that names a secret


class Scrubber:
    """Every string of a JSON value through ``redact`` (see the module docstring)."""

    def __init__(self, redact: Callable[[str], str]) -> None:
        self.redact = redact

    def value(self, value: Any, key: str | None = None) -> Any:
        if isinstance(value, str):
            return value if key in _ID_KEYS or _a_number(key) else self.redact(value)
        if isinstance(value, list) and _a_number(key):
            return value
        if isinstance(value, dict):
            name = value.get("key")
            if isinstance(name, str) and "value" in value and is_secret_key(name):
                return {**{k: self.value(v, k) for k, v in value.items() if k != "value"}, "value": _DENIED}
            return {k: self.value(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(item) for item in value]
        return value


def _a_number(key: str | None) -> bool:
    return key is not None and (key in _NUMBER_KEYS or key == "bytesValue" or key.endswith("UnixNano"))


def scrubber(settings: Any) -> Scrubber:
    """A scrubber with the settings' patterns (custom ones too)."""
    from otel_distro.privacy import safe_patterns
    from otel_distro.problems import Problems
    from processors.pii import PiiRedactor

    return Scrubber(PiiRedactor(patterns=safe_patterns(settings, Problems())).redact_text)


def record_scrubber(settings: Any) -> Callable[[dict[str, Any]], dict[str, Any]] | None:
    """What the upload passes each store record through: the scrubber while redaction is on,
    None when it is off (the user chose to send values as they are)."""
    if not settings.pii_redaction:
        return None
    return scrubber(settings).value

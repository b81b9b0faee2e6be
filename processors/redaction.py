"""The PII redaction processor: every text and string value of every signal passes the redactor.

Key rules come first: values under secret-named keys (``password``, ``authorization``,
``cookie``, ``api_key``, …) are replaced whole, and keys on the allow-list (trace and span
ids by default) are never touched. Other string values, string arrays, span and event
names, status descriptions and log bodies go through :class:`PiiRedactor`. A redacted
span or log record carries ``otel_distro.redacted.<ENTITY>`` counts, never the values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from typing import Any

from processors.pii import PiiRedactor
from processors.rewrite import RecordRewriter

DENY_KEYS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "secret",
        "client_secret",
        "authorization",
        "proxy_authorization",
        "cookie",
        "set_cookie",
        "api_key",
        "apikey",
        "x_api_key",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "private_key",
        "credentials",
    }
)
ALLOW_KEYS = frozenset({"trace_id", "span_id", "trace.id", "span.id", "traceid", "spanid"})
COUNT_PREFIX = "otel_distro.redacted."
DENIED = "<REDACTED>"


def _normalize(key: str) -> str:
    return key.lower().replace("-", "_")


class RedactionProcessor(RecordRewriter):
    """Redacts PII and secrets in spans, logs and metrics before any exporter sees them."""

    count_prefix = COUNT_PREFIX

    def __init__(
        self,
        redactor: PiiRedactor | None = None,
        deny_keys: Collection[str] = DENY_KEYS,
        allow_keys: Collection[str] = ALLOW_KEYS,
        allow_values: Collection[str] = (),
    ) -> None:
        super().__init__()
        self.redactor = redactor or PiiRedactor()
        self.deny_keys = frozenset(_normalize(key) for key in deny_keys)
        self.allow_keys = frozenset(_normalize(key) for key in allow_keys)
        self.allow_values = frozenset(allow_values)

    def _denied(self, key: str) -> bool:
        """A key is denied when it, or its last dotted segment, is a secret-named key."""
        normalized = _normalize(key)
        return normalized in self.deny_keys or normalized.rsplit(".", 1)[-1] in self.deny_keys

    def rewrite_text(self, text: str, counts: Counter[str]) -> str | None:
        if text in self.allow_values:
            return None
        redacted, found = self.redactor.redact(text)
        if not found:
            return None
        counts.update(found)
        return redacted

    def rewrite_attributes(self, attrs: Mapping[str, Any], counts: Counter[str]) -> dict[str, Any] | None:
        out: dict[str, Any] | None = None
        for key, value in attrs.items():
            if key.startswith(COUNT_PREFIX) or _normalize(key) in self.allow_keys:
                continue
            new = self._value(key, value, counts)
            if new is not None:
                if out is None:
                    out = dict(attrs)
                out[key] = new
        return out

    def _value(self, key: str, value: Any, counts: Counter[str]) -> Any:
        if self._denied(key):
            if value in (None, "", DENIED):
                return None
            counts["SECRET"] += 1
            return DENIED
        if isinstance(value, str):
            return self.rewrite_text(value, counts)
        if isinstance(value, list | tuple) and any(isinstance(item, str) for item in value):
            items = [self.rewrite_text(item, counts) if isinstance(item, str) else None for item in value]
            if all(item is None for item in items):
                return None
            return tuple(
                original if item is None else item for original, item in zip(value, items, strict=True)
            )
        return None

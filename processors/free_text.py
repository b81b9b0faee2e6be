"""The free-text scanning processor: presidio on the values of keys that hold prose.

It runs after :class:`~processors.redaction.RedactionProcessor`, so the fast path has
already replaced what patterns find; presidio adds what they miss (and names, with a spaCy
model). Only values under the configured keys (globs such as ``gen_ai.input.messages`` or
``content``) are scanned, in spans, span events, links, log records and metric points; plain
log bodies too when the keys include the name ``log.body``.
Presidio is slow, so a span that holds such a value must be processed off the app thread:
:meth:`FreeTextProcessor.needs_worker` tells the chain which spans those are.
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Collection, Mapping
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from otel_distro import _sdk
from otel_distro.runtime.bounded import bounded_put
from processors.pii.presidio import PresidioScanner
from processors.redaction import COUNT_PREFIX
from processors.rewrite import RecordRewriter

_KEYS_LIMIT = 4096
LOG_BODY = "log.body"  # the name that stands for a plain log body among the keys


class FreeTextProcessor(RecordRewriter):
    """Scans free-text attribute values with presidio and replaces what it finds."""

    count_prefix = COUNT_PREFIX
    rewrites_text = False  # names and status descriptions are not prose; the fast path has them

    def __init__(self, scanner: PresidioScanner, keys: Collection[str]) -> None:
        super().__init__()
        self.scanner = scanner
        self.patterns = tuple(keys)
        self._free: dict[str, bool] = {}

    def is_free_text(self, key: str) -> bool:
        """Whether values under this key are scanned; cached per key."""
        free = self._free.get(key)
        if free is None:
            free = any(fnmatch.fnmatchcase(key, pattern) for pattern in self.patterns)
            bounded_put(self._free, key, free, _KEYS_LIMIT)
        return free

    def needs_worker(self, span: ReadableSpan) -> bool:
        """Whether the span holds a free-text value, which presidio must scan off the app thread."""
        attributes = _sdk.attributes(span)
        if attributes and self._has_free_text(attributes):
            return True
        return any(self._has_free_text(_sdk.attributes(event)) for event in _sdk.events(span))

    def _has_free_text(self, attrs: Mapping[str, Any]) -> bool:
        for key, value in attrs.items():
            if self.is_free_text(key) and isinstance(value, str | tuple | list):
                return True
        return False

    def rewrite_attributes(self, attrs: Mapping[str, Any], counts: Counter[str]) -> dict[str, Any] | None:
        out: dict[str, Any] | None = None
        for key, value in attrs.items():
            if not self.is_free_text(key):
                continue
            new = self._value(value, counts)
            if new is not None:
                if out is None:
                    out = dict(attrs)
                out[key] = new
        return out

    def _value(self, value: Any, counts: Counter[str]) -> Any:
        if isinstance(value, str):
            return self._scan(value, counts)
        if isinstance(value, list | tuple) and any(isinstance(item, str) for item in value):
            items = [self._scan(item, counts) if isinstance(item, str) else None for item in value]
            if all(item is None for item in items):
                return None
            return tuple(
                original if item is None else item for original, item in zip(value, items, strict=True)
            )
        return None

    def rewrite_text(self, text: str, counts: Counter[str]) -> str | None:
        # Reached only for plain log bodies (``rewrites_text`` is off for names and descriptions).
        return self._scan(text, counts) if self.is_free_text(LOG_BODY) else None

    def _scan(self, text: str, counts: Counter[str]) -> str | None:
        scanned, found = self.scanner.scan(text)
        if found is None:
            return None
        counts.update(found)
        return scanned

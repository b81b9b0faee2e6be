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
from processors.pii.redactor import CACHEABLE_LENGTH
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
_PLAIN, _DENIED, _ALLOWED = 0, 1, 2
_RULES_LIMIT = 4096
_CLEAN_LIMIT = 8192
_SCALARS = frozenset({str, int, float, bool})


def _add(counts: Counter[str], found: Mapping[str, int]) -> None:
    for kind, count in found.items():  # Counter.update's checks cost more than this loop
        counts[kind] += count


def _normalize(key: str) -> str:
    return key.lower().replace("-", "_")


class RedactionProcessor(RecordRewriter):
    """Redacts PII and secrets in spans, logs and metrics before any exporter sees them."""

    count_prefix = COUNT_PREFIX
    owns_rewritten_attributes = True  # rewrite_attributes builds a new dict each time
    bounds_inline_text = True  # every text passes PiiRedactor.find, which charges the long ones

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
        self._rules: dict[str, int] = {}
        # Two sets answer the common case in two C-level calls: every key of a mapping is plain
        # (neither denied nor allowed) and every value is known to need nothing under a plain
        # key (a short text with no finding, a number). Filled as values are first looked at.
        self._plain_keys: set[str] = set()
        self._clean: set[object] = set()

    def _key_rule(self, key: str) -> int:
        """_PLAIN, _DENIED (the key or its last dotted segment names a secret) or _ALLOWED; cached."""
        rule = self._rules.get(key)
        if rule is None:
            normalized = _normalize(key)
            if key.startswith(COUNT_PREFIX) or normalized in self.allow_keys:
                rule = _ALLOWED
            elif normalized in self.deny_keys or normalized.rsplit(".", 1)[-1] in self.deny_keys:
                rule = _DENIED
            else:
                rule = _PLAIN
            if len(self._rules) >= _RULES_LIMIT:
                self._rules.clear()
                self._plain_keys.clear()
            self._rules[key] = rule
            if rule is _PLAIN:
                self._plain_keys.add(key)
        return rule

    def _known_clean(self, value: object) -> None:
        clean = self._clean
        if len(clean) >= _CLEAN_LIMIT:
            clean.clear()
        clean.add(value)

    def rewrite_text(self, text: str, counts: Counter[str]) -> str | None:
        if text in self._clean:
            return None
        answer = self.redactor.answers.get(text) if len(text) <= CACHEABLE_LENGTH else None
        redacted, found = self.redactor.find(text) if answer is None else answer
        if found is None or (self.allow_values and text in self.allow_values):
            return None
        _add(counts, found)
        return redacted

    def rewrite_attributes(self, attrs: Mapping[str, Any], counts: Counter[str]) -> dict[str, Any] | None:
        values = getattr(attrs, "_dict", attrs)
        try:
            if self._plain_keys.issuperset(values) and self._clean.issuperset(values.values()):
                return None
        except TypeError:  # an unhashable value (a list in a log body, say): looked at one by one
            pass
        out: dict[str, Any] | None = None
        rules = self._rules
        plain = self._plain_keys
        clean = self._clean
        answers = self.redactor.answers
        find = self.redactor.find
        for key, value in values.items():
            if key in plain and type(value) in _SCALARS and value in clean:
                continue
            rule = rules.get(key)
            if rule is None:
                rule = self._key_rule(key)
            if rule is _ALLOWED:
                continue
            if rule is _PLAIN:  # the common cases, inlined
                kind = type(value)
                if kind is str:
                    answer = answers.get(value) if len(value) <= CACHEABLE_LENGTH else None
                    redacted, found = find(value) if answer is None else answer
                    if found is None or value in self.allow_values:
                        if len(value) <= CACHEABLE_LENGTH:
                            self._known_clean(value)
                        continue
                    _add(counts, found)
                    new: Any = redacted
                elif kind is int or kind is float or kind is bool:  # no text: nothing to redact
                    self._known_clean(value)
                    continue
                else:
                    new = self._value(rule, value, counts)
            else:
                new = self._value(rule, value, counts)
            if new is not None:
                if out is None:
                    out = dict(values)
                out[key] = new
        return out

    def _value(self, rule: int, value: Any, counts: Counter[str]) -> Any:
        if rule is _DENIED:
            if value in (None, "", DENIED):
                return None
            counts["SECRET"] += 1
            return DENIED
        if isinstance(value, str):
            return self.rewrite_text(value, counts)
        if isinstance(value, (list, tuple)) and any(isinstance(item, str) for item in value):
            items = [self.rewrite_text(item, counts) if isinstance(item, str) else None for item in value]
            if all(item is None for item in items):
                return None
            return tuple(
                original if item is None else item for original, item in zip(value, items, strict=True)
            )
        return None

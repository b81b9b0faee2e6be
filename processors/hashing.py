"""The project-ID hashing processor: values of configured keys become keyed HMAC-SHA256 digests.

The same project hashes to the same value in spans, logs, metrics and resources, and across
restarts with the same key, so it can still be grouped and joined; without the key it cannot
be read back. The key comes from the caller (``otel_distro`` reads ``TELEMETRY_HASH_KEY`` or
keeps a per-install key in the store).
"""

from __future__ import annotations

import hmac
from collections import Counter
from collections.abc import Collection, Mapping
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from otel_distro import _sdk
from processors.rewrite import RecordRewriter

PROJECT_KEYS = ("project.id", "project_id", "project.name", "gen_ai.project.id")
PREFIX = "hmac-sha256:"


class KeyedDigest:
    """``hmac-sha256:<hex>`` of a value's text under one key: stable, distinct, unreadable.

    The key is set up once and copied for each value (about 1.4 µs, against 3 µs for
    ``hmac.digest``, which also lets go of the GIL on every call: on the app thread, a background
    thread then takes it, and the app waits for it back)."""

    __slots__ = ("_keyed",)

    def __init__(self, key: bytes) -> None:
        self._keyed = hmac.new(key, digestmod="sha256")

    def __call__(self, value: object) -> str:
        text = value if isinstance(value, str) else repr(value)
        digest = self._keyed.copy()
        digest.update(text.encode("utf-8", "surrogatepass"))
        return PREFIX + digest.hexdigest()


def keyed_digest(key: bytes, value: object) -> str:
    """``hmac-sha256:<hex>`` of the value's text under ``key`` (see :class:`KeyedDigest`)."""
    return KeyedDigest(key)(value)


class ProjectHashingProcessor(RecordRewriter):
    """Replaces the values of project-identifying keys with keyed digests, on every signal."""

    rewrites_text = False
    owns_rewritten_attributes = True  # rewrite_attributes builds a new dict each time

    def __init__(self, key: bytes, keys: Collection[str] = PROJECT_KEYS) -> None:
        super().__init__()
        if not key:
            raise ValueError("a non-empty hash key is needed")
        self.digest = KeyedDigest(key)
        self.keys = frozenset(keys)

    def process_span(self, span: ReadableSpan) -> ReadableSpan | None:
        """The full walk only for a span that holds a project key somewhere (names are not hashed)."""
        keys = self.keys
        # BoundedAttributes answers len() (and so truth) in Python, with a lock: test its dict.
        _, attrs, _, events, _, links = _sdk.span_parts(span)
        if attrs and not keys.isdisjoint(attrs):
            return super().process_span(span)
        for event in events:
            attrs = _sdk.event_parts(event)[1]
            if attrs and not keys.isdisjoint(attrs):
                return super().process_span(span)
        for link in links:
            attrs = link.attributes
            if attrs and not keys.isdisjoint(_sdk.plain(attrs)):
                return super().process_span(span)
        if self._resource(span.resource) is not span.resource:
            return super().process_span(span)
        return span

    def rewrite_attributes(self, attrs: Mapping[str, Any], counts: Counter[str]) -> dict[str, Any] | None:
        out: dict[str, Any] | None = None
        values = _sdk.plain(attrs)  # BoundedAttributes: its plain dict is faster
        for key in self.keys:
            if key not in values:
                continue
            value = values[key]
            if value is None or (isinstance(value, str) and value.startswith(PREFIX)):
                continue
            if out is None:
                out = dict(values)
            out[key] = self.digest(value)
        return out

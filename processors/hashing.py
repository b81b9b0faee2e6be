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
_MAX_DEPTH = 8  # levels of a structured log attribute or body walked for project keys


def spellings(key: str) -> set[str]:
    """A key as code writes it in other styles: "project.id", "project_id", "project-id",
    "projectId", "ProjectId", "projectID", "PROJECT_ID" (a set: a span's keys are tested against
    it in one call, not each key respelled)."""
    words = [word for word in key.replace("-", ".").replace("_", ".").split(".") if word]
    if not words:
        return {key}
    lower = [word.lower() for word in words]
    camel = lower[0] + "".join(word.capitalize() for word in lower[1:])
    return {
        key,
        *(separator.join(lower) for separator in (".", "_", "-", "")),
        camel,
        camel[0].upper() + camel[1:],
        camel[:-2] + camel[-2:].upper() if camel.endswith("Id") else camel,
        "_".join(word.upper() for word in lower),
    }


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


def _holds_maps(items: Any) -> bool:
    return any(isinstance(item, Mapping | list | tuple) for item in items)


class ProjectHashingProcessor(RecordRewriter):
    """Replaces the values of project-identifying keys with keyed digests, on every signal."""

    rewrites_text = False
    owns_rewritten_attributes = True  # rewrite_attributes builds a new dict each time

    def __init__(self, key: bytes, keys: Collection[str] = PROJECT_KEYS) -> None:
        super().__init__()
        if not key:
            raise ValueError("a non-empty hash key is needed")
        self.digest = KeyedDigest(key)
        self.keys = frozenset(spelling for name in keys for spelling in spellings(name))

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
        return self._hashed(_sdk.plain(attrs), 0)  # BoundedAttributes: its plain dict is faster

    def _hashed(self, values: Mapping[str, Any], depth: int) -> dict[str, Any] | None:
        """The map with project keys' values hashed, at any depth of a structured (log) value
        within :data:`_MAX_DEPTH` levels: {"ctx": {"project_id": …}}; None where none was."""
        out: dict[str, Any] | None = None
        for key in self.keys:
            if key not in values:
                continue
            value = values[key]
            if value is None or (isinstance(value, str) and value.startswith(PREFIX)):
                continue
            if out is None:
                out = dict(values)
            out[key] = self.digest(value)
        if depth >= _MAX_DEPTH:
            return out
        for key, value in values.items():
            if isinstance(value, Mapping) or (isinstance(value, list | tuple) and _holds_maps(value)):
                new = self._nested(value, depth + 1)
                if new is not None:
                    if out is None:
                        out = dict(values)
                    out[key] = new
        return out

    def _nested(self, value: Any, depth: int) -> Any:
        """A map or list with project keys hashed inside, or None where none was."""
        if isinstance(value, Mapping):
            return self._hashed({str(key): item for key, item in value.items()}, depth)
        if depth >= _MAX_DEPTH:
            return None
        changed = False
        items = []
        for item in value:
            new = self._nested(item, depth + 1) if isinstance(item, Mapping | list | tuple) else None
            changed = changed or new is not None
            items.append(item if new is None else new)
        return items if changed else None

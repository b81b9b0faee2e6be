"""Copies of finished records with some fields replaced (ended spans are immutable and shared)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import Link, Status
from opentelemetry.util.types import Attributes

_UNSET: Any = object()


def replace_span(
    span: ReadableSpan,
    *,
    name: str = _UNSET,
    attributes: Attributes = _UNSET,
    events: Sequence[Event] = _UNSET,
    links: Sequence[Link] = _UNSET,
    status: Status = _UNSET,
    resource: Resource = _UNSET,
) -> ReadableSpan:
    """A new ``ReadableSpan`` equal to ``span`` but for the given fields.

    What the SDK dropped (attributes over the limit) is still counted on the copy, so
    exporters report the same ``dropped_attributes_count`` as for the original.
    """
    # Private fields: the public properties wrap or copy (attributes, events, links) on each
    # access, and this runs for every span that redaction changes.
    if attributes is _UNSET:
        attributes = span._attributes
    else:
        dropped = getattr(span._attributes, "dropped", 0)
        if dropped:
            attributes = _with_dropped(attributes, dropped)
    return ReadableSpan(
        span._name if name is _UNSET else name,
        span._context,
        span._parent,
        span._resource if resource is _UNSET else resource,
        attributes,
        span._events if events is _UNSET else events,
        span._links if links is _UNSET else links,
        span._kind,
        None,
        span._status if status is _UNSET else status,
        span._start_time,
        span._end_time,
        span._instrumentation_scope,
    )


def _with_dropped(attributes: Attributes, dropped: int) -> BoundedAttributes:
    bounded = BoundedAttributes(maxlen=None, attributes=attributes, immutable=True)
    bounded.dropped = dropped
    return bounded


def replace_log(
    record: ReadableLogRecord,
    *,
    body: Any = _UNSET,
    attributes: Attributes = _UNSET,
    resource: Resource = _UNSET,
) -> ReadableLogRecord:
    """A new ``ReadableLogRecord`` equal to ``record`` but for the given fields."""
    log = copy.copy(record.log_record)
    if body is not _UNSET:
        log.body = body
    if attributes is not _UNSET:
        log.attributes = attributes
    return ReadableLogRecord(
        log_record=log,
        resource=record.resource if resource is _UNSET else resource,
        instrumentation_scope=record.instrumentation_scope,
        limits=record.limits,
    )

"""Copies of finished records with some fields replaced (ended spans are immutable and shared)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, Status
from opentelemetry.util.types import Attributes

from otel_distro import _sdk

_UNSET: Any = _sdk.UNSET


def replace_span(
    span: ReadableSpan,
    *,
    name: str = _UNSET,
    attributes: Attributes = _UNSET,
    events: Sequence[Event] = _UNSET,
    links: Sequence[Link] = _UNSET,
    status: Status = _UNSET,
    resource: Resource = _UNSET,
    context: SpanContext = _UNSET,
    instrumentation_scope: InstrumentationScope | None = _UNSET,
) -> ReadableSpan:
    """A new ``ReadableSpan`` equal to ``span`` but for the given fields.

    What the SDK dropped (attributes over the limit) is still counted on the copy, so
    exporters report the same ``dropped_attributes_count`` as for the original.
    """
    if attributes is not _UNSET:
        dropped = getattr(_sdk.raw_attributes(span), "dropped", 0)
        if dropped:
            attributes = _with_dropped(attributes, dropped)
    return _sdk.copy_span(
        span,
        name=name,
        attributes=attributes,
        events=events,
        links=links,
        status=status,
        resource=resource,
        context=context,
        instrumentation_scope=instrumentation_scope,
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
    event_name: str = _UNSET,
    instrumentation_scope: InstrumentationScope | None = _UNSET,
) -> ReadableLogRecord:
    """A new ``ReadableLogRecord`` equal to ``record`` but for the given fields."""
    log = copy.copy(record.log_record)
    if body is not _UNSET:
        log.body = body
    if attributes is not _UNSET:
        log.attributes = attributes
    if event_name is not _UNSET:
        log.event_name = event_name
    return ReadableLogRecord(
        log_record=log,
        resource=record.resource if resource is _UNSET else resource,
        instrumentation_scope=record.instrumentation_scope
        if instrumentation_scope is _UNSET
        else instrumentation_scope,
        limits=record.limits,
    )

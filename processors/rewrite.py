"""A base for processors that rewrite values everywhere they hide, on every signal.

Subclasses say how to rewrite an attribute mapping and a piece of text; this module walks
spans (name, attributes, events with their names and attributes, links with their trace
states, status description, the span's trace state, resource, instrumentation scope), log
records (body, structured bodies included, attributes, event name, resource, instrumentation
scope) and metrics (data-point attributes, exemplar attributes, resource, instrumentation
scope), and builds new records only where something changed. Resources, scopes and trace
states are shared by many records, so their rewrites are cached.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.metrics.export import MetricsData
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import DEFAULT_TRACE_STATE, Link, SpanContext, Status, TraceState

from otel_distro import _sdk
from otel_distro.runtime.bounded import bounded_put
from processors.base import RecordProcessor
from processors.records import replace_log, replace_span

_RESOURCE_CACHE_LIMIT = 64
_NO_TRACE_STATE = DEFAULT_TRACE_STATE  # the empty state most spans share (a child keeps its parent's)
_COUNT_KEYS_LIMIT = 256
_new_counts = Counter.__new__  # an empty Counter without __init__'s two Python-level calls


class RecordRewriter(RecordProcessor):
    """Rewrites attribute values and texts in spans, logs and metrics.

    Subclasses override :meth:`rewrite_attributes` and, where texts matter,
    :meth:`rewrite_text`; both return ``None`` when nothing changed. ``counts`` collects
    what was rewritten per kind; when :attr:`count_prefix` is set, a span or log record
    carries those counts as ``<prefix><KIND>`` attributes.
    """

    count_prefix: str | None = None
    # False: span and event names and status descriptions are left alone (plain log bodies
    # still reach rewrite_text, which may decline them).
    rewrites_text = True
    # True: rewrite_attributes always returns a dict of its own, which the walk may extend in place.
    owns_rewritten_attributes = False

    def __init__(self) -> None:
        self._resources: dict[int, tuple[Resource, Resource]] = {}
        self._scopes: dict[int, tuple[Any, Any]] = {}
        self._trace_states: dict[str, TraceState | None] = {}  # header -> rewritten (None: as it is)
        self._metric_names: dict[tuple[Any, Any, Any], dict[str, str]] = {}
        self._count_keys: dict[str, str] = {}

    # -- what subclasses provide -------------------------------------------------------------
    def rewrite_attributes(self, attrs: Mapping[str, Any], counts: Counter[str]) -> dict[str, Any] | None:
        return None

    def rewrite_text(self, text: str, counts: Counter[str]) -> str | None:
        return None

    def rewrite_bytes(self, value: bytes | bytearray, counts: Counter[str]) -> str | None:
        """Bytes judged as text: UTF-8, else Latin-1, where every byte is a character, so what a
        legacy encoding or a binary blob holds as text (an address, a number) reads as it is
        written. The text when something was rewritten (bytes come out as text then), else None."""
        data = bytes(value)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
        return self.rewrite_text(text, counts) if text else None

    # -- helpers ------------------------------------------------------------------------------
    def _attrs(self, attrs: Mapping[str, Any] | None, counts: Counter[str]) -> dict[str, Any] | None:
        return self.rewrite_attributes(attrs, counts) if attrs else None

    def _text(self, text: str | None, counts: Counter[str]) -> str | None:
        return self.rewrite_text(text, counts) if text else None

    def rewrite_resource(self, resource: Resource) -> Resource:
        """The resource as this processor leaves it (the same object when unchanged)."""
        return self._resource(resource)

    def _resource(self, resource: Resource) -> Resource:
        hit = self._resources.get(id(resource))
        if hit is not None and hit[0] is resource:
            return hit[1]
        rewritten = self._attrs(resource.attributes, Counter())
        result = resource if rewritten is None else Resource(rewritten, resource.schema_url)
        bounded_put(self._resources, id(resource), (resource, result), _RESOURCE_CACHE_LIMIT)
        return result

    def _scope(self, scope: InstrumentationScope | None) -> InstrumentationScope | None:
        """The instrumentation scope as this processor leaves it (the same object when unchanged):
        its name and version are texts a library chose (a logger named after a user), its
        attributes attributes."""
        if scope is None:
            return None
        hit = self._scopes.get(id(scope))
        if hit is not None and hit[0] is scope:
            return hit[1]  # type: ignore[no-any-return]
        counts: Counter[str] = Counter()
        texts = self.rewrites_text
        name = self._text(scope.name, counts) if texts else None
        version = self._text(scope.version, counts) if texts else None
        attributes = self._attrs(_sdk.plain(scope.attributes), counts)
        result = scope
        if name is not None or version is not None or attributes is not None:
            result = InstrumentationScope(
                scope.name if name is None else name,
                scope.version if version is None else version,
                scope.schema_url,
                scope.attributes if attributes is None else attributes,
            )
        bounded_put(self._scopes, id(scope), (scope, result), _RESOURCE_CACHE_LIMIT)
        return result

    def _context(self, context: SpanContext | None) -> SpanContext | None:
        """A span context whose trace state (vendors' values, from an incoming ``tracestate``
        header: any client can put text there) was rewritten; None where it stays as it is."""
        if context is None:
            return None
        trace_state = context.trace_state
        if not trace_state:
            return None
        header = trace_state.to_header()
        if header in self._trace_states:
            new = self._trace_states[header]
        else:
            rewritten = self._attrs(dict(trace_state.items()), Counter())
            new = None if rewritten is None else _trace_state(rewritten)
            bounded_put(self._trace_states, header, new, _RESOURCE_CACHE_LIMIT)
        if new is None:
            return None
        return SpanContext(context.trace_id, context.span_id, context.is_remote, context.trace_flags, new)

    def _count_key(self, kind: str) -> str:
        key = f"{self.count_prefix}{kind}"
        if len(self._count_keys) < _COUNT_KEYS_LIMIT:  # entity types are few; user patterns add some
            self._count_keys[kind] = key
        return key

    def _with_counts(
        self, attrs: Mapping[str, Any] | None, counts: Counter[str], fresh: bool = False
    ) -> dict[str, Any]:
        """``attrs`` plus the counts; ``fresh``: attrs is a dict this walk built, extended in place."""
        out = attrs if fresh and type(attrs) is dict else dict(attrs or {})
        if self.count_prefix:
            for kind, count in sorted(counts.items()):
                key = self._count_keys.get(kind) or self._count_key(kind)
                earlier = out.get(key)  # a processor ahead in the chain counted this kind too
                out[key] = count + earlier if type(earlier) is int else count
        return out

    # -- spans --------------------------------------------------------------------------------
    def process_span(self, span: ReadableSpan) -> ReadableSpan | None:
        # Private fields: the public properties copy or wrap on each access, and this runs per span.
        # BoundedAttributes/BoundedList are unwrapped to their dict/deque: their Python-level
        # __len__/__iter__ (a lock and a copy each) cost more than the walk itself.
        counts: Counter[str] = _new_counts(Counter)  # Counter() runs two Python-level calls
        texts = self.rewrites_text
        _, attrs, raw_events, events, raw_links, links = _sdk.span_parts(span)
        status = span.status
        span_name = span.name
        span_resource = span.resource
        description = status.description
        name = self.rewrite_text(span_name, counts) if texts and span_name else None
        attributes = self.rewrite_attributes(attrs, counts) if attrs else None
        new_events = self._events(events, counts) if events else None
        new_links = self._links(links, counts) if links else None
        new_description = self.rewrite_text(description, counts) if texts and description else None
        resource = self._resource(span_resource)
        span_scope = span.instrumentation_scope
        hit = self._scopes.get(id(span_scope))  # (the common case inline: one scope, seen before)
        scope = hit[1] if hit is not None and hit[0] is span_scope else self._scope(span_scope)
        span_context = span.context
        context = None if span_context.trace_state is _NO_TRACE_STATE else self._context(span_context)
        if (
            name is None
            and attributes is None
            and new_events is None
            and new_links is None
            and new_description is None
            and resource is span_resource
            and scope is span_scope
            and context is None
            and not counts
        ):
            return span
        return replace_span(
            span,
            name=span_name if name is None else name,
            attributes=self._with_counts(
                attrs if attributes is None else attributes,
                counts,
                fresh=attributes is not None and self.owns_rewritten_attributes,
            ),
            # unchanged events/links: the ended span's own immutable containers (no tuple copy)
            events=raw_events if new_events is None else new_events,
            links=raw_links if new_links is None else new_links,
            status=status if new_description is None else Status(status.status_code, new_description),
            resource=resource,
            instrumentation_scope=scope,
            **({} if context is None else {"context": context}),
        )

    def _events(self, events: Sequence[Event], counts: Counter[str]) -> list[Event] | None:
        changed = False
        out = []
        texts = self.rewrites_text
        for event in events:
            raw, attrs = _sdk.event_parts(event)
            name = self.rewrite_text(event.name, counts) if texts and event.name else None
            attributes = self.rewrite_attributes(attrs, counts) if attrs else None
            if name is None and attributes is None:
                out.append(event)
                continue
            changed = True
            out.append(
                Event(
                    event.name if name is None else name,
                    raw if attributes is None else attributes,
                    event.timestamp,
                )
            )
        return out if changed else None

    def _links(self, links: Sequence[Link], counts: Counter[str]) -> list[Link] | None:
        changed = False
        out = []
        for link in links:
            attrs = link.attributes
            attributes = self._attrs(_sdk.plain(attrs), counts)
            context = self._context(link.context)
            if attributes is None and context is None:
                out.append(link)
                continue
            changed = True
            new_context = link.context if context is None else context
            out.append(Link(new_context, attrs if attributes is None else attributes))
        return out if changed else None

    # -- logs ---------------------------------------------------------------------------------
    def process_log(self, record: ReadableLogRecord) -> ReadableLogRecord | None:
        counts: Counter[str] = Counter()
        log = record.log_record
        body = self._body(log.body, counts)
        attributes = self._attrs(log.attributes, counts)
        event_name = getattr(log, "event_name", None)  # an API record's field since 1.35
        new_name = (
            self._text(event_name, counts) if self.rewrites_text and isinstance(event_name, str) else None
        )
        resource = self._resource(record.resource)
        scope = self._scope(record.instrumentation_scope)
        if (
            body is UNCHANGED
            and attributes is None
            and new_name is None
            and resource is record.resource
            and scope is record.instrumentation_scope
            and not counts
        ):
            return record
        return replace_log(
            record,
            body=log.body if body is UNCHANGED else body,
            attributes=self._with_counts(log.attributes if attributes is None else attributes, counts),
            resource=resource,
            instrumentation_scope=scope,
            **({} if new_name is None else {"event_name": new_name}),
        )

    def _body(self, body: Any, counts: Counter[str]) -> Any:
        """A structured body is rewritten like attributes (its keys count); text like text."""
        if isinstance(body, str):
            text = self._text(body, counts)
            return UNCHANGED if text is None else text
        if isinstance(body, bytes | bytearray):  # stored as bytesValue: base64, not hidden
            text = self.rewrite_bytes(body, counts)
            return UNCHANGED if text is None else text
        if isinstance(body, Mapping):
            flat = {str(key): value for key, value in body.items()}
            rewritten = self._attrs(flat, counts)
            nested_changed = False
            result = dict(flat if rewritten is None else rewritten)
            for key, value in result.items():
                if isinstance(value, Mapping | list | tuple):
                    inner = self._body(value, counts)
                    if inner is not UNCHANGED:
                        result[key] = inner
                        nested_changed = True
            return result if rewritten is not None or nested_changed else UNCHANGED
        if isinstance(body, list | tuple):
            items = [self._body(item, counts) for item in body]
            if all(item is UNCHANGED for item in items):
                return UNCHANGED
            return [
                original if item is UNCHANGED else item for original, item in zip(body, items, strict=True)
            ]
        return UNCHANGED

    # -- metrics ------------------------------------------------------------------------------
    def process_metrics(self, data: MetricsData) -> MetricsData | None:
        resource_metrics = []
        for rm in data.resource_metrics:
            scope_metrics = []
            for sm in rm.scope_metrics:
                metrics = [
                    replace(m, data=self._metric_data(m.data), **self._metric_texts(m)) for m in sm.metrics
                ]
                scope_metrics.append(replace(sm, scope=self._scope(sm.scope) or sm.scope, metrics=metrics))
            resource_metrics.append(
                replace(rm, resource=self._resource(rm.resource), scope_metrics=scope_metrics)
            )
        return replace(data, resource_metrics=resource_metrics)

    def _metric_texts(self, metric: Any) -> dict[str, str]:
        """A metric's name, description and unit as this processor leaves them (only those that
        change; cached, since each collection repeats them): texts the code chose, which may
        hold what it was given ("signups of jane@…")."""
        if not self.rewrites_text:
            return {}
        key = (metric.name, metric.description, metric.unit)
        hit = self._metric_names.get(key)
        if hit is None:
            hit = {}
            for field, text in zip(("name", "description", "unit"), key, strict=True):
                new = self._text(text, Counter()) if isinstance(text, str) else None
                if new is not None:
                    hit[field] = new
            bounded_put(self._metric_names, key, hit, _RESOURCE_CACHE_LIMIT * 4)
        return hit

    def _metric_data(self, data: Any) -> Any:
        points = []
        for point in data.data_points:
            attributes = self._attrs(point.attributes, Counter())
            exemplars = [
                replace(e, filtered_attributes=rewritten)
                if (rewritten := self._attrs(e.filtered_attributes, Counter())) is not None
                else e
                for e in (point.exemplars or ())
            ]
            points.append(
                replace(
                    point,
                    attributes=point.attributes if attributes is None else attributes,
                    exemplars=exemplars,
                )
            )
        return replace(data, data_points=points)


def _trace_state(entries: Mapping[str, Any]) -> TraceState:
    """A trace state of the rewritten entries; one whose value the W3C rules refuse (a
    replacement with a comma or an "=") is left out, never passed on as it was."""
    kept = []
    for key, value in entries.items():
        if isinstance(value, str) and "," not in value and "=" not in value and value.isprintable():
            kept.append((key, value))
    return TraceState(kept)


class _Unchanged:
    __slots__ = ()


UNCHANGED: Any = _Unchanged()  # what _body returns for a body it left as it is

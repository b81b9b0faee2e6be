"""Encode SDK spans, metrics and log records as OTLP/JSON export requests.

Follows the OTLP specification's JSON encoding: lowerCamelCase keys, hex trace
and span ids, integer enums, 64-bit integers as decimal strings, non-finite
doubles as ``"NaN"``/``"Infinity"``. Output parses with
``google.protobuf.json_format.Parse`` into ``TracesData``/``MetricsData``/``LogsData``
and is what a collector's ``otlpjsonfile`` receiver reads. Written for speed:
plain dicts serialized by orjson, resource and scope encodings cached.
"""

from __future__ import annotations

import base64
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import orjson
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.metrics.export import (
    ExponentialHistogram,
    Gauge,
    Histogram,
    MetricsData,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, StatusCode

from otel_distro import _sdk
from otel_distro.runtime.bounded import bounded_put
from otel_distro.runtime.errors import caught

_logger = logging.getLogger(f"otel_distro.{__name__}")

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_HAS_IS_REMOTE = 0x100
_IS_REMOTE = 0x200
_CACHE_LIMIT = 64

JsonObject = dict[str, Any]
_V = TypeVar("_V")


def _double(value: float) -> float | str:
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _as_double(value: float) -> float | str:
    """A number as an OTLP/JSON double: an int too large for a float (past about 1e308) is
    infinite, as the float it stands for would be."""
    try:
        return _double(float(value))
    except OverflowError:
        return "Infinity" if value > 0 else "-Infinity"


def any_value(value: object) -> JsonObject:
    """Encode one attribute or body value as an OTLP ``AnyValue``."""
    kind = type(value)
    if kind is str:
        return {"stringValue": value}
    if kind is bool:
        return {"boolValue": value}
    if kind is int:
        if _INT64_MIN <= value <= _INT64_MAX:  # type: ignore[operator]
            return {"intValue": str(value)}
        return {"stringValue": str(value)}
    if kind is float:
        return {"doubleValue": _double(value)}  # type: ignore[arg-type]
    if value is None:
        return {}
    if isinstance(value, str):
        return {"stringValue": str(value)}
    if isinstance(value, bool):
        return {"boolValue": bool(value)}
    if isinstance(value, int):
        return any_value(int(value))
    if isinstance(value, float):
        return {"doubleValue": _double(float(value))}
    if isinstance(value, bytes | bytearray):
        return {"bytesValue": base64.b64encode(value).decode("ascii")}
    if isinstance(value, Mapping):
        return {"kvlistValue": {"values": [{"key": str(k), "value": any_value(v)} for k, v in value.items()]}}
    if isinstance(value, Sequence):
        return {"arrayValue": {"values": [any_value(item) for item in value]}}
    return {"stringValue": str(value)}


_KV_CACHE: dict[tuple[str, type, object], JsonObject] = {}
_KV_CACHE_LIMIT = 4096
_KV_CACHEABLE_LEN = 256


def attributes(attrs: Mapping[str, object] | None) -> list[JsonObject]:
    """Encode an attribute mapping as a list of OTLP ``KeyValue``.

    Repeated short string/number pairs (model names, operation names) are encoded
    once and shared: the encoded objects are never mutated.
    """
    if not attrs:
        return []
    # BoundedAttributes keeps a plain dict; iterating it directly skips the slow Mapping protocol.
    items = _sdk.plain(attrs).items()
    cache = _KV_CACHE
    out = []
    for key, value in items:
        kind = type(value)
        if (kind is str and len(value) <= _KV_CACHEABLE_LEN) or kind is int or kind is bool:
            pair = (key, kind, value)
            encoded = cache.get(pair)
            if encoded is None:
                encoded = bounded_put(cache, pair, {"key": key, "value": any_value(value)}, _KV_CACHE_LIMIT)
            out.append(encoded)
        else:
            out.append({"key": key, "value": any_value(value)})
    return out


def _with_attributes(target: JsonObject, attrs: Mapping[str, object] | None, dropped: int = 0) -> JsonObject:
    if attrs:
        target["attributes"] = attributes(attrs)
    if dropped:
        target["droppedAttributesCount"] = dropped
    return target


class _Cache(Generic[_V]):
    """Encodings of resources and scopes, keyed by identity (objects held, so ids stay unique)."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[object, _V]] = {}

    def get(self, obj: object, encode: Callable[[Any], _V]) -> _V:
        hit = self._entries.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        encoded = encode(obj)
        bounded_put(self._entries, id(obj), (obj, encoded), _CACHE_LIMIT)
        return encoded


def _resource(resource: Resource) -> JsonObject:
    return _with_attributes({}, resource.attributes)


def _scope(scope: InstrumentationScope | None) -> JsonObject:
    if scope is None:
        return {}
    encoded: JsonObject = {"name": scope.name}
    if scope.version:
        encoded["version"] = scope.version
    return _with_attributes(encoded, scope.attributes)


_RESOURCES: _Cache[JsonObject] = _Cache()
_SCOPES: _Cache[JsonObject] = _Cache()


_MISSING = object()
Grouped = list[tuple[Resource, list[tuple[InstrumentationScope | None, list[Any]]]]]


def _grouped(
    items: Iterable[Any],
    resource_of: Callable[[Any], Resource],
    scope_of: Callable[[Any], InstrumentationScope | None],
) -> Grouped:
    """Items grouped by resource, then scope (by identity; first-seen order)."""
    by_resource: dict[int, tuple[Resource, dict[int, tuple[InstrumentationScope | None, list[Any]]]]] = {}
    last_resource: object = _MISSING
    last_scope: object = _MISSING
    bucket: list[Any] = []
    for item in items:
        resource = resource_of(item)
        scope = scope_of(item)
        if resource is not last_resource or scope is not last_scope:
            scopes = by_resource.setdefault(id(resource), (resource, {}))[1]
            bucket = scopes.setdefault(id(scope), (scope, []))[1]
            last_resource, last_scope = resource, scope
        bucket.append(item)
    return [(resource, list(scopes.values())) for resource, scopes in by_resource.values()]


def _group(
    items: Iterable[Any],
    resource_of: Callable[[Any], Resource],
    scope_of: Callable[[Any], InstrumentationScope | None],
    encode: Callable[[Any], JsonObject],
    scopes_key: str,
    items_key: str,
) -> list[JsonObject]:
    out = []
    for resource, scopes in _grouped(items, resource_of, scope_of):
        scope_list = []
        for scope, members in scopes:
            entry: JsonObject = {"scope": _SCOPES.get(scope, _scope), items_key: [encode(m) for m in members]}
            if scope is not None and scope.schema_url:
                entry["schemaUrl"] = scope.schema_url
            scope_list.append(entry)
        resource_entry: JsonObject = {"resource": _RESOURCES.get(resource, _resource), scopes_key: scope_list}
        if resource.schema_url:
            resource_entry["schemaUrl"] = resource.schema_url
        out.append(resource_entry)
    return out


def _flags(parent: SpanContext | None) -> int:
    if parent is not None and parent.is_remote:
        return _HAS_IS_REMOTE | _IS_REMOTE
    return _HAS_IS_REMOTE


_KIND = {kind: kind.value + 1 for kind in SpanKind}


def _event(event: Event) -> JsonObject:
    encoded: JsonObject = {"timeUnixNano": str(event.timestamp), "name": event.name}
    attrs = event.attributes
    if attrs:
        encoded["attributes"] = attributes(attrs)
        dropped = getattr(attrs, "dropped", 0)
        if dropped:
            encoded["droppedAttributesCount"] = dropped
    return encoded


def _link(link: Link) -> JsonObject:
    context = link.context
    encoded: JsonObject = {
        "traceId": f"{context.trace_id:032x}",
        "spanId": f"{context.span_id:016x}",
        "flags": _flags(context),
    }
    if context.trace_state:
        encoded["traceState"] = context.trace_state.to_header()
    return _with_attributes(encoded, link.attributes, link.dropped_attributes)


def _span(span: ReadableSpan) -> JsonObject:
    # Attributes, events and links are read through _sdk: the public properties copy or wrap on
    # every access, and this function runs once per span on the export thread.
    context = span.context
    if context is None:
        raise ValueError(f"span {span.name!r} has no context")
    parent = span.parent
    encoded: JsonObject = {
        "traceId": f"{context.trace_id:032x}",
        "spanId": f"{context.span_id:016x}",
        "name": span.name,
        "kind": _KIND[span.kind],
        "startTimeUnixNano": str(span.start_time or 0),
        "endTimeUnixNano": str(span.end_time or 0),
        "flags": _IS_REMOTE | _HAS_IS_REMOTE if parent is not None and parent.is_remote else _HAS_IS_REMOTE,
    }
    if context.trace_state:
        encoded["traceState"] = context.trace_state.to_header()
    if parent is not None:
        encoded["parentSpanId"] = f"{parent.span_id:016x}"
    raw = _sdk.raw_attributes(span)
    if raw:
        _with_attributes(encoded, raw, getattr(raw, "dropped", 0))
    lists: tuple[tuple[str, Sequence[Any], Callable[[Any], JsonObject]], ...] = (
        ("events", _sdk.raw_events(span), _event),
        ("links", _sdk.raw_links(span), _link),
    )
    for key, items, encode in lists:
        if items:
            encoded[key] = [encode(item) for item in items]
            dropped = getattr(items, "dropped", 0)
            if dropped:
                encoded[f"dropped{key.capitalize()}Count"] = dropped
    status = span.status
    code = status.status_code.value
    if code or status.description:
        encoded["status"] = (
            {"code": code, "message": status.description} if status.description else {"code": code}
        )
    return encoded


def _span_resource(span: ReadableSpan) -> Resource:
    return span.resource


def _span_scope(span: ReadableSpan) -> InstrumentationScope | None:
    return span.instrumentation_scope


def traces_data(spans: Sequence[ReadableSpan]) -> JsonObject:
    """A ``TracesData`` object for a batch of spans."""
    return {"resourceSpans": _group(spans, _span_resource, _span_scope, _span, "scopeSpans", "spans")}


# Fast path for spans: the line is assembled as bytes from cached fragments, allocating almost
# no containers (dict-heavy encoding makes the cyclic GC scan the app's heap far more often).
# Same output as ``dumps(traces_data(spans))``; a value it cannot carry (a lone surrogate,
# say) raises, and the caller falls back to the dict path, which scrubs.

_dumps = orjson.dumps
_KV_BYTES: dict[str, dict[object, bytes]] = {}  # str and int values only: 1 and True collide
_KV_FLOAT_BYTES: dict[str, dict[float, bytes]] = {}  # finite non-zero floats: 1.0 == 1 collides
_FRAGMENTS: _Cache[bytes] = _Cache()
_NAME_BYTES: dict[str, bytes] = {}


def _value_bytes(value: object) -> bytes:
    kind = type(value)
    if kind is str:
        return b'{"stringValue":' + _dumps(value) + b"}"
    if kind is bool:
        return b'{"boolValue":true}' if value else b'{"boolValue":false}'
    if kind is int and _INT64_MIN <= value <= _INT64_MAX:  # type: ignore[operator]
        return b'{"intValue":"%d"}' % value  # type: ignore[str-format]
    if kind is float and math.isfinite(value):  # type: ignore[arg-type]
        return b'{"doubleValue":' + _dumps(value) + b"}"
    return _dumps(any_value(value))


def _pair_bytes(key: str, value: object) -> bytes:
    return b'{"key":' + _dumps(key) + b',"value":' + _value_bytes(value) + b"}"


def _attributes_bytes(attrs: Mapping[str, object]) -> bytes:
    cache = _KV_BYTES
    parts = []
    for key, value in _sdk.plain(attrs).items():
        kind = type(value)
        if (kind is str and len(value) <= _KV_CACHEABLE_LEN) or kind is int:
            per_key = cache.get(key)
            if per_key is None:
                if len(cache) >= _KV_CACHE_LIMIT:
                    cache.clear()
                per_key = cache[key] = {}
            encoded = per_key.get(value)
            if encoded is None:
                if len(per_key) >= _KV_CACHE_LIMIT:
                    per_key.clear()
                encoded = per_key[value] = _pair_bytes(key, value)
            parts.append(encoded)
        elif kind is float and value and math.isfinite(value):
            # A table of its own: 1.0 == 1 would hit the int's encoding; 0.0 (== -0.0) and NaN
            # (!= itself) are never cached.
            per_float = _KV_FLOAT_BYTES.get(key)
            if per_float is None:
                if len(_KV_FLOAT_BYTES) >= _KV_CACHE_LIMIT:
                    _KV_FLOAT_BYTES.clear()
                per_float = _KV_FLOAT_BYTES[key] = {}
            encoded = per_float.get(value)
            if encoded is None:
                if len(per_float) >= _KV_CACHE_LIMIT:
                    per_float.clear()
                encoded = per_float[value] = _pair_bytes(key, value)
            parts.append(encoded)
        else:
            parts.append(_pair_bytes(key, value))
    return b",".join(parts)


def _dropped(name: bytes, container: object) -> bytes:
    dropped = getattr(container, "dropped", 0)
    return b',"%b":%d' % (name, dropped) if dropped else b""


_KIND_BY_ID = {id(kind): kind.value + 1 for kind in SpanKind}  # identity lookups: Enum hashing is slow
_STATUS_BY_ID = {id(code): code.value for code in StatusCode}


def _name_bytes(name: str) -> bytes:
    """A span or event name as JSON; names repeat, so each is encoded once (raises like ``orjson``)."""
    encoded = _NAME_BYTES.get(name)
    if encoded is None:
        if len(_NAME_BYTES) >= _KV_CACHE_LIMIT:
            _NAME_BYTES.clear()
        encoded = _NAME_BYTES[name] = _dumps(name)
    return encoded


def _events_bytes(events: Sequence[Event], event_items: Iterable[Event]) -> bytes:
    parts = []
    for event in event_items:
        attrs, items = _sdk.event_parts(event)  # BoundedAttributes.__len__ is a Python-level call
        event_name = event.name
        name = _NAME_BYTES.get(event_name) or _name_bytes(event_name)
        timestamp = event.timestamp
        if items:
            parts.append(
                b'{"timeUnixNano":"%d","name":%b,"attributes":[%b]%b}'
                % (
                    timestamp,
                    name,
                    _attributes_bytes(items),
                    _dropped(b"droppedAttributesCount", attrs),
                )
            )
        else:
            parts.append(b'{"timeUnixNano":"%d","name":%b}' % (timestamp, name))
    return b',"events":[%b]%b' % (b",".join(parts), _dropped(b"droppedEventsCount", events))


def _span_bytes(span: ReadableSpan) -> bytes:
    context, parent, name, kind, start_time, end_time, status_code, description = _sdk.span_header(span)
    if context is None:
        raise ValueError(f"span {name!r} has no context")
    trace_id, span_id, _, _, trace_state, _ = context  # SpanContext is a tuple; its properties are slow
    # BoundedAttributes/BoundedList/TraceState answer len() and iter() in Python (BoundedList with a
    # lock and a copy): test and walk the plain dict/deque inside (an ended span's are immutable).
    attrs, attr_items, events, event_items, links, link_items = _sdk.span_parts(span)
    code = _STATUS_BY_ID[id(status_code)]
    return (
        b'{"traceId":"%032x","spanId":"%016x","name":%b,"kind":%d,"startTimeUnixNano":"%d",'
        b'"endTimeUnixNano":"%d","flags":%d%b%b%b%b%b%b}'
        % (
            trace_id,
            span_id,
            _NAME_BYTES.get(name) or _name_bytes(name),
            _KIND_BY_ID[id(kind)],
            start_time or 0,
            end_time or 0,
            _IS_REMOTE | _HAS_IS_REMOTE if parent is not None and parent[2] else _HAS_IS_REMOTE,
            b',"traceState":' + _dumps(trace_state.to_header())
            if trace_state is not None and len(_sdk.plain(trace_state))
            else b"",
            b',"parentSpanId":"%016x"' % parent[1] if parent is not None else b"",
            b',"attributes":[%b]%b'
            % (_attributes_bytes(attr_items), _dropped(b"droppedAttributesCount", attrs))
            if attr_items
            else b"",
            _events_bytes(events, event_items) if event_items else b"",
            b',"links":%b%b'
            % (_dumps([_link(link) for link in link_items]), _dropped(b"droppedLinksCount", links))
            if link_items
            else b"",
            b',"status":{"code":%d,"message":%b}' % (code, _dumps(description))
            if description
            else (b',"status":{"code":%d}' % code if code else b""),
        )
    )


def _fragment(obj: object, encode: Callable[[Any], JsonObject]) -> bytes:
    return _FRAGMENTS.get(obj, lambda o: dumps(encode(o)))


class EncodedSpan:
    """A span already encoded as one OTLP/JSON ``Span`` object, with what grouping a line needs.

    Bytes are not tracked by the cyclic GC, unlike a queued span's many containers.
    """

    __slots__ = ("json", "resource", "scope")

    def __init__(self, span: ReadableSpan) -> None:
        self.resource = span.resource
        self.scope = span.instrumentation_scope
        try:
            self.json = _span_bytes(span)
        except (TypeError, ValueError):  # orjson's refusal (a lone surrogate): the dict path replaces it
            self.json = dumps(_span(span))
        except Exception as exc:  # noqa: BLE001 - an odd span: the dict path reads it as the SDK does
            caught("encoding a span", exc)
            self.json = dumps(_span(span))


def traces_line(spans: Sequence[ReadableSpan | EncodedSpan], end: bytes = b"") -> bytes:
    """One ``TracesData`` line for spans, encoded now or already, followed by ``end``.

    Built as one join of all the pieces: a line can be megabytes, and each further copy of it
    (``%`` formatting, ``+ b"\\n"``) costs the writer thread about as much as the join itself.
    """
    by_resource: dict[int, tuple[Resource, dict[int, tuple[InstrumentationScope | None, list[bytes]]]]] = {}
    last_resource: object = _MISSING
    last_scope: object = _MISSING
    members: list[bytes] = []
    for span in spans:  # grouped by resource, then scope (by identity; first-seen order)
        if not isinstance(span, EncodedSpan):
            span = EncodedSpan(span)  # noqa: PLW2901
        resource = span.resource
        scope = span.scope
        if resource is not last_resource or scope is not last_scope:
            scopes = by_resource.setdefault(id(resource), (resource, {}))[1]
            members = scopes.setdefault(id(scope), (scope, []))[1]
            last_resource, last_scope = resource, scope
        if members:
            members.append(b",")
        members.append(span.json)
    parts = [b'{"resourceSpans":[']
    for resource_index, (resource, scopes) in enumerate(by_resource.values()):
        parts += (b',{"resource":' if resource_index else b'{"resource":', _fragment(resource, _resource))
        parts.append(b',"scopeSpans":[')
        for scope_index, (scope, jsons) in enumerate(scopes.values()):
            parts += (b',{"scope":' if scope_index else b'{"scope":', _fragment(scope, _scope), b',"spans":[')
            parts += jsons  # the spans with their separating commas
            parts.append(b"]")
            if scope is not None and scope.schema_url:
                parts += (b',"schemaUrl":', dumps(scope.schema_url))
            parts.append(b"}")
        parts.append(b"]")
        if resource.schema_url:
            parts += (b',"schemaUrl":', dumps(resource.schema_url))
        parts.append(b"}")
    parts += (b"]}", end)
    return b"".join(parts)


def logs_line(records: Sequence[ReadableLogRecord]) -> bytes:
    """One ``LogsData`` line."""
    return dumps(logs_data(records))


def _log(record: ReadableLogRecord) -> JsonObject:
    log = record.log_record
    encoded: JsonObject = {
        "timeUnixNano": str(log.timestamp or 0),
        "observedTimeUnixNano": str(log.observed_timestamp or 0),
    }
    if log.severity_number is not None:
        encoded["severityNumber"] = log.severity_number.value
    if log.severity_text:
        encoded["severityText"] = log.severity_text
    if log.body is not None:
        encoded["body"] = any_value(log.body)
    _with_attributes(encoded, log.attributes, record.dropped_attributes)
    if log.trace_flags:
        encoded["flags"] = int(log.trace_flags)
    if log.trace_id:
        encoded["traceId"] = f"{log.trace_id:032x}"
    if log.span_id:
        encoded["spanId"] = f"{log.span_id:016x}"
    if log.event_name:
        encoded["eventName"] = log.event_name
    return encoded


def logs_data(records: Sequence[ReadableLogRecord]) -> JsonObject:
    """A ``LogsData`` object for a batch of log records."""
    return {
        "resourceLogs": _group(
            records, lambda r: r.resource, lambda r: r.instrumentation_scope, _log, "scopeLogs", "logRecords"
        )
    }


def _number(value: float) -> JsonObject:
    # asInt is a signed 64-bit field: past it, a collector (or protobuf's parser) refuses the
    # whole line, so such a value is written as the nearest double instead
    if isinstance(value, int) and not isinstance(value, bool) and _INT64_MIN <= value <= _INT64_MAX:
        return {"asInt": str(value)}
    return {"asDouble": _as_double(value)}


def _exemplars(point: Any) -> dict[str, list[JsonObject]]:
    if not point.exemplars:
        return {}
    out = []
    for exemplar in point.exemplars:
        encoded = {"timeUnixNano": str(exemplar.time_unix_nano), **_number(exemplar.value)}
        if exemplar.filtered_attributes:
            encoded["filteredAttributes"] = attributes(exemplar.filtered_attributes)
        if exemplar.span_id is not None and exemplar.trace_id is not None:
            encoded["traceId"] = f"{exemplar.trace_id:032x}"
            encoded["spanId"] = f"{exemplar.span_id:016x}"
        out.append(encoded)
    return {"exemplars": out}


def _point(point: Any, start: bool = True) -> JsonObject:
    encoded: JsonObject = {"timeUnixNano": str(point.time_unix_nano)}
    if start and point.start_time_unix_nano:
        encoded["startTimeUnixNano"] = str(point.start_time_unix_nano)
    _with_attributes(encoded, point.attributes)
    encoded.update(_exemplars(point))
    return encoded


def _histogram_point(point: Any) -> JsonObject:
    encoded = _point(point)
    encoded.update(
        count=str(point.count),
        sum=_as_double(point.sum),
        bucketCounts=[str(count) for count in point.bucket_counts],
        explicitBounds=[_as_double(bound) for bound in point.explicit_bounds],
        min=_as_double(point.min),
        max=_as_double(point.max),
    )
    return encoded


def _exponential_point(point: Any) -> JsonObject:
    encoded = _point(point)
    encoded.update(
        count=str(point.count),
        sum=_as_double(point.sum),
        scale=point.scale,
        zeroCount=str(point.zero_count),
        min=_as_double(point.min),
        max=_as_double(point.max),
    )
    for side in ("positive", "negative"):
        buckets = getattr(point, side)
        if buckets.bucket_counts:
            encoded[side] = {
                "offset": buckets.offset,
                "bucketCounts": [str(count) for count in buckets.bucket_counts],
            }
    if point.flags:
        encoded["flags"] = point.flags
    return encoded


def _metric(metric: Any) -> JsonObject:
    encoded: JsonObject = {"name": metric.name}
    if metric.description:
        encoded["description"] = metric.description
    if metric.unit:
        encoded["unit"] = metric.unit
    data = metric.data
    if isinstance(data, Sum):
        encoded["sum"] = {
            "dataPoints": [{**_point(p), **_number(p.value)} for p in data.data_points],
            "aggregationTemporality": int(data.aggregation_temporality),
            "isMonotonic": data.is_monotonic,
        }
    elif isinstance(data, Gauge):
        encoded["gauge"] = {
            "dataPoints": [{**_point(p, start=False), **_number(p.value)} for p in data.data_points]
        }
    elif isinstance(data, Histogram):
        encoded["histogram"] = {
            "dataPoints": [_histogram_point(p) for p in data.data_points],
            "aggregationTemporality": int(data.aggregation_temporality),
        }
    elif isinstance(data, ExponentialHistogram):
        encoded["exponentialHistogram"] = {
            "dataPoints": [_exponential_point(p) for p in data.data_points],
            "aggregationTemporality": int(data.aggregation_temporality),
        }
    return encoded


def metrics_data(data: MetricsData) -> JsonObject:
    """A ``MetricsData`` object for one collection."""
    out = []
    for resource_metrics in data.resource_metrics:
        scopes = []
        for scope_metrics in resource_metrics.scope_metrics:
            entry: JsonObject = {
                "scope": _scope(scope_metrics.scope),
                "metrics": [_metric(metric) for metric in scope_metrics.metrics],
            }
            if scope_metrics.schema_url:
                entry["schemaUrl"] = scope_metrics.schema_url
            scopes.append(entry)
        resource_entry: JsonObject = {
            "resource": _resource(resource_metrics.resource),
            "scopeMetrics": scopes,
        }
        if resource_metrics.schema_url:
            resource_entry["schemaUrl"] = resource_metrics.schema_url
        out.append(resource_entry)
    return {"resourceMetrics": out}


def _scrub(value: Any) -> Any:
    """Replace what JSON cannot carry (lone surrogates) so a record still serializes."""
    if isinstance(value, str):
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")  # one U+FFFD each
    if isinstance(value, dict):
        return {_scrub(key): _scrub(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    return value


def dumps(obj: Any) -> bytes:
    """Serialize to one JSON line (no newline); strings JSON cannot carry are replaced."""
    try:
        return orjson.dumps(obj)
    except TypeError:
        return orjson.dumps(_scrub(obj))

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
from typing import Any

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
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext

_logger = logging.getLogger(__name__)

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_HAS_IS_REMOTE = 0x100
_IS_REMOTE = 0x200
_CACHE_LIMIT = 64

JsonObject = dict[str, Any]


def _double(value: float) -> float | str:
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
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


def attributes(attrs: Mapping[str, object] | None) -> list[JsonObject]:
    """Encode an attribute mapping as a list of OTLP ``KeyValue``."""
    if not attrs:
        return []
    return [{"key": key, "value": any_value(value)} for key, value in attrs.items()]


def _with_attributes(target: JsonObject, attrs: Mapping[str, object] | None, dropped: int = 0) -> JsonObject:
    if attrs:
        target["attributes"] = attributes(attrs)
    if dropped:
        target["droppedAttributesCount"] = dropped
    return target


class _Cache:
    """Encodings of resources and scopes, keyed by identity (objects held, so ids stay unique)."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[object, JsonObject]] = {}

    def get(self, obj: object, encode: Callable[[Any], JsonObject]) -> JsonObject:
        hit = self._entries.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        if len(self._entries) >= _CACHE_LIMIT:
            self._entries.clear()
        encoded = encode(obj)
        self._entries[id(obj)] = (obj, encoded)
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


_RESOURCES = _Cache()
_SCOPES = _Cache()


def _group(
    items: Iterable[Any],
    resource_of: Callable[[Any], Resource],
    scope_of: Callable[[Any], InstrumentationScope | None],
    encode: Callable[[Any], JsonObject],
    scopes_key: str,
    items_key: str,
) -> list[JsonObject]:
    by_resource: dict[int, tuple[Resource, dict[int, tuple[InstrumentationScope | None, list[JsonObject]]]]] = {}
    for item in items:
        resource = resource_of(item)
        scope = scope_of(item)
        scopes = by_resource.setdefault(id(resource), (resource, {}))[1]
        scopes.setdefault(id(scope), (scope, []))[1].append(encode(item))
    out = []
    for resource, scopes in by_resource.values():
        scope_list = []
        for scope, encoded in scopes.values():
            entry: JsonObject = {"scope": _SCOPES.get(scope, _scope), items_key: encoded}
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


def _span(span: ReadableSpan) -> JsonObject:
    context = span.context
    assert context is not None
    encoded: JsonObject = {
        "traceId": f"{context.trace_id:032x}",
        "spanId": f"{context.span_id:016x}",
        "name": span.name,
        "kind": span.kind.value + 1,
        "startTimeUnixNano": str(span.start_time or 0),
        "endTimeUnixNano": str(span.end_time or 0),
        "flags": _flags(span.parent),
    }
    if context.trace_state:
        encoded["traceState"] = context.trace_state.to_header()
    if span.parent is not None:
        encoded["parentSpanId"] = f"{span.parent.span_id:016x}"
    _with_attributes(encoded, span.attributes, span.dropped_attributes)
    if span.events:
        encoded["events"] = [
            _with_attributes(
                {"timeUnixNano": str(event.timestamp), "name": event.name},
                event.attributes,
                event.dropped_attributes,
            )
            for event in span.events
        ]
    if span.links:
        encoded["links"] = [
            _with_attributes(
                {
                    "traceId": f"{link.context.trace_id:032x}",
                    "spanId": f"{link.context.span_id:016x}",
                    "flags": _flags(link.context),
                    **({"traceState": link.context.trace_state.to_header()} if link.context.trace_state else {}),
                },
                link.attributes,
                link.dropped_attributes,
            )
            for link in span.links
        ]
    if span.dropped_events:
        encoded["droppedEventsCount"] = span.dropped_events
    if span.dropped_links:
        encoded["droppedLinksCount"] = span.dropped_links
    status = span.status
    if status.status_code.value or status.description:
        encoded["status"] = {"code": status.status_code.value}
        if status.description:
            encoded["status"]["message"] = status.description
    return encoded


def traces_data(spans: Sequence[ReadableSpan]) -> JsonObject:
    """A ``TracesData`` object for a batch of spans."""
    return {
        "resourceSpans": _group(
            spans, lambda s: s.resource, lambda s: s.instrumentation_scope, _span, "scopeSpans", "spans"
        )
    }


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
    if isinstance(value, int) and not isinstance(value, bool):
        return {"asInt": str(value)}
    return {"asDouble": _double(float(value))}


def _exemplars(point: Any) -> dict[str, list[JsonObject]]:
    if not point.exemplars:
        return {}
    out = []
    for exemplar in point.exemplars:
        encoded = {"timeUnixNano": str(exemplar.time_unix_nano), **_number(exemplar.value)}
        _with_attributes(encoded, exemplar.filtered_attributes)
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
        sum=_double(float(point.sum)),
        bucketCounts=[str(count) for count in point.bucket_counts],
        explicitBounds=[_double(float(bound)) for bound in point.explicit_bounds],
        min=_double(float(point.min)),
        max=_double(float(point.max)),
    )
    return encoded


def _exponential_point(point: Any) -> JsonObject:
    encoded = _point(point)
    encoded.update(
        count=str(point.count),
        sum=_double(float(point.sum)),
        scale=point.scale,
        zeroCount=str(point.zero_count),
        min=_double(float(point.min)),
        max=_double(float(point.max)),
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
        encoded["gauge"] = {"dataPoints": [{**_point(p, start=False), **_number(p.value)} for p in data.data_points]}
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
        resource_entry: JsonObject = {"resource": _resource(resource_metrics.resource), "scopeMetrics": scopes}
        if resource_metrics.schema_url:
            resource_entry["schemaUrl"] = resource_metrics.schema_url
        out.append(resource_entry)
    return {"resourceMetrics": out}


def _scrub(value: Any) -> Any:
    """Replace what JSON cannot carry (lone surrogates) so a record still serializes."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_scrub(key): _scrub(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    return value


def dumps(obj: JsonObject) -> bytes:
    """Serialize to one JSON line (no newline); strings JSON cannot carry are replaced."""
    try:
        return orjson.dumps(obj)
    except TypeError:
        return orjson.dumps(_scrub(obj))

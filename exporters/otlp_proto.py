"""A store line (OTLP/JSON ``TracesData``, ``MetricsData`` or ``LogsData``) as an OTLP protobuf request body.

OTLP/JSON writes trace and span ids as hex, where protobuf's JSON mapping expects base64 for
``bytes`` fields; the ids are converted first, then ``json_format`` does the rest (integer
enums, 64-bit integers as strings, lowerCamelCase keys). A serialized ``TracesData`` is a
serialized ``ExportTraceServiceRequest`` (same field numbers), and serialized requests
concatenate into one request with all their resources, so lines can be sent together.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from opentelemetry.proto.logs.v1.logs_pb2 import LogsData
from opentelemetry.proto.metrics.v1.metrics_pb2 import MetricsData
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

_HEX = re.compile(r"[0-9a-fA-F]+")
MESSAGES: dict[str, type[Message]] = {"traces": TracesData, "metrics": MetricsData, "logs": LogsData}
_ID_KEYS = ("traceId", "spanId", "parentSpanId")
_METRIC_KINDS = ("gauge", "sum", "histogram", "exponentialHistogram", "summary")


def _ids(item: dict[str, Any]) -> None:
    """Hex ids to base64, in place; an id already converted (or not hex) is left as it is, so a
    line can be read again after a failed attempt (json_format then judges what is left)."""
    for key in _ID_KEYS:
        value = item.get(key)
        if value and isinstance(value, str) and len(value) in (16, 32) and _HEX.fullmatch(value):
            item[key] = base64.b64encode(bytes.fromhex(value)).decode()


def _spans(data: dict[str, Any]) -> None:
    for resource in data.get("resourceSpans", ()):
        for scope in resource.get("scopeSpans", ()):
            for span in scope.get("spans", ()):
                _ids(span)
                for link in span.get("links", ()):
                    _ids(link)


def _logs(data: dict[str, Any]) -> None:
    for resource in data.get("resourceLogs", ()):
        for scope in resource.get("scopeLogs", ()):
            for record in scope.get("logRecords", ()):
                _ids(record)


def _metrics(data: dict[str, Any]) -> None:
    for resource in data.get("resourceMetrics", ()):
        for scope in resource.get("scopeMetrics", ()):
            for metric in scope.get("metrics", ()):
                for kind in _METRIC_KINDS:
                    for point in (metric.get(kind) or {}).get("dataPoints", ()):
                        for exemplar in point.get("exemplars", ()):
                            _ids(exemplar)


_FIX_IDS = {"traces": _spans, "metrics": _metrics, "logs": _logs}
_COUNTS = {
    "traces": ("resourceSpans", "scopeSpans", "spans"),
    "metrics": ("resourceMetrics", "scopeMetrics", "metrics"),
    "logs": ("resourceLogs", "scopeLogs", "logRecords"),
}


def records_in(signal: str, data: dict[str, Any]) -> int:
    """Spans, metrics or log records in one decoded line."""
    outer, middle, inner = _COUNTS[signal]
    return sum(
        len(scope.get(inner, ())) for resource in data.get(outer, ()) for scope in resource.get(middle, ())
    )


_FIELDS = {
    "traces": ("resource_spans", "scope_spans", "spans"),
    "metrics": ("resource_metrics", "scope_metrics", "metrics"),
    "logs": ("resource_logs", "scope_logs", "log_records"),
}


def split_request(signal: str, body: bytes) -> list[bytes]:
    """A serialized export request cut into one request per span, metric or log record, each
    with its resource and scope (a line an endpoint finds too large, sent record by record)."""
    outer, middle, inner = _FIELDS[signal]
    message = MESSAGES[signal].FromString(body)
    pieces = []
    for resource in getattr(message, outer):
        for scope in getattr(resource, middle):
            for record in getattr(scope, inner):
                one = MESSAGES[signal]()
                one_resource = getattr(one, outer).add()
                one_resource.resource.CopyFrom(resource.resource)
                one_resource.schema_url = resource.schema_url
                one_scope = getattr(one_resource, middle).add()
                one_scope.scope.CopyFrom(scope.scope)
                one_scope.schema_url = scope.schema_url
                getattr(one_scope, inner).add().CopyFrom(record)
                pieces.append(one.SerializeToString())
    return pieces


def to_protobuf(signal: str, data: dict[str, Any]) -> bytes:
    """One decoded store line of ``signal`` as a serialized OTLP export request; changes ``data``.

    Raises ``ValueError`` (or ``json_format.ParseError``) on a line that is not OTLP/JSON.
    """
    _FIX_IDS[signal](data)
    message = json_format.ParseDict(data, MESSAGES[signal](), ignore_unknown_fields=True)
    return message.SerializeToString()


# what converting a record that is not OTLP/JSON raises (a value past 64 bits, an id not in hex)
_NOT_OTLP_JSON = (ValueError, json_format.ParseError, TypeError, AttributeError)


def to_protobuf_kept(signal: str, data: dict[str, Any]) -> tuple[bytes, int]:
    """Like :func:`to_protobuf`, but a record that is not OTLP/JSON (a time past 64 bits, an id
    that is not hex) costs only itself: the line's other records are kept, each converted on its
    own, their requests concatenated. Returns the body and how many records were left out;
    raises ``ValueError`` only where the line's outline itself is not OTLP/JSON."""
    try:
        return to_protobuf(signal, data), 0
    except _NOT_OTLP_JSON:
        pass
    outer, middle, inner = _COUNTS[signal]
    body, skipped = b"", 0
    try:
        for resource in data.get(outer, ()):
            for scope in resource.get(middle, ()):
                for record in scope.get(inner, ()):
                    one = {outer: [{**resource, middle: [{**scope, inner: [record]}]}]}
                    try:
                        body += to_protobuf(signal, one)
                    except _NOT_OTLP_JSON:
                        skipped += 1
    except (TypeError, AttributeError) as exc:  # the outline: not lists and objects
        raise ValueError(f"not OTLP/JSON: {exc!r}") from exc
    return body, skipped

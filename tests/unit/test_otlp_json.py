"""Conformance of ``exporters.otlp_json`` with the OTLP/JSON encoding.

Telemetry is produced by the real SDK, encoded by our encoder, serialized with ``dumps`` and parsed back
with ``google.protobuf.json_format.Parse``; the result must equal what the official protobuf encoders in
``opentelemetry-exporter-otlp-proto-common`` produce from the same SDK objects.

OTLP/JSON writes trace and span ids as hex, whereas protobuf's JSON parser reads ``bytes`` fields as
base64. ``_parse`` therefore rewrites the ids from hex to base64 (on a copy of the decoded line) before
parsing, so the comparison checks the exact id bytes.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import orjson
import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from opentelemetry import trace as trace_api
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.metrics import Observation
from opentelemetry.proto.logs.v1.logs_pb2 import LogsData
from opentelemetry.proto.metrics.v1.metrics_pb2 import MetricsData as PB2MetricsData
from opentelemetry.proto.trace.v1.trace_pb2 import Status as PB2Status
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Gauge,
    Histogram,
    HistogramDataPoint,
    InMemoryMetricReader,
    Metric,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.sdk.version import __version__ as _sdk_version
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
)

from exporters.otlp_json import dumps, logs_data, metrics_data, traces_data, traces_line

SDK_LINE = tuple(int(part) for part in _sdk_version.split(".")[:2])
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId"})
SCHEMA_A = "https://opentelemetry.io/schemas/1.21.0"
SCHEMA_B = "https://opentelemetry.io/schemas/1.26.0"
SCOPE_SCHEMA = "https://example.com/scope-schema/1.0"
REMOTE_TRACE_ID = 0x0AF7651916CD43DD8448EB211C80319C
REMOTE_SPAN_ID = 0x00F067AA0BA902B7
LINKED_TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
LINKED_SPAN_ID = 0x0123456789ABCDEF

M = TypeVar("M", bound=Message)

SPAN_ATTRIBUTES: dict[str, Any] = {
    "str": "value",
    "bool": True,
    "int": 42,
    "float": 3.25,
    "negative_int": -17,
    "int64_max": INT64_MAX,
    "int64_min": INT64_MIN,
    "str_array": ("a", "b", ""),
    "int_array": (1, -2, 3),
    "float_array": (0.5, -1.5),
    "bool_array": (True, False),
    "empty_str": "",
    "zero": 0,
    "zero_float": 0.0,
    "false": False,
    "empty_array": (),
}


# --------------------------------------------------------------------------- helpers


def _ids_to_base64(node: Any) -> Any:
    """A copy of decoded OTLP/JSON with every hex id replaced by the base64 of its bytes."""
    if isinstance(node, dict):
        return {
            key: (
                base64.b64encode(bytes.fromhex(value)).decode("ascii")
                if key in ID_KEYS and isinstance(value, str)
                else _ids_to_base64(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_ids_to_base64(item) for item in node]
    return node


def _parse(line: bytes, message: M) -> M:
    """Parse one of our lines into ``message``, reading ids as hex (the OTLP/JSON rule)."""
    return json_format.Parse(orjson.dumps(_ids_to_base64(orjson.loads(line))), message)


def _assert_same_message(ours: Message, official: Message) -> None:
    # The text dumps give a readable diff when the messages differ.
    assert str(ours) == str(official)
    assert ours == official


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """Yield (path, key, value) for every key of every JSON object in ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, f"{path}[{index}]")


def _values_of(node: Any, wanted: str) -> list[Any]:
    return [value for _, key, value in _walk(node) if key == wanted]


def _trace_pipeline(resource: Resource, exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def _log_pipeline(resource: Resource, exporter: InMemoryLogRecordExporter) -> LoggerProvider:
    provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    return provider


def _spans_with(attributes: dict[str, Any]) -> tuple[ReadableSpan, ...]:
    exporter = InMemorySpanExporter()
    provider = _trace_pipeline(Resource({"service.name": "odd"}), exporter)
    with provider.get_tracer("odd").start_as_current_span("odd", attributes=attributes):
        pass
    return exporter.get_finished_spans()


def _logs_with(body: Any, attributes: dict[str, Any] | None = None) -> tuple[ReadableLogRecord, ...]:
    exporter = InMemoryLogRecordExporter()
    provider = _log_pipeline(Resource({"service.name": "odd"}), exporter)
    provider.get_logger("odd").emit(body=body, attributes=attributes, severity_number=SeverityNumber.WARN)
    return exporter.get_finished_logs()


# --------------------------------------------------------------------------- telemetry fixtures


@pytest.fixture(scope="module")
def spans() -> tuple[ReadableSpan, ...]:
    """Spans from two resources (interleaved) and three scopes, covering every span field."""
    exporter = InMemorySpanExporter()
    provider_a = _trace_pipeline(
        Resource({"service.name": "svc-a", "deployment": "test"}, SCHEMA_A), exporter
    )
    provider_b = _trace_pipeline(Resource({"service.name": "svc-b", "replica": 2}, SCHEMA_B), exporter)
    tracer_a = provider_a.get_tracer(
        "scope.a", "1.2.3", schema_url=SCOPE_SCHEMA, attributes={"scope.attr": "x"}
    )
    tracer_a2 = provider_a.get_tracer("scope.a2", "0.1")
    tracer_b = provider_b.get_tracer("scope.b", "9.9.9", attributes={"scope.n": 7, "scope.flag": False})

    remote_parent = NonRecordingSpan(
        SpanContext(
            trace_id=REMOTE_TRACE_ID,
            span_id=REMOTE_SPAN_ID,
            is_remote=True,
            trace_flags=TraceFlags(TraceFlags.SAMPLED),
            trace_state=TraceState([("vendor", "opaque"), ("other", "v2")]),
        )
    )
    linked = SpanContext(
        trace_id=LINKED_TRACE_ID,
        span_id=LINKED_SPAN_ID,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
        trace_state=TraceState([("linkvendor", "lv")]),
    )

    with tracer_a.start_as_current_span(
        "root",
        kind=SpanKind.SERVER,
        attributes=SPAN_ATTRIBUTES,
        links=[Link(linked, {"link.attr": "l", "n": 1})],
    ) as root:
        root.add_event("started", {"event.str": "e", "event.int": 5, "event.floats": (1.0, 2.5)})
        root.add_event("bare")
        with tracer_b.start_as_current_span("child-in-other-resource", kind=SpanKind.CLIENT):
            pass
        with tracer_a2.start_as_current_span("child", kind=SpanKind.INTERNAL) as child:
            child.set_status(Status(StatusCode.ERROR, "boom: it broke"))
            with tracer_a.start_as_current_span("grandchild", kind=SpanKind.PRODUCER) as grandchild:
                grandchild.add_link(root.get_span_context())
        with tracer_b.start_as_current_span("ok", kind=SpanKind.CONSUMER) as ok:
            ok.set_status(Status(StatusCode.OK))
    with tracer_b.start_as_current_span(
        "remote-child", context=trace_api.set_span_in_context(remote_parent), kind=SpanKind.SERVER
    ):
        pass
    finished = exporter.get_finished_spans()
    assert {span.kind for span in finished} == set(SpanKind)
    return finished


@pytest.fixture(scope="module")
def log_records() -> tuple[ReadableLogRecord, ...]:
    """Log records from two resources and scopes, with every body shape and trace context."""
    exporter = InMemoryLogRecordExporter()
    provider_a = _log_pipeline(Resource({"service.name": "svc-a"}, SCHEMA_A), exporter)
    provider_b = _log_pipeline(Resource({"service.name": "svc-b", "replica": 2}), exporter)
    logger_a = provider_a.get_logger(
        "logs.a", "2.0.0", schema_url=SCOPE_SCHEMA, attributes={"scope.attr": "y"}
    )
    logger_b = provider_b.get_logger("logs.b")
    tracer = TracerProvider(shutdown_on_exit=False).get_tracer("for-logs")

    logger_a.emit(
        body="plain string body",
        severity_number=SeverityNumber.INFO,
        severity_text="INFO",
        attributes={"str": "s", "int": -3, "float": 1.5, "bool": False, "arr": ("x", "y"), "map": {"k": [1]}},
        timestamp=1_700_000_000_123_456_789,
    )
    with tracer.start_as_current_span("logging-span"):
        logger_b.emit(
            body={"message": "structured", "count": 3, "nested": {"ok": True, "list": [1, "two", 3.0]}},
            severity_number=SeverityNumber.ERROR,
            severity_text="ERROR",
            event_name="app.request.failed",
            attributes={"http.status": 500},
        )
        logger_a.emit(
            body=["item", 2, 2.5, False, {"k": "v"}, ["inner"]], severity_number=SeverityNumber.DEBUG
        )
    logger_b.emit(body=None, event_name="only.event", severity_number=SeverityNumber.FATAL4)
    logger_a.emit(body=b"\x00\x01binary\xff")
    return exporter.get_finished_logs()


@pytest.fixture(scope="module")
def metrics() -> MetricsData:
    """One collection from each of two MeterProviders: sums, gauge, explicit and exponential histograms."""
    collections = []
    for service, offset in (("svc-a", 0), ("svc-b", 100)):
        reader = InMemoryMetricReader()
        provider = MeterProvider(
            resource=Resource({"service.name": service}, SCHEMA_A if offset else None),
            metric_readers=[reader],
            views=[
                View(instrument_name="latency.exp", aggregation=ExponentialBucketHistogramAggregation()),
                View(instrument_name="*"),
            ],
            shutdown_on_exit=False,
        )
        meter = provider.get_meter("meter.main", "3.1.4", schema_url=SCOPE_SCHEMA, attributes={"m.attr": "z"})
        other_meter = provider.get_meter("meter.other")

        counter = meter.create_counter("requests", unit="1", description="Requests served")
        counter.add(5 + offset, {"route": "/a"})
        counter.add(2, {"route": "/b", "ok": True})
        meter.create_counter("bytes.float").add(1.5)
        up_down = meter.create_up_down_counter("queue.depth", unit="{item}")
        up_down.add(-7 - offset, {"queue": "q"})
        histogram = meter.create_histogram("latency", unit="ms", description="Latency")
        for value in (0.5, 3, 42, 1200.25):
            histogram.record(value, {"route": "/a"})
        exponential = other_meter.create_histogram("latency.exp", unit="s")
        for value in (0.001, 0.5, 2, 4, 1000, 0):
            exponential.record(value)

        def observe(_options: Any, offset: int = offset) -> list[Any]:
            return [Observation(10 + offset, {"cpu": 0}), Observation(0.75, {"cpu": 1})]

        meter.create_observable_gauge("cpu.usage", callbacks=[observe], unit="1")
        collected = reader.get_metrics_data()
        assert collected is not None
        collections.extend(collected.resource_metrics)
        provider.shutdown()
    return MetricsData(resource_metrics=collections)


# --------------------------------------------------------------------------- traces


@pytest.fixture(params=["fast", "dict"])
def trace_line(request: pytest.FixtureRequest) -> Callable[[Sequence[ReadableSpan]], bytes]:
    """Both span encoders: the bytes fast path (with its fallback) and the dict path."""
    if request.param == "fast":
        return traces_line
    return lambda spans: dumps(traces_data(spans))


def _official_traces(spans: tuple[ReadableSpan, ...]) -> TracesData:
    official = TracesData(resource_spans=encode_spans(spans).resource_spans)
    by_span_id = {span.context.span_id: span for span in spans}
    for resource_spans in official.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for pb_span in scope_spans.spans:
                sdk_span = by_span_id[int.from_bytes(pb_span.span_id, "big")]
                # The official encoder writes an empty Status for UNSET; an absent Status is the same
                # value in proto3 JSON (all fields default), and ours omits it.
                if pb_span.status == PB2Status():
                    pb_span.ClearField("status")
                # The official encoder drops Link.trace_state (a field of the Link message); ours keeps
                # it, which is more complete, so the expectation carries it too.
                for pb_link, sdk_link in zip(pb_span.links, sdk_span.links, strict=True):
                    pb_link.trace_state = sdk_link.context.trace_state.to_header()
    return official


def test_traces_parse_to_same_protobuf_as_official_encoder(
    spans: tuple[ReadableSpan, ...], trace_line: Callable[[Sequence[ReadableSpan]], bytes]
) -> None:
    ours = _parse(trace_line(spans), TracesData())
    _assert_same_message(ours, _official_traces(spans))
    # The fixture really covers what the comparison is meant to protect.
    assert len(ours.resource_spans) == 2
    assert sum(len(rs.scope_spans) for rs in ours.resource_spans) == 3


def test_link_trace_state_is_encoded(
    spans: tuple[ReadableSpan, ...], trace_line: Callable[[Sequence[ReadableSpan]], bytes]
) -> None:
    ours = _parse(trace_line(spans), TracesData())
    root = next(
        s for rs in ours.resource_spans for ss in rs.scope_spans for s in ss.spans if s.name == "root"
    )
    assert root.links[0].trace_state == "linkvendor=lv"
    assert root.links[0].flags == 0x300  # HAS_IS_REMOTE | IS_REMOTE


def test_remote_parent_sets_remote_flags_and_keeps_trace_state(
    spans: tuple[ReadableSpan, ...], trace_line: Callable[[Sequence[ReadableSpan]], bytes]
) -> None:
    encoded = orjson.loads(trace_line(spans))
    all_spans = [s for rs in encoded["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
    remote_child = next(s for s in all_spans if s["name"] == "remote-child")
    assert remote_child["traceId"] == f"{REMOTE_TRACE_ID:032x}"
    assert remote_child["parentSpanId"] == f"{REMOTE_SPAN_ID:016x}"
    assert remote_child["traceState"] == "vendor=opaque,other=v2"
    assert remote_child["flags"] == 0x300
    local_child = next(s for s in all_spans if s["name"] == "child")
    assert local_child["flags"] == 0x100


# --------------------------------------------------------------------------- logs


def _official_logs(records: tuple[ReadableLogRecord, ...]) -> LogsData:
    official = LogsData(resource_logs=encode_logs(records).resource_logs)
    for resource_logs in official.resource_logs:
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                # The official encoder writes an empty AnyValue body for a record without a body; an
                # absent body means the same and ours omits it.
                if not record.body.ListFields():
                    record.ClearField("body")
    return official


def test_logs_parse_to_same_protobuf_as_official_encoder(log_records: tuple[ReadableLogRecord, ...]) -> None:
    ours = _parse(dumps(logs_data(log_records)), LogsData())
    _assert_same_message(ours, _official_logs(log_records))
    assert len(ours.resource_logs) == 2
    bodies = [
        r.body.WhichOneof("value")
        for rl in ours.resource_logs
        for sl in rl.scope_logs
        for r in sl.log_records
    ]
    assert sorted(b or "none" for b in bodies) == sorted(
        ["string_value", "kvlist_value", "array_value", "none", "bytes_value"]
    )


def test_log_trace_context_and_event_name_are_encoded(log_records: tuple[ReadableLogRecord, ...]) -> None:
    encoded = orjson.loads(dumps(logs_data(log_records)))
    records = [r for rl in encoded["resourceLogs"] for sl in rl["scopeLogs"] for r in sl["logRecords"]]
    in_span = [r for r in records if "traceId" in r]
    assert len(in_span) == 2
    for record in in_span:
        assert re.fullmatch(r"[0-9a-f]{32}", record["traceId"])
        assert re.fullmatch(r"[0-9a-f]{16}", record["spanId"])
        assert record["flags"] & 0x01 == 0x01  # W3C "sampled"
    assert {r.get("eventName") for r in records} >= {"app.request.failed", "only.event"}


# --------------------------------------------------------------------------- metrics


def test_metrics_parse_to_same_protobuf_as_official_encoder(metrics: MetricsData) -> None:
    ours = _parse(dumps(metrics_data(metrics)), PB2MetricsData())
    official = PB2MetricsData(resource_metrics=encode_metrics(metrics).resource_metrics)
    _assert_same_message(ours, official)
    kinds = {
        m.WhichOneof("data") for rm in ours.resource_metrics for sm in rm.scope_metrics for m in sm.metrics
    }
    assert kinds == {"sum", "gauge", "histogram", "exponential_histogram"}
    assert len(ours.resource_metrics) == 2


def test_exponential_histogram_keeps_positive_and_zero_buckets(metrics: MetricsData) -> None:
    ours = _parse(dumps(metrics_data(metrics)), PB2MetricsData())
    point = next(
        m.exponential_histogram.data_points[0]
        for rm in ours.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        if m.name == "latency.exp"
    )
    # (The SDK's Histogram instrument drops negative measurements, so no negative buckets are filled.)
    assert point.count == 6
    assert point.zero_count == 1
    assert sum(point.positive.bucket_counts) == 5
    assert point.min == 0
    assert point.max == 1000


def test_exemplar_filtered_attributes_are_encoded_as_filtered_attributes_and_parse() -> None:
    """Exemplar attributes dropped by a View go in ``filteredAttributes`` (the proto field name)."""
    reader = InMemoryMetricReader()
    provider = MeterProvider(
        metric_readers=[reader],
        views=[View(instrument_name="with.exemplar", attribute_keys={"kept"})],
        shutdown_on_exit=False,
    )
    counter = provider.get_meter("exemplars").create_counter("with.exemplar")
    tracer = TracerProvider(shutdown_on_exit=False).get_tracer("exemplars")
    with tracer.start_as_current_span("sampled") as span:
        counter.add(3, {"kept": "k", "dropped": "d"})
    data = reader.get_metrics_data()
    assert data is not None
    provider.shutdown()
    exemplar = data.resource_metrics[0].scope_metrics[0].metrics[0].data.data_points[0].exemplars[0]
    assert dict(exemplar.filtered_attributes or {}) == {"dropped": "d"}

    line = dumps(metrics_data(data))
    raw_exemplar = orjson.loads(line)["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["sum"][
        "dataPoints"
    ][0]["exemplars"][0]
    assert raw_exemplar["traceId"] == f"{span.get_span_context().trace_id:032x}"
    assert raw_exemplar["spanId"] == f"{span.get_span_context().span_id:016x}"
    assert raw_exemplar.get("filteredAttributes") == [{"key": "dropped", "value": {"stringValue": "d"}}]
    ours = _parse(line, PB2MetricsData())
    _assert_same_message(ours, PB2MetricsData(resource_metrics=encode_metrics(data).resource_metrics))


def test_exemplar_without_filtered_attributes_matches_official_encoder() -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
    histogram = provider.get_meter("exemplars").create_histogram("timed")
    tracer = TracerProvider(shutdown_on_exit=False).get_tracer("exemplars")
    with tracer.start_as_current_span("sampled"):
        histogram.record(12.5, {"route": "/x"})
        histogram.record(3, {"route": "/x"})
    data = reader.get_metrics_data()
    assert data is not None
    provider.shutdown()
    ours = _parse(dumps(metrics_data(data)), PB2MetricsData())
    official = PB2MetricsData(resource_metrics=encode_metrics(data).resource_metrics)
    _assert_same_message(ours, official)
    assert ours.resource_metrics[0].scope_metrics[0].metrics[0].histogram.data_points[0].exemplars


def test_dropped_attribute_event_and_link_counts_match_official_encoder(
    trace_line: Callable[[Sequence[ReadableSpan]], bytes],
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(
        span_limits=SpanLimits(max_span_attributes=2, max_events=1, max_links=1, max_event_attributes=1),
        shutdown_on_exit=False,
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    links = [Link(SpanContext(LINKED_TRACE_ID, LINKED_SPAN_ID, is_remote=False)) for _ in range(3)]
    with provider.get_tracer("limited").start_as_current_span("limited", links=links) as span:
        span.set_attributes({"a": 1, "b": 2, "c": 3, "d": 4})
        span.add_event("dropped")  # max_events=1 keeps the newest event
        span.add_event("kept", {"x": 1, "y": 2})
    spans = exporter.get_finished_spans()
    encoded = traces_data(spans)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert encoded["droppedAttributesCount"] == 2
    assert encoded["droppedEventsCount"] == 1
    assert encoded["droppedLinksCount"] == 2
    assert encoded["events"][0]["droppedAttributesCount"] == 1
    _assert_same_message(_parse(trace_line(spans), TracesData()), _official_traces(spans))


@pytest.mark.xfail(
    strict=True,
    reason="divergence: otlp_json groups by object identity, the official encoder by equality",
)
def test_records_from_equal_scopes_obtained_separately_share_one_scope_logs() -> None:
    # LoggerProvider.get_logger does not cache loggers requested with attributes, so each call yields a
    # new (equal) InstrumentationScope; the official encoder merges them into one ScopeLogs.
    exporter = InMemoryLogRecordExporter()
    provider = _log_pipeline(Resource({"service.name": "svc"}), exporter)
    for index in range(3):
        provider.get_logger("same", "1.0", attributes={"a": 1}).emit(body=index)
    records = exporter.get_finished_logs()
    ours = _parse(dumps(logs_data(records)), LogsData())
    assert len(ours.resource_logs[0].scope_logs) == 1
    _assert_same_message(ours, _official_logs(records))


# --------------------------------------------------------------------------- raw OTLP/JSON format rules


def test_raw_json_uses_camel_case_hex_ids_integer_enums_and_string_int64s(
    spans: tuple[ReadableSpan, ...],
    log_records: tuple[ReadableLogRecord, ...],
    metrics: MetricsData,
    trace_line: Callable[[Sequence[ReadableSpan]], bytes],
) -> None:
    documents = {
        "traces": orjson.loads(trace_line(spans)),
        "logs": orjson.loads(dumps(logs_data(log_records))),
        "metrics": orjson.loads(dumps(metrics_data(metrics))),
    }
    for name, document in documents.items():
        for path, key, _ in _walk(document):
            assert re.fullmatch(r"[a-z][a-zA-Z0-9]*", key), (
                f"{name}: key {key!r} at {path} is not lowerCamelCase"
            )

    traces = documents["traces"]
    for key, width in (("traceId", 32), ("spanId", 16), ("parentSpanId", 16)):
        values = _values_of(traces, key)
        assert values, key
        for value in values:
            assert isinstance(value, str)
            assert re.fullmatch(f"[0-9a-f]{{{width}}}", value), (
                f"{key}={value!r} is not {width}-char lower hex"
            )
    kinds = _values_of(traces, "kind")
    assert sorted(kinds) == [1, 2, 2, 3, 4, 5]
    assert all(type(kind) is int for kind in kinds)
    status_codes = [status["code"] for status in _values_of(traces, "status")]
    assert sorted(status_codes) == [1, 2]
    assert all(type(code) is int for code in status_codes)
    assert {"message": "boom: it broke", "code": 2} in _values_of(traces, "status")
    for key in ("startTimeUnixNano", "endTimeUnixNano", "timeUnixNano", "intValue"):
        values = _values_of(traces, key)
        assert values, key
        assert all(isinstance(value, str) and re.fullmatch(r"-?\d+", value) for value in values), key
    assert {"intValue": str(INT64_MAX)} in _values_of(traces, "value")
    assert {"intValue": str(INT64_MIN)} in _values_of(traces, "value")

    logs = documents["logs"]
    severities = _values_of(logs, "severityNumber")
    assert sorted(severities) == sorted(
        [SeverityNumber.INFO.value, SeverityNumber.ERROR.value, SeverityNumber.DEBUG.value, 24]
    )
    assert all(type(severity) is int for severity in severities)
    for key in ("timeUnixNano", "observedTimeUnixNano", "intValue"):
        values = _values_of(logs, key)
        assert values, key
        assert all(isinstance(value, str) and re.fullmatch(r"-?\d+", value) for value in values), key
    assert "1700000000123456789" in _values_of(logs, "timeUnixNano")
    assert _values_of(logs, "bytesValue") == [base64.b64encode(b"\x00\x01binary\xff").decode("ascii")]

    metrics_doc = documents["metrics"]
    temporalities = _values_of(metrics_doc, "aggregationTemporality")
    assert temporalities
    assert all(type(value) is int and value in (1, 2) for value in temporalities)
    for key in ("startTimeUnixNano", "timeUnixNano", "asInt", "count", "zeroCount"):
        values = _values_of(metrics_doc, key)
        assert values, key
        assert all(isinstance(value, str) and re.fullmatch(r"-?\d+", value) for value in values), key
    for counts in _values_of(metrics_doc, "bucketCounts"):
        assert all(isinstance(count, str) and count.isdigit() for count in counts)
    assert "-7" in _values_of(metrics_doc, "asInt")
    assert all(isinstance(value, float) for value in _values_of(metrics_doc, "asDouble"))
    assert all(type(value) is bool for value in _values_of(metrics_doc, "isMonotonic"))


# --------------------------------------------------------------------------- odd values


def test_non_finite_float_attributes_become_nan_and_infinity_strings(
    trace_line: Callable[[Sequence[ReadableSpan]], bytes],
) -> None:
    spans = _spans_with(
        {"nan": math.nan, "inf": math.inf, "ninf": -math.inf, "arr": (math.nan, 1.0, -math.inf)}
    )
    line = trace_line(spans)
    attrs = orjson.loads(line)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"]
    by_key = {attr["key"]: attr["value"] for attr in attrs}
    assert by_key["nan"] == {"doubleValue": "NaN"}
    assert by_key["inf"] == {"doubleValue": "Infinity"}
    assert by_key["ninf"] == {"doubleValue": "-Infinity"}
    assert by_key["arr"] == {
        "arrayValue": {"values": [{"doubleValue": "NaN"}, {"doubleValue": 1.0}, {"doubleValue": "-Infinity"}]}
    }
    parsed = _parse(line, TracesData())
    values = {a.key: a.value for a in parsed.resource_spans[0].scope_spans[0].spans[0].attributes}
    assert math.isnan(values["nan"].double_value)
    assert values["inf"].double_value == math.inf
    assert values["ninf"].double_value == -math.inf


def test_non_finite_metric_values_become_nan_and_infinity_strings() -> None:
    # The SDK's instruments drop non-finite measurements, so the points are built directly (as a
    # bridge or custom reader could) to check the encoder itself.
    points = [
        NumberDataPoint({"v": name}, 0, 1_000, value)
        for name, value in (("nan", math.nan), ("inf", math.inf), ("ninf", -math.inf))
    ]
    histogram_point = HistogramDataPoint({}, 1, 2, 1, math.inf, [0, 1], [10.0], math.inf, math.inf)
    data = MetricsData(
        resource_metrics=[
            ResourceMetrics(
                resource=Resource({"service.name": "odd"}),
                scope_metrics=[
                    ScopeMetrics(
                        scope=InstrumentationScope("odd"),
                        metrics=[
                            Metric("gauge", None, None, Gauge(points)),
                            Metric(
                                "hist",
                                None,
                                None,
                                Histogram([histogram_point], AggregationTemporality.CUMULATIVE),
                            ),
                        ],
                        schema_url="",
                    )
                ],
                schema_url="",
            )
        ]
    )
    line = dumps(metrics_data(data))
    document = orjson.loads(line)
    assert _values_of(document, "asDouble") == ["NaN", "Infinity", "-Infinity"]
    assert _values_of(document, "sum") == ["Infinity"]
    parsed = _parse(line, PB2MetricsData())
    metrics = parsed.resource_metrics[0].scope_metrics[0].metrics
    assert math.isnan(metrics[0].gauge.data_points[0].as_double)
    assert metrics[0].gauge.data_points[2].as_double == -math.inf
    assert metrics[1].histogram.data_points[0].max == math.inf


def test_five_megabyte_string_attribute_round_trips(
    trace_line: Callable[[Sequence[ReadableSpan]], bytes],
) -> None:
    big = "x" * (5 * 1024 * 1024)
    spans = _spans_with({"big": big})
    line = trace_line(spans)
    parsed = _parse(line, TracesData())
    assert parsed.resource_spans[0].scope_spans[0].spans[0].attributes[0].value.string_value == big
    _assert_same_message(parsed, _official_traces(spans))


def test_lone_surrogate_in_span_attribute_is_replaced_not_raised(
    trace_line: Callable[[Sequence[ReadableSpan]], bytes],
) -> None:
    spans = _spans_with({"bad": "a\ud800b", "good": "ok"})
    line = trace_line(spans)
    line.decode("utf-8")  # valid UTF-8
    parsed = _parse(line, TracesData())
    values = {
        a.key: a.value.string_value for a in parsed.resource_spans[0].scope_spans[0].spans[0].attributes
    }
    assert values["good"] == "ok"
    assert "\ud800" not in values["bad"]
    assert values["bad"].startswith("a")
    assert values["bad"].endswith("b")
    assert values["bad"] == "a\ufffdb"  # the Unicode replacement character, once


def test_lone_surrogate_in_log_body_is_replaced_not_raised() -> None:
    records = _logs_with("before\ud800after")
    line = dumps(logs_data(records))
    line.decode("utf-8")
    parsed = _parse(line, LogsData())
    body = parsed.resource_logs[0].scope_logs[0].log_records[0].body.string_value
    assert "\ud800" not in body
    assert body.startswith("before")
    assert body.endswith("after")


def test_ints_beyond_int64_in_log_body_become_strings() -> None:
    body = {"huge": 2**64, "tiny": -(2**63) - 1, "max": INT64_MAX, "min": INT64_MIN}
    line = dumps(logs_data(_logs_with(body)))
    parsed = _parse(line, LogsData())
    values = {
        kv.key: kv.value
        for kv in parsed.resource_logs[0].scope_logs[0].log_records[0].body.kvlist_value.values
    }
    assert values["huge"].string_value == str(2**64)
    assert values["tiny"].string_value == str(-(2**63) - 1)
    assert values["max"].int_value == INT64_MAX
    assert values["min"].int_value == INT64_MIN


def test_bytes_in_log_body_become_base64_bytes_value() -> None:
    payload = bytes(range(256))
    line = dumps(logs_data(_logs_with({"blob": payload, "top": [b"\xff\x00"]})))
    parsed = _parse(line, LogsData())
    values = {
        kv.key: kv.value
        for kv in parsed.resource_logs[0].scope_logs[0].log_records[0].body.kvlist_value.values
    }
    assert values["blob"].bytes_value == payload
    assert values["top"].array_value.values[0].bytes_value == b"\xff\x00"


def test_none_in_log_body_becomes_empty_any_value() -> None:
    records = _logs_with({"missing": None, "list": [None, 1]})
    line = dumps(logs_data(records))
    parsed = _parse(line, LogsData())
    body = parsed.resource_logs[0].scope_logs[0].log_records[0].body
    values = {kv.key: kv.value for kv in body.kvlist_value.values}
    assert values["missing"].WhichOneof("value") is None
    assert values["list"].array_value.values[0].WhichOneof("value") is None
    assert values["list"].array_value.values[1].int_value == 1
    if SDK_LINE >= (1, 45):  # older official encoders wrote None differently
        _assert_same_message(parsed, _official_logs(records))


def test_log_without_body_omits_body() -> None:
    records = _logs_with(None)
    record = orjson.loads(dumps(logs_data(records)))["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    assert "body" not in record
    _assert_same_message(_parse(dumps(logs_data(records)), LogsData()), _official_logs(records))


def test_fast_span_encoder_writes_exactly_what_the_dict_encoder_writes(
    spans: tuple[ReadableSpan, ...],
) -> None:
    assert orjson.loads(traces_line(spans)) == orjson.loads(dumps(traces_data(spans)))


def test_fast_span_encoder_refuses_lone_surrogates_so_the_scrubbing_path_runs() -> None:
    from exporters.otlp_json import EncodedSpan, _span_bytes

    spans = _spans_with({"bad": "a\ud800b"})
    with pytest.raises(orjson.JSONEncodeError):
        _span_bytes(spans[0])
    line = traces_line([EncodedSpan(spans[0])])
    line.decode("utf-8")
    assert b"\\ud800" not in line
    assert orjson.loads(line) == orjson.loads(dumps(traces_data(spans)))


def test_integers_past_64_bits_are_written_as_doubles_and_the_line_still_parses() -> None:
    """An int counter or gauge past 64 bits (or a histogram of huge ints) through the real SDK:
    asInt cannot hold it, and a line a collector refuses would hide every other metric in it."""
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
    meter = provider.get_meter("big")
    meter.create_counter("counter").add(10**30)
    meter.create_up_down_counter("small").add(-3)
    meter.create_gauge("gauge").set(-(2**70))
    meter.create_histogram("histogram").record(10**300)  # (past a float the SDK itself raises)
    data = reader.get_metrics_data()
    provider.shutdown()
    assert data is not None
    line = dumps(metrics_data(data))
    parsed = _parse(line, PB2MetricsData())
    metrics = {metric.name: metric for metric in parsed.resource_metrics[0].scope_metrics[0].metrics}
    assert metrics["counter"].sum.data_points[0].as_double == float(10**30)
    assert metrics["small"].sum.data_points[0].as_int == -3  # within 64 bits: still an int
    assert metrics["gauge"].gauge.data_points[0].as_double == -float(2**70)
    assert metrics["histogram"].histogram.data_points[0].sum == float(10**300)

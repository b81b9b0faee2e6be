"""Exporters named in OTEL_TRACES_EXPORTER sit behind the same chain, checked at a real collector."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.collector import RecordingOtlpServer, RotelCollector, attributes
from tests.support.proc import attrs, clean_env, otlp_env, run_app, spans

CHAINED = """
    import otel_distro
    from opentelemetry import trace
    from processors.base import RecordProcessor
    from processors.records import replace_span

    class Stamp(RecordProcessor):
        def __init__(self, mark):
            self.mark = mark

        def process_span(self, span):
            seen = tuple(span.attributes.get("chain.order", ()))
            attributes = {**span.attributes, "chain.order": seen + (self.mark,)}
            attributes.pop("secret", None)
            return replace_span(span, attributes=attributes)

    handle = otel_distro.configure(processors=[Stamp("first"), Stamp("second")])
    tracer = trace.get_tracer("collector-test")
    with tracer.start_as_current_span("root", attributes={"secret": "do-not-send"}):
        with tracer.start_as_current_span("leaf", attributes={"secret": "do-not-send"}):
            pass
    handle.shutdown()
"""


def test_otlp_exporter_named_in_env_receives_only_chain_processed_spans(
    tmp_path: Path, collector: tuple[RotelCollector, RecordingOtlpServer]
) -> None:
    rotel, sink = collector
    env = clean_env(
        tmp_path,
        OTEL_TRACES_EXPORTER="otlp",
        OTEL_EXPORTER_OTLP_ENDPOINT=rotel.grpc_endpoint,
        OTEL_SERVICE_NAME="chained",
    )
    run = run_app(tmp_path, CHAINED, env=env)
    assert run.returncode == 0, run.stderr
    assert sink.wait_for_spans(2, timeout=15), rotel.log_text()
    received = {span.name: attributes(span.attributes) for span in sink.spans()}
    assert set(received) == {"root", "leaf"}
    for values in received.values():
        assert values["chain.order"] == ["first", "second"]
        assert "secret" not in values
    stored = spans(tmp_path / "store")
    assert {span["name"] for span in stored} == {"root", "leaf"}
    for span in stored:
        assert attrs(span["attributes"])["chain.order"] == ["first", "second"]
        assert "do-not-send" not in str(span)


@pytest.mark.parametrize(
    "named",
    [
        {"OTEL_TRACES_EXPORTER": "otlp_proto_http"},
        {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
        {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"},
        # the spec's http/json: the Python exporters have no JSON encoding, so http/protobuf
        # (before: refused, and gRPC sent to the HTTP port failed every export)
        {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
    ],
)
def test_zero_code_with_otlp_http_exporter_sends_to_the_collector_and_keeps_the_store(
    tmp_path: Path, collector: tuple[RotelCollector, RecordingOtlpServer], named: dict[str, str]
) -> None:
    rotel, sink = collector
    source = """
        from opentelemetry import trace
        with trace.get_tracer("zc").start_as_current_span("zero-code-span", attributes={"n": 1}):
            pass
    """
    env = clean_env(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=rotel.http_endpoint, **named)
    run = run_app(tmp_path, source, zero_code=True, env=env)
    assert run.returncode == 0, run.stderr
    assert sink.wait_for_spans(1, timeout=15), rotel.log_text()
    ((resource, span),) = sink.spans_with_resource()
    assert span.name == "zero-code-span"
    assert resource["telemetry.distro.name"] == "otel-distro"
    assert [s["name"] for s in spans(tmp_path / "store")] == ["zero-code-span"]


def test_unknown_exporter_name_warns_with_the_accepted_names(tmp_path: Path) -> None:
    source = """
        from opentelemetry import trace
        trace.get_tracer("zc").start_span("still-recorded").end()
    """
    run = run_app(tmp_path, source, zero_code=True, env=clean_env(tmp_path, OTEL_TRACES_EXPORTER="otlpp"))
    assert run.returncode == 0, run.stderr
    assert "OTEL_TRACES_EXPORTER names 'otlpp'" in run.stderr
    assert "otlp_proto_http" in run.stderr
    assert [s["name"] for s in spans(tmp_path / "store")] == ["still-recorded"]


ALL_SIGNALS = """
    import logging
    import otel_distro
    from dataclasses import replace
    from opentelemetry import metrics, trace
    from processors.base import RecordProcessor
    from processors.records import replace_log, replace_span

    class Mark(RecordProcessor):
        def process_span(self, span):
            return replace_span(span, name=span.name + ".marked")

        def process_log(self, record):
            return replace_log(record, body=str(record.log_record.body) + " [marked]")

        def process_metrics(self, data):
            return replace(data, resource_metrics=[
                replace(rm, scope_metrics=[
                    replace(sm, metrics=[replace(m, name=m.name + ".marked") for m in sm.metrics])
                    for sm in rm.scope_metrics])
                for rm in data.resource_metrics])

    handle = otel_distro.configure(processors=[Mark()], log_bridge=True)
    trace.get_tracer("t").start_span("work").end()
    metrics.get_meter("m").create_counter("jobs").add(3)
    logging.getLogger("app").warning("hello")
    handle.shutdown()
"""


def test_metrics_and_logs_named_in_env_also_pass_the_chain_before_the_collector(
    tmp_path: Path, collector: tuple[RotelCollector, RecordingOtlpServer]
) -> None:
    rotel, sink = collector
    env = otlp_env(tmp_path, rotel.grpc_endpoint)
    run = run_app(tmp_path, ALL_SIGNALS, env=env)
    assert run.returncode == 0, run.stderr
    assert sink.wait_for_spans(1, timeout=15), rotel.log_text()
    assert sink.wait_for_metrics(1, timeout=15), rotel.log_text()
    assert sink.wait_for_log_records(1, timeout=15), rotel.log_text()
    assert [span.name for span in sink.spans()] == ["work.marked"]
    assert {metric.name for metric in sink.metrics()} == {"jobs.marked"}
    assert [record.body.string_value for record in sink.log_records()] == ["hello [marked]"]

"""Redaction and project-ID hashing over every place data hides, for spans, logs and metrics."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricsData
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, Status, StatusCode

from processors.hashing import PREFIX, ProjectHashingProcessor
from processors.redaction import COUNT_PREFIX, DENIED, RedactionProcessor

EMAIL = "alice@example.com"
CARD = "4111 1111 1111 1111"
RESOURCE = Resource.create({"service.name": "svc", "host.owner": EMAIL, "project.id": "acme-prod"})


def _span(**kwargs: Any) -> ReadableSpan:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE, shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("t")
    linked = tracer.start_span("linked")
    with tracer.start_as_current_span(
        kwargs.get("name", f"lookup {EMAIL}"),
        attributes=kwargs.get("attributes", {}),
        links=[Link(linked.get_span_context(), {"peer.email": EMAIL})],
    ) as span:
        span.add_event(f"mail to {EMAIL}", {"exception.message": f"card {CARD} declined"})
        span.add_event("gen_ai.user.message", {"content": f"my email is {EMAIL}"})
        span.set_status(Status(StatusCode.ERROR, f"failed for {EMAIL}"))
    linked.end()
    return next(s for s in exporter.get_finished_spans() if s.name != "linked")


def _everything(span: ReadableSpan) -> str:
    parts = [span.name, repr(dict(span.attributes or {})), span.status.description or ""]
    parts += [e.name + repr(dict(e.attributes or {})) for e in span.events]
    parts += [repr(dict(link.attributes or {})) for link in span.links]
    parts.append(repr(dict(span.resource.attributes)))
    return " ".join(parts)


def test_redaction_reaches_every_place_in_a_span_and_counts_what_it_did() -> None:
    span = _span(
        attributes={
            "user.query": f"send {CARD} to {EMAIL}",
            "emails": (EMAIL, "nobody"),
            "http.request.header.authorization": "Basic dXNlcjpwYXNz",
            "trace_id": EMAIL,  # allow-listed key: left as it is
            "gen_ai.usage.input_tokens": 12,
        }
    )
    redacted = RedactionProcessor().process_span(span)
    assert redacted is not None and redacted is not span
    text = _everything(redacted)
    assert CARD not in text
    assert text.count(EMAIL) == 1  # only under the allow-listed key
    assert redacted.attributes["trace_id"] == EMAIL
    assert redacted.attributes["http.request.header.authorization"] == DENIED
    assert redacted.attributes["emails"] == ("<EMAIL>", "nobody")
    assert redacted.attributes["gen_ai.usage.input_tokens"] == 12
    assert redacted.name == "lookup <EMAIL>"
    assert redacted.status.description == "failed for <EMAIL>"
    assert redacted.status.status_code is StatusCode.ERROR
    assert redacted.context == span.context and redacted.parent == span.parent
    assert redacted.attributes[f"{COUNT_PREFIX}EMAIL"] == 7
    assert redacted.attributes[f"{COUNT_PREFIX}CREDIT_CARD"] == 2
    assert redacted.attributes[f"{COUNT_PREFIX}SECRET"] == 1


def test_a_clean_span_is_passed_on_as_the_same_object() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.get_tracer("t").start_span(
        "chat gpt-4o-mini", attributes={"gen_ai.request.model": "gpt-4o"}
    ).end()
    (span,) = exporter.get_finished_spans()
    assert RedactionProcessor().process_span(span) is span


def _log(body: Any, attributes: dict[str, Any]) -> ReadableLogRecord:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=RESOURCE, shutdown_on_exit=False)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    provider.get_logger("t").emit(body=body, severity_number=SeverityNumber.INFO, attributes=attributes)
    (record,) = exporter.get_finished_logs()
    return record


def test_redaction_reaches_log_bodies_structured_bodies_and_attributes() -> None:
    for body in (
        f"user {EMAIL} paid with {CARD}",
        {"user": {"email": EMAIL, "password": "hunter2"}, "items": [f"card {CARD}", 3]},
    ):
        record = RedactionProcessor().process_log(_log(body, {"client.address": "203.0.113.9"}))
        assert record is not None
        text = repr(record.log_record.body) + repr(dict(record.log_record.attributes or {}))
        text += repr(dict(record.resource.attributes))
        assert EMAIL not in text and CARD not in text and "203.0.113.9" not in text and "hunter2" not in text
        assert record.log_record.attributes[f"{COUNT_PREFIX}EMAIL"] >= 1


def _metrics(attributes: dict[str, Any]) -> MetricsData:
    reader = InMemoryMetricReader()
    provider = MeterProvider(resource=RESOURCE, metric_readers=[reader], shutdown_on_exit=False)
    provider.get_meter("m").create_counter("requests").add(1, attributes)
    data = reader.get_metrics_data()
    assert data is not None
    return data


def test_redaction_reaches_metric_data_point_attributes_and_resources() -> None:
    data = RedactionProcessor().process_metrics(_metrics({"user.email": EMAIL, "route": "/chat"}))
    assert data is not None
    (rm,) = data.resource_metrics
    point = rm.scope_metrics[0].metrics[0].data.data_points[0]
    assert dict(point.attributes or {}) == {"user.email": "<EMAIL>", "route": "/chat"}
    assert EMAIL not in repr(dict(rm.resource.attributes))


def test_project_ids_hash_the_same_everywhere_and_only_with_the_same_key() -> None:
    hashing = ProjectHashingProcessor(b"key-one")
    span = hashing.process_span(_span(attributes={"project.id": "acme-prod"}))
    log = hashing.process_log(_log("hello", {"project_id": "acme-prod"}))
    metrics = hashing.process_metrics(_metrics({"gen_ai.project.id": "acme-prod"}))
    assert span is not None and log is not None and metrics is not None
    expected = hashing.digest("acme-prod")
    assert expected.startswith(PREFIX) and "acme" not in expected
    point = metrics.resource_metrics[0].scope_metrics[0].metrics[0].data.data_points[0]
    assert span.attributes["project.id"] == expected
    assert span.resource.attributes["project.id"] == expected
    assert log.log_record.attributes["project_id"] == expected
    assert point.attributes["gen_ai.project.id"] == expected
    assert ProjectHashingProcessor(b"key-one").digest("acme-prod") == expected  # a restart, same key
    assert ProjectHashingProcessor(b"key-two").digest("acme-prod") != expected


def _privacy(**overrides: Any) -> list[Any]:
    from otel_distro.privacy import privacy_processors
    from otel_distro.problems import Problems
    from otel_distro.settings import load_settings

    settings = load_settings({"hash_key": "k", **overrides}, env={})
    problems = Problems(collect=True)
    chain = privacy_processors(settings, problems)
    return [chain, problems.messages]


def test_a_value_the_sdk_cut_at_its_length_limit_loses_the_head_of_a_value_it_ends_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT the SDK cuts values before any processor sees them:
    "jane.trunc@example" is no address to any pattern, "+44 20 7946" no phone number. The
    redaction processor knows the SDK's limits and drops such a head (counted as CUT)."""
    from opentelemetry.sdk.trace import SpanLimits

    monkeypatch.setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "58")
    chain, _ = _privacy()
    redaction = chain[-1]
    assert isinstance(redaction, RedactionProcessor) and redaction.cut_lengths == {58}
    exporter = InMemorySpanExporter()
    provider = TracerProvider(span_limits=SpanLimits(), shutdown_on_exit=False)  # the same limit
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    note = "please send the signed contract as a PDF by mail to jane.trunc@example.com today"
    call = "the customer asked to call back on the number +44 20 7946 0958 soon"
    with provider.get_tracer("t").start_as_current_span("s", attributes={"note": note, "call": call}) as span:
        span.add_event("e", {"note": note})
        span.set_attribute("short", "fine")
    ended = exporter.get_finished_spans()[0]
    assert ended.attributes["note"].endswith(" jane.t") and ended.attributes["call"].endswith(" +44 20 7946 ")
    out = redaction.process_span(ended)
    assert out is not None
    assert out.attributes["note"] == "please send the signed contract as a PDF by mail to"
    assert out.events[0].attributes["note"] == out.attributes["note"]
    assert out.attributes["call"] == "the customer asked to call back on the number <REDACTED:CUT>"
    assert out.attributes["short"] == "fine"
    assert out.attributes[f"{COUNT_PREFIX}CUT"] == 1
    cut = redaction.rewrite_attributes({"k": "x" * 32 + " mail me at jane.trunc@exa"}, Counter())
    assert cut == {"k": "x" * 32 + " mail me at <REDACTED:CUT>"}
    # a value shorter than the limit, or of that length ending in a space, stays
    assert redaction.rewrite_attributes({"k": "mail to jane.t", "j": "x" * 57 + " "}, Counter()) is None


def test_the_redactor_is_warmed_in_the_background_so_the_first_span_does_not_compile_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Compiling the patterns and loading phone metadata takes about 0.2 s: a thread started with
    the pipeline spends it, and a first text that comes sooner waits for that thread instead of
    compiling a second time."""
    import time

    from processors.pii import redactor as redactor_module

    compiled: list[int] = []
    real = redactor_module.PiiRedactor._compile

    def counted(self: Any) -> None:
        compiled.append(1)
        time.sleep(0.2)  # long enough for the app's first text to come meanwhile
        real(self)

    monkeypatch.setattr(redactor_module.PiiRedactor, "_compile", counted)
    chain, _ = _privacy()
    redaction = chain[-1]
    assert isinstance(redaction, RedactionProcessor)
    assert redaction.redactor.redact_text(f"mail {EMAIL}") == "mail <EMAIL>"  # the app's first text
    assert compiled == [1]  # compiled once, by the warming thread

    def warmed() -> bool:  # the warm thread's text was scanned
        return any("warm up" in text for text in list(redaction.redactor.answers))

    deadline = time.monotonic() + 10
    while not warmed() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert warmed()


def test_settings_choose_entities_and_extra_allow_and_deny_rules() -> None:
    chain, problems = _privacy(
        redaction_entities="email",
        redaction_allow_keys="support.email",
        redaction_deny_keys="internal.note",
        redaction_allow_values="help@example.com",
    )
    assert problems == []
    hashing, redaction = chain
    span = _span(
        attributes={
            "user.email": EMAIL,
            "support.email": EMAIL,
            "card": CARD,
            "internal.note": "nothing secret-looking",
            "contact": "help@example.com",
        }
    )
    result = redaction.process_span(hashing.process_span(span))
    assert result.attributes["user.email"] == "<EMAIL>"
    assert result.attributes["support.email"] == EMAIL
    assert result.attributes["card"] == CARD  # not a chosen entity
    assert result.attributes["internal.note"] == DENIED
    assert result.attributes["contact"] == "help@example.com"


def test_unknown_entity_names_are_reported_by_name() -> None:
    _, problems = _privacy(redaction_entities="EMAIL,EMIAL")
    assert len(problems) == 1 and "EMIAL" in problems[0] and "CREDIT_CARD" in problems[0]


def test_redaction_off_leaves_only_hashing() -> None:
    chain, _ = _privacy(pii_redaction=False)
    assert [type(p).__name__ for p in chain] == ["ProjectHashingProcessor"]


def test_a_redacted_span_still_counts_the_attributes_the_sdk_dropped() -> None:
    from opentelemetry.sdk.trace import SpanLimits

    exporter = InMemorySpanExporter()
    provider = TracerProvider(span_limits=SpanLimits(max_span_attributes=2), shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    attributes = {"a": 1, "b": 2, "c": 3, "user.email": EMAIL}  # the SDK keeps the last two
    with provider.get_tracer("t").start_as_current_span("s", attributes=attributes):
        pass
    span = exporter.get_finished_spans()[0]
    result = RedactionProcessor().process_span(span)
    assert result is not None and result is not span
    assert result.attributes["user.email"] == "<EMAIL>"
    assert span.dropped_attributes == 2
    assert result.dropped_attributes == 2


def test_values_remembered_as_clean_are_still_replaced_under_secret_keys_and_in_new_company() -> None:
    processor = RedactionProcessor(allow_values={EMAIL})
    counts: Counter[str] = Counter()
    plain = {"note": "hunter2", "user.email": EMAIL, "retries": 1, "ok": True}
    for _ in range(2):  # the second pass answers from what the first remembered
        assert processor.rewrite_attributes(plain, counts) is None
    # the same values under a secret-named key are replaced whole, remembered or not
    secret = processor.rewrite_attributes({"note": "hunter2", "password": "hunter2"}, counts)
    assert secret == {"note": "hunter2", "password": DENIED}
    # a remembered mapping that gains a value with PII is looked at again
    mixed = processor.rewrite_attributes({**plain, "user.query": f"card {CARD}"}, counts)
    assert mixed is not None and mixed["user.query"] == "card <CREDIT_CARD>"
    assert mixed["user.email"] == EMAIL  # allow-listed value: never touched
    # unhashable values (lists in log attributes) take the one-by-one path
    listed = processor.rewrite_attributes({"to": [EMAIL, f"bob{EMAIL}"], "n": 1}, Counter())
    assert listed == {"to": (EMAIL, "<EMAIL>"), "n": 1}
    assert counts == Counter({"SECRET": 1, "CREDIT_CARD": 1})


def test_project_ids_are_hashed_in_any_spelling_and_inside_structured_log_values() -> None:
    """Code writes the key as projectId or PROJECT_ID as often as project_id, and a log record's
    extra holds maps: {"ctx": {"project_id": ...}} (before, both stayed as they were)."""
    hashing = ProjectHashingProcessor(b"k" * 32)
    record = _log(
        {"request": {"project_id": "proj-alpha"}},
        {
            "ctx": {"project_id": "proj-beta", "n": 1},
            "projectId": "proj-gamma",
            "all": [{"PROJECT_ID": "proj-d"}],
        },
    )
    out = hashing.process_log(record)
    assert out is not None
    flat = repr((out.log_record.body, dict(out.log_record.attributes or {})))
    for raw in ("proj-alpha", "proj-beta", "proj-gamma", "proj-d"):
        assert raw not in flat, raw
    assert flat.count(PREFIX) == 4 and "'n': 1" in flat
    assert hashing.rewrite_attributes({"project.name": "p"}, Counter()) == {
        "project.name": hashing.digest("p")
    }
    assert hashing.rewrite_attributes({"project": "p", "tags": ("a", "b")}, Counter()) is None

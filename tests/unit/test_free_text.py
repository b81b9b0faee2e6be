"""Presidio on free text: what the fast path misses is found, off the app thread, without network."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_distro.pipeline import build_pipeline
from otel_distro.settings import load_settings
from processors.free_text import FreeTextProcessor
from processors.pii import PiiRedactor
from processors.pii.presidio import PresidioScanner
from processors.redaction import COUNT_PREFIX, RedactionProcessor
from tests.support.proc import attrs, spans

NHS = "4505577104"  # a valid UK NHS number (mod-11 check digit)
WALLET = "16Yeky6GMjeNkAiNcBY7ZhrLoMSgg1BoyZ"  # a valid Bitcoin address (base58check)
PROMPT = f"pay to {WALLET}, mail me at jane@example.com"


@pytest.fixture(scope="module")
def scanner() -> PresidioScanner:
    return PresidioScanner()


def _span(attributes: dict[str, object], event: dict[str, object] | None = None) -> ReadableSpan:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("t").start_as_current_span("chat", attributes=attributes) as span:  # type: ignore[arg-type]
        if event is not None:
            span.add_event("gen_ai.user.message", event)  # type: ignore[arg-type]
    return exporter.get_finished_spans()[0]


def test_presidio_finds_what_the_patterns_miss(scanner: PresidioScanner) -> None:
    text, counts = scanner.scan(f"NHS {NHS}, wallet {WALLET}")
    assert text == "NHS <UK_NHS>, wallet <CRYPTO>"
    assert counts == {"UK_NHS": 1, "CRYPTO": 1}
    assert scanner.scan("the weather in Paris is fine") == ("the weather in Paris is fine", None)


def test_only_free_text_keys_are_scanned_after_the_fast_path(scanner: PresidioScanner) -> None:
    fast = RedactionProcessor(PiiRedactor())
    free = FreeTextProcessor(scanner, ["gen_ai.input.messages", "content"])
    span = _span({"gen_ai.input.messages": PROMPT, "order.ref": f"pay to {WALLET}"}, {"content": PROMPT})
    assert free.needs_worker(span)
    result = free.process_span(fast.process_span(span))
    assert result is not None
    expected = "pay to <CRYPTO>, mail me at <EMAIL>"
    assert result.attributes["gen_ai.input.messages"] == expected
    assert result.events[0].attributes["content"] == expected
    assert result.attributes["order.ref"] == f"pay to {WALLET}"  # not a free-text key: presidio is not asked
    assert result.attributes[f"{COUNT_PREFIX}EMAIL"] == 2  # the fast path's counts stay
    assert result.attributes[f"{COUNT_PREFIX}CRYPTO"] == 2


def test_spans_without_free_text_stay_on_the_fast_path(scanner: PresidioScanner) -> None:
    free = FreeTextProcessor(scanner, ["gen_ai.input.messages", "content"])
    span = _span({"gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 3})
    assert not free.needs_worker(span)
    assert free.process_span(span) is span


def test_a_model_that_is_not_installed_is_never_downloaded(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        scanner = PresidioScanner(ner_model="en_core_web_sm_not_installed")
        text, _ = scanner.scan(f"NHS {NHS}")
    assert text == "NHS <UK_NHS>"  # the blank pipeline still runs the recognizers
    assert any("not installed" in r.getMessage() for r in caplog.records)


def test_the_pipeline_scans_free_text_off_the_app_thread(tmp_path: Path) -> None:
    settings = load_settings({"base_dir": tmp_path, "redaction_presidio": True, "hash_key": "k"}, env={})
    pipeline = build_pipeline(settings, install=False)
    free = next(p for p in pipeline.processors if isinstance(p, FreeTextProcessor))
    threads: list[str] = []
    original = free.scanner.scan

    def recording_scan(text: str):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        return original(text)

    free.scanner.scan = recording_scan  # type: ignore[method-assign]
    tracer = pipeline.tracer_provider.get_tracer("t")
    with tracer.start_as_current_span("chat", attributes={"gen_ai.input.messages": PROMPT}):
        pass
    with tracer.start_as_current_span("plain", attributes={"user.email": "jane@example.com"}):
        pass
    pipeline.shutdown()
    assert threads and threading.main_thread().name not in threads
    stored = {s["name"]: attrs(s.get("attributes", [])) for s in spans(tmp_path)}
    assert stored["chat"]["gen_ai.input.messages"] == "pay to <CRYPTO>, mail me at <EMAIL>"
    assert stored["plain"]["user.email"] == "<EMAIL>"

"""The `instrumentations` helpers over a local SDK: the spans, events and metrics each promises,
for runs, decorated sync and async functions and (async) generators, and one-call records; and
that no failure of the telemetry reaches the caller."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from exporters.conversation_records import conversation_log
from instrumentations import (
    RunHandle,
    _spans,
    end_run,
    get_run,
    instrument_method,
    record_conversation_turn,
    record_memory_operation,
    record_model_interaction,
    record_routing_decision,
    records,
    runs,
    start_run,
    trace_agent_run,
    trace_tool_execution,
    track_run,
)

SCOPE = "instrumentations"
COMMIT = "9fceb02d0ae598e95dc970b74767f19372d61af8"


@dataclass
class Telemetry:
    """What the helpers recorded: finished spans and collected metric points."""

    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader
    tracer: trace.Tracer
    started: list[str]

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def names(self) -> list[str]:
        return [span.name for span in self.spans()]

    def only(self, name: str) -> ReadableSpan:
        found = [span for span in self.spans() if span.name == name]
        assert len(found) == 1, f"{len(found)} spans named {name!r} among {self.names()}"
        return found[0]

    def points(self, metric: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        if data is None:
            return []
        return [
            point
            for resource_metrics in data.resource_metrics
            for scope_metrics in resource_metrics.scope_metrics
            for collected in scope_metrics.metrics
            if collected.name == metric
            for point in collected.data.data_points
        ]

    def point(self, metric: str, attributes: dict[str, Any] | None = None) -> Any:
        """The one point of ``metric`` whose attributes include ``attributes``."""
        wanted = attributes or {}
        found = [
            point
            for point in self.points(metric)
            if all(point.attributes.get(key) == value for key, value in wanted.items())
        ]
        assert len(found) == 1, f"{len(found)} points of {metric} match {attributes}"
        return found[0]


class _StartRecorder(SpanProcessor):
    """Notes the name of every span started, ended or not."""

    def __init__(self, started: list[str]) -> None:
        self.started = started

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self.started.append(span.name)


@pytest.fixture
def telemetry(monkeypatch: pytest.MonkeyPatch) -> Iterator[Telemetry]:
    """A local tracer and meter in place of the module-level ones (the global providers stay unset)."""
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider(shutdown_on_exit=False)
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    started: list[str] = []
    tracer_provider.add_span_processor(_StartRecorder(started))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
    tracer = tracer_provider.get_tracer(SCOPE)
    meter = meter_provider.get_meter(SCOPE)
    monkeypatch.setattr(_spans, "tracer", tracer)
    monkeypatch.setattr(records, "tracer", tracer)
    monkeypatch.setattr(runs, "_runs", meter.create_counter("agent.runs", unit="{run}"))
    monkeypatch.setattr(runs, "_durations", meter.create_histogram("agent.run.duration", unit="s"))
    monkeypatch.setattr(runs, "_items", meter.create_counter("agent.run.items", unit="{item}"))
    monkeypatch.setattr(runs, "_custom", meter.create_histogram("agent.run.custom"))
    monkeypatch.setattr(
        records, "_token_usage", meter.create_histogram("gen_ai.client.token.usage", unit="{token}")
    )
    monkeypatch.setattr(
        records, "_operation_duration", meter.create_histogram("gen_ai.client.operation.duration", unit="s")
    )
    monkeypatch.setattr(runs, "_open", {})
    monkeypatch.setattr(_spans, "_warned", set())
    yield Telemetry(exporter, reader, tracer, started)
    tracer_provider.shutdown()
    meter_provider.shutdown()


def _attributes(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def _parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def _span_id(span: ReadableSpan) -> int:
    context = span.context
    assert context is not None
    return int(context.span_id)


def _events(span: ReadableSpan) -> dict[str, dict[str, Any]]:
    return {event.name: dict(event.attributes or {}) for event in span.events}


class _Billing:
    class QuotaExceeded(RuntimeError):
        """A nested class: its qualified name differs from its name."""


class _Owner:
    def __str__(self) -> str:
        return "owner-object"


# --- track_run ---------------------------------------------------------------------------------------


def test_track_run_records_one_invoke_agent_span_with_the_run_identity(telemetry: Telemetry) -> None:
    with track_run(
        "researcher", "question", provider="openai", model="gpt-4o-mini", conversation_id="conv-1"
    ) as run:
        assert isinstance(run, RunHandle)

    span = telemetry.only("invoke_agent researcher")
    attributes = _attributes(span)
    assert span.kind is SpanKind.INTERNAL
    assert span.status.status_code is StatusCode.UNSET
    assert attributes["gen_ai.operation.name"] == "invoke_agent"
    assert attributes["gen_ai.agent.name"] == "researcher"
    assert attributes["agent.run.id"] == run.run_id
    assert attributes["agent.run.job_type"] == "question"
    assert attributes["agent.run.status"] == "success"
    assert attributes["gen_ai.provider.name"] == "openai"
    assert attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert attributes["gen_ai.conversation.id"] == "conv-1"
    assert {"provider", "model", "conversation_id"}.isdisjoint(attributes)


def test_the_agent_id_is_stable_per_agent_name_and_the_run_id_new_per_run(telemetry: Telemetry) -> None:
    with track_run("researcher", "question") as first:
        pass
    with track_run("researcher", "question") as second:
        pass
    with track_run("coder", "question"):
        pass

    researcher = [_attributes(span) for span in telemetry.spans() if span.name == "invoke_agent researcher"]
    coder = _attributes(telemetry.only("invoke_agent coder"))
    agent_ids = {attributes["gen_ai.agent.id"] for attributes in researcher}
    assert len(agent_ids) == 1
    assert coder["gen_ai.agent.id"] not in agent_ids
    assert first.run_id != second.run_id
    assert {attributes["agent.run.id"] for attributes in researcher} == {first.run_id, second.run_id}


def test_track_run_takes_run_id_agent_id_and_description_from_keywords(telemetry: Telemetry) -> None:
    with track_run(
        "researcher", "question", run_id="run-42", agent_id="agent-7", description="Finds facts"
    ) as run:
        pass

    attributes = _attributes(telemetry.only("invoke_agent researcher"))
    assert run.run_id == "run-42"
    assert attributes["agent.run.id"] == "run-42"
    assert attributes["gen_ai.agent.id"] == "agent-7"
    assert attributes["gen_ai.agent.description"] == "Finds facts"


def test_track_run_turns_other_keywords_into_valid_attribute_values(telemetry: Telemetry) -> None:
    with track_run(
        "researcher",
        "question",
        team="search",
        retries=3,
        temperature=0.2,
        dry_run=False,
        tags=["fast", "cheap"],
        config={"depth": 2},
        owner=_Owner(),
        mixed=[1, "a"],
        skipped=None,
    ):
        pass

    attributes = _attributes(telemetry.only("invoke_agent researcher"))
    assert attributes["team"] == "search"
    assert attributes["retries"] == 3
    assert attributes["temperature"] == 0.2
    assert attributes["dry_run"] is False
    assert tuple(attributes["tags"]) == ("fast", "cheap")
    assert json.loads(attributes["config"]) == {"depth": 2}
    assert isinstance(attributes["owner"], str)
    assert "owner-object" in attributes["owner"]
    assert json.loads(attributes["mixed"]) == [1, "a"]
    assert "skipped" not in attributes


def test_spans_started_inside_a_run_are_its_children_and_the_run_is_not_current_after(
    telemetry: Telemetry,
) -> None:
    @trace_tool_execution("lookup")
    def lookup() -> str:
        return "found"

    with track_run("researcher", "question"):
        with telemetry.tracer.start_as_current_span("plan"):
            pass
        lookup()
        record_model_interaction("gpt-4o-mini", provider="openai")
    after = trace.get_current_span()

    run = telemetry.only("invoke_agent researcher")
    children = [telemetry.only(name) for name in ("plan", "execute_tool lookup", "chat gpt-4o-mini")]
    assert [_parent_id(child) for child in children] == [_span_id(run)] * 3
    assert run.context is not None
    assert {child.context.trace_id for child in children if child.context} == {run.context.trace_id}
    assert not after.get_span_context().is_valid


def test_log_event_adds_named_events_with_valid_attributes(telemetry: Telemetry) -> None:
    with track_run("researcher", "question") as run:
        run.log_event("question.received", {"index": 1, "source": {"kind": "chat"}, "empty": None})
        run.log_event("answer.sent")

    events = _events(telemetry.only("invoke_agent researcher"))
    assert list(events) == ["question.received", "answer.sent"]
    assert events["question.received"]["index"] == 1
    assert json.loads(events["question.received"]["source"]) == {"kind": "chat"}
    assert "empty" not in events["question.received"]
    assert events["answer.sent"] == {}


def test_set_metrics_puts_item_counts_and_custom_numbers_on_the_run_span(telemetry: Telemetry) -> None:
    with track_run("researcher", "question") as run:
        run.set_metrics(items_discovered=5, items_succeeded=4, items_failed=1, relevance=0.8, pages=12)

    attributes = _attributes(telemetry.only("invoke_agent researcher"))
    assert attributes["agent.run.items.discovered"] == 5
    assert attributes["agent.run.items.succeeded"] == 4
    assert attributes["agent.run.items.failed"] == 1
    assert attributes["agent.run.metrics.relevance"] == 0.8
    assert attributes["agent.run.metrics.pages"] == 12


def test_set_metrics_records_the_item_counter_by_outcome_and_the_custom_histogram_by_name(
    telemetry: Telemetry,
) -> None:
    with track_run("researcher", "question") as run:
        run.set_metrics(items_discovered=5, items_succeeded=4, items_failed=1, relevance=0.8)

    labels = {"gen_ai.agent.name": "researcher", "agent.run.job_type": "question"}
    by_outcome = {
        point.attributes["agent.run.item.outcome"]: point.value
        for point in telemetry.points("agent.run.items")
    }
    assert by_outcome == {"discovered": 5, "succeeded": 4, "failed": 1}
    for point in telemetry.points("agent.run.items"):
        assert {key: point.attributes[key] for key in labels} == labels
    relevance = telemetry.point("agent.run.custom", {"agent.run.metric.name": "relevance"})
    assert (relevance.count, relevance.sum) == (1, 0.8)
    assert {key: relevance.attributes[key] for key in labels} == labels


def test_set_metrics_leaves_out_counts_not_given(telemetry: Telemetry) -> None:
    with track_run("researcher", "question") as run:
        run.set_metrics(items_succeeded=2)

    attributes = _attributes(telemetry.only("invoke_agent researcher"))
    assert "agent.run.items.discovered" not in attributes
    assert [point.attributes["agent.run.item.outcome"] for point in telemetry.points("agent.run.items")] == [
        "succeeded"
    ]


def test_a_finished_run_counts_once_in_the_runs_counter_and_the_duration_histogram(
    telemetry: Telemetry,
) -> None:
    with track_run("researcher", "question"):
        pass

    labels = {
        "gen_ai.agent.name": "researcher",
        "agent.run.job_type": "question",
        "agent.run.status": "success",
    }
    runs_point = telemetry.point("agent.runs")
    duration = telemetry.point("agent.run.duration")
    assert runs_point.value == 1
    assert dict(runs_point.attributes) == labels
    assert duration.count == 1
    assert duration.sum >= 0
    assert dict(duration.attributes) == labels


def test_associate_commit_sets_the_vcs_attributes_and_adds_a_commit_event(telemetry: Telemetry) -> None:
    with track_run("researcher", "question") as run:
        run.associate_commit(COMMIT, repo="https://example.com/agent.git", source="github")

    span = telemetry.only("invoke_agent researcher")
    expected = {
        "vcs.ref.head.revision": COMMIT,
        "vcs.repository.url.full": "https://example.com/agent.git",
        "vcs.provider.name": "github",
    }
    attributes = _attributes(span)
    assert {key: attributes[key] for key in expected} == expected
    assert _events(span)["agent.run.commit"] == expected


def test_associate_commit_without_repo_or_source_sets_only_the_revision(telemetry: Telemetry) -> None:
    with track_run("researcher", "question") as run:
        run.associate_commit(COMMIT)

    span = telemetry.only("invoke_agent researcher")
    attributes = _attributes(span)
    assert attributes["vcs.ref.head.revision"] == COMMIT
    assert "vcs.repository.url.full" not in attributes
    assert _events(span)["agent.run.commit"] == {"vcs.ref.head.revision": COMMIT}


# --- a failing run -----------------------------------------------------------------------------------


def test_an_exception_escaping_a_run_propagates_as_the_same_object_and_fails_the_run(
    telemetry: Telemetry,
) -> None:
    boom = _Billing.QuotaExceeded("quota exceeded")

    with pytest.raises(_Billing.QuotaExceeded) as raised, track_run("researcher", "question"):
        raise boom

    assert raised.value is boom
    span = telemetry.only("invoke_agent researcher")
    attributes = _attributes(span)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes["error.type"] == "_Billing.QuotaExceeded"
    assert attributes["agent.run.status"] == "failed"
    exception = _events(span)["exception"]
    assert exception["exception.message"] == "quota exceeded"
    assert exception["exception.type"].endswith("QuotaExceeded")


def test_a_failed_run_is_counted_as_failed_with_its_error_type(telemetry: Telemetry) -> None:
    with pytest.raises(_Billing.QuotaExceeded), track_run("researcher", "question"):
        raise _Billing.QuotaExceeded("quota exceeded")

    point = telemetry.point("agent.runs")
    assert point.value == 1
    assert point.attributes["agent.run.status"] == "failed"
    assert point.attributes["error.type"] == "_Billing.QuotaExceeded"
    assert telemetry.point("agent.run.duration").attributes["agent.run.status"] == "failed"


# --- start_run / get_run / end_run -------------------------------------------------------------------


def test_start_run_keeps_the_run_open_and_reachable_by_id_until_end_run(telemetry: Telemetry) -> None:
    run_id = start_run("researcher", "batch", provider="openai")
    handle = get_run(run_id)
    assert handle is not None
    handle.log_event("batch.loaded", {"rows": 10})
    handle.set_metrics(items_discovered=10)
    assert telemetry.spans() == []

    end_run(run_id)

    assert get_run(run_id) is None
    span = telemetry.only("invoke_agent researcher")
    attributes = _attributes(span)
    assert attributes["agent.run.id"] == run_id
    assert attributes["agent.run.status"] == "success"
    assert attributes["agent.run.items.discovered"] == 10
    assert "batch.loaded" in _events(span)
    assert telemetry.point("agent.runs").attributes["agent.run.status"] == "success"


def test_start_run_does_not_make_the_run_current(telemetry: Telemetry) -> None:
    run_id = start_run("researcher", "batch")
    with telemetry.tracer.start_as_current_span("unrelated"):
        pass
    end_run(run_id)

    assert telemetry.only("unrelated").parent is None


def test_end_run_with_an_error_records_it_and_fails_the_run(telemetry: Telemetry) -> None:
    run_id = start_run("researcher", "batch")

    end_run(run_id, "failed", _Billing.QuotaExceeded("quota exceeded"))

    span = telemetry.only("invoke_agent researcher")
    attributes = _attributes(span)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes["agent.run.status"] == "failed"
    assert attributes["error.type"] == "_Billing.QuotaExceeded"
    assert "exception" in _events(span)
    assert telemetry.point("agent.runs").attributes["agent.run.status"] == "failed"


def test_end_run_failed_without_an_error_still_marks_the_span_as_an_error(telemetry: Telemetry) -> None:
    run_id = start_run("researcher", "batch")

    end_run(run_id, "failed")

    span = telemetry.only("invoke_agent researcher")
    attributes = _attributes(span)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes["agent.run.status"] == "failed"
    assert attributes["error.type"] == "failed"


def test_end_run_of_an_unknown_or_already_ended_id_is_ignored_with_a_warning(
    telemetry: Telemetry, caplog: pytest.LogCaptureFixture
) -> None:
    run_id = start_run("researcher", "batch")
    end_run(run_id)

    with caplog.at_level(logging.WARNING, logger="otel_distro.instrumentations"):
        end_run(run_id)
        end_run("no-such-run", "failed", ValueError("x"))

    assert telemetry.names() == ["invoke_agent researcher"]
    assert telemetry.point("agent.runs").value == 1
    assert any("unknown run id" in record.getMessage() for record in caplog.records)


# --- trace_tool_execution ----------------------------------------------------------------------------


def test_a_tool_call_is_an_execute_tool_span_described_by_the_docstring_first_line(
    telemetry: Telemetry,
) -> None:
    @trace_tool_execution("web_search")
    def search(query: str) -> list[str]:
        """Search the web for pages.

        Returns the titles of the best pages.
        """
        return [query]

    search("vector databases")

    span = telemetry.only("execute_tool web_search")
    assert span.kind is SpanKind.INTERNAL
    assert span.status.status_code is StatusCode.UNSET
    assert _attributes(span) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "web_search",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.description": "Search the web for pages.",
    }


def test_a_tool_name_defaults_to_the_function_name_and_description_and_type_can_be_given(
    telemetry: Telemetry,
) -> None:
    @trace_tool_execution(description="Adds numbers", tool_type="extension")
    def add(a: int, b: int) -> int:
        """Ignored: the description given wins."""
        return a + b

    @trace_tool_execution()
    def undocumented() -> None:
        return None

    add(1, 2)
    undocumented()

    added = _attributes(telemetry.only("execute_tool add"))
    assert added["gen_ai.tool.name"] == "add"
    assert added["gen_ai.tool.description"] == "Adds numbers"
    assert added["gen_ai.tool.type"] == "extension"
    assert "gen_ai.tool.description" not in _attributes(telemetry.only("execute_tool undocumented"))


def test_a_decorated_function_returns_its_value_unchanged_and_keeps_its_metadata(
    telemetry: Telemetry,
) -> None:
    result = {"pages": ["a", "b"]}

    def fetch(query: str, *, limit: int = 3) -> dict[str, list[str]]:
        """Fetch pages."""
        return result

    decorated = trace_tool_execution("fetch")(fetch)

    assert decorated("q", limit=2) is result
    assert decorated.__name__ == "fetch"
    assert decorated.__qualname__ == fetch.__qualname__
    assert decorated.__doc__ == "Fetch pages."
    assert decorated.__wrapped__ is fetch  # type: ignore[attr-defined]
    assert inspect.signature(decorated) == inspect.signature(fetch)
    assert telemetry.names() == ["execute_tool fetch"]


def test_a_tool_exception_propagates_as_the_same_object_and_is_recorded(telemetry: Telemetry) -> None:
    boom = _Billing.QuotaExceeded("search quota exceeded")

    @trace_tool_execution("web_search")
    def search(query: str) -> list[str]:
        raise boom

    with pytest.raises(_Billing.QuotaExceeded) as raised:
        search("q")

    assert raised.value is boom
    span = telemetry.only("execute_tool web_search")
    assert span.status.status_code is StatusCode.ERROR
    assert _attributes(span)["error.type"] == "_Billing.QuotaExceeded"
    assert _events(span)["exception"]["exception.message"] == "search quota exceeded"


def test_an_async_tool_is_traced_while_awaited_and_returns_its_value(telemetry: Telemetry) -> None:
    @trace_tool_execution("fetch")
    async def fetch(url: str) -> str:
        """Fetch a page."""
        with telemetry.tracer.start_as_current_span("http get"):
            await asyncio.sleep(0)
        return f"<html>{url}</html>"

    assert inspect.iscoroutinefunction(fetch)
    assert asyncio.run(fetch("https://example.com")) == "<html>https://example.com</html>"

    span = telemetry.only("execute_tool fetch")
    assert _attributes(span)["gen_ai.tool.description"] == "Fetch a page."
    assert _parent_id(telemetry.only("http get")) == _span_id(span)


def test_an_async_tool_exception_propagates_and_is_recorded(telemetry: Telemetry) -> None:
    boom = _Billing.QuotaExceeded("quota")

    @trace_tool_execution("fetch")
    async def fetch() -> None:
        await asyncio.sleep(0)
        raise boom

    with pytest.raises(_Billing.QuotaExceeded) as raised:
        asyncio.run(fetch())

    assert raised.value is boom
    span = telemetry.only("execute_tool fetch")
    assert span.status.status_code is StatusCode.ERROR
    assert _attributes(span)["error.type"] == "_Billing.QuotaExceeded"


# --- generators --------------------------------------------------------------------------------------


def test_a_generator_tool_span_stays_open_for_the_whole_iteration_and_parents_its_body_spans(
    telemetry: Telemetry,
) -> None:
    @trace_tool_execution("pages")
    def pages(count: int) -> Iterator[str]:
        """Stream pages."""
        for index in range(count):
            with telemetry.tracer.start_as_current_span(f"fetch {index}"):
                pass
            yield f"page {index}"

    with telemetry.tracer.start_as_current_span("consumer") as consumer:
        stream = pages(2)
        assert next(stream) == "page 0"
        assert trace.get_current_span() is consumer
        assert "execute_tool pages" not in telemetry.names()
        assert list(stream) == ["page 1"]

    span = telemetry.only("execute_tool pages")
    assert _parent_id(span) == _span_id(telemetry.only("consumer"))
    assert [_parent_id(telemetry.only(f"fetch {index}")) for index in range(2)] == [_span_id(span)] * 2
    assert _attributes(span)["gen_ai.tool.description"] == "Stream pages."
    assert span.status.status_code is StatusCode.UNSET


def test_values_sent_into_a_generator_reach_it_and_its_return_value_comes_back(telemetry: Telemetry) -> None:
    @trace_tool_execution("accumulate")
    def accumulate(count: int) -> Any:
        total = 0
        for index in range(count):
            total += yield index
        return total

    stream = accumulate(3)
    assert next(stream) == 0
    assert stream.send(10) == 1
    assert stream.send(20) == 2
    with pytest.raises(StopIteration) as stop:
        stream.send(30)

    assert stop.value.value == 60
    assert telemetry.names() == ["execute_tool accumulate"]


def test_an_exception_thrown_into_a_generator_reaches_it(telemetry: Telemetry) -> None:
    @trace_tool_execution("retrying")
    def retrying() -> Generator[str, None, None]:
        try:
            yield "first"
        except TimeoutError:
            yield "recovered"

    stream = retrying()
    assert next(stream) == "first"
    assert stream.throw(TimeoutError("slow")) == "recovered"
    assert list(stream) == []

    span = telemetry.only("execute_tool retrying")
    assert span.status.status_code is StatusCode.UNSET


def test_closing_a_started_generator_early_ends_its_span_and_the_generator(telemetry: Telemetry) -> None:
    closed: list[bool] = []

    @trace_tool_execution("endless")
    def endless() -> Generator[int, None, None]:
        try:
            while True:
                yield 1
        finally:
            closed.append(True)

    stream = endless()
    next(stream)
    stream.close()

    assert closed == [True]
    span = telemetry.only("execute_tool endless")
    assert span.status.status_code is StatusCode.UNSET


def test_a_generator_closed_before_its_first_step_records_nothing_and_leaves_no_span_open(
    telemetry: Telemetry,
) -> None:
    @trace_tool_execution("endless")
    def endless() -> Generator[int, None, None]:
        while True:
            yield 1

    endless().close()

    assert telemetry.started == []
    assert telemetry.names() == []


def test_an_exception_inside_a_generator_propagates_and_is_recorded_on_its_span(telemetry: Telemetry) -> None:
    boom = _Billing.QuotaExceeded("stream broke")

    @trace_tool_execution("pages")
    def pages() -> Iterator[str]:
        yield "page 0"
        raise boom

    stream = pages()
    assert next(stream) == "page 0"
    with pytest.raises(_Billing.QuotaExceeded) as raised:
        next(stream)

    assert raised.value is boom
    span = telemetry.only("execute_tool pages")
    assert span.status.status_code is StatusCode.ERROR
    assert _attributes(span)["error.type"] == "_Billing.QuotaExceeded"
    assert "exception" in _events(span)


def test_an_async_generator_span_covers_the_iteration_and_parents_its_body_spans(
    telemetry: Telemetry,
) -> None:
    @trace_tool_execution("tokens")
    async def tokens(count: int) -> AsyncIterator[str]:
        """Stream tokens."""
        for index in range(count):
            with telemetry.tracer.start_as_current_span(f"decode {index}"):
                await asyncio.sleep(0)
            yield f"token {index}"

    async def consume() -> list[str]:
        stream = tokens(2)
        first = await stream.__anext__()
        assert "execute_tool tokens" not in telemetry.names()
        assert not trace.get_current_span().get_span_context().is_valid
        return [first] + [token async for token in stream]

    assert asyncio.run(consume()) == ["token 0", "token 1"]

    span = telemetry.only("execute_tool tokens")
    assert [_parent_id(telemetry.only(f"decode {index}")) for index in range(2)] == [_span_id(span)] * 2
    assert _attributes(span)["gen_ai.tool.description"] == "Stream tokens."


def test_values_sent_into_an_async_generator_reach_it(telemetry: Telemetry) -> None:
    received: list[str] = []

    @trace_tool_execution("chat_stream")
    async def chat_stream() -> Any:
        while True:
            received.append((yield len(received)))

    async def converse() -> list[int]:
        stream = chat_stream()
        answers = [await stream.asend(None), await stream.asend("hello"), await stream.asend("bye")]
        await stream.aclose()
        return answers

    assert asyncio.run(converse()) == [0, 1, 2]
    assert received == ["hello", "bye"]
    assert telemetry.names() == ["execute_tool chat_stream"]


def test_closing_an_async_generator_early_ends_its_span(telemetry: Telemetry) -> None:
    closed: list[bool] = []

    @trace_tool_execution("ticks")
    async def ticks() -> AsyncGenerator[int, None]:
        try:
            while True:
                await asyncio.sleep(0)
                yield 1
        finally:
            closed.append(True)

    async def take_one() -> None:
        stream = ticks()
        await stream.__anext__()
        assert telemetry.spans() == []
        await stream.aclose()

    asyncio.run(take_one())

    assert closed == [True]
    assert telemetry.only("execute_tool ticks").status.status_code is StatusCode.UNSET


def test_an_async_generator_closed_before_its_first_step_records_nothing_and_leaves_no_span_open(
    telemetry: Telemetry,
) -> None:
    @trace_tool_execution("ticks")
    async def ticks() -> AsyncGenerator[int, None]:
        while True:
            yield 1

    async def drop() -> None:
        await ticks().aclose()

    asyncio.run(drop())

    assert telemetry.started == []
    assert telemetry.names() == []


def test_an_exception_inside_an_async_generator_propagates_and_is_recorded(telemetry: Telemetry) -> None:
    boom = _Billing.QuotaExceeded("stream broke")

    @trace_tool_execution("tokens")
    async def tokens() -> AsyncIterator[str]:
        yield "token 0"
        raise boom

    async def consume() -> list[str]:
        return [token async for token in tokens()]

    with pytest.raises(_Billing.QuotaExceeded) as raised:
        asyncio.run(consume())

    assert raised.value is boom
    span = telemetry.only("execute_tool tokens")
    assert span.status.status_code is StatusCode.ERROR
    assert _attributes(span)["error.type"] == "_Billing.QuotaExceeded"


def test_an_outer_decorator_on_a_decorated_generator_covers_the_whole_iteration(telemetry: Telemetry) -> None:
    @instrument_method("retriever", "stream")
    @trace_tool_execution("pages")
    def pages() -> Iterator[str]:
        yield "page 0"
        yield "page 1"

    stream = pages()
    next(stream)
    open_after_first_item = telemetry.names()
    list(stream)

    assert open_after_first_item == []


# --- capture_io --------------------------------------------------------------------------------------


def test_capture_io_records_the_arguments_and_result_as_json(telemetry: Telemetry) -> None:
    @trace_tool_execution("web_search", capture_io=True)
    def search(query: str, limit: int = 3) -> dict[str, list[str]]:
        return {"titles": [query] * limit}

    assert search("llm", limit=2) == {"titles": ["llm", "llm"]}

    attributes = _attributes(telemetry.only("execute_tool web_search"))
    assert json.loads(attributes["gen_ai.tool.call.arguments"]) == {"query": "llm", "limit": 2}
    assert json.loads(attributes["gen_ai.tool.call.result"]) == {"titles": ["llm", "llm"]}


def test_capture_io_leaves_self_out_of_a_methods_arguments(telemetry: Telemetry) -> None:
    class Searcher:
        @trace_tool_execution("web_search", capture_io=True)
        def search(self, query: str) -> list[str]:
            return [query]

    assert Searcher().search("llm") == ["llm"]

    attributes = _attributes(telemetry.only("execute_tool web_search"))
    assert json.loads(attributes["gen_ai.tool.call.arguments"]) == {"query": "llm"}
    assert json.loads(attributes["gen_ai.tool.call.result"]) == ["llm"]


def test_capture_io_records_an_async_tools_awaited_result(telemetry: Telemetry) -> None:
    @trace_tool_execution("fetch", capture_io=True)
    async def fetch(url: str) -> dict[str, int]:
        await asyncio.sleep(0)
        return {"status": 200}

    assert asyncio.run(fetch("https://example.com")) == {"status": 200}

    attributes = _attributes(telemetry.only("execute_tool fetch"))
    assert json.loads(attributes["gen_ai.tool.call.arguments"]) == {"url": "https://example.com"}
    assert json.loads(attributes["gen_ai.tool.call.result"]) == {"status": 200}


def test_capture_io_records_the_arguments_of_a_failing_call_and_no_result(telemetry: Telemetry) -> None:
    @trace_tool_execution("web_search", capture_io=True)
    def search(query: str) -> list[str]:
        raise TimeoutError("slow")

    with pytest.raises(TimeoutError):
        search("llm")

    span = telemetry.only("execute_tool web_search")
    attributes = _attributes(span)
    assert json.loads(attributes["gen_ai.tool.call.arguments"]) == {"query": "llm"}
    assert "gen_ai.tool.call.result" not in attributes
    assert span.status.status_code is StatusCode.ERROR


def test_without_capture_io_no_arguments_or_result_are_recorded(telemetry: Telemetry) -> None:
    @trace_tool_execution("web_search")
    def search(query: str) -> list[str]:
        return [query]

    search("what the user typed")

    attributes = _attributes(telemetry.only("execute_tool web_search"))
    assert "gen_ai.tool.call.arguments" not in attributes
    assert "gen_ai.tool.call.result" not in attributes


def test_capture_io_keeps_an_async_tool_a_coroutine_function(telemetry: Telemetry) -> None:
    @trace_tool_execution("fetch", capture_io=True)
    async def fetch(url: str) -> str:
        return url

    assert inspect.iscoroutinefunction(fetch)


def test_capture_io_records_a_string_result_as_json_too(telemetry: Telemetry) -> None:
    @trace_tool_execution("summarise", capture_io=True)
    def summarise(text: str) -> str:
        return "[1, 2]"

    summarise("one, two")

    attributes = _attributes(telemetry.only("execute_tool summarise"))
    assert json.loads(attributes["gen_ai.tool.call.result"]) == "[1, 2]"


# --- instrument_method -------------------------------------------------------------------------------


def test_instrument_method_records_a_component_operation_span(telemetry: Telemetry) -> None:
    class Planner:
        def __init__(self) -> None:
            self.steps = ["search", "answer"]

        @instrument_method("planner", "plan")
        def plan(self, question: str) -> list[str]:
            """Plan the steps."""
            return [f"{step}: {question}" for step in self.steps]

    assert Planner().plan("why") == ["search: why", "answer: why"]
    assert Planner.plan.__name__ == "plan"
    assert Planner.plan.__doc__ == "Plan the steps."

    span = telemetry.only("planner.plan")
    assert span.kind is SpanKind.INTERNAL
    assert _attributes(span) == {
        "agent.component": "planner",
        "agent.component.operation": "plan",
        "code.function.name": Planner.plan.__qualname__,
    }


def test_instrument_method_traces_async_methods_and_records_their_errors(telemetry: Telemetry) -> None:
    class Scheduler:
        @instrument_method("scheduler", "next_slot")
        async def next_slot(self, busy: bool) -> int:
            await asyncio.sleep(0)
            if busy:
                raise _Billing.QuotaExceeded("no slot")
            return 9

    scheduler = Scheduler()
    assert asyncio.run(scheduler.next_slot(False)) == 9
    with pytest.raises(_Billing.QuotaExceeded):
        asyncio.run(scheduler.next_slot(True))

    statuses = [span.status.status_code for span in telemetry.spans() if span.name == "scheduler.next_slot"]
    assert statuses == [StatusCode.UNSET, StatusCode.ERROR]


# --- trace_agent_run ---------------------------------------------------------------------------------


def test_trace_agent_run_on_a_function_records_a_run(telemetry: Telemetry) -> None:
    @trace_agent_run("researcher", job_type="question", provider="openai", model="gpt-4o-mini")
    def research(question: str) -> str:
        """Research a question."""
        with telemetry.tracer.start_as_current_span("step"):
            return f"answer to {question}"

    assert research("why") == "answer to why"
    assert research.__name__ == "research"
    assert research.__doc__ == "Research a question."

    span = telemetry.only("invoke_agent researcher")
    attributes = _attributes(span)
    assert attributes["gen_ai.operation.name"] == "invoke_agent"
    assert attributes["gen_ai.agent.name"] == "researcher"
    assert attributes["gen_ai.agent.id"]
    assert attributes["agent.run.id"]
    assert attributes["agent.run.job_type"] == "question"
    assert attributes["agent.run.status"] == "success"
    assert attributes["gen_ai.provider.name"] == "openai"
    assert attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert _parent_id(telemetry.only("step")) == _span_id(span)
    assert telemetry.point("agent.runs").attributes["agent.run.status"] == "success"


def test_each_call_of_a_trace_agent_run_function_is_a_new_run_named_after_it_by_default(
    telemetry: Telemetry,
) -> None:
    @trace_agent_run()
    def nightly_sync() -> None:
        return None

    nightly_sync()
    nightly_sync()

    spans = [span for span in telemetry.spans() if span.name == "invoke_agent nightly_sync"]
    assert len(spans) == 2
    assert len({_attributes(span)["agent.run.id"] for span in spans}) == 2
    assert {_attributes(span)["agent.run.job_type"] for span in spans} == {"run"}
    assert telemetry.point("agent.runs").value == 2


def test_trace_agent_run_fails_the_run_and_propagates_the_exception(telemetry: Telemetry) -> None:
    boom = _Billing.QuotaExceeded("out of budget")

    @trace_agent_run("researcher")
    def research() -> None:
        raise boom

    with pytest.raises(_Billing.QuotaExceeded) as raised:
        research()

    assert raised.value is boom
    span = telemetry.only("invoke_agent researcher")
    assert span.status.status_code is StatusCode.ERROR
    assert _attributes(span)["agent.run.status"] == "failed"
    assert _attributes(span)["error.type"] == "_Billing.QuotaExceeded"
    assert telemetry.point("agent.runs").attributes["agent.run.status"] == "failed"


def test_trace_agent_run_on_an_async_function_records_the_run_around_the_await(telemetry: Telemetry) -> None:
    @trace_agent_run("researcher")
    async def research(question: str) -> str:
        with telemetry.tracer.start_as_current_span("step"):
            await asyncio.sleep(0)
        return question.upper()

    assert inspect.iscoroutinefunction(research)
    assert asyncio.run(research("why")) == "WHY"

    span = telemetry.only("invoke_agent researcher")
    assert _attributes(span)["agent.run.status"] == "success"
    assert _parent_id(telemetry.only("step")) == _span_id(span)


def test_trace_agent_run_on_a_generator_covers_the_iteration_without_run_metrics(
    telemetry: Telemetry,
) -> None:
    @trace_agent_run("streamer", job_type="stream")
    def stream() -> Iterator[str]:
        with telemetry.tracer.start_as_current_span("step"):
            yield "a"
        yield "b"

    items = stream()
    assert next(items) == "a"
    assert telemetry.spans() == []
    assert list(items) == ["b"]

    span = telemetry.only("invoke_agent streamer")
    attributes = _attributes(span)
    assert attributes["gen_ai.operation.name"] == "invoke_agent"
    assert attributes["gen_ai.agent.name"] == "streamer"
    assert attributes["agent.run.job_type"] == "stream"
    assert _parent_id(telemetry.only("step")) == _span_id(span)
    assert telemetry.points("agent.runs") == []


# --- no telemetry failure reaches the caller ---------------------------------------------------------


class _BrokenTracer:
    """A tracer that cannot start spans."""

    def start_span(self, *args: Any, **kwargs: Any) -> trace.Span:
        raise RuntimeError("tracer broken")

    def start_as_current_span(self, *args: Any, **kwargs: Any) -> AbstractContextManager[trace.Span]:
        raise RuntimeError("tracer broken")


class _BrokenSpan(trace.NonRecordingSpan):
    """A span whose every recording method raises."""

    def __init__(self) -> None:
        super().__init__(trace.INVALID_SPAN_CONTEXT)

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("span broken")

    set_attribute = set_attributes = add_event = set_status = record_exception = end = _fail


class _TracerOfBrokenSpans:
    """A tracer that starts spans which then fail on every call."""

    def start_span(self, *args: Any, **kwargs: Any) -> trace.Span:
        return _BrokenSpan()

    @contextmanager
    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Iterator[trace.Span]:
        yield _BrokenSpan()


@pytest.fixture(params=[_BrokenTracer, _TracerOfBrokenSpans], ids=["start fails", "span fails"])
def broken_tracer(
    request: pytest.FixtureRequest, telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> Telemetry:
    broken = request.param()
    monkeypatch.setattr(_spans, "tracer", broken)
    monkeypatch.setattr(records, "tracer", broken)
    return telemetry


def test_decorated_functions_run_and_return_their_value_when_the_tracer_fails(
    broken_tracer: Telemetry,
) -> None:
    @trace_tool_execution("add")
    def add(a: int, b: int) -> int:
        return a + b

    @trace_tool_execution("add_io", capture_io=True)
    def add_io(a: int, b: int) -> int:
        return a + b

    @instrument_method("calculator", "double")
    async def double(a: int) -> int:
        return 2 * a

    @trace_tool_execution("count")
    def count(limit: int) -> Iterator[int]:
        yield from range(limit)

    @trace_agent_run("counter")
    async def acount(limit: int) -> AsyncIterator[int]:
        for index in range(limit):
            yield index

    async def collect() -> list[int]:
        return [index async for index in acount(3)]

    assert add(1, 2) == 3
    assert add_io(1, 2) == 3
    assert asyncio.run(double(4)) == 8
    assert list(count(3)) == [0, 1, 2]
    assert asyncio.run(collect()) == [0, 1, 2]


def test_decorated_functions_still_raise_their_own_exception_when_the_tracer_fails(
    broken_tracer: Telemetry,
) -> None:
    boom = _Billing.QuotaExceeded("own error")

    @trace_tool_execution("fail")
    def fail() -> None:
        raise boom

    @trace_tool_execution("fail_later")
    def fail_later() -> Iterator[int]:
        yield 1
        raise boom

    with pytest.raises(_Billing.QuotaExceeded) as raised:
        fail()
    assert raised.value is boom
    with pytest.raises(_Billing.QuotaExceeded) as raised_in_iteration:
        list(fail_later())
    assert raised_in_iteration.value is boom


def test_track_run_yields_a_handle_whose_methods_do_not_raise_when_the_tracer_fails(
    broken_tracer: Telemetry,
) -> None:
    with track_run("researcher", "question", provider="openai") as run:
        run.log_event("question.received", {"index": 0})
        run.set_metrics(items_discovered=2, relevance=0.5)
        run.associate_commit(COMMIT, repo="https://example.com/agent.git")

    assert isinstance(run, RunHandle)
    assert run.run_id
    assert run.status == "success"


def test_a_run_is_still_counted_when_its_span_cannot_be_started(
    telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_spans, "tracer", _BrokenTracer())

    with track_run("researcher", "question") as run:
        run.set_metrics(items_discovered=2)

    assert run.span is None
    assert telemetry.point("agent.runs").attributes["agent.run.status"] == "success"
    assert telemetry.point("agent.run.items").value == 2


def test_a_run_still_fails_with_the_callers_exception_when_the_tracer_fails(broken_tracer: Telemetry) -> None:
    boom = _Billing.QuotaExceeded("own error")

    with pytest.raises(_Billing.QuotaExceeded) as raised, track_run("researcher", "question"):
        raise boom

    assert raised.value is boom


def test_start_and_end_run_do_not_raise_when_the_tracer_fails(broken_tracer: Telemetry) -> None:
    run_id = start_run("researcher", "batch")
    handle = get_run(run_id)
    assert handle is not None
    handle.log_event("batch.loaded")
    handle.set_metrics(items_failed=1)
    handle.associate_commit(COMMIT)

    end_run(run_id, "failed", ValueError("bad row"))

    assert get_run(run_id) is None


def test_records_do_not_raise_when_the_tracer_fails(broken_tracer: Telemetry) -> None:
    record_model_interaction("gpt-4o-mini", provider="openai", input_messages="hi", output_messages="hello")
    record_memory_operation("search", "user-notes", result_count=1)
    record_routing_decision("router", "researcher", candidates=["researcher"])
    record_conversation_turn("session-1", "hi", "hello", model="gpt-4o-mini")

    assert broken_tracer.spans() == []


def test_a_helper_failure_is_logged_once_per_kind(
    telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_spans, "tracer", _BrokenTracer())
    monkeypatch.setattr(records, "tracer", _BrokenTracer())

    @trace_tool_execution("add")
    def add(a: int, b: int) -> int:
        return a + b

    with caplog.at_level(logging.WARNING, logger="otel_distro.instrumentations"):
        for _ in range(3):
            add(1, 2)
            record_model_interaction("gpt-4o-mini", provider="openai")

    messages = [
        record.getMessage() for record in caplog.records if record.name == "otel_distro.instrumentations"
    ]
    assert len([message for message in messages if "starting a span" in message]) == 1
    assert len([message for message in messages if "record_model_interaction" in message]) == 1
    assert all("tracer broken" in message for message in messages)


# --- records -----------------------------------------------------------------------------------------


def _messages(span: ReadableSpan, key: str) -> Any:
    return json.loads(_attributes(span)[key])


def test_record_model_interaction_is_a_client_chat_span_with_usage_and_response(telemetry: Telemetry) -> None:
    record_model_interaction(
        "gpt-4o-mini",
        provider="openai",
        input_tokens=120,
        output_tokens=40,
        response_model="gpt-4o-mini-2024-07-18",
        response_id="chatcmpl-1",
        finish_reasons=["stop"],
        conversation_id="session-1",
        temperature=0.3,
    )

    span = telemetry.only("chat gpt-4o-mini")
    attributes = _attributes(span)
    assert span.kind is SpanKind.CLIENT
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == "openai"
    assert attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert attributes["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
    assert attributes["gen_ai.response.id"] == "chatcmpl-1"
    assert tuple(attributes["gen_ai.response.finish_reasons"]) == ("stop",)
    assert attributes["gen_ai.usage.input_tokens"] == 120
    assert attributes["gen_ai.usage.output_tokens"] == 40
    assert attributes["gen_ai.conversation.id"] == "session-1"
    assert attributes["temperature"] == 0.3
    assert "gen_ai.input.messages" not in attributes


def test_record_model_interaction_names_the_span_after_the_operation_and_defaults_the_response_model(
    telemetry: Telemetry,
) -> None:
    record_model_interaction("text-embedding-3-small", provider="openai", operation="embeddings")

    attributes = _attributes(telemetry.only("embeddings text-embedding-3-small"))
    assert attributes["gen_ai.operation.name"] == "embeddings"
    assert attributes["gen_ai.response.model"] == "text-embedding-3-small"


def test_record_model_interaction_writes_messages_in_the_conventions_shape(telemetry: Telemetry) -> None:
    record_model_interaction(
        "gpt-4o-mini",
        provider="openai",
        input_messages=[{"role": "system", "content": "You are terse."}, "What is OTel?"],
        output_messages="A telemetry standard.",
        finish_reasons=["length"],
    )

    span = telemetry.only("chat gpt-4o-mini")
    assert _messages(span, "gen_ai.input.messages") == [
        {"role": "system", "parts": [{"type": "text", "content": "You are terse."}]},
        {"role": "user", "parts": [{"type": "text", "content": "What is OTel?"}]},
    ]
    assert _messages(span, "gen_ai.output.messages") == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "A telemetry standard."}],
            "finish_reason": "length",
        }
    ]


def test_record_model_interaction_keeps_messages_given_as_parts(telemetry: Telemetry) -> None:
    parts = [{"type": "text", "content": "Look:"}, {"type": "uri", "uri": "https://example.com/a.png"}]

    record_model_interaction(
        "gpt-4o-mini",
        provider="openai",
        input_messages={"role": "user", "content": parts},
        output_messages=[{"content": "A cat."}],
    )

    span = telemetry.only("chat gpt-4o-mini")
    assert _messages(span, "gen_ai.input.messages") == [{"role": "user", "parts": parts}]
    assert _messages(span, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": "A cat."}], "finish_reason": "stop"}
    ]


def test_the_conversation_log_reads_the_turn_of_a_recorded_model_interaction(telemetry: Telemetry) -> None:
    record_model_interaction(
        "gpt-4o-mini",
        provider="openai",
        input_messages=[{"role": "system", "content": "You are terse."}, "What is OTel?"],
        output_messages="A telemetry standard.",
        input_tokens=12,
        output_tokens=4,
        conversation_id="session-1",
    )

    log = conversation_log(telemetry.only("chat gpt-4o-mini"))
    assert log is not None
    assert log["user_query"] == "What is OTel?"
    assert log["system_response"] == "A telemetry standard."
    assert log["session_id"] == "session-1"
    assert log["metadata"]["model"] == "gpt-4o-mini"
    assert log["metadata"]["provider"] == "openai"
    assert log["metadata"]["usage"] == {"input_tokens": 12, "output_tokens": 4}
    assert log["metadata"]["finish_reasons"] == ["stop"]


def test_duration_s_starts_a_record_that_much_before_it_ends(telemetry: Telemetry) -> None:
    record_model_interaction("gpt-4o-mini", provider="openai", duration_s=0.25)
    record_memory_operation("search", "user-notes", duration_s=1.5)
    record_routing_decision("router", "coder")

    chat = telemetry.only("chat gpt-4o-mini")
    memory = telemetry.only("search_memory user-notes")
    route = telemetry.only("route router")
    assert chat.end_time is not None
    assert chat.start_time is not None
    assert chat.end_time - chat.start_time == 250_000_000
    assert memory.end_time is not None
    assert memory.start_time is not None
    assert memory.end_time - memory.start_time == 1_500_000_000
    assert route.start_time == route.end_time


def test_record_model_interaction_records_token_usage_by_type_and_the_operation_duration(
    telemetry: Telemetry,
) -> None:
    record_model_interaction(
        "gpt-4o-mini", provider="openai", input_tokens=120, output_tokens=40, duration_s=0.25
    )
    record_model_interaction("gpt-4o-mini", provider="openai", input_tokens=30)

    labels = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
    }
    usage = {
        point.attributes["gen_ai.token.type"]: point
        for point in telemetry.points("gen_ai.client.token.usage")
    }
    assert set(usage) == {"input", "output"}
    assert (usage["input"].count, usage["input"].sum) == (2, 150)
    assert (usage["output"].count, usage["output"].sum) == (1, 40)
    assert dict(usage["output"].attributes) == {**labels, "gen_ai.token.type": "output"}
    duration = telemetry.point("gen_ai.client.operation.duration")
    assert (duration.count, duration.sum) == (1, 0.25)
    assert dict(duration.attributes) == labels


def test_record_memory_operation_is_a_client_span_named_after_operation_and_store(
    telemetry: Telemetry,
) -> None:
    record_memory_operation(
        "search",
        "user-notes",
        memory_type="long_term",
        provider="local",
        query="favourite colour",
        result_count=2,
        namespace="users",
    )

    span = telemetry.only("search_memory user-notes")
    assert span.kind is SpanKind.CLIENT
    assert _attributes(span) == {
        "gen_ai.operation.name": "search_memory",
        "gen_ai.memory.store.id": "user-notes",
        "gen_ai.memory.type": "long_term",
        "gen_ai.provider.name": "local",
        "gen_ai.memory.query": "favourite colour",
        "gen_ai.memory.search.result.count": 2,
        "namespace": "users",
    }


@pytest.mark.parametrize(
    ("operation", "name"),
    [
        ("update", "update_memory"),
        ("delete", "delete_memory"),
        ("upsert_memory", "upsert_memory"),
        ("create_memory_store", "create_memory_store"),
        ("delete_memory_store", "delete_memory_store"),
    ],
)
def test_record_memory_operation_names_the_operation_as_the_conventions_do(
    telemetry: Telemetry, operation: str, name: str
) -> None:
    record_memory_operation(operation, "user-notes", memory_id="note-7")

    attributes = _attributes(telemetry.only(f"{name} user-notes"))
    assert attributes["gen_ai.operation.name"] == name
    assert attributes["gen_ai.memory.id"] == "note-7"


def test_record_routing_decision_is_a_route_span_with_the_choice(telemetry: Telemetry) -> None:
    record_routing_decision(
        "router",
        "researcher",
        candidates=["researcher", "coder"],
        reason="question asks for facts",
        score=0.92,
    )

    span = telemetry.only("route router")
    assert span.kind is SpanKind.INTERNAL
    attributes = _attributes(span)
    assert tuple(attributes.pop("routing.candidates")) == ("researcher", "coder")
    assert attributes == {
        "gen_ai.operation.name": "route",
        "gen_ai.agent.name": "router",
        "routing.decision": "researcher",
        "routing.reason": "question asks for facts",
        "routing.score": 0.92,
    }


def test_record_conversation_turn_is_a_chat_span_the_conversation_log_reads(telemetry: Telemetry) -> None:
    record_conversation_turn(
        "session-1",
        "What is OTel?",
        "A telemetry standard.",
        model="gpt-4o-mini",
        provider="openai",
        agent_name="researcher",
        input_tokens=12,
        output_tokens=4,
        channel="web",
        user_tier="free",
    )

    span = telemetry.only("chat gpt-4o-mini")
    attributes = _attributes(span)
    assert span.kind is SpanKind.INTERNAL
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.conversation.id"] == "session-1"
    assert attributes["gen_ai.provider.name"] == "openai"
    assert attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert attributes["gen_ai.response.model"] == "gpt-4o-mini"
    assert attributes["gen_ai.agent.name"] == "researcher"
    assert attributes["gen_ai.usage.input_tokens"] == 12
    assert attributes["gen_ai.usage.output_tokens"] == 4
    assert attributes["conversation.metadata.channel"] == "web"
    assert attributes["conversation.metadata.user_tier"] == "free"
    assert _messages(span, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": "What is OTel?"}]}
    ]
    assert _messages(span, "gen_ai.output.messages") == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "A telemetry standard."}],
            "finish_reason": "stop",
        }
    ]
    log = conversation_log(span)
    assert log is not None
    assert (log["session_id"], log["user_query"], log["system_response"]) == (
        "session-1",
        "What is OTel?",
        "A telemetry standard.",
    )
    assert log["metadata"]["agent"] == "researcher"


def test_record_conversation_turn_without_a_model_is_a_plain_chat_span(telemetry: Telemetry) -> None:
    record_conversation_turn("session-1", "hi", "hello", duration_s=0.5)

    span = telemetry.only("chat")
    attributes = _attributes(span)
    assert "gen_ai.request.model" not in attributes
    assert "conversation.metadata.duration_s" not in attributes
    assert span.end_time is not None
    assert span.start_time is not None
    assert span.end_time - span.start_time == 500_000_000


def test_records_are_children_of_the_current_span(telemetry: Telemetry) -> None:
    with telemetry.tracer.start_as_current_span("turn"):
        record_routing_decision("router", "researcher")
        record_memory_operation("search", "user-notes")
        record_model_interaction("gpt-4o-mini", provider="openai")
        record_conversation_turn("session-1", "hi", "hello")

    turn = _span_id(telemetry.only("turn"))
    children = ["route router", "search_memory user-notes", "chat gpt-4o-mini", "chat"]
    assert [_parent_id(telemetry.only(name)) for name in children] == [turn] * 4


@pytest.mark.parametrize("tail", ["jane.doe@example.com", "+44 20 7946 0958", "4111 1111 1111 1111"])
def test_a_long_text_is_cut_at_a_space_so_no_value_is_left_cut_in_half(tail: str) -> None:
    """The helpers bound texts to MAX_TEXT characters before any processor sees them: a value the
    cut fell in the middle of ("jane.doe@exam") is one no pattern recognizes, so the token cut is
    left out whole, and what remains is redacted as usual."""
    from instrumentations._spans import MAX_TEXT, bounded, text
    from processors.pii import PiiRedactor

    for shift in range(1, len(tail)):  # the cut falls at every place in the value
        value = ("x " * MAX_TEXT)[: MAX_TEXT - shift - 1] + " " + tail + " more"  # shift characters kept
        start = value.index(tail)
        inside = value[start:MAX_TEXT]  # what of the value a plain cut would keep (some, or all)
        assert inside, shift
        for cut in (bounded(value), text(value)):
            assert len(cut) <= MAX_TEXT
            redacted = PiiRedactor(cache=False).redact_text(cut)
            assert inside not in redacted, (shift, redacted[-40:])
    assert bounded("z" * (MAX_TEXT + 5)) == "z" * MAX_TEXT  # one long token: cut where it is

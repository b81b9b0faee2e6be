"""The GenAI conventions compliance check: span scores per type and weighting, the report, what our
own helpers score, and ``otel-distro compliance`` over a real store."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode, Tracer

from exporters.store.export import JsonlSpanExporter
from exporters.store.files import JsonlStore
from instrumentations import (
    _spans,
    instrument_method,
    record_conversation_turn,
    record_memory_operation,
    record_model_interaction,
    record_routing_decision,
    records,
    trace_tool_execution,
    track_run,
)
from instrumentations.compliance import ComplianceReport, check, score_span
from otel_distro.cli import main

UNSET, OK, ERROR = 0, 1, 2
DAY_NS = 24 * 3600 * 10**9

# One complete span of each type, and what the conventions require and recommend of it.
COMPLETE: dict[str, dict[str, Any]] = {
    "agent_run": {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "researcher",
        "gen_ai.agent.id": "agent-1",
        "gen_ai.provider.name": "openai",
    },
    "tool_execution": {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "web_search",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.description": "Search the web.",
    },
    "model_interaction": {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.usage.input_tokens": 120,
        "gen_ai.usage.output_tokens": 40,
        "gen_ai.response.finish_reasons": ["stop"],
    },
    "memory_operation": {
        "gen_ai.operation.name": "search_memory",
        "gen_ai.memory.store.id": "user-notes",
        "gen_ai.provider.name": "local",
        "gen_ai.memory.type": "long_term",
    },
    "routing_decision": {
        "gen_ai.operation.name": "route",
        "routing.decision": "researcher",
        "routing.candidates": ["researcher", "coder"],
        "routing.reason": "question asks for facts",
    },
}
REQUIRED = {
    "agent_run": ["gen_ai.provider.name", "gen_ai.agent.name"],
    "tool_execution": [],
    "model_interaction": ["gen_ai.provider.name", "gen_ai.request.model"],
    "memory_operation": ["gen_ai.memory.store.id"],
    "routing_decision": ["routing.decision"],
}  # and gen_ai.operation.name, which decides the type
RECOMMENDED = {
    "agent_run": [],
    "tool_execution": ["gen_ai.tool.name"],
    "model_interaction": [
        "gen_ai.response.model",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.response.finish_reasons",
    ],
    "memory_operation": ["gen_ai.provider.name", "gen_ai.memory.type"],
    "routing_decision": ["routing.candidates", "routing.reason"],
}
# Asked for "if available" / "if applicable": present or not, they cost nothing.
IF_AVAILABLE = {
    "agent_run": ["gen_ai.agent.id"],
    "tool_execution": ["gen_ai.tool.type", "gen_ai.tool.description"],
}


@pytest.mark.parametrize(
    ("kind", "key"), [(kind, key) for kind, keys in IF_AVAILABLE.items() for key in keys]
)
def test_an_attribute_asked_for_if_available_costs_nothing_when_absent(kind: str, key: str) -> None:
    scored = score_span(_without(COMPLETE[kind], key))
    assert scored is not None and scored.score == 1.0


def _weight(kind: str) -> int:
    """The weight a complete span of ``kind`` has: two per required attribute, one per recommended."""
    return 2 * (1 + len(REQUIRED[kind])) + len(RECOMMENDED[kind])


def _without(attributes: dict[str, Any], key: str) -> dict[str, Any]:
    return {name: value for name, value in attributes.items() if name != key}


# --- score_span --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(COMPLETE))
def test_a_complete_span_scores_one_under_its_type(kind: str) -> None:
    scored = score_span(COMPLETE[kind])

    assert scored is not None
    assert scored.kind == kind
    assert scored.score == 1.0
    assert (scored.missing_required, scored.missing_recommended) == ((), ())


@pytest.mark.parametrize(
    ("kind", "key"), [(kind, key) for kind, keys in sorted(REQUIRED.items()) for key in keys]
)
def test_a_missing_required_attribute_costs_two(kind: str, key: str) -> None:
    scored = score_span(_without(COMPLETE[kind], key))

    assert scored is not None
    assert scored.kind == kind
    assert scored.missing_required == (key,)
    assert scored.missing_recommended == ()
    assert scored.score == pytest.approx((_weight(kind) - 2) / _weight(kind))


@pytest.mark.parametrize(
    ("kind", "key"), [(kind, key) for kind, keys in sorted(RECOMMENDED.items()) for key in keys]
)
def test_a_missing_recommended_attribute_costs_one(kind: str, key: str) -> None:
    scored = score_span(_without(COMPLETE[kind], key))

    assert scored is not None
    assert scored.kind == kind
    assert scored.missing_required == ()
    assert scored.missing_recommended == (key,)
    assert scored.score == pytest.approx((_weight(kind) - 1) / _weight(kind))


def test_missing_required_and_recommended_attributes_add_up() -> None:
    attributes = _without(
        _without(COMPLETE["model_interaction"], "gen_ai.provider.name"), "gen_ai.usage.output_tokens"
    )

    scored = score_span(attributes)

    assert scored is not None
    assert scored.missing_required == ("gen_ai.provider.name",)
    assert scored.missing_recommended == ("gen_ai.usage.output_tokens",)
    assert scored.score == pytest.approx((10 - 2 - 1) / 10)


@pytest.mark.parametrize("empty", ["", []])
def test_an_empty_value_counts_as_missing(empty: Any) -> None:
    scored = score_span({**COMPLETE["tool_execution"], "gen_ai.tool.name": empty})

    assert scored is not None
    assert scored.missing_recommended == ("gen_ai.tool.name",)


@pytest.mark.parametrize("falsy", [0, 0.0, False])
def test_a_zero_or_false_value_counts_as_present(falsy: Any) -> None:
    scored = score_span({**COMPLETE["model_interaction"], "gen_ai.usage.output_tokens": falsy})

    assert scored is not None
    assert scored.score == 1.0


def test_an_empty_list_attribute_counts_as_missing_as_the_sdk_stores_it() -> None:
    exporter = InMemorySpanExporter()
    provider = _provider(exporter)
    span = provider.get_tracer("test").start_span(
        "chat gpt-4o-mini", attributes=COMPLETE["model_interaction"]
    )
    span.set_attribute("gen_ai.response.finish_reasons", [])
    span.end()

    provider.shutdown()
    scored = score_span(_only(exporter).attributes or {})

    assert scored is not None
    assert scored.missing_recommended == ("gen_ai.response.finish_reasons",)


@pytest.mark.parametrize("kind", sorted(COMPLETE))
def test_error_type_is_required_of_a_span_with_error_status(kind: str) -> None:
    failed = score_span(COMPLETE[kind], ERROR)
    explained = score_span({**COMPLETE[kind], "error.type": "TimeoutError"}, ERROR)

    assert failed is not None
    assert explained is not None
    assert failed.missing_required == ("error.type",)
    assert failed.score == pytest.approx(_weight(kind) / (_weight(kind) + 2))
    assert explained.score == 1.0


@pytest.mark.parametrize("status", [UNSET, OK])
def test_error_type_is_not_expected_without_error_status(status: int) -> None:
    scored = score_span(COMPLETE["tool_execution"], status)

    assert scored is not None
    assert scored.score == 1.0


@pytest.mark.parametrize(
    "attributes",
    [
        {},
        {"http.request.method": "GET", "url.full": "https://example.com"},
        {"agent.component": "planner", "agent.component.operation": "plan"},
        {"db.system.name": "postgresql"},
    ],
    ids=["no attributes", "http", "component", "database"],
)
def test_a_span_without_genai_attributes_is_not_scored(attributes: dict[str, Any]) -> None:
    assert score_span(attributes) is None
    assert score_span(attributes, ERROR) is None


@pytest.mark.parametrize(
    "attributes",
    [
        {"gen_ai.request.model": "gpt-4o-mini"},
        {"gen_ai.system": "openai"},
        {"gen_ai.provider.name": "openai"},
        {"gen_ai.usage.input_tokens": 12},
    ],
    ids=["request model", "system", "provider", "input tokens"],
)
def test_a_genai_span_without_an_operation_counts_as_a_model_interaction_missing_it(
    attributes: dict[str, Any],
) -> None:
    scored = score_span(attributes)

    assert scored is not None
    assert scored.kind == "model_interaction"
    assert scored.missing_required[0] == "gen_ai.operation.name"
    assert scored.score < 1.0


def test_a_span_with_other_genai_attributes_and_no_operation_is_scored_too() -> None:
    scored = score_span({"gen_ai.response.model": "gpt-4o-mini", "gen_ai.usage.output_tokens": 40})

    assert scored is not None
    assert scored.kind == "model_interaction"
    assert "gen_ai.operation.name" in scored.missing_required


def test_each_operation_name_selects_its_type() -> None:
    operations = {
        "invoke_agent": "agent_run",
        "create_agent": "agent_run",
        "execute_tool": "tool_execution",
        "chat": "model_interaction",
        "text_completion": "model_interaction",
        "generate_content": "model_interaction",
        "embeddings": "model_interaction",
        "search_memory": "memory_operation",
        "update_memory": "memory_operation",
        "delete_memory": "memory_operation",
        "create_memory": "memory_operation",
        "upsert_memory": "memory_operation",
        "create_memory_store": "memory_operation",
        "delete_memory_store": "memory_operation",
        "route": "routing_decision",
    }

    kinds = {}
    for operation in operations:
        scored = score_span({"gen_ai.operation.name": operation})
        assert scored is not None, operation
        kinds[operation] = scored.kind

    assert kinds == operations


# --- the report --------------------------------------------------------------------------------------


def test_an_empty_report_is_all_zero() -> None:
    assert ComplianceReport().as_dict() == {
        "spans_checked": 0,
        "genai_spans": 0,
        "overall_percent": 0.0,
        "by_type": {},
        "most_missing": [],
    }


def _mixed_spans() -> list[tuple[dict[str, Any], int]]:
    model = COMPLETE["model_interaction"]
    tool = COMPLETE["tool_execution"]
    return [
        (tool, UNSET),  # 1
        (_without(tool, "gen_ai.tool.name"), UNSET),  # 2/3
        (_without(_without(model, "gen_ai.provider.name"), "gen_ai.response.finish_reasons"), UNSET),  # 7/10
        (_without(model, "gen_ai.provider.name"), UNSET),  # 8/10
        ({"http.request.method": "GET"}, ERROR),  # not GenAI
    ]


def test_the_report_averages_span_scores_overall_and_by_type() -> None:
    report = check(_mixed_spans())

    data = report.as_dict()
    assert data["spans_checked"] == 5
    assert data["genai_spans"] == 4
    assert data["overall_percent"] == round(100 * (1 + 2 / 3 + 0.7 + 0.8) / 4, 1)
    assert data["by_type"] == {
        "model_interaction": {"spans": 2, "percent": 75.0},
        "tool_execution": {"spans": 2, "percent": round(100 * (1 + 2 / 3) / 2, 1)},
    }
    assert list(data["by_type"]) == sorted(data["by_type"])


def test_the_report_lists_the_attributes_missing_most_often_first() -> None:
    report = check(_mixed_spans())

    most_missing = report.as_dict()["most_missing"]
    assert most_missing[0] == {
        "type": "model_interaction",
        "attribute": "gen_ai.provider.name",
        "level": "required",
        "spans": 2,
    }
    assert sorted(most_missing[1:], key=lambda row: row["attribute"]) == [
        {
            "type": "model_interaction",
            "attribute": "gen_ai.response.finish_reasons",
            "level": "recommended",
            "spans": 1,
        },
        {
            "type": "tool_execution",
            "attribute": "gen_ai.tool.name",
            "level": "recommended",
            "spans": 1,
        },
    ]
    assert report.as_dict(top=1)["most_missing"] == most_missing[:1]


def test_adding_a_span_returns_its_score_and_check_adds_them_all() -> None:
    report = ComplianceReport()

    added = [report.add(attributes, status) for attributes, status in _mixed_spans()]

    assert [score.score if score else None for score in added] == pytest.approx([1, 2 / 3, 0.7, 0.8, None])
    assert report.as_dict() == check(_mixed_spans()).as_dict()


# --- our own helpers ---------------------------------------------------------------------------------


def _provider(exporter: SpanExporter) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": "agent"}), shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def _only(exporter: InMemorySpanExporter) -> ReadableSpan:
    (span,) = exporter.get_finished_spans()
    return span


HelpersTo = Callable[[SpanExporter], Tracer]


@pytest.fixture
def helpers_to(monkeypatch: pytest.MonkeyPatch) -> Iterator[HelpersTo]:
    """Points the helpers' tracer at a local provider exporting to the given exporter (the global
    providers stay unset); gives that tracer."""
    providers: list[TracerProvider] = []

    def point(exporter: SpanExporter) -> Tracer:
        providers.append(_provider(exporter))
        tracer = providers[-1].get_tracer("instrumentations")
        monkeypatch.setattr(_spans, "tracer", tracer)
        monkeypatch.setattr(records, "tracer", tracer)
        return tracer

    monkeypatch.setattr(_spans, "_warned", set())
    yield point
    for provider in providers:
        provider.shutdown()


@trace_tool_execution("web_search")
def _web_search(query: str) -> list[str]:
    """Search the web and return the titles of the best pages."""
    if "outage" in query:
        raise TimeoutError("search backend did not answer in time")
    return [f"{query}: overview", f"{query}: pricing"]


@trace_tool_execution("summarise")
def _summarise(pages: list[str]) -> str:
    """Condense pages into one paragraph."""
    return "; ".join(pages)


@instrument_method("planner", "plan")
def _plan(question: str) -> list[str]:
    return [question, f"{question} outage"]


def _agent_session() -> None:
    """What examples/agent_app.py does: runs with routing, memory, tools (one failing), a model
    call and a conversation turn each, and a failed run; every helper with its documented arguments."""
    for index, question in enumerate(("vector databases", "llm pricing")):
        session = f"demo-{index}"
        with track_run(
            "researcher", "question", provider="openai", model="gpt-4o-mini", conversation_id=session
        ) as run:
            run.log_event("question.received", {"index": index})
            run.associate_commit("9fceb02d0ae598e95dc970b74767f19372d61af8", repo="https://example.com/a.git")
            record_routing_decision(
                "router", "researcher", candidates=["researcher", "coder"], reason="facts", score=0.9
            )
            record_memory_operation(
                "search", "user-notes", memory_type="long_term", provider="local", result_count=2
            )
            pages: list[str] = []
            for query in _plan(question):  # the second query fails: the search has an outage
                with contextlib.suppress(TimeoutError):
                    pages += _web_search(query)
            reply = _summarise(pages)
            record_model_interaction(
                "gpt-4o-mini",
                provider="openai",
                input_messages=[{"role": "system", "content": "You are terse."}, question],
                output_messages=reply,
                input_tokens=120,
                output_tokens=40,
                response_id="chatcmpl-demo",
                finish_reasons=["stop"],
                conversation_id=session,
                duration_s=0.4,
            )
            record_conversation_turn(
                session, question, reply, model="gpt-4o-mini", provider="openai", agent_name="researcher"
            )
            record_memory_operation(
                "update", "user-notes", memory_type="long_term", provider="local", memory_id="n-7"
            )
            run.set_metrics(items_discovered=2, items_succeeded=2 - index, items_failed=index, relevance=0.8)
    with contextlib.suppress(RuntimeError), track_run("researcher", "cleanup", provider="openai"):
        raise RuntimeError("cleanup target missing")


def test_our_helpers_with_their_documented_arguments_score_at_least_95_percent(helpers_to: HelpersTo) -> None:
    exporter = InMemorySpanExporter()
    helpers_to(exporter)

    _agent_session()

    spans = exporter.get_finished_spans()
    report = check((span.attributes or {}, span.status.status_code.value) for span in spans)
    data = report.as_dict()
    assert set(data["by_type"]) == {
        "agent_run",
        "tool_execution",
        "model_interaction",
        "memory_operation",
        "routing_decision",
    }
    assert any(span.status.status_code is StatusCode.ERROR for span in spans)
    assert [row for row in data["most_missing"] if row["level"] == "required"] == []
    assert report.overall >= 0.95, data


def _plain_session() -> None:
    """The helpers used the plain way: the provider and model named once, on the run; a turn and
    the memory operations name none (they come from the run); tools and a planner decorated."""
    with track_run("researcher", "question", provider="openai", model="gpt-4o-mini"):
        pages: list[str] = []
        for query in _plan("vector databases"):
            with contextlib.suppress(TimeoutError):
                pages += _web_search(query)
        reply = _summarise(pages)
        record_memory_operation("search", "user-notes", memory_type="long_term")
        record_conversation_turn("s-1", "vector databases?", reply, input_tokens=50, output_tokens=9)


def test_the_run_provider_and_model_flow_to_spans_inside_and_a_plain_use_scores_95(
    helpers_to: HelpersTo,
) -> None:
    exporter = InMemorySpanExporter()
    helpers_to(exporter)

    _plain_session()

    spans = {span.name: span for span in exporter.get_finished_spans()}
    turn = spans["chat gpt-4o-mini"].attributes or {}
    assert (turn["gen_ai.provider.name"], turn["gen_ai.request.model"]) == ("openai", "gpt-4o-mini")
    assert (spans["search_memory user-notes"].attributes or {})["gen_ai.provider.name"] == "openai"
    report = check((span.attributes or {}, span.status.status_code.value) for span in spans.values())
    assert [row for row in report.as_dict()["most_missing"] if row["level"] == "required"] == []
    assert report.overall >= 0.95, report.as_dict()


def test_spans_of_other_conventions_are_scored_by_the_facts_they_carry() -> None:
    openinference = {
        "openinference.span.kind": "LLM",
        "llm.provider": "openai",
        "llm.model_name": "gpt-4o",
        "llm.token_count.prompt": 5,
        "llm.token_count.completion": 2,
        "llm.output_messages.0.message.content": "hi",
    }
    openllmetry = {
        "llm.request.type": "chat",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.response.model": "gpt-4o",
        "gen_ai.usage.prompt_tokens": 5,
        "gen_ai.usage.completion_tokens": 2,
        "gen_ai.completion.0.finish_reason": "stop",
    }
    for attributes in (openinference, openllmetry):
        scored = score_span(attributes)
        assert scored is not None and scored.kind == "model_interaction"
        assert scored.missing_required == ()
    assert score_span({**openllmetry, "otel_distro.genai.duplicate_of": "ab" * 8}) is None


# --- otel-distro compliance --------------------------------------------------------------------------


pytestmark = pytest.mark.usefixtures("isolated_settings")


def _run(base: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--base-dir", str(base), "compliance", *args], catch_exceptions=False)


@pytest.fixture
def store(tmp_path: Path, helpers_to: HelpersTo) -> Path:
    """A store written by the real JSONL exporter: a complete tool call (and a failed one, with
    its error type), a complete model call, and spans another instrumentation left incomplete:
    a model call with no operation or provider, and a failed tool call with no error type; a
    non-GenAI span; and, three days old, one more incomplete model call."""
    base = tmp_path / "store"
    tracer = helpers_to(JsonlSpanExporter(JsonlStore(base)))

    _web_search("vector databases")
    with pytest.raises(TimeoutError):
        _web_search("outage")
    record_model_interaction(
        "gpt-4o-mini", provider="openai", input_tokens=12, output_tokens=4, finish_reasons=["stop"]
    )
    tracer.start_span("llm call", attributes={"gen_ai.request.model": "tiny"}).end()
    failed = tracer.start_span("execute_tool fetch", attributes=COMPLETE["tool_execution"])
    failed.set_status(Status(StatusCode.ERROR, "fetch failed"))
    failed.end()
    tracer.start_span("http get", attributes={"http.request.method": "GET"}).end()
    long_ago = time.time_ns() - 3 * DAY_NS
    tracer.start_span("old llm call", attributes={"gen_ai.request.model": "old"}, start_time=long_ago).end(
        end_time=long_ago + 1
    )
    return base


def test_compliance_json_scores_the_spans_of_the_window_in_the_store(store: Path) -> None:
    result = _run(store, "--json", "--since", "1d")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["store"] == str(store)
    assert data["spans_checked"] == 6
    assert data["genai_spans"] == 5
    incomplete_model = (10 - 2 * 2 - 4) / 10  # no operation, no provider, nothing recommended
    unexplained_error = 3 / 5  # complete, but error.type missing on an ERROR span
    assert data["by_type"] == {
        "model_interaction": {"spans": 2, "percent": round(100 * (1 + incomplete_model) / 2, 1)},
        "tool_execution": {"spans": 3, "percent": round(100 * (1 + 1 + unexplained_error) / 3, 1)},
    }
    assert data["overall_percent"] == round(100 * (3 + incomplete_model + unexplained_error) / 5, 1)
    missing = {(row["type"], row["attribute"], row["level"]): row["spans"] for row in data["most_missing"]}
    assert missing[("model_interaction", "gen_ai.operation.name", "required")] == 1
    assert missing[("model_interaction", "gen_ai.provider.name", "required")] == 1
    assert missing[("tool_execution", "error.type", "required")] == 1


def test_compliance_since_takes_in_older_spans(store: Path) -> None:
    recent = json.loads(_run(store, "--json", "--since", "1d").stdout)
    week = json.loads(_run(store, "--json", "--since", "4d").stdout)

    assert (recent["spans_checked"], week["spans_checked"]) == (6, 7)
    assert week["by_type"]["model_interaction"]["spans"] == 3
    assert week["overall_percent"] < recent["overall_percent"]


def test_compliance_fail_under_exits_1_when_the_overall_score_is_lower(store: Path) -> None:
    failing = _run(store, "--json", "--since", "1d", "--fail-under", "100")
    passing = _run(store, "--json", "--since", "1d", "--fail-under", "50")

    assert failing.exit_code == 1
    assert json.loads(failing.stdout)["overall_percent"] < 100
    assert passing.exit_code == 0


@pytest.mark.parametrize("value", ["nan", "-1", "100.5", "inf"])
def test_compliance_fail_under_refuses_what_is_no_percentage(store: Path, value: str) -> None:
    """A review of issue 21: "nan" was taken, and every comparison with it passes: the gate was off."""
    result = _run(store, "--since", "1d", "--fail-under", value)
    assert result.exit_code == 2 and "percentage" in result.output


def test_compliance_fail_under_100_passes_a_store_of_complete_spans(
    tmp_path: Path, helpers_to: HelpersTo
) -> None:
    base = tmp_path / "store"
    helpers_to(JsonlSpanExporter(JsonlStore(base)))
    _web_search("vector databases")
    record_routing_decision("router", "researcher", candidates=["researcher"], reason="facts")

    result = _run(base, "--json", "--fail-under", "100")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["overall_percent"] == 100.0


def test_compliance_human_output_shows_the_same_numbers(store: Path) -> None:
    data = json.loads(_run(store, "--json", "--since", "1d").stdout)

    result = _run(store, "--since", "1d")

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"GenAI spans: 5 of 6 checked in {store}\n" in out
    assert f"overall:     {data['overall_percent']:.1f}%\n" in out
    assert "  tool_execution           3 spans" in out
    assert "  tool_execution     error.type (required): 1 spans\n" in out


def test_compliance_of_an_empty_store_reports_no_genai_spans(tmp_path: Path) -> None:
    result = _run(tmp_path / "does-not-exist", "--json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["spans_checked"], data["genai_spans"], data["overall_percent"]) == (0, 0, 0.0)

"""The Langfuse exporter in a real child process against a local endpoint implementing Langfuse's contract."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from tests.support.endpoint import Fault
from tests.support.langfuse_endpoint import LangfuseRecorder
from tests.support.proc import clean_env, run_app

EMAIL = "alice.smith@example.com"
CARD = "4111 1111 1111 1111"

# An agent run (session and user set on its root) with a chat call, a tool call and a database
# query; then a plain health-check trace. Only the agent's GenAI spans and their ancestors go.
APP = f"""
    import json
    import otel_distro
    from opentelemetry import trace

    handle = otel_distro.configure(service_name="support-bot")
    tracer = trace.get_tracer("agent")
    EMAIL, CARD = {EMAIL!r}, {CARD!r}

    def run(index, fail=False):
        with tracer.start_as_current_span("invoke_agent support") as root:
            root.set_attribute("gen_ai.operation.name", "invoke_agent")
            root.set_attribute("gen_ai.agent.name", "support")
            root.set_attribute("session.id", f"session-{{index}}")
            root.set_attribute("user.id", "user-7")
            with tracer.start_as_current_span("db.query") as db:
                db.set_attribute("db.system", "postgresql")
            with tracer.start_as_current_span("chat gpt-4o") as chat:
                chat.set_attribute("gen_ai.operation.name", "chat")
                chat.set_attribute("gen_ai.provider.name", "openai")
                chat.set_attribute("gen_ai.request.model", "gpt-4o")
                chat.set_attribute("gen_ai.response.model", "gpt-4o-2024-08-06")
                chat.set_attribute("gen_ai.request.temperature", 0.2)
                chat.set_attribute("gen_ai.request.max_tokens", 256)
                chat.set_attribute("gen_ai.usage.input_tokens", 120)
                chat.set_attribute("gen_ai.usage.output_tokens", 40)
                chat.set_attribute("gen_ai.usage.cache_read.input_tokens", 20)
                question = f"run {{index}}: mail {{EMAIL}}, card {{CARD}}"
                chat.set_attribute(
                    "gen_ai.input.messages",
                    json.dumps([{{"role": "user", "parts": [{{"type": "text", "content": question}}]}}]),
                )
                chat.set_attribute(
                    "gen_ai.output.messages",
                    json.dumps([{{"role": "assistant", "parts": [{{"type": "text", "content": "on it"}}]}}]),
                )
                if fail:
                    chat.set_status(trace.Status(trace.StatusCode.ERROR, f"quota exceeded for {{EMAIL}}"))
            with tracer.start_as_current_span("execute_tool lookup") as tool:
                tool.set_attribute("gen_ai.operation.name", "execute_tool")
                tool.set_attribute("gen_ai.tool.name", "lookup")

    with tracer.start_as_current_span("GET /health"):
        pass
"""


def run_with(tmp: Path, recorder: LangfuseRecorder, body: str, **extra: str) -> Any:
    tmp.mkdir(parents=True, exist_ok=True)
    env = clean_env(
        tmp,
        LANGFUSE_PUBLIC_KEY="pk-lf-test",
        LANGFUSE_SECRET_KEY="sk-lf-test",
        LANGFUSE_HOST=recorder.host,
        OTEL_RESOURCE_ATTRIBUTES="deployment.environment.name=staging,service.version=1.2.3",
        **extra,
    )
    run = run_app(tmp, textwrap.dedent(APP) + textwrap.dedent(body), env=env, timeout=60)
    assert run.returncode == 0, run.stderr
    return run


def by_name(spans: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for span in spans:
        out.setdefault(span["name"], []).append(span)
    return out


def test_generations_arrive_with_session_user_model_usage_text_and_whole_trees(tmp_path: Path) -> None:
    with LangfuseRecorder() as recorder:
        run_with(tmp_path, recorder, "run(0)\nrun(1, fail=True)\n")
        spans = recorder.spans
    names = by_name(spans)
    assert sorted(names) == ["chat gpt-4o", "execute_tool lookup", "invoke_agent support"]  # no db, no health
    assert all(len(found) == 2 for found in names.values())
    for _, headers in recorder.attempts:
        assert headers["x-langfuse-ingestion-version"] == "4"
        assert headers["content-type"] == "application/x-protobuf"
        assert headers["content-encoding"] == "gzip"
        assert "langfuse" not in headers.get("user-agent", "").lower()  # not posing as the SDK
    ids = {span["span_id"] for span in spans}
    for span in spans:
        assert span["parent_span_id"] in ids or not span["parent_span_id"]  # trees are whole
        attributes = span["attributes"]
        index = attributes["langfuse.session.id"].removeprefix("session-")
        assert attributes["langfuse.session.id"] == f"session-{index}"  # on every span of the trace
        assert attributes["langfuse.user.id"] == "user-7"
        assert attributes["langfuse.environment"] == "staging"
        assert attributes["langfuse.release"] == "1.2.3"
    roots = names["invoke_agent support"]
    assert all(r["attributes"]["langfuse.observation.type"] == "agent" for r in roots)
    assert all(r["attributes"]["langfuse.trace.name"] == "invoke_agent support" for r in roots)
    assert all(t["attributes"]["langfuse.observation.type"] == "tool" for t in names["execute_tool lookup"])
    for chat in names["chat gpt-4o"]:
        attributes = chat["attributes"]
        index = attributes["langfuse.session.id"].removeprefix("session-")
        assert attributes["langfuse.observation.type"] == "generation"
        assert attributes["langfuse.observation.model.name"] == "gpt-4o-2024-08-06"
        assert json.loads(attributes["langfuse.observation.model.parameters"]) == {
            "temperature": 0.2,
            "max_tokens": 256,
        }
        assert json.loads(attributes["langfuse.observation.usage_details"]) == {
            "input": 100,  # net of the 20 cached
            "output": 40,
            "input_cached_tokens": 20,
            "total": 160,
        }
        assert json.loads(attributes["langfuse.observation.input"]) == [
            {"role": "user", "content": f"run {index}: mail <EMAIL>, card <CREDIT_CARD>"}
        ]
        assert json.loads(attributes["langfuse.observation.output"]) == [
            {"role": "assistant", "content": "on it"}
        ]
        if index == "1":
            assert attributes["langfuse.observation.level"] == "ERROR"
            assert attributes["langfuse.observation.status_message"] == "quota exceeded for <EMAIL>"
        else:
            assert "langfuse.observation.level" not in attributes
    blob = json.dumps(spans)
    for raw in (EMAIL, CARD, CARD.replace(" ", "")):
        assert raw not in blob


def test_all_spans_and_sampling_settings(tmp_path: Path) -> None:
    with LangfuseRecorder() as recorder:
        run_with(tmp_path / "all", recorder, "run(0)\n", TELEMETRY_LANGFUSE_SPANS="all")
        assert sorted(by_name(recorder.spans)) == [
            "GET /health",
            "chat gpt-4o",
            "db.query",
            "execute_tool lookup",
            "invoke_agent support",
        ]
    with LangfuseRecorder() as recorder:
        run_with(tmp_path / "none", recorder, "run(0)\n", TELEMETRY_LANGFUSE_SAMPLE_RATE="0")
        assert recorder.spans == [] and recorder.attempts == []


def test_otel_traces_exporter_langfuse_names_the_same_exporter(tmp_path: Path) -> None:
    with LangfuseRecorder() as recorder:
        run_with(tmp_path, recorder, "run(0)\n", OTEL_TRACES_EXPORTER="langfuse")
        assert len(by_name(recorder.spans)["chat gpt-4o"]) == 1  # once, not twice


def test_retryable_answers_are_retried_and_others_drop_the_batch_with_a_warning(tmp_path: Path) -> None:
    with LangfuseRecorder() as recorder:
        recorder.fail(Fault(status=503), Fault(status=429, retry_after="1"), Fault(drop=True))
        run_with(tmp_path / "retry", recorder, "run(0)\n")
        assert len(by_name(recorder.spans)["chat gpt-4o"]) == 1
        statuses = [status for status, _ in recorder.attempts]
        assert statuses[:3] == [503, 429, "dropped"] and statuses[-1] == 200
    with LangfuseRecorder(secret_key="another") as recorder:  # a wrong key: 401, not retried
        run = run_with(tmp_path / "auth", recorder, "run(0)\n")
        assert [status for status, _ in recorder.attempts] == [401]
        assert "401" in run.stderr and "LANGFUSE_SECRET_KEY" in run.stderr
        assert "sk-lf-test" not in run.stderr
    with LangfuseRecorder() as recorder:
        recorder.fail(Fault(status=400))
        run = run_with(tmp_path / "bad", recorder, "run(0)\n")
        assert [status for status, _ in recorder.attempts] == [400]
        assert "400" in run.stderr and "dropped" in run.stderr

"""The Phoenix exporter and ``upload --to phoenix`` against a local OTLP/HTTP recorder on 127.0.0.1.

(``make test-backends`` runs the same chat app against a real Phoenix: tests/backends.)
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.backends.chat_app import ANSWERS, CHAT_APP, EMAIL, GENAI_SPANS_PER_TURN, QUESTIONS, SPANS_PER_TURN
from tests.support.collector import Attrs, attributes
from tests.support.endpoint import Fault, FaultyEndpoint
from tests.support.proc import clean_env, spans

CLI = str(Path(sys.executable).parent / "otel-distro")


class PhoenixRecorder(FaultyEndpoint):
    """Takes OTLP/HTTP protobuf spans on /v1/traces as Phoenix does (405 on the other signals)."""

    def __init__(self) -> None:
        super().__init__()
        self.received: list[tuple[Attrs, Span]] = []  # (resource attributes, span)
        self.headers: list[dict[str, str]] = []
        self.raw = b""
        self.paths: list[str] = []
        self._arrived = threading.Condition(self._cond)

    def receive(self, path: str, headers: dict[str, str], raw: bytes) -> int:
        with self._cond:
            self.paths.append(path)
            if path != "/v1/traces":
                return 405
            self.headers.append(headers)
            self.raw += raw
            request = ExportTraceServiceRequest.FromString(raw)
            for resource in request.resource_spans:
                for scope in resource.scope_spans:
                    self.received += [
                        (attributes(resource.resource.attributes), span) for span in scope.spans
                    ]
        return 200

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def span_attributes(self) -> list[tuple[str, Attrs]]:
        with self._cond:
            return [(span.name, attributes(span.attributes)) for _, span in self.received]


def chat_env(tmp: Path, **extra: str) -> dict[str, str]:
    """A clean environment without the caller's Phoenix variables, with ``extra``."""
    env = {key: value for key, value in clean_env(tmp).items() if not key.startswith("PHOENIX_")}
    return {**env, **extra}


def run_chat_turns(tmp: Path, turns: int, **extra: str) -> Any:
    script = tmp / "chat.py"
    script.write_text(CHAT_APP)
    done = subprocess.run(
        [sys.executable, str(script), str(turns)],
        env=chat_env(tmp, **extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


def assert_phoenix_form(received: list[tuple[str, Attrs]], turns: int) -> None:
    """Every GenAI span shows what Phoenix reads: kind, input and output, model, agent, tool."""
    kinds = [attrs.get("openinference.span.kind") for _, attrs in received]
    assert kinds.count("LLM") == 2 * turns and kinds.count("TOOL") == turns and kinds.count("AGENT") == turns
    for name, attrs in received:
        kind = attrs.get("openinference.span.kind")
        if kind is None:
            assert name == "load settings"
            continue
        if kind in ("LLM", "TOOL"):
            assert attrs.get("input.value") and attrs.get("output.value"), (name, attrs)
        if kind == "LLM":
            assert attrs["llm.model_name"].startswith("gpt-4o") and attrs["llm.provider"] == "openai"
            assert attrs["llm.input_messages.0.message.role"] in ("system", "user")
            assert attrs["llm.output_messages.0.message.role"] == "assistant"
            assert attrs["llm.finish_reason"] in ("stop", "tool_calls")
            assert attrs["llm.token_count.total"] > 0
            assert json.loads(attrs["gen_ai.output.messages"])[0]["finish_reason"] in ("stop", "tool_calls")
        if kind == "AGENT":
            assert attrs["agent.name"] == "weather-agent"
        if kind == "TOOL":
            assert attrs["tool.name"] == "weather" and attrs["input.mime_type"] == "application/json"
    outputs = {attrs.get("output.value") for _, attrs in received}
    assert set(ANSWERS[:turns]) <= outputs
    inputs = {attrs.get("input.value") for _, attrs in received}
    assert set(QUESTIONS[:turns]) <= inputs


def test_chat_spans_reach_phoenix_enriched_redacted_in_the_project_with_the_key(tmp_path: Path) -> None:
    with PhoenixRecorder() as phoenix:
        run_chat_turns(
            tmp_path,
            2,
            PHOENIX_COLLECTOR_ENDPOINT=phoenix.base,
            PHOENIX_PROJECT_NAME="weather",
            PHOENIX_API_KEY="phx-key-123",
        )
        assert len(phoenix.received) == 2 * SPANS_PER_TURN  # every span: the trees stay whole
        assert {resource["openinference.project.name"] for resource, _ in phoenix.received} == {"weather"}
        assert {headers["authorization"] for headers in phoenix.headers} == {"Bearer phx-key-123"}
        assert {headers["content-type"] for headers in phoenix.headers} == {"application/x-protobuf"}
        assert set(phoenix.paths) == {"/v1/traces"}
        assert_phoenix_form(phoenix.span_attributes(), 2)
        assert EMAIL.encode() not in phoenix.raw  # behind the privacy chain like every exporter
        users = [
            attrs.get("llm.input_messages.1.message.content", "") for _, attrs in phoenix.span_attributes()
        ]
        assert any("Mail me at" in text and "EMAIL" in text for text in users), users


def test_the_project_defaults_to_the_service_name_and_otel_traces_exporter_names_phoenix(
    tmp_path: Path,
) -> None:
    with PhoenixRecorder() as phoenix:
        run_chat_turns(tmp_path, 1, PHOENIX_COLLECTOR_ENDPOINT=phoenix.base, OTEL_TRACES_EXPORTER="phoenix")
        assert len(phoenix.received) == SPANS_PER_TURN
        assert {resource["openinference.project.name"] for resource, _ in phoenix.received} == {"chat-app"}
        assert "authorization" not in phoenix.headers[0]
    (tmp_path / "b").mkdir()
    done = run_chat_turns(tmp_path / "b", 1, OTEL_TRACES_EXPORTER="phoenix")  # no endpoint: one clear warning
    assert "PHOENIX_COLLECTOR_ENDPOINT" in done.stderr


def test_genai_spans_only_when_asked(tmp_path: Path) -> None:
    with PhoenixRecorder() as phoenix:
        run_chat_turns(tmp_path, 1, PHOENIX_COLLECTOR_ENDPOINT=phoenix.base, TELEMETRY_PHOENIX_SPANS="genai")
        assert sorted(name for name, _ in phoenix.span_attributes()) == sorted(
            ["invoke_agent weather-agent", "chat gpt-4o", "chat gpt-4o", "execute_tool weather"]
        )
        assert len(phoenix.received) == GENAI_SPANS_PER_TURN


def test_a_phoenix_that_refuses_is_counted_in_stats_and_costs_the_app_nothing(tmp_path: Path) -> None:
    with PhoenixRecorder() as phoenix:
        phoenix.fail(*[Fault(status=400)] * 5)
        done = run_chat_turns(tmp_path, 1, PHOENIX_COLLECTOR_ENDPOINT=phoenix.base)
        assert "Phoenix at" in done.stderr and "HTTP 400" in done.stderr
    stats = subprocess.run(
        [CLI, "stats", "--json"], env=clean_env(tmp_path), capture_output=True, text=True, check=False
    )
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["dropped"].get("phoenix_refused") == SPANS_PER_TURN, stats.stdout


def test_upload_to_phoenix_sends_the_stored_spans_enriched_once_and_exits_0(tmp_path: Path) -> None:
    run_chat_turns(tmp_path, 2)  # the store only
    stored = spans(tmp_path / "store")
    assert len(stored) == 2 * SPANS_PER_TURN
    with PhoenixRecorder() as phoenix:
        env = clean_env(tmp_path, PHOENIX_PROJECT_NAME="replayed", PHOENIX_API_KEY="k")
        for _ in range(2):  # the rerun sends nothing again
            done = subprocess.run(
                [CLI, "upload", "--to", "phoenix", "--endpoint", phoenix.base + "/v1/traces"],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, done.stdout + done.stderr
        assert len(phoenix.received) == 2 * SPANS_PER_TURN
        assert set(phoenix.paths) == {"/v1/traces"}  # traces only: no metrics or logs asked
        assert {resource["openinference.project.name"] for resource, _ in phoenix.received} == {"replayed"}
        assert phoenix.headers[0]["authorization"] == "Bearer k"
        assert_phoenix_form(phoenix.span_attributes(), 2)
        # the plain OTLP upload to the same endpoint is recorded apart: it sends the spans as stored
        done = subprocess.run(
            [CLI, "upload", "--endpoint", phoenix.base],
            env=clean_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "traces: sent 10" in done.stdout and "logs: skipped" in done.stdout  # Phoenix: 405
        assert len(phoenix.received) == 4 * SPANS_PER_TURN
        assert "openinference.project.name" not in phoenix.received[-1][0]

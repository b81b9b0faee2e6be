"""Real GenAI instrumentations, zero-code, against local OpenAI- and Anthropic-compatible servers.

Instrumentation families cannot share a venv: ``opentelemetry-instrument`` loads every
instrumentor it finds. ``make test-instrumentations`` builds one venv per family
(``tests/instrumentations/requirements/<family>.txt``, the distro plus that family's pinned
packages) and runs this same module in each, naming the family in ``TEST_INSTRUMENTATION_FAMILY``.

Each family's app makes two chat calls, one plain and one streamed (with usage), with a
system message; the conversation log and Langfuse point at local recorders. Whatever
convention the instrumentation writes (OTel GenAI, OpenLLMetry's indexed ``gen_ai.prompt.N.*``,
OpenInference's ``llm.input_messages.N.*``), every reader must see each call once: one
conversation-log record, one Langfuse generation, its tokens once in ``stats``, and a
compliance score. No process may reach an address other than 127.0.0.1.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.instrumentations.conftest import SUMMARY
from tests.support import anthropic_server, openai_server
from tests.support.connect_audit import ENV as CONNECT_AUDIT_ENV
from tests.support.connect_audit import reached
from tests.support.endpoint import FaultyEndpoint
from tests.support.langfuse_endpoint import LangfuseRecorder
from tests.support.proc import CLI, AppRun, attrs, clean_env, run_app, spans
from tests.support.waiting import wait_until

FAMILY_ENV = "TEST_INSTRUMENTATION_FAMILY"
SYSTEM = "You are terse."
QUESTIONS = {"plain": "What is the capital of France?", "stream": "What is the capital of Italy?"}
REPLY = "It is the city on the river."
DISABLE_VARIABLE = "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS"


@dataclass(frozen=True)
class Instrumentation:
    distribution: str
    module: str


OFFICIAL_OPENAI = Instrumentation(
    "opentelemetry-instrumentation-genai-openai", "opentelemetry.instrumentation.genai.openai"
)
OFFICIAL_ANTHROPIC = Instrumentation(
    "opentelemetry-instrumentation-genai-anthropic", "opentelemetry.instrumentation.genai.anthropic"
)
OPENLLMETRY_OPENAI = Instrumentation(
    "opentelemetry-instrumentation-openai", "opentelemetry.instrumentation.openai"
)
OPENINFERENCE_OPENAI = Instrumentation(
    "openinference-instrumentation-openai", "openinference.instrumentation.openai"
)


@dataclass(frozen=True)
class Family:
    client: str  # "openai" or "anthropic"
    instrumentations: tuple[Instrumentation, ...]
    # (instrumentation scope, an attribute only its convention writes): proves each call was
    # recorded by the family's own instrumentation in the form this family is here to test
    writes: tuple[tuple[str, str], ...]
    # Writes the OTel GenAI conventions' attributes (operation, provider, models, usage, finish
    # reasons) on its spans: only then must compliance reach 90%.
    conventions: bool


OTEL_CONTENT = "gen_ai.input.messages"
OPENLLMETRY_SCOPE = "opentelemetry.instrumentation.openai.v1"
FAMILIES = {
    "genai-openai": Family("openai", (OFFICIAL_OPENAI,), ((OFFICIAL_OPENAI.module, OTEL_CONTENT),), True),
    "genai-anthropic": Family(
        "anthropic", (OFFICIAL_ANTHROPIC,), ((OFFICIAL_ANTHROPIC.module, OTEL_CONTENT),), True
    ),
    "openllmetry": Family("openai", (OPENLLMETRY_OPENAI,), ((OPENLLMETRY_SCOPE, OTEL_CONTENT),), True),
    # gen_ai.system instead of gen_ai.provider.name, llm.request.type instead of gen_ai.operation.name
    "openllmetry-indexed": Family(
        "openai", (OPENLLMETRY_OPENAI,), ((OPENLLMETRY_SCOPE, "gen_ai.prompt.1.content"),), False
    ),
    # llm.* and openinference.span.kind only: no gen_ai.* attribute at all
    "openinference": Family(
        "openai",
        (OPENINFERENCE_OPENAI,),
        ((OPENINFERENCE_OPENAI.module, "llm.input_messages.1.message.content"),),
        False,
    ),
    "genai-openai+openllmetry": Family(
        "openai",
        (OFFICIAL_OPENAI, OPENLLMETRY_OPENAI),
        ((OFFICIAL_OPENAI.module, OTEL_CONTENT), (OPENLLMETRY_SCOPE, OTEL_CONTENT)),
        True,
    ),
}

FAMILY_NAME = os.environ.get(FAMILY_ENV, "")
if not FAMILY_NAME:
    pytest.skip(
        f"run by `make test-instrumentations` (one venv per family, {FAMILY_ENV} names it)",
        allow_module_level=True,
    )
if FAMILY_NAME not in FAMILIES:
    raise pytest.UsageError(f"{FAMILY_ENV}={FAMILY_NAME!r}: expected one of {', '.join(FAMILIES)}")
FAMILY = FAMILIES[FAMILY_NAME]

OPENAI_APP = f"""
    from openai import OpenAI

    client = OpenAI()
    system = {{"role": "system", "content": {SYSTEM!r}}}

    def ask(question):
        return [system, {{"role": "user", "content": question}}]

    reply = client.chat.completions.create(model="gpt-4o-mini", messages=ask({QUESTIONS["plain"]!r}))
    print("plain:", reply.choices[0].message.content)
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=ask({QUESTIONS["stream"]!r}),
        stream=True,
        stream_options={{"include_usage": True}},
    )
    print("stream:", "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices))
"""

ANTHROPIC_APP = f"""
    import anthropic

    client = anthropic.Anthropic()

    def ask(question, **options):
        messages = [{{"role": "user", "content": question}}]
        return client.messages.create(
            model="claude-haiku-4-5", max_tokens=64, system={SYSTEM!r}, messages=messages, **options
        )

    reply = ask({QUESTIONS["plain"]!r})
    print("plain:", reply.content[0].text)
    stream = ask({QUESTIONS["stream"]!r}, stream=True)
    print("stream:", "".join(event.delta.text for event in stream if event.type == "content_block_delta"))
"""


@dataclass(frozen=True)
class Client:
    app: str
    request_model: str
    response_model: str
    input_tokens: int  # per call
    output_tokens: int


CLIENTS = {
    "openai": Client(
        OPENAI_APP,
        "gpt-4o-mini",
        openai_server.MODEL_VERSION,
        openai_server.USAGE["prompt_tokens"],
        openai_server.USAGE["completion_tokens"],
    ),
    "anthropic": Client(
        ANTHROPIC_APP,
        "claude-haiku-4-5",
        anthropic_server.MODEL_VERSION,
        anthropic_server.USAGE["input_tokens"],
        anthropic_server.USAGE["output_tokens"],
    ),
}
CLIENT = CLIENTS[FAMILY.client]
MODELS = (CLIENT.request_model, CLIENT.response_model)


@dataclass
class Recording:
    """What one run of the family's app left: its output, what every reader got."""

    run: AppRun
    store: Path
    server_requests: list[dict[str, Any]]
    conversation_logs: list[dict[str, Any]]
    langfuse_spans: list[dict[str, Any]]
    stats: dict[str, Any]
    compliance: dict[str, Any]
    connects: list[str]


def _cli(tmp: Path, *args: str) -> dict[str, Any]:
    env = clean_env(tmp, **{CONNECT_AUDIT_ENV: str(tmp / "connects.log")})
    done = subprocess.run(
        [CLI, *args, "--json"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, f"otel-distro {' '.join(args)}: {done.stderr}"
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def _server() -> openai_server.OpenAiServer | anthropic_server.AnthropicServer:
    if FAMILY.client == "anthropic":
        return anthropic_server.AnthropicServer(REPLY)
    return openai_server.OpenAiServer(REPLY)


def _client_env(base_url: str) -> dict[str, str]:
    if FAMILY.client == "anthropic":
        return {"ANTHROPIC_API_KEY": "sk-ant-local-test", "ANTHROPIC_BASE_URL": base_url}
    return {"OPENAI_API_KEY": "sk-local-test", "OPENAI_BASE_URL": base_url}


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recording]:
    tmp = tmp_path_factory.mktemp(FAMILY_NAME.replace("+", "-"))
    audit = tmp / "connects.log"
    with _server() as server, FaultyEndpoint() as endpoint, LangfuseRecorder() as langfuse:
        env = clean_env(
            tmp,
            **_client_env(server.base_url),
            OTEL_SERVICE_NAME=f"{FAMILY_NAME}-app",
            TELEMETRY_ENDPOINT=endpoint.url,
            TELEMETRY_FLUSH_INTERVAL_SECS="0.5",
            LANGFUSE_PUBLIC_KEY="pk-lf-test",
            LANGFUSE_SECRET_KEY="sk-lf-test",
            LANGFUSE_HOST=langfuse.host,
            TRACELOOP_TELEMETRY="false",  # Traceloop's SDK phones home unless told not to
            **{CONNECT_AUDIT_ENV: str(audit)},
        )
        run = run_app(tmp, CLIENT.app, zero_code=True, env=env, timeout=120)
        # the app drained at exit; give the recorders' handler threads a moment
        wait_until(lambda: len(_conversation_logs(endpoint)) >= len(QUESTIONS), timeout=3)
        wait_until(lambda: len(_generations(langfuse.spans)) >= len(QUESTIONS), timeout=3)
        recorded = Recording(
            run=run,
            store=tmp / "store",
            server_requests=list(server.requests),
            conversation_logs=_conversation_logs(endpoint),
            langfuse_spans=list(langfuse.spans),
            stats=_cli(tmp, "stats"),
            compliance=_cli(tmp, "compliance"),
            connects=[],
        )
        recorded.connects = reached(audit)  # the app's and the CLI's
    compliance = recorded.compliance
    SUMMARY.append(
        f"{FAMILY_NAME}: compliance {compliance.get('overall_percent')}% over "
        f"{compliance.get('genai_spans')} GenAI spans, by type {json.dumps(compliance.get('by_type'))}; "
        f"stats tokens {json.dumps(recorded.stats.get('tokens'))}"
    )
    yield recorded


def _conversation_logs(endpoint: FaultyEndpoint) -> list[dict[str, Any]]:
    return [record for record in endpoint.records() if record.get("type") == "conversation_log"]


def _generations(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in spans if s["attributes"].get("langfuse.observation.type") == "generation"]


def _messages(value: Any) -> list[dict[str, Any]]:
    decoded = json.loads(value) if isinstance(value, str) else value
    if isinstance(decoded, dict):
        decoded = [decoded]
    return [m for m in decoded or () if isinstance(m, dict)]


def _inputs(span: dict[str, Any]) -> list[dict[str, Any]]:
    return _messages(span["attributes"].get("langfuse.observation.input", "[]"))


def _mentions(message: dict[str, Any], text: str) -> bool:
    return text in json.dumps(message, ensure_ascii=False)


def test_the_venv_holds_this_familys_instrumentations_on_the_distros_otel_line() -> None:
    loaded = {
        entry_point.dist.name
        for entry_point in importlib.metadata.entry_points(group="opentelemetry_instrumentor")
        if entry_point.name in ("openai", "anthropic") and entry_point.dist is not None
    }
    assert loaded == {i.distribution for i in FAMILY.instrumentations}
    assert importlib.metadata.version("opentelemetry-sdk").startswith("1.45.")  # pip did not move the SDK
    assert importlib.metadata.version("opentelemetry-instrumentation") == "0.66b2"


def test_the_app_runs_unchanged_and_both_calls_reach_the_local_server(recording: Recording) -> None:
    run = recording.run
    assert run.returncode == 0, run.stderr
    assert f"plain: {REPLY}" in run.stdout and f"stream: {REPLY}" in run.stdout, run.stdout
    assert len(recording.server_requests) == 2
    assert "Traceback" not in run.stderr, run.stderr


def test_each_call_is_recorded_by_this_familys_instrumentation_in_its_convention(
    recording: Recording,
) -> None:
    stored = [(span["_scope"], attrs(span["attributes"])) for span in spans(recording.store)]
    for scope, key in FAMILY.writes:
        written = [values for name, values in stored if name == scope and key in values]
        assert len(written) == len(QUESTIONS), f"{scope} / {key}: {[(n, sorted(v)) for n, v in stored]}"


def test_no_process_reaches_an_address_other_than_127_0_0_1(recording: Recording) -> None:
    assert recording.connects == []


def test_the_connect_audit_is_on_in_this_venv(tmp_path: Path) -> None:
    """The check above means something: a connection (an audit event, nothing is sent) is seen."""
    audit = tmp_path / "connects.log"
    source = """
        import socket, sys
        sys.audit("socket.connect", socket.socket(), ("192.0.2.1", 443))
        sys.audit("socket.connect", socket.socket(), ("127.0.0.1", 443))
    """
    run = run_app(tmp_path, source, env=clean_env(tmp_path, **{CONNECT_AUDIT_ENV: str(audit)}), timeout=60)
    assert run.returncode == 0, run.stderr
    assert [line.split()[1:3] for line in reached(audit)] == [["socket.connect", "192.0.2.1"]]


def test_each_model_call_gives_one_conversation_log_record_with_question_answer_usage_and_model(
    recording: Recording,
) -> None:
    records = recording.conversation_logs
    found = {call: [r for r in records if r.get("user_query") == q] for call, q in QUESTIONS.items()}
    counts = {call: len(matching) for call, matching in found.items()}
    assert counts == {"plain": 1, "stream": 1}, (
        f"{len(records)} records; user_query of each: {[r.get('user_query') for r in records]}"
    )
    for call, (record,) in found.items():
        assert record["system_response"] == REPLY, call
        metadata = record["metadata"]
        assert metadata.get("usage") == {
            "input_tokens": CLIENT.input_tokens,
            "output_tokens": CLIENT.output_tokens,
        }, (call, metadata)
        assert metadata.get("model") in MODELS, (call, metadata)


def test_each_model_call_gives_one_langfuse_generation_with_system_message_output_model_and_usage(
    recording: Recording,
) -> None:
    generations = _generations(recording.langfuse_spans)
    names = [(s["name"], s["attributes"].get("langfuse.observation.type")) for s in recording.langfuse_spans]
    for call, question in QUESTIONS.items():
        matching = [g for g in generations if any(_mentions(m, question) for m in _inputs(g))]
        assert len(matching) == 1, f"{call}: {len(matching)} generations; spans sent: {names}"
        attributes = matching[0]["attributes"]
        inputs = _messages(attributes["langfuse.observation.input"])
        assert any(m.get("role") == "system" and _mentions(m, SYSTEM) for m in inputs), (call, inputs)
        assert any(m.get("role") == "user" and _mentions(m, question) for m in inputs), (call, inputs)
        outputs = _messages(attributes.get("langfuse.observation.output", "[]"))
        assert any(_mentions(m, REPLY) for m in outputs), (call, outputs)
        assert attributes.get("langfuse.observation.model.name") in MODELS, (call, attributes)
        usage = json.loads(attributes.get("langfuse.observation.usage_details", "{}"))
        assert (usage.get("input"), usage.get("output")) == (CLIENT.input_tokens, CLIENT.output_tokens), (
            call,
            usage,
        )


def test_stats_counts_the_tokens_of_each_call_once(recording: Recording) -> None:
    tokens = recording.stats["tokens"]
    calls = len(QUESTIONS)
    assert tokens.get("gen_ai.usage.input_tokens") == calls * CLIENT.input_tokens, tokens
    assert tokens.get("gen_ai.usage.output_tokens") == calls * CLIENT.output_tokens, tokens
    # the same tokens under an older name would be counted twice by whoever adds them up
    assert not {"gen_ai.usage.prompt_tokens", "gen_ai.usage.completion_tokens"} & set(tokens), tokens


def test_compliance_scores_each_model_call(recording: Recording) -> None:
    report = recording.compliance
    print(f"{FAMILY_NAME}: compliance {report['overall_percent']}% {json.dumps(report['by_type'])}")
    scored = report["by_type"].get("model_interaction", {}).get("spans", 0)
    assert scored >= len(QUESTIONS), f"{scored} model calls scored; report: {report}"
    if FAMILY.conventions:
        assert report["overall_percent"] >= 90, report


@pytest.mark.skipif(len(FAMILY.instrumentations) < 2, reason="one instrumentation of the client")
def test_two_instrumentations_of_one_client_are_named_in_a_warning(recording: Recording) -> None:
    stderr = recording.run.stderr
    assert DISABLE_VARIABLE in stderr, stderr
    for instrumentation in FAMILY.instrumentations:
        assert instrumentation.distribution in stderr or instrumentation.module in stderr, (
            instrumentation,
            stderr,
        )

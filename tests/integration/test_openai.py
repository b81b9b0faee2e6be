"""The real ``openai`` client, zero-code, traced by the official GenAI OpenAI instrumentation.

A local OpenAI-compatible server answers (plain and streamed). Prompts and answers carry PII:
what reaches the store and the conversation-log endpoint must be redacted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.endpoint import FaultyEndpoint
from tests.support.openai_server import MODEL_VERSION, OpenAiServer
from tests.support.proc import attrs, clean_env, run_app, spans, store_lines
from tests.support.waiting import wait_until

PROMPT = "Write to jane.doe@example.com about card 4111 1111 1111 1111"
REPLY = "Done: I wrote to jane.doe@example.com."
RAW = ("jane.doe@example.com", "4111 1111 1111 1111")
SCOPE = "opentelemetry.instrumentation.genai.openai"

APP = f"""
    from openai import OpenAI

    client = OpenAI()
    messages = [{{"role": "system", "content": "You are terse."}}, {{"role": "user", "content": {PROMPT!r}}}]
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=messages, temperature=0.2)
    print("reply:", reply.choices[0].message.content)
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, stream=True, stream_options={{"include_usage": True}}
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    print("streamed:", text)
"""


def _env(tmp: Path, server: OpenAiServer, **extra: str) -> dict[str, str]:
    return clean_env(
        tmp,
        OPENAI_API_KEY="sk-local-test",
        OPENAI_BASE_URL=server.base_url,
        OTEL_SERVICE_NAME="openai-app",
        **extra,
    )


def _chat_spans(store: Path) -> list[dict[str, Any]]:
    return [span for span in spans(store) if span["_scope"] == SCOPE]


def _store_text(store: Path) -> str:
    return "\n".join(
        line.decode() for signal in ("traces", "metrics", "logs") for line in store_lines(store, signal)
    )


def test_chat_calls_land_in_the_store_and_the_conversation_log_with_usage_and_redacted_messages(
    tmp_path: Path,
) -> None:
    store = tmp_path / "store"
    with OpenAiServer(REPLY) as server, FaultyEndpoint() as endpoint:
        env = _env(tmp_path, server, TELEMETRY_ENDPOINT=endpoint.url, TELEMETRY_FLUSH_INTERVAL_SECS="0.5")
        run = run_app(tmp_path, APP, zero_code=True, env=env, timeout=120)
        assert run.returncode == 0, run.stderr
        assert f"reply: {REPLY}" in run.stdout and f"streamed: {REPLY}" in run.stdout  # the app is unchanged
        assert wait_until(
            lambda: len([r for r in endpoint.records() if r.get("type") == "conversation_log"]) >= 2,
            timeout=10,
        )
        turns = [record for record in endpoint.records() if record.get("type") == "conversation_log"]
        bodies = json.dumps(endpoint.accepted)

    chats = _chat_spans(store)
    assert len(chats) == 2, [span["name"] for span in spans(store)]
    for span in chats:
        assert span["name"] == "chat gpt-4o-mini"
        values = attrs(span["attributes"])
        assert values["gen_ai.operation.name"] == "chat"
        assert values["gen_ai.provider.name"] == "openai"
        assert values["gen_ai.request.model"] == "gpt-4o-mini"
        assert values["gen_ai.response.model"] == MODEL_VERSION
        assert values["gen_ai.usage.input_tokens"] == 12
        assert values["gen_ai.usage.output_tokens"] == 5
        inputs = json.loads(values["gen_ai.input.messages"])
        assert inputs[-1]["role"] == "user"
        assert inputs[-1]["parts"][0]["content"] == "Write to <EMAIL> about card <CREDIT_CARD>"
        outputs = json.loads(values["gen_ai.output.messages"])
        assert outputs[0]["parts"][0]["content"] == "Done: I wrote to <EMAIL>."
    assert len(turns) == 2
    for turn in turns:
        assert turn["user_query"] == "Write to <EMAIL> about card <CREDIT_CARD>"
        assert turn["system_response"] == "Done: I wrote to <EMAIL>."
        assert turn["metadata"]["model"] == MODEL_VERSION
    everything = _store_text(store) + bodies
    for raw in RAW:
        assert raw not in everything, raw
    # the request the app sent still had the real prompt: redaction is on our copy only
    assert PROMPT in json.dumps(server.requests)


def test_without_a_consumer_of_messages_no_prompt_or_answer_is_recorded(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with OpenAiServer(REPLY) as server:
        run = run_app(tmp_path, APP, zero_code=True, env=_env(tmp_path, server), timeout=120)
    assert run.returncode == 0, run.stderr
    chats = _chat_spans(store)
    assert len(chats) == 2
    for span in chats:
        values = attrs(span["attributes"])
        assert values["gen_ai.usage.input_tokens"] == 12  # metadata and usage still recorded
        assert "gen_ai.input.messages" not in values and "gen_ai.output.messages" not in values
    assert "<EMAIL>" not in _store_text(store)


def test_the_users_own_content_setting_wins_over_the_distros(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with OpenAiServer(REPLY) as server, FaultyEndpoint() as endpoint:
        env = _env(
            tmp_path,
            server,
            TELEMETRY_ENDPOINT=endpoint.url,
            OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="NO_CONTENT",
        )
        run = run_app(tmp_path, APP, zero_code=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    chats = _chat_spans(store)
    assert len(chats) == 2
    assert all("gen_ai.input.messages" not in attrs(span["attributes"]) for span in chats)


def test_an_app_that_never_imports_openai_does_not_load_it_or_its_instrumentation(tmp_path: Path) -> None:
    source = """
        import sys
        watched = ("openai", "opentelemetry.instrumentation.genai.openai")
        print(sorted(name for name in watched if name in sys.modules))
        import openai
        from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor
        print(OpenAIInstrumentor().is_instrumented_by_opentelemetry)
    """
    run = run_app(tmp_path, source, zero_code=True, env=clean_env(tmp_path), timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["[]", "True"]  # nothing at start; instrumented once imported

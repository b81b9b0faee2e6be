"""A chat app run zero-code with ``HELICONE_API_KEY``: every turn reaches Helicone's logging
endpoint (a local recorder of its contract) in the OpenLLMetry form Helicone reads, redacted."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.helicone_endpoint import KEY, HeliconeRecorder
from tests.support.proc import clean_env, run_app

EMAIL, PHONE = "uma.reyes@example.com", "+14155550132"

APP = f"""
    from opentelemetry import trace
    from instrumentations import record_conversation_turn, track_run

    with track_run("support", "question", provider="openai", model="gpt-4o"):
        for n in range(3):
            question, answer = f"question {{n}} from {EMAIL}", "call {PHONE}"
            record_conversation_turn("s-{EMAIL}", question, answer, input_tokens=10 + n, output_tokens=4)
    with trace.get_tracer("app").start_as_current_span("GET /health"):
        pass
    print("app ok")
"""


@pytest.mark.parametrize("switch", ["key", "otel_traces_exporter"])
def test_every_turn_reaches_helicone_with_prompt_completion_model_usage_and_session_redacted(
    tmp_path: Path, switch: str
) -> None:
    with HeliconeRecorder() as recorder:
        env = clean_env(tmp_path, HELICONE_API_KEY=KEY, HELICONE_BASE_URL=recorder.host)
        if switch == "otel_traces_exporter":
            env["OTEL_TRACES_EXPORTER"] = "jsonl,helicone"
        run = run_app(tmp_path, APP, zero_code=True, env=env)
        assert run.returncode == 0, run.stderr
        spans = list(recorder.spans)
    turns = [span for span in spans if span["name"] == "chat gpt-4o"]
    assert len(turns) == 3 and all(span["name"] != "GET /health" for span in spans)  # GenAI calls only
    for n, span in enumerate(sorted(turns, key=lambda s: s["attributes"]["gen_ai.prompt.0.content"])):
        attributes = span["attributes"]
        assert attributes["gen_ai.prompt.0.content"] == f"question {n} from <EMAIL>"
        assert attributes["gen_ai.completion.0.content"] == "call <PHONE_NUMBER>"
        assert attributes["gen_ai.response.model"] == "gpt-4o" and attributes["llm.request.type"] == "chat"
        assert (attributes["gen_ai.usage.prompt_tokens"], attributes["gen_ai.usage.completion_tokens"]) == (
            10 + n,
            4,
        )
        session = attributes["traceloop.association.properties.Helicone-Session-Id"]
        assert session.startswith("hmac-sha256:")  # the session id held an email: its keyed hash
    blob = repr(spans)
    assert EMAIL not in blob and PHONE not in blob

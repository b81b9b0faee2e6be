"""The official Langfuse SDK in an app that the distro also sends to Langfuse: each span once.

Both read the same ``LANGFUSE_*`` variables. The SDK's span processor joins the global provider
(the distro's when the client is made after start-up, its own, then put behind the chain, when
made first); for the same project it stands down with one warning and the distro's exporter
sends every span, the SDK's observations included, redacted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.langfuse_endpoint import LangfuseRecorder
from tests.support.proc import clean_env, run_app

EMAIL = "uma.reyes@example.com"

APP = f"""
    import os
    from opentelemetry import trace

    def client():
        from langfuse import Langfuse
        return Langfuse(
            public_key=os.environ["LANGFUSE_PUBLIC_KEY"],
            secret_key=os.environ["LANGFUSE_SECRET_KEY"],
            base_url=os.environ["LANGFUSE_HOST"],
        )

    early = client() if os.environ.get("CLIENT_FIRST") else None
    import otel_distro
    otel_distro.configure(service_name="beside")
    langfuse = early or client()
    with langfuse.start_as_current_observation(as_type="generation", name="sdk-generation", model="gpt-4o"):
        pass
    with trace.get_tracer("app").start_as_current_span("chat gpt-4o") as span:
        span.set_attribute("gen_ai.operation.name", "chat")
        span.set_attribute("gen_ai.request.model", "gpt-4o")
        span.set_attribute("gen_ai.input.messages", '[{{"role": "user", "content": "mail {EMAIL}"}}]')
    langfuse.flush()
    otel_distro.shutdown()
    print("app ok")
"""


@pytest.mark.parametrize("first", [False, True], ids=["client-after-configure", "client-first"])
def test_with_the_langfuse_sdk_in_the_app_every_span_reaches_langfuse_once_and_redacted(
    tmp_path: Path, first: bool
) -> None:
    with LangfuseRecorder() as recorder:
        env = clean_env(
            tmp_path,
            LANGFUSE_PUBLIC_KEY="pk-lf-test",
            LANGFUSE_SECRET_KEY="sk-lf-test",
            LANGFUSE_HOST=recorder.host,
            LANGFUSE_MEDIA_UPLOAD_ENABLED="false",
            **({"CLIENT_FIRST": "1"} if first else {}),
        )
        run = run_app(tmp_path, APP, env=env, timeout=60)
        assert run.returncode == 0, run.stderr
        names = sorted(span["name"] for span in recorder.spans)
        blob = repr(recorder.spans)
    assert names == ["chat gpt-4o", "sdk-generation"]  # each once
    assert EMAIL not in blob and "<EMAIL>" in blob
    assert run.stderr.count("stands down") == 1

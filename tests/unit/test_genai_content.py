"""Message capture of the official GenAI instrumentations: set only where our exporters read it."""

from __future__ import annotations

from pathlib import Path

from otel_distro.genai_content import apply_capture_defaults
from otel_distro.settings import resolve

CAPTURE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
STABILITY = "OTEL_SEMCONV_STABILITY_OPT_IN"


def test_content_is_captured_on_spans_when_the_conversation_log_or_langfuse_is_on(tmp_path: Path) -> None:
    for env in (
        {"TELEMETRY_ENDPOINT": "http://127.0.0.1:9/logs"},
        {"LANGFUSE_PUBLIC_KEY": "pk", "LANGFUSE_SECRET_KEY": "sk"},
    ):
        environ: dict[str, str] = {}
        applied = apply_capture_defaults(
            resolve(env={"TELEMETRY_BASE_DIR": str(tmp_path), **env}).settings, environ
        )
        assert environ[CAPTURE] == "SPAN_ONLY" and environ[STABILITY] == "gen_ai_latest_experimental"
        assert environ["TRACELOOP_TRACE_CONTENT"] == "true"
        assert environ["OPENINFERENCE_HIDE_INPUT_MESSAGES"] == "false"
        assert applied == environ


def test_without_a_consumer_content_is_off_for_every_family(tmp_path: Path) -> None:
    environ: dict[str, str] = {}
    apply_capture_defaults(resolve(env={"TELEMETRY_BASE_DIR": str(tmp_path)}).settings, environ)
    assert CAPTURE not in environ  # the official instrumentations keep content off by default
    assert environ["TRACELOOP_TRACE_CONTENT"] == "false"  # OpenLLMetry's default is on
    assert {environ[name] for name in environ if name.startswith("OPENINFERENCE_HIDE_")} == {"true"}
    assert "OPENINFERENCE_HIDE_INPUTS" in environ and "OPENINFERENCE_HIDE_OUTPUT_MESSAGES" in environ


def test_nothing_is_set_when_recording_is_off(tmp_path: Path) -> None:
    environ: dict[str, str] = {}
    env = {
        "TELEMETRY_BASE_DIR": str(tmp_path),
        "TELEMETRY_ENDPOINT": "http://x/l",
        "TELEMETRY_ENABLED": "false",
    }
    assert apply_capture_defaults(resolve(env=env).settings, environ) == {}
    assert environ == {}


def test_values_the_user_set_are_kept(tmp_path: Path) -> None:
    settings = resolve(
        env={"TELEMETRY_BASE_DIR": str(tmp_path), "TELEMETRY_ENDPOINT": "http://127.0.0.1:9/x"}
    ).settings
    environ = {CAPTURE: "NO_CONTENT", STABILITY: "http", "TRACELOOP_TRACE_CONTENT": "false"}
    applied = apply_capture_defaults(settings, environ)
    assert CAPTURE not in applied and STABILITY not in applied and "TRACELOOP_TRACE_CONTENT" not in applied
    assert environ[CAPTURE] == "NO_CONTENT" and environ["TRACELOOP_TRACE_CONTENT"] == "false"

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
        assert environ == {CAPTURE: "SPAN_ONLY", STABILITY: "gen_ai_latest_experimental"}
        assert applied == environ


def test_no_content_is_asked_for_without_a_consumer_or_when_recording_is_off(tmp_path: Path) -> None:
    for env in ({}, {"TELEMETRY_ENDPOINT": "http://127.0.0.1:9/logs", "TELEMETRY_ENABLED": "false"}):
        environ: dict[str, str] = {}
        assert (
            apply_capture_defaults(
                resolve(env={"TELEMETRY_BASE_DIR": str(tmp_path), **env}).settings, environ
            )
            == {}
        )
        assert environ == {}


def test_values_the_user_set_are_kept(tmp_path: Path) -> None:
    settings = resolve(
        env={"TELEMETRY_BASE_DIR": str(tmp_path), "TELEMETRY_ENDPOINT": "http://127.0.0.1:9/x"}
    ).settings
    environ = {CAPTURE: "NO_CONTENT", STABILITY: "http"}
    assert apply_capture_defaults(settings, environ) == {}
    assert environ == {CAPTURE: "NO_CONTENT", STABILITY: "http"}

"""Prompt and answer capture of the official GenAI instrumentations: on where our exporters use it.

The OpenAI instrumentation (``opentelemetry-instrumentation-genai-openai``) records message
content only when ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` says so, and reads it
once, when it instruments. The conversation log and Langfuse exporters read the messages from
``gen_ai.input.messages`` / ``gen_ai.output.messages`` on the spans, so when either is on the
distro asks for ``SPAN_ONLY`` (redaction applies to those attributes like any other). Values
the user set are left alone; with neither exporter on, nothing is set and no content is kept.
"""

from __future__ import annotations

from collections.abc import MutableMapping

from otel_distro import environment_variables as ev
from otel_distro.settings import Settings

SPAN_ONLY = "SPAN_ONLY"
LATEST_EXPERIMENTAL = "gen_ai_latest_experimental"


def wants_content(settings: Settings) -> bool:
    """Whether an exporter of ours reads message content from spans."""
    langfuse = bool(settings.langfuse_public_key and settings.langfuse_secret_key)
    return settings.active and (bool(settings.endpoint) or langfuse)


def apply_capture_defaults(settings: Settings, environ: MutableMapping[str, str]) -> dict[str, str]:
    """Set the capture variables the settings call for, where unset; returns what was set."""
    if not wants_content(settings):
        return {}
    applied = {}
    for name, value in (
        (ev.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT, SPAN_ONLY),
        (ev.OTEL_SEMCONV_STABILITY_OPT_IN, LATEST_EXPERIMENTAL),
    ):
        if not environ.get(name, "").strip():
            environ[name] = value
            applied[name] = value
    return applied

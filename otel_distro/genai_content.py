"""One content policy for every GenAI instrumentation family: prompts and answers are recorded
only where something of ours reads them.

The conversation log, Langfuse, Helicone and Phoenix read message content from spans; with none on, nothing
of ours does, and content stays off. Each family has its own switch and its own default:

- the official OTel GenAI instrumentations (``opentelemetry-instrumentation-genai-*``): off by
  default; ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=SPAN_ONLY`` (with
  ``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``) puts messages on the spans;
- OpenLLMetry (Traceloop's ``opentelemetry-instrumentation-*``): on by default;
  ``TRACELOOP_TRACE_CONTENT``;
- OpenInference (Arize's ``openinference-instrumentation-*``): on by default;
  ``OPENINFERENCE_HIDE_INPUTS`` / ``_OUTPUTS`` / ``_INPUT_MESSAGES`` / … .

The distro sets each variable the user left unset, before instrumentors load (they read them
once). Content recorded is redacted like everything else; ``TELEMETRY_RECORD_INPUTS`` /
``_OUTPUTS`` drop it whatever these say.
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
    readers = (settings.endpoint, langfuse, settings.helicone_api_key, settings.phoenix_collector_endpoint)
    return settings.active and any(readers)


def capture_variables(settings: Settings) -> dict[str, str]:
    """The capture switch of each family, as these settings call for."""
    if not settings.active:
        return {}
    if wants_content(settings):
        shown = {name: "false" for name in ev.OPENINFERENCE_HIDE_VARIABLES}
        return {
            ev.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: SPAN_ONLY,
            ev.OTEL_SEMCONV_STABILITY_OPT_IN: LATEST_EXPERIMENTAL,
            ev.TRACELOOP_TRACE_CONTENT: "true",
            **shown,
        }
    hidden = {name: "true" for name in ev.OPENINFERENCE_HIDE_VARIABLES}
    return {ev.TRACELOOP_TRACE_CONTENT: "false", **hidden}  # the official ones are off by default


def apply_capture_defaults(settings: Settings, environ: MutableMapping[str, str]) -> dict[str, str]:
    """Set the capture variables the settings call for, where unset; returns what was set."""
    applied = {}
    for name, value in capture_variables(settings).items():
        if not environ.get(name, "").strip():
            environ[name] = value
            applied[name] = value
    return applied

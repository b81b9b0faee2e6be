"""The one settings model: every option with its sources, type, default and doc.

Resolution order: ``configure(**kwargs)`` > environment > ``telemetry.toml`` > defaults.
A bad value gives one warning naming the key and what is accepted, and the
default is used; ``strict=True`` raises :class:`SettingsError` instead.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import reprlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from otel_distro import app_dirs
from otel_distro import environment_variables as ev
from otel_distro.runtime.errors import caught
from otel_distro.runtime.urls import shown_url
from otel_distro.setting_values import (
    BOOL,
    FRACTION,
    INTERVAL,
    INTERVAL_OR_OFF,
    KEY_VALUES,
    NAMES,
    PATH,
    PATTERNS,
    PROTOCOL,
    TABLES,
    TEXT,
    TIMEOUT,
    URL,
    Parser,
    choice,
    int_between,
)

_logger = logging.getLogger("otel_distro")

# Helicone's gateways (proxies an app sends its LLM calls through)
HELICONE_GATEWAY_HOSTS = (
    "oai.helicone.ai",
    "anthropic.helicone.ai",
    "gateway.helicone.ai",
    "ai-gateway.helicone.ai",
    "eu.oai.helicone.ai",
)
# Identifiers that may hold PII: hashed whole (keyed) when they do, so users stay distinct.
ID_KEYS = (
    "user.id",
    "enduser.id",
    "enduser.pseudo.id",
    "session.id",
    "gen_ai.conversation.id",
    "langfuse.user.id",
    "langfuse.session.id",
    "user_id",
    "session_id",
    # a chat's or an agent's thread (LangGraph's configurable thread_id, a WhatsApp chat), a customer
    *("thread_id", "conversation_id", "chat_id", "customer_id", "account_id", "group_id"),
    "gen_ai.request.user",  # the end user an app names to the model provider (OpenAI's "user")
    "traceloop.association.properties.user_id",
    "traceloop.association.properties.session_id",
    "traceloop.association.properties.Helicone-User-Id",
    "traceloop.association.properties.Helicone-Session-Id",
)
CONFIG_FILE_NAME = "telemetry.toml"
MAX_CONFIG_BYTES = 1024 * 1024  # a larger file is ignored whole (one warning), never parsed
MAX_PROBLEMS = 20  # warnings listed one by one; the rest are counted in one more
IGNORED = "(ignored)"  # marks a problem that costs only itself (an unknown key): no file is refused for it
MAX_KEY_DEPTH = 64  # dots in one key or table header; our keys have two at most
# Where GenAI instrumentations put prompts and answers: the attributes of the current semantic
# conventions, the legacy indexed ones, and the ``content`` of the per-message events.
FREE_TEXT_KEYS = (
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.prompt*",
    "gen_ai.completion*",
    "content",
)


UPLOAD_SIGNALS = ("traces", "metrics", "logs")


def _upload_signals(raw: object) -> tuple[str, ...]:
    names = [name.lower() for name in NAMES.parse(raw)]
    if not names or any(name not in UPLOAD_SIGNALS for name in names):
        raise ValueError
    return tuple(signal for signal in UPLOAD_SIGNALS if signal in names)


SIGNAL_NAMES = Parser("a comma-separated subset of traces, metrics, logs", _upload_signals)


def _positive_number(raw: object) -> float:
    if isinstance(raw, bool):
        raise ValueError
    value = float(raw.strip()) if isinstance(raw, str) else raw
    if not isinstance(value, int | float) or not 0 < value < float("inf"):
        raise ValueError
    return float(value)


POSITIVE = Parser("a number greater than 0", _positive_number)


class SettingsError(ValueError):
    """Raised by strict resolution when an option or the config file is invalid."""


def _option(
    default: Any,
    parser: Parser,
    toml: str,
    doc: str,
    env: tuple[str, ...] = (),
    secret: bool = False,
    applies: str | None = None,
) -> Any:
    """One option, declared once. ``applies``: what a running pipeline rebuilds when it changes
    (a part of the switchboard: ``privacy``, ``sampler``, ``retention``, ``store``,
    ``conversation_log``, ``langfuse``, ``helicone``, ``phoenix``, ``upload``, or ``gate`` for
    recording itself); ``None``: the change waits for the next start."""
    return field(
        default=default,
        metadata={
            "parser": parser,
            "toml": toml,
            "doc": doc,
            "env": env,
            "secret": secret,
            "applies": applies,
        },
    )


@dataclass(frozen=True)
class Settings:
    """Every option of the distro, already validated."""

    enabled: bool = _option(True, BOOL, "enabled", "Master switch.", (ev.TELEMETRY_ENABLED,), applies="gate")
    reload_interval_secs: float = _option(
        2.0,
        INTERVAL_OR_OFF,
        "reload_interval_secs",
        "How often a running process checks this file for changes (0: no hot reload).",
        (ev.TELEMETRY_RELOAD_INTERVAL_SECS,),
        applies="gate",
    )
    sdk_disabled: bool = _option(
        False, BOOL, "otel.sdk_disabled", "Standard OTel kill switch.", (ev.OTEL_SDK_DISABLED,)
    )
    base_dir: Path | None = _option(
        None,
        PATH,
        "store.base_dir",
        "Local store root (unset: platform data dir).",
        (ev.TELEMETRY_BASE_DIR,),
    )
    retention_days: int = _option(
        30,
        int_between(1, 36500),
        "store.retention_days",
        "Purge local files older than this many days.",
        (ev.TELEMETRY_RETENTION_DAYS,),
        applies="retention",
    )
    traces_retention_days: int | None = _option(
        None,
        int_between(1, 36500),
        "store.traces_retention_days",
        "Retention of traces in days (unset: retention_days).",
        (ev.TELEMETRY_TRACES_RETENTION_DAYS,),
        applies="retention",
    )
    metrics_retention_days: int | None = _option(
        None,
        int_between(1, 36500),
        "store.metrics_retention_days",
        "Retention of metrics in days (unset: retention_days).",
        (ev.TELEMETRY_METRICS_RETENTION_DAYS,),
        applies="retention",
    )
    logs_retention_days: int | None = _option(
        None,
        int_between(1, 36500),
        "store.logs_retention_days",
        "Retention of logs in days (unset: retention_days).",
        (ev.TELEMETRY_LOGS_RETENTION_DAYS,),
        applies="retention",
    )
    store_enabled: bool = _option(
        True,
        BOOL,
        "store.enabled",
        "Write the local JSON Lines store.",
        (ev.TELEMETRY_STORE_ENABLED,),
        applies="gate",
    )
    store_encryption: bool = _option(
        False,
        BOOL,
        "store.encryption",
        "Seal each store line with AES-256-GCM (key: keychain, key file or TELEMETRY_STORE_KEY).",
        (ev.TELEMETRY_STORE_ENCRYPTION,),
    )
    store_key_file: Path | None = _option(
        None,
        PATH,
        "store.key_file",
        "File holding the store key, outside the store (unset: OS keychain, else the user config dir).",
        (ev.TELEMETRY_STORE_KEY_FILE,),
    )
    store_key: str | None = _option(
        None,
        TEXT,
        "store.key",
        "The store key itself, base64 of 32 bytes (overrides keychain and key file).",
        (ev.TELEMETRY_STORE_KEY,),
        secret=True,
    )
    min_free_disk_mb: int = _option(
        1024,
        int_between(0, 1 << 40),
        "store.min_free_disk_mb",
        "The store stops writing while free space on its file system is under this (0: never).",
        (ev.TELEMETRY_MIN_FREE_DISK_MB,),
    )
    max_store_mb: int | None = _option(
        None,
        int_between(1, 1 << 40),
        "store.max_store_mb",
        "Cap on the store's size in MB; oldest days purged first (unset: no cap).",
        (ev.TELEMETRY_MAX_STORE_MB,),
    )
    pii_redaction: bool = _option(
        True,
        BOOL,
        "privacy.pii_redaction",
        "Redact PII before any exporter.",
        (ev.TELEMETRY_PII_REDACTION,),
        applies="privacy",
    )
    hash_key: str | None = _option(
        None,
        TEXT,
        "privacy.hash_key",
        "Secret for project-ID hashing (unset: per-install key).",
        (ev.TELEMETRY_HASH_KEY,),
        secret=True,
        applies="privacy",
    )
    serve_token: str | None = _option(
        None,
        TEXT,
        "serve.token",
        "Token `otel-distro serve` requires on its pages and API (unset: one is generated and printed).",
        (ev.TELEMETRY_SERVE_TOKEN,),
        secret=True,
    )
    redaction_style: str = _option(
        "label",
        Parser("label, mask or hash", choice("label", "mask", "hash")),
        "privacy.redaction_style",
        "How redacted values read: <EMAIL>, ****, or a keyed hash.",
        (ev.TELEMETRY_REDACTION_STYLE,),
        applies="privacy",
    )
    redaction_entities: tuple[str, ...] = _option(
        (),
        NAMES,
        "privacy.redaction_entities",
        "Entity types to redact (empty: all). Checked against the known types.",
        (ev.TELEMETRY_REDACTION_ENTITIES,),
        applies="privacy",
    )
    redaction_allow_keys: tuple[str, ...] = _option(
        (),
        NAMES,
        "privacy.redaction_allow_keys",
        "Attribute keys never redacted, besides the trace and span id keys.",
        (ev.TELEMETRY_REDACTION_ALLOW_KEYS,),
        applies="privacy",
    )
    redaction_deny_keys: tuple[str, ...] = _option(
        (),
        NAMES,
        "privacy.redaction_deny_keys",
        "Attribute keys whose values are replaced whole, besides password, authorization, ...",
        (ev.TELEMETRY_REDACTION_DENY_KEYS,),
        applies="privacy",
    )
    redaction_allow_values: tuple[str, ...] = _option(
        (),
        NAMES,
        "privacy.redaction_allow_values",
        "Exact values never redacted (e.g. a support address).",
        (ev.TELEMETRY_REDACTION_ALLOW_VALUES,),
        applies="privacy",
    )
    redaction_patterns: tuple[tuple[str, str], ...] = _option(
        (),
        PATTERNS,
        "privacy.redaction_patterns",
        "Extra named patterns; a pattern that can backtrack catastrophically is refused.",
        (ev.TELEMETRY_REDACTION_PATTERNS,),
        applies="privacy",
    )
    redaction_presidio: bool = _option(
        False,
        BOOL,
        "privacy.presidio",
        "Also scan free-text values with presidio-analyzer (off the app thread).",
        (ev.TELEMETRY_REDACTION_PRESIDIO,),
        applies="privacy",
    )
    redaction_free_text_keys: tuple[str, ...] = _option(
        FREE_TEXT_KEYS,
        NAMES,
        "privacy.free_text_keys",
        "Attribute keys (globs) whose values presidio scans.",
        (ev.TELEMETRY_REDACTION_FREE_TEXT_KEYS,),
        applies="privacy",
    )
    redaction_score_threshold: float = _option(
        0.5,
        FRACTION,
        "privacy.score_threshold",
        "Lowest presidio score that counts as a finding.",
        (ev.TELEMETRY_REDACTION_SCORE_THRESHOLD,),
        applies="privacy",
    )
    redaction_ner_model: str | None = _option(
        None,
        TEXT,
        "privacy.ner_model",
        "Installed spaCy model for PERSON/LOCATION (implies presidio); unset: blank pipeline.",
        (ev.TELEMETRY_REDACTION_NER_MODEL,),
        applies="privacy",
    )
    project_keys: tuple[str, ...] = _option(
        ("project.id", "project_id", "project.name", "gen_ai.project.id"),
        NAMES,
        "privacy.project_keys",
        "Attribute keys whose values are hashed (HMAC-SHA256).",
        (ev.TELEMETRY_PROJECT_KEYS,),
        applies="privacy",
    )
    redaction_id_keys: tuple[str, ...] = _option(
        ID_KEYS,
        NAMES,
        "privacy.id_keys",
        "Identifier keys (user, session, conversation ids) hashed whole when they hold PII.",
        (ev.TELEMETRY_REDACTION_ID_KEYS,),
        applies="privacy",
    )
    record_inputs: bool = _option(
        True,
        BOOL,
        "privacy.record_inputs",
        "Keep GenAI input message content at all (false: dropped before any exporter).",
        (ev.TELEMETRY_RECORD_INPUTS,),
        applies="privacy",
    )
    record_outputs: bool = _option(
        True,
        BOOL,
        "privacy.record_outputs",
        "Keep GenAI output message content at all (false: dropped before any exporter).",
        (ev.TELEMETRY_RECORD_OUTPUTS,),
        applies="privacy",
    )
    endpoint: str | None = _option(
        None,
        URL,
        "conversation_log.endpoint",
        "Conversation-log endpoint (unset: exporter off).",
        (ev.TELEMETRY_ENDPOINT,),
        applies="conversation_log",
    )
    batch_size: int = _option(
        100,
        int_between(1, 100_000),
        "conversation_log.batch_size",
        "Records per conversation-log batch.",
        (ev.TELEMETRY_BATCH_SIZE,),
        applies="conversation_log",
    )
    flush_interval_secs: float = _option(
        60.0,
        INTERVAL,
        "conversation_log.flush_interval_secs",
        "Conversation-log flush interval.",
        (ev.TELEMETRY_FLUSH_INTERVAL_SECS,),
        applies="conversation_log",
    )
    cache_path: Path | None = _option(
        None,
        PATH,
        "conversation_log.cache_path",
        "Conversation-log directory: state, and spool when the store is off (unset: cache/ under the store).",
        (ev.TELEMETRY_CACHE_PATH,),
        applies="conversation_log",
    )
    max_cache_size_mb: int = _option(
        100,
        int_between(1, 1_000_000),
        "conversation_log.max_cache_size_mb",
        "Bound in MB on what waits for the conversation-log endpoint.",
        (ev.TELEMETRY_MAX_CACHE_SIZE_MB,),
        applies="conversation_log",
    )
    endpoint_headers: tuple[tuple[str, str], ...] = _option(
        (),
        KEY_VALUES,
        "conversation_log.headers",
        "Headers for the endpoint (e.g. authorization).",
        (ev.TELEMETRY_ENDPOINT_HEADERS,),
        secret=True,
        applies="conversation_log",
    )
    endpoint_timeout_secs: float = _option(
        10.0,
        TIMEOUT,
        "conversation_log.timeout_secs",
        "Timeout of one request to the endpoint.",
        (ev.TELEMETRY_ENDPOINT_TIMEOUT_SECS,),
        applies="conversation_log",
    )
    execution_traces: str = _option(
        "genai",
        Parser("genai, all or none", choice("genai", "all", "none")),
        "conversation_log.execution_traces",
        "Which spans become execution-trace records.",
        (ev.TELEMETRY_EXECUTION_TRACES,),
        applies="conversation_log",
    )
    upload_enabled: bool = _option(
        False,
        BOOL,
        "upload.enabled",
        "Continuously upload the store.",
        (ev.TELEMETRY_UPLOAD_ENABLED,),
        applies="gate",
    )
    upload_endpoint: str | None = _option(
        None,
        URL,
        "upload.endpoint",
        "OTLP/HTTP base URL to upload to.",
        (ev.TELEMETRY_UPLOAD_ENDPOINT,),
        applies="upload",
    )
    upload_headers: tuple[tuple[str, str], ...] = _option(
        (),
        KEY_VALUES,
        "upload.headers",
        "Headers sent with every upload request.",
        (ev.TELEMETRY_UPLOAD_HEADERS,),
        secret=True,
        applies="upload",
    )
    upload_interval_secs: float = _option(
        60.0,
        INTERVAL,
        "upload.interval_secs",
        "Seconds between passes of the continuous upload.",
        (ev.TELEMETRY_UPLOAD_INTERVAL_SECS,),
        applies="upload",
    )
    upload_signals: tuple[str, ...] = _option(
        UPLOAD_SIGNALS,
        SIGNAL_NAMES,
        "upload.signals",
        "Signals uploaded (an endpoint that does not take one, 404/405/501, is not sent it).",
        (ev.TELEMETRY_UPLOAD_SIGNALS,),
        applies="upload",
    )
    upload_dp_epsilon: float | None = _option(
        None,
        POSITIVE,
        "upload.dp_epsilon",
        "Upload metrics as differentially private aggregates, spending this epsilon per upload.",
        (ev.TELEMETRY_UPLOAD_DP_EPSILON,),
    )
    upload_dp_max_contribution: float = _option(
        1.0,
        POSITIVE,
        "upload.dp_max_contribution",
        "Declared bound on what one user changes in one release (L1 norm), the noise's sensitivity.",
        (ev.TELEMETRY_UPLOAD_DP_MAX_CONTRIBUTION,),
    )
    upload_dp_budget: float = _option(
        10.0,
        POSITIVE,
        "upload.dp_budget",
        "Total epsilon the private uploads may spend per store and endpoint over 30 days.",
        (ev.TELEMETRY_UPLOAD_DP_BUDGET,),
    )
    upload_dp_mechanism: str = _option(
        "laplace",
        Parser("laplace or gaussian", choice("laplace", "gaussian")),
        "upload.dp_mechanism",
        "Noise of the private uploads: laplace (pure epsilon-DP) or gaussian (delta 1e-6).",
        (ev.TELEMETRY_UPLOAD_DP_MECHANISM,),
    )
    langfuse_public_key: str | None = _option(
        None,
        TEXT,
        "langfuse.public_key",
        "Langfuse public key.",
        (ev.LANGFUSE_PUBLIC_KEY,),
        applies="langfuse",
    )
    langfuse_secret_key: str | None = _option(
        None,
        TEXT,
        "langfuse.secret_key",
        "Langfuse secret key.",
        (ev.LANGFUSE_SECRET_KEY,),
        secret=True,
        applies="langfuse",
    )
    langfuse_host: str = _option(
        "https://cloud.langfuse.com",
        URL,
        "langfuse.host",
        "Langfuse base URL.",
        (ev.LANGFUSE_HOST, ev.LANGFUSE_BASE_URL),
        applies="langfuse",
    )
    langfuse_sample_rate: float = _option(
        1.0,
        FRACTION,
        "langfuse.sample_rate",
        "Share of traces sent to Langfuse (whole traces, chosen by trace id).",
        (ev.TELEMETRY_LANGFUSE_SAMPLE_RATE,),
        applies="langfuse",
    )
    langfuse_spans: str = _option(
        "genai",
        Parser("genai or all", choice("genai", "all")),
        "langfuse.spans",
        "Spans sent: GenAI spans and their ancestors, or all.",
        (ev.TELEMETRY_LANGFUSE_SPANS,),
        applies="langfuse",
    )
    langfuse_timeout_secs: float = _option(
        10.0,
        TIMEOUT,
        "langfuse.timeout_secs",
        "Timeout of one request to Langfuse.",
        (ev.TELEMETRY_LANGFUSE_TIMEOUT_SECS,),
        applies="langfuse",
    )
    langfuse_headers: tuple[tuple[str, str], ...] = _option(
        (),
        KEY_VALUES,
        "langfuse.headers",
        "Extra headers for Langfuse requests.",
        (ev.TELEMETRY_LANGFUSE_HEADERS,),
        secret=True,
        applies="langfuse",
    )
    helicone_api_key: str | None = _option(
        None,
        TEXT,
        "helicone.api_key",
        "Helicone API key; the exporter is on when it is set.",
        (ev.HELICONE_API_KEY,),
        secret=True,
        applies="helicone",
    )
    helicone_base_url: str | None = _option(
        None,
        URL,
        "helicone.base_url",
        "Helicone base URL (unset: the key's region: api.helicone.ai or eu.api.helicone.ai).",
        (ev.HELICONE_BASE_URL,),
        applies="helicone",
    )
    helicone_spans: str = _option(
        "genai",
        Parser("genai or all", choice("genai", "all")),
        "helicone.spans",
        "Spans sent: GenAI model calls (any convention), or all.",
        (ev.TELEMETRY_HELICONE_SPANS,),
        applies="helicone",
    )
    helicone_timeout_secs: float = _option(
        10.0,
        TIMEOUT,
        "helicone.timeout_secs",
        "Timeout of one request to Helicone.",
        (ev.TELEMETRY_HELICONE_TIMEOUT_SECS,),
        applies="helicone",
    )
    helicone_request_headers: tuple[tuple[str, str], ...] = _option(
        (),
        KEY_VALUES,
        "helicone.request_headers",
        "Extra headers for Helicone requests.",
        (ev.TELEMETRY_HELICONE_REQUEST_HEADERS,),
        secret=True,
        applies="helicone",
    )
    helicone_gateway_headers: bool = _option(
        False,
        BOOL,
        "helicone.gateway_headers",
        "Requests to the Helicone gateway carry the run's session, user and agent as Helicone headers.",
        (ev.TELEMETRY_HELICONE_HEADERS,),
    )
    helicone_gateway_hosts: tuple[str, ...] = _option(
        HELICONE_GATEWAY_HOSTS,
        NAMES,
        "helicone.gateway_hosts",
        "Hosts of the Helicone gateway those headers go to (never to any other).",
        (ev.TELEMETRY_HELICONE_GATEWAY_HOSTS,),
    )
    helicone_properties: tuple[tuple[str, str], ...] = _option(
        (),
        KEY_VALUES,
        "helicone.properties",
        "Custom properties on every call sent to Helicone.",
        (ev.TELEMETRY_HELICONE_PROPERTIES,),
        applies="helicone",
    )
    phoenix_collector_endpoint: str | None = _option(
        None,
        URL,
        "phoenix.collector_endpoint",
        "Phoenix base URL (spans go to /v1/traces); the Phoenix exporter is on when it is set.",
        (ev.PHOENIX_COLLECTOR_ENDPOINT,),
        applies="phoenix",
    )
    phoenix_project_name: str | None = _option(
        None,
        TEXT,
        "phoenix.project_name",
        "Phoenix project (unset: the service name).",
        (ev.PHOENIX_PROJECT_NAME,),
        applies="phoenix",
    )
    phoenix_api_key: str | None = _option(
        None,
        TEXT,
        "phoenix.api_key",
        "Phoenix API key, sent as a bearer token (Phoenix Cloud, or a Phoenix with auth on).",
        (ev.PHOENIX_API_KEY,),
        secret=True,
        applies="phoenix",
    )
    phoenix_spans: str = _option(
        "all",
        Parser("genai or all", choice("genai", "all")),
        "phoenix.spans",
        "Spans sent to Phoenix: every span (the trees whole), or GenAI spans only.",
        (ev.TELEMETRY_PHOENIX_SPANS,),
        applies="phoenix",
    )
    phoenix_timeout_secs: float = _option(
        10.0,
        TIMEOUT,
        "phoenix.timeout_secs",
        "Timeout of one request to Phoenix.",
        (ev.TELEMETRY_PHOENIX_TIMEOUT_SECS,),
        applies="phoenix",
    )
    log_bridge: bool = _option(
        False,
        BOOL,
        "logs.bridge",
        "Bridge Python logging into the log pipeline.",
        (ev.TELEMETRY_LOG_BRIDGE, ev.OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED),
    )
    plugin_processors: tuple[str, ...] = _option(
        (),
        NAMES,
        "plugins.processors",
        "Plugin processors by entry-point name (group otel_distro.processors), after redaction.",
        (ev.TELEMETRY_PROCESSORS,),
        applies="privacy",
    )
    plugin_exporters: tuple[str, ...] = _option(
        (),
        NAMES,
        "plugins.exporters",
        "Plugin exporters by entry-point name (group otel_distro.exporters), behind the chain.",
        (ev.TELEMETRY_EXPORTERS,),
        applies="plugins",
    )
    plugin_settings: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = _option(
        (),
        TABLES,
        "plugins.<name>",
        "Each plugin's own options: a [plugins.<name>] table, passed to it as keyword arguments.",
        applies="plugins",
    )
    log_bridge_loggers: tuple[str, ...] = _option(
        (),
        NAMES,
        "logs.bridge_loggers",
        "Non-propagating loggers bridged too, beyond the servers' (uvicorn, gunicorn).",
        (ev.TELEMETRY_LOG_BRIDGE_LOGGERS,),
    )
    service_name: str | None = _option(
        None, TEXT, "otel.service_name", "service.name of the resource.", (ev.OTEL_SERVICE_NAME,)
    )
    resource_attributes: tuple[tuple[str, str], ...] = _option(
        (),
        KEY_VALUES,
        "otel.resource_attributes",
        "Extra resource attributes.",
        (ev.OTEL_RESOURCE_ATTRIBUTES,),
    )
    traces_sampler: str | None = _option(
        None,
        TEXT,
        "otel.traces_sampler",
        "Sampler name (OTel names).",
        (ev.OTEL_TRACES_SAMPLER,),
        applies="sampler",
    )
    traces_sampler_arg: str | None = _option(
        None,
        TEXT,
        "otel.traces_sampler_arg",
        "Sampler argument.",
        (ev.OTEL_TRACES_SAMPLER_ARG,),
        applies="sampler",
    )
    traces_exporter: tuple[str, ...] = _option(
        (),
        NAMES,
        "otel.traces_exporter",
        "Extra span exporters, behind the chain.",
        (ev.OTEL_TRACES_EXPORTER,),
    )
    metrics_exporter: tuple[str, ...] = _option(
        (), NAMES, "otel.metrics_exporter", "Extra metric exporters.", (ev.OTEL_METRICS_EXPORTER,)
    )
    logs_exporter: tuple[str, ...] = _option(
        (), NAMES, "otel.logs_exporter", "Extra log exporters.", (ev.OTEL_LOGS_EXPORTER,)
    )
    otlp_protocol: str | None = _option(
        None,
        PROTOCOL,
        "otel.otlp_protocol",
        "Transport of the 'otlp' exporters (unset: grpc).",
        (ev.OTEL_EXPORTER_OTLP_PROTOCOL,),
    )
    otlp_traces_protocol: str | None = _option(
        None,
        PROTOCOL,
        "otel.otlp_traces_protocol",
        "Per-signal override.",
        (ev.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,),
    )
    otlp_metrics_protocol: str | None = _option(
        None,
        PROTOCOL,
        "otel.otlp_metrics_protocol",
        "Per-signal override.",
        (ev.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL,),
    )
    otlp_logs_protocol: str | None = _option(
        None,
        PROTOCOL,
        "otel.otlp_logs_protocol",
        "Per-signal override.",
        (ev.OTEL_EXPORTER_OTLP_LOGS_PROTOCOL,),
    )
    metric_export_interval_ms: int = _option(
        60_000,
        int_between(100, 86_400_000),
        "otel.metric_export_interval_ms",
        "Metric export interval.",
        (ev.OTEL_METRIC_EXPORT_INTERVAL,),
    )
    internal_metrics: bool = _option(
        False,
        BOOL,
        "otel.internal_metrics",
        "Report the distro's own queue sizes and drops as metrics, as the SDK does for its processors.",
        (ev.OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED,),
    )

    @property
    def active(self) -> bool:
        """Whether anything at all is to be recorded."""
        return self.enabled and not self.sdk_disabled

    @property
    def retention(self) -> dict[str, int]:
        """Days each signal's store files are kept: the per-signal override, else retention_days."""
        return {
            signal: override if override is not None else self.retention_days
            for signal, override in (
                ("traces", self.traces_retention_days),
                ("metrics", self.metrics_retention_days),
                ("logs", self.logs_retention_days),
            )
        }

    @property
    def store_dir(self) -> Path:
        """The local store root, defaulting to the platform data dir."""
        if self.base_dir is not None:
            return self.base_dir
        return app_dirs.data_dir()

    @property
    def conversation_log_dir(self) -> Path:
        """Where the conversation log keeps its state (and its spool): TELEMETRY_CACHE_PATH,
        else under the store."""
        return self.cache_path or self.store_dir / "cache" / "conversation_log"


OPTIONS: tuple[dataclasses.Field[Any], ...] = dataclasses.fields(Settings)


def applied_by(part: str) -> tuple[str, ...]:
    """The names of the options a part of a running pipeline is built from (``applies``)."""
    return tuple(option.name for option in OPTIONS if option.metadata["applies"] == part)


# Every option a running pipeline applies; a change to any other waits for the next start.
RELOADABLE = frozenset(option.name for option in OPTIONS if option.metadata["applies"] is not None)
_BY_NAME = {option.name: option for option in OPTIONS}
PLUGIN_TABLES = "plugins."  # [plugins.<name>]: a plugin's own options
_BY_TOML = {option.metadata["toml"]: option for option in OPTIONS}


@dataclass
class Resolution:
    """Resolved settings with where each value came from and what was wrong."""

    settings: Settings
    sources: dict[str, str]
    problems: list[str]
    config_file: Path | None


def config_file_path(env: Mapping[str, str]) -> Path | None:
    """The telemetry.toml in effect: TELEMETRY_CONFIG, else ./telemetry.toml, else the user config dir."""
    named = env.get(ev.TELEMETRY_CONFIG, "").strip()
    if named:
        return Path(named).expanduser()
    for candidate in (Path(CONFIG_FILE_NAME), app_dirs.config_dir() / CONFIG_FILE_NAME):
        try:
            if candidate.is_file():
                return candidate
        except OSError:  # e.g. a name too long, or a directory we may not read: no file there for us
            continue
    return None


def _flatten(table: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted keys to values, without recursion (a table may nest as deep as the file likes)."""
    flat: dict[str, Any] = {}
    stack: list[tuple[str, Mapping[str, Any]]] = [("", table)]
    while stack:
        prefix, current = stack.pop()
        for key, value in current.items():
            dotted = f"{prefix}{key}"
            if isinstance(value, dict) and dotted not in _BY_TOML:
                stack.append((dotted + ".", value))
            else:
                flat[dotted] = value
    return flat


def _parse_config_file(path: Path) -> dict[str, Any]:
    """The file's table; raises ``ValueError`` saying why it cannot be used (``FileNotFoundError``
    when there is none)."""
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        data = handle.read(MAX_CONFIG_BYTES + 1)
    if max(size, len(data)) > MAX_CONFIG_BYTES:
        raise ValueError(f"it is {max(size, len(data)):,} bytes; at most {MAX_CONFIG_BYTES:,} are read")
    try:
        text = data.decode()
        if _too_deep(text):  # tomllib takes time quadratic in a key's depth: 100,000 levels, 15 s
            raise RecursionError
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"not valid TOML: {exc}") from exc
    except RecursionError as exc:
        raise ValueError("not usable TOML: nested too deeply") from exc


def _too_deep(text: str) -> bool:
    """Whether a table header or a key is dotted more than :data:`MAX_KEY_DEPTH` times (a cheap
    look at each line: values, after the ``=``, are not counted)."""
    for raw_line in text.splitlines():
        line = raw_line.lstrip()
        key = line.split("]", 1)[0] if line.startswith("[") else line.split("=", 1)[0]
        if key.count(".") > MAX_KEY_DEPTH:
            return True
    return False


def _read_config_file(path: Path, problems: list[str]) -> dict[str, Any]:
    try:
        table = _parse_config_file(path)
    except FileNotFoundError:
        problems.append(f"config file {path} (TELEMETRY_CONFIG) does not exist; using no file")
        return {}
    except (OSError, ValueError, MemoryError) as exc:
        problems.append(f"config file {path} is ignored ({exc}); using the defaults for every key it sets")
        return {}
    values: dict[str, Any] = {}
    unknown: list[str] = []
    plugins: dict[str, dict[str, Any]] = {}
    for key, value in _flatten(table).items():
        option = _BY_TOML.get(key)
        if option is not None:
            values[option.name] = value
        elif key.startswith(PLUGIN_TABLES) and key.count(".") >= 2:  # [plugins.<name>] key = value
            _, name, option_key = key.split(".", 2)
            plugins.setdefault(name, {})[option_key] = value
        else:
            unknown.append(key)
    if plugins:
        values["plugin_settings"] = plugins
    if unknown:
        shown = ", ".join(f"'{key[:100]}'" for key in unknown[:MAX_PROBLEMS])
        more = f" and {len(unknown) - MAX_PROBLEMS} more" if len(unknown) > MAX_PROBLEMS else ""
        problems.append(
            f"unknown key{'s' if len(unknown) > 1 else ''} {shown}{more} in {path} {IGNORED}; "
            f"known keys: {', '.join(sorted(_BY_TOML))}"
        )
    return values


def _shown(raw: object) -> str:
    """A bad value as a warning shows it: short, whatever its size or depth."""
    return repr(raw[:80]) if isinstance(raw, str) else reprlib.repr(raw)[:80]


def _env_value(option: dataclasses.Field[Any], env: Mapping[str, str]) -> tuple[str, str] | None:
    for name in option.metadata["env"]:
        raw = env.get(name)
        if raw is not None and raw.strip():
            return name, raw
    return None


def resolve(
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Resolution:
    """Resolve every option from overrides, environment, config file and defaults."""
    env = os.environ if env is None else env
    overrides = dict(overrides or {})
    problems: list[str] = []
    for unknown in sorted(set(overrides) - set(_BY_NAME)):
        problems.append(f"unknown setting '{unknown}' passed to configure(); known: {', '.join(_BY_NAME)}")
        overrides.pop(unknown)
    path = config_file_path(env)
    from_file = _read_config_file(path, problems) if path else {}

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for option in OPTIONS:
        parser: Parser = option.metadata["parser"]
        candidates: list[tuple[str, object]] = []
        if option.name in overrides:
            candidates.append((f"configure({option.name}=...)", overrides[option.name]))
        env_hit = _env_value(option, env)
        if env_hit:
            candidates.append((env_hit[0], env_hit[1]))
        if option.name in from_file:
            candidates.append((f"{path}: {option.metadata['toml']}", from_file[option.name]))
        for source, raw in candidates:
            try:
                values[option.name] = parser.parse(raw)
            except Exception as exc:  # noqa: BLE001 - any value a parser cannot take (too deep, odd) is bad
                caught("reading a setting", exc)
                shown = "***" if option.metadata["secret"] else _shown(raw)
                problems.append(
                    f"{source} = {shown} is not valid; accepted: {parser.accepted}; "
                    f"using the default {option.default!r}"
                )
                break
            sources[option.name] = source
            break
        sources.setdefault(option.name, "default")
    settings = Settings(**values)
    if settings.enabled:
        settings = _honour_forget(settings, sources)
    if len(problems) > MAX_PROBLEMS:
        more = len(problems) - MAX_PROBLEMS
        problems[MAX_PROBLEMS:] = [f"and {more} more problem(s) not listed; fix the ones above first"]
    return Resolution(settings, sources, problems, path)


def _honour_forget(settings: Settings, sources: dict[str, str]) -> Settings:
    """Recording stays off for a store ``otel-distro forget`` was run on, whatever else says."""
    from otel_distro import forget

    try:
        store_dir = settings.store_dir
        since = forget.disabled_at(store_dir)
    except Exception as exc:  # noqa: BLE001 - no platform data dir: no marker either
        caught("reading the forget marker", exc)  # a bug of ours: raised under the test suite
        return settings
    if since is None:
        return settings
    sources["enabled"] = f"{forget.marker_path(store_dir)} ({forget.SOURCE} at {since})"
    return dataclasses.replace(settings, enabled=False)


def forgotten(resolution: Resolution) -> bool:
    """Whether recording is off because ``otel-distro forget`` was run on the store."""
    from otel_distro import forget

    return forget.SOURCE in resolution.sources.get("enabled", "")


def load_resolution(
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    strict: bool = False,
) -> Resolution:
    """Resolve settings; warn once per problem, or raise :class:`SettingsError` when strict."""
    resolution = resolve(overrides, env)
    if resolution.problems and strict:
        raise SettingsError("; ".join(resolution.problems))
    for problem in resolution.problems:
        _logger.warning("otel-distro: %s", problem)
    return resolution


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    strict: bool = False,
) -> Settings:
    """Resolve settings; warn once per problem, or raise :class:`SettingsError` when strict."""
    return load_resolution(overrides, env, strict).settings


def _stat(path: Path | None) -> tuple[int, int, int] | None:
    if path is None:
        return None
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size, info.st_ino


def watched_state(settings: Settings, env: Mapping[str, str] | None = None) -> tuple[object, ...]:
    """What a change of settings shows in: the config file in effect and the forget marker."""
    from otel_distro import forget

    env = os.environ if env is None else env
    path = config_file_path(env)
    try:
        marker: Path | None = forget.marker_path(settings.store_dir)
    except Exception as exc:  # noqa: BLE001 - no platform data dir: no marker to watch
        caught("finding the forget marker", exc)  # a bug of ours: raised under the test suite
        marker = None
    return path, _stat(path), _stat(marker)


def describe(resolution: Resolution) -> list[dict[str, Any]]:
    """One row per option for display: name, value (secrets masked), source, env names, doc."""
    rows = []
    for option in OPTIONS:
        value = getattr(resolution.settings, option.name)
        if option.metadata["secret"] and value:
            value = "***"
        elif isinstance(value, str) and "://" in value:  # an endpoint: its credentials masked
            value = shown_url(value)
        elif isinstance(value, Path):
            value = str(value)
        elif option.name == "resource_attributes":
            value = dict(value)
        elif isinstance(value, tuple):
            value = list(value)
        rows.append(
            {
                "name": option.name,
                "value": value,
                "source": resolution.sources[option.name],
                "toml": option.metadata["toml"],
                "env": list(option.metadata["env"]),
                "doc": option.metadata["doc"],
            }
        )
    return rows

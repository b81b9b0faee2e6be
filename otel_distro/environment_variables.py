"""Every environment variable otel-distro reads, one documented constant each.

The standard ``OTEL_*`` variables keep their OpenTelemetry meaning; they are
listed here only where the distro itself acts on them. Types and defaults live
beside each option in :mod:`otel_distro.settings`.
"""

TELEMETRY_CONFIG = "TELEMETRY_CONFIG"
"""Path of the ``telemetry.toml`` file (else ``./telemetry.toml``, else the user config dir)."""

TELEMETRY_ENABLED = "TELEMETRY_ENABLED"
"""Master switch: ``false`` records and sends nothing. Default ``true``."""

TELEMETRY_RELOAD_INTERVAL_SECS = "TELEMETRY_RELOAD_INTERVAL_SECS"
"""How often a running process checks ``telemetry.toml`` (and ``otel-distro forget``) for
changes; ``0`` turns hot reload off. Default ``2``."""

TELEMETRY_BASE_DIR = "TELEMETRY_BASE_DIR"
"""Root of the local OTLP JSON Lines store. Default: the platform data dir."""

TELEMETRY_SERVE_TOKEN = "TELEMETRY_SERVE_TOKEN"
"""Token ``otel-distro serve`` requires (Bearer header, or ``?token=`` once). Default: generated."""

TELEMETRY_RETENTION_DAYS = "TELEMETRY_RETENTION_DAYS"
"""Local store files older than this many days are purged. Default ``30``."""

TELEMETRY_TRACES_RETENTION_DAYS = "TELEMETRY_TRACES_RETENTION_DAYS"
"""Retention of the store's traces in days, overriding ``TELEMETRY_RETENTION_DAYS``."""

TELEMETRY_METRICS_RETENTION_DAYS = "TELEMETRY_METRICS_RETENTION_DAYS"
"""Retention of the store's metrics in days, overriding ``TELEMETRY_RETENTION_DAYS``."""

TELEMETRY_LOGS_RETENTION_DAYS = "TELEMETRY_LOGS_RETENTION_DAYS"
"""Retention of the store's logs in days, overriding ``TELEMETRY_RETENTION_DAYS``."""

TELEMETRY_STORE_ENABLED = "TELEMETRY_STORE_ENABLED"
"""Write the local JSON Lines store. Default ``true``."""

TELEMETRY_STORE_ENCRYPTION = "TELEMETRY_STORE_ENCRYPTION"
"""Seal every store line with AES-256-GCM. Default ``false``."""

TELEMETRY_STORE_KEY_FILE = "TELEMETRY_STORE_KEY_FILE"
"""File holding the store key (0600, outside the store). Default: the OS keychain where one
exists, else a file in the user config dir."""

TELEMETRY_STORE_KEY = "TELEMETRY_STORE_KEY"
"""The store key itself: base64 of 32 bytes (overrides the keychain and the key file)."""

TELEMETRY_MIN_FREE_DISK_MB = "TELEMETRY_MIN_FREE_DISK_MB"
"""The store stops writing while its file system has less free space than this. Default ``1024``."""

TELEMETRY_MAX_STORE_MB = "TELEMETRY_MAX_STORE_MB"
"""Cap on the store's size; the oldest days are purged first. Default: unset (no cap)."""

TELEMETRY_PII_REDACTION = "TELEMETRY_PII_REDACTION"
"""Redact PII before any exporter. Default ``true``."""

TELEMETRY_HASH_KEY = "TELEMETRY_HASH_KEY"
"""Secret for project-ID hashing (HMAC-SHA256). Unset: a per-install key in the store."""

TELEMETRY_REDACTION_STYLE = "TELEMETRY_REDACTION_STYLE"
"""How redacted values read: ``label`` (``<EMAIL>``), ``mask`` or ``hash``. Default ``label``."""

TELEMETRY_REDACTION_ENTITIES = "TELEMETRY_REDACTION_ENTITIES"
"""Comma-separated entity types to redact (e.g. ``EMAIL,CREDIT_CARD``). Default: all."""

TELEMETRY_REDACTION_ALLOW_KEYS = "TELEMETRY_REDACTION_ALLOW_KEYS"
"""Comma-separated attribute keys never redacted, besides the trace/span id keys."""

TELEMETRY_REDACTION_DENY_KEYS = "TELEMETRY_REDACTION_DENY_KEYS"
"""Comma-separated attribute keys whose values are replaced whole, besides the built-in ones."""

TELEMETRY_REDACTION_ALLOW_VALUES = "TELEMETRY_REDACTION_ALLOW_VALUES"
"""Comma-separated exact values never redacted."""

TELEMETRY_REDACTION_PATTERNS = "TELEMETRY_REDACTION_PATTERNS"
"""Extra named patterns, a JSON object {"NAME": "regex"}; each is checked for catastrophic backtracking."""

TELEMETRY_REDACTION_PRESIDIO = "TELEMETRY_REDACTION_PRESIDIO"
"""Also run presidio-analyzer on free-text values, off the app thread. Default false."""

TELEMETRY_REDACTION_FREE_TEXT_KEYS = "TELEMETRY_REDACTION_FREE_TEXT_KEYS"
"""Comma-separated attribute keys (globs) whose values presidio scans. Default the GenAI message keys."""

TELEMETRY_REDACTION_SCORE_THRESHOLD = "TELEMETRY_REDACTION_SCORE_THRESHOLD"
"""Lowest presidio score (0 to 1) that counts as a finding. Default 0.5."""

TELEMETRY_REDACTION_NER_MODEL = "TELEMETRY_REDACTION_NER_MODEL"
"""An installed spaCy model (e.g. en_core_web_sm) for PERSON/LOCATION; unset: a blank pipeline, no NER."""

TELEMETRY_PROJECT_KEYS = "TELEMETRY_PROJECT_KEYS"
"""Comma-separated attribute keys whose values are hashed. Default the project id/name keys."""

TELEMETRY_REDACTION_ID_KEYS = "TELEMETRY_REDACTION_ID_KEYS"
"""Comma-separated identifier keys (user, session, conversation ids) hashed whole when they hold PII."""

TELEMETRY_RECORD_INPUTS = "TELEMETRY_RECORD_INPUTS"
"""Keep GenAI input message content (prompts, system instructions, tool arguments). Default ``true``."""

TELEMETRY_RECORD_OUTPUTS = "TELEMETRY_RECORD_OUTPUTS"
"""Keep GenAI output message content (answers, tool results). Default ``true``."""

TELEMETRY_ENDPOINT = "TELEMETRY_ENDPOINT"
"""Conversation-log (federated learning) endpoint. Unset: that exporter is off."""

TELEMETRY_BATCH_SIZE = "TELEMETRY_BATCH_SIZE"
"""Conversation-log records per batch. Default ``100``."""

TELEMETRY_FLUSH_INTERVAL_SECS = "TELEMETRY_FLUSH_INTERVAL_SECS"
"""Conversation-log flush interval in seconds. Default ``60``."""

TELEMETRY_CACHE_PATH = "TELEMETRY_CACHE_PATH"
"""Conversation-log directory (state; spool when the store is off). Default: ``cache/`` under the store."""

TELEMETRY_MAX_CACHE_SIZE_MB = "TELEMETRY_MAX_CACHE_SIZE_MB"
"""Upper bound in MB on what waits for the conversation-log endpoint. Default ``100``."""

TELEMETRY_ENDPOINT_HEADERS = "TELEMETRY_ENDPOINT_HEADERS"
"""Headers sent to the conversation-log endpoint (auth), as comma-separated key=value pairs."""

TELEMETRY_ENDPOINT_TIMEOUT_SECS = "TELEMETRY_ENDPOINT_TIMEOUT_SECS"
"""Timeout of one request to the conversation-log endpoint, in seconds. Default ``10``."""

TELEMETRY_EXECUTION_TRACES = "TELEMETRY_EXECUTION_TRACES"
"""Which spans become execution-trace records: ``genai`` (default), ``all`` or ``none``."""

TELEMETRY_UPLOAD_ENABLED = "TELEMETRY_UPLOAD_ENABLED"
"""Continuously upload the local store. Default ``false``."""

TELEMETRY_UPLOAD_ENDPOINT = "TELEMETRY_UPLOAD_ENDPOINT"
"""OTLP/HTTP base URL the store is uploaded to (``/v1/traces``, ``/v1/metrics``, ``/v1/logs`` appended)."""

TELEMETRY_UPLOAD_HEADERS = "TELEMETRY_UPLOAD_HEADERS"
"""Headers sent with every upload request, ``k=v,k2=v2`` (e.g. authorization)."""

TELEMETRY_UPLOAD_INTERVAL_SECS = "TELEMETRY_UPLOAD_INTERVAL_SECS"
"""Seconds between passes of the continuous upload. Default ``60``."""

TELEMETRY_UPLOAD_SIGNALS = "TELEMETRY_UPLOAD_SIGNALS"
"""Signals the upload sends, a comma-separated subset of ``traces,metrics,logs`` (default all)."""

TELEMETRY_UPLOAD_DP_EPSILON = "TELEMETRY_UPLOAD_DP_EPSILON"
"""Upload metrics as differentially private aggregates, this epsilon per upload. Default unset (raw)."""

TELEMETRY_UPLOAD_DP_MAX_CONTRIBUTION = "TELEMETRY_UPLOAD_DP_MAX_CONTRIBUTION"
"""Declared L1 bound on one user's contribution to one private release. Default ``1``."""

TELEMETRY_UPLOAD_DP_BUDGET = "TELEMETRY_UPLOAD_DP_BUDGET"
"""Total epsilon private uploads may spend per store and endpoint over 30 days. Default ``10``."""

TELEMETRY_UPLOAD_DP_MECHANISM = "TELEMETRY_UPLOAD_DP_MECHANISM"
"""Noise of the private uploads: ``laplace`` (default) or ``gaussian``."""

TELEMETRY_LOG_BRIDGE = "TELEMETRY_LOG_BRIDGE"
"""Bridge Python ``logging`` records into the log pipeline. Default ``false``."""

TELEMETRY_LOG_BRIDGE_LOGGERS = "TELEMETRY_LOG_BRIDGE_LOGGERS"
"""Comma-separated loggers that do not propagate to the root logger, bridged too (besides
uvicorn's and gunicorn's, always bridged). Default none."""

LANGFUSE_PUBLIC_KEY = "LANGFUSE_PUBLIC_KEY"
"""Langfuse public key; the Langfuse exporter is on when both keys are set."""

LANGFUSE_SECRET_KEY = "LANGFUSE_SECRET_KEY"
"""Langfuse secret key."""

LANGFUSE_HOST = "LANGFUSE_HOST"
"""Langfuse base URL (``LANGFUSE_BASE_URL`` is accepted too). Default the EU cloud."""

LANGFUSE_BASE_URL = "LANGFUSE_BASE_URL"
"""Alias of :data:`LANGFUSE_HOST`."""

TELEMETRY_LANGFUSE_SAMPLE_RATE = "TELEMETRY_LANGFUSE_SAMPLE_RATE"
"""Share (0 to 1) of traces sent to Langfuse, whole traces chosen by trace id. Default ``1``."""

TELEMETRY_LANGFUSE_SPANS = "TELEMETRY_LANGFUSE_SPANS"
"""Spans sent to Langfuse: ``genai`` (GenAI spans and their ancestors, the default) or ``all``."""

TELEMETRY_LANGFUSE_TIMEOUT_SECS = "TELEMETRY_LANGFUSE_TIMEOUT_SECS"
"""Timeout of one request to Langfuse in seconds. Default ``10``."""

TELEMETRY_LANGFUSE_HEADERS = "TELEMETRY_LANGFUSE_HEADERS"
"""Extra headers for Langfuse requests, ``key=value`` pairs separated by commas."""

HELICONE_API_KEY = "HELICONE_API_KEY"
"""Helicone API key: the Helicone exporter is on when it is set (``sk-helicone-eu-`` keys: the EU host)."""

HELICONE_BASE_URL = "HELICONE_BASE_URL"
"""Helicone base URL, overriding the host the key's region gives."""

TELEMETRY_HELICONE_SPANS = "TELEMETRY_HELICONE_SPANS"
"""Spans sent to Helicone: ``genai`` (model calls, in any convention; default) or ``all``."""

TELEMETRY_HELICONE_TIMEOUT_SECS = "TELEMETRY_HELICONE_TIMEOUT_SECS"
"""Timeout of one request to Helicone in seconds. Default ``10``."""

TELEMETRY_HELICONE_REQUEST_HEADERS = "TELEMETRY_HELICONE_REQUEST_HEADERS"
"""Extra headers for Helicone requests (``k=v,k2=v2``)."""

TELEMETRY_HELICONE_HEADERS = "TELEMETRY_HELICONE_HEADERS"
"""``true``: requests to the Helicone gateway carry the current run's ``Helicone-Session-Id``,
``Helicone-User-Id`` and ``Helicone-Property-Agent`` (via the httpx and requests
instrumentations' hooks; never to another host). Default ``false``."""

TELEMETRY_HELICONE_GATEWAY_HOSTS = "TELEMETRY_HELICONE_GATEWAY_HOSTS"
"""Comma-separated hosts of the Helicone gateway those headers go to. Default Helicone's proxies."""

TELEMETRY_HELICONE_PROPERTIES = "TELEMETRY_HELICONE_PROPERTIES"
"""Custom properties on every call sent to Helicone (``k=v,k2=v2``): ``Helicone-Property-<k>``."""

PHOENIX_COLLECTOR_ENDPOINT = "PHOENIX_COLLECTOR_ENDPOINT"
"""Phoenix base URL (as ``arize-phoenix-otel`` reads it): the Phoenix exporter is on when it is set."""

PHOENIX_PROJECT_NAME = "PHOENIX_PROJECT_NAME"
"""Phoenix project the spans land in (``openinference.project.name``). Default the service name."""

PHOENIX_API_KEY = "PHOENIX_API_KEY"
"""Phoenix API key, sent as ``Authorization: Bearer <key>`` (Phoenix Cloud)."""

TELEMETRY_PHOENIX_SPANS = "TELEMETRY_PHOENIX_SPANS"
"""Spans sent to Phoenix: ``all`` (default: whole trees) or ``genai``."""

TELEMETRY_PHOENIX_TIMEOUT_SECS = "TELEMETRY_PHOENIX_TIMEOUT_SECS"
"""Timeout of one request to Phoenix in seconds. Default ``10``."""

# Standard OpenTelemetry variables the distro acts on.
OTEL_SDK_DISABLED = "OTEL_SDK_DISABLED"
OTEL_SERVICE_NAME = "OTEL_SERVICE_NAME"
OTEL_RESOURCE_ATTRIBUTES = "OTEL_RESOURCE_ATTRIBUTES"
OTEL_TRACES_SAMPLER = "OTEL_TRACES_SAMPLER"
OTEL_TRACES_SAMPLER_ARG = "OTEL_TRACES_SAMPLER_ARG"
OTEL_TRACES_EXPORTER = "OTEL_TRACES_EXPORTER"
OTEL_METRICS_EXPORTER = "OTEL_METRICS_EXPORTER"
OTEL_LOGS_EXPORTER = "OTEL_LOGS_EXPORTER"
OTEL_METRIC_EXPORT_INTERVAL = "OTEL_METRIC_EXPORT_INTERVAL"
OTEL_EXPORTER_OTLP_PROTOCOL = "OTEL_EXPORTER_OTLP_PROTOCOL"
OTEL_EXPORTER_OTLP_TRACES_PROTOCOL = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
OTEL_EXPORTER_OTLP_METRICS_PROTOCOL = "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"
OTEL_EXPORTER_OTLP_LOGS_PROTOCOL = "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL"
OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED = "OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED"
OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED = "OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED"

OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
"""Read by the official GenAI instrumentations (e.g. OpenAI): whether prompts and answers are
recorded. The distro sets ``SPAN_ONLY`` when the conversation log or Langfuse is on and the
variable is unset; otherwise the instrumentations' default (no content) stays."""

OTEL_SEMCONV_STABILITY_OPT_IN = "OTEL_SEMCONV_STABILITY_OPT_IN"
"""Set to ``gen_ai_latest_experimental`` (when unset) together with the content capture above."""

TRACELOOP_TRACE_CONTENT = "TRACELOOP_TRACE_CONTENT"
"""Read by OpenLLMetry's instrumentations (on by default there): the distro sets ``true`` where
something of ours reads message content and ``false`` where nothing does, when unset."""

OPENINFERENCE_HIDE_VARIABLES = (
    "OPENINFERENCE_HIDE_INPUTS",
    "OPENINFERENCE_HIDE_OUTPUTS",
    "OPENINFERENCE_HIDE_INPUT_MESSAGES",
    "OPENINFERENCE_HIDE_OUTPUT_MESSAGES",
    "OPENINFERENCE_HIDE_INPUT_TEXT",
    "OPENINFERENCE_HIDE_OUTPUT_TEXT",
)
"""Read by OpenInference's instrumentations (content shown by default there): the distro sets
them ``true`` where nothing of ours reads message content, ``false`` where something does, when unset."""

TELEMETRY_PROCESSORS = "TELEMETRY_PROCESSORS"
"""Comma-separated names of plugin processors (entry-point group ``otel_distro.processors``)."""

TELEMETRY_EXPORTERS = "TELEMETRY_EXPORTERS"
"""Comma-separated names of plugin exporters (entry-point group ``otel_distro.exporters``)."""

OTEL_DISTRO_STRICT = "OTEL_DISTRO_STRICT"
"""``1``: errors of the distro's own code are raised instead of logged (the test suite sets it)."""

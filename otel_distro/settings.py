"""The one settings model: every option with its sources, type, default and doc.

Resolution order: ``configure(**kwargs)`` > environment > ``telemetry.toml`` > defaults.
A bad value gives one warning naming the key and what is accepted, and the
default is used; ``strict=True`` raises :class:`SettingsError` instead.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from otel_distro import environment_variables as ev

_logger = logging.getLogger("otel_distro")

APP_NAME = "otel-distro"
CONFIG_FILE_NAME = "telemetry.toml"
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off", ""})


class SettingsError(ValueError):
    """Raised by strict resolution when an option or the config file is invalid."""


@dataclass(frozen=True)
class _Parser:
    accepted: str
    parse: Callable[[object], Any]


def _parse_bool(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    raise ValueError


def _int_between(low: int, high: int) -> _Parser:
    def parse(raw: object) -> int:
        if isinstance(raw, bool):
            raise ValueError
        value = int(raw.strip()) if isinstance(raw, str) else raw
        if not isinstance(value, int) or not low <= value <= high:
            raise ValueError
        return value

    return _Parser(f"an integer from {low} to {high}", parse)


def _positive_float(raw: object) -> float:
    if isinstance(raw, bool):
        raise ValueError
    value = float(raw.strip()) if isinstance(raw, str) else raw
    if not isinstance(value, int | float) or not 0 < value < float("inf"):
        raise ValueError
    return float(value)


def _text(raw: object) -> str | None:
    if not isinstance(raw, str):
        raise ValueError
    return raw.strip() or None


def _path(raw: object) -> Path | None:
    """An absolute path: a relative one is taken from the working directory at start-up, so a
    later ``os.chdir`` in the app cannot move the store."""
    if isinstance(raw, Path):
        return raw.expanduser().absolute()
    text = _text(raw)
    return Path(text).expanduser().absolute() if text else None


def _url(raw: object) -> str | None:
    text = _text(raw)
    if text is None:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError
    return text.rstrip("/")


def _names(raw: object) -> tuple[str, ...]:
    if isinstance(raw, str):
        items: list[object] = list(raw.split(","))
    elif isinstance(raw, list | tuple):
        items = list(raw)
    else:
        raise ValueError
    if not all(isinstance(item, str) for item in items):
        raise ValueError
    return tuple(name.strip() for name in items if isinstance(name, str) and name.strip())


def _choice(*allowed: str) -> Callable[[object], str]:
    def parse(raw: object) -> str:
        text = _text(raw)
        if text is None or text.lower() not in allowed:
            raise ValueError
        return text.lower()

    return parse


def _key_values(raw: object) -> tuple[tuple[str, str], ...]:
    if isinstance(raw, Mapping):
        return tuple((str(key), str(value)) for key, value in raw.items())
    if not isinstance(raw, str):
        raise ValueError
    pairs: dict[str, str] = {}
    for item in raw.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError
        pairs[unquote(key.strip())] = unquote(value.strip())  # percent-encoded, as the spec says
    return tuple(pairs.items())


_BOOL = _Parser("true or false (also 1/0, yes/no, on/off)", _parse_bool)
_TEXT = _Parser("a string", _text)
_PATH = _Parser("a filesystem path", _path)
_URL = _Parser("an http:// or https:// URL", _url)
_NAMES = _Parser("a comma-separated list of names", _names)
_KEY_VALUES = _Parser("comma-separated key=value pairs (or a TOML table)", _key_values)
_POSITIVE = _Parser("a number greater than 0", _positive_float)
OTLP_PROTOCOLS = ("grpc", "http/protobuf")


def _otlp_protocol(raw: object) -> str | None:
    text = _text(raw)
    if text is not None and text not in OTLP_PROTOCOLS:
        raise ValueError
    return text


_PROTOCOL = _Parser("grpc or http/protobuf (the Python OTLP exporters have no http/json)", _otlp_protocol)


def _option(
    default: Any,
    parser: _Parser,
    toml: str,
    doc: str,
    env: tuple[str, ...] = (),
    secret: bool = False,
) -> Any:
    return field(
        default=default,
        metadata={"parser": parser, "toml": toml, "doc": doc, "env": env, "secret": secret},
    )


@dataclass(frozen=True)
class Settings:
    """Every option of the distro, already validated."""

    enabled: bool = _option(True, _BOOL, "enabled", "Master switch.", (ev.TELEMETRY_ENABLED,))
    sdk_disabled: bool = _option(
        False, _BOOL, "otel.sdk_disabled", "Standard OTel kill switch.", (ev.OTEL_SDK_DISABLED,)
    )
    base_dir: Path | None = _option(
        None,
        _PATH,
        "store.base_dir",
        "Local store root (unset: platform data dir).",
        (ev.TELEMETRY_BASE_DIR,),
    )
    retention_days: int = _option(
        30,
        _int_between(1, 36500),
        "store.retention_days",
        "Purge local files older than this many days.",
        (ev.TELEMETRY_RETENTION_DAYS,),
    )
    store_enabled: bool = _option(
        True, _BOOL, "store.enabled", "Write the local JSON Lines store.", (ev.TELEMETRY_STORE_ENABLED,)
    )
    pii_redaction: bool = _option(
        True, _BOOL, "privacy.pii_redaction", "Redact PII before any exporter.", (ev.TELEMETRY_PII_REDACTION,)
    )
    hash_key: str | None = _option(
        None,
        _TEXT,
        "privacy.hash_key",
        "Secret for project-ID hashing (unset: per-install key).",
        (ev.TELEMETRY_HASH_KEY,),
        secret=True,
    )
    redaction_style: str = _option(
        "label",
        _Parser("label, mask or hash", _choice("label", "mask", "hash")),
        "privacy.redaction_style",
        "How redacted values read: <EMAIL>, ****, or a keyed hash.",
        (ev.TELEMETRY_REDACTION_STYLE,),
    )
    redaction_entities: tuple[str, ...] = _option(
        (),
        _NAMES,
        "privacy.redaction_entities",
        "Entity types to redact (empty: all). Checked against the known types.",
        (ev.TELEMETRY_REDACTION_ENTITIES,),
    )
    redaction_allow_keys: tuple[str, ...] = _option(
        (),
        _NAMES,
        "privacy.redaction_allow_keys",
        "Attribute keys never redacted, besides the trace and span id keys.",
        (ev.TELEMETRY_REDACTION_ALLOW_KEYS,),
    )
    redaction_deny_keys: tuple[str, ...] = _option(
        (),
        _NAMES,
        "privacy.redaction_deny_keys",
        "Attribute keys whose values are replaced whole, besides password, authorization, ...",
        (ev.TELEMETRY_REDACTION_DENY_KEYS,),
    )
    redaction_allow_values: tuple[str, ...] = _option(
        (),
        _NAMES,
        "privacy.redaction_allow_values",
        "Exact values never redacted (e.g. a support address).",
        (ev.TELEMETRY_REDACTION_ALLOW_VALUES,),
    )
    project_keys: tuple[str, ...] = _option(
        ("project.id", "project_id", "project.name", "gen_ai.project.id"),
        _NAMES,
        "privacy.project_keys",
        "Attribute keys whose values are hashed (HMAC-SHA256).",
        (ev.TELEMETRY_PROJECT_KEYS,),
    )
    endpoint: str | None = _option(
        None,
        _URL,
        "conversation_log.endpoint",
        "Conversation-log endpoint (unset: exporter off).",
        (ev.TELEMETRY_ENDPOINT,),
    )
    batch_size: int = _option(
        100,
        _int_between(1, 100_000),
        "conversation_log.batch_size",
        "Records per conversation-log batch.",
        (ev.TELEMETRY_BATCH_SIZE,),
    )
    flush_interval_secs: float = _option(
        60.0,
        _POSITIVE,
        "conversation_log.flush_interval_secs",
        "Conversation-log flush interval.",
        (ev.TELEMETRY_FLUSH_INTERVAL_SECS,),
    )
    cache_path: Path | None = _option(
        None,
        _PATH,
        "conversation_log.cache_path",
        "Spill cache directory (unset: cache/ under the store).",
        (ev.TELEMETRY_CACHE_PATH,),
    )
    max_cache_size_mb: int = _option(
        100,
        _int_between(1, 1_000_000),
        "conversation_log.max_cache_size_mb",
        "Spill cache bound in MB.",
        (ev.TELEMETRY_MAX_CACHE_SIZE_MB,),
    )
    upload_enabled: bool = _option(
        False, _BOOL, "upload.enabled", "Continuously upload the store.", (ev.TELEMETRY_UPLOAD_ENABLED,)
    )
    upload_endpoint: str | None = _option(
        None, _URL, "upload.endpoint", "OTLP/HTTP base URL to upload to.", (ev.TELEMETRY_UPLOAD_ENDPOINT,)
    )
    langfuse_public_key: str | None = _option(
        None, _TEXT, "langfuse.public_key", "Langfuse public key.", (ev.LANGFUSE_PUBLIC_KEY,)
    )
    langfuse_secret_key: str | None = _option(
        None, _TEXT, "langfuse.secret_key", "Langfuse secret key.", (ev.LANGFUSE_SECRET_KEY,), secret=True
    )
    langfuse_host: str = _option(
        "https://cloud.langfuse.com",
        _URL,
        "langfuse.host",
        "Langfuse base URL.",
        (ev.LANGFUSE_HOST, ev.LANGFUSE_BASE_URL),
    )
    log_bridge: bool = _option(
        False,
        _BOOL,
        "logs.bridge",
        "Bridge Python logging into the log pipeline.",
        (ev.TELEMETRY_LOG_BRIDGE, ev.OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED),
    )
    service_name: str | None = _option(
        None, _TEXT, "otel.service_name", "service.name of the resource.", (ev.OTEL_SERVICE_NAME,)
    )
    resource_attributes: tuple[tuple[str, str], ...] = _option(
        (),
        _KEY_VALUES,
        "otel.resource_attributes",
        "Extra resource attributes.",
        (ev.OTEL_RESOURCE_ATTRIBUTES,),
    )
    traces_sampler: str | None = _option(
        None, _TEXT, "otel.traces_sampler", "Sampler name (OTel names).", (ev.OTEL_TRACES_SAMPLER,)
    )
    traces_sampler_arg: str | None = _option(
        None, _TEXT, "otel.traces_sampler_arg", "Sampler argument.", (ev.OTEL_TRACES_SAMPLER_ARG,)
    )
    traces_exporter: tuple[str, ...] = _option(
        (),
        _NAMES,
        "otel.traces_exporter",
        "Extra span exporters, behind the chain.",
        (ev.OTEL_TRACES_EXPORTER,),
    )
    metrics_exporter: tuple[str, ...] = _option(
        (), _NAMES, "otel.metrics_exporter", "Extra metric exporters.", (ev.OTEL_METRICS_EXPORTER,)
    )
    logs_exporter: tuple[str, ...] = _option(
        (), _NAMES, "otel.logs_exporter", "Extra log exporters.", (ev.OTEL_LOGS_EXPORTER,)
    )
    otlp_protocol: str | None = _option(
        None,
        _PROTOCOL,
        "otel.otlp_protocol",
        "Transport of the 'otlp' exporters (unset: grpc).",
        (ev.OTEL_EXPORTER_OTLP_PROTOCOL,),
    )
    otlp_traces_protocol: str | None = _option(
        None,
        _PROTOCOL,
        "otel.otlp_traces_protocol",
        "Per-signal override.",
        (ev.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,),
    )
    otlp_metrics_protocol: str | None = _option(
        None,
        _PROTOCOL,
        "otel.otlp_metrics_protocol",
        "Per-signal override.",
        (ev.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL,),
    )
    otlp_logs_protocol: str | None = _option(
        None,
        _PROTOCOL,
        "otel.otlp_logs_protocol",
        "Per-signal override.",
        (ev.OTEL_EXPORTER_OTLP_LOGS_PROTOCOL,),
    )
    metric_export_interval_ms: int = _option(
        60_000,
        _int_between(100, 86_400_000),
        "otel.metric_export_interval_ms",
        "Metric export interval.",
        (ev.OTEL_METRIC_EXPORT_INTERVAL,),
    )

    @property
    def active(self) -> bool:
        """Whether anything at all is to be recorded."""
        return self.enabled and not self.sdk_disabled

    @property
    def store_dir(self) -> Path:
        """The local store root, defaulting to the platform data dir."""
        if self.base_dir is not None:
            return self.base_dir
        import platformdirs

        return platformdirs.user_data_path(APP_NAME)


OPTIONS: tuple[dataclasses.Field[Any], ...] = dataclasses.fields(Settings)
_BY_NAME = {option.name: option for option in OPTIONS}
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
    import platformdirs

    for candidate in (Path(CONFIG_FILE_NAME), platformdirs.user_config_path(APP_NAME) / CONFIG_FILE_NAME):
        try:
            if candidate.is_file():
                return candidate
        except OSError:  # e.g. a name too long, or a directory we may not read: no file there for us
            continue
    return None


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and dotted not in _BY_TOML:
            flat.update(_flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def _read_config_file(path: Path, problems: list[str]) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            table = tomllib.load(handle)
    except FileNotFoundError:
        problems.append(f"config file {path} (TELEMETRY_CONFIG) does not exist; using no file")
        return {}
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(f"config file {path} is not valid TOML ({exc}); ignoring the whole file")
        return {}
    values: dict[str, Any] = {}
    for key, value in _flatten(table).items():
        option = _BY_TOML.get(key)
        if option is None:
            problems.append(f"unknown key '{key}' in {path}; known keys: {', '.join(sorted(_BY_TOML))}")
        else:
            values[option.name] = value
    return values


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
        parser: _Parser = option.metadata["parser"]
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
            except (ValueError, TypeError):
                shown = "***" if option.metadata["secret"] else repr(str(raw)[:80])
                problems.append(
                    f"{source} = {shown} is not valid; accepted: {parser.accepted}; "
                    f"using the default {option.default!r}"
                )
                break
            sources[option.name] = source
            break
        sources.setdefault(option.name, "default")
    return Resolution(Settings(**values), sources, problems, path)


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    strict: bool = False,
) -> Settings:
    """Resolve settings; warn once per problem, or raise :class:`SettingsError` when strict."""
    resolution = resolve(overrides, env)
    if resolution.problems and strict:
        raise SettingsError("; ".join(resolution.problems))
    for problem in resolution.problems:
        _logger.warning("otel-distro: %s", problem)
    return resolution.settings


def describe(resolution: Resolution) -> list[dict[str, Any]]:
    """One row per option for display: name, value (secrets masked), source, env names, doc."""
    rows = []
    for option in OPTIONS:
        value = getattr(resolution.settings, option.name)
        if option.metadata["secret"] and value:
            value = "***"
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

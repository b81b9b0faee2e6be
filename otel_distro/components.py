"""Resolves what settings name: the resource, the sampler and the exporters of OTEL_*_EXPORTER."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.metrics.export import MetricExporter, MetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import sampling as samplers
from opentelemetry.sdk.trace.export import SpanExporter

from otel_distro import environment_variables as ev
from otel_distro.problems import Problems
from otel_distro.runtime.errors import caught
from otel_distro.settings import Settings
from otel_distro.version import DISTRO_NAME, __version__

_logger = logging.getLogger("otel_distro")

STORE_EXPORTER_NAME = "jsonl"
LANGFUSE_EXPORTER_NAME = "langfuse"  # OTEL_TRACES_EXPORTER=langfuse: our own, wired by the pipeline
HELICONE_EXPORTER_NAME = "helicone"  # likewise
PHOENIX_EXPORTER_NAME = "phoenix"  # likewise
NONE = "none"
_OWN_NAMES = (
    NONE,
    STORE_EXPORTER_NAME,
    LANGFUSE_EXPORTER_NAME,
    HELICONE_EXPORTER_NAME,
    PHOENIX_EXPORTER_NAME,
)
_RATIO_SAMPLERS = {
    "traceidratio": samplers.TraceIdRatioBased,
    "parentbased_traceidratio": samplers.ParentBasedTraceIdRatio,
}
_FIXED_SAMPLERS = {
    "always_on": samplers.ALWAYS_ON,
    "always_off": samplers.ALWAYS_OFF,
    "parentbased_always_on": samplers.ParentBased(samplers.ALWAYS_ON),
    "parentbased_always_off": samplers.ParentBased(samplers.ALWAYS_OFF),
}
_DEFAULT_SAMPLER = "parentbased_always_on"


@dataclass(frozen=True)
class Signal:
    """What differs between traces, metrics and logs when resolving exporter names."""

    name: str
    group: str
    variable: str
    accept: Callable[[Any], bool]

    def names(self, settings: Settings) -> tuple[str, ...]:
        names: tuple[str, ...] = getattr(settings, f"{self.name}_exporter")
        return names

    def wants_store(self, settings: Settings) -> bool:
        return settings.store_enabled or STORE_EXPORTER_NAME in self.names(settings)


def _subclass_of(base: type, excluded: type | None = None) -> Callable[[Any], bool]:
    def accept(candidate: Any) -> bool:
        if not isinstance(candidate, type) or not issubclass(candidate, base):
            return False
        return excluded is None or not issubclass(candidate, excluded)

    return accept


TRACES = Signal(
    "traces", "opentelemetry_traces_exporter", ev.OTEL_TRACES_EXPORTER, _subclass_of(SpanExporter)
)
# Pull readers (e.g. Prometheus) read the SDK directly and cannot sit behind the chain.
METRICS = Signal(
    "metrics",
    "opentelemetry_metrics_exporter",
    ev.OTEL_METRICS_EXPORTER,
    _subclass_of(MetricExporter, MetricReader),
)
LOGS = Signal("logs", "opentelemetry_logs_exporter", ev.OTEL_LOGS_EXPORTER, _subclass_of(LogRecordExporter))


def build_resource(settings: Settings) -> Resource:
    attributes: dict[str, Any] = dict(settings.resource_attributes)
    if settings.service_name:
        attributes["service.name"] = settings.service_name
    attributes["telemetry.distro.name"] = DISTRO_NAME
    attributes["telemetry.distro.version"] = __version__
    return Resource.create(attributes)


def build_sampler(settings: Settings, problems: Problems) -> samplers.Sampler:
    name = (settings.traces_sampler or _DEFAULT_SAMPLER).strip().lower()
    if name in _FIXED_SAMPLERS:
        return _FIXED_SAMPLERS[name]
    if name in _RATIO_SAMPLERS:
        rate = 1.0
        if settings.traces_sampler_arg is not None:
            try:
                rate = float(settings.traces_sampler_arg)
                if not 0.0 <= rate <= 1.0:
                    raise ValueError
            except ValueError:
                problems.report(
                    f"{ev.OTEL_TRACES_SAMPLER_ARG}={settings.traces_sampler_arg!r} is not valid; "
                    "accepted: a number from 0 to 1; using 1.0"
                )
                rate = 1.0
        return _RATIO_SAMPLERS[name](rate)
    from importlib.metadata import entry_points

    try:
        factory = next(iter(entry_points(group="opentelemetry_traces_sampler", name=name))).load()
        sampler = factory(settings.traces_sampler_arg)
        if isinstance(sampler, samplers.Sampler):
            return sampler
    except StopIteration:
        pass
    except Exception as exc:  # noqa: BLE001 - a broken third-party sampler must not stop the app
        caught("loading a sampler", exc)
        _logger.debug("sampler %s failed to load: %r", name, exc)
    known = sorted({*_FIXED_SAMPLERS, *_RATIO_SAMPLERS})
    problems.report(
        f"{ev.OTEL_TRACES_SAMPLER}={settings.traces_sampler!r} is not a sampler; accepted: "
        f"{', '.join(known)} or an opentelemetry_traces_sampler entry point; using {_DEFAULT_SAMPLER}"
    )
    return _FIXED_SAMPLERS[_DEFAULT_SAMPLER]


def _otlp_entry_point(settings: Settings, signal: Signal, problems: Problems) -> str:
    """The entry point 'otlp' stands for, following OTEL_EXPORTER_OTLP[_<SIGNAL>]_PROTOCOL. The
    Python OTLP exporters have no JSON encoding: http/json goes as http/protobuf, which every
    OTLP/HTTP receiver takes on the same path."""
    protocol = getattr(settings, f"otlp_{signal.name}_protocol") or settings.otlp_protocol or "grpc"
    if protocol == "http/json":
        problems.report(
            f"{ev.OTEL_EXPORTER_OTLP_PROTOCOL}=http/json: the Python OTLP exporters have no JSON "
            f"encoding; the {signal.name} go as http/protobuf to the same endpoint"
        )
    return "otlp_proto_http" if protocol in ("http/protobuf", "http/json") else "otlp_proto_grpc"


def exporter_classes(settings: Settings, signal: Signal, problems: Problems) -> list[tuple[str, type]]:
    """The exporter classes named for a signal (besides the store) that can sit behind the chain."""
    otlp = _otlp_entry_point(settings, signal, problems)
    wanted = [
        name
        for name in dict.fromkeys(otlp if name == "otlp" else name for name in signal.names(settings))
        if name not in _OWN_NAMES
    ]
    if not wanted:
        return []
    from importlib.metadata import entry_points  # only now: importing it costs start-up ~15 ms

    found = []
    for name in wanted:
        points = list(entry_points(group=signal.group, name=name))
        if not points:
            installed = {point.name for point in entry_points(group=signal.group)}
            available = sorted(installed | {NONE, "otlp"})
            problems.report(
                f"{signal.variable} names '{name}', which is not installed; accepted: {', '.join(available)}"
            )
            continue
        try:
            exporter_class = points[0].load()
        except Exception as exc:  # noqa: BLE001
            caught("loading an exporter", exc)
            problems.report(f"{signal.variable} exporter '{name}' cannot be loaded ({exc!r}); skipped")
            continue
        if not signal.accept(exporter_class):
            problems.report(
                f"{signal.variable} names '{name}', which cannot be placed behind the privacy chain; skipped"
            )
            continue
        found.append((name, exporter_class))
    return found


def check(settings: Settings) -> list[str]:
    """Every problem the pipeline would report for these settings, without building anything."""
    problems = Problems(collect=True)
    build_sampler(settings, problems)
    from otel_distro.privacy import known_entities, safe_patterns

    known_entities(settings, problems, safe_patterns(settings, problems))
    for signal in (TRACES, METRICS, LOGS):
        exporter_classes(settings, signal, problems)
    return problems.messages

"""What a running pipeline can change without a restart, and the code that changes it.

Each of our exporters (the store, the conversation log, Langfuse, Helicone, Phoenix, the
upload) is a *part* built from a few settings, declared once in :data:`otel_distro.parts.PARTS`.
:meth:`Switchboard.apply` compares the settings with those each part was built from: a part
no longer wanted is detached from the chain and stopped, a part whose settings changed is
rebuilt, a new one is built and attached. The same call turns recording on and off (the
chains' gates) and changes in place the pieces that are no part (:data:`IN_PLACE`: the
privacy processors, the sampler, the store's purge ages), each when an option it reads
changed. Which option a part or a piece reads is declared once, by the option itself
(``applies`` in :mod:`otel_distro.settings`). It runs at start-up and on every hot reload.
Exporters named in ``OTEL_*_EXPORTER`` and the resource stay as they were built.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk._logs import LogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace import sampling as samplers
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

from exporters.store.files import JsonlStore
from otel_distro.components import (
    METRICS,
    build_sampler,
)
from otel_distro.parts import PARTS, Part, PartSpec, fields
from otel_distro.problems import Problems
from otel_distro.runtime.errors import caught
from otel_distro.settings import Settings, applied_by
from processors.base import RecordProcessor
from processors.chain import LogChain, MetricsChainExporter, SpanChain
from processors.rewrite import RecordRewriter

_logger = logging.getLogger("otel_distro")

PRIVACY_FIELDS = applied_by("privacy")  # a change rebuilds the chain's processors


def privacy_signature(settings: Settings) -> tuple[Any, ...]:
    """What the chain's processors are built from: a change rebuilds them."""
    return fields(*PRIVACY_FIELDS)(settings)


class ReloadableSampler(samplers.Sampler):
    """Delegates to the sampler the settings name; hot reload points it at another one."""

    def __init__(self, delegate: samplers.Sampler) -> None:
        self.delegate = delegate

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> samplers.SamplingResult:
        return self.delegate.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return self.delegate.get_description()


class Switchboard:
    """Holds a running pipeline's switchable parts and applies settings to them."""

    def __init__(
        self,
        *,
        store: JsonlStore,
        resource: Resource,
        span_chain: SpanChain,
        log_chain: LogChain,
        store_metrics: MetricsChainExporter,
        metric_exporters: Sequence[MetricsChainExporter],
        named_spans: Sequence[SpanProcessor],
        named_logs: Sequence[LogRecordProcessor],
        sampler: ReloadableSampler,
        extra_processors: Sequence[RecordProcessor],
        processors: Sequence[RecordProcessor],
        privacy_signature: tuple[Any, ...],
        inline_rule: Callable[[Sequence[RecordProcessor]], Callable[[ReadableSpan], bool]],
    ) -> None:
        self.store = store
        self.resource = resource
        self.span_chain = span_chain
        self.log_chain = log_chain
        # the chains in front of providers made before configure() (foreign_providers): the
        # privacy settings and the recording gate apply to them as to the distro's own
        self.guarded_chains: tuple[SpanChain | LogChain, ...] = ()
        self.store_metrics = store_metrics
        self.metric_exporters = tuple(metric_exporters)
        self.named_spans = tuple(named_spans)
        self.named_logs = tuple(named_logs)
        self.sampler = sampler
        self.extra_processors = tuple(extra_processors)
        self.processors = tuple(processors)
        # per piece changed in place (IN_PLACE), the options it was last set from
        self._applied: dict[str, tuple[Any, ...]] = {"privacy": privacy_signature}
        self._inline_rule = inline_rule
        self.parts: dict[str, tuple[tuple[Any, ...], Part]] = {}

    def redacted_resource(self) -> Resource:
        """The resource as the chain's processors in force leave it on every record."""
        resource = self.resource
        for processor in self.processors:
            if isinstance(processor, RecordRewriter):
                resource = processor.rewrite_resource(resource)
        return resource

    def part(self, name: str) -> Part | None:
        held = self.parts.get(name)
        return held[1] if held else None

    def apply(self, settings: Settings, problems: Problems) -> None:
        """Make the running pipeline match ``settings`` (for every option in
        :data:`~otel_distro.settings.RELOADABLE`)."""
        active = settings.active
        if not active:
            self._gate(settings, active=False)  # first: nothing new enters while parts stop
        for name, change in IN_PLACE.items():
            signature = fields(*applied_by(name))(settings)
            if signature != self._applied.get(name):
                change(self, settings, problems)
                self._applied[name] = signature
        self._apply_parts(settings, problems, active)
        if active:
            self._gate(settings, active=True)

    def _gate(self, settings: Settings, active: bool) -> None:
        for chain in (self.span_chain, self.log_chain, *self.guarded_chains):
            chain.recording = active
        store_metrics = METRICS.wants_store(settings)
        for exporter in self.metric_exporters:
            exporter.recording = active and (exporter is not self.store_metrics or store_metrics)

    def _apply_privacy(self, settings: Settings, problems: Problems) -> None:
        from otel_distro.privacy import chain_processors

        processors = chain_processors(settings, problems, self.extra_processors)
        self.span_chain.set_processors(processors, self._inline_rule(processors))
        self.log_chain.set_processors(processors)
        for chain in self.guarded_chains:  # each runs every span on its worker, as it was built to
            chain.set_processors(processors)
        for exporter in self.metric_exporters:
            exporter.set_processors(processors)
        self.processors = processors

    def _apply_sampler(self, settings: Settings, problems: Problems) -> None:
        self.sampler.delegate = build_sampler(settings, problems)

    def _apply_retention(self, settings: Settings, problems: Problems) -> None:
        self.store.retention = settings.retention
        self.store.retention_days = settings.retention_days

    def _apply_parts(self, settings: Settings, problems: Problems, active: bool) -> None:
        stopping: list[Part] = []
        for name, spec in PARTS.items():
            held = self.parts.get(name)
            wanted = active and spec.wanted(settings)
            signature = spec.signature(settings) if wanted else None
            if held is not None and held[0] == signature:
                continue
            if held is not None:
                del self.parts[name]
                stopping.append(held[1])
            if wanted and signature is not None:
                part = self._build(name, spec, settings, problems)
                if part is not None:
                    self.parts[name] = (signature, part)
        self._attach()
        for part in stopping:  # detached above: what they hold is flushed, nothing new arrives
            part.stop(final=active)

    def _build(self, name: str, spec: PartSpec, settings: Settings, problems: Problems) -> Part | None:
        try:
            return spec.build(self, settings, problems)
        except Exception as exc:  # a part that cannot start costs only itself
            caught(f"starting the {name} part", exc)
            if problems.strict:
                raise
            problems.report(f"the {name.replace('_', '-')} exporter failed to start ({exc!r}); skipped")
            return None

    def _attach(self) -> None:
        parts = [self.parts[name][1] for name in PARTS if name in self.parts]
        self.span_chain.set_downstream([*(p.span for p in parts if p.span is not None), *self.named_spans])
        self.log_chain.set_downstream([*(p.log for p in parts if p.log is not None), *self.named_logs])

    def stop_parts(self, final: bool) -> None:
        """Detach and stop every part (pipeline shutdown does the chains' share itself)."""
        parts = [part for _signature, part in self.parts.values()]
        self.parts.clear()
        self._attach()
        for part in parts:
            part.stop(final)


# The pieces of a running pipeline changed in place, each when an option that declares it in
# ``applies`` (settings.py) changed since it was last set: the privacy processors swapped in
# every chain, the sampler's delegate, the store's purge ages. In this order, before the parts.
IN_PLACE: dict[str, Callable[[Switchboard, Settings, Problems], None]] = {
    "privacy": Switchboard._apply_privacy,
    "sampler": Switchboard._apply_sampler,
    "retention": Switchboard._apply_retention,
}

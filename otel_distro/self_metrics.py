"""The distro's own metrics, as the SDK reports its processors': queue sizes and drops.

Off by default; on with ``OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED=true``, the variable that
turns on the SDK's own processor metrics (setting ``internal_metrics``). Recorded on the
distro's meter provider, so they reach the store and every metrics exporter like the app's:

- ``otel.sdk.processor.span.queue.size`` and ``otel.sdk.processor.span.queue.capacity``: the
  redaction worker's queue (spans handed to it and not yet finished), with
  ``otel.component.type`` ``otel_distro_redaction_worker`` and ``otel.component.name``;
- ``otel_distro.records.dropped``: every record this process dropped, by reason
  (``error.type``: the reasons ``otel-distro stats`` shows), cumulative since it started.

All are observable: read when a metric reader collects, never on the app's path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation

from otel_distro.version import __version__

QUEUE_SIZE = "otel.sdk.processor.span.queue.size"
QUEUE_CAPACITY = "otel.sdk.processor.span.queue.capacity"
DROPPED = "otel_distro.records.dropped"
COMPONENT_TYPE = "otel_distro_redaction_worker"


class _Worker(Protocol):
    @property
    def queued(self) -> int: ...

    @property
    def max_queue_size(self) -> int: ...


def register(
    meter_provider: MeterProvider, worker: _Worker, dropped: Callable[[], Mapping[str, int]]
) -> None:
    """Observe ``worker`` (the span chain) and ``dropped()`` (what this process dropped, by
    reason) on ``meter_provider``."""
    meter = meter_provider.get_meter("otel_distro", __version__)
    component = {"otel.component.type": COMPONENT_TYPE, "otel.component.name": f"{COMPONENT_TYPE}/0"}

    def queue_size(_options: CallbackOptions) -> Iterable[Observation]:
        return (Observation(worker.queued, component),)

    def queue_capacity(_options: CallbackOptions) -> Iterable[Observation]:
        return (Observation(worker.max_queue_size, component),)

    def drops(_options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(count, {"error.type": reason}) for reason, count in dropped().items()]

    meter.create_observable_up_down_counter(
        QUEUE_SIZE,
        callbacks=[queue_size],
        unit="{span}",
        description="The number of spans in the queue of the distro's redaction worker.",
    )
    meter.create_observable_up_down_counter(
        QUEUE_CAPACITY,
        callbacks=[queue_capacity],
        unit="{span}",
        description="The maximum number of spans the queue of the distro's redaction worker can hold.",
    )
    meter.create_observable_counter(
        DROPPED,
        callbacks=[drops],
        unit="{record}",
        description="Records the distro dropped in this process, by reason (error.type).",
    )

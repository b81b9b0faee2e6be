"""The distro's own metrics, as the SDK reports its processors': queue sizes and drops.

Off by default; on with ``OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED=true``, the variable that
turns on the SDK's own processor metrics (setting ``internal_metrics``). Recorded on the
distro's meter provider, so they reach the store and every metrics exporter like the app's:

- ``otel.sdk.processor.span.queue.size`` and ``otel.sdk.processor.span.queue.capacity``: the
  redaction worker's queue (spans handed to it and not yet finished), with
  ``otel.component.type`` ``otel_distro_redaction_worker``, and the queue of each of our
  exporters (``otel_distro_store_queue``, ``otel_distro_conversation_log_queue``,
  ``otel_distro_langfuse_queue``, ...: spans waiting to be written or sent), each with its
  ``otel.component.name`` (``<type>/0``);
- ``otel_distro.records.dropped``: every record this process dropped, by reason
  (``error.type``: the reasons ``otel-distro stats`` shows), cumulative since it started.

All are observable: read when a metric reader collects, never on the app's path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation

from otel_distro.version import __version__

QUEUE_SIZE = "otel.sdk.processor.span.queue.size"
QUEUE_CAPACITY = "otel.sdk.processor.span.queue.capacity"
DROPPED = "otel_distro.records.dropped"


REDACTION_WORKER = "otel_distro_redaction_worker"
# (otel.component.type, queue size, queue capacity) of each queue, read at each collection
Queues = Callable[[], Iterable[tuple[str, int, int]]]


def register(meter_provider: MeterProvider, queues: Queues, dropped: Callable[[], Mapping[str, int]]) -> None:
    """Observe ``queues()`` (the queues of the running pipeline: parts come and go on reload) and
    ``dropped()`` (what this process dropped, by reason) on ``meter_provider``."""
    meter = meter_provider.get_meter("otel_distro", __version__)

    def observed(capacity: bool) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(_options: CallbackOptions) -> Iterable[Observation]:
            return [
                Observation(
                    limit if capacity else size,
                    {"otel.component.type": kind, "otel.component.name": f"{kind}/0"},
                )
                for kind, size, limit in queues()
            ]

        return observe

    def drops(_options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(count, {"error.type": reason}) for reason, count in dropped().items()]

    meter.create_observable_up_down_counter(
        QUEUE_SIZE,
        callbacks=[observed(capacity=False)],
        unit="{span}",
        description="The number of spans in a queue of the distro (its redaction worker's, its exporters').",
    )
    meter.create_observable_up_down_counter(
        QUEUE_CAPACITY,
        callbacks=[observed(capacity=True)],
        unit="{span}",
        description="The maximum number of spans a queue of the distro can hold.",
    )
    meter.create_observable_counter(
        DROPPED,
        callbacks=[drops],
        unit="{record}",
        description="Records the distro dropped in this process, by reason (error.type).",
    )

"""The Phoenix exporter: redacted spans to Arize Phoenix over OTLP/HTTP, GenAI spans in the form it reads.

Phoenix takes OTLP/HTTP protobuf on ``{base}/v1/traces`` (``arize-phoenix-otel`` builds the same
URL from ``PHOENIX_COLLECTOR_ENDPOINT``; a base that already ends with ``/v1/traces`` is taken
as it is, and a path such as Phoenix Cloud's ``/s/<space>`` is kept), with
``Authorization: Bearer <key>`` when a key is given. It files spans under the project their
resource names (``openinference.project.name``): the one configured, else the resource's own,
else its service name. GenAI spans are enriched from the one GenAI view
(:mod:`exporters.phoenix_mapping`): Phoenix reads attributes only, not message events. Every span
goes by default, so trees stay whole (``spans="genai"``: GenAI spans only). Delivery goes through
:class:`HttpDelivery`, retried per the OTLP rules for a bounded time; other answers drop the
batch, counted and warned once. :class:`PhoenixSpanProcessor` queues spans (bounded, counted
when full) for a thread of its own: the app never waits on Phoenix.
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry.sdk.trace import ReadableSpan

from exporters.http_delivery import HttpDelivery
from exporters.phoenix_mapping import ProjectResources, phoenix_span
from exporters.queued import RETRY_SECONDS, QueuedHttpExporter, QueuedSpanProcessor

TRACES_PATH = "/v1/traces"


def base_url(endpoint: str) -> str:
    """The base URL of a Phoenix endpoint (``/v1/traces`` and trailing slashes taken off)."""
    endpoint = endpoint.rstrip("/")
    return endpoint[: -len(TRACES_PATH)] if endpoint.endswith(TRACES_PATH) else endpoint


def traces_url(endpoint: str) -> str:
    """Where Phoenix takes spans: ``{base}/v1/traces``."""
    return base_url(endpoint) + TRACES_PATH


def auth_headers(api_key: str | None) -> dict[str, str]:
    """The headers ``arize-phoenix-otel`` sends for a key."""
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


class PhoenixSpanExporter(QueuedHttpExporter):
    """Sends spans to Phoenix (see the module docstring)."""

    title = "Phoenix"
    key_hint = "check PHOENIX_API_KEY"

    def __init__(
        self,
        endpoint: str,
        *,
        project: str | None = None,
        api_key: str | None = None,
        spans: str = "all",
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        delivery = HttpDelivery(traces_url(endpoint), {**(headers or {}), **auth_headers(api_key)}, timeout)
        super().__init__(delivery, spans=spans, retry_seconds=retry_seconds)
        self._resources = ProjectResources(project)

    def _map(self, span: ReadableSpan) -> ReadableSpan | None:
        if not self.wants(span):
            return None
        with self._lock:
            resource = self._resources(span.resource)
        return phoenix_span(span, resource)


class PhoenixSpanProcessor(QueuedSpanProcessor):
    """Queues the spans the Phoenix exporter may send for a thread of its own (bounded: what
    does not fit is dropped and counted); the app pays a look at the span and an append."""

    label = "phoenix"
    title = "Phoenix"

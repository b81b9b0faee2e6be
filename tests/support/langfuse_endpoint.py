"""A local endpoint implementing Langfuse's OTLP contract, recording the spans it accepts.

``POST /api/public/otel/v1/traces`` only (404 elsewhere), ``Authorization: Basic`` with the
project's keys (401 otherwise), OTLP protobuf bodies (gzip allowed); a span without a valid
trace or span id fails the whole batch with a 400, as Langfuse does. Faults are injected as on
:class:`FaultyEndpoint`.
"""

from __future__ import annotations

import base64
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.support.endpoint import FaultyEndpoint

PATH = "/api/public/otel/v1/traces"


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind) if kind else None


def _attributes(items: Any) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in items}


class LangfuseRecorder(FaultyEndpoint):
    """Decodes what it accepts into one dict per span: ids, name, attributes, resource."""

    def __init__(self, public_key: str = "pk-lf-test", secret_key: str = "sk-lf-test", port: int = 0) -> None:
        super().__init__(port)
        self.expected = "Basic " + base64.b64encode(f"{public_key}:{secret_key}".encode()).decode()
        self.spans: list[dict[str, Any]] = []

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def receive(self, path: str, headers: dict[str, str], raw: bytes) -> int:
        if path != PATH:
            return 404
        if headers.get("authorization") != self.expected:
            return 401
        request = ExportTraceServiceRequest()
        try:
            request.ParseFromString(raw)
        except Exception:
            return 400
        found = []
        for resource_spans in request.resource_spans:
            resource = _attributes(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    if len(span.trace_id) != 16 or len(span.span_id) != 8 or not any(span.trace_id):
                        return 400  # one bad span fails the batch
                    found.append(
                        {
                            "trace_id": span.trace_id.hex(),
                            "span_id": span.span_id.hex(),
                            "parent_span_id": span.parent_span_id.hex(),
                            "name": span.name,
                            "attributes": _attributes(span.attributes),
                            "resource": resource,
                        }
                    )
        with self._cond:
            self.spans += found
            self.accepted.append({"records": found})
        return 200

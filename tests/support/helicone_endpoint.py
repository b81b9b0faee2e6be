"""A local endpoint implementing Helicone's asynchronous-logging contract, recording the spans it accepts.

``POST /v1/trace/log`` takes OTLP/JSON and ``POST /v1/trace/log-python`` OTLP protobuf
(``TracesData``), as Helicone's two routes do; 404 elsewhere, 400 for a body its route cannot
read. ``Authorization: Bearer <key>`` (401 otherwise); gzip allowed. Attribute values are read
as Helicone reads them: a string, or an integer (sent as a decimal string in OTLP/JSON); others
are not seen. Faults are injected as on :class:`FaultyEndpoint`.
"""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

from tests.support.endpoint import FaultyEndpoint

JSON_PATH = "/v1/trace/log"
PROTOBUF_PATH = "/v1/trace/log-python"
KEY = "sk-helicone-test"


def _value(value: dict[str, Any]) -> Any:
    """An attribute value as Helicone's ingestion reads it (``stringValue ?? intValue``)."""
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return int(value["intValue"])
    return None


class HeliconeRecorder(FaultyEndpoint):
    """Decodes what it accepts into one dict per span: name, attributes, resource."""

    def __init__(self, api_key: str = KEY, port: int = 0) -> None:
        super().__init__(port)
        self.expected = f"Bearer {api_key}"
        self.spans: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.content_types: list[str] = []

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def receive(self, path: str, headers: dict[str, str], raw: bytes) -> int:
        if path not in (JSON_PATH, PROTOBUF_PATH):
            return 404
        if headers.get("authorization") != self.expected:
            return 401
        try:
            if path == JSON_PATH:
                data = json.loads(raw)
            else:
                message = TracesData()
                message.ParseFromString(raw)
                data = json_format.MessageToDict(message)
            found = self._spans(data)
        except Exception:
            return 400
        with self._cond:
            self.spans += found
            self.paths.append(path)
            self.content_types.append(headers.get("content-type", ""))
            self.accepted.append({"records": found})
        return 200

    @staticmethod
    def _spans(data: dict[str, Any]) -> list[dict[str, Any]]:
        found = []
        for resource_spans in data["resourceSpans"]:  # Helicone fails a body without them
            resource = {
                kv["key"]: _value(kv["value"])
                for kv in resource_spans.get("resource", {}).get("attributes", [])
            }
            for scope_spans in resource_spans.get("scopeSpans", []):
                for span in scope_spans.get("spans", []):
                    attributes = {kv["key"]: _value(kv["value"]) for kv in span.get("attributes", [])}
                    found.append(
                        {
                            "name": span["name"],
                            "attributes": {k: v for k, v in attributes.items() if v is not None},
                            "events": [event["name"] for event in span.get("events", [])],
                            "resource": resource,
                        }
                    )
        return found

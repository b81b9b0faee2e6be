"""The one typed view of a span read back from the store, and the one walk over a stored line.

Every reader of stored spans (stats, trace, the index, the viewer's API, the conversation log's
follower) gets its spans from :func:`stored_spans` as :class:`StoredSpan`, so they all skip and
count the same malformed parts, and log records' times from :func:`log_stamps`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from exporters.store.decode import decode_attributes
from instrumentations.genai_view import GenAiView, genai_view

if TYPE_CHECKING:
    from exporters.store.files import ReadProblems


@dataclass(frozen=True, slots=True)
class StoredSpan:
    """One span of a stored OTLP/JSON line (``raw``), with its resource's attributes."""

    raw: dict[str, Any]
    resource: dict[str, Any]

    @property
    def service(self) -> str:
        return str(self.resource.get("service.name", "unknown_service"))

    @property
    def trace_id(self) -> str:
        return str(self.raw.get("traceId", "")).lower()  # hex, which readers compare in lower case

    @property
    def span_id(self) -> str:
        return str(self.raw.get("spanId", "")).lower()

    @property
    def parent_id(self) -> str:
        return str(self.raw.get("parentSpanId", "")).lower()

    @property
    def name(self) -> str:
        return str(self.raw.get("name", ""))

    @property
    def kind(self) -> int:
        """The OTLP ``SpanKind`` number (the JSON mapping also allows its name, "SPAN_KIND_SERVER")."""
        kind = self.raw.get("kind", 0)
        if isinstance(kind, str) and kind in _KIND_NUMBERS:
            return _KIND_NUMBERS[kind]
        if isinstance(kind, bool) or not isinstance(kind, int | str):
            raise TypeError(f"a span kind is a number, not {type(kind).__name__}")
        return int(kind)

    @property
    def start_ns(self) -> int:
        return int(self.raw.get("startTimeUnixNano", 0))

    @property
    def end_ns(self) -> int:
        return int(self.raw.get("endTimeUnixNano", 0))

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6

    @property
    def status_code(self) -> int:
        return int((self.raw.get("status") or {}).get("code", 0))

    @property
    def status_message(self) -> str:
        return str((self.raw.get("status") or {}).get("message", ""))

    @property
    def attributes(self) -> dict[str, Any]:
        return decode_attributes(self.raw.get("attributes"))

    @property
    def events(self) -> list[tuple[str, int, dict[str, Any]]]:
        """(name, time in ns, attributes) of each event."""
        return [
            (
                str(event.get("name", "")),
                int(event.get("timeUnixNano", 0)),
                decode_attributes(event.get("attributes")),
            )
            for event in self.raw.get("events") or ()
        ]

    @property
    def links(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(trace id, span id, attributes) of each link."""
        return [
            (
                str(link.get("traceId", "")),
                str(link.get("spanId", "")),
                decode_attributes(link.get("attributes")),
            )
            for link in self.raw.get("links") or ()
        ]

    def genai(self) -> GenAiView | None:
        """The one GenAI view of the span (any convention); None for a span of another kind."""
        return genai_view(self.attributes, [(name, attributes) for name, _, attributes in self.events])

    def check(self) -> None:
        """Raise (TypeError, ValueError, ...) if the span is not shaped as OTLP/JSON says, or holds
        what no reader can take: a trace id not in hex, times outside 64 bits, attribute keys that
        are not text, a kind that is no number."""
        if not isinstance(self.raw, dict):
            raise TypeError(f"a span is an object, not {type(self.raw).__name__}")
        trace_id = self.raw.get("traceId") or "0"  # what readers look a trace up by
        if not isinstance(trace_id, str) or len(trace_id) > 32:
            raise ValueError("a trace id that is not hex")
        int(trace_id, 16)
        for stamp in (self.start_ns, self.end_ns):
            if not 0 <= stamp < _TIME_LIMIT:
                raise ValueError("a time outside 64 bits")
        _ = (self.kind, self.status_code, self.status_message, _keyed(self.raw.get("attributes")))
        for event in listed(self.raw.get("events", [])):
            if not 0 <= int(event.get("timeUnixNano", 0)) < _TIME_LIMIT:
                raise ValueError("an event time outside 64 bits")
            _keyed(event.get("attributes"))
        for link in listed(self.raw.get("links", [])):
            _ = (str(link.get("traceId", "")), _keyed(link.get("attributes")))


_TIME_LIMIT = 1 << 63  # nanoseconds up to 2262: what a 64-bit signed integer (SQLite's) holds
_KIND_NUMBERS = {
    f"SPAN_KIND_{name}": number
    for number, name in enumerate(("UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"))
}


def _keyed(items: Any) -> dict[str, Any]:
    """Attributes decoded, each key text (TypeError otherwise)."""
    decoded = decode_attributes(items)
    if not all(isinstance(key, str) for key in decoded):
        raise TypeError("an attribute key that is not text")
    return decoded


def listed(value: Any) -> list[Any]:
    """The value, which OTLP/JSON says is a list (TypeError if it is not)."""
    if not isinstance(value, list):
        raise TypeError(f"a list was expected, not {type(value).__name__}")
    return value


_MALFORMED = (AttributeError, TypeError, ValueError, KeyError)


def stored_spans(record: Mapping[str, Any], problems: ReadProblems | None = None) -> Iterator[StoredSpan]:
    """The spans of one stored line (a ``TracesData`` object). A span no reader can take is
    skipped and counted in ``problems``, the others of its batch kept; a resource or scope not
    shaped as OTLP/JSON is skipped whole (its spans cannot be told apart) and counted once."""
    try:
        resources = listed(record.get("resourceSpans", []))
    except TypeError:
        if problems is not None:
            problems.malformed += 1
        return
    for resource_spans in resources:
        try:
            resource = decode_attributes(resource_spans.get("resource", {}).get("attributes"))
            spans = [
                StoredSpan(raw, resource)
                for scope_spans in listed(resource_spans.get("scopeSpans", []))
                for raw in listed(scope_spans.get("spans", []))
            ]
        except _MALFORMED:
            if problems is not None:
                problems.malformed += 1
            continue
        for span in spans:
            try:
                span.check()
            except _MALFORMED:
                if problems is not None:
                    problems.malformed += 1
                continue
            yield span


def log_stamps(record: Mapping[str, Any]) -> list[tuple[int, int]]:
    """(time in ns, severity number) of each log record of one stored line (a ``LogsData``
    object), its observed time where it has no time; raises (TypeError, ValueError, ...) if the
    line is not shaped as OTLP/JSON says."""
    return [
        (
            int(log.get("timeUnixNano") or 0) or int(log.get("observedTimeUnixNano") or 0),
            int(log.get("severityNumber", 0)),
        )
        for resource_logs in listed(record.get("resourceLogs", []))
        for scope_logs in listed(resource_logs.get("scopeLogs", []))
        for log in listed(scope_logs.get("logRecords", []))
    ]

"""Queries over the local store: span statistics and whole traces, streamed from the JSONL files."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exporters.store.decode import decode_attributes
from exporters.store.files import JsonlStore, ReadProblems, read_records
from exporters.store.spans import StoredSpan, log_stamps, stored_spans
from instrumentations.genai_view import genai_view

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "": 86400}
ERROR_CODE = 2


MAX_DURATION_DAYS = 36_500  # a window or an age of at most 100 years: datetimes stay in range


def parse_duration(text: str) -> dt.timedelta:
    """``90s``, ``30m``, ``24h``, ``7d``, ``2w`` (a bare number means days), at most
    :data:`MAX_DURATION_DAYS`; raises ``ValueError`` saying what is accepted."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration; use e.g. 30m, 24h, 7d")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if not seconds <= MAX_DURATION_DAYS * 86400:  # also false for inf (thousands of digits)
        raise ValueError(f"{text.strip()!r} is too long; at most {MAX_DURATION_DAYS}d (100 years)")
    return dt.timedelta(seconds=seconds)


def iter_spans(
    store: JsonlStore,
    since: dt.datetime | None = None,
    needle: bytes | None = None,
    problems: ReadProblems | None = None,
) -> Iterator[StoredSpan]:
    """Spans in the store, optionally started at or after ``since``; ``needle`` prefilters lines.
    What cannot be read (files, malformed records) is skipped and noted in ``problems``."""
    first_day = (since - dt.timedelta(days=1)).date() if since else None
    cutoff_ns = int(since.timestamp() * 1e9) if since else 0
    for path in store.files("traces", first_day, problems):
        for record in read_records(path, needle, problems):
            for span in stored_spans(record, problems):
                if span.start_ns >= cutoff_ns:
                    yield span


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


@dataclass
class SpanStats:
    """Aggregates over the spans of a time window."""

    since: str
    spans: int = 0
    errors: int = 0
    traces: int = 0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    top_names: list[tuple[str, int]] = field(default_factory=list)
    tokens: dict[str, int] = field(default_factory=dict)
    redacted: dict[str, int] = field(default_factory=dict)  # values the redactor replaced, by entity
    services: dict[str, int] = field(default_factory=dict)
    log_records: int = 0
    log_errors: int = 0
    problems: ReadProblems = field(default_factory=ReadProblems)

    @property
    def error_rate(self) -> float:
        return self.errors / self.spans if self.spans else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "spans": self.spans,
            "traces": self.traces,
            "errors": self.errors,
            "error_rate": round(self.error_rate, 4),
            "p50_ms": round(self.p50_ms, 3),
            "p95_ms": round(self.p95_ms, 3),
            "top_names": [{"name": name, "count": count} for name, count in self.top_names],
            "tokens": self.tokens,
            "redacted": self.redacted,
            "services": self.services,
            "log_records": self.log_records,
            "log_errors": self.log_errors,
            **self.problems.as_dict(),
        }


def span_stats(store: JsonlStore, window: dt.timedelta, top: int = 10) -> SpanStats:
    since = dt.datetime.now(dt.UTC) - window
    stats = SpanStats(since=since.isoformat(timespec="seconds"))
    durations: list[float] = []
    names: Counter[str] = Counter()
    services: Counter[str] = Counter()
    traces: set[str] = set()
    tokens: Counter[str] = Counter()
    redacted: Counter[str] = Counter()
    for span in iter_spans(store, since, problems=stats.problems):
        stats.spans += 1
        durations.append(span.duration_ms)
        names[span.name] += 1
        services[span.service] += 1
        traces.add(span.trace_id)
        if span.status_code == ERROR_CODE:
            stats.errors += 1
        _count_span(span.raw.get("attributes") or (), tokens, redacted)
    durations.sort()
    stats.p50_ms = percentile(durations, 0.50)
    stats.p95_ms = percentile(durations, 0.95)
    stats.traces = len(traces)
    stats.top_names = names.most_common(top)
    stats.tokens = dict(sorted(tokens.items()))
    stats.redacted = dict(redacted.most_common())
    stats.services = dict(services.most_common())
    stats.log_records, stats.log_errors = log_counts(store, since, stats.problems)
    return stats


REDACTED_PREFIX = "otel_distro.redacted."
_GENAI_PREFIXES = ("gen_ai.", "llm.", "openinference.")
# Token counts under the OTel GenAI names, whatever convention the span was written in
_TOKEN_NAMES = (
    ("input", "gen_ai.usage.input_tokens"),
    ("output", "gen_ai.usage.output_tokens"),
    ("cached", "gen_ai.usage.cache_read.input_tokens"),
    ("reasoning", "gen_ai.usage.reasoning.output_tokens"),
)


def _count_span(attributes: Any, tokens: Counter[str], redacted: Counter[str]) -> None:
    """Add a stored span's tokens (from its one GenAI view: every convention, each call once)
    and its redaction counts."""
    genai = False
    for item in attributes:  # shape checked when the span was read
        key = item.get("key", "")
        if key.startswith(REDACTED_PREFIX):
            value = item.get("value", {})
            if "intValue" in value:
                redacted[key.removeprefix(REDACTED_PREFIX)] += int(value["intValue"])
        elif not genai and key.startswith(_GENAI_PREFIXES):
            genai = True
    if not genai:
        return
    view = genai_view(decode_attributes(attributes))
    if view is None or not view.usage:
        return
    for field_name, name in _TOKEN_NAMES:
        count = getattr(view.usage, field_name)
        if count:
            tokens[name] += count


ERROR_SEVERITY = 17  # SEVERITY_NUMBER_ERROR


def log_counts(store: JsonlStore, since: dt.datetime, problems: ReadProblems) -> tuple[int, int]:
    """Log records (and those at ERROR severity or above) observed since ``since``."""
    cutoff_ns = int(since.timestamp() * 1e9)
    records = errors = 0
    for path in store.files("logs", (since - dt.timedelta(days=1)).date(), problems):
        for record in read_records(path, problems=problems):
            try:
                stamped = log_stamps(record)
            except (AttributeError, TypeError, ValueError):
                problems.malformed += 1
                continue
            for stamp, severity in stamped:
                if stamp >= cutoff_ns:
                    records += 1
                    errors += severity >= ERROR_SEVERITY
    return records, errors


def latest_trace_id(store: JsonlStore, problems: ReadProblems | None = None) -> str | None:
    """The trace of the most recently started root span in the newest trace file."""
    files = store.files("traces", problems=problems)
    if not files:
        return None
    spans = list(iter_spans_in(files[-1], problems))
    ids = {span.span_id for span in spans}
    newest: StoredSpan | None = None
    for span in spans:
        if not span.trace_id.strip("0"):  # no trace id (empty or all zeros): no trace to show
            continue
        is_root = not span.parent_id or span.parent_id not in ids  # remote or missing parent
        if is_root and (newest is None or span.start_ns > newest.start_ns):
            newest = span
    return newest.trace_id if newest else None


def iter_spans_in(path: Path, problems: ReadProblems | None = None) -> Iterator[StoredSpan]:
    for record in read_records(path, problems=problems):
        yield from stored_spans(record, problems)


def find_trace(store: JsonlStore, trace_id: str, problems: ReadProblems | None = None) -> list[StoredSpan]:
    """Every span of one trace, in start order."""
    trace_id = trace_id.strip().lower()
    needle = f'"traceId":"{trace_id}"'.encode()
    found = iter_spans(store, needle=needle, problems=problems)
    spans = {span.span_id: span for span in found if span.trace_id == trace_id}
    return sorted(spans.values(), key=lambda span: span.start_ns)


def trace_tree(spans: list[StoredSpan]) -> list[tuple[int, StoredSpan]]:
    """Depth-first (depth, span) pairs; spans whose parent is missing become roots."""
    ids = {span.span_id for span in spans}
    children: dict[str, list[StoredSpan]] = {}
    roots = []
    for span in spans:
        if span.parent_id and span.parent_id in ids:
            children.setdefault(span.parent_id, []).append(span)
        else:
            roots.append(span)
    ordered: list[tuple[int, StoredSpan]] = []
    stack = [(0, span) for span in reversed(roots)]
    while stack:
        depth, span = stack.pop()
        ordered.append((depth, span))
        stack.extend((depth + 1, child) for child in reversed(children.get(span.span_id, [])))
    return ordered

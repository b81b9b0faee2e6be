"""Moves what an older version's conversation-log spill cache left on disk into the spool.

Before the spool (:mod:`exporters.store.spool`), the conversation log kept unsent spans, when
the store was off, as one JSON snapshot per line in segment files named ``open.*.jsonl``,
``ready.*.jsonl`` or ``sending.*.jsonl`` in its directory, each locked (``flock``) by the process
using it. A segment whose lock can be taken now (its process is gone) is rewritten as OTLP/JSON
lines in the spool and deleted, so what waited there is sent as everything else is; a line that
does not read as a snapshot is counted. One held by a live process of the older version is left
to it.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from pathlib import Path
from typing import Any

import orjson

from exporters import otlp_json
from exporters.store.spool import SIGNAL, Spool

_logger = logging.getLogger(f"otel_distro.{__name__}")

STATES = ("open.", "ready.", "sending.")
_KINDS = ("UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER")  # OTLP's order
_ERROR = 2


def legacy_segments(directory: Path) -> list[Path]:
    """The older version's segments in ``directory``, oldest first."""
    try:
        entries = [path for path in directory.iterdir() if path.name.startswith(STATES)]
    except OSError:
        return []
    return sorted(
        (path for path in entries if path.suffix == ".jsonl"), key=lambda p: p.name.split(".", 1)[1]
    )


def _span(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The OTLP/JSON span a snapshot was taken of (what the mapping reads of it)."""
    kind = snapshot.get("kind")
    span: dict[str, Any] = {
        "traceId": str(snapshot.get("trace_id") or ""),
        "spanId": str(snapshot.get("span_id") or ""),
        "name": str(snapshot.get("name") or ""),
        "kind": _KINDS.index(kind) if kind in _KINDS else 0,
        "startTimeUnixNano": str(int(snapshot.get("start") or 0)),
        "endTimeUnixNano": str(int(snapshot.get("end") or 0)),
        "attributes": otlp_json.attributes(snapshot.get("attributes") or {}),
        "events": [
            {"name": str(name), "timeUnixNano": "0", "attributes": otlp_json.attributes(attrs or {})}
            for name, attrs in snapshot.get("events") or []
        ],
        "status": {"code": _ERROR, "message": str(snapshot.get("description") or "")}
        if snapshot.get("error")
        else {},
    }
    if snapshot.get("parent_span_id"):
        span["parentSpanId"] = str(snapshot["parent_span_id"])
    return span


def _line(raw: bytes) -> bytes:
    snapshot = orjson.loads(raw)
    service = snapshot.get("service")
    resource = {"attributes": otlp_json.attributes({"service.name": service})} if service else {}
    scope_spans = [{"scope": {}, "spans": [_span(snapshot)]}]
    return orjson.dumps({"resourceSpans": [{"resource": resource, "scopeSpans": scope_spans}]}) + b"\n"


def _lines(data: bytes) -> tuple[list[bytes], int]:
    lines, unreadable = [], 0
    for raw in data.split(b"\n"):
        if raw.strip():
            try:
                lines.append(_line(raw))
            except (ValueError, TypeError, AttributeError):  # a line cut by a killed writer
                unreadable += 1
    return lines, unreadable


def move_legacy_segments(directory: Path, spool: Spool) -> tuple[int, int]:
    """Move every segment no live process holds into the spool: spans moved, lines unreadable."""
    moved = corrupt = 0
    for path in legacy_segments(directory):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            with os.fdopen(os.dup(fd), "rb") as handle:
                data = handle.read()
        except OSError:  # a live process of the older version holds it: it sends it itself
            os.close(fd)
            continue
        try:
            lines, unreadable = _lines(data)
            if lines and not spool.append(SIGNAL, lines, len(lines)):
                continue  # kept where it is, tried again by the next process
            with contextlib.suppress(OSError):
                path.unlink()
            moved, corrupt = moved + len(lines), corrupt + unreadable
        finally:
            os.close(fd)
    if moved:
        _logger.info(
            "otel-distro: moved %d unsent spans of an older version's cache to %s", moved, spool.base_dir
        )
    return moved, corrupt

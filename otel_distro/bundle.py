"""``otel-distro bundle``: one tar.gz to attach to a bug report, with nothing secret in it.

What goes in (``--dry-run`` lists it):
- ``store/{traces,logs,metrics}/YYYY-MM-DD.jsonl``: the store's records of the window (sealed
  lines opened), spans and log records outside the window or the trace left out, and every
  string value passed through the PII redactor once more (a second net: the store was
  redacted when written, but with the settings of that time);
- ``settings.json``: every option with where it came from, secrets masked (``describe``), and
  any option whose name says key, token, secret, password or header masked too;
- ``versions.json``: Python, the platform, otel-distro, the OpenTelemetry API and SDK, and
  every installed instrumentation (``importlib.metadata``);
- ``drops.json``: every drop counter of the store by reason, the conversation log's state and
  delivery counters, the disk guard's state;
- ``problems.txt``: what the distro would warn about now: configuration problems, version
  mismatches, store lines that could not be read or did not open, the conversation log's last
  error, a paused store. (Warnings of past processes are not kept anywhere; what they counted
  is in ``drops.json``.)
- ``manifest.json``: this list, with sizes.
Every string of the JSON files goes through the redactor as well.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import io
import json
import platform
import re
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from exporters.store.files import JsonlStore, ReadProblems, read_records
from exporters.store.layout import SIGNALS
from otel_distro.runtime.files import replaced_privately
from otel_distro.scrub import Scrubber, scrubber

MASK = "***"
_SECRET_NAME = re.compile(r"key|token|secret|password|header|auth", re.IGNORECASE)
_DISTRIBUTIONS = ("opentelemetry-api", "opentelemetry-sdk", "otel-distro", "cryptography", "keyring")
_INSTRUMENTATION = re.compile(r"^(opentelemetry|openinference)-instrumentation")


@dataclass
class Entry:
    name: str
    what: str
    data: bytes


@dataclass
class Bundle:
    entries: list[Entry] = field(default_factory=list)
    problems: ReadProblems = field(default_factory=ReadProblems)

    def add(self, name: str, what: str, data: bytes) -> None:
        self.entries.append(Entry(name, what, data))

    def manifest(self) -> list[dict[str, Any]]:
        return [{"name": e.name, "bytes": len(e.data), "what": e.what} for e in self.entries]

    def write(self, target: Path) -> None:
        """The tar.gz, mode 0600, replaced atomically."""
        manifest = json.dumps(self.manifest(), indent=2).encode()
        with replaced_privately(target, sync=False) as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for name, data in [*((e.name, e.data) for e in self.entries), ("manifest.json", manifest)]:
                info = tarfile.TarInfo(f"otel-distro-bundle/{name}")
                info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
                tar.addfile(info, io.BytesIO(data))


def _in_window(record: dict[str, Any], signal: str, since_ns: int, trace_id: str | None) -> bool:
    """Keep, in place, the spans / log records of the window (and trace); False if none is left."""
    if signal == "metrics":
        return trace_id is None
    outer, inner, items, stamp = (
        ("resourceSpans", "scopeSpans", "spans", "startTimeUnixNano")
        if signal == "traces"
        else ("resourceLogs", "scopeLogs", "logRecords", "timeUnixNano")
    )
    kept = 0
    for resource in record.get(outer, []) or []:
        for scope in resource.get(inner, []) or []:
            chosen = [
                item
                for item in scope.get(items, []) or []
                if int(item.get(stamp, 0) or 0) >= since_ns
                and (trace_id is None or str(item.get("traceId", "")).lower() == trace_id)
            ]
            scope[items] = chosen
            kept += len(chosen)
    return kept > 0


def store_entries(
    bundle: Bundle, store: JsonlStore, since: dt.timedelta, trace_id: str | None, scrub: Scrubber
) -> None:
    now = dt.datetime.now(dt.UTC)
    since_ns = int((now - since).timestamp() * 1e9)
    first_day = (now - since - dt.timedelta(days=1)).date()
    for signal in SIGNALS:
        for path in store.files(signal, first_day, bundle.problems):
            lines = []
            for record in read_records(path, problems=bundle.problems):
                try:
                    if not _in_window(record, signal, since_ns, trace_id):
                        continue
                except (AttributeError, TypeError, ValueError):
                    bundle.problems.malformed += 1
                    continue
                lines.append(orjson.dumps(scrub.value(record)) + b"\n")
            if lines:
                bundle.add(
                    f"store/{signal}/{path.name}",
                    f"{len(lines)} {signal} record(s) of the window, opened and redacted again",
                    b"".join(lines),
                )


def versions() -> dict[str, Any]:
    found: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").lower()
        if name in _DISTRIBUTIONS or _INSTRUMENTATION.match(name):
            found[name] = dist.version
    return {
        "python": sys.version,
        "platform": platform.platform(),
        "packages": dict(sorted(found.items())),
    }


def masked_settings(resolution: Any) -> list[dict[str, Any]]:
    from otel_distro.settings import describe

    rows = describe(resolution)
    for row in rows:
        name = row["name"]
        if _SECRET_NAME.search(name) and not name.endswith(("_file", "_path")) and row["value"]:
            row["value"] = MASK
    return rows


def build(
    context: Any, since: dt.timedelta, trace_id: str | None = None, guard: dict[str, Any] | None = None
) -> Bundle:
    """Everything the bundle holds (``context``: the CLI's, with settings, resolution and store)."""
    from otel_distro.drop_ledger import read_drops
    from otel_distro.versions import version_warnings

    settings = context.settings
    scrub = scrubber(settings)
    bundle = Bundle()
    store_entries(bundle, context.store(), since, trace_id.lower() if trace_id else None, scrub)

    def add_json(name: str, what: str, value: Any) -> None:
        bundle.add(name, what, json.dumps(scrub.value(value), indent=2, default=str).encode())

    add_json(
        "settings.json",
        "every option, its value (secrets masked) and where it came from",
        {
            "config_file": str(context.resolution.config_file) if context.resolution.config_file else None,
            "options": masked_settings(context.resolution),
        },
    )
    add_json(
        "versions.json", "Python, the platform, otel-distro, the SDK and every instrumentation", versions()
    )
    conversation_log = context.conversation_log()
    add_json(
        "drops.json",
        "drop counters by reason, the conversation log's delivery state, the disk guard",
        {"dropped": read_drops(context.base_dir), "conversation_log": conversation_log, "disk_guard": guard},
    )
    problems = [f"configuration: {problem}" for problem in context.resolution.problems]
    problems += [f"versions: {warning}" for warning in version_warnings()]
    problems += [f"store: could not read {where}" for where in bundle.problems.unreadable]
    if bundle.problems.malformed:
        problems.append(f"store: {bundle.problems.malformed} malformed record(s) skipped")
    if bundle.problems.unauthentic:
        problems.append(f"store: {bundle.problems.unauthentic} sealed line(s) did not open")
    if conversation_log and conversation_log.get("last_error"):
        problems.append(f"conversation log: last error {conversation_log['last_error']}")
    if guard and not guard.get("writing", True):
        problems.append(f"disk guard: the store is not writing ({guard.get('paused_by')})")
    text = "\n".join(scrub.redact(line) for line in problems) or "(none)"
    bundle.add("problems.txt", "what the distro would warn about now", (text + "\n").encode())
    return bundle

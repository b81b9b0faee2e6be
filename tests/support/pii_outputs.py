"""Every output of one child run, and a search of them for raw PII values in any encoding.

:func:`run_with_every_output` runs a real child process with all outputs on at once: the local
store, the standard OTLP exporters (traces, metrics, logs) to a real rotel collector, the Langfuse
exporter to a :class:`RawLangfuseRecorder` and the conversation log to a :class:`RawEndpoint`.
:func:`find_leaks` looks for each raw value in each output's text as it is, percent-encoded
(``%40``, ``%2B``, form encoding), JSON-escaped (``\\u0040``) or HTML-escaped, and, after decoding
those escapes (also nested ones), anywhere in between.
"""

from __future__ import annotations

import base64
import html
import re
import textwrap
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.support.collector import Attrs, RecordingOtlpServer, RotelCollector
from tests.support.endpoint import FaultyEndpoint
from tests.support.langfuse_endpoint import LangfuseRecorder
from tests.support.proc import AppRun, clean_env, run_app

STORE, COLLECTOR, LANGFUSE, CONVERSATION_LOG = "store", "collector", "langfuse", "conversation_log"
EVERY_OUTPUT = (STORE, COLLECTOR, LANGFUSE, CONVERSATION_LOG)
PUBLIC_KEY, SECRET_KEY = "pk-lf-matrix", "sk-lf-matrix"

# Any connection or name lookup beyond 127.0.0.1 is refused and reported on stderr.
NETWORK_GUARD = """
import sys as _sys

def _network_guard(event, args):
    local = ("127.0.0.1", "::1")
    if event == "socket.connect" and isinstance(args[1], tuple) and args[1][0] not in local:
        print(f"network guard: connect {args[1]!r}", file=_sys.stderr)
        raise PermissionError("network guard")
    if event == "socket.getaddrinfo" and args[0] not in (*local, b"127.0.0.1", None):
        print(f"network guard: lookup {args[0]!r}", file=_sys.stderr)
        raise PermissionError("network guard")

_sys.addaudithook(_network_guard)
"""


# -- searching ------------------------------------------------------------------------------------
def _escaped(value: str, template: str) -> str:
    """Every character but letters, digits, '.' and '-' written with ``template`` % its code point."""
    return "".join(c if c.isalnum() or c in ".-" else template % ord(c) for c in value)


def encodings(value: str) -> dict[str, str]:
    """The forms a value takes in encoded text, by name: raw, in a URL, in JSON, in HTML."""
    forms = {
        "raw": value,
        "percent-encoded": quote(value, safe=""),
        "form-encoded": quote_plus(value, safe=""),
        "JSON-escaped": _escaped(value, "\\u%04x"),
        "HTML-escaped": _escaped(value, "&#%d;"),
    }
    return {name: form for name, form in forms.items() if name == "raw" or form != value}


_JSON_ESCAPE = re.compile(r"\\+u([0-9a-fA-F]{4})")
_BYTES_VALUE = re.compile(r'"bytesValue":\s*"([A-Za-z0-9+/=]*)"')  # OTLP/JSON bytes: base64
_BACKSLASHES = re.compile(r"\\+([\"'/])")


def decoded_views(text: str) -> list[str]:
    """``text`` with JSON escapes (also in JSON inside JSON), HTML entities and percent-encoding
    undone, twice over; one view keeps '+' (URL paths), one reads it as a space (forms)."""
    text = _JSON_ESCAPE.sub(lambda match: chr(int(match[1], 16)), text)
    text = html.unescape(_BACKSLASHES.sub(r"\1", text))
    # bytes values, base64 in OTLP/JSON, read as Latin-1 (every byte a character)
    held = "\n".join(_base64(match[1]).decode("latin-1") for match in _BYTES_VALUE.finditer(text))
    return [unquote(unquote(text)), unquote_plus(unquote_plus(text)), held]


def _base64(text: str) -> bytes:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        return b""


def find_leaks(outputs: Mapping[str, str], secrets: Mapping[str, str]) -> list[str]:
    """One line per (secret, output) where the raw value can be read back, saying in which form."""
    found = []
    for where, text in outputs.items():
        lowered = text.lower()
        views: list[str] | None = None
        for label, value in secrets.items():
            forms = [name for name, form in encodings(value).items() if form.lower() in lowered]
            if not forms:
                views = views if views is not None else [view.lower() for view in decoded_views(text)]
                if any(value.lower() in view for view in views):
                    forms = ["after decoding escapes"]
            if forms:
                found.append(f"{label} {value!r} ({', '.join(forms)}) in {where}")
    return found


def contains_any(outputs: Mapping[str, str], words: Iterable[str]) -> list[str]:
    """Where any of ``words`` can be read (decoded, case-insensitive): one line per (word, output)."""
    return find_leaks(outputs, {f"text {word!r}": word for word in words})


# -- recorders that keep what they were sent as text -------------------------------------------
class RawLangfuseRecorder(LangfuseRecorder):
    """A :class:`LangfuseRecorder` that also keeps every accepted request whole, as OTLP/JSON text
    (events, links, status and resource included)."""

    def __init__(self) -> None:
        super().__init__(PUBLIC_KEY, SECRET_KEY)
        self.bodies: list[str] = []

    def receive(self, path: str, headers: dict[str, str], raw: bytes) -> int:
        status = super().receive(path, headers, raw)
        if status == 200:
            request = ExportTraceServiceRequest()
            request.ParseFromString(raw)
            with self._cond:
                self.bodies.append(json_format.MessageToJson(request))
        return status


class RawEndpoint(FaultyEndpoint):
    """A :class:`FaultyEndpoint` (the conversation-log endpoint) that also keeps each body as sent."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[str] = []

    def receive(self, path: str, headers: dict[str, str], raw: bytes) -> int:
        with self._cond:
            self.bodies.append(raw.decode("utf-8", "replace"))
        return super().receive(path, headers, raw)


# -- one run with every output --------------------------------------------------------------------
@dataclass
class Outputs:
    """What one child run left in each output, as text (for searching) and decoded (for checking)."""

    app: AppRun
    store_files: dict[str, str]  # path under the tmp dir -> text; every file the run wrote
    collector_text: str = ""
    collector_spans: list[tuple[Attrs, Span]] = field(default_factory=list)
    collector_logs: list[LogRecord] = field(default_factory=list)
    langfuse_text: str = ""
    langfuse_spans: list[dict[str, Any]] = field(default_factory=list)
    conversation_text: str = ""
    conversation_records: list[dict[str, Any]] = field(default_factory=list)
    ports: dict[str, int] = field(default_factory=dict)  # output -> the port it listened on

    def texts(self, output: str) -> dict[str, str]:
        """One output's texts by where they are (a store output is one text per file)."""
        if output == STORE:
            return {f"store {path}": text for path, text in self.store_files.items()}
        text = {
            COLLECTOR: self.collector_text,
            LANGFUSE: self.langfuse_text,
            CONVERSATION_LOG: self.conversation_text,
        }[output]
        return {output: text}

    def received(self, output: str) -> bool:
        """Whether the output got anything at all (a privacy check of an empty output proves nothing)."""
        if output == STORE:
            return any(path.startswith(("store/traces/", "store/logs/")) for path in self.store_files)
        return {
            COLLECTOR: bool(self.collector_spans or self.collector_logs),
            LANGFUSE: bool(self.langfuse_spans),
            CONVERSATION_LOG: bool(self.conversation_records),
        }[output]

    def leaks(self, output: str, secrets: Mapping[str, str]) -> list[str]:
        return find_leaks(self.texts(output), secrets)


def _store_files(tmp: Path) -> dict[str, str]:
    """Every file the run can have written under its data dirs (store, side index, caches, keys)."""
    files = {}
    for root in ("store", "xdg-data", "xdg-config"):
        for path in sorted((tmp / root).rglob("*")):
            if path.is_file():
                files[str(path.relative_to(tmp))] = path.read_bytes().decode("utf-8", "replace")
    return files


def _collector_text(sink: RecordingOtlpServer) -> str:
    with sink._cond:
        requests = [request for recorded in sink.requests.values() for request in recorded]
    return "\n".join(json_format.MessageToJson(request) for request in requests)


def run_with_every_output(
    tmp: Path,
    source: str,
    *,
    zero_code: bool = True,
    outputs: Sequence[str] = EVERY_OUTPUT,
    collector_spans: int = 1,
    collector_logs: int = 0,
    collector_via_env: bool = True,
    env: Mapping[str, str] | None = None,
) -> Outputs:
    """Run ``source`` (behind a network guard) in a real child with the named outputs on.

    ``collector_via_env=False`` starts the collector but leaves the distro's OTLP exporters off: the
    app gets its address in ``MATRIX_COLLECTOR`` (host:port, gRPC) for an exporter of its own. After
    the child exits, the collector is given a few seconds to forward what it was sent.
    """
    tmp.mkdir(parents=True, exist_ok=True)
    settings = {"TELEMETRY_RELOAD_INTERVAL_SECS": "0"}
    with ExitStack() as stack:
        sink = rotel = langfuse = endpoint = None
        if COLLECTOR in outputs:
            sink = stack.enter_context(RecordingOtlpServer())
            rotel = stack.enter_context(RotelCollector(sink.endpoint))
            if collector_via_env:
                for signal in ("TRACES", "METRICS", "LOGS"):
                    settings[f"OTEL_{signal}_EXPORTER"] = "jsonl,otlp"
                settings["OTEL_EXPORTER_OTLP_ENDPOINT"] = rotel.grpc_endpoint
            settings["MATRIX_COLLECTOR"] = f"127.0.0.1:{rotel.grpc_port}"
        if LANGFUSE in outputs:
            langfuse = stack.enter_context(RawLangfuseRecorder())
            settings.update(
                LANGFUSE_PUBLIC_KEY=PUBLIC_KEY,
                LANGFUSE_SECRET_KEY=SECRET_KEY,
                LANGFUSE_HOST=langfuse.host,
                TELEMETRY_LANGFUSE_SPANS="all",
                LANGFUSE_MEDIA_UPLOAD_ENABLED="false",
            )
        if CONVERSATION_LOG in outputs:
            endpoint = stack.enter_context(RawEndpoint())
            settings.update(
                TELEMETRY_ENDPOINT=endpoint.url,
                TELEMETRY_FLUSH_INTERVAL_SECS="0.5",
                TELEMETRY_EXECUTION_TRACES="all",
            )
        settings.update(env or {})
        script = NETWORK_GUARD + textwrap.dedent(source)
        run = run_app(tmp, script, zero_code=zero_code, env=clean_env(tmp, **settings), timeout=90)
        result = Outputs(run, _store_files(tmp))
        if sink is not None and rotel is not None:
            sink.wait_until(
                lambda: len(sink.spans()) >= collector_spans and len(sink.log_records()) >= collector_logs,
                timeout=8,
            )
            result.collector_text = _collector_text(sink)
            result.collector_spans = sink.spans_with_resource()
            result.collector_logs = sink.log_records()
            result.ports[COLLECTOR] = rotel.grpc_port
        if langfuse is not None:
            result.langfuse_text = "\n".join(langfuse.bodies)
            result.langfuse_spans = list(langfuse.spans)
            result.ports[LANGFUSE] = langfuse.port
        if endpoint is not None:
            result.conversation_text = "\n".join(endpoint.bodies)
            result.conversation_records = endpoint.records()
            result.ports[CONVERSATION_LOG] = endpoint.port
    return result


def iter_values(value: Any) -> Iterator[Any]:
    """Every leaf of a nested structure of dicts and lists."""
    if isinstance(value, Mapping):
        for item in value.values():
            yield from iter_values(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from iter_values(item)
    else:
        yield value

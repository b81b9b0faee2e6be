"""Real OTLP plumbing for tests, all on 127.0.0.1 ephemeral ports (parallel runs do not clash):
RecordingOtlpServer (an OTLP/HTTP receiver recording what it gets) and RotelCollector (rotel-agent)."""

from __future__ import annotations

import gzip
import importlib.resources
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from subprocess import DEVNULL
from typing import Any, Self

from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as logs_svc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as metrics_svc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as trace_svc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric
from opentelemetry.proto.trace.v1.trace_pb2 import Span

LOCALHOST = "127.0.0.1"
Attrs = dict[str, object]
_SIGNALS: dict[str, tuple[Any, Any]] = {  # URL path -> (request type, response type)
    "/v1/traces": (trace_svc.ExportTraceServiceRequest, trace_svc.ExportTraceServiceResponse),
    "/v1/metrics": (metrics_svc.ExportMetricsServiceRequest, metrics_svc.ExportMetricsServiceResponse),
    "/v1/logs": (logs_svc.ExportLogsServiceRequest, logs_svc.ExportLogsServiceResponse),
}
_DECODE: dict[str, Callable[[bytes], bytes]] = {"gzip": gzip.decompress, "deflate": zlib.decompress}


def any_value(value: AnyValue) -> object:
    """An OTLP AnyValue as a plain Python value (list for arrays, dict for kvlists, None if unset)."""
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values)
    return None if kind is None else getattr(value, kind)


def attributes(kvs: Iterable[KeyValue]) -> Attrs:
    """A repeated OTLP KeyValue field (resource/span/log/data-point attributes) as a dict."""
    return {kv.key: any_value(kv.value) for kv in kvs}


class RecordingOtlpServer:
    """OTLP/HTTP protobuf receiver for /v1/traces, /v1/metrics, /v1/logs; records the decoded requests."""

    def __init__(self) -> None:
        self.requests: dict[str, list[Any]] = {path: [] for path in _SIGNALS}  # path -> Export*ServiceRequest
        self.posts: list[tuple[str, str]] = []  # (path, Content-Encoding) of each accepted POST
        self._cond = threading.Condition()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        assert self._httpd is not None, "RecordingOtlpServer is not started"
        return f"http://{LOCALHOST}:{self._httpd.server_address[1]}"

    def start(self) -> Self:
        record = self._record

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                path = self.path.split("?")[0]
                encoding = self.headers.get("Content-Encoding", "identity").lower()
                try:
                    status, reply = (200, record(path, encoding, body)) if path in _SIGNALS else (404, b"")
                except Exception:  # undecodable compression or protobuf
                    status, reply = 400, b""
                self.send_response(status)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer((LOCALHOST, 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="otlp-recorder", daemon=True)
        self._thread.start()
        return self

    def _record(self, path: str, encoding: str, body: bytes) -> bytes:
        request_type, response_type = _SIGNALS[path]
        request = request_type.FromString(_DECODE.get(encoding, bytes)(body))
        with self._cond:
            self.requests[path].append(request)
            self.posts.append((path, encoding))
            self._cond.notify_all()
        reply: bytes = response_type().SerializeToString()
        return reply

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def clear(self) -> None:
        with self._cond:
            for recorded in self.requests.values():
                recorded.clear()
            self.posts.clear()

    def _flatten(self, path: str, outer: str, inner: str, leaf: str) -> list[tuple[Attrs, Any]]:
        with self._cond:
            return [
                (attributes(r.resource.attributes), item)
                for req in self.requests[path]
                for r in getattr(req, outer)
                for s in getattr(r, inner)
                for item in getattr(s, leaf)
            ]

    def spans_with_resource(self) -> list[tuple[Attrs, Span]]:
        return self._flatten("/v1/traces", "resource_spans", "scope_spans", "spans")

    def metrics_with_resource(self) -> list[tuple[Attrs, Metric]]:
        return self._flatten("/v1/metrics", "resource_metrics", "scope_metrics", "metrics")

    def log_records_with_resource(self) -> list[tuple[Attrs, LogRecord]]:
        return self._flatten("/v1/logs", "resource_logs", "scope_logs", "log_records")

    def spans(self) -> list[Span]:
        return [span for _, span in self.spans_with_resource()]

    def metrics(self) -> list[Metric]:
        return [metric for _, metric in self.metrics_with_resource()]

    def log_records(self) -> list[LogRecord]:
        return [record for _, record in self.log_records_with_resource()]

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Block until predicate() holds (re-checked on each received request); False on timeout."""
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def wait_for_spans(self, n: int = 1, timeout: float = 5.0) -> bool:
        return self.wait_until(lambda: len(self.spans()) >= n, timeout)

    def wait_for_metrics(self, n: int = 1, timeout: float = 5.0) -> bool:
        return self.wait_until(lambda: len(self.metrics()) >= n, timeout)

    def wait_for_log_records(self, n: int = 1, timeout: float = 5.0) -> bool:
        return self.wait_until(lambda: len(self.log_records()) >= n, timeout)


def rotel_agent_path() -> Path:
    """The rotel-agent binary shipped inside the installed ``rotel`` wheel."""
    path = importlib.resources.files("rotel").joinpath("rotel-agent")
    if not isinstance(path, Path) or not path.is_file():
        raise FileNotFoundError(f"rotel-agent binary not found in the rotel package: {path}")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOCALHOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((LOCALHOST, port)) == 0


class RotelCollector:
    """rotel-agent as a child process: OTLP gRPC + HTTP receivers on 127.0.0.1 ephemeral ports, all
    signals exported as gzipped OTLP/HTTP protobuf to ``export_endpoint`` (e.g. a RecordingOtlpServer)."""

    def __init__(self, export_endpoint: str, *, batch_timeout: str = "100ms", extra_args: Sequence[str] = ()):
        self.export_endpoint, self.batch_timeout, self.extra_args = export_endpoint, batch_timeout, extra_args
        self.grpc_port = self.http_port = 0
        self.startup_timeout = 10.0
        self.workdir: Path | None = None  # pid file + rotel-agent.log (its stdout/stderr); removed on stop
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def grpc_endpoint(self) -> str:
        return f"http://{LOCALHOST}:{self.grpc_port}"

    @property
    def http_endpoint(self) -> str:
        return f"http://{LOCALHOST}:{self.http_port}"

    def log_text(self) -> str:
        log = self.workdir / "rotel-agent.log" if self.workdir else None
        return log.read_text(errors="replace") if log and log.exists() else ""

    def command(self) -> list[str]:
        assert self.workdir is not None
        return [
            str(rotel_agent_path()), "start",
            "--pid-file", str(self.workdir / "rotel-agent.pid"),
            "--log-file", str(self.workdir / "rotel-agent.log"),
            "--otlp-grpc-endpoint", f"{LOCALHOST}:{self.grpc_port}",
            "--otlp-http-endpoint", f"{LOCALHOST}:{self.http_port}",
            "--batch-timeout", self.batch_timeout,
            "--exporter", "otlp",
            "--otlp-exporter-endpoint", self.export_endpoint,
            "--otlp-exporter-protocol", "http",
            "--otlp-exporter-request-timeout", "2s",
            "--otlp-exporter-retry-initial-backoff", "100ms",
            "--otlp-exporter-retry-max-backoff", "500ms",
            "--otlp-exporter-retry-max-elapsed-time", "3s",
            *self.extra_args,
        ]  # fmt: skip

    def start(self) -> Self:
        self.workdir = Path(tempfile.mkdtemp(prefix="rotel-test-"))
        # Inherited ROTEL_*/OTEL_* settings could add exporters or internal telemetry; no proxies either.
        skip = ("ROTEL_", "OTEL_", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "GRPC_PROXY")
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith(skip)}
        env.update(NO_PROXY="*", no_proxy="*", NO_COLOR="1")
        for _attempt in range(3):  # a picked port may be taken by someone else before rotel binds it
            self.grpc_port, self.http_port = free_port(), free_port()
            with (self.workdir / "rotel-agent.log").open("ab") as out:
                self._proc = subprocess.Popen(self.command(), env=env, stdin=DEVNULL, stdout=out, stderr=out)
            deadline = time.monotonic() + self.startup_timeout
            while self._proc.poll() is None and time.monotonic() < deadline:
                if _port_open(self.grpc_port) and _port_open(self.http_port):
                    return self
                time.sleep(0.02)
            self._terminate()
            if "Address already in use" not in self.log_text():
                break
        log_text = self.log_text()
        self.stop()
        raise RuntimeError(f"rotel-agent did not start listening on {LOCALHOST}:\n{log_text}")

    def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()  # SIGTERM: rotel flushes pending batches, then exits
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop(self) -> None:
        self._terminate()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

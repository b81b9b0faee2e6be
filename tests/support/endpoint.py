"""A real HTTP endpoint on 127.0.0.1 that receives JSON batches, with faults injected on demand.

Faults are queued and applied one per request, in order: an HTTP status (with an optional
``Retry-After``), a dropped connection (closed without an answer), or a slow answer. With
the queue empty, requests are accepted (200). ``stop()`` then ``start()`` on the same port
gives connection-refused in between.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass(frozen=True)
class Fault:
    status: int | None = None  # None with drop=False: accept
    retry_after: str | None = None
    drop: bool = False  # close the connection without answering
    delay: float = 0.0  # seconds before answering
    body: bytes = b""  # what the answer says (a validation error echoing the request, say)
    location: str | None = None  # a redirect's Location


class FaultyEndpoint:
    """Records accepted bodies (decoded JSON) and the headers of every request."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.accepted: list[dict[str, Any]] = []
        self.attempts: list[tuple[int | str, dict[str, str]]] = []  # (status or "dropped", headers)
        self.faults: deque[Fault] = deque()
        self._cond = threading.Condition()
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/conversations"

    def fail(self, *faults: Fault) -> Self:
        with self._cond:
            self.faults.extend(faults)
        return self

    def start(self) -> Self:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {key.lower(): value for key, value in self.headers.items()}
                with owner._cond:
                    fault = owner.faults.popleft() if owner.faults else Fault()
                if fault.delay:
                    time.sleep(fault.delay)
                if fault.drop:
                    with owner._cond:
                        owner.attempts.append(("dropped", headers))
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                status = fault.status or 200
                if status == 200:
                    raw = gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body
                    status = owner.receive(self.path, headers, raw)
                with owner._cond:
                    owner.attempts.append((status, headers))
                    owner._cond.notify_all()
                self.send_response(status)
                if fault.retry_after is not None:
                    self.send_header("Retry-After", fault.retry_after)
                if fault.location is not None:
                    self.send_header("Location", fault.location)
                self.send_header("Content-Length", str(len(fault.body)))
                self.end_headers()
                self.wfile.write(fault.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def receive(self, path: str, headers: dict[str, str], raw: bytes) -> int:
        """Take a request's decompressed body; the status to answer (what the endpoint accepts)."""
        with self._cond:
            self.accepted.append(json.loads(raw))
        return 200

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def records(self) -> list[dict[str, Any]]:
        with self._cond:
            return [record for body in self.accepted for record in body["records"]]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        """The accepted records once at least ``count`` arrived (or what arrived by the timeout)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while sum(len(b["records"]) for b in self.accepted) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
        return self.records()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ClosingEndpoint(FaultyEndpoint):
    """A :class:`FaultyEndpoint` whose ``stop()`` also closes the connections clients keep alive.

    ``FaultyEndpoint.stop()`` closes the listening socket only: a client's kept-alive HTTP/1.1
    connection is still served by its handler thread, so a "stopped" endpoint keeps accepting
    on it. Here a stopped endpoint really refuses until ``start()`` again (same port).
    """

    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self._connections: list[socket.socket] = []

    def start(self) -> Self:
        super().start()
        httpd = self._httpd
        assert httpd is not None
        serve = httpd.process_request

        def process_request(request: Any, client_address: Any) -> None:
            with self._cond:
                self._connections.append(request)
            serve(request, client_address)

        httpd.process_request = process_request  # type: ignore[method-assign]
        return self

    def stop(self) -> None:
        super().stop()
        with self._cond:
            connections, self._connections = self._connections, []
        import contextlib

        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

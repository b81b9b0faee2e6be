"""A local model server for the SDKs under test: one path, a JSON answer or a stream of SSE events.

:class:`OpenAiServer` and :class:`AnthropicServer` say what they answer; this class serves it on
127.0.0.1 and records the request bodies it got.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

LOCALHOST = "127.0.0.1"


class ModelServer:
    """Answers every ``POST`` to :attr:`path` with ``reply``: :meth:`answer` as JSON, or
    :meth:`events` as server-sent events when the request asks for a stream; 404 elsewhere."""

    path = "/"
    base_path = ""  # what the SDK's base URL ends with

    def __init__(self, reply: str = "Hello from the local model.") -> None:
        self.reply = reply
        self.requests: list[dict[str, Any]] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        return f"http://{LOCALHOST}:{self._httpd.server_address[1]}{self.base_path}"

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def events(self, body: dict[str, Any]) -> list[bytes]:
        """The stream's SSE events, each ``event: …\\ndata: …\\n\\n`` or ``data: …\\n\\n``."""
        raise NotImplementedError

    def start(self) -> Self:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
                with server._lock:
                    server.requests.append(body)
                if self.path.split("?")[0].rstrip("/") != server.path:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if body.get("stream"):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    for event in server.events(body):
                        self.wfile.write(event)
                    self.wfile.flush()
                    self.close_connection = True
                    return
                payload = json.dumps(server.answer(body)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer((LOCALHOST, 0), Handler)
        self._httpd.daemon_threads = True
        name = f"{type(self).__name__}-{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, name=name, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def sse(data: dict[str, Any] | str, event: str | None = None) -> bytes:
    """One server-sent event."""
    text = data if isinstance(data, str) else json.dumps(data)
    return (f"event: {event}\n" if event else "").encode() + b"data: " + text.encode() + b"\n\n"

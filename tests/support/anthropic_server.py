"""A local Anthropic-compatible server: ``POST /v1/messages``, plain and streamed (SSE events)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

LOCALHOST = "127.0.0.1"
MODEL_VERSION = "claude-haiku-4-5-20251001"
USAGE = {"input_tokens": 14, "output_tokens": 6}


class AnthropicServer:
    """Answers every message request with ``reply`` and records the request bodies it got."""

    def __init__(self, reply: str = "Hello from the local model.") -> None:
        self.reply = reply
        self.requests: list[dict[str, Any]] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        """The SDK's ``base_url`` (it appends ``/v1/messages``)."""
        assert self._httpd is not None
        return f"http://{LOCALHOST}:{self._httpd.server_address[1]}"

    def start(self) -> Self:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
                with server._lock:
                    server.requests.append(body)
                if self.path.split("?")[0].rstrip("/") != "/v1/messages":
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if body.get("stream"):
                    self._stream()
                else:
                    payload = json.dumps(server._message()).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)

            def _stream(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                for event in server._events():
                    data = json.dumps(event).encode()
                    self.wfile.write(b"event: " + event["type"].encode() + b"\ndata: " + data + b"\n\n")
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer((LOCALHOST, 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, name="anthropic-server", daemon=True).start()
        return self

    def _message(self) -> dict[str, Any]:
        return {
            "id": "msg_local_1",
            "type": "message",
            "role": "assistant",
            "model": MODEL_VERSION,
            "content": [{"type": "text", "text": self.reply}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": USAGE,
        }

    def _events(self) -> list[dict[str, Any]]:
        start = {
            **self._message(),
            "id": "msg_local_2",
            "content": [],
            "stop_reason": None,
            "usage": {"input_tokens": USAGE["input_tokens"], "output_tokens": 1},
        }
        words = self.reply.split(" ")
        deltas = [
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}
            for text in [words[0]] + [" " + word for word in words[1:]]
        ]
        return [
            {"type": "message_start", "message": start},
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            {"type": "ping"},
            *deltas,
            {"type": "content_block_stop", "index": 0},
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": USAGE["output_tokens"]},
            },
            {"type": "message_stop"},
        ]

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

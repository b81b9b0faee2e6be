"""A local OpenAI-compatible server: ``POST /v1/chat/completions``, plain and streamed (SSE)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

LOCALHOST = "127.0.0.1"
MODEL_VERSION = "gpt-4o-mini-2024-07-18"
USAGE = {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}


class OpenAiServer:
    """Answers every chat completion with ``reply`` and records the request bodies it got."""

    def __init__(self, reply: str = "Hello from the local model.") -> None:
        self.reply = reply
        self.requests: list[dict[str, Any]] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        return f"http://{LOCALHOST}:{self._httpd.server_address[1]}/v1"

    def start(self) -> Self:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
                with server._lock:
                    server.requests.append(body)
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if body.get("stream"):
                    self._stream(body)
                else:
                    self._json(server._completion())

            def _json(self, data: dict[str, Any]) -> None:
                payload = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _stream(self, body: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                with_usage = bool((body.get("stream_options") or {}).get("include_usage"))
                for chunk in server._chunks(with_usage):
                    self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer((LOCALHOST, 0), Handler)
        threading.Thread(target=self._httpd.serve_forever, name="openai-server", daemon=True).start()
        return self

    def _completion(self) -> dict[str, Any]:
        return {
            "id": "chatcmpl-local-1",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": MODEL_VERSION,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": self.reply, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": USAGE,
        }

    def _chunks(self, with_usage: bool) -> list[dict[str, Any]]:
        base = {"id": "chatcmpl-local-2", "object": "chat.completion.chunk", "created": 1_700_000_000}
        base["model"] = MODEL_VERSION
        words = self.reply.split(" ")
        deltas = [{"role": "assistant", "content": ""}] + [
            {"content": word if index == 0 else " " + word} for index, word in enumerate(words)
        ]
        chunks = [
            {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]} for delta in deltas
        ]
        chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if with_usage:
            chunks.append({**base, "choices": [], "usage": USAGE})
        return chunks

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

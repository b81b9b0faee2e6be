"""A local OpenAI-compatible server: ``POST /v1/chat/completions``, plain and streamed (SSE)."""

from __future__ import annotations

from typing import Any

from tests.support.model_server import ModelServer, sse

MODEL_VERSION = "gpt-4o-mini-2024-07-18"
USAGE = {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}


class OpenAiServer(ModelServer):
    """Answers every chat completion with ``reply`` and records the request bodies it got."""

    path = "/v1/chat/completions"
    base_path = "/v1"

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
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

    def events(self, body: dict[str, Any]) -> list[bytes]:
        with_usage = bool((body.get("stream_options") or {}).get("include_usage"))
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
        return [*map(sse, chunks), sse("[DONE]")]

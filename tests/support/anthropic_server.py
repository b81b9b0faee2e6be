"""A local Anthropic-compatible server: ``POST /v1/messages``, plain and streamed (SSE events)."""

from __future__ import annotations

from typing import Any

from tests.support.model_server import ModelServer, sse

MODEL_VERSION = "claude-haiku-4-5-20251001"
USAGE = {"input_tokens": 14, "output_tokens": 6}


class AnthropicServer(ModelServer):
    """Answers every message request with ``reply`` and records the request bodies it got."""

    path = "/v1/messages"
    base_path = ""  # the SDK appends /v1/messages

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
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

    def events(self, body: dict[str, Any]) -> list[bytes]:
        start = {
            **self.answer(body),
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
        stream = [
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
        return [sse(event, event["type"]) for event in stream]

"""A small chat app for the Phoenix tests: agent runs whose model calls carry their messages as span
events (``gen_ai.user.message``, ``gen_ai.choice``, the operation-details event), a tool call and a
plain span, the way the official OTel GenAI instrumentations of an older convention record them."""

from __future__ import annotations

EMAIL = "alice.smith@example.com"  # in a prompt: must reach Phoenix redacted
QUESTIONS = ("What is the weather in Oslo?", "And in Bergen?")
ANSWERS = ("Rainy, 8 degrees.", "Sunny, 12 degrees.")

# argv: turns. A metric and a log record per turn too (Phoenix takes neither).
# Each turn: invoke_agent > (chat with message events, execute_tool, chat with the
# operation-details event), plus a plain span.
CHAT_APP = f"""
import json, logging, sys
import otel_distro
from opentelemetry import metrics, trace

handle = otel_distro.configure(service_name="chat-app", log_bridge=True)
tracer = trace.get_tracer("chat-app")
turns = metrics.get_meter("chat-app").create_counter("turns")
questions, answers = {QUESTIONS!r}, {ANSWERS!r}
for turn in range(int(sys.argv[1])):
    question, answer = questions[turn % 2], answers[turn % 2]
    with tracer.start_as_current_span("invoke_agent weather-agent") as agent:
        agent.set_attribute("gen_ai.operation.name", "invoke_agent")
        agent.set_attribute("gen_ai.agent.name", "weather-agent")
        with tracer.start_as_current_span("load settings"):
            pass
        with tracer.start_as_current_span("chat gpt-4o") as chat:
            chat.set_attributes({{
                "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o", "gen_ai.response.model": "gpt-4o-2024-08-06",
                "gen_ai.usage.input_tokens": 20, "gen_ai.usage.output_tokens": 9,
                "gen_ai.response.finish_reasons": ["tool_calls"],
            }})
            chat.add_event("gen_ai.system.message", {{"content": "You are a weather bot."}})
            chat.add_event("gen_ai.user.message", {{"content": question + " Mail me at {EMAIL}"}})
            chat.add_event("gen_ai.choice", {{
                "index": 0, "finish_reason": "tool_calls",
                "message": json.dumps({{"role": "assistant", "content": "Looking it up.",
                    "tool_calls": [{{"id": "call-1", "type": "function",
                        "function": {{"name": "weather", "arguments": json.dumps({{"city": "Oslo"}})}}}}]}}),
            }})
        with tracer.start_as_current_span("execute_tool weather") as tool:
            tool.set_attributes({{
                "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "weather",
                "gen_ai.tool.call.id": "call-1", "gen_ai.tool.call.arguments": json.dumps({{"city": "Oslo"}}),
                "gen_ai.tool.call.result": answer,
            }})
        with tracer.start_as_current_span("chat gpt-4o") as chat:
            chat.set_attributes({{
                "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 40,
                "gen_ai.usage.output_tokens": 7, "gen_ai.response.finish_reasons": ["stop"],
            }})
            chat.add_event("gen_ai.client.inference.operation.details", {{
                "gen_ai.input.messages": json.dumps([
                    {{"role": "user", "parts": [{{"type": "text", "content": question}}]}},
                    {{"role": "tool", "parts": [{{"type": "tool_call_response", "id": "call-1",
                        "response": answer}}]}},
                ]),
                "gen_ai.output.messages": json.dumps([
                    {{"role": "assistant", "parts": [{{"type": "text", "content": answer}}],
                      "finish_reason": "stop"}},
                ]),
            }})
    turns.add(1)
    logging.getLogger("chat-app").warning("turn %d answered", turn)
handle.shutdown()
"""
SPANS_PER_TURN = 5
GENAI_SPANS_PER_TURN = 4  # the agent, two chats, the tool

"""A small agent-like app with no telemetry code of its own beyond the OTel API.

Run it zero-code: ``opentelemetry-instrument python examples/app.py``; `make demo` does.
"""

import logging
import random
import time

from opentelemetry import metrics, trace

tracer = trace.get_tracer("examples.app")
meter = metrics.get_meter("examples.app")
requests_counter = meter.create_counter("agent.requests", description="Questions answered")
latency = meter.create_histogram("agent.latency", unit="ms", description="Answer latency")
log = logging.getLogger("examples.app")
log.setLevel(logging.INFO)


def call_model(question: str) -> str:
    with tracer.start_as_current_span("chat gpt-4o-mini", kind=trace.SpanKind.CLIENT) as span:
        span.set_attribute("gen_ai.operation.name", "chat")
        span.set_attribute("gen_ai.provider.name", "openai")
        span.set_attribute("gen_ai.request.model", "gpt-4o-mini")
        # A user's words, with PII: what reaches the store is redacted (<EMAIL>, <PHONE_NUMBER>).
        span.add_event(
            "gen_ai.user.message",
            {"content": f"{question}? reach me at jane.doe@example.com or +1 415-555-2671"},
        )
        time.sleep(random.uniform(0.005, 0.02))
        span.set_attribute("gen_ai.usage.input_tokens", 12 + len(question))
        span.set_attribute("gen_ai.usage.output_tokens", 40)
        span.add_event("gen_ai.choice", {"finish_reason": "stop"})
        return f"answer to {question!r}"


def lookup(topic: str) -> str:
    with tracer.start_as_current_span("execute_tool search") as span:
        span.set_attribute("gen_ai.operation.name", "execute_tool")
        span.set_attribute("gen_ai.tool.name", "search")
        if topic == "broken":
            raise RuntimeError("search backend unavailable")
        return f"facts about {topic}"


def answer(question: str) -> None:
    started = time.perf_counter()
    with tracer.start_as_current_span("invoke_agent helper") as span:
        span.set_attribute("gen_ai.operation.name", "invoke_agent")
        span.set_attribute("gen_ai.agent.name", "helper")
        span.set_attribute("gen_ai.conversation.id", "demo-session")
        try:
            lookup(question)
        except RuntimeError as exc:
            span.record_exception(exc)
            span.set_status(trace.Status(trace.StatusCode.ERROR, str(exc)))
            log.warning("tool failed for %s: %s", question, exc)
        call_model(question)
    requests_counter.add(1, {"agent": "helper"})
    latency.record((time.perf_counter() - started) * 1000, {"agent": "helper"})
    log.info("answered %s", question)


if __name__ == "__main__":
    for question in ("weather", "news", "broken", "recipes"):
        answer(question)
    print("example app done: 4 questions answered")

"""A small research agent recorded with the `instrumentations` helpers.

Run it zero-code: ``opentelemetry-instrument python examples/agent_app.py`` (`make demo` does),
then ``otel-distro trace last`` and ``otel-distro compliance``. The model is a stand-in (no
network): the helpers record what a real call would give.
"""

from __future__ import annotations

import logging
import random
import time

from instrumentations import (
    instrument_method,
    record_conversation_turn,
    record_memory_operation,
    record_model_interaction,
    record_routing_decision,
    trace_tool_execution,
    track_run,
)

log = logging.getLogger("examples.agent_app")
MODEL, PROVIDER = "gpt-4o-mini", "openai"


@trace_tool_execution("web_search")
def web_search(query: str) -> list[str]:
    """Search the web and return the titles of the best pages."""
    time.sleep(random.uniform(0.002, 0.01))
    if "outage" in query:
        raise TimeoutError("search backend did not answer in time")
    return [f"{query}: overview", f"{query}: pricing", f"{query}: reviews"]


@trace_tool_execution("summarise")
def summarise(pages: list[str]) -> str:
    """Condense pages into one paragraph."""
    return "; ".join(pages)


@instrument_method("planner", "plan")
def plan(question: str) -> list[str]:
    return [question, f"{question} alternatives"]


def answer(run_question: str, session: str) -> str:
    record_routing_decision(
        "router",
        "researcher",
        candidates=["researcher", "coder"],
        reason="question asks for facts",
        score=0.92,
    )
    record_memory_operation("search", "user-notes", memory_type="long_term", provider="local", result_count=2)
    pages: list[str] = []
    for query in plan(run_question):
        try:
            pages += web_search(query)
        except TimeoutError as exc:
            log.warning("search failed: %s", exc)
    summary = summarise(pages)
    reply = f"Here is what I found: {summary}"
    prompt = f"{run_question} (reply to jane.doe@example.com)"  # PII: the store keeps <EMAIL>
    record_model_interaction(
        MODEL,
        provider=PROVIDER,
        input_messages=[{"role": "system", "content": "You are terse."}, prompt],
        output_messages=reply,
        input_tokens=120,
        output_tokens=40,
        response_id="chatcmpl-demo",
        finish_reasons=["stop"],
        conversation_id=session,
        duration_s=0.004,
    )
    record_conversation_turn(session, prompt, reply, model=MODEL, provider=PROVIDER, agent_name="researcher")
    record_memory_operation(
        "update", "user-notes", memory_type="long_term", provider="local", memory_id="note-7"
    )
    return reply


def main() -> None:
    try:
        with track_run("researcher", "cleanup", provider=PROVIDER):
            raise RuntimeError("cleanup target missing")
    except RuntimeError:
        log.warning("cleanup run failed (recorded as a failed run)")
    for index, question in enumerate(("vector databases", "llm outage reports")):
        with track_run(
            "researcher", "question", provider=PROVIDER, model=MODEL, conversation_id="demo"
        ) as run:
            # PII in what the app records: the store (and `trace last`) show <EMAIL> instead
            run.log_event("question.received", {"index": index, "asked_by": "jane.doe@example.com"})
            run.associate_commit(
                "9fceb02d0ae598e95dc970b74767f19372d61af8", repo="https://example.com/agent.git"
            )
            answer(question, session=f"demo-{index}")
            run.set_metrics(items_discovered=3, items_succeeded=3 - index, items_failed=index, relevance=0.8)


if __name__ == "__main__":
    main()

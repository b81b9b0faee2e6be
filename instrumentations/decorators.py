"""Decorators: ``trace_agent_run``, ``trace_tool_execution`` and ``instrument_method``, for sync
and async functions and (async) generators. The function's own exceptions pass through
unchanged (recorded on the span); a failure of the telemetry never reaches the caller."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from opentelemetry.trace import Span, SpanKind

from instrumentations import conventions as c
from instrumentations._spans import clean_attributes, json_text, traced
from instrumentations.runs import track_run

F = TypeVar("F", bound=Callable[..., Any])


def _first_doc_line(func: Callable[..., Any]) -> str | None:
    doc = inspect.getdoc(func)
    return doc.strip().splitlines()[0] if doc and doc.strip() else None


def trace_tool_execution(
    name: str | None = None,
    *,
    description: str | None = None,
    tool_type: str = "function",
    capture_io: bool = False,
) -> Callable[[F], F]:
    """Record each call as an ``execute_tool {name}`` span (``gen_ai.tool.name``, ``.type``, and
    ``.description`` from the docstring's first line). ``capture_io=True`` also records the
    arguments and the result (``gen_ai.tool.call.arguments`` / ``.result``, as JSON): they are
    opt-in in the conventions because they may hold what users typed."""

    def decorate(func: F) -> F:
        tool = name or func.__name__
        attributes = clean_attributes(
            {
                c.OPERATION: c.EXECUTE_TOOL,
                c.TOOL_NAME: tool,
                c.TOOL_TYPE: tool_type,
                c.TOOL_DESCRIPTION: description or _first_doc_line(func),
            }
        )
        span_name = f"{c.EXECUTE_TOOL} {tool}"
        if not capture_io:
            return traced(func, span_name, SpanKind.INTERNAL, attributes)
        return _with_io(func, span_name, attributes)

    return decorate


def _with_io(func: F, span_name: str, attributes: dict[str, Any]) -> F:
    """A traced function that also records its arguments and (not for generators) its result."""
    signature = inspect.signature(func)

    def record_arguments(span: Span, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        bound = signature.bind_partial(*args, **kwargs).arguments
        span.set_attribute(
            c.TOOL_ARGUMENTS,
            json_text({key: value for key, value in bound.items() if key not in ("self", "cls")}),
        )

    def record_result(span: Span, result: Any) -> None:
        span.set_attribute(c.TOOL_RESULT, json_text(result))

    return traced(func, span_name, SpanKind.INTERNAL, attributes, record_arguments, record_result)


def trace_agent_run(name: str | None = None, *, job_type: str = "run", **run_attrs: Any) -> Callable[[F], F]:
    """Record each call as an agent run (see :func:`instrumentations.track_run`): an
    ``invoke_agent {name}`` span, ending ``success`` or ``failed``, and the run metrics.
    For (async) generators the span covers the whole iteration, without the run metrics."""

    def decorate(func: F) -> F:
        agent = name or func.__name__
        if inspect.isasyncgenfunction(func) or inspect.isgeneratorfunction(func):
            attributes = clean_attributes(
                {
                    c.OPERATION: c.INVOKE_AGENT,
                    c.AGENT_NAME: agent,
                    c.RUN_JOB_TYPE: job_type,
                    c.PROVIDER: run_attrs.get("provider"),
                    c.REQUEST_MODEL: run_attrs.get("model"),
                }
            )
            return traced(func, f"{c.INVOKE_AGENT} {agent}", SpanKind.INTERNAL, attributes)
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with track_run(agent, job_type, **run_attrs):
                    return await func(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with track_run(agent, job_type, **run_attrs):
                return func(*args, **kwargs)

        return run  # type: ignore[return-value]

    return decorate


def instrument_method(component: str, operation: str) -> Callable[[F], F]:
    """Record each call as a ``{component}.{operation}`` span (``agent.component`` and
    ``agent.component.operation`` attributes), for the parts of an agent the GenAI
    conventions have no name for (a planner, a scheduler, a parser)."""

    def decorate(func: F) -> F:
        attributes = {
            c.COMPONENT: component,
            c.COMPONENT_OPERATION: operation,
            "code.function.name": func.__qualname__,
        }
        return traced(func, f"{component}.{operation}", SpanKind.INTERNAL, attributes)

    return decorate

"""What every helper shares: the tracer and meter (OTel API only), safe attribute values, and
spans around sync and async functions and generators that never let a telemetry error out."""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import logging
import re
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from typing import Any, TypeVar

from opentelemetry import context as context_api
from opentelemetry import metrics, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from instrumentations.version import __version__
from otel_distro.runtime.errors import caught

_logger = logging.getLogger("otel_distro.instrumentations")
SCOPE = "instrumentations"
ERROR_TYPE = "error.type"
MAX_TEXT = 8192  # characters kept of a value turned into text (arguments, results, odd types)

tracer = trace.get_tracer(SCOPE, __version__)
meter = metrics.get_meter(SCOPE, __version__)

F = TypeVar("F", bound=Callable[..., Any])
_warned: set[str] = set()


def warn_once(what: str, exc: BaseException) -> None:
    """Log a helper's own failure once per kind; the caller's code runs on regardless (a bug of
    ours is raised under the test suite: :func:`otel_distro.runtime.errors.caught`)."""
    caught(what, exc)
    if what not in _warned:
        _warned.add(what)
        _logger.warning(
            "instrumentations: %s failed (%r); telemetry of this call may be incomplete", what, exc
        )


def clean(value: Any) -> Any:
    """An attribute value OTel accepts: primitives and lists of one primitive type as they are,
    anything else as (bounded) JSON text."""
    if isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list | tuple) and value:
        kinds = {type(item) for item in value}
        if len(kinds) == 1 and kinds <= {str, bool, int, float}:
            return list(value)
    return text(value)


_NUMBER_GROUP = re.compile(r"[+(]?[\d().\-/]+")  # a group of a number written with spaces


def _last_space(text: str) -> int:
    return max(text.rfind(" "), text.rfind("\n"), text.rfind("\t"))


def bounded(text: str) -> str:
    """``text`` cut to :data:`MAX_TEXT` characters where longer, then back to a whole value: a value
    cut in its middle ("jane.doe@exam", "+44 20 7946") is one no pattern can recognize, so the
    token the cut fell in, and the groups of a number written with spaces before it, are left
    out (a text of one long token is cut where it is)."""
    if len(text) <= MAX_TEXT:
        return text
    cut = text[:MAX_TEXT]
    if not text[MAX_TEXT].isspace() and (space := _last_space(cut)) > 0:
        cut = cut[:space]
    while True:
        cut = cut.rstrip()
        space = _last_space(cut)
        if space <= 0 or not _NUMBER_GROUP.fullmatch(cut, space + 1):
            return cut
        cut = cut[:space]


def text(value: Any) -> str:
    if isinstance(value, str):
        return bounded(value)
    try:
        return bounded(json.dumps(value, default=str, ensure_ascii=False))
    except Exception as exc:  # noqa: BLE001 - e.g. a __str__ that raises: say what it was instead
        caught("writing a value as text", exc)
        return f"<{type(value).__name__}>"


def json_text(value: Any) -> str:
    """``value`` as (bounded) JSON text, strings included, so text and structure stay apart."""
    try:
        return bounded(json.dumps(value, default=str, ensure_ascii=False))
    except Exception as exc:  # noqa: BLE001 - e.g. a __str__ that raises: say what it was instead
        caught("writing a value as JSON", exc)
        return json.dumps(f"<{type(value).__name__}>")


def clean_attributes(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """Drop None values and unusable keys; make every value OTel-valid."""
    if not attributes:
        return {}
    return {str(key): clean(value) for key, value in attributes.items() if value is not None}


def mark_error(span: Span, exc: BaseException) -> None:
    """Record an exception the way the conventions ask: status, ``error.type`` and the event."""
    try:
        span.set_attribute(ERROR_TYPE, type(exc).__qualname__)
        span.record_exception(exc)
        span.set_status(Status(StatusCode.ERROR, bounded(f"{type(exc).__name__}: {exc}")))
    except Exception as own:  # noqa: BLE001
        warn_once("recording an error", own)


class _Step:
    """Makes ``span`` current for the duration of one step of a generator."""

    def __init__(self, span: Span) -> None:
        self.span = span
        self.token: object = None

    def __enter__(self) -> None:
        try:
            self.token = context_api.attach(trace.set_span_in_context(self.span))
        except Exception as exc:  # noqa: BLE001
            warn_once("activating a span", exc)

    def __exit__(self, *exc: object) -> None:
        if self.token is not None:
            try:
                context_api.detach(self.token)  # type: ignore[arg-type]
            except Exception as own:  # noqa: BLE001
                warn_once("deactivating a span", own)
            self.token = None


def _end(span: Span | None, exc: BaseException | None = None) -> None:
    if span is None:
        return
    try:
        if exc is not None:
            mark_error(span, exc)
        span.end()
    except Exception as own:  # noqa: BLE001
        warn_once("ending a span", own)


def start_span(name: str, kind: SpanKind, attributes: Mapping[str, Any]) -> Span | None:
    """A started span (not current), or None if telemetry failed."""
    try:
        return tracer.start_span(name, kind=kind, attributes=attributes)
    except Exception as exc:  # noqa: BLE001
        warn_once("starting a span", exc)
        return None


_Active = tuple[Span, object]


def _enter(name: str, kind: SpanKind, attributes: Mapping[str, Any]) -> _Active | None:
    """Start a span and make it current (without the context-manager layers of
    ``start_as_current_span``: a decorated call should cost little more than the span itself)."""
    try:
        span = tracer.start_span(name, kind=kind, attributes=attributes)
        return span, context_api.attach(trace.set_span_in_context(span))
    except Exception as exc:  # noqa: BLE001
        warn_once("starting a span", exc)
        return None


def _exit(active: _Active | None, exc: BaseException | None) -> None:
    if active is None:
        return
    span, token = active
    try:
        context_api.detach(token)  # type: ignore[arg-type]
    except Exception as own:  # noqa: BLE001
        warn_once("deactivating a span", own)
    _end(span, exc)


OnStart = Callable[[Span, tuple[Any, ...], dict[str, Any]], None]
OnResult = Callable[[Span, Any], None]


def traced(
    func: F,
    name: str,
    kind: SpanKind,
    attributes: Mapping[str, Any],
    on_start: OnStart | None = None,
    on_result: OnResult | None = None,
) -> F:
    """``func`` wrapped in a span named ``name``, whatever kind of callable it is: the span covers
    the call, the awaited coroutine, or the whole iteration of a (async) generator (from its
    first step; a generator closed before it started records nothing). The wrapper is the same
    kind of callable as ``func``. ``on_start(span, args, kwargs)`` and ``on_result(span, value)``
    add to the span (``on_result`` not for generators); their failures are only logged."""

    def enter(args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Active | None:
        active = _enter(name, kind, attributes)
        if on_start is not None and active is not None:
            _call_hook("recording arguments", on_start, active[0], args, kwargs)
        return active

    def start(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Callable[[], Span | None]:
        return lambda: _start(name, kind, attributes, on_start, args, kwargs)

    if inspect.isasyncgenfunction(func):
        return _async_generator_wrapper(func, start)
    if inspect.isgeneratorfunction(func):

        @functools.wraps(func)
        def gen_wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
            return (yield from _generator(func(*args, **kwargs), _Steps(start(args, kwargs))))

        return gen_wrapper  # type: ignore[return-value]
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            active = enter(args, kwargs)
            try:
                result = await func(*args, **kwargs)
            except BaseException as exc:
                _exit(active, exc)
                raise
            if on_result is not None and active is not None:
                _call_hook("recording a result", on_result, active[0], result)
            _exit(active, None)
            return result

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        active = enter(args, kwargs)
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            _exit(active, exc)
            raise
        if on_result is not None and active is not None:
            _call_hook("recording a result", on_result, active[0], result)
        _exit(active, None)
        return result

    return wrapper  # type: ignore[return-value]


def _call_hook(what: str, hook: Callable[..., None], *args: Any) -> None:
    try:
        hook(*args)
    except Exception as exc:  # noqa: BLE001
        warn_once(what, exc)


def _start(
    name: str,
    kind: SpanKind,
    attributes: Mapping[str, Any],
    on_start: OnStart | None,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Span | None:
    span = start_span(name, kind, attributes)
    if span is not None and on_start is not None:
        _call_hook("recording arguments", on_start, span, args, kwargs)
    return span


class _Steps:
    """A generator's span: started at its first step, current during each step, ended once."""

    def __init__(self, start: Callable[[], Span | None]) -> None:
        self._start = start
        self.span: Span | None = None
        self._started = self._ended = False

    def step(self) -> _Step | contextlib.nullcontext[None]:
        if not self._started:
            self._started = True
            self.span = self._start()
        return _Step(self.span) if self.span is not None else contextlib.nullcontext()

    def end(self, exc: BaseException | None = None) -> None:
        if not self._ended:
            self._ended = True
            _end(self.span, exc)


def _generator(inner: Generator[Any, Any, Any], steps: _Steps) -> Generator[Any, Any, Any]:
    """Drive ``inner`` with the span current during each of its steps; end the span with it."""
    method, argument = "send", None
    while True:
        try:
            with steps.step():
                item = getattr(inner, method)(argument)
        except StopIteration as stop:
            steps.end()
            return stop.value
        except BaseException as exc:
            steps.end(exc)
            raise
        try:
            method, argument = "send", (yield item)
        except GeneratorExit:
            try:
                inner.close()
            finally:
                steps.end()
            raise
        except BaseException as exc:  # noqa: BLE001 - thrown in by the caller: pass it on
            method, argument = "throw", exc


def _async_generator_wrapper(
    func: F, start: Callable[[tuple[Any, ...], dict[str, Any]], Callable[[], Span | None]]
) -> F:
    """An async generator function driving ``func``'s generator with the span current during
    each step (the async twin of :func:`_generator`, which cannot be shared: no ``yield from``)."""

    @functools.wraps(func)
    async def async_gen_wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        steps = _Steps(start(args, kwargs))
        inner = func(*args, **kwargs)
        method, argument = "asend", None
        while True:
            try:
                with steps.step():
                    item = await getattr(inner, method)(argument)
            except StopAsyncIteration:
                steps.end()
                return
            except BaseException as exc:
                steps.end(exc)
                raise
            try:
                method, argument = "asend", (yield item)
            except GeneratorExit:
                try:
                    await inner.aclose()
                finally:
                    steps.end()
                raise
            except BaseException as exc:  # noqa: BLE001 - thrown in by the caller: pass it on
                method, argument = "athrow", exc

    return async_gen_wrapper  # type: ignore[return-value]


# What the enclosing agent run named (track_run(..., provider=, model=, conversation_id=,
# user_id=)): spans recorded inside it take the provider and model where their caller gave
# none, and HTTP hooks (the distro's Helicone headers) read the session, user and agent.
_RUN = context_api.create_key("otel_distro.run")
RUN_FACTS = ("provider", "model", "session", "user", "agent")


def with_run(facts: dict[str, str | None], ctx: context_api.Context) -> context_api.Context:
    """``ctx`` carrying a run's facts (the enclosing run's where this one names none)."""
    outer = run_facts()
    merged = {name: facts.get(name) or outer.get(name) for name in RUN_FACTS}
    return context_api.set_value(_RUN, tuple(merged[name] for name in RUN_FACTS), ctx)


def run_facts() -> dict[str, str | None]:
    """What the agent run the caller is in named: provider, model, session, user, agent."""
    value = context_api.get_value(_RUN)
    if isinstance(value, tuple) and len(value) == len(RUN_FACTS):
        return dict(zip(RUN_FACTS, value, strict=True))
    return {}


def run_defaults() -> tuple[str | None, str | None]:
    """The provider and model of the agent run the caller is in, if it named them."""
    facts = run_facts()
    return facts.get("provider"), facts.get("model")

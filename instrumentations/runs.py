"""Agent runs: ``track_run`` (a ``with``), ``start_run``/``end_run`` (without one), and the run
handle that logs events, metrics and commits. A run is an ``invoke_agent`` span, and its
count, duration and items are OTel metrics too."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind

from instrumentations import conventions as c
from instrumentations._spans import (
    clean,
    clean_attributes,
    mark_error,
    meter,
    run_defaults,
    start_span,
    warn_once,
    with_run,
)

SUCCESS, FAILED = "success", "failed"
_AGENT_NAMESPACE = uuid.UUID("0b6c2f0e-5a53-4c1e-9d0f-2f7f1d8e4a11")

_runs = meter.create_counter(
    "agent.runs", unit="{run}", description="Agent runs, by agent, job type and status."
)
_durations = meter.create_histogram(
    "agent.run.duration", unit="s", description="Duration of agent runs, by agent, job type and status."
)
_items = meter.create_counter(
    "agent.run.items", unit="{item}", description="Items an agent run discovered, succeeded and failed on."
)
_custom = meter.create_histogram(
    "agent.run.custom", description="Custom values agent runs reported, by metric name."
)


def agent_id(agent_name: str) -> str:
    """A stable id for an agent known only by name (the same name gives the same id)."""
    return str(uuid.uuid5(_AGENT_NAMESPACE, agent_name))


class RunHandle:
    """One agent run: its span and id, and what the run reports while it goes."""

    def __init__(self, agent_name: str, job_type: str, span: Span | None, run_id: str) -> None:
        self.agent_name = agent_name
        self.job_type = job_type
        self.run_id = run_id
        self.span = span
        self.status: str | None = None
        self.provider: str | None = None  # what the run named (or its enclosing run), for spans inside
        self.model: str | None = None
        self.facts: dict[str, str | None] = {}  # provider, model, session, user, agent: for the context
        self._started = time.monotonic()
        self._labels = {c.AGENT_NAME: agent_name, c.RUN_JOB_TYPE: job_type}

    def log_event(self, name: str, attributes: dict[str, Any] | None = None) -> None:
        """Add an event (name and attributes) to the run's span."""
        try:
            if self.span is not None:
                self.span.add_event(str(name), clean_attributes(attributes))
        except Exception as exc:  # noqa: BLE001
            warn_once("log_event", exc)

    def set_metrics(
        self,
        items_discovered: int | None = None,
        items_succeeded: int | None = None,
        items_failed: int | None = None,
        **custom: float,
    ) -> None:
        """Record the run's item counts (span attributes and the ``agent.run.items`` counter)
        and custom numbers (span attributes and the ``agent.run.custom`` histogram)."""
        given = {"discovered": items_discovered, "succeeded": items_succeeded, "failed": items_failed}
        counts = {outcome: count for outcome, count in given.items() if count is not None}
        try:
            if self.span is not None:
                for outcome, count in counts.items():
                    self.span.set_attribute(f"{c.RUN_ITEMS}.{outcome}", int(count))
                for name, value in custom.items():
                    self.span.set_attribute(f"{c.RUN_METRICS}.{name}", clean(value))
        except Exception as exc:  # noqa: BLE001 - the metrics below are still recorded
            warn_once("set_metrics on the span", exc)
        try:
            for outcome, count in counts.items():
                _items.add(int(count), {**self._labels, "agent.run.item.outcome": outcome})
            for name, value in custom.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    _custom.record(value, {**self._labels, "agent.run.metric.name": name})
        except Exception as exc:  # noqa: BLE001
            warn_once("set_metrics", exc)

    def associate_commit(self, commit_hash: str, repo: str | None = None, source: str | None = None) -> None:
        """Tie the run to a commit (``vcs.*`` attributes on the span, and an event per commit)."""
        try:
            attributes = clean_attributes(
                {c.VCS_REVISION: commit_hash, c.VCS_REPOSITORY: repo, c.VCS_PROVIDER: source}
            )
            if self.span is not None:
                self.span.set_attributes(attributes)
                self.span.add_event("agent.run.commit", attributes)
        except Exception as exc:  # noqa: BLE001
            warn_once("associate_commit", exc)

    def end(self, status: str = SUCCESS, error: BaseException | None = None) -> None:
        """End the run (once): ``success`` or ``failed``; with an error, ``failed`` and the
        error recorded."""
        if self.status is not None:
            return
        self.status = FAILED if error is not None or status == FAILED else SUCCESS
        try:
            if self.span is not None:
                self.span.set_attribute(c.RUN_STATUS, self.status)
                if error is not None:
                    mark_error(self.span, error)
                elif self.status == FAILED:
                    self.span.set_attribute(c.ERROR_TYPE, "failed")
                    self.span.set_status(trace.Status(trace.StatusCode.ERROR, "run failed"))
                self.span.end()
        except Exception as exc:  # noqa: BLE001 - the run is still counted below
            warn_once("ending a run's span", exc)
        try:
            labels = {**self._labels, c.RUN_STATUS: self.status}
            if error is not None:
                labels[c.ERROR_TYPE] = type(error).__qualname__
            _runs.add(1, labels)
            _durations.record(time.monotonic() - self._started, labels)
        except Exception as exc:  # noqa: BLE001
            warn_once("counting a run", exc)


def _begin(agent_name: str, job_type: str, attrs: dict[str, Any]) -> RunHandle:
    run_id = str(attrs.pop("run_id", None) or uuid.uuid4())
    outer_provider, outer_model = run_defaults()  # a run inside a run takes what it names
    provider = attrs.pop("provider", None) or outer_provider
    model = attrs.pop("model", None) or outer_model
    conversation_id = attrs.pop("conversation_id", None)
    user_id = attrs.pop("user_id", None)
    description = attrs.pop("description", None)
    identity = attrs.pop("agent_id", None) or agent_id(agent_name)
    attributes = clean_attributes(
        {
            c.OPERATION: c.INVOKE_AGENT,
            c.AGENT_NAME: agent_name,
            c.AGENT_ID: identity,
            c.AGENT_DESCRIPTION: description,
            c.PROVIDER: provider,
            c.REQUEST_MODEL: model,
            c.CONVERSATION_ID: conversation_id,
            c.USER_ID: user_id,
            c.RUN_ID: run_id,
            c.RUN_JOB_TYPE: job_type,
            **attrs,
        }
    )
    span = start_span(f"{c.INVOKE_AGENT} {agent_name}", SpanKind.INTERNAL, attributes)
    run = RunHandle(agent_name, job_type, span, run_id)
    run.provider, run.model = provider, model
    run.facts = {
        "provider": provider,
        "model": model,
        "session": None if conversation_id is None else str(conversation_id),
        "user": None if user_id is None else str(user_id),
        "agent": agent_name,
    }
    return run


@contextmanager
def track_run(agent_name: str, job_type: str, **attrs: Any) -> Iterator[RunHandle]:
    """Record one agent run; yields its :class:`RunHandle`.

    The run ends ``success``, or ``failed`` with the error recorded when an exception escapes
    (the exception is re-raised). Spans started inside are its children. Keyword arguments
    ``provider``, ``model``, ``conversation_id``, ``user_id``, ``agent_id``, ``description`` and
    ``run_id`` fill the matching attributes; any other becomes a span attribute as given. The
    provider and model flow to what is recorded inside the run (model calls, conversation
    turns, memory operations, nested runs) where those name none.
    """
    run = _begin(str(agent_name), str(job_type), dict(attrs))
    token = None
    try:
        ctx = trace.set_span_in_context(run.span) if run.span is not None else context_api.get_current()
        # spans recorded inside the run take its provider and model where they name none
        token = context_api.attach(with_run(run.facts, ctx))
    except Exception as exc:  # noqa: BLE001
        warn_once("activating a run", exc)
    try:
        yield run
    except BaseException as exc:
        _detach(token)
        run.end(FAILED, exc)
        raise
    _detach(token)
    run.end(run.status or SUCCESS)


def _detach(token: object) -> None:
    if token is not None:
        try:
            context_api.detach(token)  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001
            warn_once("deactivating a run", exc)


_open: dict[str, RunHandle] = {}
_open_lock = threading.Lock()
MAX_OPEN_RUNS = 10_000  # runs started and never ended are dropped beyond this, oldest first


def start_run(agent_name: str, job_type: str, **attrs: Any) -> str:
    """Start a run for code that cannot use ``with``; returns its id for :func:`end_run`.

    The run's span is not made current (it could not be undone safely across calls);
    :func:`get_run` gives its handle for events, metrics and commits.
    """
    run = _begin(str(agent_name), str(job_type), dict(attrs))
    with _open_lock:
        if len(_open) >= MAX_OPEN_RUNS:
            _open.pop(next(iter(_open)))
        _open[run.run_id] = run
    return run.run_id


def get_run(run_id: str) -> RunHandle | None:
    """The handle of a run started with :func:`start_run` and not yet ended."""
    with _open_lock:
        return _open.get(run_id)


def end_run(run_id: str, status: str = SUCCESS, error: BaseException | None = None) -> None:
    """End a run started with :func:`start_run`; an unknown id is ignored (with a warning once)."""
    with _open_lock:
        run = _open.pop(run_id, None)
    if run is None:
        warn_once("end_run of an unknown run id", KeyError(run_id))
        return
    run.end(status, error)

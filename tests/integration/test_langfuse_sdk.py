"""Our Langfuse exporter against the official Langfuse SDK: one agent run, the same facts in Langfuse.

The same small conversation is traced twice (and twice more under an upstream caller's
``traceparent``), each in a real child process sending to its own
:class:`LangfuseRecorder`: once with the official ``langfuse`` SDK (v5: ``start_as_current_observation``
and ``propagate_attributes``), once with plain OpenTelemetry and the GenAI semantic conventions,
sent by our exporter (``LANGFUSE_*`` set, no Langfuse code in the app). What each recorder got is
read the way Langfuse's OTLP ingestion reads it (``OtelIngestionProcessor`` in langfuse/langfuse:
the attribute keys it accepts for each fact, in its order of preference), and the facts must be equal.

The raw attributes differ where both forms are ones Langfuse accepts; each assertion says how.
Both children have a network guard: any connection or name lookup other than 127.0.0.1 fails them.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.langfuse_endpoint import LangfuseRecorder
from tests.support.proc import clean_env, run_app

PUBLIC_KEY, SECRET_KEY = "pk-lf-test", "sk-lf-test"
SESSION, USER = "session-42", "user-7"
QUESTION = "Can you check the status of my parcel?"  # no PII: our pipeline would redact it
ANSWER = "Your parcel is on its way."
TOOL_INPUT = {"query": "parcel status"}
TOOL_OUTPUT = {"status": "in transit"}
ENVIRONMENT, RELEASE = "staging", "1.2.3"

# Any connection or DNS lookup beyond 127.0.0.1 is refused and reported on stderr.
GUARD = """
    import sys

    def _network_guard(event, args):
        local = ("127.0.0.1", "::1")
        if event == "socket.connect" and isinstance(args[1], tuple) and args[1][0] not in local:
            print(f"network guard: connect {args[1]!r}", file=sys.stderr)
            raise PermissionError("network guard")
        if event == "socket.getaddrinfo" and args[0] not in (*local, b"127.0.0.1", None):
            print(f"network guard: lookup {args[0]!r}", file=sys.stderr)
            raise PermissionError("network guard")

    sys.addaudithook(_network_guard)
"""

# The official SDK, as its docs use it. Observation names are those Langfuse shows for the
# OTel side: it names a span after ``gen_ai.tool.name`` when there is one ("lookup"), after
# the span otherwise. Usage is what a caller passes; the SDK adds no total.
SDK_APP = f"""
    import os

    from langfuse import Langfuse, propagate_attributes
    from opentelemetry import context, propagate

    if os.environ.get("UPSTREAM_TRACEPARENT"):  # called by a traced service, as OTel extracts it
        context.attach(propagate.extract({{"traceparent": os.environ["UPSTREAM_TRACEPARENT"]}}))

    langfuse = Langfuse(
        public_key=os.environ["LANGFUSE_PUBLIC_KEY"],
        secret_key=os.environ["LANGFUSE_SECRET_KEY"],
        base_url=os.environ["LANGFUSE_HOST"],
    )
    with langfuse.start_as_current_observation(as_type="agent", name="invoke_agent support"):
        with propagate_attributes(session_id={SESSION!r}, user_id={USER!r}):
            with langfuse.start_as_current_observation(
                as_type="generation",
                name="chat gpt-4o",
                model="gpt-4o",
                model_parameters={{"temperature": 0.2, "max_tokens": 256}},
                usage_details={{"input": 120, "output": 40}},
                input=[{{"role": "user", "content": {QUESTION!r}}}],
                output={{"role": "assistant", "content": {ANSWER!r}}},
            ):
                pass
            with langfuse.start_as_current_observation(
                as_type="tool", name="lookup", input={TOOL_INPUT!r}, output={TOOL_OUTPUT!r}
            ):
                pass
    langfuse.shutdown()  # flushes the spans before exit
"""

# The same run with plain OpenTelemetry and the GenAI conventions: no Langfuse code at all.
OUR_APP = f"""
    import json
    import os
    import sys

    import otel_distro
    from opentelemetry import context, propagate, trace

    otel_distro.configure(service_name="support-bot")
    tracer = trace.get_tracer("agent")
    if os.environ.get("UPSTREAM_TRACEPARENT"):  # called by a traced service, as OTel extracts it
        context.attach(propagate.extract({{"traceparent": os.environ["UPSTREAM_TRACEPARENT"]}}))

    def text(role, content):
        return json.dumps([{{"role": role, "parts": [{{"type": "text", "content": content}}]}}])

    with tracer.start_as_current_span("invoke_agent support") as root:
        root.set_attribute("gen_ai.operation.name", "invoke_agent")
        root.set_attribute("gen_ai.agent.name", "support")
        root.set_attribute("session.id", {SESSION!r})
        root.set_attribute("user.id", {USER!r})
        with tracer.start_as_current_span("chat gpt-4o") as chat:
            chat.set_attribute("gen_ai.operation.name", "chat")
            chat.set_attribute("gen_ai.provider.name", "openai")
            chat.set_attribute("gen_ai.request.model", "gpt-4o")
            chat.set_attribute("gen_ai.request.temperature", 0.2)
            chat.set_attribute("gen_ai.request.max_tokens", 256)
            chat.set_attribute("gen_ai.usage.input_tokens", 120)
            chat.set_attribute("gen_ai.usage.output_tokens", 40)
            chat.set_attribute("gen_ai.input.messages", text("user", {QUESTION!r}))
            chat.set_attribute("gen_ai.output.messages", text("assistant", {ANSWER!r}))
        with tracer.start_as_current_span("execute_tool lookup") as tool:
            tool.set_attribute("gen_ai.operation.name", "execute_tool")
            tool.set_attribute("gen_ai.tool.name", "lookup")
            tool.set_attribute("gen_ai.tool.call.arguments", json.dumps({TOOL_INPUT!r}))
            tool.set_attribute("gen_ai.tool.call.result", json.dumps({TOOL_OUTPUT!r}))

    assert "langfuse" not in sys.modules  # zero Langfuse code on our side
"""


# -- reading spans as Langfuse's OTLP ingestion does ----------------------------------------------
# gen_ai.operation.name -> observation type (Langfuse's ObservationTypeMapper, after an explicit
# langfuse.observation.type)
OPERATION_TYPES = {
    "chat": "generation",
    "completion": "generation",
    "text_completion": "generation",
    "generate_content": "generation",
    "generate": "generation",
    "embeddings": "embedding",
    "invoke_agent": "agent",
    "create_agent": "agent",
    "execute_tool": "tool",
}
SESSION_KEYS = ("langfuse.session.id", "session.id", "gen_ai.conversation.id")
USER_KEYS = ("langfuse.user.id", "user.id")
ENVIRONMENT_KEYS = ("langfuse.environment", "deployment.environment.name", "deployment.environment")
MODEL_KEYS = ("langfuse.observation.model.name", "gen_ai.response.model", "gen_ai.request.model")
INPUT_KEYS = ("langfuse.observation.input", "gen_ai.input.messages", "gen_ai.tool.call.arguments")
OUTPUT_KEYS = ("langfuse.observation.output", "gen_ai.output.messages", "gen_ai.tool.call.result")


@dataclass(frozen=True)
class Observation:
    """One span as Langfuse reads it."""

    trace_id: str
    span_id: str
    parent_id: str  # "" for a root
    type: str
    name: str
    app_root: bool
    trace_name: str | None  # langfuse.trace.name, or an app root's name (None elsewhere)
    session: str | None
    user: str | None
    environment: str | None
    release: str | None
    model: str | None
    parameters: dict[str, Any]
    usage: dict[str, int]
    input: Any
    output: Any


def _first(attributes: Mapping[str, Any], keys: Iterable[str]) -> Any:
    return next((attributes[key] for key in keys if attributes.get(key) not in (None, "")), None)


def _json(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _parameters(attributes: Mapping[str, Any]) -> dict[str, Any]:
    explicit = _json(attributes.get("langfuse.observation.model.parameters"))
    if isinstance(explicit, dict):
        return explicit
    prefix = "gen_ai.request."
    return {
        key.removeprefix(prefix): value
        for key, value in attributes.items()
        if key.startswith(prefix) and key != "gen_ai.request.model"
    }


def _usage(attributes: Mapping[str, Any]) -> dict[str, int]:
    """Usage details; without a total Langfuse's ingestion adds the sum of the others."""
    usage = _json(attributes.get("langfuse.observation.usage_details"))
    if not isinstance(usage, dict):
        generic = {
            key.removeprefix("gen_ai.usage."): value
            for key, value in attributes.items()
            if key.startswith("gen_ai.usage.")
        }
        usage = {}
        if "input_tokens" in generic:
            usage["input"] = generic["input_tokens"] - generic.get("cache_read.input_tokens", 0)
        if "output_tokens" in generic:
            usage["output"] = generic["output_tokens"] - generic.get("reasoning.output_tokens", 0)
    usage = {key: int(value) for key, value in usage.items()}
    if usage and "total" not in usage:
        usage["total"] = sum(usage.values())
    return usage


def observation(span: Mapping[str, Any]) -> Observation:
    attributes: Mapping[str, Any] = span["attributes"]
    resource: Mapping[str, Any] = span["resource"]
    operation = attributes.get("gen_ai.operation.name")
    kind = attributes.get("langfuse.observation.type") or OPERATION_TYPES.get(operation or "", "span")
    name = attributes.get("gen_ai.tool.name") or span["name"]
    app_root = not span["parent_span_id"] or attributes.get("langfuse.internal.is_app_root") in (True, "true")
    environment = next(
        (
            source[key]
            for key in ENVIRONMENT_KEYS
            for source in (attributes, resource)
            if source.get(key) not in (None, "")
        ),
        None,
    )
    agent = operation in ("invoke_agent", "agent_step")  # Langfuse reads no model or usage on these
    return Observation(
        trace_id=span["trace_id"],
        span_id=span["span_id"],
        parent_id=span["parent_span_id"],
        type=kind,
        name=name,
        app_root=app_root,
        trace_name=attributes.get("langfuse.trace.name") or (name if app_root else None),
        session=_first(attributes, SESSION_KEYS),
        user=_first(attributes, USER_KEYS),
        environment=environment,
        release=attributes.get("langfuse.release") or resource.get("langfuse.release"),
        model=None if agent else _first(attributes, MODEL_KEYS),
        parameters=_parameters(attributes),
        usage={} if agent else _usage(attributes),
        input=_json(_first(attributes, INPUT_KEYS)),
        output=_json(_first(attributes, OUTPUT_KEYS)),
    )


def _part_text(part: Any) -> str:
    if isinstance(part, str):
        return part
    if isinstance(part, Mapping):
        return str(part.get("content") or part.get("text") or "")
    return ""


def message_texts(value: Any) -> list[tuple[str, str]]:
    """(role, text) of each message, whether one message or a list, with content or with parts."""
    messages = value if isinstance(value, list) else [value]
    texts = []
    for message in messages:
        if not isinstance(message, Mapping):
            texts.append(("", _part_text(message)))
            continue
        content = message.get("content", message.get("parts"))
        pieces = content if isinstance(content, list) else [content]
        texts.append((str(message.get("role", "")), "".join(_part_text(piece) for piece in pieces)))
    return texts


# -- running both sides ---------------------------------------------------------------------------
@dataclass
class Side:
    observations: list[Observation]
    attempts: list[tuple[int | str, dict[str, str]]]
    expected_auth: str

    def by_name(self) -> dict[str, Observation]:
        return {obs.name: obs for obs in self.observations}

    def one(self, kind: str) -> Observation:
        found = [obs for obs in self.observations if obs.type == kind]
        assert len(found) == 1, found
        return found[0]


def run_side(tmp: Path, app: str, **extra: str) -> Side:
    tmp.mkdir(parents=True, exist_ok=True)
    with LangfuseRecorder(PUBLIC_KEY, SECRET_KEY) as recorder:
        env = clean_env(
            tmp,
            LANGFUSE_PUBLIC_KEY=PUBLIC_KEY,
            LANGFUSE_SECRET_KEY=SECRET_KEY,
            LANGFUSE_HOST=recorder.host,
            **extra,
        )
        run = run_app(tmp, textwrap.dedent(GUARD) + textwrap.dedent(app), env=env, timeout=60)
        assert run.returncode == 0, run.stderr
        assert "network guard" not in run.stderr, run.stderr
        # The child has exited: what it flushed was answered, so it is recorded.
        spans = list(recorder.spans)
        attempts = list(recorder.attempts)
        expected = recorder.expected
    return Side([observation(span) for span in spans], attempts, expected)


@dataclass
class Sides:
    sdk: Side
    ours: Side


def run_sides(tmp: Path, **extra: str) -> Sides:
    sdk = run_side(
        tmp / "sdk",
        SDK_APP,
        LANGFUSE_TRACING_ENVIRONMENT=ENVIRONMENT,
        LANGFUSE_RELEASE=RELEASE,
        LANGFUSE_MEDIA_UPLOAD_ENABLED="false",  # no media here; no upload threads either
        **extra,
    )
    ours = run_side(
        tmp / "ours",
        OUR_APP,
        OTEL_RESOURCE_ATTRIBUTES=f"deployment.environment.name={ENVIRONMENT},service.version={RELEASE}",
        **extra,
    )
    return Sides(sdk, ours)


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> Sides:
    return run_sides(tmp_path_factory.mktemp("langfuse-sdk"))


# An upstream service that traces but does not send to Langfuse called this one.
UPSTREAM_TRACE_ID, UPSTREAM_SPAN_ID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


@pytest.fixture(scope="module")
def upstream_sides(tmp_path_factory: pytest.TempPathFactory) -> Sides:
    traceparent = f"00-{UPSTREAM_TRACE_ID}-{UPSTREAM_SPAN_ID}-01"
    return run_sides(tmp_path_factory.mktemp("langfuse-sdk-upstream"), UPSTREAM_TRACEPARENT=traceparent)


def both(sides: Sides, check: Callable[[Side], None]) -> None:
    for side in (sides.sdk, sides.ours):
        check(side)


# -- the comparison -------------------------------------------------------------------------------
def test_both_send_only_to_langfuse_otlp_path_with_the_same_basic_auth(sides: Sides) -> None:
    # The recorder answers 404 off /api/public/otel/v1/traces and 401 without the project's
    # Basic auth: all-200 means every request of either side went there, authenticated (no
    # prompt fetch, media upload, score or project lookup from the SDK).
    authorizations = {
        headers["authorization"] for side in (sides.sdk, sides.ours) for _, headers in side.attempts
    }
    assert authorizations == {sides.ours.expected_auth}  # one project's keys, the same Basic header
    for side in (sides.sdk, sides.ours):
        assert side.attempts, "nothing was sent"
        assert [status for status, _ in side.attempts] == [200] * len(side.attempts)
        for _, headers in side.attempts:
            assert headers["x-langfuse-ingestion-version"] == "4"  # both ask for real-time ingestion
            assert headers["content-type"] == "application/x-protobuf"
            assert headers["content-encoding"] == "gzip"
    # Reported (pytest -rP), not asserted: the SDK also sends x-langfuse-sdk-name, -sdk-version
    # and -public-key (Langfuse uses them for attribution only) and another user-agent.
    ignored = {"host", "content-length"}
    sdk = {k: v for k, v in sides.sdk.attempts[0][1].items() if k not in ignored}
    ours = {k: v for k, v in sides.ours.attempts[0][1].items() if k not in ignored}
    print("headers only the SDK sends:", {k: sdk[k] for k in sorted(sdk.keys() - ours)})
    print("headers only we send:", {k: ours[k] for k in sorted(ours.keys() - sdk)})
    print(
        "headers both send, differently:",
        {k: (sdk[k], ours[k]) for k in sorted(sdk.keys() & ours) if sdk[k] != ours[k]},
    )


def test_same_observation_types_names_and_tree_in_one_trace(sides: Sides) -> None:
    def shape(side: Side) -> dict[str, tuple[str, str | None]]:
        """Observation name -> (type, parent's name)."""
        names = {obs.span_id: obs.name for obs in side.observations}
        return {obs.name: (obs.type, names.get(obs.parent_id)) for obs in side.observations}

    expected = {
        "invoke_agent support": ("agent", None),
        "chat gpt-4o": ("generation", "invoke_agent support"),
        "lookup": ("tool", "invoke_agent support"),  # ours: span "execute_tool lookup" + gen_ai.tool.name
    }
    assert shape(sides.sdk) == expected
    assert shape(sides.ours) == shape(sides.sdk)

    def one_whole_trace(side: Side) -> None:
        assert len({obs.trace_id for obs in side.observations}) == 1
        ids = {obs.span_id for obs in side.observations}
        assert all(obs.parent_id in ids for obs in side.observations if obs.parent_id)
        roots = [obs for obs in side.observations if not obs.parent_id]
        assert len(roots) == 1
        # The SDK marks its root with langfuse.internal.is_app_root=true; ours has no parent, which
        # Langfuse takes the same way (parent_span_id = '' OR is_app_root).
        assert [obs.name for obs in side.observations if obs.app_root] == [roots[0].name]
        # Trace name: ours sends langfuse.trace.name; the SDK leaves Langfuse to use the root's name.
        assert roots[0].trace_name == "invoke_agent support"

    both(sides, one_whole_trace)


def test_generation_model_parameters_usage_and_message_text_match_the_sdk(sides: Sides) -> None:
    sdk, ours = sides.sdk.one("generation"), sides.ours.one("generation")
    # Both send langfuse.observation.model.name / .model.parameters (JSON) / .usage_details (JSON).
    assert sdk.model == ours.model == "gpt-4o"
    assert sdk.parameters == ours.parameters == {"temperature": 0.2, "max_tokens": 256}
    # Raw: the SDK sends {"input": 120, "output": 40}; ours adds "total": 160, which Langfuse's
    # ingestion computes the same (the sum) when it is missing.
    assert sdk.usage == ours.usage == {"input": 120, "output": 40, "total": 160}
    # Raw: the SDK sends the output as one message object; ours as a one-element list of
    # {"role", "content"} (from gen_ai.output.messages' parts). The text is the same.
    assert message_texts(sdk.input) == message_texts(ours.input) == [("user", QUESTION)]
    assert message_texts(sdk.output) == message_texts(ours.output) == [("assistant", ANSWER)]


def test_tool_input_and_output_match_the_sdk(sides: Sides) -> None:
    sdk, ours = sides.sdk.one("tool"), sides.ours.one("tool")
    # Raw: the SDK sends langfuse.observation.input/output; ours sends no such key for a tool,
    # and Langfuse reads gen_ai.tool.call.arguments/result instead.
    assert sdk.input == ours.input == TOOL_INPUT
    assert sdk.output == ours.output == TOOL_OUTPUT


def test_session_user_environment_and_release_reach_every_observation_on_both(sides: Sides) -> None:
    # Raw: the SDK (propagate_attributes) puts session.id / user.id on every span; ours puts
    # langfuse.session.id / langfuse.user.id on every span (and keeps the app's session.id /
    # user.id on the root). Langfuse reads both, the langfuse.* keys first.
    # Environment and release: the SDK sends langfuse.environment / langfuse.release on every
    # span and on the resource (LANGFUSE_TRACING_ENVIRONMENT, LANGFUSE_RELEASE); ours on every
    # span, from the resource's deployment.environment.name and service.version.
    def reaches_all(side: Side) -> None:
        for obs in side.observations:
            assert (obs.session, obs.user) == (SESSION, USER), obs.name
            assert (obs.environment, obs.release) == (ENVIRONMENT, RELEASE), obs.name

    both(sides, reaches_all)
    facts = {
        side_name: {
            (obs.name, obs.session, obs.user, obs.environment, obs.release) for obs in side.observations
        }
        for side_name, side in (("sdk", sides.sdk), ("ours", sides.ours))
    }
    assert facts["ours"] == facts["sdk"]


# -- called by an upstream service: the local root has a parent Langfuse never gets ------------
def test_under_an_upstream_parent_both_keep_its_trace_and_send_the_same_facts(upstream_sides: Sides) -> None:
    for side in (upstream_sides.sdk, upstream_sides.ours):
        assert {obs.trace_id for obs in side.observations} == {UPSTREAM_TRACE_ID}
        local_root = side.by_name()["invoke_agent support"]
        assert local_root.parent_id == UPSTREAM_SPAN_ID  # a parent not among the spans sent
        assert {(obs.session, obs.user) for obs in side.observations} == {(SESSION, USER)}
        # The trace is still named: ours by langfuse.trace.name on the local root, the SDK's by its
        # app root's name.
        assert {obs.trace_name for obs in side.observations} - {None} == {"invoke_agent support"}
    assert upstream_sides.ours.one("generation").usage == upstream_sides.sdk.one("generation").usage


def test_under_an_upstream_parent_our_local_root_is_the_app_root_langfuse_sees(upstream_sides: Sides) -> None:
    # SDK: langfuse.internal.is_app_root=true on its first exported span (here the local root,
    # parent 00f067aa0ba902b7 from the traceparent). Ours must flag it too: the parent id is not
    # empty, so without the flag Langfuse finds no root observation in the trace.
    def app_roots(side: Side) -> list[str]:
        return [obs.name for obs in side.observations if obs.app_root]

    assert app_roots(upstream_sides.sdk) == ["invoke_agent support"]
    assert app_roots(upstream_sides.ours) == app_roots(upstream_sides.sdk)

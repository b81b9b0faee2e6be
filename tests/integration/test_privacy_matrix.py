"""The privacy conformance matrix: every path a raw PII value can take, searched for in every output.

Each case runs a real child process (zero-code ``opentelemetry-instrument``, or
``otel_distro.configure()`` where the case is about ordering) behind a network guard, with every
output on at once: the local store (every file, read as text), the standard OTLP exporters to a real
rotel collector, the Langfuse exporter to a local Langfuse recorder and the conversation log to a
local endpoint. Each output is then searched for each raw value, also percent-encoded,
form-encoded, JSON-escaped (``\\u0040``) or HTML-escaped, and after undoing those escapes. An output
that received nothing fails its case: a privacy check of an empty output proves nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.collector import attributes
from tests.support.openai_server import OpenAiServer
from tests.support.pii_outputs import (
    COLLECTOR,
    CONVERSATION_LOG,
    EVERY_OUTPUT,
    LANGFUSE,
    STORE,
    Outputs,
    contains_any,
    find_leaks,
    run_with_every_output,
)
from tests.support.proc import attrs

EMAIL = "maria.garcia@example.org"
EMAIL2 = "li.wei@example.net"
PHONE = "+14155550132"
PHONE_FORMATTED = "(212) 555-0147"
SSN = "536-22-1234"
CARD = "4111 1111 1111 1111"
# values written in characters json.dumps escapes (as GenAI instrumentations write messages):
# a password after a Chinese keyword, an address and a phone number in full-width forms
PASSWORD = "Hx9#kLm2pQ"
PASSWORD_PROSE = "\u6211\u7684\u5bc6\u7801\u662f" + PASSWORD  # "my password is …"
WIDE_EMAIL = "\uff25\uff36\uff25\uff20\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25\uff0e\uff23\uff2f\uff2d"
WIDE_PHONE = "\u7535\u8bdd\uff1a" + "".join(chr(0xFF10 + int(digit)) for digit in "13800138000")
SECRETS = {
    "email": EMAIL,
    "second email": EMAIL2,
    "E.164 phone": PHONE,
    "formatted phone": PHONE_FORMATTED,
    "SSN": SSN,
    "card": CARD,
    "card digits": CARD.replace(" ", ""),
    "password after a Chinese keyword": PASSWORD,
    "full-width email": WIDE_EMAIL,
    "full-width phone": WIDE_PHONE[3:],
}
# Shared by the apps: the values as Python literals, and a local HTTP server answering every GET.
PRELUDE = f"""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EMAIL, EMAIL2, PHONE, PHONE_FORMATTED, SSN, CARD = {EMAIL!r}, {EMAIL2!r}, {PHONE!r}, {PHONE_FORMATTED!r}, \
{SSN!r}, {CARD!r}
PASSWORD_PROSE, WIDE_EMAIL, WIDE_PHONE = {PASSWORD_PROSE!r}, {WIDE_EMAIL!r}, {WIDE_PHONE!r}


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def local_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{{server.server_address[1]}}/lookup"
"""


@dataclass
class Case:
    """One run of a case's app (``variant`` names its parameter) and what every output got."""

    variant: str
    out: Outputs


def assert_clean(case: Case, output: str, *, must_receive: bool = True) -> None:
    """The run went well, ``output`` received something, and no raw value can be read in it."""
    run = case.out.app
    assert run.returncode == 0, run.stderr
    assert "network guard" not in run.stderr, run.stderr
    if must_receive:
        assert case.out.received(output), f"{output} received nothing; stderr:\n{run.stderr[-3000:]}"
    leaks = case.out.leaks(output, SECRETS)
    assert not leaks, "raw values leaked:\n" + "\n".join(leaks)


def _store_items(out: Outputs, signal: str, outer: str, inner: str, leaf: str) -> Iterator[tuple[str, Any]]:
    """(scope name, item) for every span, log record or metric in the run's store files of ``signal``."""
    for path, text in out.store_files.items():
        if path.startswith(f"store/{signal}/") and path.endswith(".jsonl"):
            for line in filter(None, text.splitlines()):
                for resource in json.loads(line)[outer]:
                    for scope in resource[inner]:
                        for item in scope[leaf]:
                            yield scope["scope"].get("name"), item


def store_spans(out: Outputs) -> list[dict[str, Any]]:
    """Every span of the run's store (OTLP/JSON), with ``_scope`` and decoded ``_attrs``."""
    return [
        {**span, "_scope": scope, "_attrs": attrs(span.get("attributes", []))}
        for scope, span in _store_items(out, "traces", "resourceSpans", "scopeSpans", "spans")
    ]


def store_logs(out: Outputs) -> list[dict[str, Any]]:
    """Every log record of the run's store (OTLP/JSON), with decoded ``_attrs``."""
    return [
        {**record, "_attrs": attrs(record.get("attributes", []))}
        for _, record in _store_items(out, "logs", "resourceLogs", "scopeLogs", "logRecords")
    ]


def store_metric_points(out: Outputs, name: str) -> list[dict[str, Any]]:
    """The decoded attributes of every data point of the store's metric ``name``."""
    found = []
    for _, metric in _store_items(out, "metrics", "resourceMetrics", "scopeMetrics", "metrics"):
        if metric["name"] == name:
            data = next(value for value in metric.values() if isinstance(value, dict))  # sum, gauge, ...
            found.extend(attrs(point.get("attributes", [])) for point in data["dataPoints"])
    return found


# -- 1. the official OpenAI instrumentation, in each content capture mode -------------------------
PROMPT = f"Email {EMAIL} or call {PHONE}; my SSN is {SSN}. {PASSWORD_PROSE} {WIDE_EMAIL} {WIDE_PHONE}"
REPLY = f"Done. I will call {PHONE_FORMATTED} and charge card {CARD} for {EMAIL2}."
CAPTURE_MODES = ("SPAN_ONLY", "EVENT_ONLY", "SPAN_AND_EVENT")
OPENAI_SCOPE = "opentelemetry.instrumentation.genai.openai"
OPENAI_APP = """
from openai import OpenAI

client = OpenAI()
messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": PROMPT}]
reply = client.chat.completions.create(model="gpt-4o-mini", messages=messages, temperature=0.2)
print("reply:", reply.choices[0].message.content)
stream = client.chat.completions.create(
    model="gpt-4o-mini", messages=messages, stream=True, stream_options={"include_usage": True}
)
print("streamed:", "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices))
"""


def _openai_env(server: OpenAiServer, mode: str) -> dict[str, str]:
    return {
        "OPENAI_API_KEY": "sk-local-test",
        "OPENAI_BASE_URL": server.base_url,
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": mode,
        "OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental",
    }


@pytest.fixture(scope="module", params=CAPTURE_MODES)
def openai_case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Case:
    mode: str = request.param
    source = PRELUDE + f"PROMPT = {PROMPT!r}\n" + OPENAI_APP
    with OpenAiServer(REPLY) as server:
        out = run_with_every_output(
            tmp_path_factory.mktemp(f"openai-{mode}"),
            source,
            collector_spans=2,
            collector_logs=0 if mode == "SPAN_ONLY" else 2,
            env=_openai_env(server, mode),
        )
        assert PROMPT in json.dumps(server.requests, ensure_ascii=False)  # the app sent its real prompt
    assert out.app.returncode == 0, out.app.stderr
    assert f"reply: {REPLY}" in out.app.stdout and f"streamed: {REPLY}" in out.app.stdout
    return Case(mode, out)


@pytest.mark.parametrize("output", EVERY_OUTPUT)
def test_openai_prompt_and_answer_pii_reaches_no_output_raw_in_any_capture_mode(
    openai_case: Case, output: str
) -> None:
    assert_clean(openai_case, output)


def test_openai_message_content_is_captured_where_the_mode_says_so_the_search_means_something(
    openai_case: Case,
) -> None:
    chats = [span for span in store_spans(openai_case.out) if span["_scope"] == OPENAI_SCOPE]
    assert len(chats) == 2, [span["name"] for span in store_spans(openai_case.out)]
    on_spans = ["gen_ai.input.messages" in span["_attrs"] for span in chats]
    events = [
        record
        for record in store_logs(openai_case.out)
        if record.get("eventName") == "gen_ai.client.inference.operation.details"
    ]
    if openai_case.variant == "SPAN_ONLY":
        assert on_spans == [True, True] and not events
    elif openai_case.variant == "EVENT_ONLY":
        assert on_spans == [False, False] and len(events) == 2
    else:
        assert on_spans == [True, True] and len(events) == 2
    for record in events:  # the content arrives as structures: a list of maps of lists of maps
        assert "gen_ai.input.messages" in record["_attrs"] and "gen_ai.output.messages" in record["_attrs"]


# -- 2. requests and httpx: query parameters, percent-encoded in URL attributes -------------------
HTTP_APP = """
import os

url = local_server()
params = {"email": EMAIL, "phone": PHONE, "ssn": SSN, "card": CARD}
if os.environ["MATRIX_CLIENT"] == "requests":
    import requests

    requests.get(url, params=params, timeout=5).raise_for_status()
    with requests.Session() as session:
        session.get(url, params={"contact": PHONE_FORMATTED, "cc": EMAIL2}, timeout=5).raise_for_status()
else:
    import httpx

    httpx.get(url, params=params, timeout=5).raise_for_status()
    with httpx.Client() as client:
        client.get(url, params={"contact": PHONE_FORMATTED, "cc": EMAIL2}).raise_for_status()
print("fetched")
"""


@pytest.fixture(scope="module", params=("requests", "httpx"))
def http_client_case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Case:
    client: str = request.param
    out = run_with_every_output(
        tmp_path_factory.mktemp(f"http-{client}"),
        PRELUDE + HTTP_APP,
        collector_spans=2,
        env={"MATRIX_CLIENT": client, "OTEL_SEMCONV_STABILITY_OPT_IN": "http/dup"},
    )
    assert out.app.returncode == 0 and "fetched" in out.app.stdout, out.app.stderr
    return Case(client, out)


@pytest.mark.parametrize("output", EVERY_OUTPUT)
def test_http_client_query_parameters_reach_no_output_raw_or_percent_encoded(
    http_client_case: Case, output: str
) -> None:
    assert_clean(http_client_case, output)


def test_http_client_spans_are_recorded_with_their_url_so_the_search_means_something(
    http_client_case: Case,
) -> None:
    scope = f"opentelemetry.instrumentation.{http_client_case.variant}"
    client_spans = [span for span in store_spans(http_client_case.out) if span["_scope"] == scope]
    assert len(client_spans) == 2, [(s["_scope"], s["name"]) for s in store_spans(http_client_case.out)]
    for span in client_spans:
        urls = [span["_attrs"].get(key) for key in ("url.full", "http.url")]
        assert any(isinstance(url, str) and "/lookup" in url for url in urls), span["_attrs"]


# -- 3. stdlib logging with structured extras, bridged ----------------------------------------------
LOGGING_APP = """
import logging

log = logging.getLogger("matrix.app")
log.warning("x", extra={"payload": {"user": {"email": EMAIL}, "items": [{"phone": PHONE}]}})
log.error(
    "lookup failed for %s",
    EMAIL2,
    extra={"contacts": [{"phone": PHONE_FORMATTED}, {"card": CARD}], "ids": [SSN, SSN]},
)
"""


@pytest.fixture(scope="module")
def logging_case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    out = run_with_every_output(
        tmp_path_factory.mktemp("logging"),
        PRELUDE + LOGGING_APP,
        outputs=(STORE, COLLECTOR),
        collector_spans=0,
        collector_logs=2,
        env={"TELEMETRY_LOG_BRIDGE": "true"},
    )
    return Case("logging", out)


@pytest.mark.parametrize("output", (STORE, COLLECTOR))
def test_logging_extras_holding_dicts_and_lists_reach_no_output_raw(logging_case: Case, output: str) -> None:
    assert_clean(logging_case, output)


def test_bridged_log_records_are_recorded_so_the_search_means_something(logging_case: Case) -> None:
    bodies = [record.get("body", {}).get("stringValue") for record in store_logs(logging_case.out)]
    assert "x" in bodies, bodies
    assert any(isinstance(body, str) and body.startswith("lookup failed for") for body in bodies), bodies


# -- 4. the OTel logs API: attributes holding maps and lists of maps, a map body --------------------
LOGS_API_APP = """
from opentelemetry._logs import SeverityNumber, get_logger

logger = get_logger("matrix.events")
logger.emit(
    event_name="matrix.profile",
    severity_number=SeverityNumber.INFO,
    body={"message": "profile for " + EMAIL, "contact": {"phone": PHONE, "alternates": [PHONE_FORMATTED]}},
    attributes={
        "customer": {"email": EMAIL, "ssn": SSN},
        "cards": [{"number": CARD}],
        "emails": [EMAIL, EMAIL2],
        "note": "call " + PHONE,
    },
)
logger.emit(severity_number=SeverityNumber.WARN, body="card " + CARD + " for " + EMAIL2)
# bytes: a UTF-8 body, Latin-1 text in a body and an attribute; and an event name holding an address
logger.emit(body=("note for " + EMAIL2).encode("utf-8"), event_name="signup " + EMAIL)
logger.emit(body=b"caf\\xe9 " + EMAIL.encode(), attributes={"raw": b"\\xff tel " + PHONE.encode()})
"""


@pytest.fixture(scope="module")
def logs_api_case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    out = run_with_every_output(
        tmp_path_factory.mktemp("logs-api"),
        PRELUDE + LOGS_API_APP,
        outputs=(STORE, COLLECTOR),
        collector_spans=0,
        collector_logs=4,
    )
    return Case("logs-api", out)


@pytest.mark.parametrize("output", (STORE, COLLECTOR))
def test_logs_api_map_bodies_and_structured_attributes_reach_no_output_raw(
    logs_api_case: Case, output: str
) -> None:
    assert_clean(logs_api_case, output)


def test_logs_api_records_are_recorded_with_their_structure_so_the_search_means_something(
    logs_api_case: Case,
) -> None:
    records = store_logs(logs_api_case.out)
    (profile,) = [record for record in records if record.get("eventName") == "matrix.profile"]
    assert "kvlistValue" in profile.get("body", {}), profile.get("body")
    assert {"customer", "cards", "emails", "note"} <= set(profile["_attrs"]), profile["_attrs"]
    assert len(records) == 4
    bodies = [record.get("body", {}) for record in records]
    assert {"stringValue": "note for <EMAIL>"} in bodies and {"stringValue": "caf\u00e9 <EMAIL>"} in bodies
    assert "signup <EMAIL>" in [record.get("eventName") for record in records]


# -- 5. the Langfuse SDK, its client created before and after configure() --------------------------
LANGFUSE_APP = """
import otel_distro
from opentelemetry import trace
{before}
handle = otel_distro.configure()
{after}
with langfuse.start_as_current_observation(
    as_type="generation",
    name="answer " + EMAIL,
    model="gpt-4o",
    input=[{{"role": "user", "content": "I am " + EMAIL + ", phone " + PHONE}}],
    output={{"role": "assistant", "content": "Noted SSN " + SSN}},
    metadata={{"card": CARD}},
):
    with trace.get_tracer("matrix.otel").start_as_current_span("chat for " + EMAIL2) as span:
        span.set_attribute("gen_ai.operation.name", "chat")
        span.set_attribute("gen_ai.request.model", "gpt-4o")
        messages = [{{"role": "user", "parts": [{{"type": "text", "content": "call " + PHONE_FORMATTED}}]}}]
        span.set_attribute("gen_ai.input.messages", json.dumps(messages))
        span.set_attribute("user.note", "card " + CARD)
langfuse.flush()
handle.shutdown()
langfuse.shutdown()
print("langfuse ok")
"""
CLIENT_LINES = "from langfuse import get_client\nlangfuse = get_client()\n"


@pytest.fixture(scope="module", params=("client-before-configure", "client-after-configure"))
def langfuse_sdk_case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Case:
    order: str = request.param
    before = order == "client-before-configure"
    source = LANGFUSE_APP.format(before=CLIENT_LINES if before else "", after="" if before else CLIENT_LINES)
    out = run_with_every_output(tmp_path_factory.mktemp(order), PRELUDE + source, zero_code=False)
    assert out.app.returncode == 0 and "langfuse ok" in out.app.stdout, out.app.stderr
    return Case(order, out)


@pytest.mark.parametrize("output", EVERY_OUTPUT)
def test_langfuse_sdk_and_otel_spans_reach_no_output_raw_whenever_its_client_was_created(
    langfuse_sdk_case: Case, output: str
) -> None:
    assert_clean(langfuse_sdk_case, output)


def test_langfuse_sdk_observation_reaches_the_recorder_so_the_search_means_something(
    langfuse_sdk_case: Case,
) -> None:
    assert '"name": "langfuse-sdk"' in langfuse_sdk_case.out.langfuse_text  # the SDK's own scope
    names = {span["name"] for span in langfuse_sdk_case.out.langfuse_spans}
    assert any(name.startswith("answer ") for name in names), names
    assert any(name.startswith("chat for ") for name in names), names


# -- 6. an app's own TracerProvider, set before configure() -----------------------------------------
OWN_PROVIDER_APP = """
import os

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

provider = TracerProvider(resource=Resource.create({"service.name": "own-provider"}))
exporter = OTLPSpanExporter(endpoint=os.environ["MATRIX_COLLECTOR"], insecure=True)
provider.add_span_processor(BatchSpanProcessor(exporter))
trace.set_tracer_provider(provider)

import otel_distro

handle = otel_distro.configure()
with trace.get_tracer("matrix.own").start_as_current_span("lookup " + EMAIL) as span:
    span.set_attribute("customer.phone", PHONE)
    span.add_event("verified", {"ssn": SSN, "card": CARD})
direct = provider.get_tracer("matrix.direct").start_span("direct call " + PHONE_FORMATTED)
direct.set_attribute("cc", EMAIL2)
direct.end()
handle.shutdown()
provider.shutdown()
print("own provider ok")
"""


@pytest.fixture(scope="module")
def own_provider_case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    out = run_with_every_output(
        tmp_path_factory.mktemp("own-provider"),
        PRELUDE + OWN_PROVIDER_APP,
        zero_code=False,
        outputs=(STORE, COLLECTOR),
        collector_spans=2,
        collector_via_env=False,
    )
    assert out.app.returncode == 0 and "own provider ok" in out.app.stdout, out.app.stderr
    return Case("own-provider", out)


def test_an_apps_own_provider_and_exporter_set_before_configure_receive_no_raw_value(
    own_provider_case: Case,
) -> None:
    assert_clean(own_provider_case, COLLECTOR)
    names = sorted(span.name for _, span in own_provider_case.out.collector_spans)
    assert len(names) == 2, names  # both spans still reach the app's exporter, redacted


def test_an_apps_own_provider_leaves_no_raw_value_in_the_store(own_provider_case: Case) -> None:
    assert_clean(own_provider_case, STORE, must_receive=False)


# -- 6b. the places beside the values: scope names, trace state, metric texts, objects, key names --
ODD_PLACES_APP = """
from opentelemetry import metrics, propagate, trace
from opentelemetry._logs import get_logger


class User:  # an object an app puts in a log body as it is: written as its text
    def __str__(self):
        return f"User(email={EMAIL}, card={CARD})"


incoming = {  # a request's headers, as a server instrumentation extracts them
    "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "tracestate": "vendor=u:" + EMAIL,
}
tracer = trace.get_tracer("matrix.odd." + EMAIL2)  # a scope named after a user
with tracer.start_as_current_span("odd places", context=propagate.extract(incoming)) as span:
    span.set_attribute("http.request.header.x-functions-key", PASSWORD_PROSE[5:])  # only its key says so
    get_logger("audit." + EMAIL2).emit(body=User())
metrics.get_meter("matrix.odd").create_counter("signups", description="signups of " + EMAIL).add(1)
"""


@pytest.fixture(scope="module")
def odd_places_case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    out = run_with_every_output(
        tmp_path_factory.mktemp("odd-places"),
        PRELUDE + ODD_PLACES_APP,
        outputs=(STORE, COLLECTOR, LANGFUSE),
        collector_logs=1,
    )
    assert out.app.returncode == 0, out.app.stderr
    return Case("odd-places", out)


@pytest.mark.parametrize("output", (STORE, COLLECTOR, LANGFUSE))
def test_values_in_scope_names_trace_state_metric_texts_objects_and_secret_keys_reach_no_output_raw(
    odd_places_case: Case, output: str
) -> None:
    assert_clean(odd_places_case, output)


def test_the_odd_places_are_recorded_so_the_search_means_something(odd_places_case: Case) -> None:
    (span,) = [span for span in store_spans(odd_places_case.out) if span["name"] == "odd places"]
    assert span["traceState"] == "vendor=u:<EMAIL>" and span["_scope"] == "<EMAIL>"  # "matrix.odd.li.wei@…"
    assert span["_attrs"]["http.request.header.x-functions-key"] == "<REDACTED>"
    texts = "\n".join(odd_places_case.out.store_files.values())
    assert '"description":"signups of <EMAIL>"' in texts and "User(email=<EMAIL>" in texts


# -- 7. identifiers holding PII: keyed hashes, distinct and joinable --------------------------------
ID_KEYS = ("user.id", "enduser.id", "session.id", "gen_ai.conversation.id")
IDS_APP = """
from opentelemetry import metrics, trace
from opentelemetry._logs import get_logger

tracer = trace.get_tracer("matrix.ids")
logger = get_logger("matrix.ids")
turns = metrics.get_meter("matrix.ids").create_counter("turns")
for name, email in (("first", EMAIL), ("second", EMAIL2), ("first-again", EMAIL)):
    ids = {key: email for key in ("user.id", "enduser.id", "session.id", "gen_ai.conversation.id")}
    attributes = {**ids, "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"}
    with tracer.start_as_current_span("turn " + name, attributes=attributes):
        logger.emit(body="turn " + name, attributes={"user.id": email, "session.id": email})
    turns.add(1, {"user.id": email, "gen_ai.conversation.id": email})
"""


@pytest.fixture(scope="module")
def ids_case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    out = run_with_every_output(
        tmp_path_factory.mktemp("ids"), PRELUDE + IDS_APP, collector_spans=3, collector_logs=3
    )
    assert out.app.returncode == 0, out.app.stderr
    return Case("ids", out)


@pytest.mark.parametrize("output", EVERY_OUTPUT)
def test_identifier_emails_reach_no_output_raw(ids_case: Case, output: str) -> None:
    assert_clean(ids_case, output)


def _turns(ids_case: Case) -> dict[str, dict[str, Any]]:
    turns = {span["name"]: span for span in store_spans(ids_case.out) if span["_scope"] == "matrix.ids"}
    assert set(turns) == {"turn first", "turn second", "turn first-again"}, sorted(turns)
    return turns


@pytest.mark.parametrize("key", ID_KEYS)
def test_identifiers_of_two_emails_become_two_distinct_keyed_hashes_and_one_email_one_hash(
    ids_case: Case, key: str
) -> None:
    turns = _turns(ids_case)
    first, second, again = (
        turns[f"turn {name}"]["_attrs"].get(key) for name in ("first", "second", "first-again")
    )
    for value in (first, second, again):
        assert isinstance(value, str) and value, (key, value)
        assert "@" not in value and "EMAIL" not in value.upper(), (key, value)  # a hash, not a label
    assert first != second, f"{key}: two different emails came out as the same {first!r}"
    assert first == again, f"{key}: one email came out as {first!r} and {again!r}"


def test_an_identifier_hashes_the_same_on_spans_logs_metrics_and_at_the_collector(ids_case: Case) -> None:
    turns = _turns(ids_case)
    span_ids = {span["spanId"]: name for name, span in turns.items()}
    logs = [record for record in store_logs(ids_case.out) if record.get("spanId") in span_ids]
    assert len(logs) == 3, store_logs(ids_case.out)
    for record in logs:
        span = turns[span_ids[record["spanId"]]]
        for key in ("user.id", "session.id"):
            assert record["_attrs"].get(key) == span["_attrs"][key], (key, record["_attrs"], span["_attrs"])
    by_email = {turns["turn first"]["_attrs"]["user.id"], turns["turn second"]["_attrs"]["user.id"]}
    points = store_metric_points(ids_case.out, "turns")
    assert {point.get("user.id") for point in points} == by_email, points  # metric points join too
    at_collector = {span.name: attributes(span.attributes) for _, span in ids_case.out.collector_spans}
    for name, span in turns.items():
        assert at_collector[name]["user.id"] == span["_attrs"]["user.id"], name


# -- 8. the distro's own HTTP calls are not telemetry ------------------------------------------------
OWN_CALLS_APP = """
import time

import httpx
from opentelemetry import trace

tracer = trace.get_tracer("matrix.own-calls")
httpx.get(local_server(), timeout=5).raise_for_status()  # the app's own call: recorded
for turn in range(3):
    with tracer.start_as_current_span("chat gpt-4o") as span:
        span.set_attribute("gen_ai.operation.name", "chat")
        span.set_attribute("gen_ai.request.model", "gpt-4o")
        span.set_attribute("gen_ai.input.messages", json.dumps([{"role": "user", "content": "hi"}]))
    time.sleep(0.6)  # periodic flushes happen while the app runs, not only at exit
print("own calls ok")
"""
OWN_PATHS = ("/v1/conversations", "/api/public/otel")


@pytest.fixture(scope="module")
def own_calls_case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    out = run_with_every_output(
        tmp_path_factory.mktemp("own-calls"),
        PRELUDE + OWN_CALLS_APP,
        outputs=(STORE, LANGFUSE, CONVERSATION_LOG),
        env={"TELEMETRY_FLUSH_INTERVAL_SECS": "0.2", "TELEMETRY_BATCH_SIZE": "1"},
    )
    assert out.app.returncode == 0 and "own calls ok" in out.app.stdout, out.app.stderr
    return Case("own-calls", out)


def test_no_span_describes_the_distros_own_requests_to_its_endpoints(own_calls_case: Case) -> None:
    out = own_calls_case.out
    assert out.received(CONVERSATION_LOG) and out.received(LANGFUSE)  # our requests did happen
    spans = store_spans(out)
    app_calls = [s for s in spans if s["_scope"] == "opentelemetry.instrumentation.httpx"]
    own_ports = {out.ports[CONVERSATION_LOG], out.ports[LANGFUSE]}

    def ours(span: dict[str, Any]) -> bool:
        text = json.dumps(span["_attrs"])
        return (
            span["_attrs"].get("server.port") in own_ports
            or span["_attrs"].get("net.peer.port") in own_ports
            or any(f"127.0.0.1:{port}" in text for port in own_ports)
            or any(path in text for path in OWN_PATHS)
        )

    offenders = [(span["_scope"], span["name"], span["_attrs"]) for span in spans if ours(span)]
    assert not offenders, offenders
    assert any("/lookup" in json.dumps(span["_attrs"]) for span in app_calls), app_calls  # the app's own


def test_no_span_is_dropped_at_exit_for_the_distros_own_requests(own_calls_case: Case) -> None:
    stderr = own_calls_case.out.app.stderr.lower()
    assert "span dropped" not in stderr and "dropping span" not in stderr, own_calls_case.out.app.stderr


# -- 9. data minimisation: no message content at all when inputs or outputs are off -----------------
QUESTION = "Suggest a quince orchard picnic menu"
ANSWER = "Serve marmalade scones with tea"
QUESTION_WORD, ANSWER_WORD = "quince", "marmalade"
MINIMISATION_APP = """
from openai import OpenAI
from opentelemetry import trace
from opentelemetry._logs import get_logger

client = OpenAI()
client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": QUESTION}])
tracer = trace.get_tracer("matrix.minimisation")
inputs = [{"role": "user", "parts": [{"type": "text", "content": QUESTION}]}]
outputs = [{"role": "assistant", "parts": [{"type": "text", "content": ANSWER}], "finish_reason": "stop"}]
with tracer.start_as_current_span("chat gpt-4o") as span:  # OTel GenAI: attributes and span events
    span.set_attributes({
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 7, "gen_ai.usage.output_tokens": 3,
        "gen_ai.input.messages": json.dumps(inputs), "gen_ai.output.messages": json.dumps(outputs),
    })
    span.add_event("gen_ai.client.inference.operation.details", {
        "gen_ai.input.messages": json.dumps(inputs), "gen_ai.output.messages": json.dumps(outputs),
    })
    span.add_event("gen_ai.user.message", {"content": QUESTION})
    span.add_event("gen_ai.choice", {"message": json.dumps({"role": "assistant", "content": ANSWER})})
    logger = get_logger("matrix.minimisation")  # OTel GenAI log events, structured
    logger.emit(
        event_name="gen_ai.client.inference.operation.details",
        attributes={"gen_ai.request.model": "gpt-4o", "gen_ai.input.messages": inputs,
                    "gen_ai.output.messages": outputs},
    )
    logger.emit(event_name="gen_ai.user.message", body={"content": QUESTION})
    choice = {"index": 0, "message": {"role": "assistant", "content": ANSWER}}
    logger.emit(event_name="gen_ai.choice", body=choice)
with tracer.start_as_current_span("openllmetry chat") as span:
    span.set_attributes({
        "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o", "llm.request.type": "chat",
        "gen_ai.prompt.0.role": "user", "gen_ai.prompt.0.content": QUESTION,
        "gen_ai.completion.0.role": "assistant", "gen_ai.completion.0.content": ANSWER,
        "gen_ai.usage.prompt_tokens": 7, "gen_ai.usage.completion_tokens": 3,
    })
with tracer.start_as_current_span("openinference llm") as span:
    span.set_attributes({
        "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o",
        "llm.input_messages.0.message.role": "user", "llm.input_messages.0.message.content": QUESTION,
        "llm.output_messages.0.message.role": "assistant", "llm.output_messages.0.message.content": ANSWER,
        "input.value": json.dumps({"messages": [{"role": "user", "content": QUESTION}]}),
        "input.mime_type": "application/json", "output.value": ANSWER, "output.mime_type": "text/plain",
        "llm.token_count.prompt": 7, "llm.token_count.completion": 3,
    })
print("minimisation ok")
"""
SWITCHES = ("TELEMETRY_RECORD_INPUTS", "TELEMETRY_RECORD_OUTPUTS")


def _dropped_and_kept(switch: str) -> tuple[str, str]:
    return (
        (QUESTION_WORD, ANSWER_WORD) if switch == "TELEMETRY_RECORD_INPUTS" else (ANSWER_WORD, QUESTION_WORD)
    )


@pytest.fixture(scope="module", params=SWITCHES)
def minimisation_case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Case:
    switch: str = request.param
    source = PRELUDE + f"QUESTION, ANSWER = {QUESTION!r}, {ANSWER!r}\n" + MINIMISATION_APP
    with OpenAiServer(ANSWER) as server:
        out = run_with_every_output(
            tmp_path_factory.mktemp(switch.lower()),
            source,
            collector_spans=4,
            collector_logs=4,
            env={**_openai_env(server, "SPAN_AND_EVENT"), switch: "false"},
        )
    assert out.app.returncode == 0 and "minimisation ok" in out.app.stdout, out.app.stderr
    return Case(switch, out)


@pytest.mark.parametrize("output", EVERY_OUTPUT)
def test_turned_off_message_content_reaches_no_output_in_any_genai_form(
    minimisation_case: Case, output: str
) -> None:
    out = minimisation_case.out
    assert out.received(output), f"{output} received nothing; stderr:\n{out.app.stderr[-3000:]}"
    dropped, _ = _dropped_and_kept(minimisation_case.variant)
    found = contains_any(out.texts(output), [dropped])
    assert not found, f"{minimisation_case.variant}=false but:\n" + "\n".join(found)


def test_turned_off_content_keeps_the_other_side_the_model_and_the_token_usage(
    minimisation_case: Case,
) -> None:
    out = minimisation_case.out
    _, kept = _dropped_and_kept(minimisation_case.variant)
    assert contains_any(out.texts(STORE), [kept]), f"{kept!r} should still be recorded"
    spans = {span["name"]: span["_attrs"] for span in store_spans(out)}
    openai_chat = [span["_attrs"] for span in store_spans(out) if span["_scope"] == OPENAI_SCOPE]
    assert len(openai_chat) == 1, sorted(spans)
    assert openai_chat[0]["gen_ai.request.model"] == "gpt-4o-mini"
    assert openai_chat[0]["gen_ai.usage.input_tokens"] == 12
    assert openai_chat[0]["gen_ai.usage.output_tokens"] == 5
    assert spans["chat gpt-4o"]["gen_ai.request.model"] == "gpt-4o"
    assert spans["chat gpt-4o"]["gen_ai.usage.input_tokens"] == 7
    assert spans["openllmetry chat"]["gen_ai.request.model"] == "gpt-4o"
    assert spans["openllmetry chat"]["gen_ai.usage.prompt_tokens"] == 7
    assert spans["openinference llm"]["llm.model_name"] == "gpt-4o"
    assert spans["openinference llm"]["llm.token_count.completion"] == 3


# -- the control: with redaction off, every output shows every value --------------------------------
CONTROL_APP = """
from urllib.parse import urlencode

from opentelemetry import metrics, trace
from opentelemetry._logs import get_logger

text = " ".join((EMAIL, EMAIL2, PHONE, PHONE_FORMATTED, SSN, CARD, CARD.replace(" ", "")))
text += " ".join(("", PASSWORD_PROSE, WIDE_EMAIL, WIDE_PHONE))
with trace.get_tracer("matrix.control").start_as_current_span("chat gpt-4o") as span:
    span.set_attribute("gen_ai.operation.name", "chat")
    span.set_attribute("gen_ai.request.model", "gpt-4o")
    span.set_attribute("gen_ai.input.messages", json.dumps([{"role": "user", "content": text}]))
    span.set_attribute("gen_ai.output.messages", json.dumps([{"role": "assistant", "content": "ok"}]))
    span.set_attribute("url.full", "http://127.0.0.1/search?" + urlencode({"q": text}))
    get_logger("matrix.control").emit(body={"text": text})
metrics.get_meter("matrix.control").create_counter("lookups").add(1, {"query": text})
"""


@pytest.fixture(scope="module")
def control_case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    out = run_with_every_output(
        tmp_path_factory.mktemp("control"),
        PRELUDE + CONTROL_APP,
        collector_logs=1,
        env={"TELEMETRY_PII_REDACTION": "false"},
    )
    assert out.app.returncode == 0, out.app.stderr
    return Case("control", out)


@pytest.mark.parametrize("output", EVERY_OUTPUT)
def test_with_redaction_off_every_output_shows_every_raw_value_so_the_matrix_can_see_them(
    control_case: Case, output: str
) -> None:
    found = control_case.out.leaks(output, SECRETS)
    seen = {
        label
        for label, value in SECRETS.items()
        if any(line.startswith(f"{label} {value!r}") for line in found)
    }
    assert seen == set(SECRETS), found
    if output == STORE:  # and the store's three signals were all searched
        signals = {path.split("/")[1] for path in control_case.out.store_files if path.startswith("store/")}
        assert {"traces", "metrics", "logs"} <= signals, sorted(control_case.out.store_files)


# -- the search itself ---------------------------------------------------------------------------------
def _encoded_samples() -> Iterator[tuple[str, str]]:
    yield "percent-encoded query", "https://x.test/l?email=maria.garcia%40example.org&x=1"
    yield "form-encoded phone", "phone=%2B14155550132"
    yield "percent-encoded, other letter case", "e=Maria.Garcia%40Example.ORG"
    yield "JSON escape", '{"u": "maria.garcia\\u0040example.org"}'
    yield "JSON in JSON", '{"m": "{\\"u\\": \\"\\\\u002b14155550132\\"}"}'
    yield "double percent-encoding", "next=%2Fa%3Fe%3Dmaria.garcia%2540example.org"
    yield "form-encoded spaces", "cc=4111+1111+1111+1111"
    yield "HTML entity", "maria.garcia&#64;example.org"


@pytest.mark.parametrize(("form", "text"), list(_encoded_samples()))
def test_the_leak_search_finds_values_in_every_encoding_it_claims(form: str, text: str) -> None:
    assert find_leaks({"sample": text}, SECRETS), form
    assert not find_leaks({"sample": "<EMAIL> <PHONE_NUMBER> %3CEMAIL%3E \\u003cSSN\\u003e"}, SECRETS)

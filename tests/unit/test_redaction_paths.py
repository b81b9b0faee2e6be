"""Redaction on the paths real libraries take: structured values, encoded text, identifiers,
and the content filter that drops GenAI message content in every convention."""

from __future__ import annotations

import json
from collections import Counter
from functools import partial
from typing import Any

import pytest
from opentelemetry._logs import LogRecord as ApiLogRecord
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from processors.content_filter import ContentFilter
from processors.hashing import PREFIX, keyed_digest
from processors.pii import PiiRedactor
from processors.redaction import DENIED, MAX_DEPTH, OVERSIZED, RedactionProcessor

EMAIL, OTHER = "uma.reyes@example.com", "li.wei@example.org"
PHONE, SSN, CARD = "+14155550132", "536-22-1234", "4111 1111 1111 1111"
RAW = (EMAIL, OTHER, PHONE, SSN, CARD, CARD.replace(" ", ""))
ID_KEYS = ("user.id", "enduser.id", "session.id", "gen_ai.conversation.id")


def _processor() -> RedactionProcessor:
    return RedactionProcessor(id_keys=ID_KEYS, id_digest=partial(keyed_digest, b"test-key"))


def _log(body: Any = None, attributes: dict[str, Any] | None = None, event_name: str | None = None) -> Any:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    provider.get_logger("t").emit(ApiLogRecord(body=body, attributes=attributes, event_name=event_name))
    return exporter.get_finished_logs()[0]


def _span(attributes: dict[str, Any], events: tuple[tuple[str, dict[str, Any]], ...] = ()) -> ReadableSpan:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("t").start_as_current_span("chat gpt-4o", attributes=attributes) as span:
        for name, attrs in events:
            span.add_event(name, attrs)
    return exporter.get_finished_spans()[0]


def _assert_clean(value: object) -> None:
    text = repr(value)
    for raw in RAW:
        assert raw not in text, raw


# -- structured values ------------------------------------------------------------------------
def test_maps_and_lists_of_maps_in_log_attributes_are_redacted_at_every_depth() -> None:
    payload = {
        "user": {"email": EMAIL, "profile": {"phones": [PHONE, "n/a"], "ssn": SSN}},
        "items": [{"card": CARD}, {"note": f"call {PHONE}"}, {"n": 42, "none": None}],
        "count": 3,
    }
    record = _log("login", {"payload": payload, "plain": "ok"})
    out = _processor().process_log(record)
    assert out is not None
    attrs = dict(out.log_record.attributes or {})
    _assert_clean(attrs)
    assert attrs["payload"]["user"]["email"] == "<EMAIL>"
    assert attrs["payload"]["items"][1] == {"note": "call <PHONE_NUMBER>"}
    assert attrs["payload"]["items"][2] == {"n": 42, "none": None}  # non-text values are kept
    assert attrs["payload"]["count"] == 3 and attrs["plain"] == "ok"
    assert attrs["otel_distro.redacted.EMAIL"] == 1


def test_a_secret_named_key_inside_a_structure_replaces_its_whole_sub_value() -> None:
    out = _processor().process_log(
        _log({"request": {"headers": {"Authorization": {"scheme": "Basic", "value": "dXNlcjpwYXNz"}}}})
    )
    assert out is not None
    assert out.log_record.body == {"request": {"headers": {"Authorization": DENIED}}}


def test_keys_of_nested_maps_are_redacted_too() -> None:
    out = _processor().process_log(_log({"by_user": {EMAIL: 3}}))
    assert out is not None
    assert out.log_record.body == {"by_user": {"<EMAIL>": 3}}


def test_structured_log_bodies_are_redacted_with_their_lists() -> None:
    out = _processor().process_log(_log([{"role": "user", "content": f"I am {EMAIL}"}, f"ssn {SSN}"]))
    assert out is not None
    assert out.log_record.body == [{"role": "user", "content": "I am <EMAIL>"}, "ssn <US_SSN>"]


def test_too_deep_or_too_large_structures_are_replaced_whole_never_passed_on() -> None:
    deep: dict[str, Any] = {"email": EMAIL}
    for _ in range(MAX_DEPTH + 5):
        deep = {"next": deep}
    huge = [{"n": str(i)} for i in range(60_000)] + [{"email": EMAIL}]
    counts: Counter[str] = Counter()
    out = _processor().rewrite_attributes({"deep": deep, "huge": huge, "ok": "fine"}, counts)
    assert out == {"deep": OVERSIZED, "huge": OVERSIZED, "ok": "fine"}
    assert counts["OVERSIZED"] == 2


def test_keys_naming_a_secret_in_any_spelling_replace_their_values() -> None:
    keys = (
        "db_password",
        "dbPassword",
        "accessToken",
        "clientSecret",
        "secret_key",
        "aws_secret_access_key",
        "http.request.header.x-auth-token",
        "passphrase",
        "user[password]",
        # a key with a word that makes it a secret's (as secret scanners pair them), a PIN,
        # a one-time code, plurals, and "pass" alone
        "http.request.header.ocp-apim-subscription-key",
        "http.request.header.x-functions-key",
        "x_auth_key",
        "encryption_key",
        "license_key",
        "apiKeys",
        "smtp_pin",
        "otp",
        "db_pass",
        "pass",
        "credential",
        # a second review: short names, one-time and recovery codes, a wallet's words, card codes
        "pw",
        "otp_code",
        "mfa_code",
        "verification_code",
        "2fa_code",
        "backup_codes",
        "wallet.seed_phrase",
        "mnemonic",
        "card_cvv",
        "payment.cvc",
        "security_answer",
        "PHPSESSID",
        "hmac_key",
        "http.request.header.x-auth",
        "http.request.header.authentication",
    )
    counts: Counter[str] = Counter()
    out = _processor().rewrite_attributes({key: "Hx7qPlm2zD" for key in keys}, counts)
    assert out == {key: DENIED for key in keys} and counts["SECRET"] == len(keys)
    # usage and paging keys that merely contain a secret word are left alone, and so are keys
    # named "key" or "pass" by what they are for
    kept = {
        "gen_ai.usage.input_tokens": 5,
        "llm.token_count.prompt": 3,
        "max_tokens": 100,
        "cache_key": "user:42:profile",
        "s3.object_key": "reports/2024/q1.csv",
        "idempotency_key": "order-17",
        "tests.pass": 12,
    }
    assert _processor().rewrite_attributes(kept, Counter()) is None


def test_numbers_under_phone_or_card_keys_bytes_and_keys_holding_pii_are_redacted() -> None:
    out = _processor().rewrite_attributes(
        {
            "card_number": 4111111111111111,
            "phone": 14155550132,
            "count": 4111111111111111,  # a plain number under a plain key: no text to judge
            "payload": {"tel": 14155550166.0, "note": b"mail uma.reyes@example.com"},
            "blob": b"\xff\x00",
            EMAIL: "x",
        },
        Counter(),
    )
    assert out == {
        "card_number": "<CREDIT_CARD>",
        "phone": "<PHONE_NUMBER>",
        "count": 4111111111111111,
        "payload": {"tel": "<PHONE_NUMBER>", "note": "mail <EMAIL>"},
        "blob": b"\xff\x00",
        "<EMAIL>": "x",
    }


def test_bytes_in_any_encoding_and_a_log_records_event_name_are_redacted() -> None:
    """Bytes that are not UTF-8 are read as Latin-1 (every byte a character); a log body of
    bytes is read as its text; a log record's event name is text as its body is."""
    processor = _processor()
    latin1 = b"caf\xe9 " + EMAIL.encode()
    out = processor.rewrite_attributes({"latin1": latin1, "blob": b"\xff\x00"}, Counter())
    assert out == {"latin1": "caf\xe9 <EMAIL>", "blob": b"\xff\x00"}
    for body, expected in (
        (EMAIL.encode(), "<EMAIL>"),
        (b"\xff " + EMAIL.encode(), "\xff <EMAIL>"),  # (glued, "\xff" is a letter of the address)
        (bytearray(PHONE.encode()), "<PHONE_NUMBER>"),
        ({"blob": EMAIL.encode()}, {"blob": "<EMAIL>"}),
    ):
        record = processor.process_log(_log(body=body))
        assert record is not None and record.log_record.body == expected, body
    record = processor.process_log(_log(body="ok", event_name=f"signup {EMAIL}"))
    assert record is not None and record.log_record.event_name == "signup <EMAIL>"
    assert record.log_record.body == "ok"
    untouched = _log(body=b"\x89PNG\r\n", event_name="signup")
    assert processor.process_log(untouched) is untouched  # nothing to rewrite: the same record


def test_an_allowed_key_holding_a_structure_is_still_walked() -> None:
    out = _processor().rewrite_attributes(
        {"payload": {"spanId": {"email": EMAIL}}, "trace_id": "ab12"}, Counter()
    )
    assert out == {"payload": {"spanId": {"email": "<EMAIL>"}}, "trace_id": "ab12"}


def test_secrets_named_by_a_neighbour_in_argv_lists_header_pairs_and_name_value_maps_are_replaced() -> None:
    counts: Counter[str] = Counter()
    out = _processor().rewrite_attributes(
        {
            "argv": ("app", "--password", "Hx7qPlm2zA", "--verbose"),
            "headers": [("Authorization", "Basic dXNlcjpwYXNz"), ("Accept", "*/*")],
            "env": [{"name": "DB_PASSWORD", "value": "Hx7qPlm2zB"}, {"name": "HOME", "value": "/root"}],
            "plain": ["ls", "-la", "token-count"],
        },
        counts,
    )
    assert out is not None
    assert out["argv"] == ("app", "--password", DENIED, "--verbose")
    assert out["headers"] == (("Authorization", DENIED), ("Accept", "*/*"))
    assert out["env"] == ({"name": "DB_PASSWORD", "value": DENIED}, {"name": "HOME", "value": "/root"})
    assert out["plain"] == ["ls", "-la", "token-count"]  # nothing named a secret: as it was
    assert counts["SECRET"] == 3


def test_sets_deques_and_decimal_numbers_are_walked_too() -> None:
    from collections import deque
    from decimal import Decimal

    out = _processor().rewrite_attributes(
        {
            "tags": {EMAIL},
            "queue": deque([f"call {PHONE}"]),
            "payload": {"card": Decimal("4111111111111111")},
        },
        Counter(),
    )
    assert out == {
        "tags": ["<EMAIL>"],
        "queue": ["call <PHONE_NUMBER>"],
        "payload": {"card": "<CREDIT_CARD>"},
    }


# -- identifiers --------------------------------------------------------------------------------
def test_identifiers_holding_pii_become_distinct_keyed_hashes_joinable_across_signals() -> None:
    processor = _processor()
    first = processor.process_span(_span({"user.id": EMAIL, "session.id": f"s-{EMAIL}"}))
    second = processor.process_span(_span({"user.id": OTHER, "gen_ai.conversation.id": "conv-7"}))
    log = processor.process_log(_log("x", {"enduser.id": EMAIL}))
    assert first is not None and second is not None and log is not None
    a, b = dict(first.attributes or {}), dict(second.attributes or {})
    _assert_clean((a, b))
    assert a["user.id"].startswith(PREFIX) and b["user.id"].startswith(PREFIX)
    assert a["user.id"] != b["user.id"]  # users stay distinct, not one <EMAIL>
    assert a["session.id"] != a["user.id"]
    assert b["gen_ai.conversation.id"] == "conv-7"  # no PII: left as it is
    # the same user reads the same in spans and logs, under any of the identifier keys
    assert (log.log_record.attributes or {})["enduser.id"] == a["user.id"]


def test_identifiers_are_matched_in_any_spelling_and_numeric_ones_hashed_too() -> None:
    out = _processor().rewrite_attributes(
        {"userId": EMAIL, "Session-Id": f"s-{EMAIL}", "user.id": 14155550132, "enduser.id": 7}, Counter()
    )
    assert out is not None
    assert all(str(out[key]).startswith(PREFIX) for key in ("userId", "Session-Id", "user.id"))
    assert out["enduser.id"] == 7  # no PII: left as it is


def test_an_address_glued_to_an_underscore_or_digits_is_found_so_ids_made_of_it_are_hashed() -> None:
    """Session ids are often an address and a time ("jane@…com_1700000000"), files an address
    and a name: a host name holds no "_", so the address ends before it."""
    processor = _processor()
    counts: Counter[str] = Counter()
    out = processor.rewrite_attributes(
        {
            "session.id": f"{EMAIL}_1700000000",
            "file.path": f"/srv/invoices/{EMAIL}_invoice.pdf",
            "note": f"{EMAIL}123 and x@y.io_",
        },
        counts,
    )
    assert out is not None
    assert out["session.id"].startswith(PREFIX) and EMAIL not in out["session.id"]
    assert out["file.path"] == "/srv/invoices/<EMAIL>_invoice.pdf"
    assert out["note"] == "<EMAIL>123 and <EMAIL>_"
    assert counts["EMAIL"] == 4


def test_json_text_is_redacted_as_the_structure_it_encodes_where_its_keys_have_rules() -> None:
    """Message content and tool-call arguments are JSON text: a secret's key (cvv, pin, otp), a
    phone, card or SSN number's key, an identifier's key there has the rule it has in structured
    values, in JSON in JSON too (arguments as a string inside the messages' JSON)."""
    arguments = {"card_number": "4532015112830366", "cvv": "737", "pin": "4821", "ssn": "536221299"}
    messages = [
        {
            "role": "assistant",
            "parts": [
                {"type": "tool_call", "name": "pay", "arguments": arguments},  # an object
                {"type": "tool_call", "name": "pay", "arguments": json.dumps(arguments)},  # a string
            ],
        },
        {
            "role": "tool",
            "parts": [{"type": "text", "content": json.dumps({"otp": "482913", "user_id": EMAIL})}],
        },
    ]
    counts: Counter[str] = Counter()
    out = _processor().rewrite_attributes({"gen_ai.output.messages": json.dumps(messages)}, counts)
    assert out is not None
    written = out["gen_ai.output.messages"]
    for raw in ("4532015112830366", "737", "4821", "536221299", "482913", EMAIL):
        assert raw not in written, raw
    decoded = json.loads(written)
    first, second = (part["arguments"] for part in decoded[0]["parts"])
    assert first == {"card_number": "<CREDIT_CARD>", "cvv": DENIED, "pin": DENIED, "ssn": "<US_SSN>"}
    assert json.loads(second) == first
    assert json.loads(decoded[1]["parts"][0]["content"])["otp"] == DENIED
    assert counts["SECRET"] == 5 and counts["US_SSN"] == 2 and counts["CREDIT_CARD"] == 2
    # JSON whose keys have no rule is read as text only: written as it was
    kept = _processor().rewrite_attributes(
        {"m": '[{"role": "user", "content": "mail ' + EMAIL + '"}]'}, Counter()
    )
    assert kept == {"m": '[{"role": "user", "content": "mail <EMAIL>"}]'}
    assert _processor().rewrite_attributes({"log": "[INFO] started", "n": "[1, 2]"}, Counter()) is None


def test_identifier_keys_are_redacted_as_usual_without_a_digest() -> None:
    out = RedactionProcessor().rewrite_attributes({"user.id": EMAIL}, Counter())
    assert out == {"user.id": "<EMAIL>"}


# -- encoded text -------------------------------------------------------------------------------
def _escaped(text: str) -> str:
    """Text as json.dumps writes it inside a string (every non-ASCII character a \\u escape)."""
    return json.dumps(text)[1:-1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "https://api.example.com/users?email=uma.reyes%40example.com&phone=%2B14155550132&page=2",
            "https://api.example.com/users?email=<EMAIL>&phone=<PHONE_NUMBER>&page=2",
        ),
        ("q=call+me+at+%2B1+415+555+0132&x=1", "q=call+me+at+<PHONE_NUMBER>&x=1"),
        ("phone=+44%2020%207946%200958", "phone=<PHONE_NUMBER>"),
        ("/checkout?cc=4111%201111%201111%201111", "/checkout?cc=<CREDIT_CARD>"),
        ("/checkout?cc=4111+1111+1111+1111&n=2", "/checkout?cc=<CREDIT_CARD>&n=2"),
        ("ssn=536%2D22%2D1234", "ssn=<US_SSN>"),
        ("<p>Contact: uma&#64;example.com or uma&#x40;example.com</p>", "<p>Contact: <EMAIL> or <EMAIL></p>"),
        ("mail uma&commat;example.com", "mail <EMAIL>"),
        ('{"content": "write to uma\\u0040example.com"}', '{"content": "write to <EMAIL>"}'),
        ('"{\\"to\\": \\"uma\\\\u0040example.com\\"}"', '"{\\"to\\": \\"<EMAIL>\\"}"'),
        ("double-encoded: uma%2540example.com", "double-encoded: <EMAIL>"),
        ("/users/%2B14155550132/orders", "/users/<PHONE_NUMBER>/orders"),
        # found by a hostile review: triple encoding, entities without ";" or encoded twice,
        # no-break spaces and dashes encoded, "\/" escapes, a value cut across pieces, form "+"
        ("/u?e=uma.patel%252540example.com", "/u?e=<EMAIL>"),
        ("<a>uma.patel&amp;#64;example.com</a>", "<a><EMAIL></a>"),
        ("mail uma.patel&#64example.com", "mail <EMAIL>"),
        ("call 415&nbsp;555&nbsp;0140 now", "call <PHONE_NUMBER> now"),
        ("tel=415%C2%A0555%C2%A00138", "tel=<PHONE_NUMBER>"),
        ('{"tel": "415\\u00a0555\\u00a00147"}', '{"tel": "<PHONE_NUMBER>"}'),
        (
            '{"url": "postgres:\\/\\/app:Sup3rS3cret@db:5432\\/prod"}',
            '{"url": "postgres://<CREDENTIALS>@db:5432/prod"}',
        ),
        ("phone=415 555%2D0136", "phone=<PHONE_NUMBER>"),
        ("/lookup?q=call+415+555+0171+now", "/lookup?q=call+<PHONE_NUMBER>+now"),
        ("email=uma+tag%40example.com", "email=<EMAIL>"),
        # encoded four and five times, and JavaScript's escape() ("%u0040")
        ("/u?e=uma.patel%25252540example.com", "/u?e=<EMAIL>"),
        ("/u?e=uma.patel%2525252540example.com", "/u?e=<EMAIL>"),
        ("u=uma%u0040example.com&t=%u002B14155550132", "u=<EMAIL>&t=<PHONE_NUMBER>"),
        # a password in prose inside JSON inside JSON: the escaped quote after it stays (the
        # value took its backslash, and the JSON around it no longer parsed)
        (
            json.dumps(json.dumps({"c": "my password is Hx9#kLm2pQ"})),
            json.dumps(json.dumps({"c": "my password is <SECRET>"})),
        ),
        # found by a hostile review: json.dumps escapes every non-ASCII character, so values
        # written in them (a password after a Chinese keyword, full-width forms) hid in GenAI
        # message JSON; a surrogate pair (an emoji) is one character
        (
            _escaped("\u6211\u7684\u5bc6\u7801\u662fHx9#kLm2pQ"),
            _escaped("\u6211\u7684\u5bc6\u7801\u662f") + "<SECRET>",
        ),
        (
            _escaped(
                "\uff25\uff36\uff25\uff20\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25\uff0e\uff23\uff2f\uff2d"
            ),
            "<EMAIL>",
        ),
        (
            _escaped("\u7535\u8bdd\uff1a" + "".join(chr(0xFF10 + int(d)) for d in "13800138000")),
            _escaped("\u7535\u8bdd\uff1a") + "<PHONE_NUMBER>",
        ),
        (
            _escaped("\U0001f600 uma@example.com \U0001f600"),
            _escaped("\U0001f600 ") + "<EMAIL>" + _escaped(" \U0001f600"),
        ),
    ],
)
def test_values_hidden_by_an_encoding_are_replaced_in_the_encoded_original(text: str, expected: str) -> None:
    assert PiiRedactor().redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "growth of 100% & more",
        "1+1=2 and v=2+3",
        "C++ and a+b in code, x+1 in math",
        "https://example.com/search?q=vector%20databases&lang=en",
        "Tom &amp; Jerry &quot;classic&quot;",
        r"C:\Users\dev\x64\build",
        '{"content": "caf\\u00e9 cr\\u00e8me"}',
        "path=%2Fhome%2Fdev%2Fproject&v=2.3.1",
        "progress 50%25252525 done",
        "%u00e9t%u00e9 %uXYZW",
    ],
)
def test_encoded_text_without_pii_is_left_alone(text: str) -> None:
    assert PiiRedactor().redact_text(text) == text


# -- content filter -----------------------------------------------------------------------------
PROMPT, ANSWER = "what is my balance", "your balance is 12 dollars"
SPAN_ATTRS: dict[str, Any] = {
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.usage.input_tokens": 12,
    "gen_ai.usage.output_tokens": 7,
    "gen_ai.input.messages": f'[{{"role": "user", "parts": [{{"type": "text", "content": "{PROMPT}"}}]}}]',
    "gen_ai.system_instructions": "be brief",
    "gen_ai.output.messages": f'[{{"role": "assistant", "parts": [{{"content": "{ANSWER}"}}]}}]',
    "gen_ai.prompt.0.role": "user",
    "gen_ai.prompt.0.content": PROMPT,
    "gen_ai.completion.0.role": "assistant",
    "gen_ai.completion.0.content": ANSWER,
    "gen_ai.completion.0.finish_reason": "stop",
    "llm.input_messages.0.message.role": "user",
    "llm.input_messages.0.message.content": PROMPT,
    "llm.output_messages.0.message.content": ANSWER,
    "input.value": PROMPT,
    "output.value": ANSWER,
    "llm.token_count.prompt": 12,
}
EVENTS = (
    ("gen_ai.user.message", {"content": PROMPT, "gen_ai.system": "openai"}),
    ("gen_ai.choice", {"index": 0, "finish_reason": "stop", "message": ANSWER}),
)


@pytest.mark.parametrize(("inputs", "outputs"), [(True, False), (False, True), (True, True)])
def test_content_filter_drops_the_chosen_side_in_every_convention_and_keeps_model_and_usage(
    inputs: bool, outputs: bool
) -> None:
    out = ContentFilter(inputs=inputs, outputs=outputs).process_span(_span(SPAN_ATTRS, EVENTS))
    assert out is not None
    attrs = dict(out.attributes or {})
    text = repr(attrs) + repr([(e.name, dict(e.attributes or {})) for e in out.events])
    assert (PROMPT in text) is not inputs
    assert ("be brief" in text) is not inputs
    assert (ANSWER in text) is not outputs
    assert attrs["gen_ai.request.model"] == "gpt-4o"
    assert attrs["gen_ai.usage.input_tokens"] == 12 and attrs["llm.token_count.prompt"] == 12
    assert attrs["gen_ai.prompt.0.role"] == "user"
    assert attrs["gen_ai.completion.0.finish_reason"] == "stop"
    assert [e.name for e in out.events] == ["gen_ai.user.message", "gen_ai.choice"]


AGENT_ATTRS: dict[str, Any] = {
    # OpenLLMetry's CrewAI and LangChain instrumentations
    "crewai.task.description": PROMPT,
    "crewai.task.expected_output": PROMPT,
    "crewai.agent.backstory": PROMPT,
    "crewai.crew.agents": f'[{{"role": "clerk", "backstory": "{PROMPT}"}}]',
    "crewai.crew.result": ANSWER,
    "crewai.crew.tasks_output": f'[{{"raw": "{ANSWER}"}}]',
    "gen_ai.task.input": PROMPT,
    "gen_ai.task.output": ANSWER,
    # OpenInference's CrewAI and LlamaIndex instrumentations
    "crew_agents": f'[{{"goal": "{PROMPT}"}}]',
    "crew_tasks": f'[{{"description": "{PROMPT}"}}]',
    "embedding.embeddings.0.embedding.text": PROMPT,
    "retrieval.documents.3.document.content": PROMPT,
    "crewai.crew.id": "c-1",
    "embedding.model_name": "text-embedding-3-small",
}


@pytest.mark.parametrize(("inputs", "outputs"), [(True, False), (False, True)])
def test_content_filter_drops_agent_frameworks_tasks_agents_documents_and_results(
    inputs: bool, outputs: bool
) -> None:
    """An eighth review: CrewAI's tasks, agents and results, OpenLLMetry's task input/output and
    LlamaIndex's embedded documents stayed with TELEMETRY_RECORD_INPUTS/OUTPUTS=false."""
    out = ContentFilter(inputs=inputs, outputs=outputs).process_span(_span(AGENT_ATTRS, ()))
    assert out is not None
    attrs = dict(out.attributes or {})
    assert (PROMPT in repr(attrs)) is not inputs
    assert (ANSWER in repr(attrs)) is not outputs
    assert attrs["crewai.crew.id"] == "c-1" and attrs["embedding.model_name"] == "text-embedding-3-small"


def test_content_filter_drops_content_of_log_events_with_structured_bodies() -> None:
    content_filter = ContentFilter(inputs=True, outputs=True)
    user = _log({"content": PROMPT, "role": "user"}, {"gen_ai.system": "openai"}, "gen_ai.user.message")
    choice = _log(
        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": ANSWER}},
        event_name="gen_ai.choice",
    )
    details = _log(
        None,
        {
            "gen_ai.input.messages": [{"role": "user", "parts": [{"content": PROMPT}]}],
            "gen_ai.request.model": "m",
        },
        "gen_ai.client.inference.operation.details",
    )
    outs: list[ReadableLogRecord] = []
    for record in (user, choice, details):
        out = content_filter.process_log(record)
        assert out is not None
        outs.append(out)
    text = repr([(o.log_record.body, dict(o.log_record.attributes or {})) for o in outs])
    assert PROMPT not in text and ANSWER not in text
    assert outs[0].log_record.body == {"role": "user"}
    assert outs[1].log_record.body == {"index": 0, "finish_reason": "stop", "message": {"role": "assistant"}}
    assert dict(outs[2].log_record.attributes or {}) == {"gen_ai.request.model": "m"}


def test_a_trace_state_from_an_incoming_header_and_a_links_are_redacted() -> None:
    """Any client sending a request can put text in ``tracestate``; a server instrumentation
    carries it into the span's context (written as ``traceState``) and into links."""
    from opentelemetry import propagate, trace
    from opentelemetry.trace import Link

    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    carrier = {
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "tracestate": f"vendor=u:{EMAIL},ip=81.2.69.142,plain=ok",
    }
    parent = propagate.extract(carrier)
    tracer = provider.get_tracer("t")
    link_context = trace.get_current_span(parent).get_span_context()
    tracer.start_span("s", context=parent, links=[Link(link_context, {"n": 1})]).end()
    span = exporter.get_finished_spans()[0]
    out = _processor().process_span(span)
    assert out is not None
    state = out.context.trace_state
    assert state["plain"] == "ok" and state["vendor"] == "u:<EMAIL>" and "81.2.69.142" not in state["ip"]
    assert out.context.trace_id == span.context.trace_id and out.context.span_id == span.context.span_id
    assert EMAIL not in out.links[0].context.trace_state.to_header()
    assert out.links[0].attributes == {"n": 1}


def test_an_instrumentation_scope_name_version_and_attributes_are_redacted_on_every_signal() -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    processor = _processor()
    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer(f"audit.{EMAIL}", attributes={"tenant.admin": OTHER})
    for _ in range(2):
        tracer.start_span("s").end()
    first, second = (processor.process_span(span) for span in exporter.get_finished_spans())
    assert first is not None and second is not None
    scope = first.instrumentation_scope
    assert scope is not None and scope.name == "<EMAIL>"  # "audit.uma.reyes@…" is one address
    assert dict(scope.attributes or {}) == {"tenant.admin": "<EMAIL>"}
    assert second.instrumentation_scope is scope  # one scope object: spans still group by it

    log = _log(body="hello")
    logs = LoggerProvider(shutdown_on_exit=False)
    logs_exporter = InMemoryLogRecordExporter()
    logs.add_log_record_processor(SimpleLogRecordProcessor(logs_exporter))
    logs.get_logger(f"audit.{EMAIL}").emit(ApiLogRecord(body="hello"))
    record = processor.process_log(logs_exporter.get_finished_logs()[0])
    assert record is not None and record.instrumentation_scope is not None
    assert record.instrumentation_scope.name == "<EMAIL>"
    assert processor.process_log(log) is log  # a plain scope: the record as it was

    reader = InMemoryMetricReader()
    meters = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
    meters.get_meter(f"m.{EMAIL}").create_counter("c").add(1)
    data = reader.get_metrics_data()
    assert data is not None
    rewritten = processor.process_metrics(data)
    assert rewritten is not None
    assert rewritten.resource_metrics[0].scope_metrics[0].scope.name == "<EMAIL>"
    # a metric's own texts: name, description and unit
    meters.get_meter("m").create_counter("signups", unit=OTHER, description=f"signups of {EMAIL}").add(1)
    data = reader.get_metrics_data()
    assert data is not None
    rewritten = processor.process_metrics(data)
    assert rewritten is not None
    metrics = [m for rm in rewritten.resource_metrics for sm in rm.scope_metrics for m in sm.metrics]
    signups = next(m for m in metrics if m.name == "signups")
    assert signups.description == "signups of <EMAIL>" and signups.unit == "<EMAIL>"


class _User:
    """An object an app puts in a log body as it is: written as its text."""

    def __str__(self) -> str:
        return f"User(email={EMAIL!r}, phone={PHONE!r})"


def test_objects_in_log_bodies_and_values_are_redacted_as_the_text_they_are_written_as() -> None:
    from decimal import Decimal

    processor = _processor()
    for body in (_User(), {"u": _User()}, [_User(), 1, None], {"deep": [{"x": _User()}]}):
        out = processor.process_log(_log(body=body))
        assert out is not None
        written = json.dumps(out.log_record.body, default=str)
        assert EMAIL not in written and PHONE not in written and "<EMAIL>" in written, body
    counts: Counter[str] = Counter()
    attrs = processor.rewrite_attributes({"amount": Decimal(CARD.replace(" ", "")), "n": 3}, counts)
    assert attrs == {"amount": "<CREDIT_CARD>", "n": 3} and counts["CREDIT_CARD"] == 1


def test_numbers_in_lists_under_phone_or_card_keys_are_read_as_text() -> None:
    counts: Counter[str] = Counter()
    out = _processor().rewrite_attributes(
        {
            "notify.phone_numbers": (14155550132, 14155550166),
            "counts": (14155550132,),  # a plain key: numbers stay numbers
            "payload": {"cards": [[4111111111111111]], "ids": [14155550132]},
        },
        counts,
    )
    assert out is not None
    assert out["notify.phone_numbers"] == ("<PHONE_NUMBER>", "<PHONE_NUMBER>")
    assert out["counts"] == (14155550132,)
    assert out["payload"] == {"cards": [["<CREDIT_CARD>"]], "ids": [14155550132]}
    assert counts["PHONE_NUMBER"] == 2 and counts["CREDIT_CARD"] == 1
    more = _processor().rewrite_attributes(
        {"creditcard": 4539148803436467, "contact_number": 4155550132, "whatsapp": 14155550132, "n": 7},
        Counter(),
    )
    assert more == {
        "creditcard": "<CREDIT_CARD>",
        "contact_number": "<PHONE_NUMBER>",
        "whatsapp": "<PHONE_NUMBER>",
        "n": 7,
    }
    # the word before "number" or "no" names it, apart or in one word
    compound = _processor().rewrite_attributes(
        {
            "phonenumber": 14155550199,
            "mobileNumber": 14155550166,
            "callback_number": 14155550132,
            "cardnumber": 4916338506082832,
            "creditcardnumber": 4539148803436467,
            "socialsecuritynumber": 536221234,
            "page_number": 14155550199,  # a plain key: a number stays a number
            "line_no": 4916338506082832,
        },
        Counter(),
    )
    assert compound == {
        "phonenumber": "<PHONE_NUMBER>",
        "mobileNumber": "<PHONE_NUMBER>",
        "callback_number": "<PHONE_NUMBER>",
        "cardnumber": "<CREDIT_CARD>",
        "creditcardnumber": "<CREDIT_CARD>",
        "socialsecuritynumber": "<US_SSN>",
        "page_number": 14155550199,
        "line_no": 4916338506082832,
    }


def test_values_under_a_key_naming_an_ssn_or_an_iban_are_redacted_in_their_bare_form() -> None:
    """Nine digits alone are an SSN only where a word beside them says so; under an SSN key the
    key says it (a string, an int that lost its leading zero, a list, a nested map, a log body),
    and a lower-case or oddly grouped IBAN under an IBAN key is one (mod-97 checked)."""
    processor = _processor()
    counts: Counter[str] = Counter()
    span = processor.process_span(
        _span(
            {
                "user.ssn": "536221234",
                "socialSecurityNumber": 12345678,  # 012-34-5678 as an int
                "customer.social_security_number": "536 22 1234",
                "payout.iban": "gb82 west 1234 5698 7654 32",
                "ssns": ("536221234", "078051120"),
                "ssn_note": "pending",  # not in the form: stays
                "iban": "not an iban",
                "order_count": 536221234,  # a plain key: a number stays a number
            },
            (("kyc", {"ssn": 536221234}),),
        )
    )
    assert span is not None
    assert dict(span.attributes or {}) == {
        "user.ssn": "<US_SSN>",
        "socialSecurityNumber": "<US_SSN>",
        "customer.social_security_number": "<US_SSN>",
        "payout.iban": "<IBAN_CODE>",
        "ssns": ("<US_SSN>", "<US_SSN>"),
        "ssn_note": "pending",
        "iban": "not an iban",
        "order_count": 536221234,
        **{k: v for k, v in (span.attributes or {}).items() if k.startswith("otel_distro.")},
    }
    assert dict(span.events[0].attributes or {}) == {"ssn": "<US_SSN>"}
    log = processor.process_log(_log({"applicant": {"ssn": 536221234, "iban": "de89370400440532013000"}}))
    assert log is not None and log.log_record.body == {
        "applicant": {"ssn": "<US_SSN>", "iban": "<IBAN_CODE>"}
    }
    masked = RedactionProcessor(redactor=PiiRedactor(style="mask")).rewrite_attributes(
        {"ssn": "536221234"}, counts
    )
    assert masked == {"ssn": "*********"} and counts["US_SSN"] == 1


def test_an_agent_id_made_from_a_name_that_held_pii_is_hashed_with_the_name() -> None:
    """The helpers make gen_ai.agent.id a uuid5 of the agent's name: from "concierge for <an
    address>" anyone can compute it again from a guessed address, so it goes the way of the name."""
    from instrumentations.runs import agent_id

    named = f"concierge for {EMAIL}"
    out = _processor().rewrite_attributes(
        {"gen_ai.agent.name": named, "gen_ai.agent.id": agent_id(named)}, Counter()
    )
    assert out is not None and out["gen_ai.agent.name"] == "concierge for <EMAIL>"
    assert out["gen_ai.agent.id"] == keyed_digest(b"test-key", agent_id(named))
    plain = {"gen_ai.agent.name": "concierge", "gen_ai.agent.id": agent_id("concierge"), "q": EMAIL}
    kept = _processor().rewrite_attributes(plain, Counter())
    assert kept is not None and kept["gen_ai.agent.id"] == agent_id("concierge")  # a plain name: as it was


def test_a_span_of_thousands_of_new_short_strings_is_handed_to_the_worker() -> None:
    """Every string met for the first time is charged to the app thread's budget, short ones
    too: 128 events of 64 new 250-character strings (2 MB) cost the app's span.end() 600 ms."""
    from processors.inline_budget import INLINE_TEXT_BUDGET, HandOff, set_inline_budget

    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("t").start_as_current_span("many") as span:
        for event in range(128):
            span.add_event("e", {f"k{n}": f"{event:03d}-{n:03d} " + "w" * 242 for n in range(64)})
    (many,) = exporter.get_finished_spans()
    processor = _processor()
    set_inline_budget(INLINE_TEXT_BUDGET)
    try:
        with pytest.raises(HandOff):
            processor.process_span(many)
    finally:
        set_inline_budget(None)
    assert processor.process_span(many) is not None  # on the worker (no budget) it is processed


INTERNATIONAL = [
    "\u0438\u0432\u0430\u043d.\u043f\u0435\u0442\u0440\u043e\u0432@\u043f\u043e\u0447\u0442\u0430.\u0440\u0444",
    "\u592a\u90ce@\u4f8b\u3048.jp",
    "jos\u00e9.garc\u00eda@example.com",
    "j\u00fcrgen.m\u00fcller@b\u00fccher.de",
    "alice@b\u00fccher.de",
    "\u7528\u6237@example.com",
    "\u03b4\u03bf\u03ba\u03b9\u03bc\u03ae@\u03c0\u03b1\u03c1\u03ac\u03b4\u03b5\u03b9\u03b3\u03bc\u03b1.\u03b5\u03bb",
    "\u0930\u093e\u092e@\u0909\u0926\u093e\u0939\u0930\u0923.\u092d\u093e\u0930\u0924",  # vowel signs: marks
    "\u0e2a\u0e21\u0e0a\u0e32\u0e22@\u0e15\u0e31\u0e27\u0e2d\u0e22\u0e48\u0e32\u0e07.\u0e44\u0e17\u0e22",
    "\u0645\u062d\u0645\u062f@\u0645\u062b\u0627\u0644.\u0645\u0635\u0631",
    "jose\u0301@example.com",  # the accent written apart from its letter
    "jose\u0301.garci\u0301a@example.com",  # and before an ASCII tail
    "tr\u1ea7n.nguy\u1ec5n@gmail.com",  # Vietnamese: Latin Extended Additional
    # Cyrillic, then Latin
    "\u043f\u0435\u0442\u0440\u043e\u0432.ivan@\u043f\u043e\u0447\u0442\u0430.\u0440\u0444",
    "\u5f20\u4e09@\u516c\u53f8.\u4e2d\u56fd",
]


@pytest.mark.parametrize("address", INTERNATIONAL)
def test_an_address_of_any_script_is_replaced_whole_and_an_id_holding_one_is_hashed(address: str) -> None:
    """RFC 6531 addresses: before, "jos\u00e9.garc\u00eda@…" kept "jos\u00e9.garc\u00ed" and
    "\u0438\u0432\u0430\u043d@\u043f\u043e\u0447\u0442\u0430.\u0440\u0444" was kept whole, and an
    id made of one was stored as it was."""
    processor = _processor()
    counts: Counter[str] = Counter()
    out = processor.rewrite_attributes(
        {"note": f"send the welcome mail to {address} today", "user.id": address, "mail.to": address},
        counts,
    )
    assert out is not None
    assert out["note"] == "send the welcome mail to <EMAIL> today"
    assert out["mail.to"] == "<EMAIL>"
    assert out["user.id"].startswith(PREFIX) and address not in out["user.id"]
    assert counts["EMAIL"] == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "\u30e1\u30fc\u30eb\u306ftaro@example.jp\u3067\u3059",
            "\u30e1\u30fc\u30eb\u306f<EMAIL>\u3067\u3059",
        ),
        ("\u30e1\u30fc\u30eb\u306fjos\u00e9@example.jp", "\u30e1\u30fc\u30eb\u306f<EMAIL>"),
        ("\u96fb\u8a71\u756a\u53f7\u306fjane@example.com", "\u96fb\u8a71\u756a\u53f7\u306f<EMAIL>"),
        ("user@example.com\u3067\u3059", "<EMAIL>\u3067\u3059"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ("caf\u00e9 au lait @ 3.50", "caf\u00e9 au lait @ 3.50"),
        # a mention and a full stop in prose written without spaces: no top-level domain of IANA's
        ("\u611f\u8c22@\u5c0f\u660e.\u7684\u5e2e\u52a9", "\u611f\u8c22@\u5c0f\u660e.\u7684\u5e2e\u52a9"),
        (
            "\u043e\u0442\u0432\u0435\u0442@\u041c\u0430\u0440\u0438\u044f.\u041e\u043a",
            "\u043e\u0442\u0432\u0435\u0442@\u041c\u0430\u0440\u0438\u044f.\u041e\u043a",
        ),
        # JSON escapes of letters past ASCII are letters of the address; of "@", a boundary
        ("to jos\\u00e9.garc\\u00eda@example.com now", "to <EMAIL> now"),
        ("user@b\\u00fccher.de", "<EMAIL>"),
        ("x \\u0040jane@example.com", "x \\u0040<EMAIL>"),
    ],
)
def test_prose_of_another_script_glued_to_an_address_stays(text: str, expected: str) -> None:
    assert PiiRedactor().redact_text(text) == expected


def test_a_card_or_phone_kept_as_an_int_is_replaced_under_ordinary_keys_but_ids_and_counts_stay() -> None:
    """Before, an int was text only under keys that named a phone or a card: "payment.ref":
    4111111111111111 and "recipient": 16502530199 were stored as they were."""
    card, phone = 4111111111111111, 16502530199
    counts: Counter[str] = Counter()
    out = _processor().rewrite_attributes(
        {
            "payment.ref": card,
            "refs": [card, 7],
            "order": {"payment": card, "lines": 3},
            "customer.contact": phone,
            "recipient": phone,
            "callerNumber": phone,
            "wa_id": phone,
            # ids, counters, times and ordinals: their ints are never cards
            "message.id": card,
            "order_id": card,
            "trace.parent": card,
            "line_no": card,
            "bytes": card,
            "big": 2**62,  # 19 digits, not Luhn
            "tokens": 120,
            # a card's number under "card", and under an ordinary "number"
            "payment": {"card": {"number": card, "exp_month": 12}},
            "payment.number": card,
            # a who-key that names an id, a count or a time of theirs; hashes
            "sender_id": phone,
            "recipient.count": phone,
            "caller.pid": phone,
            "db.query.fingerprint": card,
            "xxhash64": card,
        },
        counts,
    )
    assert out is not None
    assert out["payment.ref"] == "<CREDIT_CARD>" and out["refs"] == ("<CREDIT_CARD>", 7)
    assert out["order"] == {"payment": "<CREDIT_CARD>", "lines": 3}
    for key in ("customer.contact", "recipient", "callerNumber", "wa_id"):
        assert out[key] == "<PHONE_NUMBER>", key
    for key in ("message.id", "order_id", "trace.parent", "line_no", "bytes"):
        assert out[key] == card, key
    assert out["big"] == 2**62 and out["tokens"] == 120
    assert out["payment"] == {"card": {"number": "<CREDIT_CARD>", "exp_month": 12}}
    assert out["payment.number"] == "<CREDIT_CARD>"
    for key in ("sender_id", "recipient.count", "caller.pid"):
        assert out[key] == phone, key
    assert out["db.query.fingerprint"] == card and out["xxhash64"] == card
    assert counts == Counter({"CREDIT_CARD": 5, "PHONE_NUMBER": 4})


def test_json_after_words_in_a_log_line_is_redacted_as_the_structure_it_encodes() -> None:
    """logger.info("webhook received: %s", json.dumps(body)): before, only a text that was JSON
    from its first character had its keys' rules applied, so a WhatsApp webhook's "wa_id" (a
    phone number) and a "cvv" after words were stored raw."""
    body = {
        "entry": [
            {"changes": [{"value": {"contacts": [{"profile": {"name": "Jane"}, "wa_id": "16502530199"}]}}]}
        ]
    }
    processor = _processor()
    counts: Counter[str] = Counter()
    record = processor.process_log(_log(body=f"webhook received: {json.dumps(body)} (1 entry)"))
    assert record is not None
    text = record.log_record.body
    assert isinstance(text, str) and "16502530199" not in text
    assert text.startswith("webhook received: {") and text.endswith("} (1 entry)")
    assert '"wa_id":"<PHONE_NUMBER>"' in text and '"name":"Jane"' in text
    out = processor.rewrite_text('charge {"cvv": "737", "amount": 5} then {"pin": "4821"}, a {brace}', counts)
    assert out == 'charge {"cvv":"<REDACTED>","amount":5} then {"pin":"<REDACTED>"}, a {brace}'
    assert processor.rewrite_text('plain {"a": 1} and {"b": "two"}', counts) is None  # no key with a rule


def test_keyed_values_after_words_are_redacted_in_attributes_escaped_json_reprs_and_past_decoys() -> None:
    """Before: only log bodies had JSON after words judged by its keys; escaped JSON, a dict's
    repr and an object after 16 stray '{"' were left raw; odd JSON raised and lost the record."""
    processor = _processor()
    counts: Counter[str] = Counter()
    body = 'webhook received: {"cvv": "737", "pin": "4321", "wa_id": "16502530199"}'
    out = processor.rewrite_attributes({"note": body, "path": "/users/{id}"}, counts)
    assert out is not None and "737" not in out["note"] and "16502530199" not in out["note"]
    assert out["note"].startswith("webhook received: {") and '"pin":"<REDACTED>"' in out["note"]
    assert "path" not in out or out["path"] == "/users/{id}"
    for text, raw in (
        ('args: {\\"cvv\\": \\"737\\", \\"amount\\": 5}', "737"),  # escaped JSON in JSON text
        (f"payload {dict(pin='4821', user='bob')}", "4821"),  # logger.info("%s", payload)
        ('{"a' * 20 + ' then {"cvv": "919"}', "919"),  # stray braces first
        ('big {"n": 123456789012345678901234567890, "cvv": "737"}', "737"),  # past 64 bits
        ('cut {"t": "\\ud83d", "pin": "4821"}', "4821"),  # half an emoji
        ("deep " + '{"a": ' * 5000 + '{"cvv": "737"}' + "}" * 5000, "737"),
    ):
        new = processor.rewrite_text(text, counts)
        assert new is not None and raw not in new, text[:60]


def test_keyed_values_in_text_nan_lists_pretty_json_and_generated_tokens() -> None:
    """A third review: NaN under a phone key raised and lost the record; a list under a secret
    key in pretty-printed JSON or a repr was left raw; "token" in a model's stream or logprobs
    (generated text, not a credential) was replaced; an escaped quote cut a password short;
    NaN in an object after words came back as null."""
    processor = _processor()
    counts: Counter[str] = Counter()
    assert processor.rewrite_attributes({"customer.phone": float("nan")}, counts) is None
    row = 'imported row {"customer": "A-17", "phone": NaN, "ratio": Infinity, "password": "x9"}'
    out = processor.rewrite_text(row, counts)
    assert out == 'imported row {"customer":"A-17","phone":NaN,"ratio":Infinity,"password":"<REDACTED>"}'
    pretty = (
        'MFA enrolled: {\n  "user": "bob",\n  "recovery_codes": [\n    "8f2k-3j9d-77ax",\n    "q0p1"\n  ]\n}'
    )
    for text in (pretty, "MFA enrolled: {'user': 'bob', 'recovery_codes': ['8f2k-3j9d-77ax', 'q0p1']}"):
        new = processor.rewrite_text(text, counts)
        assert new is not None and "8f2k-3j9d-77ax" not in new and "bob" in new, text
    ssn = processor.rewrite_text("row: {'ssn': [536221234, 'x']}", counts)
    assert ssn is not None and "536221234" not in ssn
    logprobs = 'logprobs: {"content":[{"token":" world","logprob":-0.31}]}'
    assert processor.rewrite_text(logprobs, counts) in (None, logprobs)  # generated text, beside its logprob
    secret = processor.rewrite_text('auth: {"token": "ghp_16C7e42F292c6912E7710c838347Ae178B4a"}', counts)
    assert secret is not None and "ghp_" not in secret
    short = processor.rewrite_attributes(
        {
            "token": "482913",
            "session": {"token": "qwertyuiopasdf"},
            "piece": {"token": "Hello", "logprob": -0.1},
        },
        counts,
    )
    assert short == {
        "token": "<REDACTED>",  # a one-time code
        "session": {"token": "<REDACTED>"},
        "piece": {"token": "Hello", "logprob": -0.1},  # a logprobs entry's token is generated text
    }
    escaped = processor.rewrite_text('body: {"password": "hun\\"ter2", "n": 1}', counts)
    assert escaped is not None and "ter2" not in escaped and "hun" not in escaped
    # a card's or phone's map: its number, not its other fields
    nested = processor.rewrite_attributes({"caller": {"duration": 2125550199, "number": 4155552671}}, counts)
    assert nested is not None and nested["caller"] == {"duration": 2125550199, "number": "<PHONE_NUMBER>"}


def test_a_route_with_braces_is_looked_at_once_then_takes_the_fast_path() -> None:
    processor = _processor()
    route = "/users/{user_id}/orders/{order_id}"
    assert processor.rewrite_attributes({"http.route": route}, Counter()) is None
    assert route in processor._pairless  # the next span's attribute skips the key search


def test_a_fourth_review_decimal_nan_secret_ints_in_maps_and_objects_under_secret_keys() -> None:
    """Decimal NaN or infinity under a phone or card key raised and lost the record; an int
    under "api_key" within a map was kept (its words named a key as ids do); an object under a
    secret's key after words was kept."""
    from decimal import Decimal

    processor = _processor()
    counts: Counter[str] = Counter()
    for value in (Decimal("NaN"), Decimal("Infinity"), float("-inf")):
        processor.rewrite_attributes({"phone": value, "card": {"number": value}}, counts)  # no raise
    out = processor.rewrite_attributes(
        {"config": {"api_key": 987654321099, "subscription_key": 55512345, "salt": 77788899}}, counts
    )
    assert out is not None and out["config"] == {
        "api_key": "<REDACTED>",
        "subscription_key": "<REDACTED>",
        "salt": 77788899,
    }
    text = "x " + '{"' * 16 + ' then {"password": {"value": "Tr0ub4dorZebra"}}'
    new = processor.rewrite_text(text, counts)
    assert new is not None and "Tr0ub4dorZebra" not in new
    listed = processor.rewrite_text("x " + '{"' * 16 + ' {"items": [{"cvv": "919"}, {"n": 1}]}', counts)
    assert listed is not None and "919" not in listed


def test_a_fifth_review_upper_case_idn_endings_ideographic_dots_card_codes_and_long_ints_in_json() -> None:
    """Sent raw to every exporter before: upper-case Cyrillic addresses (the TLD list was read
    case-sensitively), CJK addresses with the ideographic full stop, card security codes under
    PayPal's and others' key names, and a card kept as an int in tool-call JSON."""
    processor = _processor()
    counts: Counter[str] = Counter()
    for address in (
        "\u0418\u0412\u0410\u041d@\u041f\u041e\u0427\u0422\u0410.\u0420\u0424",
        "Ivan.Petrov@\u041f\u043e\u0447\u0442\u0430.\u0420\u0424",
        "\u592a\u90ce@\u4f8b\u3048\u3002jp",
        "\u592a\u90ce@\u4f8b\u3048\uff0ejp",
    ):
        out = processor.rewrite_attributes({"session.id": address, "note": f"mail {address} now"}, counts)
        assert out is not None and out["session.id"].startswith(PREFIX), address
        assert out["note"] == "mail <EMAIL> now", address
    message = 'order confirmed: {"security_code": "737", "cardCode": "738", "cvv_code": "739", "csc": "740"}'
    new = processor.rewrite_text(message, counts)
    assert new is not None and not any(code in new for code in ("737", "738", "739", "740"))
    assert processor.rewrite_text('{"account": 5105105105105100}', counts) == '{"account":"<CREDIT_CARD>"}'


# -- keys named as web frameworks and other languages name them (a sixth review) ---------------
_FRAMEWORK_SECRETS = {
    "password1": "Dj4ngoPw#one-2026",  # Django's forms: the two copies
    "password2": "Dj4ngoPw#two-2026",
    "password_confirmation": "R4ilsConfirm#2026",  # Rails, Devise, Laravel
    "signup.passwordConfirm": "SpanConfirm#2026",
    "user[password_digest]": "$2b$12$abcdefghijklmnopqrstuu",
    "cvv_number": "737",
    "pin_number": "9316",
    "pin_code": "4821",
    "sms_code": "640215",
    "confirmation_code": "551234",
    "otp_value": "482913",
    "totp": "918273",
    "one-time-code": "112233",
    "senha": "MinhaSenha#2026br",
    "contraseña": "MiClave#2026es",
    "Passwort": "MeinKennwort#2026",
    "пароль": "Parol#2026ru",
    "密码": "MiMa#2026cn",
    "mot_de_passe": "MotDePasse#2026fr",
}


@pytest.mark.parametrize("key", sorted(_FRAMEWORK_SECRETS))
def test_a_secret_under_a_framework_or_foreign_key_goes_whole_in_every_shape(key: str) -> None:
    """Before, only a key whose last word (or last two) was an English secret's name counted:
    "password_confirmation", "password2", "cvv_number", "senha" kept their values in log
    attributes, span attributes, tool-call JSON and a form's repr."""
    raw = _FRAMEWORK_SECRETS[key]
    processor = _processor()
    record = processor.process_log(_log(attributes={"extra": {key: raw, "email_seen": EMAIL}}))
    assert record is not None
    span = processor.process_span(
        _span(
            {key: raw, "tool.arguments": json.dumps({key: raw, "note": "x"})},
            (("form", {"repr": f"<QueryDict: {{'{key}': ['{raw}'], 'next': ['/home']}}>"}),),
        )
    )
    assert span is not None
    logged = repr(dict(record.log_record.attributes or {}))
    for text in (logged, repr(dict(span.attributes or {})), repr(span.events)):
        assert raw not in text, (key, text)


def test_keys_that_only_sound_like_secrets_keep_their_values() -> None:
    values = {
        "password_policy": "min 12 characters",
        "password_expires_at": "2026-12-31",
        "token0": "0x6b175474e89094c44da98b954eedeac495271d0f",  # a pool's token address
        "time_code": "01:02:03:04",
        "input_tokens": 120,
        "spin": "fast",
    }
    span = _processor().process_span(_span(values))
    assert span is not None and dict(span.attributes or {}) == values


def test_nine_digits_under_a_tax_id_key_are_replaced() -> None:
    span = _processor().process_span(_span({"customer.tax_id": "536221188", "invoice.total": 536221188}))
    assert span is not None
    attributes = dict(span.attributes or {})
    assert "536221188" not in repr(attributes["customer.tax_id"]) and attributes["invoice.total"] == 536221188


@pytest.mark.parametrize(
    "session",
    [
        "whatsapp-447911123456",
        "phone-4155550187",
        "+14155550193_2026-12-07",
        "wa.447911123457",
        "tg_14155550187",
        "chat:4155550187",
    ],
)
def test_an_identifier_holding_a_phone_number_glued_to_its_words_is_hashed(session: str) -> None:
    """A sixth review: a phone number joined to an id's other words by "-", "_", "." was kept, so
    the raw number reached every exporter as the session id (an email glued so was hashed)."""
    span = _processor().process_span(_span({"session.id": session, "user.id": "u-20261207-0001"}))
    assert span is not None
    attributes = dict(span.attributes or {})
    assert str(attributes["session.id"]).startswith(PREFIX), attributes
    assert attributes["user.id"] == "u-20261207-0001"  # a date and a counter: no number to hide


_INSERT = (
    "INSERT INTO customers (name, email, password, ssn, api_token) VALUES "
    "('Bob', 'bob.sql@example.com', 'SqlPassw0rd#77', '536221177', 'a9F3kL0pQ7zX2cV5bN8mW1eR4tY6uI9oQ'), "
    "('O''Neil', 'x@example.org', 'It''s,Secret#1', 536221178, NULL)"
)
_INSERT_RAW = (
    *("SqlPassw0rd#77", "536221177", "a9F3kL0pQ7zX2cV5bN8mW1eR4tY6uI9oQ"),
    *("It''s,Secret#1", "536221178"),
)


def test_a_sql_insert_s_values_are_judged_by_their_columns_names_on_every_path() -> None:
    """A sixth review: a text-to-SQL agent's INSERT kept the password, SSN and token it wrote
    positionally (the email was found; UPDATE … SET password='…' was already replaced)."""
    processor = _processor()
    span = processor.process_span(
        _span({"db.statement": _INSERT, "gen_ai.tool.call.arguments": json.dumps({"query": _INSERT})})
    )
    record = processor.process_log(_log(body=f"running {_INSERT};"))
    assert span is not None and record is not None
    for text in (repr(dict(span.attributes or {})), repr(record.log_record.body)):
        for raw in _INSERT_RAW:
            assert raw not in text, (raw, text)
        assert "'Bob'" in text and "O''Neil" in text and "NULL" in text  # the other columns stay


def test_an_insert_without_columns_of_a_rule_and_values_in_prose_stay() -> None:
    values = {
        "db.statement": "INSERT INTO events (kind, count) VALUES ('click', 3), ('view', 12)",
        "note": "our values are honesty and care",
    }
    span = _processor().process_span(_span(values))
    assert span is not None and dict(span.attributes or {}) == values


# -- a seventh review -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "key",
    [
        *("password_1", "pass1", "pass2", "passwordconfirmation", "newpassword", "userpassword"),
        *("new_pass", "confirm_pass", "pass_confirm", "passwordConfirmation1", "pass_word"),
        *("senha_confirmacao", "contraseña_nueva", "passwort_neu", "пароль_повтор", "密码确认"),
        *("確認用パスワード", "clave", "contrasen\u0303a"),  # the last: "ñ" written apart (NFD)
        *("verify_code", "twoFactorCode", "tfa_code", "smscode", "otpcode", "verificationcode"),
        *("pin_2", "cvv_2", "securitycode", "cvvnumber", "db.query.parameter.1", "db.statement.parameters"),
    ],
)
def test_more_spellings_of_a_secret_s_key_are_read_as_one(key: str) -> None:
    """Other spellings of the keys the sixth review named: a word for the copy before or after
    (new_pass, pass_confirm), a digit apart (password_1, pin_2), one word (smscode, cvvnumber),
    another language's compounds, and SQL parameters recorded apart from their statement."""
    span = _processor().process_span(
        _span({key: "kiwiSunset9", "tool.args": json.dumps({key: "kiwiSunset9"})})
    )
    assert span is not None and "kiwiSunset9" not in repr(dict(span.attributes or {})), key


@pytest.mark.parametrize(
    "text",
    [
        "csrfmiddlewaretoken=x1&username=olga&password1=kiwiSunset9&password2=kiwiSunset9",
        "2fa submitted: sms_code=kiwiSunset9 pin_code=4821",
        "ImmutableMultiDict([('username', 'olga'), ('password1', 'kiwiSunset9')])",
        "<user><name>olga</name><password1>kiwiSunset9</password1></user>",
        "http://127.0.0.1:9/verify?user=olga&otp_code=kiwiSunset9",
        "Login(username='olga', pin_code='4821', password1='kiwiSunset9')",
        "INSERT INTO users (email, password) SELECT 'a@b.co', 'kiwiSunset9'",
        "REPLACE INTO users (email, password) VALUE ('a@b.co', 'kiwiSunset9')",
        "MERGE INTO u USING s ON u.id = s.id WHEN NOT MATCHED THEN "
        "INSERT (email, password) VALUES (s.email, 'kiwiSunset9')",
        "INSERT INTO \"my users\" AS u (id, password) OVERRIDING SYSTEM VALUE VALUES (1, 'kiwiSunset9')",
    ],
)
def test_keyed_values_written_in_text_are_judged_by_their_keys(text: str) -> None:
    """A form body, a URL's query, a repr, a multi-dict, XML and more SQL dialects: the key names
    that structured values are judged by now count where a text writes them."""
    processor = _processor()
    span = processor.process_span(_span({"http.url": text}, (("log", {"message": text}),)))
    record = processor.process_log(_log(body=text))
    assert span is not None and record is not None
    for out in (repr(dict(span.attributes or {})), repr(span.events), repr(record.log_record.body)):
        assert "kiwiSunset9" not in out and "4821" not in out, out
    assert "password" in str(record.log_record.body) or "_code" in str(record.log_record.body)  # keys stay


def test_text_without_a_keyed_secret_keeps_its_pairs() -> None:
    values = {"http.url": "GET /search?q=cats&page=2&sort=new", "expr": "x = 5 and y == 6", "xml": "<a>b</a>"}
    span = _processor().process_span(_span(values))
    assert span is not None and dict(span.attributes or {}) == values


@pytest.mark.parametrize(
    "value", ["user447911123403", "wa447911123403", "caller_415-555-0187_2024", "us-415-555-0187"]
)
def test_an_identifier_with_a_number_glued_to_letters_or_dashes_is_hashed(value: str) -> None:
    span = _processor().process_span(_span({"user.id": value}))
    assert span is not None and str(dict(span.attributes or {})["user.id"]).startswith(PREFIX)


def test_a_thread_id_is_an_identifier_by_default_inside_metadata_json_too(tmp_path: Any) -> None:
    """A seventh review: LangGraph's thread_id stayed raw in OpenInference's metadata attribute
    while session.id (the same value) was hashed."""
    from otel_distro.privacy import privacy_processors
    from otel_distro.settings import load_settings

    redaction = privacy_processors(load_settings({"base_dir": str(tmp_path)}, env={}))[-1]
    metadata = json.dumps({"thread_id": "whatsapp-447911123499", "ls_integration": "langgraph"})
    span = redaction.process_span(_span({"metadata": metadata, "thread_id": "whatsapp-447911123499"}))
    assert span is not None
    assert "447911123499" not in repr(dict(span.attributes or {})) and "langgraph" in repr(span.attributes)


@pytest.mark.parametrize(
    "key",
    [
        "traceloop.association.properties.thread_id",  # OpenLLMetry's LangChain run metadata
        "traceloop.association.properties.chat_id",
        "traceloop.association.properties.customer_id",
        "traceloop.association.properties.conversation_id",
        "metadata.thread_id",
        "app.user.id",
        "enduser.pseudo.id",
        "gen_ai.request.user",
        "group_id",
    ],
)
def test_an_identifier_key_at_the_end_of_a_longer_key_is_hashed_by_default(tmp_path: Any, key: str) -> None:
    """An eighth review: only exact key names were identifiers; a thread_id under OpenLLMetry's
    association properties stayed raw while user_id beside it was hashed."""
    from otel_distro.privacy import privacy_processors
    from otel_distro.settings import load_settings

    redaction = privacy_processors(load_settings({"base_dir": str(tmp_path)}, env={}))[-1]
    span = redaction.process_span(_span({key: "whatsapp_447911123456", "plain.count": "whatsapp_2024"}))
    assert span is not None
    attributes = dict(span.attributes or {})
    assert str(attributes[key]).startswith(PREFIX)
    assert attributes["plain.count"] == "whatsapp_2024"


@pytest.mark.parametrize(
    "key", ["to", "from", "destination", "dst", "to_number", "e164", "caller_id", "ani", "dnis", "sms.to"]
)
def test_a_phone_number_kept_as_an_int_under_a_telephony_key_is_replaced(tmp_path: Any, key: str) -> None:
    """An eighth review: Twilio-style keys ("to", "from", "caller_id") held E.164 numbers as
    ints in span, log and metric attributes."""
    from otel_distro.privacy import privacy_processors
    from otel_distro.settings import load_settings

    redaction = privacy_processors(load_settings({"base_dir": str(tmp_path)}, env={}))[-1]
    span = redaction.process_span(_span({key: 14155550187, "page.size": 50, "from_ts": 1733600000}))
    assert span is not None
    attributes = dict(span.attributes or {})
    assert "14155550187" not in repr(attributes)
    assert attributes["page.size"] == 50 and attributes["from_ts"] == 1733600000

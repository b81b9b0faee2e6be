"""Values in the shapes agent frameworks write them (an eighth hostile review): JSON-escaped line
breaks before a label (official OpenAI instrumentation messages, LlamaIndex, CrewAI), Markdown
and HTML around labels (model answers), short codes and SSNs in ordinary wording, AWS key pairs."""

from __future__ import annotations

import pytest

from processors.pii import PiiRedactor

REDACTOR = PiiRedactor(cache=False)


def _redacted_attributes(tmp_path: object, attributes: dict[str, str]) -> dict[str, object]:
    """A span's attributes as the default privacy processors leave them."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from otel_distro.privacy import privacy_processors
    from otel_distro.settings import load_settings

    redaction = privacy_processors(load_settings({"base_dir": str(tmp_path)}, env={}))[-1]
    memory = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.get_tracer("t").start_span("s", attributes=attributes).end()
    span = redaction.process_span(memory.get_finished_spans()[0])
    assert span is not None
    return dict(span.attributes or {})


def _redacted_attribute(tmp_path: object, value: str) -> str:
    return str(_redacted_attributes(tmp_path, {"tool.output": value})["tool.output"])


@pytest.mark.parametrize(
    ("text", "raw"),
    [
        ('{"content": "Record:\\ncvv: 845"}', "845"),
        ('{"content": "Record:\\npin: 7391"}', "7391"),
        ('{"content": "Record:\\notp: 482913"}', "482913"),
        ('{"content": "Record:\\nssn: 536221234"}', "536221234"),
        ('{"content": "Record:\\ntax_id: 536221234"}', "536221234"),
        ('{"content": "Record:\\niban: gb82west12345698765432"}', "12345698765432"),
        ('{"content": "Record:\\nsecurity code: 737"}', "737"),
        ('{"content": "Record:\\npasscode: 482913"}', "482913"),
        ('{"content": "Record:\\nAuthorization: Basic YWxpY2U6VHIwdWI0ZG9yJjNob3JzZQ=="}', "YWxpY2U6"),
        ('{"content": "Record:\\r\\notp: 482913"}', "482913"),
        ('{"content": "Record:\\totp: 482913"}', "482913"),
        ("Profile(name='x', note='line\\npin: 7391')", "7391"),
    ],
)
def test_a_label_after_an_escaped_line_break_is_read_as_a_label(text: str, raw: str) -> None:
    assert raw not in REDACTOR.redact_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "C:\\new\\table\\notes.txt",
        '{"a": "line one\\nline two"}',
        "printf('%s\\n', total)",
    ],
)
def test_escaped_line_breaks_alone_change_nothing(text: str) -> None:
    assert REDACTOR.redact_text(text) == text


ANSWER = (
    "Here is what I found for the customer.\n\n"
    "**SSN:** 536221234\n\n**PIN:** 7391\n\n**CVV:** 845\n\n**Password:** Tr0ub4dor&3horse\n\n"
    "**MFA code:** 482913\n\n"
    "| Field | Value |\n|---|---|\n| pin | 5820 |\n| password | c0rrectH0rse!9 |\n| ssn | 536221234 |\n"
)


def test_labels_in_a_markdown_answer_are_read_through_its_bold_and_its_table() -> None:
    redacted = REDACTOR.redact_text(ANSWER)
    for raw in ("536221234", "7391", "845", "Tr0ub4dor", "3horse", "482913", "5820", "c0rrectH0rse"):
        assert raw not in redacted, raw


@pytest.mark.parametrize(
    ("text", "raw"),
    [
        ("<tr><td>SSN</td><td>536221234</td></tr>", "536221234"),
        ("Your PIN is <b>7391</b>", "7391"),
        ("password: `c0rrectH0rse9`", "c0rrectH0rse9"),
        ("tax_id: 536221234", "536221234"),
        ("My SSN is 536221234", "536221234"),
        ("SSN \u2014 536221234", "536221234"),
        ("Your code is 482913", "482913"),
        ("G-482913 is your Google verification code.", "482913"),
        ("482913 is your Instagram code", "482913"),
        ("Use 482913 to log in", "482913"),
        ("MFA: 482913", "482913"),
        ("auth code: 482913", "482913"),
    ],
)
def test_values_named_in_markup_or_ordinary_wording_are_replaced(text: str, raw: str) -> None:
    assert raw not in REDACTOR.redact_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "password=******** secret: null",
        "Use the `--token` flag to pass a token.",
        "**Note:** the build took 1234 seconds",
        "| id | count |\n|---|---|\n| 17 | 3 |",
        "error code 404",
        "your zip code is 94107",
        "In 2024 is your year",
        "order no 536221234",
        "<b>Total:</b> 5820 items",
    ],
)
def test_markup_and_wording_alone_change_nothing(text: str) -> None:
    assert REDACTOR.redact_text(text) == text


def test_keys_of_json_in_json_in_json_keep_their_rules(tmp_path: object) -> None:
    """Tool-call arguments written as JSON inside a JSON string inside JSON: the keys' backslashes
    doubled, so no key was seen and the walk never ran."""
    import json

    inner = json.dumps({"pin": "7391", "note": "ok", "cvv": 845})
    stored = _redacted_attribute(tmp_path, json.dumps({"a": json.dumps({"arguments": inner})}))
    assert "7391" not in stored and "845" not in stored and "ok" in stored


def test_my_social_is_a_social_security_number() -> None:
    assert "536221234" not in REDACTOR.redact_text("my social is 536221234")


def test_values_in_csv_rows_are_judged_by_their_column(tmp_path: object) -> None:
    """The AWS console's credentials file, a CSV with an ssn column, a TSV: the values under a
    secret's or an SSN's column name went raw (and the header was garbled)."""
    credentials = (
        "User name,Password,Access key ID,Secret access key,Console login link\n"
        "alice,Tr0ub4dor3horse,AKIAQ3EXAMPLE7PLANT9,wJalrXUtnFEMI/K7MDENG/bPxRfiCYzPLANTEDKEY,"
        "https://123456789012.signin.aws.amazon.com/console\n"
    )
    stored = _redacted_attribute(tmp_path, credentials)
    for raw in ("Tr0ub4dor3horse", "AKIAQ3EXAMPLE7PLANT9", "PLANTEDKEY"):
        assert raw not in stored, stored
    assert "alice" in stored and "User name" in stored
    table = 'Here are the rows:\nname,ssn,plan\nalice,536221234,pro\n"bob","536221235",free\n'
    stored = _redacted_attribute(tmp_path, table)
    assert "536221234" not in stored and "536221235" not in stored and "pro" in stored
    tsv = "name\tssn\nalice\t536221234\n"
    assert "536221234" not in _redacted_attribute(tmp_path, tsv)


def test_csv_rows_without_a_named_column_change_nothing(tmp_path: object) -> None:
    table = "city,population,code\nParis,2148271,75000\nLyon,513275,69000\n"
    assert _redacted_attribute(tmp_path, table) == table


@pytest.mark.parametrize(
    ("text", "raw"),
    [
        ("password: Tr0ub4dor;3horse and more", "3horse"),
        ("password=Tr0ub4dor,3horse", "3horse"),
        ("a=1;password=xyz123;b=2", "xyz123"),
    ],
)
def test_a_password_holding_a_comma_or_semicolon_goes_whole(text: str, raw: str) -> None:
    assert raw not in REDACTOR.redact_text(text)


@pytest.mark.parametrize("text", ["password: abc, user: bob", "password=abc,user=x"])
def test_a_comma_before_a_space_or_a_key_still_ends_the_value(text: str) -> None:
    redacted = REDACTOR.redact_text(text)
    assert "user" in redacted and ("bob" in redacted or "x" in redacted)


@pytest.mark.parametrize(
    ("text", "raw"),
    [
        ("SELECT * FROM users WHERE `pin` = '7391'", "7391"),
        ("SELECT * FROM u WHERE [ssn] = '536221234'", "536221234"),
        ("UPDATE users SET `password` = 'Tr0ub4dor3horse' WHERE id = 1", "Tr0ub4dor3horse"),
    ],
)
def test_a_column_quoted_as_mysql_or_sql_server_quote_it_keeps_its_rule(text: str, raw: str) -> None:
    """The official sqlite3/dbapi instrumentations record db.statement as written."""
    assert raw not in REDACTOR.redact_text(text)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("http.request.header.x-csrftoken", "4f8a9b2c7d6e5f4a3b2c1d0e"),
        ("http.request.header.x-xsrf-token", "4f8a9b2c7d6e5f4a3b2c1d0e"),
        ("secret_code", "482913"),
    ],
)
def test_csrf_tokens_and_secret_codes_go_whole_by_their_key(tmp_path: object, key: str, value: str) -> None:
    written = f"Form({key.rsplit('.', maxsplit=1)[-1]}='{value}')"
    assert value not in repr(_redacted_attributes(tmp_path, {key: value, "repr": written}))


def _b64(text: str, urlsafe: bool = False) -> str:
    import base64

    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    return encode(text.encode()).decode()


@pytest.mark.parametrize(
    "text",
    [
        "attachment_b64=" + _b64("alice.smith@example.com"),
        "https://news.example.com/unsubscribe?e=" + _b64("bob.jones@example.org?list=7", urlsafe=True),
        "Subject: =?UTF-8?B?" + _b64("Alice <alice@example.com>") + "?=",
        '{"file": "' + _b64('{"card": "4111111111111111", "note": "Zoë"}') + '"}',
        "blob " + _b64("ssn: 536221234"),
    ],
)
def test_values_in_base64_text_are_found_and_the_piece_replaced(text: str) -> None:
    """An eighth review: an address, a card or an SSN in base64 (tool arguments, MIME words, an
    unsubscribe link) passed untouched."""
    redacted = REDACTOR.redact_text(text)
    assert redacted != text and "<" in redacted


@pytest.mark.parametrize(
    "text",
    [
        "sha256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "id=123e4567-e89b-12d3-a456-426614174000",
        "chatcmpl-AbCdEf00000077XyZ",
        "greeting " + _b64("hello world, this is plain text"),
        "nonce Zm9vYmFyYmF6cXV4cXV1eA9+/wA=",
        "ThisIsAVeryLongCamelCaseIdentifierName",
    ],
)
def test_base64_of_text_without_values_and_look_alikes_change_nothing(text: str) -> None:
    assert REDACTOR.redact_text(text) == text


def test_a_pydantic_validation_errors_input_value_is_judged_by_its_field(tmp_path: object) -> None:
    """An eighth review: the value a model was given, in its ValidationError's text (an exception
    message, a log line), kept the password, the PIN and the SSN its field names."""
    import pydantic

    class Login(pydantic.BaseModel):
        user: str
        password: str = pydantic.Field(min_length=20)
        pin: int
        ssn: int = pydantic.Field(lt=10)

    with pytest.raises(pydantic.ValidationError) as raised:
        Login(user="alice", password="Tr0ub4dor3horse", pin="73x91", ssn=536221234)
    stored = _redacted_attribute(tmp_path, str(raised.value))
    for raw in ("Tr0ub4dor3horse", "73x91", "536221234"):
        assert raw not in stored, stored
    assert "string_too_short" in stored and "password" in stored


@pytest.mark.parametrize(
    ("url", "raw"),
    [
        ("https://api.example.com/v1/ssn/536221234/verify", "536221234"),
        ("https://api.example.com/v1/phone/14155550132", "14155550132"),
        (
            "https://app.example.com/reset-password/PlAnTeDrEsEt1234567890abcdef",
            "PlAnTeDrEsEt1234567890abcdef",
        ),
        (
            "https://app.example.com/accounts/reset/MQ/cb7ntt-4f1b2a9e8d7c6b5a4f3e2d1c0b9a8f7e/",
            "4f1b2a9e8d7c",
        ),
        ("https://app.example.com/magic-link/login?t=PlAnTeDmAgIc1234567890abcdef", "PlAnTeDmAgIc1234567890"),
    ],
)
def test_values_a_url_path_names_and_sign_in_tokens_are_replaced(
    tmp_path: object, url: str, raw: str
) -> None:
    """An eighth review: requests' url.full kept an SSN named by its path and the one-time tokens
    of password-reset and magic sign-in links."""
    assert raw not in _redacted_attribute(tmp_path, url)


@pytest.mark.parametrize(
    "url",
    [
        "https://api.example.com/api/verify/status",
        "https://api.example.com/users/42/orders",
        "https://api.example.com/login/oauth/callback",
        "https://api.example.com/login?next=/dashboard&page=2",
        "https://api.example.com/verify/email-address-change",
    ],
)
def test_routes_with_those_words_and_no_value_change_nothing(tmp_path: object, url: str) -> None:
    assert _redacted_attribute(tmp_path, url) == url


@pytest.mark.parametrize("separator", [" / ", ":", ",", "\n", " "])
def test_an_aws_secret_key_right_after_its_key_id_goes_with_it(separator: str) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # 40 characters, as AWS writes them
    text = f"My AWS creds: AKIAQ3EXAMPLE7PLANT9{separator}{secret}"
    redacted = REDACTOR.redact_text(text)
    assert "AKIAQ3EXAMPLE7PLANT9" not in redacted and "bPxRfiCY" not in redacted

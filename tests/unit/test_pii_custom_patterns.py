"""User patterns: they redact like built-in ones, and none can hang the app."""

from __future__ import annotations

import dataclasses
import logging

import pytest
import regex

from otel_distro.settings import load_settings
from processors.pii import PiiRedactor
from processors.pii.custom import CustomPattern, UnsafePatternError, compile_pattern


def test_named_patterns_redact_with_their_name_as_label_and_are_counted() -> None:
    redactor = PiiRedactor(patterns={"TICKET": r"TCK-\d{6}", "CODENAME": r"\bProject Falcon\b"})
    text, counts = redactor.redact("TCK-123456 is about Project Falcon; mail a@b.example.com")
    assert text == "<TICKET> is about <CODENAME>; mail <EMAIL>"
    assert counts == {"TICKET": 1, "CODENAME": 1, "EMAIL": 1}


def test_patterns_also_run_on_text_the_fast_screen_would_skip() -> None:
    # No digit, '@', ':' or '=' here, which lets the built-in recognizers skip the string.
    redactor = PiiRedactor(patterns={"CODENAME": r"Falcon"})
    assert redactor.redact_text("ask about Falcon") == "ask about <CODENAME>"


def test_patterns_follow_the_replacement_style() -> None:
    masked = PiiRedactor(style="mask", patterns={"TICKET": r"TCK-\d{6}"})
    assert masked.redact_text("see TCK-123456") == "see **********"


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (r"(a+)+$", "backtracks catastrophically"),
        (r"(\w+\s?)+$", "backtracks catastrophically"),
        (r"(a|a)+b", "backtracks catastrophically"),
        (r"x*", "matches the empty string"),
        (r"(", "does not compile"),
    ],
)
def test_unsafe_or_broken_patterns_are_refused_with_the_reason(source: str, reason: str) -> None:
    with pytest.raises(UnsafePatternError, match=reason):
        compile_pattern("BAD", source)


def test_a_value_a_pattern_times_out_on_is_replaced_whole(caplog: pytest.LogCaptureFixture) -> None:
    redactor = PiiRedactor(patterns={"TICKET": r"TCK-\d{6}"}, cache=False)
    # A pattern that escaped the probes: forced in here to reach the runtime time limit.
    redactor.custom = (CustomPattern("SLOW", regex.compile(r"(a|a)+b")),)
    with caplog.at_level(logging.WARNING):
        text, counts = redactor.redact("a" * 40 + " and jane@example.com")
        again, _ = redactor.redact("a" * 40 + "!")
    assert text == "<SLOW>" and again == "<SLOW>"
    assert counts["SLOW"] == 1
    assert sum("ran out of time" in r.getMessage() for r in caplog.records) == 1


def test_settings_read_patterns_from_json_and_refuse_unsafe_ones_by_name() -> None:
    from otel_distro.privacy import privacy_processors
    from otel_distro.problems import Problems

    env = {"TELEMETRY_REDACTION_PATTERNS": '{"TICKET": "TCK-\\\\d{6}", "EVIL": "(a+)+$"}'}
    settings = load_settings(env=env)
    assert dict(settings.redaction_patterns) == {"TICKET": r"TCK-\d{6}", "EVIL": "(a+)+$"}
    problems = Problems(collect=True)
    chain = privacy_processors(dataclasses.replace(settings, hash_key="k"), problems)
    assert len(problems.messages) == 1 and "EVIL" in problems.messages[0]
    redaction = chain[1]
    assert [p.entity for p in redaction.redactor.custom] == ["TICKET"]


@pytest.mark.parametrize("raw", ["not json", '["TCK"]', '{"lower": "x"}', '{"TICKET": 5}'])
def test_bad_pattern_settings_warn_and_use_none(raw: str) -> None:
    from otel_distro.settings import resolve

    resolution = resolve(env={"TELEMETRY_REDACTION_PATTERNS": raw})
    assert resolution.settings.redaction_patterns == ()
    assert len(resolution.problems) == 1 and "TELEMETRY_REDACTION_PATTERNS" in resolution.problems[0]

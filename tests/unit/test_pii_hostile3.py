"""A fourth hostile review, frozen: an independent corpus (471 sensitive strings, 298 look-alikes)
written by a reviewer from the public rule descriptions of gitleaks, detect-secrets, trufflehog
and presidio, with values of its own, in the places an agent's telemetry carries them (log lines,
tool-call JSON, URLs, headers, env and config files, shell, SQL, code, prose in several
languages). What it found and was fixed stays fixed; the gaps left are named below.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from processors.pii import PiiRedactor

DATA = Path(__file__).parent.parent / "data"
SENSITIVE: list[dict[str, Any]] = json.loads((DATA / "hostile3_sensitive.json").read_text("utf-8"))
BENIGN: list[str] = json.loads((DATA / "hostile3_benign.json").read_text("utf-8"))

# Not handled yet (see the README's limits): numbers grouped by dots or split by a zero-width
# space, internationalised and spelled-out emails, lower-case IBANs, addresses written into host
# names, ITINs, a key glued to underscores, a password named far from its word or after a slash,
# a short header value, an SMTP AUTH LOGIN exchange, Unicode hyphens in an SSN.
KNOWN_GAPS = {
    "card_dots",
    "card_zwsp",
    "email",
    "email_obfuscated",
    "generic_prose_slash",
    "glued_markdown_italic",
    "iban_lower",
    "iban_lower_spaced",
    "ip_in_hostname",
    "itin",
    "kw2_code",
    "prose2_prose_long",
    "smtp_auth_login_b64",
    "ssn_unicode_hyphen",
}


def test_every_sensitive_value_of_the_fourth_review_is_removed_but_the_named_gaps() -> None:
    redactor = PiiRedactor()
    leaks = [
        (case["kind"], case["text"])
        for case in SENSITIVE
        if case["value"] in redactor.redact_text(case["text"]) and case["kind"] not in KNOWN_GAPS
    ]
    assert not leaks
    assert len(SENSITIVE) > 450


def test_the_named_gaps_are_few() -> None:
    redactor = PiiRedactor()
    missed = [case for case in SENSITIVE if case["value"] in redactor.redact_text(case["text"])]
    assert len(missed) <= 18  # 3.8% of the corpus; each a kind named in KNOWN_GAPS


def test_no_look_alike_of_the_fourth_review_is_altered() -> None:
    redactor = PiiRedactor()
    altered = [(text, out) for text in BENIGN if (out := redactor.redact_text(text)) != text]
    assert not altered
    assert len(BENIGN) > 250

"""The fast path's recognizers: compiled patterns, each with a validator that confirms a match.

Every recognizer names one entity type. Patterns find candidates; validators (Luhn for
cards, mod-97 for IBANs, ``ipaddress`` for IPs, ``phonenumbers`` for phone numbers,
entropy for generic secrets: :mod:`processors.pii.number_checks` and
:mod:`processors.pii.secret_checks`) reject look-alikes such as trace ids, versions and timestamps.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from processors.pii.number_checks import (
    iban_valid,
    is_card_number,
    is_ipv4_address,
    is_ipv6_address,
    is_phone_number,
    reads_as_one_number,
)
from processors.pii.secret_checks import (
    SECRET_KEY_WORDS,
    SLUG,
    is_bearer_token,
    is_header_secret,
    is_option_secret,
    is_secret_value,
)


@dataclass(frozen=True)
class Recognizer:
    """One entity type: where to look, and what confirms a candidate."""

    entity: str
    pattern: re.Pattern[str]
    validate: Callable[[re.Match[str]], bool] | None = None
    group: int = 0  # the part of the match that is replaced (0: all of it)
    # Cheap tests first: the pattern runs only if one of these substrings is in the text,
    # and, for digit-based entities, only if the text has a digit at all.
    hints: tuple[str, ...] = ()
    digits: bool = False
    digit_run: bool = False  # needs seven digits apart by at most two separators (cards, phones, ...)
    # Needs this many digits apart only by characters of NUMBER_SEPARATORS: checked on the
    # text's skeleton (see digit_skeleton), which costs a few µs where the pattern would stop
    # at every digit of a long text.
    min_digits: int = 0
    hint_pattern: re.Pattern[str] | None = None  # must match somewhere (a fast pattern: it scans)
    # Must match the casefolded text: a case-insensitive gate without (?i), which makes ``re``
    # scan a long text several times slower (casefolding keeps every case a (?i) pattern matches).
    folded_pattern: re.Pattern[str] | None = None
    # A candidate the validator rejects may hold a valid value next to other digits ("4111 1111
    # 1111 1111 12/26", two phone numbers in a row): its pieces (matches of this pattern) are
    # tried in runs, longest first, and the valid runs are replaced.
    parts: re.Pattern[str] | None = None
    part_check: Callable[[str], bool] | None = None  # what a run of pieces must look like to be tried


# Word characters at a value's boundaries are those of Latin scripts: a value glued to a letter
# of another script ("電話番号は090-1234-5678です") still starts and ends one. A JSON or repr
# escape before a value (\n, \t, \r, and \uXXXX: GenAI message content is JSON text, which
# json.dumps writes in ASCII) separates too, though its last character is a word character.
# The start is checked after a value's first character (see below: a pattern that starts with a
# character lets ``re`` skip ahead to it).


def _after_escape(consumed: str = "") -> str:
    """Lookbehinds: a JSON escape right before a value whose first ``consumed`` characters matched."""
    return rf"(?<=\\[nrt]{consumed})|(?<=\\u[0-9A-Fa-f]{{4}}{consumed})"


# checked after a value's first character; after its last; and for keys, where "_" separates
# ("key_AKIA…")
_B1 = r"(?:(?<![A-Za-z0-9_\u00c0-\u024f].)|" + _after_escape(r".") + r")"
_E = r"(?![A-Za-z0-9_\u00c0-\u024f])"
_BK1 = r"(?:(?<![A-Za-z0-9\u00c0-\u024f].)|" + _after_escape(r".") + r")"


# Speed on long texts: ``re`` skips ahead only to where a pattern's first character can match,
# and only when the pattern starts with a character (a literal or a class), not with ``\b`` or
# a lookbehind. So patterns start with a character and check the boundary behind it:
# ``\d(?<!\w\d)`` is ``\b\d``; a lookahead such as ``(?=\d)`` does the same where the first
# character opens alternatives. On 2.4 KB of prose with dates and versions this makes a pattern
# 2-4x faster. Gates (``hints``, ``hint_pattern``, ``folded_pattern``: necessary for a value the
# recognizer replaces, so exact) keep the slow patterns off texts that cannot hold one.
@cache
def recognizers() -> tuple[Recognizer, ...]:
    """The recognizers, in the order they apply: compiled on first use (about 8 ms), not at import."""
    # how each of SECRET_KEY_WORDS ends, then what must follow it: on the casefolded text
    secret_gate = re.compile(
        r"(?:key|secret|token|pass(?:w(?:or)?d|phrase)?|pwd|auth|sig|signature|session[_-]?id|wort"
        r"|se(?:ñ|n)a|senha|passe|пароль|has(?:ł|l)o|woord|senord|ワード|码|碼)[\\\"']*\s*[:=\uff1a]"
    )
    return (
        Recognizer(
            "PRIVATE_KEY",
            # A PEM, OpenSSH or PGP private key block, replaced whole (first, so nothing inside it is
            # counted as anything else): to its END line or, cut short (an attribute truncated by a
            # length limit), to the next END line or the end of the text.
            re.compile(
                r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:(?!-----END)[\s\S])*"
                r"(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----)?"
            ),
            hints=("PRIVATE KEY",),
        ),
        Recognizer(
            "CREDENTIALS",
            # The scheme is read from the start of its run only: from every letter of a long run of
            # letters and dots, the run would be read again (quadratic time). The user may be empty
            # ("redis://:pw@host"); the password runs to the last "@" before the host's end.
            re.compile(
                r"[a-zA-Z](?:(?<![A-Za-z0-9+.-][a-zA-Z])|" + _after_escape(r"[a-zA-Z]") + r")[a-zA-Z0-9+.-]*+"
                r"://([^\s:/@]*:[^\s/?#\"'\\<>]+)@"
            ),
            group=1,
            hints=("://",),
            hint_pattern=re.compile(r"://[^\s/@]*@"),  # user info before a host
        ),
        Recognizer(
            "JWT",
            # signed or not (an empty signature)
            re.compile(r"e" + _B1 + r"yJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
            hints=("eyJ",),
        ),
        Recognizer(
            "BEARER_TOKEN",
            re.compile(r"[Bb]" + _B1 + r"(?:earer|EARER)(?<=[Bb]earer|BEARER)\s+([A-Za-z0-9\-._~+/]{8,}=*)"),
            validate=is_bearer_token,
            group=1,
            hints=("earer", "EARER"),
        ),
        Recognizer(
            "API_KEY",
            re.compile(r"s" + _BK1 + r"k-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_-]{20,}"),
            validate=lambda m: not SLUG.fullmatch(m.group(0)),
            hints=("sk-",),
        ),
        Recognizer(
            "API_KEY", re.compile(r"A" + _BK1 + r"(?:KIA|SIA)[0-9A-Z]{16}" + _E), hints=("AKIA", "ASIA")
        ),
        Recognizer(
            "API_KEY",
            re.compile(r"g" + _BK1 + r"(?:h[pousr]_[A-Za-z0-9]{36,}|ithub_pat_[A-Za-z0-9_]{22,})"),
            hints=("gh", "github_pat_"),
        ),
        Recognizer(
            "API_KEY",
            re.compile(r"x" + _BK1 + r"(?:ox[abposr]|app)-[A-Za-z0-9-]{10,}"),
            hints=("xox", "xapp-"),
        ),
        Recognizer(  # Google (AIza), Stripe keys and webhook secrets, GitLab, Hugging Face and npm tokens
            "API_KEY",
            re.compile(
                r"[Agrswhn]"
                + _BK1
                + r"(?:(?<=A)Iza[0-9A-Za-z_-]{35}|(?<=[rs])k_(?:live|test)_[0-9A-Za-z]{20,}"
                r"|(?<=w)hsec_[0-9A-Za-z]{24,}|(?<=g)lpat-[0-9A-Za-z_-]{20,}|(?<=h)f_[A-Za-z0-9]{34,}"
                + _E
                + r"|(?<=n)pm_[A-Za-z0-9]{36,}"
                + _E
                + ")"
            ),
            hints=("AIza", "k_live_", "k_test_", "whsec_", "glpat-", "hf_", "npm_"),
        ),
        Recognizer(  # a Slack webhook's path is its secret
            "API_KEY",
            re.compile(r"hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9_/-]{20,})"),
            group=1,
            hints=("hooks.slack.com/",),
        ),
        Recognizer(
            "SECRET",
            # a cookie or authorization header written out (a logged request): its whole value
            re.compile(  # as usually written (Cookie, cookie, COOKIE, Set-Cookie, ...): re skips to [CcAa]
                r"(?:[Cc](?<![A-Za-z0-9].)(?:ookie|OOKIE)(?<=[Cc]ookie|COOKIE)"
                r"|[Aa](?<![A-Za-z0-9].)(?:uthorization|UTHORIZATION)(?<=[Aa]uthorization|AUTHORIZATION))"
                r"\\*[\"']?\s*:[ \t]*(?:\\*[\"'])?"
                # a cookie's name=value pairs, or credentials after an optional scheme
                r"([^=;\s\"\\]+=[^;\s\"\\]*(?:;[ \t]*[^=;\s\"\\]+=[^;\s\"\\]*)*"
                r"|(?:[A-Za-z][\w-]*[ \t]+)?[A-Za-z0-9\-._~+/]{8,}=*)"
            ),
            validate=is_header_secret,
            group=1,
            hints=(":",),
            folded_pattern=re.compile(r"(?:cookie|authorization)[\\\"']*\s*:"),
        ),
        Recognizer(
            "SECRET",
            # command-line options: "--password S3cret", "--api-key K", "curl -u admin:pw"
            re.compile(
                r"(?<![\w-])(?:--(?:password|passwd|pass|api[_-]key|apikey|token|auth-token|access-token|secret"
                r"|client-secret)[ \t]+|(?<=curl )(?:[^\n|;&]*?[ \t])??(?:-u|--user)[ \t]+[^\s:]+:)"
                r"([^\s-]\S*)"
            ),
            validate=is_option_secret,
            group=1,
            hints=("--", "-u "),
            hint_pattern=re.compile(r"--(?:pass|api|token|auth-|access-|secret|client-)|curl "),
        ),
        Recognizer(
            "SECRET",
            # The key word after a non-letter, a JSON escape or a lower-case letter (camelCase:
            # dbPassword); escaped quotes (tool-call arguments are JSON in JSON) and "=>" (Ruby,
            # PHP) before the value; a quoted value runs to its closing quote, spaces and all.
            re.compile(
                # the first letters of SECRET_KEY_WORDS first: re skips ahead to them (4x faster)
                r"(?i)(?=[spematdkchwl\u043f\u30d1\u5bc6])(?:(?<![a-z0-9])|"
                + _after_escape()
                + r"|(?-i:(?<=[a-z0-9])(?=[A-Z])))"
                rf"({SECRET_KEY_WORDS})\\*[\"']?\s*(?:=>|[:=\uff1a](?!=))\s*(?:b?\\*[\"'])?"
                # quoted: to the closing quote (escapes inside a plain one); else to a separator
                r"((?<=[^\\]\")(?:[^\"\\\n]|\\.)+|(?<=\\\")[^\"\\\n]+|(?<=')[^'\\\n]+"
                r"|(?:[^\s\"',;&\\\u3000-\u9fff\uac00-\ud7af\uff01-\uff0f\uff1a-\uff20]|&(?!\w+=))+)"
            ),
            validate=is_secret_value,
            group=2,
            hints=(":", "=", "\uff1a"),  # between the word and the value (a full-width colon too)
            folded_pattern=secret_gate,
        ),
        Recognizer(
            "EMAIL",
            # From the start of the run of address characters only (as for CREDENTIALS: linear time);
            # punctuation leading the run stays.
            re.compile(
                r"(?:(?<![A-Za-z0-9._%+-])|" + _after_escape() + r")[._%+-]*+"
                r"([A-Za-z0-9][A-Za-z0-9._%+-]*+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})" + _E
            ),
            group=1,
            validate=lambda m: not m.group(1).startswith("git@"),  # "git@github.com:org/repo.git"
            hints=("@",),
            hint_pattern=re.compile(r"@[A-Za-z0-9-]+\."),  # a domain after the @
        ),
        Recognizer(  # nine bare digits named as one: "ssn=536221234"
            "US_SSN",
            re.compile(
                r"(?i)(?<![a-z0-9])(?:ssn|social[ _-]?security(?:[ _-]?(?:number|no))?)"
                r"[\"']?\s*[:=#]?\s*[\"']?(\d{3}[ .-]?\d{2}[ .-]?\d{4})(?!\d)"
            ),
            group=1,
            digits=True,
            folded_pattern=re.compile(r"(?:ssn|security|number|no)[\"']?\s*[:=#]?\s*[\"']?\d{3}[ .-]?\d\d"),
        ),
        Recognizer(
            "US_SSN",
            re.compile(
                r"\d(?:(?<![A-Za-z0-9_\u00c0-\u024f]\d)|"
                + _after_escape(r"\d")
                + r")\d\d(?<!000)(?<!666)(?<!9\d\d)-(?!00)\d{2}-(?!0000)\d{4}"
                + _E
            ),
            hints=("-",),
            hint_pattern=re.compile(r"-\d\d-\d{4}"),  # dates (2024-05-06) do not pass
            digits=True,
            digit_run=True,
        ),
        Recognizer(  # before cards: the digits of a spaced IBAN can pass for a card number
            "IBAN_CODE",
            re.compile(
                r"[A-Z](?:(?<![A-Za-z0-9_\u00c0-\u024f][A-Z])|" + _after_escape(r"[A-Z]") + r")"
                r"[A-Z]\d{2}(?:[ \u00a0]?[A-Z0-9]{4}){2,7}(?:[ \u00a0]?[A-Z0-9]{1,4})?" + _E
            ),
            validate=lambda m: iban_valid(m.group(0)),
            digits=True,
            digit_run=True,
            parts=re.compile(r"[^ \u00a0]+"),  # "ES13 2664 … 7889 O s unos": the "O" is not part of it
        ),
        Recognizer(
            "CREDIT_CARD",
            re.compile(
                r"\d(?:(?<![A-Za-z0-9_\u00c0-\u024f]\d)|"
                + _after_escape(r"\d")
                + r")(?:[ \u00a0-]{0,2}\d){11,18}"
                + _E
            ),
            validate=is_card_number,
            digits=True,
            digit_run=True,
            min_digits=12,
            parts=re.compile(r"[^ \u00a0-]+"),
            part_check=lambda run: sum(map(str.isdigit, run)) >= 13,  # "5678 9012 3456" in a list: no
        ),
        Recognizer(
            "IP_ADDRESS",
            re.compile(
                r"(?=\d)(?:(?<![A-Za-z0-9.\u00c0-\u024f])|" + _after_escape() + r")"
                r"(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)" + _E
            ),
            validate=is_ipv4_address,
            hints=(".",),
            hint_pattern=re.compile(r"\.\d{1,3}\.\d{1,3}\.\d"),  # versions (2.3.1) do not pass
            digits=True,
        ),
        Recognizer(
            "IP_ADDRESS",
            re.compile(
                r"(?:(?<![A-Za-z0-9_:\u00c0-\u024f])|" + _after_escape() + r")"
                r"(?:[0-9A-Fa-f]{1,4}:|:){2,7}(?::|[0-9A-Fa-f]{1,4})(?![A-Za-z0-9_:\u00c0-\u024f])"
            ),
            validate=is_ipv6_address,
            hints=(":",),
            # what an address needs to be valid: "::", or eight groups (times such as 10:45:00 do not pass)
            hint_pattern=re.compile(r"::|:(?:[0-9A-Fa-f]{1,4}:){6}"),
        ),
        Recognizer(
            "PHONE_NUMBER",
            re.compile(
                r"(?=[\d+(])(?:(?<![A-Za-z0-9_+.\u00c0-\u024f-])|" + _after_escape() + r")(?<!\d:)"
                # at least 8 digits, apart by what the pattern allows between them (is_phone_number needs 8):
                # a number's worth of digits in a long text no longer costs a validator call
                r"(?=[+(]?(?:[ .()\u00a0\u202f\u2013-]{0,3}\d|\s?(?:x|ext\.?)\s?\d){8})"
                r"(?:\+\d{1,3}[ .\u00a0\u202f-]?(?:\(0\)[ .-]?)?\d{6,12}"  # compact: +91 9817107418
                r"|(?:\+\d{1,3}[ .\u00a0\u202f\u2013-]?(?:\(0\)[ .-]?)?)?"
                r"(?:\(\d{1,5}\)[ .\u00a0\u202f-]?)?\d{1,15}(?:[ .\u00a0\u202f\u2013-]\d{1,8}){0,5})"
                r"(?:\s?(?:x|ext\.?)\s?\d{1,6})?"  # an extension: (714)222-2825x4548
                r"(?![A-Za-z0-9_\u00c0-\u024f-]|\.\d)"
            ),
            validate=is_phone_number,
            digits=True,
            digit_run=True,
            min_digits=8,  # what is_phone_number needs
            parts=re.compile(r"\S+"),
            part_check=reads_as_one_number,
        ),
    )


# The entity types of recognizers(), in order (a test checks they agree): known without compiling.
ENTITIES: tuple[str, ...] = (
    "PRIVATE_KEY",
    "CREDENTIALS",
    "JWT",
    "BEARER_TOKEN",
    "API_KEY",
    "SECRET",
    "EMAIL",
    "US_SSN",
    "IBAN_CODE",
    "CREDIT_CARD",
    "IP_ADDRESS",
    "PHONE_NUMBER",
)

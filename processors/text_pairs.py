"""Keyed values written inside a text: the span of each value with the key it is written under,
so a value is judged by its key's name there too (``password1=…`` in a form body or a URL,
``Login(pin_code='4821')`` in a repr, ``('password1', '…')`` in a multi-dict's repr,
``<password1>…</password1>`` in XML, a pydantic ValidationError's ``input_value`` by the field
named above it, a URL path's ``/ssn/…`` and sign-in tokens, and the values of a SQL INSERT or of
CSV rows by their columns)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import islice

from processors.csv_values import value_spans as csv_spans
from processors.sql_values import value_spans

MAX_PAIRS = 256  # keyed values of one text looked at
# key=value: a form body, a URL's query, logfmt, a dataclass's or a call's repr; the value quoted
# or bare (to the next space or separator)
_ASSIGNED = re.compile(
    r"(?<![\w.\[\]%-])([A-Za-z_][\w.\[\]-]{0,63})="
    r"(?:(['\"])(?:(?!\2)[^\\\n]|\\.){0,512}\2|[^\s&;,'\"<>()\[\]{}]{1,512})"
)
# ('key', 'value'): a multi-dict's or a list of pairs' repr
_TUPLE = re.compile(
    r"""\(\s*(['"])([^'"\n]{1,64})\1\s*,\s*(?:(['"])(?:(?!\3)[^\\\n]|\\.){0,512}\3|-?\d{1,40})\s*\)"""
)
# a pydantic ValidationError's line: the field's path alone on a line, then its error with the
# value it was given ("password\n  String should have … [type=…, input_value='…', input_type=str]")
_VALIDATION = re.compile(
    r"(?m)^([A-Za-z_][\w.\[\]-]{0,127})\r?\n[ \t]+[^\n]{0,512}?\binput_value="
    r"('(?:[^'\\\n]|\\.){0,512}'|\"(?:[^\"\\\n]|\\.){0,512}\"|[^,\]\n]{1,512})"
)
# a value a URL's path names by the segment before it: /ssn/536221234, /phone/14155550132, and
# the one-time tokens of password resets and sign-in links (/reset-password/<token>,
# /magic-link/<token>, Django's /reset/<uid>/<token>/); a token needs 16 characters or more
_PATH_VALUE = re.compile(
    r"(?i)/(ssn|social[-_]?security|tax[-_]?id|phone|mobile|msisdn|whatsapp)/([^/?#\s]{4,64})"
    r"|/((?:reset|magic|login|sign[-_]?in|verify|confirm|activate|invite)[-\w]{0,24})"
    r"(?:/(?:[A-Za-z0-9_-]{1,8}/)?|[^?#\s]{0,128}\?(?:[^#\s]{0,512}&)?(?:t|k|key|code|token)=)"
    r"((?=[A-Za-z-]*\d)(?=[\d_-]*[A-Za-z])[A-Za-z0-9_-]{16,256})(?=[/?#&\s]|$)"
)
_PATH_TOKEN_KEY = "token"  # noqa: S105 - the key a sign-in or reset link's token is judged as
# <key>value</key>: XML, an HTML form's echo
_ELEMENT = re.compile(r"<([A-Za-z_][\w.:-]{0,63})(?:\s[^<>]{0,256})?>([^<>]{1,512})</\1>")


def _may_be_sql(text: str) -> bool:
    """INSERT, UPSERT or REPLACE in upper or lower case (substring searches, each in C)."""
    return (
        "NSERT" in text
        or "nsert" in text
        or "PSERT" in text
        or "psert" in text
        or "EPLACE" in text
        or ("eplace" in text)
    )


def _may_be_table(text: str) -> bool:
    """Lines apart by commas or tabs: a header and its rows."""
    return "\n" in text and ("," in text or "\t" in text)


def may_hold(text: str) -> bool:
    """A cheap first look (substring searches): whether the text may hold a keyed value."""
    return (
        "=" in text
        or ("/" in text and _PATH_VALUE.search(text) is not None)
        or "</" in text
        or "('" in text
        or '("' in text
        or _may_be_sql(text)
        or _may_be_table(text)
    )


def keyed_spans(text: str) -> Iterator[tuple[str, int, int]]:
    """(key, start, end) of each keyed value in the text (a quoted value with its quotes), in no
    particular order; at most MAX_PAIRS of each kind."""
    if "=" in text:
        for match in islice(_ASSIGNED.finditer(text), MAX_PAIRS):
            yield match.group(1), match.end(1) + 1, match.end()
    if "('" in text or '("' in text:
        for match in islice(_TUPLE.finditer(text), MAX_PAIRS):
            value_start = text.index(",", match.end(2)) + 1
            while text[value_start].isspace():
                value_start += 1
            yield match.group(2), value_start, match.end() - 1 - _trailing_spaces(text, match.end() - 1)
    if "</" in text:
        for match in islice(_ELEMENT.finditer(text), MAX_PAIRS):
            yield match.group(1), match.start(2), match.end(2)
    if _may_be_table(text):
        yield from islice(csv_spans(text), MAX_PAIRS)
    if "/" in text:
        for match in islice(_PATH_VALUE.finditer(text), MAX_PAIRS):
            if match.group(1):
                yield match.group(1), match.start(2), match.end(2)
            else:
                yield _PATH_TOKEN_KEY, match.start(4), match.end(4)
    if "input_value=" in text:
        for match in islice(_VALIDATION.finditer(text), MAX_PAIRS):
            yield match.group(1).rsplit(".", 1)[-1], match.start(2), match.end(2)
    if _may_be_sql(text):
        yield from value_spans(text)


def _trailing_spaces(text: str, end: int) -> int:
    """How many spaces stand right before ``end``."""
    count = 0
    while end - count - 1 >= 0 and text[end - count - 1].isspace():
        count += 1
    return count

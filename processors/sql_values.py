"""The column of each value in a SQL ``INSERT … (columns) VALUES (…), (…)`` statement, so a value
is judged by its column's name as a keyed value is by its key: ``INSERT INTO users (email,
password, ssn) VALUES ('…', 'hunter2', '536221177')`` (a text-to-SQL agent's tool call, a
statement a database instrumentation records)."""

from __future__ import annotations

import re
from collections.abc import Iterator

MAX_ROWS = 1000  # rows of one statement read
MAX_ROW_CHARACTERS = 65_536  # a longer row is not read (the text patterns still are)
_INSERT = re.compile(
    r"(?i)\binsert\b[^(;]{0,200}?\binto\s+[^\s(]{1,200}\s*\(([^()]{1,4096})\)\s*values\s*(?=\()"
)
_NEXT_ROW = re.compile(r"\s*,\s*(?=\()")
_QUOTES = "'\"`"


def _column(name: str) -> str:
    return name.strip().strip('"`[]')


def _row(text: str, start: int) -> tuple[list[tuple[int, int]], int] | None:
    """The spans of one row's values (without the spaces around them) from ``start`` (after its
    "("), and where the row ends (after its ")"); None where it does not end."""
    items: list[tuple[int, int]] = []
    item_start = start
    quote = ""
    depth = 0
    at = start
    end = min(len(text), start + MAX_ROW_CHARACTERS)
    while at < end:
        char = text[at]
        if quote:
            if char == "\\":  # MySQL's escapes
                at += 1
            elif char == quote:
                if text[at + 1 : at + 2] == quote:  # a quote written twice: one inside
                    at += 1
                else:
                    quote = ""
        elif char in _QUOTES:
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif char in ",)" and not depth:
            items.append(_stripped(text, item_start, at))
            if char == ")":
                return items, at + 1
            item_start = at + 1
        at += 1
    return None


def _stripped(text: str, start: int, stop: int) -> tuple[int, int]:
    while start < stop and text[start].isspace():
        start += 1
    while stop > start and text[stop - 1].isspace():
        stop -= 1
    return start, stop


def value_spans(text: str) -> Iterator[tuple[str, int, int]]:
    """(column, start, end) of each value of each row of each INSERT with a column list in the
    text; a row whose values do not match its columns in number is skipped."""
    for insert in _INSERT.finditer(text):
        columns = [_column(name) for name in insert.group(1).split(",")]
        at = insert.end()
        for _ in range(MAX_ROWS):
            row = _row(text, at + 1)
            if row is None:
                break
            items, at = row
            if len(items) == len(columns):
                for column, (start, stop) in zip(columns, items, strict=True):
                    yield column, start, stop
            following = _NEXT_ROW.match(text, at)
            if following is None:
                break
            at = following.end()


def unquoted(value: str) -> tuple[str, str]:
    """A SQL value's quote and its text inside it ("'it''s'" -> ("'", "it's")); ("", value) for
    an unquoted one."""
    if len(value) >= 2 and value[0] in _QUOTES and value[-1] == value[0]:
        quote = value[0]
        return quote, value[1:-1].replace(quote * 2, quote)
    return "", value

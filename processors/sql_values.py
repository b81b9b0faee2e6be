"""The column of each value in a SQL ``INSERT … (columns) VALUES (…), (…)`` statement, so a value
is judged by its column's name as a keyed value is by its key: ``INSERT INTO users (email,
password, ssn) VALUES ('…', 'hunter2', '536221177')`` (a text-to-SQL agent's tool call, a
statement a database instrumentation records)."""

from __future__ import annotations

import re
from collections.abc import Iterator

MAX_ROWS = 1000  # rows of one statement read
MAX_ROW_CHARACTERS = 65_536  # a longer row is not read (the text patterns still are)
# INSERT, REPLACE or UPSERT (MERGE's "THEN INSERT (…)" too), a table however named ("my users",
# "users AS u", none), the column list, then VALUES (MySQL: VALUE; "OVERRIDING SYSTEM VALUE" may
# stand before it) and the first row, or SELECT and its values
_INSERT = re.compile(
    r"(?i)\b(?:insert|replace|upsert)\b[^(;]{0,300}?\(([^()]{1,4096})\)[^(;]{0,80}?"
    r"(?:\bvalues?\s*(?=\()|\bselect\s+)"
)
_SELECT_END = re.compile(r"(?i);|\bfrom\b|\bwhere\b|\bunion\b|\bon\s+conflict\b|\breturning\b|$")
_NEXT_ROW = re.compile(r"\s*,\s*(?=\()")
_QUOTES = "'\"`"


def _column(name: str) -> str:
    return name.strip().strip('"`[]')


def _row(text: str, start: int, end: int | None = None) -> tuple[list[tuple[int, int]], int] | None:
    """The spans of one row's values (without the spaces around them) from ``start`` (after its
    "("), and where the row ends (after its ")"); None where it does not end. With ``end``: the
    values of a SELECT, which end there (or at a ")" of no call)."""
    items: list[tuple[int, int]] = []
    item_start = start
    quote = ""
    depth = 0
    at = start
    if end is not None:
        text = text[:end] + ")"
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


def _literals(text: str, columns: list[str], items: list[tuple[int, int]]) -> Iterator[tuple[str, int, int]]:
    """The items that are literal values (quoted, or a number), with their columns; not the
    expressions (a column of another table, NOW(), a placeholder)."""
    for column, (start, stop) in zip(columns, items, strict=True):
        first = text[start : start + 1]
        if first in _QUOTES or (first.isdigit() and text[start:stop].isdigit()):
            yield column, start, stop
        elif first in "NnEe" and text[start + 1 : start + 2] == "'":  # N'…' (T-SQL), E'…' (Postgres)
            yield column, start + 1, stop


def value_spans(text: str) -> Iterator[tuple[str, int, int]]:
    """(column, start, end) of each value of each row of each INSERT with a column list in the
    text; a row whose values do not match its columns in number is skipped."""
    for insert in _INSERT.finditer(text):
        columns = [_column(name) for name in insert.group(1).split(",")]
        at = insert.end()
        if text[at : at + 1] != "(":  # INSERT … SELECT 'a', 'b'
            stop = _SELECT_END.search(text, at)
            row = _row(text, at, stop.start() if stop else len(text))
            if row is not None and len(row[0]) == len(columns):
                yield from _literals(text, columns, row[0])
            continue
        for _ in range(MAX_ROWS):
            row = _row(text, at + 1)
            if row is None:
                break
            items, at = row
            if len(items) == len(columns):
                yield from _literals(text, columns, items)
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

"""The column of each value in comma- or tab-separated rows under a header line, so a value is
judged by its column's name as a keyed value is by its key: ``name,ssn\\nalice,536221234`` (a
tool's CSV, a spreadsheet pasted into a prompt), the AWS console's credentials file
(``User name,Password,Access key ID,Secret access key``)."""

from __future__ import annotations

import re
from collections.abc import Iterator

MAX_ROWS = 1000  # rows under one header read
# a header: two or more names (letters first, then letters, digits, spaces and a little
# punctuation), apart by commas or by tabs
_NAME = r"[ \t]*\"?[A-Za-z_][\w .()/#-]{0,63}\"?[ \t]*"
_HEADER = re.compile(rf"(?m)^(?:{_NAME},)+{_NAME}$|^(?:{_NAME}\t)+{_NAME}$")


def _fields(line: str, start: int, separator: str) -> list[tuple[int, int]]:
    """The span of each field of a line starting at ``start`` (its spaces and quotes left out)."""
    spans = []
    at = start
    for field in line.split(separator):
        left = len(field) - len(field.lstrip())
        inner = field.strip()
        first, last = at + left, at + left + len(inner)
        if len(inner) >= 2 and inner[0] == inner[-1] == '"':
            first, last = first + 1, last - 1
        spans.append((first, last))
        at += len(field) + 1
    return spans


def _whole_fields(row: str, separator: str) -> bool:
    """Each field bare, or quoted whole (a quoted separator would shift the columns)."""
    for field in row.split(separator):
        inner = field.strip()
        quoted = inner[:1] == '"'
        if ('"' in inner) and not (
            quoted and len(inner) >= 2 and inner[-1] == '"' and '"' not in inner[1:-1]
        ):
            return False
    return True


def value_spans(text: str) -> Iterator[tuple[str, int, int]]:
    """(column, start, end) of each value in rows under a header line; a row with another number
    of fields (or a quote inside a field: a quoted separator, say) ends the table."""
    for header in _HEADER.finditer(text):
        line = header.group(0)
        separator = "\t" if "\t" in line.strip(" ") and "," not in line else ","
        names = [text[a:b] for a, b in _fields(line, header.start(), separator)]
        at = header.end() + 1
        for _ in range(MAX_ROWS):
            if at > len(text):
                break
            end = text.find("\n", at)
            end = len(text) if end < 0 else end
            row = text[at:end].rstrip("\r")
            if row.count(separator) != len(names) - 1 or not _whole_fields(row, separator):
                break
            for name, (first, last) in zip(names, _fields(row, at, separator), strict=True):
                if last > first:
                    yield name, first, last
            at = end + 1

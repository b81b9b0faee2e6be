"""Encoded text for the redactor: percent-encoding, HTML entities and backslash escapes.

HTTP clients write query values percent-encoded (``uma%40example.com``, ``%2B14155550132``),
HTML and XML carry entities (``&#64;``), JSON text carries ``\\u0040`` escapes. The redactor's
patterns see none of these as the values they are, so :func:`encoded_pieces` cuts a text into
pieces at the characters that structure URLs and markup, decodes each piece that holds an
encoding (twice at most: ``%2540``), and keeps, for every decoded character, where it came
from, so a value found in the decoded piece is replaced in the encoded original.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

# One encoded ASCII character: a percent escape, an HTML character reference, a \u or \x escape
# (behind any number of backslashes: JSON inside JSON). Only ASCII matters: every value the
# redactor knows is written in ASCII punctuation and digits, so "\u00e9" (JSON's way of writing
# "é") or "%C3%A9" cannot hide one, and text full of them costs nothing here.
_UNIT = re.compile(
    r"%([0-7][0-9A-Fa-f])"
    r"|&(#0*(?:1[01][0-9]|12[0-7]|[0-9]{1,2})|#[xX]0*[0-7]?[0-9A-Fa-f]|[A-Za-z][A-Za-z0-9]{1,31});"
    r"|\\+(?:u00([0-7][0-9A-Fa-f])|x([0-7][0-9A-Fa-f]))"
    r"|(?<=[0-9])(\+)(?=[0-9])"  # form encoding's space between digits: "card=4111+1111+1111+1111"
)
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
# A piece: entities whole, anything else but what separates values in URLs, markup and prose.
_PIECE = re.compile(r"(?:&#?[A-Za-z0-9]{1,32};|[^\s\"'<>=?/#,&;])+")
_WINDOW = 256  # how far before an encoded character its piece is looked for
_DEPTH = 2


@dataclass(frozen=True)
class Decoded:
    """A piece of text decoded: ``text``, and for each of its characters the span it came from."""

    start: int  # where the piece starts in the whole text
    source: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def original(self, first: int, last: int) -> tuple[int, int]:
        """The span of the source (in the whole text) that decoded characters [first, last) came from."""
        if first >= last:
            at = self.starts[first] if first < len(self.starts) else len(self.source)
            return self.start + at, self.start + at
        return self.start + self.starts[first], self.start + self.ends[last - 1]


def _decode_once(text: str, plus_is_space: bool) -> tuple[str, list[int], list[int]] | None:
    """``text`` with each encoded character decoded, and the source span of each character;
    ``plus_is_space``: form encoding, where "+" stands for a space."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    at = 0
    changed = False

    def plain(upto: int) -> None:
        for index in range(at, upto):
            char = text[index]
            if plus_is_space and char == "+":
                char = " "
            out.append(char)
            starts.append(index)
            ends.append(index + 1)

    for unit in _UNIT.finditer(text):
        percent, entity, u_escape, x_escape, plus = unit.groups()
        if plus is not None:
            decoded = " "
        elif percent is not None:
            decoded = chr(int(percent, 16))
        elif entity is not None:
            decoded = html.unescape(unit.group(0))
            if decoded == unit.group(0):  # not an entity HTML knows
                continue
        else:
            decoded = chr(int(u_escape or x_escape, 16))
        if not decoded.isascii():  # a named entity of another character
            continue
        plain(unit.start())
        changed = True
        for char in decoded:
            out.append(char)
            starts.append(unit.start())
            ends.append(unit.end())
        at = unit.end()
    if not changed:
        return None
    plain(len(text))
    return "".join(out), starts, ends


def _decode(text: str, plus_is_space: bool) -> tuple[str, tuple[int, ...], tuple[int, ...]] | None:
    first = _decode_once(text, plus_is_space)
    if first is None:
        return None
    decoded, starts, ends = first
    for _ in range(_DEPTH - 1):  # "%2540": the decoded text is encoded again
        again = _decode_once(decoded, plus_is_space=False)
        if again is None:
            break
        decoded, inner_starts, inner_ends = again
        starts = [starts[i] for i in inner_starts]
        ends = [ends[i - 1] for i in inner_ends]
    return decoded, tuple(starts), tuple(ends)


def _unit(match: re.Match[str]) -> str:
    percent, entity, u_escape, x_escape, plus = match.groups()
    if plus is not None:
        return " "
    if entity is not None:
        decoded = html.unescape(match.group(0))
        return decoded if decoded.isascii() else match.group(0)
    return chr(int(percent or u_escape or x_escape, 16))


def decoded_views(text: str) -> tuple[str, ...]:
    """The whole text with its ASCII encodings decoded (form encoding read both ways), or ()
    when it holds none: a cheap first look (one substitution) before any piece is cut out."""
    if _UNIT.search(text) is None:
        return ()
    views = [text.replace("+", " "), text] if "+" in text and _PERCENT.search(text) else [text]
    for _ in range(_DEPTH):  # "%2540": the decoded text is encoded again
        views = [_UNIT.sub(_unit, view) for view in views]
    return tuple(views)


def encoded_pieces(text: str) -> Iterator[Decoded]:
    """Each piece of ``text`` that holds an encoded ASCII character, decoded; a form-encoded
    piece with a "+" twice, "+" read as a space first, then as itself ("phone=+44%2020%207946")."""
    end = 0
    for unit in _UNIT.finditer(text):
        if unit.start() < end:  # inside the piece just decoded
            continue
        for piece in _PIECE.finditer(text, max(end, unit.start() - _WINDOW)):
            if piece.end() > unit.start():
                break
        else:
            continue
        source = piece.group(0)
        end = piece.end()
        form = "+" in source and _PERCENT.search(source) is not None
        for plus_is_space in (True, False) if form else (False,):
            decoded = _decode(source, plus_is_space)
            if decoded is not None:
                yield Decoded(piece.start(), source, *decoded)

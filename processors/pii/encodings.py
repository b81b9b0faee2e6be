"""Encoded text for the redactor: percent-encoding, HTML entities and backslash escapes.

HTTP clients write query values percent-encoded (``uma%40example.com``, ``%2B14155550132``),
HTML and XML carry entities (``&#64;``), JSON text carries ``\\u0040`` escapes. The redactor's
patterns see none of these as the values they are, so :func:`encoded_pieces` cuts a text into
pieces at the characters that structure URLs and markup, decodes each piece that holds an
encoding (again while that changes it: ``%2540``, ``%25252540``), and keeps, for every decoded
character, where it came from, so a value found in the decoded piece is replaced in the encoded original.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

# One encoded character that a value the redactor knows may be written with: ASCII, and the few
# other characters its patterns take between digits (no-break and narrow no-break spaces, the
# en dash, the no-break hyphen). A percent escape (UTF-8 for those few), an HTML character
# reference (numeric ones with or without ";", as browsers read them), JavaScript's ``%u0040``,
# a \x or \/ escape behind any number of backslashes (JSON inside JSON; matched from the
# run's first backslash, so a long run costs linear time), and form encoding's "+" between
# letters and digits. A \u escape of any character, a surrogate pair as one: JSON written by
# ``json.dumps`` (as GenAI instrumentations write messages) escapes every non-ASCII character,
# and values are written in those too (a password after "密码是", an address or a phone
# number in full-width forms). Since addresses are written in every script ("иван@почта.рф"),
# the UTF-8 percent escapes of any character ("%D0%B8", "%E4%BE%8B") and the numeric character
# references of any letter ("&#1087;") are decoded too; an invalid UTF-8 sequence is left.
_UNIT = re.compile(
    r"%([0-7][0-9A-Fa-f]|[Cc][2-9A-Fa-f]%[89AaBb][0-9A-Fa-f]|[Dd][0-9A-Fa-f]%[89AaBb][0-9A-Fa-f]"
    r"|[Ee][0-9A-Fa-f](?:%[89AaBb][0-9A-Fa-f]){2}|[Ff][0-4](?:%[89AaBb][0-9A-Fa-f]){3}"
    r"|[Uu](?:00[0-7][0-9A-Fa-f]|00[Aa]0|201[13]|202[Ff]))"
    r"|&(#0*[0-9]{1,7}(?![0-9]);?"
    r"|#[xX]0*[0-9A-Fa-f]{1,6}(?![0-9A-Fa-f]);?"
    r"|[A-Za-z][A-Za-z0-9]{1,31};)"
    r"|(?<!\\)\\+(?:u([Dd][89AaBb][0-9A-Fa-f]{2})\\+u([Dd][C-Fc-f][0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})"
    r"|x([0-7][0-9A-Fa-f])|(/)|([nrt](?![A-Za-z0-9]*\\)))"
    r"|(?<=[A-Za-z0-9])(\+)(?=[A-Za-z0-9])"
    r"|(\x1b\[[0-9;]{0,16}m)"  # a terminal colour code (coloured log output): read as a space
)
_KEPT = frozenset("\u00a0\u2011\u2013\u202f")  # non-ASCII characters the patterns take
# A piece: entities whole, anything else but what separates values in URLs, markup and prose.
_PIECE = re.compile(r"(?:&#?[A-Za-z0-9]{1,32};?|[^\s\"'<>=?/,&;])+")
_WINDOW = 256  # how far before an encoded character its piece is looked for
_DEPTH = 8  # decodings of one text at most; each further one only where the last changed it


def _decoded(unit: re.Match[str]) -> str | None:
    """What one encoded character stands for, or None where it is none the redactor needs."""
    percent, entity, high, low, u_escape, x_escape, slash, control, plus, colour = unit.groups()
    if plus is not None or colour is not None or control is not None:
        return " "  # a line break or a tab written as JSON or a repr writes it: read as a space
    if slash is not None:
        return "/"
    if percent is not None:
        if len(percent) == 2:
            return chr(int(percent, 16))
        if percent[0] in "uU":  # JavaScript's escape(): "%u0040"
            return chr(int(percent[1:], 16))
        try:
            return bytes.fromhex(percent.replace("%", "")).decode("utf-8")
        except UnicodeDecodeError:  # not UTF-8 (an overlong form, a surrogate): left as it is
            return None
    if entity is not None:
        source = unit.group(0) if unit.group(0).endswith(";") else unit.group(0) + ";"
        decoded = html.unescape(source)
        readable = decoded.isascii() or decoded in _KEPT or (entity[0] == "#" and decoded.isalnum())
        return decoded if decoded != source and readable else None
    if high is not None:  # a surrogate pair: the one character it stands for
        return chr(0x10000 + ((int(high, 16) - 0xD800) << 10) + int(low, 16) - 0xDC00)
    return chr(int(u_escape or x_escape, 16))


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
        decoded = _decoded(unit)
        if decoded is None or (unit.group(0) == "+" and not plus_is_space):
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


def _unit(match: re.Match[str], keep_plus: bool = False) -> str:
    decoded = _decoded(match)
    if decoded is None or (keep_plus and match.group(0) == "+"):
        return match.group(0)
    return decoded


def _keeping_plus(match: re.Match[str]) -> str:
    return _unit(match, keep_plus=True)


def decoded_views(text: str) -> tuple[str, ...]:
    """The whole text with its encodings decoded ("+" read as itself, and, where the text has
    one, as form encoding's space), or () when it holds none: a cheap first look (a substitution
    or two) before any piece is cut out."""
    if _UNIT.search(text) is None:
        return ()
    views = []
    for plus_is_space in (False, True) if "+" in text else (False,):
        view = text.replace("+", " ") if plus_is_space else text
        for _ in range(_DEPTH):  # "%2540": the decoded text is encoded again
            decoded = _UNIT.sub(_unit if plus_is_space else _keeping_plus, view)
            if decoded == view:
                break
            view = decoded
        views.append(view)
    return tuple(views)


def encoded_pieces(text: str) -> Iterator[Decoded]:
    """Each piece of ``text`` that holds an encoded ASCII character, decoded; a form-encoded
    piece with a "+" twice, "+" read as itself first ("phone=+44%2020%207946", "uma+tag%40x.com"),
    then as a space ("q=call+me+at+%2B1+415...")."""
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
        form = "+" in source
        for plus_is_space in (False, True) if form else (False,):
            decoded = _decode(source, plus_is_space)
            if decoded is not None:
                yield Decoded(piece.start(), source, *decoded)

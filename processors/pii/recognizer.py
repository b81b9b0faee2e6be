"""What a fast-path recognizer is, and the value boundaries its patterns share.

:mod:`processors.pii.patterns` lists the recognizers; :mod:`processors.pii.provider_tokens`
builds those of the providers' token formats. Both take the type and the boundaries from here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


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
    # A candidate with more digits than this is never valid (its parts may be); 0: no limit.
    # Counted with min_digits, so only where that is set.
    max_digits: int = 0
    hint_pattern: re.Pattern[str] | None = None  # must match somewhere (a fast pattern: it scans)
    # Must match the folded text (:func:`fold`): a case-insensitive gate without (?i), which makes
    # ``re`` scan a long text several times slower (folding keeps every case a (?i) pattern matches).
    folded_pattern: re.Pattern[str] | None = None
    # A candidate the validator rejects may hold a valid value next to other digits ("4111 1111
    # 1111 1111 12/26", two phone numbers in a row): its pieces (matches of this pattern) are
    # tried in runs, longest first, and the valid runs are replaced (a pattern without groups).
    parts: re.Pattern[str] | None = None
    # A run of several pieces is tried only if it starts with one of these characters (empty: any)
    part_leads: str = ""
    part_digits: int = 0  # the digits a run of pieces must hold to be tried (0: min_digits)
    # What any text this recognizer replaces something in must hold, in RE2's syntax (see
    # :mod:`processors.pii.screen`): one pass of all recognizers' screens tells which ones can
    # match at all. Only a superset matters, so classes are wide: ``D`` (any digit, and any
    # non-ASCII character, since ``re``'s ``\d`` and ``\w`` take other scripts' too). Empty:
    # always tried.
    screen: str = ""
    # Characters one of which every text this recognizer's gates let through holds (the ``"@"``
    # of ``@[A-Za-z0-9-]+\.``, the ``:`` or ``=`` a key word needs after it), where the hints do not
    # already say so: a text holding none of them skips the recognizer before its gates are asked
    # (see :func:`gate_marks`). Empty: the hints tell, or nothing does.
    marks: str = ""
    # Casefolded words one of which every text this recognizer's gates let through holds, where
    # the hints do not already say so (the key words of a casefolded gate): a text holding none
    # of them skips the recognizer (see :func:`gate_words` and :mod:`processors.pii.keywords`).
    words: tuple[str, ...] = ()


# The characters a gate may be known to need: punctuation, and the full-width colon
MARK_CHARACTERS = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\uff1a")


def gate_marks(recognizer: Recognizer) -> frozenset[str] | None:
    """The characters one of which every text past the recognizer's gates holds: its declared
    ``marks``, else those of its hints where each hint holds one (a text past the hints holds a
    whole hint, so its marks); None where no such characters are known."""
    if recognizer.marks:
        return frozenset(recognizer.marks)
    hints = recognizer.hints
    if not hints or not all(MARK_CHARACTERS.intersection(hint) for hint in hints):
        return None
    return frozenset(MARK_CHARACTERS.intersection("".join(hints)))


# Casefolding reads the dotted capital I as "i" and a combining dot, and keeps the dotless i,
# where ``re`` under IGNORECASE takes both for "i" ("\u015e\u0130FRE", "\u015f\u0131fre" are
# "\u015fifre" to a (?i) pattern): a gate on the casefolded text reads them as "i" too.
_AS_IGNORECASE = {0x131: "i", 0x307: None}


def fold(text: str) -> str:
    """The text as case-insensitive gates and key words read it: casefolded (character by
    character), the dotless i as "i", combining dots above dropped (a superset of what a (?i)
    pattern matches, as no gate nor word holds a combining dot)."""
    folded = text.casefold()
    return folded if folded.isascii() else folded.translate(_AS_IGNORECASE)


def gate_words(recognizer: Recognizer) -> frozenset[str] | None:
    """The folded words (:func:`fold`) one of which every text past the recognizer's gates holds:
    its declared ``words``, else its hints folded (folding goes character by character, so a
    text holding a hint holds it folded once folded itself); None where none are known."""
    if recognizer.words:
        return frozenset(recognizer.words)
    if recognizer.hints:
        return frozenset(fold(hint) for hint in recognizer.hints)
    return None


# Screen building blocks (RE2 syntax): a digit as ``re`` sees one, or any non-ASCII character.
D = r"[0-9\x{80}-\x{10FFFF}]"


# Word characters at a value's boundaries are those of Latin scripts: a value glued to a letter
# of another script ("電話番号は090-1234-5678です") still starts and ends one. A JSON or repr
# escape before a value (\n, \t, \r, and \uXXXX: GenAI message content is JSON text, which
# json.dumps writes in ASCII) separates too, though its last character is a word character.
# The start is checked after a value's first character (a pattern that starts with a
# character lets ``re`` skip ahead to it).


def after_escape(consumed: str = "") -> str:
    """Lookbehinds: a JSON escape right before a value whose first ``consumed`` characters matched."""
    return rf"(?<=\\[nrt]{consumed})|(?<=\\u[0-9A-Fa-f]{{4}}{consumed})"


# The first code point of each non-ASCII block of ten decimal digits (Unicode category Nd:
# what ``re``'s ``\d`` matches besides 0-9), from Unicode 14 (Python 3.11; a test compares)
DIGIT_BLOCKS = (
    0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6,
    0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50,
    0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50,
    0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
)  # fmt: skip


# A value's last digit followed by another digit of its own script: the value goes on (a run of
# full-width digits is one number, as a run of ASCII digits is). A digit of another script next
# to it still ends it ("+49 30 12345678\u0663"). Checked after a non-ASCII character only.
# (the blocks most text uses tried first: full-width, Arabic-Indic, Persian, Devanagari, Bengali)
_COMMON = (0xFF10, 0x660, 0x6F0, 0x966, 0x9E6)
_COMMON_FIRST = [*_COMMON, *(first for first in DIGIT_BLOCKS if first not in _COMMON)]
SAME_SCRIPT_PAIR = "|".join(f"[\\U{first:08x}-\\U{first + 9:08x}]{{2}}" for first in _COMMON_FIRST)
SAME_SCRIPT_DIGIT = r"(?<=[^\x00-\x7f])\d(?<=" + SAME_SCRIPT_PAIR + ")"
# The same where a number starts: what is before it is seldom a digit there ("、", CJK text), and
# a lookbehind of two digits says no before the 65 blocks are tried (a list of full-width ids:
# the phone pattern's scan takes half the time)
INSIDE_SAME_SCRIPT_RUN = r"(?<=[^\x00-\x7f])\d(?<=\d\d)(?<=" + SAME_SCRIPT_PAIR + ")"


def first_digit(glued: str = "A-Za-z0-9_\u00c0-\u024f") -> str:
    """A number's first digit, where it does not continue what is before it. An ASCII digit
    does not start after a character of ``glued`` (Latin letters and digits), but does after a
    JSON escape; a digit of another script does not start after a digit of its own script (a run
    of full-width digits is one number, as a run of ASCII digits is), and does after anything
    else: a change of script is a boundary ("TEL\uff10\uff13-…"). (Lookbehinds before the digit,
    not after it: ``re`` scans number-heavy text twice as fast so. The pair of digits of one
    script is asked only after a digit: at a number's first digit, where none of the 65 blocks
    would match, the lookbehind of two digits says no at once; in a lookahead, not an
    alternative, so a failed match does not try the pair after all.)"""
    return (
        f"(?:(?<![{glued}])[0-9]|(?<=\\\\[nrt])[0-9]|(?<=\\\\u[0-9A-Fa-f]{{4}})[0-9]"
        f"|(?=\\d)[^\\x00-\\x7f](?!(?<=\\d\\d)(?<={SAME_SCRIPT_PAIR})))"
    )


# An ASCII digit right after another starts no number (unless a \uXXXX escape ends with that
# other): a pattern that starts with this says no at once at each inner digit of a long number,
# where its other start tests (lookbehinds, one per way a number may start) would each be asked
# (the card pattern's scan of a list of numbers takes a quarter less; the phone pattern, whose
# first test already fails there, gains nothing).
NOT_INSIDE_NUMBER = r"(?!(?<=[0-9])[0-9](?<!\\u[0-9A-Fa-f]{4}[0-9]))"


# checked after a value's first character; after its last; and for keys, where "_" separates
# ("key_AKIA…")
B1 = r"(?:(?<![A-Za-z0-9_\u00c0-\u024f].)|" + after_escape(r".") + r")"
E = r"(?![A-Za-z0-9_\u00c0-\u024f]|" + SAME_SCRIPT_DIGIT + ")"
BK1 = r"(?:(?<![A-Za-z0-9\u00c0-\u024f].)|" + after_escape(r".") + r")"

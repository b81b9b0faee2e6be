"""One pass over a text that tells which recognizers can match in it (google-re2's pattern set).

Each recognizer has its own cheap gates (:class:`~processors.pii.recognizer.Recognizer`), but
testing two dozen of them in Python costs more than the scan they save on the short strings
that make up most telemetry. Every recognizer also names a ``screen``: what a text must hold
for it to replace anything, in RE2's syntax and wider than the recognizer (a superset). RE2
tests all of them in one pass over the text, in linear time, and the redactor then runs only the
recognizers whose screen matched, each with its own gates and pattern as before: the result is
the same with or without the screen, only faster with it.

The redactor screens long texts only (``SCREEN_MIN_LENGTH``): RE2 releases the GIL for every
call, and a call on a short string lets go of it for a microsecond, too short for a waiting
thread to take it but enough to restart its wait, so a thread screening short strings one after
another keeps the process's other threads from running for hundreds of milliseconds.

``google-re2`` ships wheels for the common platforms; where it is not installed (or a text
cannot be encoded as UTF-8, such as one with a lone surrogate) every recognizer is tried, as
without a screen. It is imported at the first scan, not at start-up.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence

from otel_distro.runtime.errors import caught
from processors.pii.recognizer import Recognizer

_logger = logging.getLogger(f"otel_distro.{__name__}")

Screen = Callable[[str], "list[int] | None"]
MAX_MEM = 64 << 20  # RE2's memory budget for the set's automaton (it fails, never guesses, past it)
# Characters read as other letters by Python's re under IGNORECASE ("\u0130", "\u0131", "\u017f",
# "\u212a" are i, i, s, k) or by casefolding (the casefolded gates: "\u00df" is "ss", "\ufb01" is
# "fi") than by RE2's simple case folding: where a text holds one, a case-insensitive screen may
# say no where the recognizer matches ("IDENT\u0130F\u0130ED BY", "pa\u00df"), so the recognizers
# that fold case are tried whatever their screens say. Every such character of Unicode 14 (Python
# 3.11; a test compares): those whose casefolding differs from their lower case, or whose lower
# case, upper case or casefolding holds an ASCII letter.
FOLDING_RANGES = (
    (0xB5, 0xB5), (0xDF, 0xDF), (0x130, 0x131), (0x149, 0x149), (0x17F, 0x17F), (0x1F0, 0x1F0),
    (0x345, 0x345), (0x390, 0x390), (0x3B0, 0x3B0), (0x3C2, 0x3C2), (0x3D0, 0x3D1), (0x3D5, 0x3D6),
    (0x3F0, 0x3F1), (0x3F5, 0x3F5), (0x587, 0x587), (0x13A0, 0x13F5), (0x13F8, 0x13FD), (0x1C80, 0x1C88),
    (0x1E96, 0x1E9B), (0x1E9E, 0x1E9E), (0x1F50, 0x1F50), (0x1F52, 0x1F52), (0x1F54, 0x1F54),
    (0x1F56, 0x1F56), (0x1F80, 0x1FAF), (0x1FB2, 0x1FB4), (0x1FB6, 0x1FB7), (0x1FBC, 0x1FBC),
    (0x1FBE, 0x1FBE), (0x1FC2, 0x1FC4), (0x1FC6, 0x1FC7), (0x1FCC, 0x1FCC), (0x1FD2, 0x1FD3),
    (0x1FD6, 0x1FD7), (0x1FE2, 0x1FE4), (0x1FE6, 0x1FE7), (0x1FF2, 0x1FF4), (0x1FF6, 0x1FF7),
    (0x1FFC, 0x1FFC), (0x212A, 0x212A), (0xAB70, 0xABBF), (0xFB00, 0xFB06), (0xFB13, 0xFB17),
)  # fmt: skip
FOLDING_HAZARD = re.compile(
    "[" + "".join(f"\\U{first:08x}-\\U{last:08x}" for first, last in FOLDING_RANGES) + "]"
)


def folds_case(recognizer: Recognizer) -> bool:
    """Whether the recognizer matches or is gated without regard to case (see FOLDING_RANGES)."""
    return (
        recognizer.folded_pattern is not None
        or bool(recognizer.pattern.flags & re.IGNORECASE)
        or "(?i" in recognizer.pattern.pattern
        or "(?i" in recognizer.screen
    )


def build_screen(recognizers: Sequence[Recognizer]) -> Screen | None:
    """A function from a text to the indices (ascending) of the recognizers that may match in it,
    or ``None`` when it cannot tell (then every recognizer is to be tried); ``None`` instead of a
    function when google-re2 is not installed."""
    try:
        import re2  # type: ignore[import-untyped]  # google-re2 ships no type information
    except ImportError:
        return None
    options = re2.Options()
    options.max_mem = MAX_MEM
    options.dot_nl = True
    pattern_set = re2.Set.SearchSet(options)
    always: list[int] = []
    index_of: list[int] = []  # the set's pattern number -> the recognizer's index
    try:
        for index, recognizer in enumerate(recognizers):
            if not recognizer.screen:
                always.append(index)
                continue
            if pattern_set.Add(recognizer.screen) != len(index_of):
                raise ValueError("re2.Set numbered its patterns out of order")
            index_of.append(index)
        # Matches everywhere: a pass that finished reports it, so an empty answer means RE2 gave
        # up (its automaton ran out of memory), never "no recognizer can match".
        sentinel = pattern_set.Add("")  # after the recognizers' screens: their numbers are 0, 1, ...
        pattern_set.Compile()
    except Exception as exc:  # noqa: BLE001 - a screen RE2 refuses: do without the screen
        caught("building the redaction screen", exc)
        _logger.warning(
            "otel-distro: the redaction screen could not be built (%r); every pattern is tried", exc
        )
        return None
    # the C matcher under re2.Set.Match, which only encodes the text (fewer calls per string)
    raw = getattr(pattern_set, "_set", None)
    match = raw.Match if raw is not None and hasattr(raw, "Match") else pattern_set.Match
    every = list(range(len(recognizers)))
    direct = not always and index_of == every  # set pattern i is recognizer i
    encode = str.encode
    folding = frozenset(index for index, recognizer in enumerate(recognizers) if folds_case(recognizer))
    hazard = FOLDING_HAZARD.search

    def screen(text: str) -> list[int] | None:
        try:
            found = match(encode(text))
        except UnicodeEncodeError:  # a lone surrogate: no UTF-8 for RE2
            return None
        if not found or sentinel not in found:
            return None
        found.remove(sentinel)
        indices = found if direct else [index_of[number] for number in found] + always
        if folding and not text.isascii() and hazard(text) is not None:
            indices = list(folding.union(indices))
        indices.sort()
        return indices

    return screen

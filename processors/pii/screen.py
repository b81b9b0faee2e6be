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
from collections.abc import Callable, Sequence

from otel_distro.runtime.errors import caught
from processors.pii.recognizer import Recognizer

_logger = logging.getLogger(f"otel_distro.{__name__}")

Screen = Callable[[str], "list[int] | None"]
MAX_MEM = 64 << 20  # RE2's memory budget for the set's automaton (it fails, never guesses, past it)


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

    def screen(text: str) -> list[int] | None:
        try:
            found = match(encode(text))
        except UnicodeEncodeError:  # a lone surrogate: no UTF-8 for RE2
            return None
        if not found or sentinel not in found:
            return None
        found.remove(sentinel)
        indices = found if direct else [index_of[number] for number in found] + always
        indices.sort()
        return indices

    return screen

"""User-supplied patterns, bounded so that none can hang the application.

A pattern is compiled with the ``regex`` package and tried on probe strings built to make
backtracking explode (long runs of the characters it names, then a character that breaks
the match); one that does not finish in time, or that matches the empty string, is
refused with a message naming it. Every later match also runs under a time limit: a
value on which a pattern times out is replaced whole (fail closed) rather than passed on.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

PROBE_SECONDS = 0.05
MATCH_SECONDS = 0.02
_PROBE_LENGTHS = (24, 5000)
_RUN_CHARACTERS = "a1 ._-@:/A"


class UnsafePatternError(ValueError):
    """A user pattern that does not compile, matches nothing useful, or backtracks catastrophically."""


class PatternTimeout(Exception):
    """A user pattern ran out of time on one value."""


@dataclass(frozen=True)
class CustomPattern:
    """One user-named entity and its compiled, vetted pattern."""

    entity: str
    pattern: Any  # a regex.Pattern; the regex package ships no type information

    def sub(self, replace: Any, text: str) -> str:
        """``pattern.sub`` under :data:`MATCH_SECONDS`; :class:`PatternTimeout` when it runs over."""
        try:
            result: str = self.pattern.sub(replace, text, timeout=MATCH_SECONDS)
        except TimeoutError as exc:
            raise PatternTimeout(self.entity) from exc
        return result


def _probes(source: str) -> list[str]:
    named = [ch for ch in dict.fromkeys(source) if ch.isalnum() or ch in string.punctuation + " "]
    runs = list(dict.fromkeys([*_RUN_CHARACTERS, *named[:24]]))
    probes = []
    for length in _PROBE_LENGTHS:
        for char in runs:
            probes.append(char * length + "\x00")
        probes.append("ab1 " * (length // 4) + "\x00")
        probes.append("word " * (length // 5) + "!")
    return probes


def compile_pattern(entity: str, source: str) -> CustomPattern:
    """The vetted pattern, or :class:`UnsafePatternError` saying why it is refused."""
    import regex

    try:
        compiled = regex.compile(source)
    except (regex.error, ValueError, TypeError) as exc:
        raise UnsafePatternError(f"pattern {entity} does not compile: {exc}") from exc
    if compiled.search("") is not None:
        raise UnsafePatternError(f"pattern {entity} matches the empty string, so it would match everywhere")
    for probe in _probes(source):
        try:
            compiled.search(probe, timeout=PROBE_SECONDS)
        except TimeoutError:
            raise UnsafePatternError(
                f"pattern {entity} backtracks catastrophically (over {PROBE_SECONDS * 1000:.0f} ms on a "
                f"{len(probe)}-character probe); rewrite it without nested or overlapping repeats"
            ) from None
    return CustomPattern(entity, compiled)

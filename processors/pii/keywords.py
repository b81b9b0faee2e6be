"""Which of the recognizers' key words a text holds, in one pass (pyahocorasick's automaton).

Many recognizers are gated by words (``"PRIVATE KEY"``, ``"eyJ"``, ``"password"``, ``"token"``):
a text that holds none of a recognizer's words can skip it before its gates are asked. Asking
two dozen gates one by one in Python cost more than scanning a short string; one Aho-Corasick
pass over the casefolded text (C, holding the GIL: a call on a short string never lets other
threads in, as RE2's screen would) tells which words are there. Only a superset matters: the
recognizers left are asked their own gates as before, so the answers are the same with or
without this screen.

``pyahocorasick`` ships wheels for the common platforms; without it :class:`WordScreen`
answers ``None`` (every word-gated recognizer is tried). It is imported at the first scan.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from otel_distro.runtime.errors import caught

_logger = logging.getLogger(f"otel_distro.{__name__}")

WordScreen = Callable[[str], "frozenset[str] | None"]


def build_word_screen(words: Iterable[str]) -> WordScreen | None:
    """A function from a casefolded text to the words of ``words`` it holds (overlapping ones
    too), or ``None`` instead of a function where pyahocorasick is not installed."""
    try:
        import ahocorasick
    except ImportError:
        return None
    try:
        automaton = ahocorasick.Automaton()
        for word in set(words):
            automaton.add_word(word, word)
        automaton.make_automaton()
    except Exception as exc:  # noqa: BLE001 - an automaton that cannot be built: every gate is asked
        caught("building the redaction word screen", exc)
        _logger.warning("otel-distro: the redaction word screen could not be built (%r)", exc)
        return None
    found_in = automaton.iter

    def screen(folded: str) -> frozenset[str] | None:
        return frozenset([word for _, word in found_in(folded)])

    return screen

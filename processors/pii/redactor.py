"""``PiiRedactor``: replaces structured PII and secrets in text, on the fast path.

``PiiRedactor().redact_text(text)`` returns the text with every recognized value replaced
(``<EMAIL>``, ``<CREDIT_CARD>``, … by default; ``mask`` and keyed ``hash`` styles too).
``redact(text)`` also returns how many values of each entity type were replaced, never the
values themselves. Only the compiled patterns of :mod:`processors.pii.patterns` and the
user's vetted patterns (:mod:`processors.pii.custom`) run here; nothing is imported from presidio.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import threading
from collections import Counter
from collections.abc import Collection, Iterator, Mapping
from functools import partial
from itertools import accumulate
from typing import Literal, TypeAlias

from otel_distro.runtime.bounded import bounded_put
from otel_distro.runtime.forking import in_child
from processors.inline_budget import LONG_TEXT, charge_inline
from processors.pii.base64_values import MIN_CHARACTERS as MIN_BASE64
from processors.pii.base64_values import decoded_pieces
from processors.pii.custom import CustomPattern, PatternTimeout, compile_pattern
from processors.pii.encodings import decoded_views, encoded_pieces
from processors.pii.keywords import WordScreen, build_word_screen
from processors.pii.markup import markup_view
from processors.pii.number_checks import decimal_digits, digit_skeleton
from processors.pii.patterns import Recognizer, recognizers
from processors.pii.recognizer import fold, gate_marks, gate_words
from processors.pii.screen import Screen, build_screen

_logger = logging.getLogger(f"otel_distro.{__name__}")

Style = Literal["label", "mask", "hash"]
STYLES: tuple[Style, ...] = ("label", "mask", "hash")
_DIGIT = re.compile(r"\d")
_DIGIT_RUN = re.compile(r"\d(?:\D{0,2}\d){6}")
# form encoding's "+" as encodings.py reads one (between letters or digits); starts with a
# literal, so re skips to it
_FORM_PLUS = re.compile(r"\+(?<=[A-Za-z0-9]\+)(?=[A-Za-z0-9])")
# the full-width forms of ASCII characters (0xFEE0 above them) and the ideographic space
_WIDE_TO_ASCII = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# a full-width Latin letter, "@" (or its small form) or "=" (an address, a key or a key=value
# typed with an East Asian input method), a full-width digit next to a Latin letter (a key typed
# half so), or a full-width "+" or space before digits (a phone number typed so); full-width
# digits and punctuation alone, common in such text, are read by the patterns as they are
# (asked in steps that each start with a character class, which re scans for at C speed: one
# pattern of all four alternatives tried each at every position of a long text)
_WIDE_MARK = re.compile("[\ufe6b\uff1d\uff20-\uff3a\uff41-\uff5a]|[\u3000\uff0b](?=[0-9\uff10-\uff19])")
_WIDE_MARK_CHAR = re.compile("[\u3000\ufe6b\uff0b\uff1d\uff20-\uff3a\uff41-\uff5a]")  # one fast scan
_WIDE_DIGIT = re.compile("[\uff10-\uff19]")
_LATIN_LETTER = re.compile("[A-Za-z]")
_WIDE_DIGIT_BY_LETTER = re.compile("[A-Za-z][\uff10-\uff19]|[\uff10-\uff19][A-Za-z]")
# what else is typed between a number's digits: full-width "-", ".", "(", ")", "/" and the dashes
# of other keyboards (hyphen, non-breaking hyphen, figure, en and em dash, horizontal bar, minus,
# katakana prolonged sound mark, small hyphen-minus): "090\uff0d1234\uff0d5678" in full-width
# digits, "415\u2212555\u22120199", "090\u30fc1234\u30fc5678"; asked in two steps that each
# start with a class (see _WIDE_MARK)
# and the narrow spaces typography puts between digit groups (French: "4539\u202f1488"): figure,
# thin, hair and narrow no-break space
_NUMBER_PUNCTUATION = "\uff0d\uff0e\uff08\uff09\uff0f\u2010-\u2015\u2212\u30fc\ufe63\u2007\u2009\u200a\u202f"
_DIGIT_THEN_PUNCTUATION = re.compile(f"[0-9\uff10-\uff19][{_NUMBER_PUNCTUATION}]")
_PUNCTUATION_THEN_DIGIT = re.compile(f"[{_NUMBER_PUNCTUATION}][0-9\uff10-\uff19]")
# in the twin, the dashes as "-" where they stand between digits or brackets (not in words:
# "\u30b3\u30fc\u30d2\u30fc" keeps its marks); one character for one, so the twin is as long
_DASH_IN_NUMBER = re.compile("(?<=[0-9)])[\u2010-\u2015\u2212\u30fc\ufe63](?=[0-9(])")


def _typed_wide(text: str) -> bool:
    """Whether a text (not ASCII) holds what its ASCII twin is for (see _scan_typed)."""
    return (
        (_WIDE_MARK_CHAR.search(text) is not None and _WIDE_MARK.search(text) is not None)
        or (
            _WIDE_DIGIT.search(text) is not None
            and _LATIN_LETTER.search(text) is not None
            and _WIDE_DIGIT_BY_LETTER.search(text) is not None
        )
        or _DIGIT_THEN_PUNCTUATION.search(text) is not None
        or _PUNCTUATION_THEN_DIGIT.search(text) is not None
    )


def ascii_twin(text: str) -> str:
    """The text as the ASCII characters its full-width forms stand for, with the dashes other
    keyboards type between a number's digits as "-" (the same length: one character for one)."""
    twin = text.translate(_TWIN_TO_ASCII)
    return _DASH_IN_NUMBER.sub("-", twin) if not twin.isascii() else twin


# and the small form variants of "@" and "." (an address typed so: "jane\ufe6bexample.com")
_TWIN_TO_ASCII = (
    _WIDE_TO_ASCII | dict.fromkeys((0x2007, 0x2009, 0x200A, 0x202F), 0x20) | {0xFE6B: 0x40, 0xFE52: 0x2E}
)
CACHEABLE_LENGTH = LONG_TEXT
CACHE_ENTRIES = 4096
CANDIDATE_CHARGE = 128  # characters of the inline text budget a validated candidate uses (about 10 µs)
# Texts shorter than this are not screened: RE2 releases the GIL for each call, and a thread
# that lets go of it for a microsecond every few µs keeps every other thread waiting (each
# wakes to find it taken again): an app thread ending spans of short new strings kept another
# thread's file writes waiting 400 ms. A long text's call lasts long enough for them to run.
SCREEN_MIN_LENGTH = 1024
MARK_SETS = 1024  # plan lists kept by the marks a text holds (few differ in practice)
MAX_PIECES = 8  # of a rejected candidate, tried in runs (at most 27 runs); more: not retried
_WHOLE = re.compile(r"(?s:.+)")  # a match of a given span of a text, whatever it holds
# A recognizer's gates and pattern, read once: (index, recognizer, hints, folded_pattern,
# hint_pattern, min_digits (0 where it needs no digits), pattern)
_Gate: TypeAlias = "re.Pattern[str] | None"
_Plan: TypeAlias = tuple[int, Recognizer, tuple[str, ...], _Gate, _Gate, int, "re.Pattern[str]"]
_new_counts = Counter.__new__  # an empty Counter without __init__'s Python-level calls


def _add_counts(counts: Counter[str], found: Mapping[str, int]) -> None:
    for kind, count in found.items():
        counts[kind] += count


_SCREENS: dict[tuple[Recognizer, ...], Screen | None] = {}


def _shared_screen(chosen: tuple[Recognizer, ...]) -> Screen | None:
    """One screen per set of recognizers, shared by the redactors that use it (built in a few ms)."""
    try:
        return _SCREENS[chosen]
    except KeyError:
        screen = _SCREENS[chosen] = build_screen(chosen)
        return screen


# one thread compiles, others wait (see PiiRedactor.recognizers); re-entrant: a signal handler
# that scans (a SIGTERM flush) may run on a thread that is compiling, and must not wait for itself
_compiling = threading.RLock()


def _reset_compiling() -> None:
    global _compiling
    _compiling = threading.RLock()  # a child forked while another thread compiled


in_child(_reset_compiling)
_WORD_SCREENS: dict[frozenset[str], WordScreen | None] = {}


def _shared_word_screen(words: frozenset[str]) -> WordScreen | None:
    """One word screen per set of words, shared by the redactors that use it."""
    try:
        return _WORD_SCREENS[words]
    except KeyError:
        screen = _WORD_SCREENS[words] = build_word_screen(words)
        return screen


_NOT_ASCII_DIGIT = bytes(byte for byte in range(256) if not 0x30 <= byte <= 0x39)


def _count_digits(text: str) -> int:
    """How many characters of the text are decimal digits (re's ``\\d``: what the recognizers'
    patterns take for digits, so all a candidate or its piece holds)."""
    if text.isdecimal():  # a run of digits (a number's piece), of any script
        return len(text)
    if text.isascii():  # bytes.translate deletes the rest in C
        return len(text.encode().translate(None, _NOT_ASCII_DIGIT))
    return len(decimal_digits(text))  # which a validator then reads again, without a second pass


class PiiRedactor:
    """Finds and replaces PII and secrets in strings; safe to share between threads."""

    def __init__(
        self,
        style: Style = "label",
        hash_key: bytes | str | None = None,
        entities: Collection[str] | None = None,
        patterns: Mapping[str, str] | None = None,
        cache: bool = True,
        screen: bool = True,
    ) -> None:
        """``patterns`` adds named user patterns (see :func:`compile_pattern`: an unsafe one
        raises ``UnsafePatternError``); ``cache=False`` looks at every string afresh;
        ``screen=False`` does without the one-pass screen (:mod:`processors.pii.screen`), with
        the same results."""
        if style not in STYLES:
            raise ValueError(f"style {style!r} is not one of {', '.join(STYLES)}")
        if style == "hash" and not hash_key:
            raise ValueError("the hash style needs a hash_key")
        self.style = style
        self._key = hash_key.encode() if isinstance(hash_key, str) else hash_key
        answers: dict[str, tuple[str, Counter[str] | None]] = {}
        self._cache = answers if cache else None
        # What find() answered for short strings, for callers that look up before calling it
        # (a dict lookup costs less than a call): text -> (redacted, counts or None). Read only.
        self.answers: Mapping[str, tuple[str, Counter[str] | None]] = answers
        self.custom: tuple[CustomPattern, ...] = tuple(
            compile_pattern(entity, source) for entity, source in (patterns or {}).items()
        )
        self._timeouts = 0
        self._entities = None if entities is None else frozenset(entities)
        self._recognizers: tuple[Recognizer, ...] | None = None  # compiled at the first scan
        self._screen: Screen | None = None
        self._plans: list[_Plan] = []
        # the plans a text may need, by what digits it holds (none, some, a run of seven)
        self._by_digits: tuple[list[_Plan], list[_Plan], list[_Plan]] = ([], [], [])
        self._digit_based: frozenset[int] = frozenset()
        self._last = -1
        self._marks: list[frozenset[str] | None] = []  # by recognizer: what its gates need (gate_marks)
        self._mark_alphabet: frozenset[str] = frozenset()
        self._words: list[frozenset[str] | None] = []  # by recognizer: its gates' key words (gate_words)
        self._word_screen: WordScreen | None = None
        # plan lists by what a text holds: digits, marks, words (None: not known)
        self._by_marks: dict[tuple[int, frozenset[str], frozenset[str] | None], list[_Plan]] = {}
        self.use_screen = screen  # False: every recognizer is tried (the screen only saves time)
        self.screen_min_length = SCREEN_MIN_LENGTH  # shorter texts: every recognizer's own gates

    @property
    def recognizers(self) -> tuple[Recognizer, ...]:
        """The recognizers of the chosen entity types, in the order they apply."""
        if self._recognizers is None:
            with _compiling:  # a second thread waits for the first (warm) instead of compiling again
                if self._recognizers is None:
                    self._compile()
        assert self._recognizers is not None
        return self._recognizers

    def _compile(self) -> None:
        """Compile the chosen recognizers and what the screens need (once per redactor)."""
        wanted = self._entities
        chosen = tuple(r for r in recognizers() if wanted is None or r.entity in wanted)
        plans = [
            (i, r, r.hints, r.folded_pattern, r.hint_pattern, r.min_digits if r.digits else 0, r.pattern)
            for i, r in enumerate(chosen)
        ]
        self._plans = plans
        self._digit_based = frozenset(i for i, r in enumerate(chosen) if r.digits)
        self._by_digits = (
            [plan for plan in plans if not plan[1].digits],
            [plan for plan in plans if not plan[1].digit_run],
            plans,
        )
        self._last = len(chosen) - 1
        self._marks = [gate_marks(r) for r in chosen]
        self._mark_alphabet = frozenset().union(*(marks for marks in self._marks if marks))
        self._words = [gate_words(r) for r in chosen]
        if self.use_screen:
            self._word_screen = _shared_word_screen(frozenset().union(*(w for w in self._words if w)))
        self._screen = _shared_screen(chosen) if self.use_screen else None
        self._recognizers = chosen

    def warm(self) -> None:
        """Compile the patterns and load what the validators read (phone number metadata) now,
        not at the first text: about 0.2 s, which a background thread can spend at start-up
        instead of the app's first span."""
        self.find("warm up: jane.doe@example.com, +1 212 736 5000, 020 7946 0958, 4111 1111 1111 1111")

    def redact_text(self, text: str) -> str:
        """The text with every recognized value replaced."""
        return self.find(text)[0]

    def redact(self, text: str) -> tuple[str, Counter[str]]:
        """The redacted text and the number of values replaced per entity type (a fresh Counter)."""
        redacted, found = self.find(text)
        return redacted, Counter(found or {})

    def find(self, text: str) -> tuple[str, Counter[str] | None]:
        """Like :meth:`redact`, but ``None`` when nothing was found; the Counter must not be changed."""
        # Telemetry repeats itself (model names, routes, URLs, span names): a short string is
        # looked at once and the answer reused. The cache lives in this process's memory only.
        cache = self._cache
        if len(text) > CACHEABLE_LENGTH:  # never cached: not even hashed for a lookup
            charge_inline(len(text))  # on the app thread, past a budget: the chain's worker takes it
            cache = None
        hit = cache.get(text) if cache is not None else None
        if hit is not None:
            return hit
        if len(text) <= CACHEABLE_LENGTH:  # a short text met for the first time costs its scan too:
            charge_inline(len(text))  # thousands of new ones in one span send the span to the worker
        result = self._scan_typed(text)
        if ("*" in text or "__" in text or "`" in text or "|" in text or "<" in text or "]" in text) and (
            view := markup_view(text)
        ) is not None:
            result = self._scan_markup(view, *result)
        if (
            "%" in text
            or "&" in text
            or "\\" in text
            or "\x1b" in text
            or ("+" in text and _FORM_PLUS.search(text))
        ):
            # encodings (see encodings.py); a "+" only where form encoding may have written a space
            result = self._scan_encoded(*result)
        if len(text) >= MIN_BASE64 and (pieces := decoded_pieces(result[0])):
            result = self._scan_base64(pieces, *result)
        if cache is not None:
            bounded_put(cache, text, result, CACHE_ENTRIES)
        return result

    def _scan_base64(
        self, pieces: list[tuple[str, str]], text: str, found: Counter[str] | None
    ) -> tuple[str, Counter[str] | None]:
        """Each base64 piece whose decoded text holds a value replaced whole, labelled with the
        first kind found in it."""
        for piece, decoded in pieces:
            hit = self.find(decoded)[1] if len(decoded) <= CACHEABLE_LENGTH else self._scan_typed(decoded)[1]
            if hit is None or piece not in text:
                continue
            text = text.replace(piece, self.replacement(next(iter(hit)), piece))
            found = Counter(found or {})
            _add_counts(found, hit)
        return text, found

    def _scan_typed(self, text: str) -> tuple[str, Counter[str] | None]:
        """A text as written, and where typed with an East Asian input method, as the ASCII
        characters its full-width forms stand for ("\uff45\uff56\uff45\uff20…" is an address;
        "\uff53\uff4b\uff0d…" a key whole, not the number its digits make). Where that finds as
        much or more, the text is given back in those ASCII forms, the values replaced: fail
        closed, in one pass. (Decoded text too: JSON writes full-width forms as \\u escapes.)"""
        result = self._scan_plain(text)
        if not text.isascii() and _typed_wide(text):
            twin = self._scan_plain(ascii_twin(text))
            if twin[1] and sum(twin[1].values()) >= sum((result[1] or {}).values()):
                result = twin
        return result

    def _scan_plain(self, text: str) -> tuple[str, Counter[str] | None]:
        return self._scan(text) if text else (text, None)

    def _scan_markup(
        self, view: str, text: str, found: Counter[str] | None
    ) -> tuple[str, Counter[str] | None]:
        """The text's findings, or its markup-free view's where that finds more (see markup.py)."""
        seen = self._scan_typed(view)
        if seen[1] is not None and sum(seen[1].values()) > sum((found or {}).values()):
            return seen
        return text, found

    def _scan_encoded(self, text: str, found: Counter[str] | None) -> tuple[str, Counter[str] | None]:
        """Values hidden by an encoding ("uma%40example.com", "&#64;", "\\u0040") found in the
        decoded text and replaced in the encoded original."""
        if not any(self._scan_typed(view)[1] for view in decoded_views(text)):
            return text, found  # nothing hidden (one scan of the decoded text): the common case
        redacted_text, counts = self._replace_encoded(text, found)
        for view in decoded_views(redacted_text):
            whole, hit = self._scan_typed(view)
            if hit is not None:  # a value cut across pieces ("phone=415 555%2D0136"): fail closed,
                counts = Counter(counts or {})  # the whole text decoded, with it replaced
                _add_counts(counts, hit)
                return whole, counts
        return redacted_text, counts

    def _replace_encoded(self, text: str, found: Counter[str] | None) -> tuple[str, Counter[str] | None]:
        """Each encoded piece holding a value replaced in place, the rest of the text as it was."""
        out: list[str] = []
        at = 0
        counts = found
        for piece in encoded_pieces(text):
            if piece.start < at:  # the same piece read another way, already replaced
                continue
            redacted, hit = self._scan_typed(piece.text)
            if hit is None:
                continue
            decoded = piece.text
            shortest = min(len(decoded), len(redacted))
            head = 0
            while head < shortest and decoded[head] == redacted[head]:
                head += 1
            tail = 0
            while tail < shortest - head and decoded[-1 - tail] == redacted[-1 - tail]:
                tail += 1
            start, end = piece.original(head, len(decoded) - tail)
            out.append(text[at:start])
            out.append(redacted[head : len(redacted) - tail])
            at = end
            counts = Counter(counts or {})
            _add_counts(counts, hit)
        if not out:
            return text, found
        out.append(text[at:])
        return "".join(out), counts

    def _scan_custom(self, text: str, counts: Counter[str]) -> tuple[str, Counter[str] | None]:
        for custom in self.custom:
            try:
                text = custom.sub(partial(self._replace_custom, entity=custom.entity, counts=counts), text)
            except PatternTimeout:
                # Fail closed: what the pattern had no time to look at may hold what it is for.
                self._timeouts += 1
                if self._timeouts == 1:
                    _logger.warning(
                        "otel-distro: redaction pattern %s ran out of time on a value; such values are "
                        "replaced whole (further timeouts are not logged)",
                        custom.entity,
                    )
                counts[custom.entity] += 1
                return self.replacement(custom.entity, text), counts
        return text, counts or None

    def _replace_custom(self, match: re.Match[str], *, entity: str, counts: Counter[str]) -> str:
        counts[entity] += 1
        return self.replacement(entity, match.group(0))

    def _scan(self, text: str) -> tuple[str, Counter[str] | None]:
        counts: Counter[str] = _new_counts(Counter)  # Counter() runs two Python-level calls
        folded: str | None = None  # the text folded (fold), for recognizers' folded patterns
        skeleton: bytes | None = None  # its digit skeleton, for recognizers' min_digits
        skeleton_made = False
        self.recognizers  # noqa: B018 - compiled at the first scan
        allowed, todo = self._todo(text)
        last = self._last
        long_text = len(text) > LONG_TEXT  # each recognizer's pass over it is a step to pace
        restart = True
        while restart:
            restart = False
            for index, recognizer, hints, folded_pattern, hint_pattern, min_digits, pattern in todo:
                if long_text:
                    charge_inline(0)  # a background thread lets the app's threads run (see paced)
                if hints:
                    for hint in hints:  # inline: this runs for every recognizer
                        if hint in text:
                            break
                    else:
                        continue
                if folded_pattern is not None:
                    if folded is None:
                        folded = fold(text)
                    if folded_pattern.search(folded) is None:
                        continue
                if hint_pattern is not None and hint_pattern.search(text) is None:
                    continue
                if min_digits:
                    if not skeleton_made:
                        skeleton, skeleton_made = digit_skeleton(text), True
                    if skeleton is not None and b"0" * min_digits not in skeleton:
                        continue
                match = next(matches := pattern.finditer(text), None)
                if match is not None:
                    before = text
                    text = self._substitute(text, match, matches, recognizer, counts)
                    folded = None
                    skeleton_made = False
                    if index < last and text is not before:  # the later ones see the new text
                        # not screened again: a long text's findings are many, each a pass over it
                        todo = [plan for plan in allowed if plan[0] > index]
                        restart = True
                        break
        if self.custom:
            return self._scan_custom(text, counts)
        return text, counts or None

    def _todo(self, text: str) -> tuple[list[_Plan], list[_Plan]]:
        """The plans the text's digits allow (none, some, a run of seven: what digit-based
        recognizers need), and of those the ones to try, in order: those the screen says can
        match in a long text, else all of them."""
        screen = self._screen
        indices = screen(text) if screen is not None and len(text) >= self.screen_min_length else None
        if indices is not None:
            # no digit-based recognizer can match: no pass for digits
            allowed = self._by_digits[0 if self._digit_based.isdisjoint(indices) else self._digits(text)]
            wanted = set(indices)
            return allowed, [plan for plan in allowed if plan[0] in wanted]
        digits = self._digits(text)
        allowed = self._by_digits[digits]
        if not self.use_screen:
            return allowed, allowed
        # the recognizers whose gates could let the text through, by the marks and the key words
        # it holds (a C pass over the text each, and a plan list kept per what was met: a short
        # text's loop over every recognizer's gates cost more than its scan)
        words = self._word_screen
        key = (
            digits,
            self._mark_alphabet.intersection(text),
            None if words is None else words(fold(text)),
        )
        todo = self._by_marks.get(key)
        if todo is None:
            todo = bounded_put(self._by_marks, key, self._plans_for(allowed, key[1], key[2]), MARK_SETS)
        return allowed, todo

    def _plans_for(
        self, allowed: list[_Plan], marks: frozenset[str], words: frozenset[str] | None
    ) -> list[_Plan]:
        """The plans whose gates' marks and words (where known) the text holds."""
        todo = []
        for plan in allowed:
            need_marks, need_words = self._marks[plan[0]], self._words[plan[0]]
            if need_marks is not None and need_marks.isdisjoint(marks):
                continue
            if need_words is not None and words is not None and need_words.isdisjoint(words):
                continue
            todo.append(plan)
        return todo

    @staticmethod
    def _digits(text: str) -> int:
        """None, some, a run of seven: what digit-based recognizers need (an index of _by_digits)."""
        return 0 if _DIGIT.search(text) is None else 2 if _DIGIT_RUN.search(text) is not None else 1

    def _substitute(
        self,
        text: str,
        first: re.Match[str],
        rest: Iterator[re.Match[str]],
        recognizer: Recognizer,
        counts: Counter[str],
    ) -> str:
        """re.sub's work from the first match on (a search, then sub, would read the text twice);
        the text itself when every candidate was rejected."""
        replace = self._replace
        pieces: list[str] = []
        end = 0
        new = replace(first, recognizer, counts)
        if new is not None:
            pieces += (text[: first.start()], new)
            end = first.end()
        for match in rest:
            new = replace(match, recognizer, counts)
            if new is not None:
                pieces += (text[end : match.start()], new)
                end = match.end()
        if not pieces:
            return text
        pieces.append(text[end:])
        return "".join(pieces)

    def _replace(self, match: re.Match[str], recognizer: Recognizer, counts: Counter[str]) -> str | None:
        """What a candidate becomes; None where it stays as it is."""
        validate = recognizer.validate
        if validate is not None:
            charge_inline(CANDIDATE_CHARGE)  # a text of many candidates costs more than its length says
            digits = 0
            if recognizer.min_digits:
                whole = match.group(0)
                # fewer digits than the entity needs: neither the whole nor a part of it is one
                digits = len(whole) if whole.isdigit() else _count_digits(whole)
                if digits < recognizer.min_digits:
                    return None
            # more than it can have: not the whole (a part may be)
            if (recognizer.max_digits and digits > recognizer.max_digits) or not validate(match):
                if recognizer.parts is not None:
                    return self._replace_parts(match, recognizer, counts, digits)
                return None
        counts[recognizer.entity] += 1
        value = match.group(recognizer.group)
        replacement = self.replacement(recognizer.entity, value)
        if recognizer.group == 0:
            return replacement
        start, end = match.span(recognizer.group)
        whole_start = match.start()
        whole = match.group(0)
        return whole[: start - whole_start] + replacement + whole[end - whole_start :]

    def _replace_parts(
        self, match: re.Match[str], recognizer: Recognizer, counts: Counter[str], whole_digits: int = 0
    ) -> str | None:
        """The valid runs of pieces in a rejected candidate replaced, longest first, not
        overlapping; None where there are none."""
        whole = match.group(0)
        assert recognizer.parts is not None and recognizer.validate is not None
        if whole.isdigit() and whole.isascii():  # one run of ASCII digits: one piece
            return None
        need = recognizer.part_digits or recognizer.min_digits
        total = whole_digits or _count_digits(whole)  # the pieces' digits: separators hold none
        if total < need:  # no part of it has enough
            return None
        found = recognizer.parts.findall(whole)
        count = len(found)
        if count >= 5 and len(found[0]) >= 4 and not recognizer.part_leads and len(set(map(len, found))) == 1:
            # pieces of four digits or more, all of one length: numbers in a row ("4111 1111 1111
            # 1111 5500 0000 0000 0004", "8297 8273 6441 5349 2112 …"), read from the first as the
            # longest values they make (digits one or two apart, "1 2 3 4 …", make none)
            return self._replace_aligned(match, recognizer, counts, len(found[0]), count)
        if not 2 <= count <= MAX_PIECES:  # many pieces: a list of numbers, not a number beside some
            return None
        leads = recognizer.part_leads  # a run of several pieces starts with one of these
        if count == 2 or (leads and not any(piece[0] in leads for piece in found[:-1])):
            # no run of several pieces is tried (the longest leave out the first or the last
            # piece): each piece on its own, and those do not overlap
            return self._replace_pieces(match, recognizer, counts, need)
        # the whole was rejected: the longest runs leave out its first or its last piece, and a
        # run with fewer digits than the entity needs is not tried ("1234 1234 1234 1234": no call)
        if total - min(_count_digits(found[0]), _count_digits(found[-1])) < need:
            return None
        pieces = [piece.span() for piece in recognizer.parts.finditer(whole)]
        digits = [_count_digits(piece) for piece in found]
        longest = len(pieces) - 1
        ends = list(accumulate(digits))
        runs = sorted(
            (
                (first, last)
                for first in range(len(pieces))
                for last in range(first, min(first + longest, len(pieces)))
                if ends[last] - (ends[first - 1] if first else 0) >= need
                and (first == last or not leads or whole[pieces[first][0]] in leads)
            ),
            key=lambda run: (pieces[run[0]][0] - pieces[run[1]][1], run[0]),
        )
        text, offset = match.string, match.start()
        taken: list[tuple[int, int]] = []
        for first, last in runs:
            if any(first <= end and start <= last for start, end in taken):
                continue
            part = recognizer.pattern.fullmatch(text, offset + pieces[first][0], offset + pieces[last][1])
            charge_inline(CANDIDATE_CHARGE)
            if part is not None and recognizer.validate(part):
                taken.append((first, last))
        if not taken:
            return None
        out = whole
        for first, last in sorted(taken, reverse=True):  # from the end: earlier offsets stay right
            start, end = pieces[first][0], pieces[last][1]
            counts[recognizer.entity] += 1
            out = out[:start] + self.replacement(recognizer.entity, out[start:end]) + out[end:]
        return out

    def _replace_aligned(
        self, match: re.Match[str], recognizer: Recognizer, counts: Counter[str], length: int, count: int
    ) -> str | None:
        """_replace_parts for pieces of one length: each run of as many as a value can hold, from
        the first piece on, replaced where valid; None where none is."""
        assert recognizer.parts is not None and recognizer.validate is not None
        size = (recognizer.max_digits or 0) // length  # pieces a value holds at most
        if size < 1 or size * length < (recognizer.part_digits or recognizer.min_digits):
            return None
        whole = match.group(0)
        text, offset = match.string, match.start()
        pieces = [piece.span() for piece in recognizer.parts.finditer(whole)]
        out: list[str] = []
        at = 0
        for first in range(0, count - size + 1, size):
            start, end = pieces[first][0], pieces[first + size - 1][1]
            # (pieces of the pattern's own match, whole: the validator's match needs no pattern)
            part = _WHOLE.fullmatch(text, offset + start, offset + end)
            charge_inline(CANDIDATE_CHARGE)  # each is a candidate of its own (see _replace)
            if part is not None and recognizer.validate(part):
                counts[recognizer.entity] += 1
                out += (whole[at:start], self.replacement(recognizer.entity, whole[start:end]))
                at = end
        if not out:
            return None
        out.append(whole[at:])
        return "".join(out)

    def _replace_pieces(
        self, match: re.Match[str], recognizer: Recognizer, counts: Counter[str], need: int
    ) -> str | None:
        """_replace_parts where only single pieces are tried: each valid one replaced."""
        assert recognizer.parts is not None and recognizer.validate is not None
        whole = match.group(0)
        text, offset = match.string, match.start()
        pattern, validate = recognizer.pattern, recognizer.validate
        out: list[str] = []
        at = 0
        for piece in recognizer.parts.finditer(whole):
            value = piece.group()
            if len(value) < need or _count_digits(value) < need:
                continue
            start, end = piece.span()
            part = pattern.fullmatch(text, offset + start, offset + end)
            charge_inline(CANDIDATE_CHARGE)
            if part is not None and validate(part):
                counts[recognizer.entity] += 1
                out += (whole[at:start], self.replacement(recognizer.entity, value))
                at = end
        if not out:
            return None
        out.append(whole[at:])
        return "".join(out)

    def replacement(self, entity: str, value: str) -> str:
        """What a value of this entity type becomes, in this redactor's style."""
        if self.style == "mask":
            return "*" * len(value)
        if self.style == "hash":
            assert self._key is not None
            digest = hmac.new(self._key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
            return f"<{entity}:{digest[:12]}>"
        return f"<{entity}>"

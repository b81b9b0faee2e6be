"""``PiiRedactor``: replaces structured PII and secrets in text, on the fast path.

``PiiRedactor().redact_text(text)`` returns the text with every recognized value replaced
(``<EMAIL>``, ``<CREDIT_CARD>``, … by default; ``mask`` and keyed ``hash`` styles too).
``redact(text)`` also returns how many values of each entity type were replaced, never the
values themselves. Only the compiled patterns of :mod:`processors.pii.patterns` run here;
nothing is imported from presidio.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import Counter
from collections.abc import Collection
from functools import partial
from typing import Literal

from processors.pii.patterns import RECOGNIZERS, Recognizer

Style = Literal["label", "mask", "hash"]
STYLES: tuple[Style, ...] = ("label", "mask", "hash")
_DIGIT = re.compile(r"\d")
CACHEABLE_LENGTH = 256
CACHE_ENTRIES = 4096
# Every recognizer needs one of these characters in the text, except the bearer token and
# AWS keys (which may be all letters); those are screened by their words (_SCREEN_WORDS).
_SCREEN = re.compile(r"[\d@:=._-]")
_SCREEN_WORDS = ("earer", "AKIA", "ASIA")


def _any_in(hints: tuple[str, ...], text: str) -> bool:
    for hint in hints:  # noqa: SIM110 - a plain loop: no generator on the per-string path
        if hint in text:
            return True
    return False


class PiiRedactor:
    """Finds and replaces PII and secrets in strings; safe to share between threads."""

    def __init__(
        self,
        style: Style = "label",
        hash_key: bytes | str | None = None,
        entities: Collection[str] | None = None,
    ) -> None:
        if style not in STYLES:
            raise ValueError(f"style {style!r} is not one of {', '.join(STYLES)}")
        if style == "hash" and not hash_key:
            raise ValueError("the hash style needs a hash_key")
        self.style = style
        self._key = hash_key.encode() if isinstance(hash_key, str) else hash_key
        self._cache: dict[str, tuple[str, Counter[str] | None]] = {}
        self.recognizers: tuple[Recognizer, ...] = tuple(
            r for r in RECOGNIZERS if entities is None or r.entity in entities
        )

    def redact_text(self, text: str) -> str:
        """The text with every recognized value replaced."""
        return self.redact(text)[0]

    def redact(self, text: str) -> tuple[str, Counter[str]]:
        """The redacted text and the number of values replaced per entity type (a fresh Counter)."""
        redacted, found = self.find(text)
        return redacted, Counter(found or {})

    def find(self, text: str) -> tuple[str, Counter[str] | None]:
        """Like :meth:`redact`, but ``None`` when nothing was found; the Counter must not be changed."""
        # Telemetry repeats itself (model names, routes, URLs, span names): a short string is
        # looked at once and the answer reused. The cache lives in this process's memory only.
        hit = self._cache.get(text)
        if hit is not None:
            return hit
        if not text or (_SCREEN.search(text) is None and not _any_in(_SCREEN_WORDS, text)):
            result: tuple[str, Counter[str] | None] = (text, None)  # names, model ids, plain sentences
        else:
            result = self._scan(text)
        if len(text) <= CACHEABLE_LENGTH:
            if len(self._cache) >= CACHE_ENTRIES:
                self._cache.clear()
            self._cache[text] = result
        return result

    def _scan(self, text: str) -> tuple[str, Counter[str] | None]:
        counts: Counter[str] = Counter()
        has_digit: bool | None = None
        for recognizer in self.recognizers:
            if recognizer.hints and not _any_in(recognizer.hints, text):
                continue
            if recognizer.hint_pattern is not None and recognizer.hint_pattern.search(text) is None:
                continue
            if recognizer.digits:
                if has_digit is None:
                    has_digit = _DIGIT.search(text) is not None
                if not has_digit:
                    continue
            if recognizer.pattern.search(text) is not None:
                text = recognizer.pattern.sub(
                    partial(self._replace, recognizer=recognizer, counts=counts), text
                )
        return text, counts or None

    def _replace(self, match: re.Match[str], *, recognizer: Recognizer, counts: Counter[str]) -> str:
        if recognizer.validate is not None and not recognizer.validate(match):
            return match.group(0)
        counts[recognizer.entity] += 1
        value = match.group(recognizer.group)
        replacement = self._replacement(recognizer.entity, value)
        if recognizer.group == 0:
            return replacement
        start, end = match.span(recognizer.group)
        whole_start = match.start()
        whole = match.group(0)
        return whole[: start - whole_start] + replacement + whole[end - whole_start :]

    def _replacement(self, entity: str, value: str) -> str:
        if self.style == "mask":
            return "*" * len(value)
        if self.style == "hash":
            assert self._key is not None
            digest = hmac.new(self._key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
            return f"<{entity}:{digest[:12]}>"
        return f"<{entity}>"

"""The PII redaction processor: every text and string value of every signal passes the redactor.

Key rules come first: values under secret-named keys (``password``, ``authorization``,
``cookie``, ``api_key``, …) are replaced whole, keys on the allow-list (trace and span
ids by default) are never touched, and identifier keys (``user.id``, ``session.id``, …)
whose value holds PII get the keyed hash of the whole value, so users stay distinct and
joinable but unreadable. Other string values, span and event names, status descriptions and
log bodies go through :class:`PiiRedactor`; structured values (maps and lists at any depth,
as log attributes and bodies carry them) are walked with the same key rules at every level,
within depth and size limits past which the whole value is replaced. A redacted span or log
record carries ``otel_distro.redacted.<ENTITY>`` counts, never the values.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, deque
from collections.abc import Callable, Collection, Mapping
from collections.abc import Set as AbstractSet
from decimal import Decimal
from typing import Any

import orjson

from otel_distro import _sdk
from otel_distro.runtime.bounded import bounded_add, bounded_put
from otel_distro.runtime.errors import caught
from processors.inline_budget import LIST_ITEM_CHARGE, charge_inline
from processors.key_names import (
    ALLOW_KEYS,
    DENY_KEYS,
    KEYED_KINDS,
    NUMBER,
    compact_key,
    in_keyed_form,
    key_words,
    names_ids,
    names_secret,
    normalize,
    number_kind,
)
from processors.pii import PiiRedactor
from processors.pii.number_checks import is_card_digits
from processors.pii.redactor import CACHEABLE_LENGTH
from processors.rewrite import UNCHANGED, RecordRewriter
from processors.sql_values import unquoted
from processors.text_pairs import keyed_spans, may_hold

COUNT_PREFIX = "otel_distro.redacted."
DENIED = "<REDACTED>"
OVERSIZED = "<REDACTED:OVERSIZED>"  # a structure past the depth or size limit, replaced whole
MAX_DEPTH = 32  # nesting levels of a structured value walked
MAX_NODES = 100_000  # maps, lists and scalars of one structured value walked
_PLAIN, _DENIED, _ALLOWED, _ID, _RENAMED = 0, 1, 2, 3, 4
# A map of a model's log probabilities ({"token": "Hello", "logprob": -0.31}): its "token" is a
# piece of the generated text, read as text; a "token" anywhere else is a secret's name
_LOGPROBS_MARK = "logprob"
# (name key, id key): ids the GenAI helpers derive from a name when none is given
_DERIVED_IDS = (("gen_ai.agent.name", "gen_ai.agent.id"),)
_STRUCTURES = (list, tuple, Mapping, AbstractSet, deque)  # walked; sets and deques come out as lists
_RULES_LIMIT = 4096
# an identifier's pieces: apart by these marks, or where letters and digits meet
_ID_GLUE = re.compile(r"[_.:/|]+|(?<=[A-Za-z])(?=[+\d])|(?<=\d)(?=[A-Za-z])")
_DIGIT_SKELETON = re.compile(r"\D+")  # what is left of an id: its digits (8 or more: a number may hide)
_SQL_WORDS = frozenset({"NULL", "DEFAULT", "TRUE", "FALSE"})
_CLEAN_LIMIT = 8192
_SCALARS = frozenset({str, int, float, bool})
_CARD_INTS = 10**14  # the smallest int a card's 15 digits make


CUT = "<REDACTED:CUT>"
_NUMBER_GROUP = re.compile(r"[+(]?[\d().\-/]+")  # a group of a number written with spaces


def _last_space(text: str) -> int:
    return max(text.rfind(" "), text.rfind("\n"), text.rfind("\t"))


def cut_tail(text: str) -> tuple[str, bool] | None:
    """A value the SDK cut at its length limit ends in the head of its last word, maybe of a
    value no pattern can recognize any more ("jane.doe@exam", "+44 20 7946", a key's first 20
    characters, "jane.t"): that word and the groups of a number written with spaces before it
    (five at most) are left out, and where they held an "@" or a digit or were long, CUT stands
    in their place (True: such a head was there). A cut after a space leaves the last word whole,
    unless it is a number's group ("+44 20 7946 "). None where the text ends in a label, or in
    a space after a whole word."""
    body = text.rstrip()
    if not body or body.endswith(">"):
        return None
    start = _last_space(body) + 1
    if len(body) < len(text) and not _NUMBER_GROUP.fullmatch(body, start):
        return None
    for _ in range(5):
        head = body[:start].rstrip()
        space = _last_space(head)
        if not head or not _NUMBER_GROUP.fullmatch(head, space + 1):
            break
        start = space + 1
    dropped = body[start:]
    if "@" in dropped or len(dropped) >= 16 or any(c.isdigit() for c in dropped):
        return body[:start] + CUT, True
    return body[:start].rstrip(), False


def _add(counts: Counter[str], found: Mapping[str, int]) -> None:
    for kind, count in found.items():  # Counter.update's checks cost more than this loop
        counts[kind] += count


# JSON text's keys, quoted or escaped inside JSON ("cvv": …, \\"cvv\\": …): where one has a rule
_JSON_STARTS = "{["
_JSON_KEYS_ASKED = 64
_JSON_KEY = re.compile(r'\\*"([^"\\\n]{1,64})\\*"[ \t]*:')  # escaped once or more (JSON in JSON in JSON)
_DECODER = json.JSONDecoder()  # raw_decode: one JSON value from a place in a text, words after it
# a key in a text: JSON's ("k":), escaped JSON's (\"k\":), a repr's ('k':)
_PAIR_KEY = re.compile(r"""(\\?["'])([^"'\\\n]{1,64})\1[ \t]*:""")
# and its value: a string in the same quotes, or a number
_KEYED_PAIR = re.compile(
    r"""(?P<kq>\\?["'])(?P<key>[^"'\\\n]{1,64})(?P=kq)\s*:\s*"""
    r"""(?P<value>(?P<vq>"|')(?:(?!(?P=vq))[^\\\n]|\\.)*(?P=vq)"""  # JSON's or a repr's string
    r"""|(?P<eq>\\")(?:[^"\\\n]|\\\\.)*\\"|-?\d[\d .+()-]{0,40}\d|\d"""  # escaped JSON's, a number
    r"""|\[[^\[\]]{0,4096}\]"""  # a list of scalars (a repr's, pretty JSON's)
    r"""|\{[^{}]{0,4096}\})"""  # an object of scalars (under a secret's key: whole)
)
_LIST_ITEM = re.compile(r"""(?P<vq>"|')(?:(?!(?P=vq))[^\\\n]|\\.)*(?P=vq)|-?\d[\d .+()-]{0,40}\d|\d""")
# where a JSON object may start: a brace, and a key's quote after any spaces (pretty-printed)
_OBJECT_START = re.compile(r'\{\s*"')
_LONG_NUMBER = re.compile(r"(?<![\d.])\d{15,19}(?![\d.])")  # an int a card's length
_PAIR_MARKS = ('":', "':")  # what a keyed value needs: a quote, then ":" (JSON, a repr, escaped JSON)


def _may_hold_pairs(text: str) -> bool:
    """A cheap first look (substring searches, 10x faster than a regex over a long prompt)."""
    return any(mark in text for mark in _PAIR_MARKS)


_EMBEDDED_OBJECTS = 16  # places in one text where a JSON object is tried, at most


def _names_the_number(key: str) -> bool:
    """Whether a key within a phone's or card's map names its number ("number", "value"), not
    another field of it ("duration", "exp_month")."""
    return key.lower() in _NUMBER_FIELDS


_NUMBER_FIELDS = frozenset({"number", "num", "no", "value", "digits", "pan", "msisdn", "e164"})


def _compact(value: Any, exact: bool = False) -> str:
    """A structure written as compact JSON; ints past 64 bits and lone surrogates, which orjson
    refuses, written by json; and, ``exact``, NaN and infinities as json reads them (orjson
    writes null for them)."""
    if not exact:
        try:
            return orjson.dumps(value, default=str).decode()
        except TypeError:
            pass
    return json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))


class _TooLarge(Exception):
    """A structured value passed MAX_DEPTH or MAX_NODES."""


class RedactionProcessor(RecordRewriter):
    """Redacts PII and secrets in spans, logs and metrics before any exporter sees them.

    ``id_keys`` (user, session, conversation ids) holding PII become ``id_digest(value)``,
    the keyed hash of the whole value; without a digest those keys are redacted like any other.
    """

    count_prefix = COUNT_PREFIX
    owns_rewritten_attributes = True  # rewrite_attributes builds a new dict each time
    bounds_inline_text = True  # every text passes PiiRedactor.find, which charges the long ones

    def __init__(
        self,
        redactor: PiiRedactor | None = None,
        deny_keys: Collection[str] = DENY_KEYS,
        allow_keys: Collection[str] = ALLOW_KEYS,
        allow_values: Collection[str] = (),
        id_keys: Collection[str] = (),
        id_digest: Callable[[str], str] | None = None,
        cut_lengths: Collection[int | None] = (),
    ) -> None:
        """``cut_lengths``: the lengths the SDK cuts attribute values to (its span limits): a
        value of such a length may end in the head of a value (see :func:`cut_tail`)."""
        super().__init__()
        self.cut_lengths = frozenset(length for length in cut_lengths if length)
        self.redactor = redactor or PiiRedactor()
        self.deny_keys = frozenset(normalize(key) for key in deny_keys)
        self.allow_keys = frozenset(normalize(key) for key in allow_keys)
        self.allow_values = frozenset(allow_values)
        self.id_keys = frozenset(compact_key(key) for key in id_keys) if id_digest else frozenset()
        self.id_digest = id_digest
        self._ids: dict[str, tuple[str | None, Counter[str] | None]] = {}
        self._rules: dict[str, int] = {}
        # Two sets answer the common case in two C-level calls: every key of a mapping is plain
        # (neither denied nor allowed) and every value is known to need nothing under a plain
        # key (a short text with no finding, a number). Filled as values are first looked at.
        self._plain_keys: set[str] = set()
        self._clean: set[object] = set()
        self._renamed: dict[str, str] = {}  # keys that hold PII themselves -> redacted
        self._number_keys: dict[str, str] = {}  # keys whose numbers are read as text -> how (number_kind)
        self._id_keys: dict[str, bool] = {}  # key -> whether its ints are ids (never cards)
        self._pairless: set[str] = set()  # short texts with braces but no keyed value in them

    def _names_an_id(self, key: str, words: list[str]) -> bool:
        """An identifier key, whole or as the end of a longer one: its last part or two
        ("traceloop.association.properties.thread_id", "metadata.thread_id", "app.user.id")."""
        if "".join(words) in self.id_keys:
            return True
        parts = key.rsplit(".", 2)
        return len(parts) > 1 and any(
            compact_key(".".join(parts[-count:])) in self.id_keys for count in (1, 2) if count < len(parts)
        )

    def _key_rule(self, key: str) -> int:
        """How values under this key are treated; cached. _ALLOWED (trace and span ids), _ID
        (identifiers: the keyed hash where they hold PII), _DENIED (the key names a secret in any
        spelling), _RENAMED (the key itself holds PII: it is replaced too), else _PLAIN."""
        rule = self._rules.get(key)
        if rule is None:
            normalized = normalize(key)
            words = key_words(key)
            if key.startswith(COUNT_PREFIX) or normalized in self.allow_keys:
                rule = _ALLOWED
            elif self.id_keys and self._names_an_id(key, words):
                rule = _ID
            elif (
                normalized in self.deny_keys
                or normalized.rsplit(".", 1)[-1] in self.deny_keys
                or names_secret(words)
            ):
                rule = _DENIED
            else:
                redacted, found = self.redactor.find(key)
                rule = _PLAIN if found is None else _RENAMED
                if found is not None:
                    self._renamed[key] = redacted
            if len(self._rules) >= _RULES_LIMIT:
                self._rules.clear()
                self._plain_keys.clear()
                self._renamed.clear()
                self._number_keys.clear()
            self._rules[key] = rule
            if rule is _PLAIN:
                kind = number_kind(words)
                if kind is None:
                    self._plain_keys.add(key)
                else:
                    self._number_keys[key] = kind
        return rule

    def _known_clean(self, value: object) -> None:
        bounded_add(self._clean, value, _CLEAN_LIMIT)

    def rewrite_text(self, text: str, counts: Counter[str]) -> str | None:
        if text in self._clean:
            return None
        if text[:1] in _JSON_STARTS and (structured := self._json_text(text, counts)) is not None:
            return structured
        if text not in self._pairless and ("{" in text or may_hold(text)):
            # "webhook received: {…}": a log line's JSON after its words
            structured = self._embedded_json(text, counts) if "{" in text else None
            # "password1=…&…", "<pin>…</pin>", a SQL INSERT: by their keys' names
            paired = self._text_pairs(text if structured is None else structured, counts)
            if paired is not None or structured is not None:
                return paired if paired is not None else structured
            self._no_pairs(text)
        answer = self.redactor.answers.get(text) if len(text) <= CACHEABLE_LENGTH else None
        redacted, found = self.redactor.find(text) if answer is None else answer
        if len(text) in self.cut_lengths and (cut := cut_tail(text if found is None else redacted)):
            shorter, held = cut
            if found is not None:
                _add(counts, found)
            if held:
                counts["CUT"] += 1
            return shorter
        if found is None or (self.allow_values and text in self.allow_values):
            if len(text) <= CACHEABLE_LENGTH:  # a span's or event's name met again: one lookup
                self._known_clean(text)
            return None
        _add(counts, found)
        return redacted

    def rewrite_attributes(self, attrs: Mapping[str, Any], counts: Counter[str]) -> dict[str, Any] | None:
        values = _sdk.plain(attrs)
        try:
            if self._plain_keys.issuperset(values) and self._clean.issuperset(values.values()):
                return None
        except TypeError:  # an unhashable value (a list in a log body, say): looked at one by one
            pass
        out: dict[str, Any] | None = None
        rules = self._rules
        plain = self._plain_keys
        clean = self._clean
        answers = self.redactor.answers
        find = self.redactor.find
        for key, value in values.items():
            if key in plain and type(value) in _SCALARS and value in clean:
                continue
            rule = rules.get(key)
            if rule is None:
                rule = self._key_rule(key)
            if rule is _ALLOWED and type(value) in _SCALARS:
                continue
            if rule is _PLAIN and key not in plain:  # numbers under phone, card, ... keys: as text
                new = self._value(rule, value, counts, numbers=self._number_keys.get(key, NUMBER))
            elif rule is _PLAIN:  # the common cases, inlined
                kind = type(value)
                if (
                    kind is str
                    and (value in self._pairless or ("{" not in value and not may_hold(value)))
                    and len(value) not in self.cut_lengths
                ):
                    answer = answers.get(value) if len(value) <= CACHEABLE_LENGTH else None
                    redacted, found = find(value) if answer is None else answer
                    if found is None or value in self.allow_values:
                        if len(value) <= CACHEABLE_LENGTH:
                            self._known_clean(value)
                        continue
                    _add(counts, found)
                    new = redacted
                elif kind is float or kind is bool or (kind is int and value < _CARD_INTS):
                    self._known_clean(value)  # no text: nothing to redact
                    continue
                elif kind is int:  # 15 digits or more: a card kept as an int, unless the key names ids
                    new = self._card_int(value, counts, key)
                else:
                    new = self._value(rule, value, counts)
            else:
                new = self._value(rule, value, counts)
            if rule is _RENAMED:  # the key itself holds PII: it goes, its value is judged as usual
                if out is None:
                    out = dict(values)
                del out[key]
                out[self._renamed.get(key, DENIED)] = value if new is None else new
                _add(counts, self.redactor.find(key)[1] or {})
            elif new is not None:
                if out is None:
                    out = dict(values)
                out[key] = new
        return self._derived_ids(values, out)

    def _json_text(self, text: str, counts: Counter[str]) -> str | None:
        """JSON text (message content, tool-call arguments, JSON in JSON) where one of its keys has
        a rule of its own (a secret's name, a phone or SSN number's, an identifier's): redacted as
        the structure it encodes, so those rules apply as they do to structured values, then
        read as text once more (values cut across its strings); written compact where it
        changed. None where no key of it has such a rule, it is no JSON object or array within
        the limits, or nothing changed: then it is read as text only."""
        keys = set(_JSON_KEY.findall(text))
        # (many keys: the walk asks each anyway, at the cost the check would have); a long
        # number may be a card kept as an int, which the walk judges whatever its key
        if (
            len(keys) <= _JSON_KEYS_ASKED
            and "\\u" not in text  # a key written with \u escapes ("\u043f…"): read once parsed
            and not any(self._key_has_rule(key) for key in keys)
            and not _LONG_NUMBER.search(text)
        ):
            return None
        try:
            parsed = orjson.loads(text)
        except (ValueError, TypeError):  # not JSON after all (a log line that starts with "[")
            return None
        if not isinstance(parsed, dict | list):
            return None
        try:
            new = self._structure(parsed, counts, 0, [MAX_NODES])
        except (_TooLarge, RecursionError):  # too large to walk: read as text, as before
            return None
        if new is None:
            return None
        redacted, found = self.redactor.find(_compact(new))
        if found is not None:
            _add(counts, found)
        return redacted

    def _embedded_json(self, text: str, counts: Counter[str]) -> str | None:
        """Keyed values inside a text, after words and before others ("webhook received: {…}",
        as a log line writes one, escaped JSON in JSON, a Python dict's repr): the JSON objects
        among them redacted as :meth:`_json_text` redacts a text that is one, the words around
        them as they were; then each ``"key": value`` pair left whose key has a rule of its own
        (:meth:`_keyed_pairs`); then the whole read as text once more. None where no key in the
        text has such a rule."""
        if not _may_hold_pairs(text):  # no quote then ":" (a template's "{user_id}"): no key
            return None
        keys = {match[1] for match in _PAIR_KEY.findall(text)}
        if (
            len(keys) <= _JSON_KEYS_ASKED
            and not any(self._key_has_rule(key) for key in keys)
            and not _LONG_NUMBER.search(text)
        ):
            return None
        out: list[str] = []
        at = 0
        opening = _OBJECT_START.search(text)
        for _ in range(_EMBEDDED_OBJECTS):  # attempts, failed ones too: each may read to the end
            if opening is None:
                break
            start = opening.start()
            try:
                parsed, end = _DECODER.raw_decode(text, start)
            except (ValueError, RecursionError):  # a brace in prose, or too deep: the next one
                opening = _OBJECT_START.search(text, start + 1)
                continue
            try:
                new = self._structure(parsed, counts, 0, [MAX_NODES])
            except (_TooLarge, RecursionError):
                new = None
            if new is not None:
                out += (text[at:start], _compact(new, exact=True))
                at = end
            opening = _OBJECT_START.search(text, end)
        out.append(text[at:])
        written = self._keyed_pairs("".join(out), counts)
        redacted, found = self.redactor.find(written)
        if found is not None:
            _add(counts, found)
        return redacted

    def _text_pairs(self, text: str, counts: Counter[str]) -> str | None:
        """The keyed values written in a text (``password1=…``, ``('pin', '…')``, ``<otp>…</otp>``,
        a SQL INSERT's values by their columns: :mod:`processors.text_pairs`) judged by their
        keys' rules, as structured values are; then the whole read as text. None where no key in
        it has a rule of its own."""
        out: list[str] = []
        at = 0
        for column, start, stop in sorted(keyed_spans(text), key=lambda span: span[1]):
            if start < at or not self._key_has_rule(column):
                continue
            quote, inner = unquoted(text[start:stop])
            if not quote and inner.upper() in _SQL_WORDS:  # NULL, DEFAULT: no value
                continue
            scalar: Any = int(inner) if not quote and inner.isdigit() else inner
            new = self._value(self._key_rule(column), scalar, counts, numbers=self._number_keys.get(column))
            if new is not None and start >= at:
                out += (text[at:start], f"{quote}{new}{quote}")
                at = stop
        if not out:
            return None
        out.append(text[at:])
        redacted, found = self.redactor.find("".join(out))
        if found is not None:
            _add(counts, found)
        return redacted

    def _no_pairs(self, text: str) -> None:
        """Remember a short text whose braces hold no key with a rule (a route's "/users/{id}"):
        the attribute fast path takes it from then on."""
        if len(text) <= CACHEABLE_LENGTH:
            bounded_add(self._pairless, text, _CLEAN_LIMIT)

    def _keyed_pairs(self, text: str, counts: Counter[str]) -> str:
        """Each ``"key": "value"``, ``'key': 'value'``, ``\\"key\\": \\"value\\"`` or ``"key": 123``
        in the text whose key has a rule of its own, its value judged by that rule (what the
        structured walk does where the text did not parse: escaped, a repr, cut, or past the
        objects tried)."""

        def item(rule: int, key: str, value: str, quote: str) -> str | None:
            inner = value[len(quote) : len(value) - len(quote)] if quote else value
            scalar: Any = int(inner) if not quote and inner.isdigit() else inner
            new = self._value(rule, scalar, counts, numbers=self._number_keys.get(key))
            return None if new is None else f"{quote}{new}{quote}"

        generated = _LOGPROBS_MARK in text

        def judged(match: re.Match[str]) -> str:
            key, value = match.group("key"), match.group("value")
            ruled = self._key_has_rule(key) and not (generated and key == "token")
            head = match.group(0)[: match.start("value") - match.start(0)]
            if value.startswith("{"):  # an object: a secret's goes whole, else its own pairs
                if ruled and self._key_rule(key) is _DENIED:
                    counts["SECRET"] += 1
                    return f'{head}"{DENIED}"'
                return head + _KEYED_PAIR.sub(judged, value)
            if not ruled:  # a list may hold objects with pairs of their own
                return head + _KEYED_PAIR.sub(judged, value) if value.startswith("[") else match.group(0)
            rule = self._key_rule(key)
            if value.startswith("["):  # a list: each item judged ("recovery_codes": [...])
                if rule is _DENIED:
                    counts["SECRET"] += 1
                    return f'{head}"{DENIED}"'

                def each(found: re.Match[str]) -> str:
                    return item(rule, key, found.group(0), found.group("vq") or "") or found.group(0)

                return head + _LIST_ITEM.sub(each, value)
            new = item(rule, key, value, match.group("vq") or match.group("eq") or "")
            return match.group(0) if new is None else head + new

        return _KEYED_PAIR.sub(judged, text)

    def _key_has_rule(self, key: str) -> bool:
        """Whether values under this key are judged by a rule of the key (denied, an identifier,
        a number read as text), not as plain text only."""
        rule = self._key_rule(key)
        if rule is _PLAIN:
            return key not in self._plain_keys
        return rule is _DENIED or rule is _ID

    def _derived_ids(self, values: Mapping[str, Any], out: dict[str, Any] | None) -> dict[str, Any] | None:
        """``out``, where an id made from a name that held PII (``gen_ai.agent.id``: a uuid5 of
        the agent's name, which anyone can compute again from a guessed name) went the way of the
        name: the keyed hash of its value."""
        if out is None or self.id_digest is None:
            return out
        for name_key, id_key in _DERIVED_IDS:
            if id_key in values and name_key in values and out.get(name_key) is not values[name_key]:
                value = values[id_key]
                if out.get(id_key) is value and isinstance(value, str):
                    out[id_key] = self.id_digest(value)
        return out

    def _value(self, rule: int, value: Any, counts: Counter[str], numbers: str | None = None) -> Any:
        """The rewritten value under a key of this rule, or ``None`` when it stays as it is;
        ``numbers``: the key names a phone, card, ... number, so a number is read as text (see
        number_kind: where it names an entity with a bare form, a value in it is one)."""
        if numbers in KEYED_KINDS and (keyed := self._keyed(numbers, value, counts)):
            return keyed
        if rule is _DENIED:
            if value in (None, "", DENIED):
                return None
            counts["SECRET"] += 1
            return DENIED
        if rule is _ALLOWED and not isinstance(value, list | tuple | Mapping):
            return None
        if rule is _ID and isinstance(value, str | int) and not isinstance(value, bool):
            return self._identifier(str(value), counts)
        if isinstance(value, str):
            return self.rewrite_text(value, counts)
        if isinstance(value, bytes | bytearray):
            return self.rewrite_bytes(value, counts)
        if numbers and isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            return self._number_as_text(value, counts)
        if isinstance(value, _STRUCTURES):
            charge_inline(len(value) * LIST_ITEM_CHARGE)  # many short items: past the budget, the worker
            new = self._walk(value, counts, numbers)
            # an attribute's sequence stays a tuple, as the SDK keeps them
            return tuple(new) if isinstance(value, list) and isinstance(new, list) else new
        return self._other(value, counts)

    def _keyed(self, kind: str, value: Any, counts: Counter[str]) -> str | None:
        """The replacement of a value in the bare form its key names (nine digits under an SSN
        key), or None."""
        text = in_keyed_form(kind, value)
        if text is None:
            return None
        counts[kind] += 1
        return self.redactor.replacement(kind, text)

    def _number_as_text(self, value: Any, counts: Counter[str]) -> str | None:
        """A number under a phone, card, ... key read as the text it stands for."""
        if isinstance(value, float | Decimal) and not math.isfinite(value):
            return None  # NaN, infinity: no digits (int() of them raises)
        whole = not isinstance(value, int) and value == int(value)
        return self.rewrite_text(str(int(value)) if whole else str(value), counts)

    def _ints_are_ids(self, key: str) -> bool:
        """Whether the key names ids, counters or times, whose ints are never cards (names_ids)."""
        known = self._id_keys.get(key)
        if known is None:
            known = bounded_put(self._id_keys, key, names_ids(key_words(key)), _RULES_LIMIT)
        return known

    def _card_int(self, value: int, counts: Counter[str], key: str | None = None) -> str | None:
        """An int of 15 to 19 digits that is a card number (issuer range, Luhn) replaced as one
        ("payment.ref": 4111111111111111); ``None`` for any other int, or under a ``key`` that
        names ids, counters or times."""
        if not _CARD_INTS <= value < 10**19 or (key is not None and self._ints_are_ids(key)):
            return None
        digits = str(value)
        if not is_card_digits(digits):
            return None
        counts["CREDIT_CARD"] += 1
        return self.redactor.replacement("CREDIT_CARD", digits)

    def _other(self, value: Any, counts: Counter[str]) -> Any:
        """A value of another type (an object in a log body, a Decimal) is written as its text
        (``str()``, as every encoder does): that text redacted, or ``None`` where it holds nothing;
        one whose text cannot be had is replaced whole. An int may be a card (see _card_int)."""
        if type(value) is int:
            return self._card_int(value, counts)
        if value is None or isinstance(value, bool | int | float):
            return None
        try:
            text = str(value)
        except Exception as exc:  # noqa: BLE001 - an object whose __str__ fails: nothing of it is passed on
            caught("reading a value as text", exc)
            counts["UNREADABLE"] += 1
            return DENIED
        return self.rewrite_text(text, counts)

    def _walk(self, value: Any, counts: Counter[str], numbers: str | None = None) -> Any:
        """A structured value rewritten within the limits, else replaced whole; ``None``: unchanged.
        ``numbers``: it is under a phone, card, ... key, so the numbers of its lists are read as text."""
        try:
            return self._structure(value, counts, 0, [MAX_NODES], numbers)
        except (_TooLarge, RecursionError):
            counts["OVERSIZED"] += 1
            return OVERSIZED

    def _identifier(self, value: str, counts: Counter[str]) -> str | None:
        """The keyed hash of an identifier that holds PII (users stay distinct); else unchanged."""
        hit = self._ids.get(value)
        if hit is None:
            found = None if value in self.allow_values else self.redactor.find(value)[1]
            if found is None and value not in self.allow_values and _DIGIT_SKELETON.sub("", value)[7:8]:
                # a number glued to the id's other words ("whatsapp-447911123456", "tg_14155550187",
                # "user447911123403", "caller_415-555-0187_2024"): its pieces read apart, then with
                # dashes apart too (a false find only hashes an id)
                apart = _ID_GLUE.sub(" ", value)
                found = self.redactor.find(apart)[1] or self.redactor.find(apart.replace("-", " "))[1]
            assert self.id_digest is not None  # _ID is a rule only with a digest
            hit = (None if found is None else self.id_digest(value), found)
            if len(value) <= CACHEABLE_LENGTH:  # the same user's id recurs: hashed once
                bounded_put(self._ids, value, hit, _CLEAN_LIMIT)
        digest, found = hit
        if found is not None:
            _add(counts, found)
        return digest

    def _structure(
        self, value: Any, counts: Counter[str], depth: int, left: list[int], numbers: str | None = None
    ) -> Any:
        """A map or list rewritten at every depth (keys' rules apply at every level), or ``None``."""
        left[0] -= 1
        if depth >= MAX_DEPTH or left[0] < 0:
            raise _TooLarge
        if isinstance(value, Mapping):
            return self._map(value, counts, depth, left, numbers)
        return self._sequence(value, counts, depth, left, numbers)

    def _map(
        self,
        value: Mapping[Any, Any],
        counts: Counter[str],
        depth: int,
        left: list[int],
        within: str | None = None,
    ) -> Any:
        """A map's keys and values; ``within``: how the key it is under reads numbers (a card's
        ``{"number": 4111…}`` under "card"), for its keys that name none of their own."""
        out: dict[str, Any] | None = None
        named = self._named_secret(value)  # {"name": "DB_PASSWORD", "value": "..."}: the value goes
        if named is not None and value[named] not in (None, "", DENIED):
            counts["SECRET"] += 1
            value = {**value, named: DENIED}
            out = dict(value)
        generated = _LOGPROBS_MARK in value  # a logprobs entry: its token is text
        for key, item in value.items():
            name = key if isinstance(key, str) else str(key)
            new_key = self.rewrite_text(name, counts) if name else None
            rule = self._rules.get(name)
            if rule is None:
                rule = self._key_rule(name)
            if generated and name == "token" and isinstance(item, str):
                rule = _PLAIN
            numbers = (
                self._number_keys.get(name, NUMBER)
                if rule is _PLAIN and name not in self._plain_keys
                else within
                if rule is _PLAIN and within is not None and _names_the_number(name)
                else None
            )
            if isinstance(item, _STRUCTURES) and rule is not _DENIED:
                new = self._structure(item, counts, depth + 1, left, numbers)  # allowed keys' too
            elif rule is _PLAIN and type(item) is int and numbers is None and self._ints_are_ids(name):
                left[0] -= 1
                new = None  # an id, a count or a time: never a card
            else:
                left[0] -= 1
                new = self._value(rule, item, counts, numbers=numbers)
            if new is not None or new_key is not None:
                if out is None:
                    out = {k if isinstance(k, str) else str(k): v for k, v in value.items()}
                if new_key is not None:
                    del out[name]
                out[name if new_key is None else new_key] = item if new is None else new
        return out

    def _sequence(
        self, value: Any, counts: Counter[str], depth: int, left: list[int], numbers: str | None = None
    ) -> Any:
        items: list[Any] | None = None
        secret_next = False  # the item before named a secret ("--password", "Authorization")
        for index, item in enumerate(value):
            new: Any = None
            if secret_next and isinstance(item, str | bytes) and item not in ("", DENIED):
                counts["SECRET"] += 1
                new = DENIED
            elif (
                numbers is not None
                and numbers is not NUMBER
                and (keyed := self._keyed(numbers, item, counts))
            ):
                new = keyed
            elif isinstance(item, str):
                new = self.rewrite_text(item, counts)
            elif isinstance(item, _STRUCTURES):
                new = self._structure(item, counts, depth + 1, left, numbers)
            elif isinstance(item, bytes | bytearray):
                new = self.rewrite_bytes(item, counts)
            elif numbers and isinstance(item, int | float | Decimal) and not isinstance(item, bool):
                new = self._number_as_text(item, counts)  # [14155550199] under "phone_numbers"
            else:
                new = self._other(item, counts)
            left[0] -= 0 if isinstance(item, _STRUCTURES) else 1
            secret_next = isinstance(item, str) and not secret_next and self._names_secret(item)
            if new is not None:
                if items is None:
                    items = list(value)
                items[index] = new
        if items is None:
            return None if isinstance(value, list | tuple) else list(value)  # sets, deques: as lists
        return tuple(items) if isinstance(value, tuple) else items

    def _names_secret(self, text: str) -> bool:
        """A list item that names a secret, so the next item is one: "--password", "Authorization"
        (argv lists, header pairs)."""
        if len(text) > 64 or " " in text:
            return False
        name = text.lstrip("-")
        rule = self._rules.get(name)
        if rule is None:
            rule = self._key_rule(name)
        return rule is _DENIED

    def _named_secret(self, value: Mapping[Any, Any]) -> str | None:
        """In a {"name": ..., "value": ...} pair (environment entries, headers, form fields)
        whose name names a secret, the key of the value."""
        for name_key in ("name", "key"):
            name = value.get(name_key)
            if isinstance(name, str) and "value" in value and len(value) <= 4 and self._names_secret(name):
                return "value"
        return None

    def _body(self, body: Any, counts: Counter[str]) -> Any:
        """A log body: text (and bytes, read as text) as text, a structure walked as attribute
        values are, another object as the text it is written as."""
        if isinstance(body, str | bytes | bytearray):
            return super()._body(body, counts)
        new = self._walk(body, counts) if isinstance(body, _STRUCTURES) else self._other(body, counts)
        return UNCHANGED if new is None else new

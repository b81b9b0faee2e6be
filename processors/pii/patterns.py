"""The fast path's recognizers: compiled patterns, each with a validator that confirms a match.

Every recognizer names one entity type. Patterns find candidates; validators (Luhn for
cards, mod-97 for IBANs, ``ipaddress`` for IPs, ``phonenumbers`` for phone numbers,
entropy for generic secrets) reject look-alikes such as trace ids, versions and timestamps.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections import Counter
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
    hint_pattern: re.Pattern[str] | None = None  # must match somewhere (a fast pattern: it scans)
    # Must match the casefolded text: a case-insensitive gate without (?i), which makes ``re``
    # scan a long text several times slower (casefolding keeps every case a (?i) pattern matches).
    folded_pattern: re.Pattern[str] | None = None


# What may stand between the digits of a card or phone number: spaces, dots, dashes, brackets,
# a plus, and the letters of an extension ("x", "ext."); whitespace as ``\s`` sees it in ASCII.
NUMBER_SEPARATORS = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f.-()+ext"
_SKELETON = bytes.maketrans(b"0123456789", b"0000000000")


def digit_skeleton(text: str) -> bytes | None:
    """The text with every digit as ``0`` and NUMBER_SEPARATORS removed (None unless ASCII).

    A number whose digits are apart only by those separators becomes a run of zeros, so
    ``b"0" * n in skeleton`` is necessary for such a number of n digits.
    """
    if not text.isascii():  # other scripts' digits are digits to the patterns too
        return None
    return text.encode("ascii").translate(_SKELETON, NUMBER_SEPARATORS)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def luhn_valid(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = ord(char) - 48
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


_MAESTRO_12 = ("5018", "5020", "5038", "6304", "6759", "6761", "6762", "6763")


def _card_prefix(number: str) -> bool:
    """Issuer ranges: Visa 4, Amex/Diners/JCB 3, Mastercard 51-55 and 2221-2720, Discover and
    Maestro 5/6, and the legacy 15-digit JCB ranges 1800 and 2131."""
    if number[0] in "3456":
        return len(number) >= 13 or number.startswith(_MAESTRO_12)
    if number[0] == "2":
        return 222100 <= int(number[:6]) <= 272099 or (len(number) == 15 and number.startswith("2131"))
    return len(number) == 15 and number.startswith("1800")


_MAESTRO_GROUPED = re.compile(r"(?:50|5[6-9]|6\d)\d\d([ -])\d{4}\1\d{4}")


def _card(match: re.Match[str]) -> bool:
    number = _digits(match.group(0))
    if len(number) == 12 and _MAESTRO_GROUPED.fullmatch(match.group(0)):  # printed 4-4-4: Maestro
        return luhn_valid(number)
    return 12 <= len(number) <= 19 and _card_prefix(number) and luhn_valid(number)


def iban_valid(candidate: str) -> bool:
    compact = candidate.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    try:
        return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1
    except ValueError:
        return False


def _ipv4(match: re.Match[str]) -> bool:
    text = match.string
    start, end = match.span()
    # "1.2.3.4.5" or "v1.2.3.4" are versions, not addresses.
    if end < len(text) and text[end] == "." and end + 1 < len(text) and text[end + 1].isdigit():
        return False
    if text.endswith("rv:", 0, start):  # a Gecko version in a user agent: "rv:1.9.0.20"
        return False
    if start >= 2 and text[start - 1] == "/" and text[start - 2].isalpha():
        return False  # a product version: "Chrome/124.0.0.0" (an address in a URL follows "//")
    return not (start and text[start - 1] in "vV.")


def _ipv6(match: re.Match[str]) -> bool:
    candidate = match.group(0)
    if candidate.count(":") < 2:
        return False
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return True


# Regions whose national formats (no "+") are tried, in this order; a "+" number needs none.
PHONE_REGIONS = ("US", "GB", "DE", "FR", "IT", "ES", "NL", "JP", "IN", "BR", "CA", "AU", "MX", "CN")
BARE_PHONE_REGIONS = ("US", "IN", "IT")
# Which of PHONE_REGIONS a national number can belong to, by its first digit: a trunk "0" is
# not dialled in North America, Spain or Mexico; North American numbers start 2-9 (or 1, the
# country code); the other regions' numbers written without their trunk "0" start 2-9 too.
_REGIONS_BY_FIRST_DIGIT = {
    "0": ("GB", "DE", "FR", "IT", "NL", "JP", "IN", "BR", "AU", "CN"),
    "1": ("US", "CA", "CN", "BR"),
}
_REGIONS_OTHERWISE = ("US", "CA", "IT", "ES", "IN", "BR", "MX", "CN", "AU", "JP")


def _regions_for(first_digit: str) -> tuple[str, ...]:
    return _REGIONS_BY_FIRST_DIGIT.get(first_digit, _REGIONS_OTHERWISE)


_DATE_LIKE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}")


_PHONE_VERDICTS: dict[str, bool] = {}  # candidate text -> a valid number? (phonenumbers is slow)
_PHONE_VERDICTS_LIMIT = 4096


def _phone(match: re.Match[str]) -> bool:
    candidate = match.group(0)
    if len(candidate) < 8:  # fewer than 8 characters cannot hold 8 digits (times, versions, counts)
        return False
    digits = _digits(candidate)
    if not 8 <= len(digits) <= 15 or _DATE_LIKE.match(candidate):
        return False
    end = match.end()
    text = match.string
    if end < len(text) and text[end] == ":" and text[end + 1 : end + 2].isdigit():
        return False  # "2024-05-05 06:47": a date and an hour
    # A number recurs in texts too long to cache whole (a conversation resent at each turn):
    # the verdict on the number itself is kept, so phonenumbers looks at it once.
    verdict = _PHONE_VERDICTS.get(candidate)
    if verdict is None:
        verdict = _valid_phone(candidate, digits)
        if len(_PHONE_VERDICTS) >= _PHONE_VERDICTS_LIMIT:
            _PHONE_VERDICTS.clear()
        _PHONE_VERDICTS[candidate] = verdict
    return verdict


def _valid_phone(candidate: str, digits: str) -> bool:
    import phonenumbers

    if candidate.lstrip().startswith("+"):
        attempts: tuple[tuple[str, str | None], ...] = ((candidate, None),)
    elif not candidate.isdigit() or candidate[0] == "0":  # formatted, or with a trunk prefix
        attempts = tuple((candidate, region) for region in _regions_for(digits[0]))
    elif len(candidate) >= 11:
        attempts = (("+" + candidate, None),)  # an MSISDN: the international number without "+"
    else:  # bare digits: only regions whose numbers cannot be read as epoch seconds and such
        attempts = tuple((candidate, region) for region in BARE_PHONE_REGIONS)
    for number, region in attempts:
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            continue
        # The region it was read in (or its country's main one) answers most numbers at a
        # third of the cost of the full check, which tries each region sharing the country code.
        main = region or phonenumbers.region_code_for_country_code(parsed.country_code or 0)
        if phonenumbers.is_valid_number_for_region(parsed, main) or phonenumbers.is_valid_number(parsed):
            return True
    return False


def shannon_entropy(text: str) -> float:
    counts = Counter(text)
    length = len(text)
    return -sum(n / length * math.log2(n / length) for n in counts.values())


_PASSWORD_WORDS = re.compile(r"(?i)passw(?:or)?d|pwd")


def _secret_value(match: re.Match[str]) -> bool:
    """After a password-like word, any value is a secret; after key/token words, a random-looking one."""
    value = match.group(2)
    if value.startswith("<"):  # already redacted
        return False
    if _PASSWORD_WORDS.fullmatch(match.group(1)):
        return True
    return len(value) >= 8 and shannon_entropy(value) >= 3.0


# The words that announce a secret (not a secret themselves).
_SECRET_KEY_WORDS = (
    r"(?:api[_-]?key|apikey|secret|token|passw(?:or)?d|pwd|access[_-]?key|client[_-]?secret|auth)"  # noqa: S105
)
# How each of _SECRET_KEY_WORDS ends, then what must follow it: on the casefolded text.
_SECRET_GATE = re.compile(r"(?:key|secret|token|passw(?:or)?d|pwd|auth)[\"']?\s*[:=]")

# Speed on long texts: ``re`` skips ahead only to where a pattern's first character can match,
# and only when the pattern starts with a character (a literal or a class), not with ``\b`` or
# a lookbehind. So patterns start with a character and check the boundary behind it:
# ``\d(?<!\w\d)`` is ``\b\d``; a lookahead such as ``(?=\d)`` does the same where the first
# character opens alternatives. On 2.4 KB of prose with dates and versions this makes a pattern
# 2-4x faster. Gates (``hints``, ``hint_pattern``, ``folded_pattern``: necessary for a value the
# recognizer replaces, so exact) keep the slow patterns off texts that cannot hold one.
RECOGNIZERS: tuple[Recognizer, ...] = (  # applied in this order
    Recognizer(
        "PRIVATE_KEY",
        # A PEM, OpenSSH or PGP private key block, replaced whole (first, so nothing inside it is
        # counted as anything else): to its END line or, cut short (an attribute truncated by a
        # length limit), to the next END line or the end of the text.
        re.compile(
            r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:(?!-----END)[\s\S])*"
            r"(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----)?"
        ),
        hints=("PRIVATE KEY",),
    ),
    Recognizer(
        "CREDENTIALS",
        re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://([^\s:/@]+:[^\s@/]+)@"),
        group=1,
        hints=("://",),
        hint_pattern=re.compile(r"://[^\s/@]*@"),  # user info before a host
    ),
    Recognizer(
        "JWT", re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"), hints=("eyJ",)
    ),
    Recognizer(
        "BEARER_TOKEN", re.compile(r"\b[Bb]earer\s+([A-Za-z0-9\-._~+/]{8,}=*)"), group=1, hints=("earer",)
    ),
    Recognizer(
        "API_KEY", re.compile(r"\bsk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_-]{20,}"), hints=("sk-",)
    ),
    Recognizer("API_KEY", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), hints=("AKIA", "ASIA")),
    Recognizer(
        "API_KEY",
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})"),
        hints=("gh", "github_pat_"),
    ),
    Recognizer("API_KEY", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), hints=("xox",)),
    Recognizer(  # Google (AIza), Stripe secret and restricted keys, GitLab, Hugging Face and npm tokens
        "API_KEY",
        re.compile(
            r"\b(?:AIza[0-9A-Za-z_-]{35}(?![\w-])|[rs]k_(?:live|test)_[0-9A-Za-z]{20,}"
            r"|glpat-[0-9A-Za-z_-]{20,}|hf_[A-Za-z0-9]{34,}\b|npm_[A-Za-z0-9]{36,}\b)"
        ),
        hints=("AIza", "k_live_", "k_test_", "glpat-", "hf_", "npm_"),
    ),
    Recognizer(  # a Slack webhook's path is its secret
        "API_KEY",
        re.compile(r"hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9_/-]{20,})"),
        group=1,
        hints=("hooks.slack.com/",),
    ),
    Recognizer(
        "SECRET",
        re.compile(
            rf"(?i)(?<![a-z0-9])({_SECRET_KEY_WORDS})[\"']?\s*[:=]\s*[\"']?((?:[^\s\"',;&]|&(?!\w+=))+)"
        ),
        validate=_secret_value,
        group=2,
        hints=(":", "="),  # between the word and the value
        folded_pattern=_SECRET_GATE,
    ),
    Recognizer(
        "EMAIL",
        re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"),
        hints=("@",),
        hint_pattern=re.compile(r"@[A-Za-z0-9-]+\."),  # a domain after the @
    ),
    Recognizer(
        "US_SSN",
        re.compile(r"\d(?<!\w\d)\d\d(?<!000)(?<!666)(?<!9\d\d)-(?!00)\d{2}-(?!0000)\d{4}\b"),
        hints=("-",),
        hint_pattern=re.compile(r"-\d\d-\d{4}"),  # dates (2024-05-06) do not pass
        digits=True,
        digit_run=True,
    ),
    Recognizer(
        "CREDIT_CARD",
        re.compile(r"\d(?<!\w\d)(?:[ -]?\d){11,18}\b"),
        validate=_card,
        digits=True,
        digit_run=True,
        min_digits=12,
    ),
    Recognizer(
        "IBAN_CODE",
        re.compile(r"[A-Z](?<!\w[A-Z])[A-Z]\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"),
        validate=lambda m: iban_valid(m.group(0)),
        digits=True,
        digit_run=True,
    ),
    Recognizer(
        "IP_ADDRESS",
        re.compile(r"(?=\d)(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b"),
        validate=_ipv4,
        hints=(".",),
        hint_pattern=re.compile(r"\.\d{1,3}\.\d{1,3}\.\d"),  # versions (2.3.1) do not pass
        digits=True,
    ),
    Recognizer(
        "IP_ADDRESS",
        re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:|:){2,7}(?::|[0-9A-Fa-f]{1,4})(?![\w:])"),
        validate=_ipv6,
        hints=(":",),
        # what an address needs to be valid: "::", or eight groups (times such as 10:45:00 do not pass)
        hint_pattern=re.compile(r"::|:(?:[0-9A-Fa-f]{1,4}:){6}"),
    ),
    Recognizer(
        "PHONE_NUMBER",
        re.compile(
            r"(?=[\d+(])(?<![\w+.-])(?<!\d:)"
            # at least 8 digits, apart by what the pattern allows between them (_phone needs 8):
            # a number's worth of digits in a long text no longer costs a validator call
            r"(?=[+(]?(?:[ .()-]{0,3}\d|\s?(?:x|ext\.?)\s?\d){8})"
            r"(?:\+\d{1,3}[ .-]?(?:\(0\)[ .-]?)?\d{6,12}"  # compact: +91 9817107418
            r"|(?:\+\d{1,3}[ .-]?(?:\(0\)[ .-]?)?)?(?:\(\d{1,5}\)[ .-]?)?\d{1,15}(?:[ .-]\d{1,8}){0,5})"
            r"(?:\s?(?:x|ext\.?)\s?\d{1,6})?"  # an extension: (714)222-2825x4548
            r"(?![\w-]|\.\d)"
        ),
        validate=_phone,
        digits=True,
        digit_run=True,
        min_digits=8,  # what _phone needs
    ),
)


ENTITIES: tuple[str, ...] = tuple(dict.fromkeys(recognizer.entity for recognizer in RECOGNIZERS))

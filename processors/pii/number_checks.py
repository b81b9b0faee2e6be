"""Validators for number-shaped values: card numbers (Luhn, issuer ranges), IBANs (mod-97),
IP addresses, phone numbers (``phonenumbers``), and the contexts that say a number is something
else (a time, an id, an amount, a version)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Protocol, TypeAlias

from otel_distro.runtime.bounded import bounded_put
from processors.inline_budget import charge_inline
from processors.pii.recognizer import DIGIT_BLOCKS

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


# every decimal digit re's \d matches, to its ASCII digit (the rest left as it is)
TO_ASCII_DIGITS = {first + value: 0x30 + value for first in DIGIT_BLOCKS for value in range(10)}


_NOT_DECIMAL = re.compile(r"\D+")  # re's \d is str.isdecimal: Unicode category Nd
_NOT_ASCII_DIGIT = bytes(byte for byte in range(256) if not 0x30 <= byte <= 0x39)
_is_decimal = str.isdecimal


# the last text decimal_digits read, and its digits: the redactor counts a candidate's digits
# and its validator then reads them (a tuple: replaced whole, so threads read a consistent pair)
_last_read: tuple[str, str] = ("", "")


def decimal_digits(text: str) -> str:
    """The decimal digits of a text (re's \\d: str.isdecimal), as ASCII digits (full-width and
    other scripts' digits too)."""
    global _last_read
    if text.isdecimal():  # a number's digits alone
        if text.isascii():  # ASCII: as it is
            return text
        if len(text) <= 64:  # int() reads any script's decimal digits (a quarter of translate's
            return str(int(text)).zfill(len(text))  # dict lookups, a sixth of a filter and translate)
    last_text, last_digits = _last_read
    if text == last_text:
        return last_digits
    if text.isascii():  # ASCII: its digits are 0-9, which bytes.translate keeps in C
        digits = text.encode().translate(None, _NOT_ASCII_DIGIT).decode()
    else:
        # (a candidate is short: filtering it costs half a pattern's call; a long text, less by pattern)
        digits = "".join(filter(_is_decimal, text)) if len(text) <= 64 else _NOT_DECIMAL.sub("", text)
        if not digits.isascii():
            digits = digits.translate(TO_ASCII_DIGITS)
    _last_read = (text, digits)
    return digits


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
    """Issuer ranges: Visa 4, Amex/Diners/JCB 3, Mastercard 51-55 and 2221-2720 (16 digits),
    Discover and Maestro 5/6, Mir 2200-2204, RuPay 81-82, Troy 9792, and the legacy 15-digit
    JCB ranges 1800 and 2131."""
    first = number[0]
    if first in "3456":
        return len(number) >= 13 or number.startswith(_MAESTRO_12)
    if first == "2":
        if number.startswith(("2200", "2201", "2202", "2203", "2204")):  # Mir
            return len(number) >= 16
        return (len(number) == 16 and 222100 <= int(number[:6]) <= 272099) or (
            len(number) == 15 and number.startswith("2131")
        )
    if first in "89":  # RuPay, Troy
        return len(number) == 16 and number.startswith(("81", "82", "9792"))
    return len(number) == 15 and number.startswith("1800")


_MAESTRO_GROUPED = re.compile(r"(?:50|5[6-9]|6\d)\d\d([ -])\d{4}\1\d{4}")


_CARD_GROUPS = re.compile(r"[ \u00a0-]+")


def is_card_number(match: re.Match[str]) -> bool:
    candidate = match.group(0)
    number = decimal_digits(candidate)
    # the issuer ranges first: most number-shaped candidates (lists, ids) fail them
    if not 12 <= len(number) <= 19:
        return False
    maestro = len(number) == 12 and _MAESTRO_GROUPED.fullmatch(candidate) is not None  # printed 4-4-4
    if not maestro and not _card_prefix(number):
        return False
    if candidate.isdigit() and _after_id_key(match.string, match.start()):
        return False  # "dd.trace_id=6426281050389817665": an id whose digits pass Luhn
    groups = _CARD_GROUPS.split(candidate)
    if len(groups) > 1:
        lengths = {len(group) for group in groups}
        if 5 in lengths and 6 not in lengths:
            # a card prints a group of five digits only after one of six (Amex: 4-6-5): this is a
            # list of numbers ("18103 93901 68669", "44128 8301 61102")
            return False
        if len(groups) >= 3 and len(groups[0]) != 4:
            # every card's printed groups start with four digits (4-4-4-4, Amex's 4-6-5): not a
            # phone number and half a card ("650 253 0000 5500 0000" of "+1 650 253 0000 5500 …")
            return False
    return luhn_valid(number)


def is_card_digits(number: str) -> bool:
    """ASCII digits of a card's length (15 to 19) in an issuer's range that pass Luhn."""
    return 15 <= len(number) <= 19 and _card_prefix(number) and luhn_valid(number)


def is_grouped_card_number(match: re.Match[str]) -> bool:
    """A card written in its printed groups (4-4-4-4 and up to three digits more, or Amex's
    4-6-5) with another separator than a space or a dash ("4111.1111.1111.1111",
    "4111_1111_1111_1111"): the issuer's range and Luhn."""
    number = decimal_digits(match.group(0))
    return 15 <= len(number) <= 19 and _card_prefix(number) and luhn_valid(number)


def iban_valid_named(match: re.Match[str]) -> bool:
    """An IBAN after the word "IBAN", in any case ("iban gb82 west 1234 5698 7654 32"): its
    country's length exactly, eight digits or more after the check digits, and mod-97."""
    candidate = match.group(1)
    compact = candidate.replace(" ", "").replace("\u00a0", "").replace("-", "").upper()
    if _IBAN_LENGTHS.get(compact[:2]) != len(compact) or sum(ch.isdigit() for ch in compact[4:]) < 8:
        return False
    return iban_valid(compact)


# IBAN lengths by country (ISO 13616 registry), for IBANs written with dashes: a code of
# letters and digits in groups of four ("AB12-CD34-…") is more often a licence key or an order
# number, so its country and length must fit too.
_IBAN_LENGTHS = {
    "AD": 24,
    "AE": 23,
    "AL": 28,
    "AT": 20,
    "AZ": 28,
    "BA": 20,
    "BE": 16,
    "BG": 22,
    "BH": 22,
    "BR": 29,
    "BY": 28,
    "CH": 21,
    "CR": 22,
    "CY": 28,
    "CZ": 24,
    "DE": 22,
    "DK": 18,
    "DO": 28,
    "EE": 20,
    "EG": 29,
    "ES": 24,
    "FI": 18,
    "FO": 18,
    "FR": 27,
    "GB": 22,
    "GE": 22,
    "GI": 23,
    "GL": 18,
    "GR": 27,
    "GT": 28,
    "HR": 21,
    "HU": 28,
    "IE": 22,
    "IL": 23,
    "IQ": 23,
    "IS": 26,
    "IT": 27,
    "JO": 30,
    "KW": 30,
    "KZ": 20,
    "LB": 28,
    "LC": 32,
    "LI": 21,
    "LT": 20,
    "LU": 20,
    "LV": 21,
    "MC": 27,
    "MD": 24,
    "ME": 22,
    "MK": 19,
    "MR": 27,
    "MT": 31,
    "MU": 30,
    "NL": 18,
    "NO": 15,
    "PK": 24,
    "PL": 28,
    "PS": 29,
    "PT": 25,
    "QA": 29,
    "RO": 24,
    "RS": 22,
    "SA": 24,
    "SC": 31,
    "SE": 24,
    "SI": 19,
    "SK": 24,
    "SM": 27,
    "ST": 25,
    "SV": 28,
    "TL": 23,
    "TN": 24,
    "TR": 26,
    "UA": 29,
    "VA": 22,
    "VG": 24,
    "XK": 20,
}


def iban_valid(candidate: str) -> bool:
    compact = candidate.replace(" ", "").replace("\u00a0", "").replace("-", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    if "-" in candidate and _IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    try:
        return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1
    except ValueError:
        return False


def _after_product(text: str, start: int) -> bool:
    """Right after a product's name and a slash ("Chrome/", "Edg/"), as in a user agent; a URL's
    path ("/geo/", "ipinfo.io/") is not a product."""
    if start < 2 or text[start - 1] != "/":
        return False
    first = start - 1
    while first > 0 and text[first - 1].isalpha():
        first -= 1
    return first < start - 1 and text[first].isupper()


def is_ipv4_address(match: re.Match[str]) -> bool:
    text = match.string
    start, end = match.span()
    address = match.group(0)
    if not address.isascii():  # another script's digits: read as their ASCII twin
        address = address.translate(TO_ASCII_DIGITS)
    if any(len(octet) == 3 and not "100" <= octet <= "255" for octet in address.split(".")):
        return False  # "300.1.1.1", "3.099.217.027" (an amount): no address
    # "1.2.3.4.5" or "v1.2.3.4" are versions, not addresses.
    if end < len(text) and text[end] == "." and end + 1 < len(text) and text[end + 1].isdigit():
        return False
    if text.endswith("rv:", 0, start):  # a Gecko version in a user agent: "rv:1.9.0.20"
        return False
    if _after_product(text, start):
        return False  # a product version: "Chrome/124.0.0.0" (an address in a URL follows "//")
    if text.endswith(_VERSION_LEADS, 0, start):  # "tensorrt==8.6.1.6", "version 1.0.0.0", "foo>=1.2.3.4"
        return False
    if start and text[start - 1] == ":" and _image_tag(text, start - 1, end):
        return False  # an image's tag: "nginx:1.25.3.1-alpine"
    if address.startswith(("127.", "0.0.0.0")):  # noqa: S104 - loopback, unspecified: nobody's
        return False
    prefix = _CIDR_PREFIX.match(text, end)
    bits = prefix.group(1).translate(TO_ASCII_DIGITS) if prefix is not None else ""
    if bits and int(bits) < 32:  # "10.0.0.0/8": a network, if its host bits are 0
        try:
            ipaddress.IPv4Network(f"{address}/{bits}")
            return False
        except ValueError:
            pass
    return not (start and text[start - 1] in "vV.")


_CIDR_PREFIX = re.compile(r"/(\d{1,2})(?!\d)")  # digits of any script, as the address's
_VERSION_LEADS = (
    "==",
    ">=",
    "<=",
    "~=",
    "!=",
    "~>",
    "~> ",
    "ersion ",
    "ersion=",
    'ersion("',
    "ersion: ",
    "ersion:",
    "elease ",
    "elease=",
    "elease: ",
)
# Names before "name:1.2.3.4" that make it an address and a port's host, not an image's tag
_ADDRESS_WORDS = frozenset(
    (
        "addr",
        "address",
        "client",
        "dns",
        "dst",
        "gateway",
        "host",
        "ip",
        "peer",
        "proxy",
        "remote",
        "server",
        "src",
    )
)


def _image_tag(text: str, colon: int, end: int) -> bool:
    """The address-shaped value after ``colon`` is an image's tag: the name before it is an image's
    (with a registry path, or after "image", "FROM", "docker"), or a suffix follows ("-alpine")."""
    first = colon
    while first > 0 and (text[first - 1].isalnum() or text[first - 1] in "._/-"):
        first -= 1
    name = text[first:colon]
    if not name or not name[0].isalpha() or name.casefold() in _ADDRESS_WORDS:
        return False
    if first and text[first - 1] == ":":  # "::ffff:203.0.113.45": an IPv6 address's tail
        return False
    if "/" in name or (text[end : end + 1] == "-" and text[end + 1 : end + 2].isalpha()):
        return True
    before = text[max(0, first - 24) : first]
    return "image" in before.casefold() or "docker" in before.casefold() or "FROM " in before


def is_ipv6_address(match: re.Match[str]) -> bool:
    candidate = match.group(0)
    # three groups at least: "::1", "fe80::1" (no one's address) and code ("arr[1::2]",
    # "Add::add") have fewer
    if candidate.count(":") < 2 or sum(1 for group in candidate.split(":") if group) < 3:
        return False
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return True


# Regions whose national formats (no "+") are tried, in this order; a "+" number needs none.
PHONE_REGIONS = ("US", "GB", "DE", "FR", "IT", "ES", "NL", "JP", "IN", "BR", "CA", "AU", "MX", "CN")
BARE_PHONE_REGIONS = ("US", "IN", "IT")
LONG_BARE_PHONE_REGIONS = ("CN", "IT")  # 11 digits
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


_EXTENSION = re.compile(r"\s?(?:x|ext\.?)\s?\d{1,6}$")
# a coordinate or a measure ("37.7749295"), or an amount: one point, at most three decimals
# ("638876.46", "1048576.125"); no phone number is written with its last two or three digits so
_DECIMAL = r"\d{1,3}\.\d{5,}|\d{5,}\.\d{1,3}"
_DOTTED_QUAD = r"\d{1,3}(?:\.\d{1,3}){3}"  # an IPv4 address, valid or not ("192.168.1.256")
_DECIMAL_OR_QUAD = re.compile(f"{_DECIMAL}|{_DOTTED_QUAD}")  # (fullmatch: one call for both)
_DATE_LIKE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}")


# Epoch seconds (2001-2033) and milliseconds: no national number read here starts with 1 at ten digits.
_EPOCH = re.compile(r"1\d{9}|1\d{12}")
# Keys whose values are ids, times or quantities, not phone numbers, when bare digits follow them.
_ID_KEY = re.compile(
    # the key's own word: "user_id", "latency_ns", "customerId"; not the end of a word ("eius")
    r"(?i)(?:(?<![a-z0-9])|(?-i:(?<=[a-z])(?=[A-Z])))"
    r"(?:id|ts|time|timestamp|epoch|offset|seq|count|size|bytes|tokens|run|ticket|issue|order|customer"
    r"|account|job|build|invoice|transaction|ref|ns|ms|us|sec|seconds|latency|duration|sent|received|total"
    r"|sum|pop|population|len|length|num|amount|price|int|max|min|limit|crc(?:32|64)?|checksum|hash|commit"
    r"|sha|rev|checkout|#)[\"']?\s*[:=#]?\s*[\"']?$"
)
_ID_KEY_WINDOW = 24
_DIGIT_KEYS = ("crc32", "crc64")  # the keys of _ID_KEY that end in a digit


def _after_id_key(text: str, start: int) -> bool:
    """Bare digits after an id-like key, or inside an AWS ARN (an account id)."""
    window = max(0, start - _ID_KEY_WINDOW)
    # _ID_KEY ends in a key's last letter or digit ("crc32") or "#", then quotes, spaces and an
    # operator: where no such character is right before the number (a list: "…7666, 5382521693"),
    # its search is skipped
    at = start
    while at > window and (text[at - 1].isspace() or text[at - 1] in "\"':="):
        at -= 1
    if (
        at > window
        and (
            text[at - 1].isalpha()
            or text[at - 1] == "#"
            # a digit ends a key only in "crc32" and "crc64" ("…7666\n5382521693": a list)
            or (text[at - 1] in "24" and text[max(window, at - 5) : at].lower() in _DIGIT_KEYS)
        )
        and _ID_KEY.search(text, window, start) is not None
    ):
        return True
    return _in_arn(text, start)


# the last text asked about and whether it holds an ARN at all (a list of numbers asks for
# each: one search of the whole text, not one of 64 characters per number)
_ARN_TEXT: tuple[str, bool] = ("", False)


def _in_arn(text: str, start: int) -> bool:
    """Whether "arn:" is in the 64 characters before ``start`` (an AWS ARN: an account id)."""
    global _ARN_TEXT
    last, holds = _ARN_TEXT
    if last is not text:
        holds = "arn:" in text
        _ARN_TEXT = (text, holds)
    return holds and text.find("arn:", max(0, start - 64), start) >= 0


# What a number next to it says it is not: an amount (a currency before or after, a CJK
# counter or unit after: "2345678901元", "3,456円", "13812345678次"), a product version
# ("Edg/124.0.2478.67"), a number grouped in thousands ("2 345 678 901", "2.345.678.901"),
# or a list of decimals ("0.185 0.900 0.038").
_CURRENCY_CODES = (
    "USD", "EUR", "GBP", "JPY", "CNY", "RMB", "INR", "CHF", "CAD", "AUD",
    "KRW", "BRL", "MXN", "RUB", "SEK", "NOK", "DKK", "PLN", "HKD", "SGD",
)  # fmt: skip
_CURRENCIES = f"(?:{'|'.join(_CURRENCY_CODES)})"
_SYMBOLS = "€$£¥₹₩"
_UNITS = "元円圓원次个個件位人年月日号號万萬亿億千百秒倍回本枚台名株%"
_AMOUNT_AFTER = re.compile(rf"\s?(?:[{_SYMBOLS}{_UNITS}]|{_CURRENCIES}\b)")
_AMOUNT_BEFORE = re.compile(rf"(?:[{_SYMBOLS}]|\b{_CURRENCIES})\s?$")
# the characters each pattern needs where _an_amount looks: a symbol, a unit or a currency
# code's first letter after the number, a symbol or a code's last letter before it (a list of
# numbers in another script's digits has a digit or a "、" there, and asks neither pattern)
_AFTER_MARKS = frozenset(_SYMBOLS + _UNITS) | {code[0] for code in _CURRENCY_CODES}
_BEFORE_MARKS = frozenset(_SYMBOLS) | {code[-1] for code in _CURRENCY_CODES}
_THOUSANDS = r"[1-9]\d{0,2}(?:\.\d{3}){2,}"  # with spaces, as often a phone number (612 345 678)
_DECIMALS = r"\d+\.\d+(?:\s+\d+\.\d+)+"
_THOUSANDS_OR_DECIMALS = re.compile(f"{_THOUSANDS}|{_DECIMALS}")  # (fullmatch: one call for both)


def _an_amount(text: str, start: int, end: int) -> bool:
    """A currency or a unit right before or after the number."""
    # each pattern only where the character it needs there can mark an amount (a symbol, a CJK
    # counter or unit, the letter a currency code starts or ends with: _AFTER_MARKS, _BEFORE_MARKS);
    # most numbers in a list have a comma or a space next to them, then a digit
    mark = text[end : end + 1]
    if mark.isspace():
        mark = text[end + 1 : end + 2]
    if mark in _AFTER_MARKS and _AMOUNT_AFTER.match(text, end):
        return True
    if not start:
        return False
    # _AMOUNT_BEFORE's "$" matches at the number or before a newline right before it: its mark
    # is one or two spaces back at most
    at = start - 1
    if at and text[at].isspace():
        at -= 1
        if at and text[at].isspace():
            at -= 1
    return text[at] in _BEFORE_MARKS and _AMOUNT_BEFORE.search(text, max(0, start - 5), start) is not None


def _between_separators(text: str, start: int, end: int) -> bool:
    """Whether the number stands between list separators ("…, 5382521693, …", a line of its
    own), where neither :func:`_after_id_key`'s key nor :func:`_an_amount`'s currency or unit
    can be: the characters both look at first are a separator, or a space after a separator or
    a digit that ends no key ("crc32"), before a separator, digit or space that marks nothing.
    Only a shortcut: where this says False, both are asked."""
    before = text[start - 1] if start else ""
    if before not in _SEPARATORS:
        if before not in _SPACES:
            return False
        mark = text[start - 2] if start >= 2 else ""
        if (
            mark not in _KEYLESS_BEFORE_SPACE
            and not _other_digit(mark)
            and (mark not in "24" or text[max(0, start - 6) : start - 1].lower() in _DIGIT_KEYS)
        ):
            return False
    after = text[end : end + 1]
    if after in _SEPARATORS:
        return True
    if after not in _SPACES:
        return False
    mark = text[end + 1 : end + 2]
    return mark in _UNMARKED_AFTER_SPACE or _other_digit(mark)


def _other_digit(char: str) -> bool:
    """Another script's decimal digit (Arabic-Indic, full-width, ...): no key ends in one and
    none marks an amount."""
    return char.isdecimal() and not char.isascii()


# "" is in each of these strings: the text's start or end is a boundary too; the ideographic
# and full-width commas and semicolon separate lists in CJK text
_SEPARATORS = ",;|\u3001\uff0c\uff1b"
_SPACES = " \t\n"
_KEYLESS_BEFORE_SPACE = _SEPARATORS + "01356789"  # and "2" or "4" but in "crc32 …", "crc64 …" (keys)
_UNMARKED_AFTER_SPACE = _SEPARATORS + "0123456789 \t\n"


def _a_number_before(text: str, last: int) -> bool:
    """Whether the word ending at ``last`` is a number ("12 345 678"), not an id with letters
    ("order A-1001 415 555 0177"); a word longer than 32 characters counts as a number."""
    for at in range(last, max(-1, last - 32), -1):
        char = text[at]
        if char.isspace():
            return True
        if char.isalpha():
            return False
    return True


def _not_a_phone(candidate: str, text: str, start: int, end: int) -> bool:
    if candidate[0] == "+":
        return False
    if _an_amount(text, start, end):
        return True
    if "." in candidate and (  # "Edg/124.0.2478.67", "2.345.678.901", "0.185 0.900"
        _after_product(text, start) or _THOUSANDS_OR_DECIMALS.fullmatch(candidate)
    ):
        return True
    if candidate.isdigit():  # the rules below are about spaced digits
        return False
    if (
        " " in candidate
        and candidate[0] != "("
        and start >= 2
        and text[start - 1] == " "
        and text[start - 2].isdigit()
        and _a_number_before(text, start - 2)
    ):
        return True  # spaced digits right after other digits: the tail of a list of numbers (a
        # bracketed area code starts a number: "order 12 (415) 555-0187")
    # small numbers in a row ("4 8 15 16 23 42"), unless all pairs (French: "01 42 68 53 00")
    pieces = candidate.split()
    return len(pieces) >= 4 and all(len(p) <= 2 for p in pieces) and not all(len(p) == 2 for p in pieces)


_INT_LIMITS = frozenset(("2147483647", "2147483648", "4294967295", "4294967296"))
PHONE_CHECK_CHARGE = 1024  # characters of the inline text budget one phonenumbers check uses
_PHONE_VERDICTS: dict[str, bool] = {}  # candidate text -> a valid number? (phonenumbers is slow)
_PHONE_VERDICTS_LIMIT = 4096


def is_phone_number(match: re.Match[str]) -> bool:
    candidate = match.group(0)
    if candidate.isdecimal():  # digits alone, of any script: lists of ids, CSV columns
        return _is_bare_phone_number(candidate, match)
    if len(candidate) < 8:  # fewer than 8 characters cannot hold 8 digits (times, versions, counts)
        return False
    # "+1-544-668-3523x24395": the extension aside (both of its spellings have an "x")
    digits = decimal_digits(_EXTENSION.sub("", candidate) if "x" in candidate else candidate)
    if not 8 <= len(digits) <= 15:
        return False
    if "." in candidate or "-" in candidate or "/" in candidate:  # what dates, decimals, IPs need
        # a date: where the number starts, or anywhere in it without a "+" (one search finds both)
        dated = _DATE_LIKE.match(candidate) if candidate[0] == "+" else _DATE_LIKE.search(candidate)
        # a decimal, or "192.168.1.256": not an address, nor a phone number
        if dated or _DECIMAL_OR_QUAD.fullmatch(candidate):
            return False
    end = match.end()
    text = match.string
    if end < len(text) and text[end] == ":" and text[end + 1 : end + 2].isdigit():
        return False  # "2024-05-05 06:47": a date and an hour
    if candidate in _INT_LIMITS:
        return False  # 2147483647: the largest 32-bit integer, in every log of limits
    if candidate.isdigit() and (_EPOCH.fullmatch(candidate) or _after_id_key(text, match.start())):
        return False  # bare digits that are a time ("ts=1715000000") or an id ("user_id: 5123456789")
    if _not_a_phone(candidate, text, match.start(), end):
        return False
    return _verdict(candidate, digits)


def _is_bare_phone_number(candidate: str, match: re.Match[str]) -> bool:
    """is_phone_number for digits alone, of any script ("5382521693", "\u0665\u0663\u0668…"): the
    checks that apply to them, in as few steps as they allow (a list of ids or a CSV column asks
    this of every number). Another script's digits are validated as their ASCII digits."""
    length = len(candidate)
    if not 8 <= length <= 15 or candidate in _INT_LIMITS:
        return False
    if candidate[0] == "1" and length in {10, 13}:  # _EPOCH: seconds or milliseconds
        return False
    text = match.string
    start, end = match.span()
    if end < len(text) and text[end] == ":" and text[end + 1 : end + 2].isdigit():
        return False  # an hour after a date
    if _between_separators(text, start, end):  # a list: no key nor amount beside it
        if _in_arn(text, start):  # _after_id_key's other question
            return False
    elif _after_id_key(text, start) or _an_amount(text, start, end):
        return False
    verdict = _PHONE_VERDICTS.get(candidate)
    if verdict is None:
        charge_inline(PHONE_CHECK_CHARGE)
        digits = candidate if candidate.isascii() else decimal_digits(candidate)
        verdict = _remember(candidate, _valid_bare_phone(digits))
    return verdict


def _verdict(candidate: str, digits: str) -> bool:
    # A number recurs in texts too long to cache whole (a conversation resent at each turn):
    # the verdict on the number itself is kept, so phonenumbers looks at it once.
    verdict = _PHONE_VERDICTS.get(candidate)
    if verdict is None:
        charge_inline(PHONE_CHECK_CHARGE)  # phonenumbers costs about as much as scanning 1K characters
        verdict = _remember(candidate, _valid_phone(candidate, digits))
    return verdict


def _remember(candidate: str, verdict: bool) -> bool:
    return bounded_put(_PHONE_VERDICTS, candidate, verdict, _PHONE_VERDICTS_LIMIT)


def _valid_phone(candidate: str, digits: str) -> bool:
    # phonenumbers' verdict (is_valid answers as phonenumbers does): valid for the region the
    # number was read in (or its country's main one), or for the region it belongs to
    if candidate.lstrip().startswith("+"):
        _, is_valid, valid_after_plus, possible_after_plus = _validators or _load_validators()
        # ``digits``: the number's own, ASCII (phonenumbers reads other scripts' digits as theirs)
        return valid_after_plus(digits) or (possible_after_plus(digits) and bool(is_valid(candidate, None)))
    if not candidate.isdigit():  # formatted
        return (_validators or _load_validators())[0](candidate, _regions_for(digits[0]), digits)
    # digits alone; another script's read as their ASCII digits, so a trunk 0 in full-width
    # digits is one as it is in ASCII
    return _valid_bare_phone(digits if candidate.isdecimal() else candidate)


def _valid_bare_phone(digits: str) -> bool:
    """_valid_phone for digits alone."""
    any_valid, is_valid, _, possible_after_plus = _validators or _load_validators()
    if digits[0] == "0":  # with a trunk prefix
        return any_valid(digits, _REGIONS_BY_FIRST_DIGIT["0"])
    if len(digits) >= 11:  # an MSISDN (the international number without "+"), or a
        # Chinese mobile or Italian number written without spaces
        return (possible_after_plus(digits) and bool(is_valid("+" + digits, None))) or any_valid(
            digits, LONG_BARE_PHONE_REGIONS
        )
    # bare digits: only regions whose numbers cannot be read as epoch seconds and such
    return any_valid(digits, BARE_PHONE_REGIONS)


class _AnyValid(Protocol):
    def __call__(self, text: str, region_codes: tuple[str, ...], digits: str | None = None) -> bool: ...


_Validators: TypeAlias = tuple[
    _AnyValid,
    Callable[[str, str | None], bool | None],
    Callable[[str], bool],
    Callable[[str], bool],
]
_validators: _Validators | None = None


def _load_validators() -> _Validators:
    """phone_numbers' validators, imported at the first candidate (it loads phonenumbers), not at start-up."""
    global _validators
    from processors.pii import phone_numbers

    _validators = (
        phone_numbers.any_valid,
        phone_numbers.is_valid,
        phone_numbers.valid_after_plus,
        phone_numbers.possible_after_plus,
    )
    return _validators

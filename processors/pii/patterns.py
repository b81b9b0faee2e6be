"""The fast path's recognizers: compiled patterns, each with a validator that confirms a match.

Every recognizer names one entity type. Patterns find candidates; validators (Luhn for
cards, mod-97 for IBANs, ``ipaddress`` for IPs, ``phonenumbers`` for phone numbers,
entropy for generic secrets) reject look-alikes such as trace ids, versions and timestamps.
"""

from __future__ import annotations

import ipaddress
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from processors.inline_budget import charge_inline


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
    # A candidate the validator rejects may hold a valid value next to other digits ("4111 1111
    # 1111 1111 12/26", two phone numbers in a row): its pieces (matches of this pattern) are
    # tried in runs, longest first, and the valid runs are replaced.
    parts: re.Pattern[str] | None = None
    part_check: Callable[[str], bool] | None = None  # what a run of pieces must look like to be tried


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


class _AsciiDigits(dict[int, str]):
    """A ``str.translate`` table: any decimal digit to its ASCII digit, filled as digits are met."""

    def __missing__(self, code: int) -> str:
        digit = self[code] = str(unicodedata.decimal(chr(code)))
        return digit


_ASCII_DIGITS = _AsciiDigits()


def _digits(text: str) -> str:
    """The decimal digits of a text, as ASCII digits (full-width and other scripts' digits too)."""
    digits = "".join(filter(str.isdecimal, text))
    return digits if digits.isascii() else digits.translate(_ASCII_DIGITS)


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


def _card(match: re.Match[str]) -> bool:
    number = _digits(match.group(0))
    if len(number) == 12 and _MAESTRO_GROUPED.fullmatch(match.group(0)):  # printed 4-4-4: Maestro
        return luhn_valid(number)
    return 12 <= len(number) <= 19 and _card_prefix(number) and luhn_valid(number)


def iban_valid(candidate: str) -> bool:
    compact = candidate.replace(" ", "").replace("\u00a0", "").upper()
    if not 15 <= len(compact) <= 34:
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


def _ipv4(match: re.Match[str]) -> bool:
    text = match.string
    start, end = match.span()
    # "1.2.3.4.5" or "v1.2.3.4" are versions, not addresses.
    if end < len(text) and text[end] == "." and end + 1 < len(text) and text[end + 1].isdigit():
        return False
    if text.endswith("rv:", 0, start):  # a Gecko version in a user agent: "rv:1.9.0.20"
        return False
    if _after_product(text, start):
        return False  # a product version: "Chrome/124.0.0.0" (an address in a URL follows "//")
    if text.endswith(_VERSION_LEADS, 0, start):  # "tensorrt==8.6.1.6", "version 1.0.0.0"
        return False
    if match.group(0).startswith(("127.", "0.0.0.0")):  # noqa: S104 - loopback, unspecified: nobody's
        return False
    return not (start and text[start - 1] in "vV.")


_VERSION_LEADS = ("==", "ersion ", "ersion=", 'ersion("', "ersion: ")


def _ipv6(match: re.Match[str]) -> bool:
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
_DECIMAL = re.compile(r"\d{1,3}\.\d{5,}")  # a coordinate or a measure: "37.7749295"
_DATE_LIKE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}")


# Epoch seconds (2001-2033) and milliseconds: no national number read here starts with 1 at ten digits.
_EPOCH = re.compile(r"1\d{9}|1\d{12}")
# Keys whose values are ids, times or quantities, not phone numbers, when bare digits follow them.
_ID_KEY = re.compile(
    r"(?i)(?:id|ts|time|timestamp|epoch|offset|seq|count|size|bytes|tokens|run|ticket|issue|order|customer"
    r"|account|job|build|invoice|transaction|ref|ns|ms|us|sec|seconds|latency|duration|sent|received|total"
    r"|sum|pop|population|len|length|num|amount|price|#)[\"']?\s*[:=#]?\s*[\"']?$"
)
_ID_KEY_WINDOW = 24


def _after_id_key(text: str, start: int) -> bool:
    """Bare digits after an id-like key, or inside an AWS ARN (an account id)."""
    window = max(0, start - _ID_KEY_WINDOW)
    return (
        _ID_KEY.search(text, window, start) is not None or text.find("arn:", max(0, start - 64), start) >= 0
    )


def _phone_part(run: str) -> bool:
    """A run of pieces that reads as one number: one piece ("212-736-5000"), or international or
    bracketed ("+1 212 736 5000", "(212) 736 5000"); not a list of plain numbers ("120 340 560
    780 910 ms", "062436 087164", "0.185 0.900")."""
    return run[0] in "+(" or not any(ch.isspace() for ch in run)


# What a number next to it says it is not: an amount (a currency before or after, a CJK
# counter or unit after: "2345678901元", "3,456円", "13812345678次"), a product version
# ("Edg/124.0.2478.67"), a number grouped in thousands ("2 345 678 901", "2.345.678.901"),
# or a list of decimals ("0.185 0.900 0.038").
_CURRENCIES = r"(?:USD|EUR|GBP|JPY|CNY|RMB|INR|CHF|CAD|AUD|KRW|BRL|MXN|RUB|SEK|NOK|DKK|PLN|HKD|SGD)"
_AMOUNT_AFTER = re.compile(
    r"\s?(?:[€$£¥₹₩元円圓원次个個件位人年月日号號万萬亿億千百秒倍回本枚台名株%]|" + _CURRENCIES + r"\b)"
)
_AMOUNT_BEFORE = re.compile(r"(?:[€$£¥₹₩]|\b" + _CURRENCIES + r")\s?$")
_THOUSANDS = re.compile(r"[1-9]\d{0,2}(?:\.\d{3}){2,}")  # with spaces, as often a phone number (612 345 678)
_DECIMALS = re.compile(r"\d+\.\d+(?:\s+\d+\.\d+)+")


def _not_a_phone(candidate: str, text: str, start: int, end: int) -> bool:
    if candidate[0] == "+":
        return False
    if _AMOUNT_AFTER.match(text, end) or _AMOUNT_BEFORE.search(text, max(0, start - 5), start):
        return True
    if "." in candidate and _after_product(text, start):  # "Edg/124.0.2478.67"
        return True
    if _THOUSANDS.fullmatch(candidate) or _DECIMALS.fullmatch(candidate):
        return True
    # small numbers in a row ("4 8 15 16 23 42"), unless all pairs (French: "01 42 68 53 00")
    pieces = candidate.split()
    return len(pieces) >= 4 and all(len(p) <= 2 for p in pieces) and not all(len(p) == 2 for p in pieces)


PHONE_CHECK_CHARGE = 1024  # characters of the inline text budget one phonenumbers check uses
_PHONE_VERDICTS: dict[str, bool] = {}  # candidate text -> a valid number? (phonenumbers is slow)
_PHONE_VERDICTS_LIMIT = 4096


def _phone(match: re.Match[str]) -> bool:
    candidate = match.group(0)
    if len(candidate) < 8:  # fewer than 8 characters cannot hold 8 digits (times, versions, counts)
        return False
    digits = _digits(_EXTENSION.sub("", candidate))  # "+1-544-668-3523x24395": the extension aside
    dated = _DATE_LIKE.match(candidate) or (candidate[0] != "+" and _DATE_LIKE.search(candidate))
    if not 8 <= len(digits) <= 15 or dated or _DECIMAL.fullmatch(candidate):
        return False
    end = match.end()
    text = match.string
    if end < len(text) and text[end] == ":" and text[end + 1 : end + 2].isdigit():
        return False  # "2024-05-05 06:47": a date and an hour
    if candidate.isdigit() and (_EPOCH.fullmatch(candidate) or _after_id_key(text, match.start())):
        return False  # bare digits that are a time ("ts=1715000000") or an id ("user_id: 5123456789")
    if _not_a_phone(candidate, text, match.start(), end):
        return False
    # A number recurs in texts too long to cache whole (a conversation resent at each turn):
    # the verdict on the number itself is kept, so phonenumbers looks at it once.
    verdict = _PHONE_VERDICTS.get(candidate)
    if verdict is None:
        charge_inline(PHONE_CHECK_CHARGE)  # phonenumbers costs about as much as scanning 1K characters
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
    elif len(candidate) >= 11:  # an MSISDN (the international number without "+"), or a
        # Chinese mobile or Italian number written without spaces
        attempts = (("+" + candidate, None), *((candidate, region) for region in LONG_BARE_PHONE_REGIONS))
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


# Values that stand for a secret without being one: SQL parameters ($1, :password, @api_key),
# environment and template references (${API_KEY}, $API_KEY, {{ secrets.X }}), masks, nulls.
_PLACEHOLDER = re.compile(
    r"\$\d+|[:@][a-z_][a-z0-9_]*|\$\{.*|\$[A-Z_][A-Z0-9_]*|\{\{.*|%\(\w+\)s|\*+|(?i:null|none|nil|undefined)"
)


def _stands_for_secret(value: str) -> bool:
    """Already redacted (``<SECRET>``), or a placeholder."""
    return value.startswith("<") or _PLACEHOLDER.fullmatch(value) is not None


# Code, not a value: a call ("inspect.signature(func)"), a type ("str)", "Optional[str]"), an
# empty literal, a variable named after the key ("password=password", "api_key=settings.api_key").
_CODE_VALUE = re.compile(
    r"(?:str|int|bool|bytes|string|String|Option|Vec|Box|number|any|Any|None|SecretStr|Optional)\b.*"
    r"|[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+"  # an attribute: random_password.db.result, settings.password
)
_CALL = re.compile(r"([A-Za-z_$][\w.:>$-]*)[(\[]")  # a call or a subscript: os.getenv(, params[
# A name, not a random value: words joined by "-", "_", "." or "/" ("oauth2-proxy", "cookie_header"),
# or letters whose lower-case runs are words (camelCase: "bearerFormat", "HTTPAuthorizationCredentials").
_NAME = re.compile(r"[a-z]+\d{0,2}(?:[-_./][a-z]+\d{0,2})+|[A-Za-z]*?(?:[A-Z]*[a-z]{3,})+[A-Z]*")


def _is_code(value: str) -> bool:
    """A type, an attribute, or a call or subscript of a name ("os.getenv(", "params[", "Hash::make(");
    not a random value with a bracket in it ("kx0oogz1(63ynY", "rT(ZkczV")."""
    call = _CALL.match(value)
    if call is not None:
        name = call.group(1)
        return any(mark in name for mark in (".", "::", "->", "_")) or bool(_NAME.fullmatch(name))
    return _CODE_VALUE.fullmatch(value) is not None


def _secret_value(match: re.Match[str]) -> bool:
    """After a password-like word, any value is a secret; after key/token words, a random-looking one."""
    value = match.group(2)
    if _stands_for_secret(value) or value.endswith(":"):  # a YAML key on the next line: no value here
        return False
    word = match.group(1)
    bare = value.rstrip(")]};,")
    if not any(ch.isalnum() for ch in bare) or bare in ("[", "{", "(", "[]", "{}", "()"):
        return False  # punctuation or an empty literal: code, not a value
    if _is_code(bare) or bare.casefold().endswith(word.casefold().replace("-", "_")):
        return False  # code, or a variable named after the key ("password=password")
    if _PASSWORD_WORDS.fullmatch(word):
        if word.casefold() == "pwd" and value.startswith(("/", "~")):
            return False  # PWD is also the working directory's variable: a path there is not a password
        # a rule, not a password: "Password: must be at least 8 characters", "Passwort: mindestens 12"
        rest = match.string[match.end(2) : match.end(2) + 2]
        rule = (
            value.isalpha()
            and (value.islower() or value.istitle())
            and rest[:1] == " "
            and rest[1:].isalnum()
        )
        return len(value) >= 4 and not rule
    # a key or token is random: one word, not a name ("authToken", "oauth2-proxy", "eos_token")
    return (
        len(value) >= 8 and " " not in value and shannon_entropy(value) >= 3.0 and not _NAME.fullmatch(value)
    )


# A name in kebab case after "sk-" ("sk-learn-pipeline-v2", "task_sk-compute-embeddings-0001"),
# not a key: random keys have no run of lower-case words between dashes.
_SLUG = re.compile(
    r"sk-(?:(?:proj|svcacct|admin|ant)-|(?!(?:proj|svcacct|admin|ant)-))(?:[a-z0-9]+-)*[a-z]{3,}-[a-z0-9]+(?:-[a-z0-9]+)*"
)


def _token_like(token: str) -> bool:
    """Not a word ("credentials", "bearerFormat", "token-based") nor a placeholder."""
    token = token.rstrip(".")
    return not (_NAME.fullmatch(token) or _stands_for_secret(token) or (token.isalpha() and len(token) < 20))


def _header_value(match: re.Match[str]) -> bool:
    """Cookie pairs with a value long enough to be a session, or credentials that look like one."""
    value = match.group(1).strip()
    if "<" in value:  # already redacted
        return False
    if "=" in value.split(" ", 1)[0]:
        return any(len(pair.partition("=")[2]) >= 8 for pair in value.split(";"))
    return _token_like(value.split()[-1])


# What a command line's help shows in place of a value: PASSWORD, <token>, TEXT, string, ...
_METAVAR = re.compile(
    r"[A-Z][A-Z0-9_]*|<[^>]*>?|\[[^\]]*\]?|\{[^}]*\}?|(?i:string|text|value|str|token|secret|key)"
)


def _option_value(match: re.Match[str]) -> bool:
    value = match.group(1).strip("\"'[](){}<>,;|")
    return not (_METAVAR.fullmatch(value) or _stands_for_secret(value) or value.isdigit())


def _bearer(match: re.Match[str]) -> bool:
    """A token, not a word: "missing Bearer credentials" names none."""
    return _token_like(match.group(1))


# The words that announce a secret (not a secret themselves).
_PASSWORD_WORD = (  # any value after these is a secret
    r"passw(?:or)?d|passphrase|pwd|db[_-]?pass|passwort|kennwort|contrase(?:ñ|n)a|senha|mot de passe"  # noqa: S105
    r"|пароль|has(?:ł|l)o|wachtwoord|lösenord|パスワード|密码|密碼"
)
_SECRET_KEY_WORDS = (
    r"(?:(?:secret|private|encryption|signing|master|subscription)[_-]?key|api[_-]?key|apikey|secret"
    rf"|token|{_PASSWORD_WORD}|access[_-]?key|client[_-]?secret|auth|sig(?:nature)?|session[_-]?id)"
)
_PASSWORD_WORDS = re.compile(rf"(?i){_PASSWORD_WORD}")

# Word characters at a value's boundaries are those of Latin scripts: a value glued to a letter
# of another script ("電話番号は090-1234-5678です") still starts and ends one. A JSON or repr
# escape before a value (\n, \t, \r: GenAI message content is JSON text) separates too,
# though its letter is a word character. The start is checked after a value's first character
# (see below: a pattern that starts with a character lets ``re`` skip ahead to it).
_B1 = r"(?:(?<![A-Za-z0-9_\u00c0-\u024f].)|(?<=\\[nrt].))"  # after a value's first character
_E = r"(?![A-Za-z0-9_\u00c0-\u024f])"  # after its last
_BK1 = r"(?:(?<![A-Za-z0-9\u00c0-\u024f].)|(?<=\\[nrt].))"  # for keys: "_" separates ("key_AKIA…")


# Speed on long texts: ``re`` skips ahead only to where a pattern's first character can match,
# and only when the pattern starts with a character (a literal or a class), not with ``\b`` or
# a lookbehind. So patterns start with a character and check the boundary behind it:
# ``\d(?<!\w\d)`` is ``\b\d``; a lookahead such as ``(?=\d)`` does the same where the first
# character opens alternatives. On 2.4 KB of prose with dates and versions this makes a pattern
# 2-4x faster. Gates (``hints``, ``hint_pattern``, ``folded_pattern``: necessary for a value the
# recognizer replaces, so exact) keep the slow patterns off texts that cannot hold one.
@cache
def recognizers() -> tuple[Recognizer, ...]:
    """The recognizers, in the order they apply: compiled on first use (about 8 ms), not at import."""
    # how each of _SECRET_KEY_WORDS ends, then what must follow it: on the casefolded text
    secret_gate = re.compile(
        r"(?:key|secret|token|pass(?:w(?:or)?d|phrase)?|pwd|auth|sig|signature|session[_-]?id|wort"
        r"|se(?:ñ|n)a|senha|passe|пароль|has(?:ł|l)o|woord|senord|ワード|码|碼)[\\\"']*\s*[:=\uff1a]"
    )
    return (
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
            # The scheme is read from the start of its run only: from every letter of a long run of
            # letters and dots, the run would be read again (quadratic time). The user may be empty
            # ("redis://:pw@host"); the password runs to the last "@" before the host's end.
            re.compile(
                r"[a-zA-Z](?:(?<![A-Za-z0-9+.-][a-zA-Z])|(?<=\\[nrt][a-zA-Z]))[a-zA-Z0-9+.-]*+"
                r"://([^\s:/@]*:[^\s/?#\"'\\<>]+)@"
            ),
            group=1,
            hints=("://",),
            hint_pattern=re.compile(r"://[^\s/@]*@"),  # user info before a host
        ),
        Recognizer(
            "JWT",
            re.compile(
                r"e" + _B1 + r"yJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"
            ),  # unsigned too
            hints=("eyJ",),
        ),
        Recognizer(
            "BEARER_TOKEN",
            re.compile(r"[Bb]" + _B1 + r"(?:earer|EARER)(?<=[Bb]earer|BEARER)\s+([A-Za-z0-9\-._~+/]{8,}=*)"),
            validate=_bearer,
            group=1,
            hints=("earer", "EARER"),
        ),
        Recognizer(
            "API_KEY",
            re.compile(r"s" + _BK1 + r"k-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_-]{20,}"),
            validate=lambda m: not _SLUG.fullmatch(m.group(0)),
            hints=("sk-",),
        ),
        Recognizer(
            "API_KEY", re.compile(r"A" + _BK1 + r"(?:KIA|SIA)[0-9A-Z]{16}" + _E), hints=("AKIA", "ASIA")
        ),
        Recognizer(
            "API_KEY",
            re.compile(r"g" + _BK1 + r"(?:h[pousr]_[A-Za-z0-9]{36,}|ithub_pat_[A-Za-z0-9_]{22,})"),
            hints=("gh", "github_pat_"),
        ),
        Recognizer(
            "API_KEY",
            re.compile(r"x" + _BK1 + r"(?:ox[abposr]|app)-[A-Za-z0-9-]{10,}"),
            hints=("xox", "xapp-"),
        ),
        Recognizer(  # Google (AIza), Stripe keys and webhook secrets, GitLab, Hugging Face and npm tokens
            "API_KEY",
            re.compile(
                r"[Agrswhn]"
                + _BK1
                + r"(?:(?<=A)Iza[0-9A-Za-z_-]{35}|(?<=[rs])k_(?:live|test)_[0-9A-Za-z]{20,}"
                r"|(?<=w)hsec_[0-9A-Za-z]{24,}|(?<=g)lpat-[0-9A-Za-z_-]{20,}|(?<=h)f_[A-Za-z0-9]{34,}"
                + _E
                + r"|(?<=n)pm_[A-Za-z0-9]{36,}"
                + _E
                + ")"
            ),
            hints=("AIza", "k_live_", "k_test_", "whsec_", "glpat-", "hf_", "npm_"),
        ),
        Recognizer(  # a Slack webhook's path is its secret
            "API_KEY",
            re.compile(r"hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9_/-]{20,})"),
            group=1,
            hints=("hooks.slack.com/",),
        ),
        Recognizer(
            "SECRET",
            # a cookie or authorization header written out (a logged request): its whole value
            re.compile(  # as usually written (Cookie, cookie, COOKIE, Set-Cookie, ...): re skips to [CcAa]
                r"(?:[Cc](?<![A-Za-z0-9].)(?:ookie|OOKIE)(?<=[Cc]ookie|COOKIE)"
                r"|[Aa](?<![A-Za-z0-9].)(?:uthorization|UTHORIZATION)(?<=[Aa]uthorization|AUTHORIZATION))"
                r"\\*[\"']?\s*:[ \t]*(?:\\*[\"'])?"
                # a cookie's name=value pairs, or credentials after an optional scheme
                r"([^=;\s\"\\]+=[^;\s\"\\]*(?:;[ \t]*[^=;\s\"\\]+=[^;\s\"\\]*)*"
                r"|(?:[A-Za-z][\w-]*[ \t]+)?[A-Za-z0-9\-._~+/]{8,}=*)"
            ),
            validate=_header_value,
            group=1,
            hints=(":",),
            folded_pattern=re.compile(r"(?:cookie|authorization)[\\\"']*\s*:"),
        ),
        Recognizer(
            "SECRET",
            # command-line options: "--password S3cret", "--api-key K", "curl -u admin:pw"
            re.compile(
                r"(?<![\w-])(?:--(?:password|passwd|pass|api[_-]key|apikey|token|auth-token|access-token|secret"
                r"|client-secret)[ \t]+|(?<=curl )(?:[^\n|;&]*?[ \t])??(?:-u|--user)[ \t]+[^\s:]+:)"
                r"([^\s-]\S*)"
            ),
            validate=_option_value,
            group=1,
            hints=("--", "-u "),
            hint_pattern=re.compile(r"--(?:pass|api|token|auth-|access-|secret|client-)|curl "),
        ),
        Recognizer(
            "SECRET",
            # The key word after a non-letter, a JSON escape or a lower-case letter (camelCase:
            # dbPassword); escaped quotes (tool-call arguments are JSON in JSON) and "=>" (Ruby,
            # PHP) before the value; a quoted value runs to its closing quote, spaces and all.
            re.compile(
                # the first letters of _SECRET_KEY_WORDS first: re skips ahead to them (4x faster)
                r"(?i)(?=[spematdkchwl\u043f\u30d1\u5bc6])(?:(?<![a-z0-9])|(?<=\\[nrt])|(?-i:(?<=[a-z0-9])(?=[A-Z])))"
                rf"({_SECRET_KEY_WORDS})\\*[\"']?\s*(?:=>|[:=\uff1a](?!=))\s*(?:b?\\*[\"'])?"
                # quoted: to the closing quote (escapes inside a plain one); else to a separator
                r"((?<=[^\\]\")(?:[^\"\\\n]|\\.)+|(?<=\\\")[^\"\\\n]+|(?<=')[^'\\\n]+"
                r"|(?:[^\s\"',;&\\\u3000-\u9fff\uac00-\ud7af\uff01-\uff0f\uff1a-\uff20]|&(?!\w+=))+)"
            ),
            validate=_secret_value,
            group=2,
            hints=(":", "=", "\uff1a"),  # between the word and the value (a full-width colon too)
            folded_pattern=secret_gate,
        ),
        Recognizer(
            "EMAIL",
            # From the start of the run of address characters only (as for CREDENTIALS: linear time);
            # punctuation leading the run stays.
            re.compile(
                r"(?:(?<![A-Za-z0-9._%+-])|(?<=\\[nrt]))[._%+-]*+"
                r"([A-Za-z0-9][A-Za-z0-9._%+-]*+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})" + _E
            ),
            group=1,
            validate=lambda m: not m.group(1).startswith("git@"),  # "git@github.com:org/repo.git"
            hints=("@",),
            hint_pattern=re.compile(r"@[A-Za-z0-9-]+\."),  # a domain after the @
        ),
        Recognizer(  # nine bare digits named as one: "ssn=536221234"
            "US_SSN",
            re.compile(
                r"(?i)(?<![a-z0-9])(?:ssn|social[ _-]?security(?:[ _-]?(?:number|no))?)"
                r"[\"']?\s*[:=#]?\s*[\"']?(\d{3}[ .-]?\d{2}[ .-]?\d{4})(?!\d)"
            ),
            group=1,
            digits=True,
            folded_pattern=re.compile(r"(?:ssn|security|number|no)[\"']?\s*[:=#]?\s*[\"']?\d{3}[ .-]?\d\d"),
        ),
        Recognizer(
            "US_SSN",
            re.compile(
                r"\d(?:(?<![A-Za-z0-9_\u00c0-\u024f]\d)|(?<=\\[nrt]\d))\d\d(?<!000)(?<!666)(?<!9\d\d)-(?!00)\d{2}-(?!0000)\d{4}"
                + _E
            ),
            hints=("-",),
            hint_pattern=re.compile(r"-\d\d-\d{4}"),  # dates (2024-05-06) do not pass
            digits=True,
            digit_run=True,
        ),
        Recognizer(  # before cards: the digits of a spaced IBAN can pass for a card number
            "IBAN_CODE",
            re.compile(
                r"[A-Z](?:(?<![A-Za-z0-9_\u00c0-\u024f][A-Z])|(?<=\\[nrt][A-Z]))"
                r"[A-Z]\d{2}(?:[ \u00a0]?[A-Z0-9]{4}){2,7}(?:[ \u00a0]?[A-Z0-9]{1,4})?" + _E
            ),
            validate=lambda m: iban_valid(m.group(0)),
            digits=True,
            digit_run=True,
            parts=re.compile(r"[^ \u00a0]+"),  # "ES13 2664 … 7889 O s unos": the "O" is not part of it
        ),
        Recognizer(
            "CREDIT_CARD",
            re.compile(
                r"\d(?:(?<![A-Za-z0-9_\u00c0-\u024f]\d)|(?<=\\[nrt]\d))(?:[ \u00a0-]{0,2}\d){11,18}" + _E
            ),
            validate=_card,
            digits=True,
            digit_run=True,
            min_digits=12,
            parts=re.compile(r"[^ \u00a0-]+"),
            part_check=lambda run: sum(map(str.isdigit, run)) >= 13,  # "5678 9012 3456" in a list: no
        ),
        Recognizer(
            "IP_ADDRESS",
            re.compile(
                r"(?=\d)(?:(?<![A-Za-z0-9.\u00c0-\u024f])|(?<=\\[nrt]))"
                r"(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)" + _E
            ),
            validate=_ipv4,
            hints=(".",),
            hint_pattern=re.compile(r"\.\d{1,3}\.\d{1,3}\.\d"),  # versions (2.3.1) do not pass
            digits=True,
        ),
        Recognizer(
            "IP_ADDRESS",
            re.compile(
                r"(?:(?<![A-Za-z0-9_:\u00c0-\u024f])|(?<=\\[nrt]))"
                r"(?:[0-9A-Fa-f]{1,4}:|:){2,7}(?::|[0-9A-Fa-f]{1,4})(?![A-Za-z0-9_:\u00c0-\u024f])"
            ),
            validate=_ipv6,
            hints=(":",),
            # what an address needs to be valid: "::", or eight groups (times such as 10:45:00 do not pass)
            hint_pattern=re.compile(r"::|:(?:[0-9A-Fa-f]{1,4}:){6}"),
        ),
        Recognizer(
            "PHONE_NUMBER",
            re.compile(
                r"(?=[\d+(])(?:(?<![A-Za-z0-9_+.\u00c0-\u024f-])|(?<=\\[nrt]))(?<!\d:)"
                # at least 8 digits, apart by what the pattern allows between them (_phone needs 8):
                # a number's worth of digits in a long text no longer costs a validator call
                r"(?=[+(]?(?:[ .()\u00a0\u202f\u2013-]{0,3}\d|\s?(?:x|ext\.?)\s?\d){8})"
                r"(?:\+\d{1,3}[ .\u00a0\u202f-]?(?:\(0\)[ .-]?)?\d{6,12}"  # compact: +91 9817107418
                r"|(?:\+\d{1,3}[ .\u00a0\u202f\u2013-]?(?:\(0\)[ .-]?)?)?"
                r"(?:\(\d{1,5}\)[ .\u00a0\u202f-]?)?\d{1,15}(?:[ .\u00a0\u202f\u2013-]\d{1,8}){0,5})"
                r"(?:\s?(?:x|ext\.?)\s?\d{1,6})?"  # an extension: (714)222-2825x4548
                r"(?![A-Za-z0-9_\u00c0-\u024f-]|\.\d)"
            ),
            validate=_phone,
            digits=True,
            digit_run=True,
            min_digits=8,  # what _phone needs
            parts=re.compile(r"\S+"),
            part_check=_phone_part,
        ),
    )


# The entity types of recognizers(), in order (a test checks they agree): known without compiling.
ENTITIES: tuple[str, ...] = (
    "PRIVATE_KEY",
    "CREDENTIALS",
    "JWT",
    "BEARER_TOKEN",
    "API_KEY",
    "SECRET",
    "EMAIL",
    "US_SSN",
    "IBAN_CODE",
    "CREDIT_CARD",
    "IP_ADDRESS",
    "PHONE_NUMBER",
)

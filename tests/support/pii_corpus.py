"""A seeded, labelled corpus: sensitive values embedded in sentences, and benign telemetry identifiers.

Every sensitive value is generated valid for its type (Luhn cards, mod-97 IBANs, phone numbers
that ``phonenumbers`` accepts), so a miss is the redactor's fault, not the corpus's.
"""

from __future__ import annotations

import base64
import json
import random
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers


@dataclass(frozen=True)
class Case:
    entity: str  # "BENIGN" for values that must be left alone
    text: str
    value: str


TEMPLATES = (
    "Please contact me at {v} as soon as possible.",
    "user said: my details are {v}, thanks",
    "ERROR payment failed for {v} (retrying)",
    "{v}",
    "note to self - {v} - do not share",
    "Traceback: ValueError: invalid input '{v}' at line 42",
)
FIRST = ("jane", "john", "maria", "wei", "amir", "olga", "li", "sam", "noor", "pierre")
LAST = ("doe", "smith", "garcia", "chen", "khan", "ivanova", "nguyen", "brown", "haddad", "martin")
DOMAINS = ("example.com", "mail.example.org", "corp.example.net", "example.co.uk", "uni.example.edu")


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    digits = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    for check in string.digits:
        candidate = digits + check
        total = 0
        for index, char in enumerate(reversed(candidate)):
            digit = int(char) * (2 if index % 2 else 1)
            total += digit - 9 if digit > 9 else digit
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


def _group(number: str, sizes: tuple[int, ...], sep: str) -> str:
    parts, start = [], 0
    for size in sizes:
        parts.append(number[start : start + size])
        start += size
    return sep.join(parts)


def _card(rng: random.Random) -> str:
    kind = rng.choice(("visa", "mc", "amex", "discover"))
    if kind == "amex":
        number = _luhn_complete(rng.choice(("34", "37")), 15, rng)
        return _group(number, (4, 6, 5), rng.choice((" ", "-", "")))
    prefix = {"visa": "4", "mc": rng.choice(("51", "52", "53", "54", "55")), "discover": "6011"}[kind]
    number = _luhn_complete(prefix, 16, rng)
    return _group(number, (4, 4, 4, 4), rng.choice((" ", "-", "")))


def _iban(rng: random.Random) -> str:
    country, bban_length = rng.choice((("GB", 18), ("DE", 18), ("FR", 23), ("NL", 14), ("ES", 20)))
    if country in ("GB", "NL"):
        bank = "".join(rng.choice(string.ascii_uppercase) for _ in range(4))
        bban = bank + "".join(rng.choice(string.digits) for _ in range(bban_length - 4))
    else:
        bban = "".join(rng.choice(string.digits) for _ in range(bban_length))
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    check = 98 - int(numeric) % 97
    iban = f"{country}{check:02d}{bban}"
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if rng.random() < 0.5 else iban


def _phone(rng: random.Random) -> str:
    while True:
        style = rng.choice(("us", "us_paren", "uk", "de", "fr", "in"))
        if style in ("us", "us_paren"):
            area = rng.choice(("415", "212", "650", "312", "617", "303"))
            exchange = str(rng.randint(200, 999))
            line = f"{rng.randint(0, 9999):04d}"
            text = f"({area}) {exchange}-{line}" if style == "us_paren" else f"+1 {area}-{exchange}-{line}"
        elif style == "uk":
            text = f"+44 20 7{rng.randint(0, 999):03d} {rng.randint(0, 9999):04d}"
        elif style == "de":
            text = f"+49 30 {rng.randint(10_000_000, 99_999_999)}"
        elif style == "fr":
            text = "+33 1 " + " ".join(f"{rng.randint(0, 99):02d}" for _ in range(4))
        else:
            text = f"+91 98{rng.randint(10_000_000, 99_999_999)}"
        region = None if text.startswith("+") else "US"
        if phonenumbers.is_valid_number(phonenumbers.parse(text, region)):
            return text


def _ipv4(rng: random.Random) -> str:
    return ".".join(str(rng.randint(1, 254)) for _ in range(4))


def _ipv6(rng: random.Random) -> str:
    groups = [f"{rng.randint(0, 0xFFFF):x}" for _ in range(8)]
    if rng.random() < 0.5:
        return "2001:db8::" + ":".join(groups[:3])
    return ":".join(groups)


def _token(rng: random.Random, length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def _jwt(rng: random.Random) -> str:
    def b64(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    header = b64({"alg": "HS256", "typ": "JWT"})
    payload = b64({"sub": str(rng.randint(1, 10**9)), "name": rng.choice(FIRST)})
    return f"{header}.{payload}.{_token(rng, 43, string.ascii_letters + string.digits + '-_')}"


SENSITIVE: dict[str, Callable[[random.Random], str]] = {
    "EMAIL": lambda r: f"{r.choice(FIRST)}.{r.choice(LAST)}{r.randint(1, 99)}@{r.choice(DOMAINS)}",
    "PHONE_NUMBER": _phone,
    "US_SSN": lambda r: f"{r.randint(100, 665)}-{r.randint(10, 99)}-{r.randint(1000, 9999)}",
    "CREDIT_CARD": _card,
    "IBAN_CODE": _iban,
    "IP_ADDRESS": lambda r: _ipv4(r) if r.random() < 0.6 else _ipv6(r),
    "CREDENTIALS": lambda r: (
        f"postgres://{r.choice(FIRST)}:{_token(r, 12)}@db{r.randint(1, 9)}.internal:5432/app"
    ),
    "BEARER_TOKEN": lambda r: f"Authorization: Bearer {_token(r, 32)}",
    "JWT": _jwt,
    "API_KEY": lambda r: r.choice(
        (
            f"sk-proj-{_token(r, 40)}",
            f"AKIA{_token(r, 16, string.ascii_uppercase + string.digits)}",
            f"ghp_{_token(r, 36)}",
            f"xoxb-{r.randint(10**9, 10**10)}-{_token(r, 24)}",
        )
    ),
    "SECRET": lambda r: r.choice(
        (f"api_key={_token(r, 24)}", f"password: {r.choice(LAST)}{r.randint(1, 999)}")
    ),
}

MODELS = (
    "gpt-4o-mini",
    "gpt-4.1-2025-04-14",
    "claude-3-5-sonnet-20241022",
    "gemini-1.5-pro-002",
    "llama-3.1-70b",
)
BENIGN: tuple[Callable[[random.Random], str], ...] = (
    lambda r: str(uuid.UUID(int=r.getrandbits(128))),
    lambda r: f"{r.getrandbits(128):032x}",
    lambda r: f"{r.getrandbits(64):016x}",
    lambda r: f"{r.getrandbits(256):064x}",
    lambda r: f"{r.getrandbits(160):040x}",
    lambda r: f"v{r.randint(0, 9)}.{r.randint(0, 30)}.{r.randint(0, 99)}",
    lambda r: (
        f"2026-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
        f"T{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:00Z"
    ),
    lambda r: str(r.randint(1_600_000_000_000, 1_800_000_000_000)),
    lambda r: r.choice(MODELS),
    lambda r: (
        f"api-{r.randint(1, 9)}.{r.choice(('example.com', 'svc.cluster.local'))}:{r.randint(1024, 65535)}"
    ),
    lambda r: f"/var/lib/app/{r.choice(('data', 'cache', 'logs'))}/{r.randint(1, 999)}.db",
    lambda r: (
        f"took {r.randint(1, 5000)} ms, status {r.choice((200, 201, 404, 500))}, retries {r.randint(0, 5)}"
    ),
    lambda r: (
        f"pod api-{_token(r, 9, string.ascii_lowercase + string.digits)}-{_token(r, 5, 'abcdefxyz0123')}"
    ),
    lambda r: f"gen_ai.usage.input_tokens={r.randint(1, 100_000)}",
    lambda r: (
        f"order #{r.randint(1000, 99999)} of {r.randint(1, 9)} items"
        f" for {r.randint(1, 999)}.{r.randint(0, 99):02d} EUR"
    ),
    lambda r: f"https://api.example.com/v1/chat/completions?user={_token(r, 8, string.ascii_lowercase)}",
)


def build(seed: int = 20261121, per_entity: int = 40, benign: int = 400) -> list[Case]:
    rng = random.Random(seed)
    cases = []
    for entity, make in SENSITIVE.items():
        for _ in range(per_entity):
            value = make(rng)
            cases.append(Case(entity, rng.choice(TEMPLATES).format(v=value), value))
    for _ in range(benign):
        value = rng.choice(BENIGN)(rng)
        cases.append(Case("BENIGN", value, value))
    return cases

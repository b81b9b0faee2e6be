"""A seeded, labelled corpus: sensitive values from Faker embedded in text, and benign telemetry values.

The sensitive values come from Faker (``faker`` 40.x) in several locales, not from generators
written by whoever wrote the redactor's patterns: emails (``email``, ``free_email``,
``company_email``), phone numbers (``phone_number``, ``msisdn``), US SSNs (``ssn``), card numbers
(``credit_card_number`` for ten card types), IBANs (``iban`` of the locales that have one),
public IPv4 and IPv6 addresses, ``scheme://user:password@host`` URLs built from ``user_name``,
``password`` and ``domain_name``, ``password()`` after ``password=``/``api_key:``-like words,
opaque bearer tokens, JWTs made of real base64url JSON, API keys in their providers' formats
(OpenAI ``sk-``/``sk-proj-``, Anthropic ``sk-ant-``, AWS ``AKIA``, GitHub ``ghp_``/``github_pat_``,
Slack ``xoxb-`` and webhook paths, Google ``AIza``, Stripe ``sk_live_``/``rk_test_``, GitLab
``glpat-``, Hugging Face ``hf_``, npm ``npm_``) whose random part comes from Faker's random
generator, and private key blocks (PEM, OpenSSH, PGP; some cut short) around Faker bytes. They
are put in Faker sentences and paragraphs of the same locale, and in realistic templates (chat
messages, tracebacks, log lines, JSON, GenAI message content as JSON text with escaped newlines,
Japanese text without spaces), sometimes at the end of a sentence, before its full stop.

``Case.value`` is the sensitive part itself (the password of a URL, the token after ``Bearer``,
the secret after ``password=``), never the surrounding context, so a case counts as redacted
only if that value is gone from the output.

A phone number is what ``phonenumbers`` accepts as a valid number of the Faker locale's region
(``is_valid_number_for_region``; an ``msisdn`` is the international number without its "+", so
it is checked with one). Faker produces many that are not, and those are dropped and another is
drawn. With the default seed and size, 24 of the 74 Faker numbers drawn were dropped (32%: JP 7,
NL 4, US 4, IN 3, DE 2, IT 2, BR 2) to keep 50: 12 ``msisdn`` values (13 random digits for every
locale but pt_BR), 9 numbers in ranges not in use (Japanese "48-9799-9415", Brazilian
"91 1357-0667", Dutch "+31(0)96 3111298", Indian "1498073560", US "+1-280-536-4381x62530"), a
US-locale number in a Canadian area code (367), a US "001-629-562-0571x60552" and a German
"00377 08781" (too short).
With seeds 1, 2 and 3, 25, 26 and 44 were dropped.
``PHONE_DROPS`` holds the count per region for the last ``build``.

Card numbers are Luhn-checked, IBANs mod-97-checked; a value that fails is dropped (none has).
Benign values are what telemetry is full of (ids, digests, versions, timestamps, model names,
hosts, paths, user agents, URLs without credentials, lorem sentences...); none is PII.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import string
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import quote

import phonenumbers
from faker import Faker

# Faker's dates default to "up to now": pinned, so a seed gives the same corpus on any day.
_START = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
_END = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
# Faker's user agents embed dates up to now (and invented Gecko dates); these are real ones.
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
    "Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
    "Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Windows NT 6.1; rv:1.9.0.20) Gecko/2009021910 Firefox/3.0.7",
    "python-httpx/0.28.1",
    "OpenAI/Python 1.54.0",
    "curl/8.5.0",
)


@dataclass(frozen=True)
class Case:
    entity: str  # "BENIGN" for values that must be left alone
    text: str
    value: str


# locale -> phonenumbers region
LOCALES: dict[str, str] = {
    "en_US": "US",
    "en_GB": "GB",
    "de_DE": "DE",
    "fr_FR": "FR",
    "it_IT": "IT",
    "es_ES": "ES",
    "nl_NL": "NL",
    "ja_JP": "JP",
    "en_IN": "IN",
    "pt_BR": "BR",
}
# Faker's ``iban()`` of the other locales (en_US, ja_JP, en_IN) is a GB one.
IBAN_LOCALES = ("en_GB", "de_DE", "fr_FR", "it_IT", "es_ES", "nl_NL", "pt_BR")
CARD_TYPES = (
    "visa16",
    "visa13",
    "visa19",
    "mastercard",
    "amex",
    "discover",
    "diners",
    "jcb15",
    "jcb16",
    "maestro",
)
ALNUM = string.ascii_letters + string.digits
_UPPER_DIGITS = string.ascii_uppercase + string.digits
URLSAFE = ALNUM + "-_"

PHONE_DROPS: Counter[str] = Counter()  # region -> Faker numbers dropped by the last build()


class _Fakers:
    """One seeded Faker per locale, and a seeded main one (en_US) for choices and benign values."""

    def __init__(self, seed: int) -> None:
        Faker.seed(seed)
        self.main = Faker("en_US")
        self.main.seed_instance(seed)
        self.by_locale: dict[str, Faker] = {}
        for index, locale in enumerate(LOCALES):
            fake = Faker(locale)
            fake.seed_instance(seed * 100 + index)
            self.by_locale[locale] = fake

        self.locale: str | None = None  # the locale of the last value, for the sentences around it

    def pick(self, locales: tuple[str, ...] | None = None) -> tuple[str, Faker]:
        locale = self.main.random.choice(locales or tuple(LOCALES))
        self.locale = locale
        return locale, self.by_locale[locale]

    def token(self, length: int, alphabet: str = ALNUM) -> str:
        return "".join(self.main.random.choices(alphabet, k=length))


# --- checks of the corpus itself (independent of the redactor) ---------------------------------


def luhn_valid(number: str) -> bool:
    digits = [int(ch) for ch in number if ch.isdigit()]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if index % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


def iban_valid(iban: str) -> bool:
    compact = iban.replace(" ", "")
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def phone_valid(number: str, region: str) -> bool:
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number_for_region(parsed, region)


# --- sensitive values: each maker returns (snippet, value); the snippet holds the value ---------


def _email(f: _Fakers) -> tuple[str, str]:
    _, fake = f.pick()
    value = f.main.random.choice((fake.email, fake.free_email, fake.company_email))()
    return value, value


def _phone(f: _Fakers) -> tuple[str, str]:
    while True:
        locale, fake = f.pick()
        region = LOCALES[locale]
        if f.main.random.random() < 0.8:
            value = fake.phone_number()
            valid = phone_valid(value, region)
        else:  # an MSISDN is the international number without its "+"
            value = fake.msisdn()
            valid = phone_valid("+" + value, region)
        if valid:
            return value, value
        PHONE_DROPS[region] += 1


def _ssn(f: _Fakers) -> tuple[str, str]:
    f.locale = "en_US"
    value = f.by_locale["en_US"].ssn()
    return value, value


def _group(number: str, sizes: tuple[int, ...], sep: str) -> str:
    parts, start = [], 0
    for size in sizes:
        if start < len(number):
            parts.append(number[start : start + size])
        start += size
    if start < len(number):
        parts.append(number[start:])
    return sep.join(parts)


def _card(f: _Fakers) -> tuple[str, str]:
    while True:
        card_type = f.main.random.choice(CARD_TYPES)
        number = f.main.credit_card_number(card_type)
        if luhn_valid(number):
            break
    sep = f.main.random.choice(("", " ", "-"))
    # as printed on the card: 4-6-5 (15 digits), 4-6-4 (14), 4-3-3-3 (13), else groups of 4
    sizes = {15: (4, 6, 5), 14: (4, 6, 4), 13: (4, 3, 3, 3)}.get(len(number), (4,) * 5)
    value = _group(number, sizes, sep) if sep else number
    return value, value


def _iban(f: _Fakers) -> tuple[str, str]:
    while True:
        _, fake = f.pick(IBAN_LOCALES)
        iban = fake.iban()
        if iban_valid(iban):
            break
    value = _group(iban, (4,) * 9, " ") if f.main.random.random() < 0.5 else iban
    return value, value


def _ip(f: _Fakers) -> tuple[str, str]:
    roll = f.main.random.random()
    if roll < 0.6:
        value = f.main.ipv4_public()
    elif roll < 0.8:
        value = f.main.ipv6()
    else:  # the usual written form: leading zeros dropped, a run of zero groups as "::"
        groups = f.main.ipv6().split(":")
        start = f.main.random.randint(1, 5)
        zeros = f.main.random.randint(2, 3)
        groups[start : start + zeros] = ["0"] * zeros
        value = ipaddress.IPv6Address(":".join(groups)).compressed
    return value, value


def _credentials(f: _Fakers) -> tuple[str, str]:
    _, fake = f.pick()
    user = fake.user_name()
    password = quote(fake.password(length=f.main.random.randint(8, 20)), safe="")
    scheme, port, path = f.main.random.choice(
        (
            ("postgresql", 5432, "/app"),
            ("mysql", 3306, "/orders"),
            ("mongodb+srv", None, "/?retryWrites=true"),
            ("redis", 6379, "/0"),
            ("amqp", 5672, "/%2F"),
            ("https", None, "/v1/export"),
            ("ftp", 21, "/incoming/"),
        )
    )
    host = (
        fake.domain_name() if f.main.random.random() < 0.6 else f"db-{f.main.random.randint(1, 9)}.internal"
    )
    authority = f"{host}:{port}" if port else host
    return f"{scheme}://{user}:{password}@{authority}{path}", password


def _bearer(f: _Fakers) -> tuple[str, str]:
    random = f.main.random
    kind = random.choice(("alnum", "urlsafe", "b64", "hex"))
    if kind == "alnum":
        token = f.token(random.randint(24, 64))
    elif kind == "urlsafe":
        token = f.token(random.randint(32, 86), URLSAFE)
    elif kind == "b64":
        token = base64.b64encode(f.main.binary(random.choice((24, 32, 48)))).decode()
    else:
        token = f.main.sha256()
    header = random.choice(
        ("Authorization: Bearer {t}", "authorization: bearer {t}", "-H 'Authorization: Bearer {t}'")
    )
    return header.format(t=token), token


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _jwt(f: _Fakers) -> tuple[str, str]:
    _, fake = f.pick()
    alg = f.main.random.choice(("HS256", "RS256", "ES256"))
    header = {"alg": alg, "typ": "JWT"}
    if f.main.random.random() < 0.5:
        header["kid"] = fake.uuid4()
    issued = int(f.main.unix_time(end_datetime=_END, start_datetime=_START))
    payload = {
        "sub": fake.uuid4(),
        "name": fake.name(),
        "email": fake.email(),
        "iat": issued,
        "exp": issued + 3600,
        "iss": fake.url(),
    }
    signature = f.main.binary({"HS256": 32, "RS256": 256, "ES256": 64}[alg])
    value = ".".join(
        (
            _b64url(json.dumps(header, separators=(",", ":")).encode()),
            _b64url(json.dumps(payload, separators=(",", ":")).encode()),
            _b64url(signature),
        )
    )
    return value, value


def _api_key(f: _Fakers) -> tuple[str, str]:
    random = f.main.random
    kind = random.choice(
        (
            "openai",
            "openai_proj",
            "anthropic",
            "aws",
            "github",
            "github_pat",
            "slack",
            "slack_webhook",
            "google",
            "stripe",
            "gitlab",
            "huggingface",
            "npm",
        )
    )
    if kind == "openai":
        value = "sk-" + f.token(48)
    elif kind == "openai_proj":
        value = "sk-proj-" + f.token(random.choice((48, 74, 156)), URLSAFE)
    elif kind == "aws":
        value = "AKIA" + f.token(16, string.ascii_uppercase + string.digits)
    elif kind == "github":
        value = "ghp_" + f.token(36)
    elif kind == "github_pat":
        value = f"github_pat_{f.token(22)}_{f.token(59)}"
    elif kind == "slack":
        value = f"xoxb-{random.randint(10**10, 10**13)}-{random.randint(10**10, 10**13)}-{f.token(24)}"
    elif kind == "slack_webhook":  # the path is the secret; the host stays
        value = f"T{f.token(10, _UPPER_DIGITS)}/B{f.token(10, _UPPER_DIGITS)}/{f.token(24)}"
        return f"https://hooks.slack.com/services/{value}", value
    elif kind == "anthropic":
        value = f"sk-ant-api03-{f.token(93, URLSAFE)}AA"
    elif kind == "google":
        value = "AIza" + f.token(35, URLSAFE)
    elif kind == "stripe":
        prefix = f"{random.choice(('sk', 'rk'))}_{random.choice(('live', 'test'))}_"
        value = prefix + f.token(random.choice((24, 99)))
    elif kind == "gitlab":
        value = "glpat-" + f.token(20, URLSAFE)
    elif kind == "huggingface":
        value = "hf_" + f.token(34, string.ascii_letters)
    else:
        value = "npm_" + f.token(36)
    return value, value


def _private_key(f: _Fakers) -> tuple[str, str]:
    """A private key block as it lands in a log or an exception: PEM, OpenSSH or PGP, with its
    newlines or JSON-escaped ones, sometimes cut short by a length limit (no END line)."""
    random = f.main.random
    label = random.choice(
        (
            "RSA PRIVATE KEY",
            "PRIVATE KEY",
            "EC PRIVATE KEY",
            "OPENSSH PRIVATE KEY",
            "ENCRYPTED PRIVATE KEY",
            "PGP PRIVATE KEY BLOCK",
        )
    )
    body = base64.b64encode(f.main.binary(random.choice((121, 256, 1190)))).decode()
    newline = random.choice(("\n", "\\n"))
    lines = newline.join(body[start : start + 64] for start in range(0, len(body), 64))
    block = f"-----BEGIN {label}-----{newline}{lines}"
    if random.random() < 0.8:
        block += f"{newline}-----END {label}-----"
    return block, lines


def _secret(f: _Fakers) -> tuple[str, str]:
    _, fake = f.pick()
    random = f.main.random
    if random.random() < 0.5:
        value = fake.password(length=random.randint(8, 24))
        key = random.choice(("password", "PASSWORD", "db_password", "passwd", "pwd", "DB_PASSWORD"))
    else:
        value = fake.password(length=random.randint(20, 40), special_chars=False)
        key = random.choice(
            ("api_key", "apiKey", "API_KEY", "client_secret", "secret", "access_key", "token")
        )
    form = random.choice(("{k}={v}", "{k}: {v}", '"{k}": "{v}"', "{k} = '{v}'", "--{k}={v}", "{k}:{v}"))
    return form.format(k=key, v=value), value


SENSITIVE: dict[str, Callable[[_Fakers], tuple[str, str]]] = {
    "EMAIL": _email,
    "PHONE_NUMBER": _phone,
    "US_SSN": _ssn,
    "CREDIT_CARD": _card,
    "IBAN_CODE": _iban,
    "IP_ADDRESS": _ip,
    "CREDENTIALS": _credentials,
    "BEARER_TOKEN": _bearer,
    "JWT": _jwt,
    "API_KEY": _api_key,
    "SECRET": _secret,
    "PRIVATE_KEY": _private_key,
}

TEMPLATES = (
    "Please contact me at {v} as soon as possible.",
    "user said: my details are {v}, thanks",
    "ERROR payment failed for {v} (retrying)",
    "{v}",
    "note to self - {v} - do not share",
    "Traceback (most recent call last):\n"
    '  File "/srv/app/handlers.py", line 42, in handle\n'
    "    record = parse(payload)\n"
    "ValueError: invalid input '{v}'",
    '[{{"role": "system", "content": "You are a helpful assistant."}}, '
    '{{"role": "user", "content": "Hi! Here it is: {v} - can you update my account?"}}]',
    "Human: can you check this for me? {v}\n\nAssistant: Sure, let me look that up.",
    'level=error ts=2025-03-14T09:26:53Z msg="request failed" detail="{v}"',
    '{{"event": "profile.update", "field": "contact", "new_value": "{v}"}}',
    "The value you asked for is {v}.",
    # GenAI message content as an attribute holds it: JSON text, newlines escaped ("\\n")
    '[{{"role": "user", "content": "Hello,\\n{v}\\nThanks!"}}]',
    "連絡先は{v}です。よろしくお願いします。",  # no spaces around it in Japanese or Chinese
    # the same as json.dumps writes it by default: non-ASCII text as \uXXXX escapes
    '{{"content": "\\u9023\\u7d61\\u5148\\u306f{v}\\u3067\\u3059"}}',
)


def _embed(f: _Fakers, snippet: str) -> str:
    """The snippet inside a template, or inside Faker sentences of some locale."""
    random = f.main.random
    roll = random.random()
    if roll < 0.55:
        return random.choice(TEMPLATES).format(v=snippet)
    fake = f.by_locale[f.locale] if f.locale else f.pick()[1]
    if roll < 0.7:
        return f"{fake.sentence()} {snippet} {fake.sentence()}"
    if roll < 0.8:
        return f"{fake.paragraph()} {snippet}"
    if roll < 0.9:
        return f"{fake.sentence()[:-1]}: {snippet}. {fake.paragraph()}"
    return f"{snippet} {fake.paragraph()}"


# --- benign values -----------------------------------------------------------------------------

MODELS = (
    "gpt-4o-mini",
    "gpt-4o-2024-08-06",
    "gpt-4.1-2025-04-14",
    "o3-mini",
    "text-embedding-3-small",
    "claude-3-5-sonnet-20241022",
    "claude-3-haiku-20240307",
    "claude-sonnet-4-20250514",
    "gemini-1.5-pro-002",
    "gemini-2.0-flash-001",
    "llama-3.1-70b",
    "meta-llama/Llama-3.1-8B-Instruct",
    "mistral-large-2407",
    "command-r-plus",
)
_K8S = "bcdfghjklmnpqrstvwxz2456789"


def _status_line(f: _Fakers) -> str:
    status = f.main.random.choice(list(HTTPStatus))
    return f"HTTP/1.1 {status.value} {status.phrase}"


BENIGN: tuple[Callable[[_Fakers], str], ...] = (
    lambda f: f.main.uuid4(),
    lambda f: f"trace_id={f.main.hexify('^' * 32)}",
    lambda f: f.main.hexify("^" * 32),
    lambda f: f"span_id={f.main.hexify('^' * 16)}",
    lambda f: f.main.hexify("^" * 16),
    lambda f: f"00-{f.main.hexify('^' * 32)}-{f.main.hexify('^' * 16)}-01",
    lambda f: f.main.sha1(),
    lambda f: f.main.sha256(),
    lambda f: f.main.md5(),
    lambda f: f"commit {f.main.sha1()}",
    lambda f: f.main.sha1()[: f.main.random.randint(7, 12)],
    lambda f: f"sha256:{f.main.sha256()}",
    lambda f: f"ghcr.io/acme/{f.main.word()}@sha256:{f.main.sha256()}",
    lambda f: (
        f"{f.main.random.choice(('', 'v'))}{f.main.random.randint(0, 9)}.{f.main.random.randint(0, 30)}"
        f".{f.main.random.randint(0, 99)}"
    ),
    lambda f: (
        f"{f.main.random.randint(0, 3)}.{f.main.random.randint(0, 20)}.{f.main.random.randint(0, 9)}-rc.1"
    ),
    lambda f: f.main.iso8601(end_datetime=_END),
    lambda f: f.main.date_time_between(_START, _END).isoformat() + "Z",
    lambda f: (  # as Python's logging writes asctime
        f"{f.main.date_time_between(_START, _END):%Y-%m-%d %H:%M:%S},{f.main.random.randint(0, 999):03d}"
        f" INFO {f.main.word()}: {f.main.sentence()}"
    ),
    lambda f: str(int(f.main.unix_time(end_datetime=_END, start_datetime=_START) * 1000)),
    lambda f: f"timestamp_ms={int(f.main.unix_time(end_datetime=_END, start_datetime=_START) * 1000)}",
    lambda f: f.main.date(end_datetime=_END),
    lambda f: f.main.date_between(_START, _END).strftime("%d %b %Y"),
    lambda f: f.main.random.choice(MODELS),
    lambda f: f"gen_ai.request.model={f.main.random.choice(MODELS)}",
    lambda f: f"{f.main.hostname()}:{f.main.port_number()}",
    lambda f: (
        f"{f.main.domain_word()}-svc.{f.main.random.choice(('default', 'prod'))}.svc.cluster.local:8080"
    ),
    lambda f: f.main.file_path(depth=f.main.random.randint(1, 4)),
    lambda f: f"/var/lib/{f.main.word()}/{f.main.file_name()}",
    _status_line,
    lambda f: (
        f"{f.main.http_method()} /{f.main.uri_path()} -> {f.main.http_status_code()}"
        f" in {f.main.random.randint(1, 5000)} ms"
    ),
    lambda f: f"{f.main.word()}-{f.main.lexify('?' * 10, _K8S)}-{f.main.lexify('?' * 5, _K8S)}",
    lambda f: f"pod/{f.main.word()}-worker-{f.main.random.randint(0, 20)}",
    lambda f: f"gen_ai.usage.input_tokens={f.main.random.randint(1, 200_000)}",
    lambda f: f"output_tokens: {f.main.random.randint(1, 8_000)}",
    lambda f: (
        f"prompt_tokens={f.main.random.randint(1, 9999)} completion_tokens={f.main.random.randint(1, 999)}"
    ),
    lambda f: f.main.pricetag(),
    lambda f: f"cost {f.main.pyfloat(left_digits=2, right_digits=4, positive=True)} {f.main.currency_code()}",
    lambda f: f.main.random.choice(USER_AGENTS),
    lambda f: f.main.url() + f.main.uri_path(),
    lambda f: f"{f.main.url()}{f.main.uri_path()}?page={f.main.random.randint(1, 50)}",
    lambda f: f.main.uri(),
    lambda f: f.main.mime_type(),
    lambda f: f"content-type: {f.main.mime_type()}",
    lambda f: f.main.sentence(),
    lambda f: f.main.paragraph(),
    lambda f: f"retries={f.main.random.randint(0, 5)} timeout={f.main.random.randint(1, 120)}s",
    lambda f: f"{f.main.random.randint(1, 99)}.{f.main.random.randint(0, 9)}% cache hit ratio",
    # near misses of the key and token formats: public keys and settings named like tokens
    lambda f: (
        "-----BEGIN PUBLIC KEY-----\n"
        + base64.b64encode(f.main.binary(38)).decode()
        + "\n-----END PUBLIC KEY-----"
    ),
    lambda f: f.main.random.choice(
        (
            "HF_HUB_ENABLE_HF_TRANSFER=1",
            "npm_config_registry=https://registry.npmjs.org/",
            "npm_lifecycle_event=build",
            "hf_hub_download(repo_id='bert-base-uncased')",
            "stripe.api_version=2024-06-20",
            "glpat tokens are rotated every 90 days",
        )
    ),
)


def build(seed: int = 20261121, per_entity: int = 50, benign: int = 500) -> list[Case]:
    fakers = _Fakers(seed)
    PHONE_DROPS.clear()
    cases = []
    for entity, make in SENSITIVE.items():
        for _ in range(per_entity):
            fakers.locale = None
            snippet, value = make(fakers)
            text = _embed(fakers, snippet)
            assert value in text, (entity, value, text)
            cases.append(Case(entity, text, value))
    for _ in range(benign):
        value = fakers.main.random.choice(BENIGN)(fakers)
        cases.append(Case("BENIGN", value, value))
    return cases

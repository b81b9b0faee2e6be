"""What a key's name says about the values under it: a secret's (replaced whole), a number's
(read as text: a phone or card number kept as an int), an entity's bare form (nine digits under
an SSN key), or nothing; and the default deny and allow lists. Keys are read in any spelling:
dots, dashes, brackets and camelCase separate words."""

from __future__ import annotations

import itertools
import re
import unicodedata

from processors.pii.number_checks import iban_valid

DENY_KEYS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "secret",
        "client_secret",
        "authorization",
        "proxy_authorization",
        "cookie",
        "set_cookie",
        "api_key",
        "apikey",
        "x_api_key",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "private_key",
        "credentials",
    }
)
ALLOW_KEYS = frozenset({"trace_id", "span_id", "trace.id", "span.id", "traceid", "spanid"})


def normalize(key: str) -> str:
    return key.lower().replace("-", "_")


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[\W_]+")  # letters of every script are a word's ("contraseña", "пароль")
# "password" in the languages the text patterns read it in (patterns._PROSE_WORDS), as a key's word
FOREIGN_PASSWORDS = frozenset(
    {
        *("passwort", "kennwort", "motdepasse", "contraseña", "contrasena", "senha", "wachtwoord"),
        *("lösenord", "losenord", "hasło", "haslo", "пароль", "şifre", "sifre", "parola", "passord"),
        *("salasana", "adgangskode", "heslo", "jelszó", "jelszo", "lozinka", "geslo", "parolă"),
        *("κωδικός", "סיסמה", "كلمةالمرور", "पासवर्ड", "비밀번호", "암호", "密码", "密碼", "パスワード"),
        "clave",  # Spanish: "clave de acceso"
    }
)
# written without spaces in a compound ("密码确认", "確認用パスワード")
_CJK_PASSWORD = re.compile("密码|密碼|パスワード|비밀번호")
# an English one at the end of a compound ("newpassword", "userpassword", "dbpasswd")
_PASSWORD_ENDINGS = ("password", "passwd", "passphrase", "passcode")
# A key naming a secret in any spelling: its last word ("db_password", "accessToken",
# "x-auth-token", "user[password]", "smtp_pin"), its last two ("secret_key",
# "aws_secret_access_key", "ocp-apim-subscription-key", "apiKeys", "db_pass"), or the whole key
# ("pass"). A key's last word alone says too little where it is "key" ("cache_key", "sort_key"),
# "pass" ("tests.pass") or a plural ("input_tokens"): those count only with the word before them,
# as secret scanners' keyword lists pair them (detect-secrets: auth_key, db_pass, ...).
SECRET_WORDS = frozenset(
    {
        "password",
        "passwords",
        "passwd",
        "pwd",
        "passphrase",
        "passcode",
        "pin",
        "otp",
        "secret",
        "token",
        "apikey",
        "apikeys",
        "authorization",
        "cookie",
        "credential",
        "credentials",
        "authentication",
        "pw",
        "cvv",
        "cvv2",
        "cvc",
        "cvc2",
        "cvn",
        "csc",  # a card's security code, by every scheme's name
        "mnemonic",
        "phpsessid",
        "jsessionid",
        "totp",
        *("csrf", "csrftoken", "xsrf", "xsrftoken"),  # Django's X-CSRFToken header, Angular's XSRF-TOKEN
        *FOREIGN_PASSWORDS,
    }
)
# A password's or a code's word, then one saying which copy or form of it this is:
# "password_confirmation" (Rails, Laravel), "new_password" is the last word's already,
# "pin_code", "cvv_number", "otp_value", "password_digest" (Rails' column); and these words
# with a digit after them: Django's forms name the two copies "password1" and "password2"
_TAILED = frozenset(
    {
        *("password", "passwords", "passwd", "pwd", "passphrase", "passcode", "pin", "otp", "totp"),
        *("cvv", "cvv2", "cvc", "cvc2", "cvn", "csc", "secret", *FOREIGN_PASSWORDS),
    }
)
_TAILS = frozenset(
    {
        *("confirmation", "confirm", "confirmed", "again", "repeat", "repeated", "retype", "verify"),
        *("verification", "check", "new", "old", "current", "previous", "value", "plain", "plaintext"),
        *("clear", "cleartext", "raw", "hash", "hashed", "digest", "code", "number", "no", "num"),
    }
)
_DIGITS = "0123456789"
_KEY_QUALIFIERS = (
    "api",
    "access",
    "secret",
    "private",
    "priv",
    "signing",
    "auth",
    "service",
    "account",
    "client",
    "db",
    "database",
    "encryption",
    "subscription",
    "license",
    "licence",
    "functions",
    "master",
    "session",
    "app",
    "host",
    "shared",
    "sas",
    "storage",
    "webhook",
)
_CODE_QUALIFIERS = (
    *("otp", "mfa", "2fa", "tfa", "totp", "verification", "verify", "auth", "recovery", "backup"),
    *("sms", "email", "confirmation", "login", "access", "activation", "security", "unlock", "reset"),
    "factor",  # "two_factor_code", "twoFactorCode"
)
_CODE_COMPOUNDS = frozenset(f"{word}code" for word in _CODE_QUALIFIERS)  # "smscode", "otpcode"
_PASS_QUALIFIERS = (
    *("db", "database", "smtp", "mail", "user", "key", "admin", "root", "ftp", "ldap", "wifi"),
    *("new", "old", "current", "confirm", "repeat", "temp"),  # "new_pass", "confirm_pass"
)
SECRET_PAIRS = frozenset(
    {
        *(f"{word}_key" for word in _KEY_QUALIFIERS),
        *(f"{word}_keys" for word in _KEY_QUALIFIERS),
        *(f"{word}_pass" for word in _PASS_QUALIFIERS),
        "apikey",
        "client_secret",
        "set_cookie",
        # one-time and recovery codes, a wallet's words, a security question's answer
        *(f"{word}_code" for word in _CODE_QUALIFIERS),
        *(f"{word}_codes" for word in ("otp", "mfa", "2fa", "recovery", "backup")),
        "seed_phrase",
        # a card's security code: "security_code" (PayPal), "cardCode", "cvv_code"
        "security_code",
        "card_code",
        "cvv_code",
        "cvc_code",
        "verification_value",
        "security_answer",
        "secret_answer",
        "hmac_key",
        "x_auth",
        "basic_auth",
        "http_auth",
        "proxy_auth",
    }
)
SECRET_KEYS = frozenset({"pass"})  # whole keys only
# three words: "one_time_code", "mot de passe"
_SECRET_TRIPLES = frozenset({"one_time_code", "one_time_pin", "one_time_passcode", "mot_de_passe"})
# Numbers under keys of these words are read as text (a card or phone number kept as an int).
_NUMBER_SINGULARS = (
    *("phone", "tel", "telephone", "mobile", "msisdn", "fax", "cell", "cellphone", "whatsapp"),
    *("telefon", "telefono", "telefone", "telephon"),
    *("card", "creditcard", "cc", "ccnum", "pan", "ssn", "iban"),
    "waid",  # WhatsApp's id of a user: their phone number
    # telephony's names for a number: E.164, caller ID, the calling and the dialled number
    *("e164", "callerid", "ani", "dnis"),
)
# Keys of who is called or written to: their number, where it is one ("recipient": 16502530199),
# unless the key names an id, a count or a time of theirs ("sender_id", "caller.pid")
_WHO_WORDS = frozenset(
    {
        "contact",
        "recipient",
        "caller",
        "callee",
        "sender",
        "receiver",
        "to",
        "from",
        "destination",
        "dest",
        "dst",
    }
)
NUMBER_WORDS = frozenset({*_NUMBER_SINGULARS, *(f"{word}s" for word in _NUMBER_SINGULARS), "faxes"})
# and keys that name such a number by a word before "number" or "no", apart or in one word
# ("contact_number", "callbackNumber", "phonenumber", "cardnumber", "mobile_no")
_NUMBER_SUFFIXES = ("numbers", "number", "nums", "num", "nos", "no")
_NUMBER_BASES = frozenset(
    {*NUMBER_WORDS, "contact", "callback", "account", "mobile", "telephone", "to", "from", "caller"}
)
NUMBER = "NUMBER"  # how values under a key of those words are read: numbers as text
# Values whose key alone says what they are, in the bare form no pattern can tell from other
# text without a word beside it: nine digits under an SSN key ("ssn": "536221234", or an int,
# whose leading zeros are gone), an IBAN in lower case or grouped oddly under an IBAN key.
# (a US tax id is an SSN, or an EIN or ITIN of the same nine digits)
_SSN_WORDS = frozenset({"ssn", "ssns", "socialsecurity", "taxid", "taxpayerid", "itin", "ein", "tin"})
_IBAN_WORDS = frozenset({"iban", "ibans"})
KEYED_KINDS = frozenset({"US_SSN", "IBAN_CODE"})
_SSN_FORM = re.compile(r"\s*\d{3}([ .-]?)\d{2}\1\d{4}\s*")


def _word_kind(word: str) -> str | None:
    """What one word of a key (or its last two joined) names: see number_kind."""
    base = word
    for suffix in _NUMBER_SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix):
            base = word[: -len(suffix)]
            break
    if word in _SSN_WORDS or base in _SSN_WORDS or base == "security" != word:
        return "US_SSN"
    if word in _IBAN_WORDS:
        return "IBAN_CODE"
    if word in NUMBER_WORDS or (base != word and base in _NUMBER_BASES):
        return NUMBER
    return None


def number_kind(words: list[str]) -> str | None:
    """How values under a key of these words are read: the entity the key names where its bare
    form is known (US_SSN, IBAN_CODE), NUMBER where it names another number (a phone, a card),
    None for any other key."""
    kinds = {_word_kind(word) for word in words}
    if len(words) >= 2:
        kinds.add(_word_kind(words[-2] + words[-1]))  # "contact_number" as "contactnumber"
    if None in kinds and not kinds - {None} and any(word in _WHO_WORDS for word in words):
        return None if names_ids(words) else NUMBER
    for kind in ("US_SSN", "IBAN_CODE", NUMBER):
        if kind in kinds:
            return kind
    return None


def in_keyed_form(kind: str, value: object) -> str | None:
    """The value's text where it is in the bare form its key names (see number_kind), else None."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    if kind == "US_SSN":
        text = f"{value:09d}" if isinstance(value, int) and 0 <= value < 10**9 else str(value)
        return text if _SSN_FORM.fullmatch(text) else None
    if kind == "IBAN_CODE" and isinstance(value, str):
        text = value.strip()
        return text if text[:2].isalpha() and iban_valid(text) else None
    return None


# Keys whose integers are identifiers, counters or times, never a card kept as an int (see
# RedactionProcessor: a 15 to 19-digit int under any other key is looked at as a card)
_ID_WORDS = frozenset(
    {
        *("id", "ids", "uuid", "guid", "uid", "trace", "span", "parent", "seq", "sequence", "offset"),
        *("hash", "checksum", "crc", "nonce", "seed", "snowflake", "ts", "time", "timestamp", "nanos"),
        *("epoch", "count", "size", "bytes", "total", "version", "revision", "generation"),
        *("index", "idx", "line", "pid", "port"),  # an ordinal: "line_no"
        # hashes and other random ints: "db.query.fingerprint", "cache.digest", "random_state"
        *("fingerprint", "digest", "signature", "sig", "etag", "key", "salt", "random", "state"),
    }
)


_NOT_ID_WORDS = frozenset(
    {"paid", "prepaid", "unpaid", "valid", "invalid", "void", "avoid", "android", "fluid"}
)


def names_ids(words: list[str]) -> bool:
    """Whether a key of these words names identifiers, counters or times (see _ID_WORDS)."""
    return any(
        word in _ID_WORDS
        or "hash" in word  # "xxhash64", "hashcode"
        or (word.endswith(("id", "ids")) and word not in _NOT_ID_WORDS)
        for word in words
    )


def key_words(key: str) -> list[str]:
    """A key's words: dots, dashes, brackets and camelCase all separate ("dbPassword": db, password);
    accents written apart (NFD) are joined first."""
    if not key.isascii():
        key = unicodedata.normalize("NFC", key)
    return [word for word in _SEPARATORS.split(_CAMEL.sub("_", key).lower()) if word]


def compact_key(key: str) -> str:
    """A key without case or separators ("User.Id", "userId", "user_id": "userid")."""
    return "".join(key_words(key))


def _tail(word: str) -> bool:
    """A word that says which copy or form of a secret this is ("confirmation", "2", "new1")."""
    base = word.rstrip(_DIGITS)
    return not base or base in _TAILS


def _strong(word: str) -> bool:
    """A password's or a code's word, alone or in a compound ("password2", "newpassword",
    "passwordconfirmation", "cvvnumber", "smscode", "pass1")."""
    base = word.rstrip(_DIGITS)
    if base in _TAILED or base in _CODE_COMPOUNDS or base.endswith(_PASSWORD_ENDINGS):
        return True
    if base == "pass":
        return base != word  # "pass1", "pass2": a form's copies ("pass" alone: SECRET_KEYS)
    return any(base.startswith(strong) and _tail(base[len(strong) :]) for strong in _COMPOUND_HEADS)


_COMPOUND_HEADS = ("password", "passwd", "pin", "otp", "cvv", "cvc", "passcode")
# a SQL statement's parameters, recorded apart from it ("db.query.parameter.1",
# "db.statement.parameters"): the values a query was run with, of any column; OpenTelemetry's
# conventions record them only when asked, as values that may be sensitive
_SQL_PARAMETERS = frozenset(
    (statement, parameter)
    for statement in ("query", "statement", "sql")
    for parameter in ("parameter", "parameters", "params")
)


def names_secret(words: list[str]) -> bool:
    """Whether a key of these words (:func:`key_words`) names a secret in any spelling (see
    SECRET_WORDS), whatever the deny list a processor was given: its last word or two, a
    password's or code's word followed only by words for its copy or form ("password_1",
    "passwordConfirmation1", "pin_2", "cvv_number"), or "password" in another language anywhere
    in it ("senha_confirmacao", "密码确认")."""
    if not words:
        return False
    last = words[-1]
    if last in SECRET_WORDS or "_".join(words[-2:]) in SECRET_PAIRS or "_".join(words) in SECRET_KEYS:
        return True
    if len(words) >= 2 and "".join(words[-2:]) in SECRET_WORDS:  # "pass_word"
        return True
    if any(pair in _SQL_PARAMETERS for pair in itertools.pairwise(words)):
        return True
    for index, word in enumerate(words):
        if word in FOREIGN_PASSWORDS or (not word.isascii() and _CJK_PASSWORD.search(word)):
            return True
        followed = index < len(words) - 1  # "pass" counts with a word for its copy after it
        if (_strong(word) or (followed and word == "pass")) and all(
            _tail(after) for after in words[index + 1 :]
        ):
            return True
    return len(words) >= 3 and "_".join(words[-3:]) in _SECRET_TRIPLES


def is_secret_key(key: str) -> bool:
    """Whether values under ``key`` are replaced whole by default (``password``, ``db_pass``,
    ``x-functions-key``, ...): the default deny list, or a key naming a secret in any spelling."""
    normalized = normalize(key)
    return (
        normalized in DENY_KEYS or normalized.rsplit(".", 1)[-1] in DENY_KEYS or names_secret(key_words(key))
    )

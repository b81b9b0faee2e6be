"""Validators for secrets: what a random key or token looks like, and what only names one
(placeholders, code, types, header and option names, command-line metavars); the key words."""

from __future__ import annotations

import math
import re
from collections import Counter


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


def is_secret_value(match: re.Match[str]) -> bool:
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
SLUG = re.compile(
    r"sk-(?:(?:proj|svcacct|admin|ant)-|(?!(?:proj|svcacct|admin|ant)-))(?:[a-z0-9]+-)*[a-z]{3,}-[a-z0-9]+(?:-[a-z0-9]+)*"
)


def _token_like(token: str) -> bool:
    """Not a word ("credentials", "bearerFormat", "token-based") nor a placeholder."""
    token = token.rstrip(".")
    return not (_NAME.fullmatch(token) or _stands_for_secret(token) or (token.isalpha() and len(token) < 20))


def is_header_secret(match: re.Match[str]) -> bool:
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


def is_option_secret(match: re.Match[str]) -> bool:
    value = match.group(1).strip("\"'[](){}<>,;|")
    return not (_METAVAR.fullmatch(value) or _stands_for_secret(value) or value.isdigit())


def is_bearer_token(match: re.Match[str]) -> bool:
    """A token, not a word: "missing Bearer credentials" names none."""
    return _token_like(match.group(1))


# The words that announce a secret (not a secret themselves).
_PASSWORD_WORD = (  # any value after these is a secret
    r"passw(?:or)?d|passphrase|pwd|db[_-]?pass|passwort|kennwort|contrase(?:ñ|n)a|senha|mot de passe"  # noqa: S105
    r"|пароль|has(?:ł|l)o|wachtwoord|lösenord|パスワード|密码|密碼"
)
SECRET_KEY_WORDS = (
    r"(?:(?:secret|private|encryption|signing|master|subscription)[_-]?key|api[_-]?key|apikey|secret"
    rf"|token|{_PASSWORD_WORD}|access[_-]?key|client[_-]?secret|auth|sig(?:nature)?|session[_-]?id)"
)
_PASSWORD_WORDS = re.compile(rf"(?i){_PASSWORD_WORD}")

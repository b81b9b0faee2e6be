"""Validators for secrets: what a random key or token looks like, and what only names one
(placeholders, code, types, header and option names, command-line metavars); the key words."""

from __future__ import annotations

import base64
import binascii
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
    r"\$\d+|[:@][a-z_][a-z0-9_]*|\$[{(].*|\$[A-Z_][A-Z0-9_]*|\$[a-z_][a-z0-9_]*|\{\{.*|%\(\w+\)s|\*+|(?i:null|none|nil|undefined)"
    # Ruby's "#{ENV[…]}", a shell's `cat /run/secrets/…`, a mask in brackets, a YAML tag (!vault),
    # and the environment read in code: process.env.X, import.meta.env.X, os.environ[…], ENV[…]
    r"|#\{.*|`.*|\[(?i:redacted|hidden|masked|filtered|removed|secret|omitted|sensitive)\]|![a-z_]+"
    r"|(?:process\.env|import\.meta\.env|os\.environ|Deno\.env)\b.*|ENV\[.*"
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
    call = _CALL.match(value.removeprefix("[]").lstrip("&*"))  # []byte(…), &config.key, *ptr
    if call is not None:
        name = call.group(1)
        return any(mark in name for mark in (".", "::", "->", "_")) or bool(_NAME.fullmatch(name))
    return _CODE_VALUE.fullmatch(value) is not None


# A suffix that makes a key word name something about the secret, not the secret itself
# ("token_count", "api_key_id", "token_url", "secret_name", "password_policy").
_NOT_SECRET_SUFFIX = frozenset(
    (
        "age",
        "arn",
        "at",
        "budget",
        "changed",
        "count",
        "created",
        "days",
        "dir",
        "enabled",
        "endpoint",
        "env",
        "expiration",
        "expire",
        "expired",
        "expires",
        "expiry",
        "field",
        "fields",
        "file",
        "filename",
        "format",
        "header",
        "hint",
        "hours",
        "id",
        "ids",
        "in",
        "index",
        "keys",
        "kind",
        "label",
        "len",
        "length",
        "lifetime",
        "limit",
        "list",
        "location",
        "max",
        "method",
        "min",
        "mode",
        "name",
        "names",
        "pairs",
        "param",
        "path",
        "pattern",
        "policy",
        "prefix",
        "provider",
        "rate",
        "ref",
        "regex",
        "required",
        "reset",
        "rotation",
        "rule",
        "rules",
        "scheme",
        "set",
        "size",
        "source",
        "store",
        "strength",
        "timeout",
        "tokens",
        "ttl",
        "type",
        "types",
        "updated",
        "uri",
        "url",
        "usage",
        "var",
        "version",
        "window",
    )
)
_SUFFIX_PART = re.compile(r"[^_-]+")
# Not random: a number, a truth value, a URL, a path, a date.
_PLAIN_VALUE = re.compile(
    r"[\d.,:+-]+|(?i:true|false|yes|no|on|off)|\w+://.*|[~.]?/.*|\d{4}-\d\d-\d\d.*|arn:.*"
)
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")  # DB_PASSWORD: the name of a setting


def _element_opened(text: str, start: int) -> bool:
    """``<`` opens the element whose name ends at ``start``'s key word (``<db_password>``)."""
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_.:-"):
        start -= 1
    return start > 0 and text[start - 1] == "<"


def _first_argument(text: str, start: int) -> bool:
    """The quoted key word is a call's first argument: ``setProperty("X_TOKEN", …``."""
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_.-"):
        start -= 1
    while start > 0 and text[start - 1] in "\"'\\":
        start -= 1
    while start > 0 and text[start - 1] in " \t":
        start -= 1
    return start > 0 and text[start - 1] == "("


def _named_by(text: str, start: int, names: frozenset[str]) -> int:
    """Where the attribute or key in ``names`` starts whose value is the key word that starts at
    ``start`` (``<entry key="db.password">``, ``- name: DB_PASSWORD``, ``{"name": "DB_PASSWORD"``);
    -1 if it is not such a value."""
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_.:-"):
        start -= 1
    while start > 0 and text[start - 1] in "\"'\\ \t":
        start -= 1
    if start == 0 or text[start - 1] not in ":=":
        return -1
    start -= 1
    while start > 0 and text[start - 1] in "\"'\\ \t":
        start -= 1
    end = start
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_-"):
        start -= 1
    return start if text[start:end].casefold() in names else -1


_ATTRIBUTE_NAMES = frozenset(("key", "name", "property"))
# Elements of configuration that name a setting in an attribute: not a page's (a button, a label)
_SETTING_ELEMENTS = frozenset(
    (
        "add",
        "attribute",
        "config",
        "credential",
        "entry",
        "env",
        "item",
        "param",
        "parameter",
        "prop",
        "property",
        "secret",
        "setting",
        "var",
        "variable",
    )
)
_ENTRY_NAMES = frozenset(("name", "key"))


def _in_setting_element(text: str, start: int) -> bool:
    """The key word is the name of a setting element: ``<entry key="db.password">``."""
    attribute = _named_by(text, start, _ATTRIBUTE_NAMES)
    if attribute < 0:
        return False
    opened = text.rfind("<", max(0, attribute - 200), attribute)
    if opened < 0 or ">" in text[opened:attribute]:
        return False
    end = opened + 1
    while end < attribute and (text[end].isalnum() or text[end] in "_:.-"):
        end += 1
    return text[opened + 1 : end].rpartition(":")[2].casefold() in _SETTING_ELEMENTS


def _operator_fits(match: re.Match[str], operator: str, value: str) -> bool:
    """An element's text, a first argument, a spaced quoted value and the value of a named entry
    need their context."""
    text = match.string
    bare = operator.strip(" \t")
    if bare[:1] == ":" and bare[1:].lstrip(" \t")[:1] in ("|", ">"):  # a YAML block scalar
        return True
    if (bare.endswith(">") and not bare.endswith("=>")) or bare.endswith("<value>"):
        if not text.startswith("</", match.end(4)):
            return False
        if bare[0] in "\"'\\":  # <entry key="db.password">…</entry>
            return _in_setting_element(text, match.start(1))
        return _element_opened(text, match.start(1))  # <password type="text">…</password>
    if "value" in bare and bare.endswith(":"):  # - name: DB_PASSWORD\n  value: …
        return _named_by(text, match.start(1), _ENTRY_NAMES) >= 0
    if bare.endswith(","):
        return _first_argument(text, match.start(1))
    if not bare:  # password "…": a quoted value after a space
        return _ENV_NAME.fullmatch(value) is None
    return True


# Words after which a value is a password or a user's credentials, though not always one
# ("credentials: include", "login: true", "pass: true"), as after a password word with a suffix.
_CREDENTIAL_WORDS = frozenset(("creds", "credential", "credentials", "login", "pass"))
# Key words strong enough that a value a person chose is a secret too ("JWT_SECRET=supersecretvalue",
# "client_secret: my-client-secret-value", "api_key=ThisIsMyApiKeyValue"); after the others
# ("token", "auth", "signature") a value must look random.
_STRONG_WORDS = re.compile(
    r"(?i)secret|client[_-]?secret|api[_-]?key|apikey"
    r"|(?:secret|private|encryption|signing|master|client)[_-]?key"
)
# What describes a secret or a setting rather than being one: "password: required", "secret: hidden"
_DESCRIPTIVE = frozenset(
    (
        "absent",
        "any",
        "auto",
        "blank",
        "default",
        "empty",
        "forbidden",
        "hidden",
        "invalid",
        "mandatory",
        "matching",
        "missing",
        "none",
        "optional",
        "pending",
        "present",
        "secret",
        "sensitive",
        "unknown",
        "unset",
        "wrong",
    )
)
_DESCRIPTIVE_WORD = re.compile(r"[A-Z]?[a-z]{3,12}ed")  # "required", "enabled", "Disabled", "masked"
# An algorithm's or a scheme's name, not a value: "HMAC-SHA256", "RSA-SHA256", "AES-256-GCM", "OAuth2Bearer"
_SCHEME_NAME = re.compile(
    r"(?:[A-Z]{2,}\d{0,4}|\d{2,4})(?:[-_/](?:[A-Z]{2,}\d{0,4}|\d{2,4}))+"
    r"|(?i:(?:aes|rsa|sha|hmac|gcm|cbc|ctr|ecdsa|ecdh|eddsa|ed25519|x25519|md5|pbkdf2|bcrypt|argon2(?:id|i|d)?"
    r"|scrypt|chacha20|poly1305|oaep|pss|pkcs|des|hs|rs|es|ps|oauth|bearer|basic|digest|ntlm|jwt)[-_/]?\d{0,4}){1,4}"
)
# A placeholder a person writes where the secret goes: "your-api-key-here", "<secret>", "xxxx"
_HUMAN_PLACEHOLDER = re.compile(
    r"(?i)(?:your|enter|insert|put|add|replace|change)[-_ ].*|.*[-_ ](?:here|goes|example|placeholder|sample)"
    r"|(?:example|sample|dummy|placeholder|test|fake|redacted|masked|changeme|x+|\.+)"
)
# A name with a release date: "gpt-4o-mini-2024-07-18", "claude-3-5-sonnet-20241022"
_DATED_NAME = re.compile(r"[a-z][a-z0-9]*(?:[-.][a-z0-9]+)*?-(?:20\d{2}-\d{2}-\d{2}|20\d{6})")
_BOOLEANS = frozenset(("true", "false", "yes", "no", "on", "off"))
_YAML_KEY = re.compile(r"[\w.-]+:(?:\s|$)")  # a YAML key on a block's first line: no value here


# A value that names a secret rather than being one: "my-app-secret-name",
# "projects/123/secrets/openai-key/versions/latest", "db_password_file"
_SELF_NAMED = re.compile(
    r"(?i)(?:^|[-_./])(?:secrets?|passwords?|tokens?|keys?|apikey|credentials?)[-_.]"
    r"(?:[\w.-]*[-_.])?(?:name|id|ref|path|file|arn|uri)$|/secrets/"
)
# Words glued before a key word that make it something else: a page or a cursor's token
# ("next_page_token"), a getter whose arguments name the secret (keyring.get_password('smtp', …))
_NOT_SECRET_LEADS = ("page", "continuation", "pagination", "cursor", "sync", "resume")
_GETTERS = ("get", "load", "fetch", "lookup", "retrieve", "delete", "read", "has")


def _lead_word(text: str, start: int) -> str:
    """The word glued before the key word that starts at ``start`` ("get_" of "get_password")."""
    end = start
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_-"):
        start -= 1
    return text[start:end].casefold().rstrip("_-")


def _names_a_reference(text: str, start: int) -> bool:
    """A key word joined to a word before it ("existingSecret", "external_secret"): the value
    names a stored secret, it is not one."""
    if start > 0 and text[start - 1].isalpha():
        return True
    end = start
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_-"):
        start -= 1
    return text[start:end].casefold().rstrip("_-").endswith(("existing", "external", "ref", "sealed"))


def _descriptive(value: str) -> bool:
    """A word that says what a value is or must be ("required", "enabled", "optional"), not a value."""
    return value.casefold() in _DESCRIPTIVE or _DESCRIPTIVE_WORD.fullmatch(value) is not None


def _human_secret(value: str) -> bool:
    """A value a person chose after a strong key word: any single word long enough that does not
    name, describe or stand for one ("supersecretvalue", "correct-horse-battery-staple")."""
    return (
        len(value) >= 8
        and not any(ch.isspace() for ch in value)
        and not _ENV_NAME.fullmatch(value)
        and not _PLAIN_VALUE.fullmatch(value)
        and not _HUMAN_PLACEHOLDER.fullmatch(value)
        and not _SCHEME_NAME.fullmatch(value)
        and not _descriptive(value)
    )


def _password_like(value: str) -> bool:
    """Not a plain word, a name or a setting: "Tr0ub4dor&3", not "strict" or "same-origin"."""
    return (
        len(value) >= 6
        and not (value.isalpha() and value.islower())
        and not _NAME.fullmatch(value)
        and not _ENV_NAME.fullmatch(value)
        and not _PLAIN_VALUE.fullmatch(value)
    )


def is_secret_value(match: re.Match[str]) -> bool:
    """After a password-like word, any value is a secret; after key/token words, a random-looking one."""
    word, core, operator, value = match.group(1, 2, 3, 4)
    if len(value) < 4:  # shorter than any secret below ("pwd: a", "token=&a")
        return False
    if _stands_for_secret(value) or value.endswith(":") or _YAML_KEY.match(value):
        return False  # a YAML key on the next line: no value here
    bare = value.rstrip(")]};,")
    if not any(ch.isalnum() for ch in bare) or bare in ("[", "{", "(", "[]", "{}", "()"):
        return False  # punctuation or an empty literal: code, not a value
    if _is_code(bare) or bare.casefold().endswith(core.casefold().replace("-", "_")):
        return False  # code, or a variable named after the key ("password=password")
    if not _operator_fits(match, operator, value):
        return False
    if _descriptive(value):  # "password: required", "secret: hidden"
        return False
    lead = _lead_word(match.string, match.start(1))
    if operator.rstrip(" \t\"'").endswith("(") and lead.endswith(_GETTERS):
        return False  # keyring.get_password('smtp', …): the arguments name the secret
    if lead.endswith(_NOT_SECRET_LEADS):
        return False  # next_page_token=…: a cursor, not a credential
    suffix = word[len(core) :]
    if suffix:  # "password_super_secure", "apikey_myservice", "token_url"
        parts = _SUFFIX_PART.findall(suffix)
        if not parts or parts[-1].casefold() in _NOT_SECRET_SUFFIX or _PLAIN_VALUE.fullmatch(value):
            return False
        if _PASSWORD_WORDS.fullmatch(core):
            return _password_like(value)
    elif core.casefold() in _CREDENTIAL_WORDS:
        return _password_like(value)
    elif _PASSWORD_WORDS.fullmatch(core):
        if value.casefold() in _BOOLEANS:  # password: true (a setting that asks for one)
            return False
        if core.casefold() == "pwd" and value.startswith(("/", "~")):
            return False  # PWD is also the working directory's variable: a path there is not a password
        # a rule, not a password: "Password: must be at least 8 characters", "Passwort: mindestens 12"
        rest = match.string[match.end(4) : match.end(4) + 2]
        rule = (
            value.isalpha()
            and (value.islower() or value.istitle())
            and rest[:1] == " "
            and rest[1:].isalnum()
        )
        return len(value) >= 4 and not rule
    if _SELF_NAMED.search(value):  # secret: my-app-secret-name, a path to a stored secret
        return False
    if (
        _STRONG_WORDS.fullmatch(core)
        and not operator.endswith("(")  # secret("my-secret-name") names the secret it fetches
        and not _names_a_reference(match.string, match.start(1))
        and _human_secret(value)
    ):
        return True
    # a key or token is random: one word, not a name ("authToken", "oauth2-proxy", "eos_token"),
    # nor an algorithm's or a scheme's ("HMAC-SHA256", "OAuth2Bearer")
    return (
        len(value) >= 8
        and " " not in value
        and shannon_entropy(value) >= 3.0
        and not _NAME.fullmatch(value)
        and not _ENV_NAME.fullmatch(value)
        and not _SCHEME_NAME.fullmatch(value)
        and not _DATED_NAME.fullmatch(value)
    )


# A name in kebab case after "sk-" ("sk-learn-pipeline-v2", "task_sk-compute-embeddings-0001"),
# not a key: random keys have no run of lower-case words between dashes.
SLUG = re.compile(
    r"sk-(?:(?:proj|svcacct|admin|ant)-|(?!(?:proj|svcacct|admin|ant)-))(?:[a-z0-9]+-)*[a-z]{3,}-[a-z0-9]+(?:-[a-z0-9]+)*"
)


def is_sk_key(match: re.Match[str]) -> bool:
    """An "sk-" key, not a name in kebab case; a key written in chunks of one length
    ("sk-proj-abcd-efgh-ijkl-mnop-qrst") is no name."""
    key = match.group(0)
    if SLUG.fullmatch(key) is None:
        return True
    body = key[3:]
    for prefix in ("proj-", "svcacct-", "admin-", "ant-"):
        body = body.removeprefix(prefix)
    chunks = body.split("-")
    return len(chunks) >= 4 and len({len(chunk) for chunk in chunks}) == 1 and len(chunks[0]) >= 3


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
    raw = match.group(1)
    value = raw.strip("\"'[](){}<>,;|")
    return not (
        _METAVAR.fullmatch(raw) or _METAVAR.fullmatch(value) or _stands_for_secret(value) or value.isdigit()
    )


def is_sql_secret(match: re.Match[str]) -> bool:
    """IDENTIFIED BY's password: quoted, or one that does not read as a word ("identified by email.")."""
    value = match.group(1)
    if match.string[match.start(1) - 1] not in "'\"" and not _password_like(value.rstrip(".,:!?)")):
        return False
    return not (_stands_for_secret(value) or value in ("%s", "?") or _METAVAR.fullmatch(value))


# What a documented example or a template puts where a token's body goes: "ghp_xxxx…",
# "AKIAXXXXXXXXXXXXXXXX", "xoxb-your-token-here", "sk_live_0000…".
_TOKEN_PLACEHOLDER = re.compile(r"(.)\1{7}|[-_.](?:your|my)[-_]|[-_.](?:here|example|placeholder)$")


def is_token(match: re.Match[str]) -> bool:
    """A provider's token, not a placeholder in its format."""
    return _TOKEN_PLACEHOLDER.search(match.group(0)) is None


def is_dot_token(match: re.Match[str]) -> bool:
    """A provider's token; Vault's legacy "s." tokens (24 characters, no other mark) only if random:
    upper and lower case and digits, and varied."""
    token = match.group(0)
    if token.startswith("s."):
        body = token[2:]
        return (
            any(ch.isupper() for ch in body)
            and any(ch.islower() for ch in body)
            and any(ch.isdigit() for ch in body)
            and shannon_entropy(body) >= 3.8
        )
    return is_token(match)


def is_bearer_token(match: re.Match[str]) -> bool:
    """A token, not a word: "missing Bearer credentials" names none."""
    return _token_like(match.group(1))


# The words that announce a secret (not a secret themselves).
_PASSWORD_WORD = (  # any value after these is a secret
    r"passw(?:or)?d|passphrase|passcode|pass|pwd|pw|db[_-]?pass(?:w(?:or)?d)?|passwort|kennwort"  # noqa: S105
    r"|contrase(?:ñ|n)a|senha|mot de passe"
    r"|пароль|has(?:ł|l)o|wachtwoord|lösenord|パスワード|密码|密碼"
)
# Group 1: the key word with its suffix; group 2: the key word. Used with (?i); a "KEY" of its own
# only in an environment variable's name ("HEROKU_KEY").
SECRET_KEY_WORDS = (
    r"(((?:secret|private|encryption|signing|master|subscription|account|shared[_-]?access|service"
    r"|client|db|database|priv|admin|license|consumer|webhook|auth|app|application)[_-]?key|api[_-]?key|apikey"
    rf"|secret|token|{_PASSWORD_WORD}|access[_-]?key|client[_-]?secret|auth|sig(?:nature)?"
    r"|session[_-]?id|creds|credentials?|login|(?-i:(?<=[A-Z0-9][_-])KEY))"
    r"(?:[_-][a-z0-9]{1,16}){0,3})"
)
# A type before "=": "var apiToken string = …", "api_token: str = …", "let token: &str = …".
_TYPE = (
    r"(?:&?(?:'static[ \t]+)?str|string|bytes|\[\]byte|secretstr|secret|optional\[str\]"
    r"|option<string>|charsequence|nsstring[ \t]*\*|(?:const[ \t]+)?char[ \t]*\*)"
)
# A Python annotation before "= '…'": "Final[str]", "str | None", "Annotated[str, Field()]"
_ANNOTATION = r"[a-z_][\w.]{0,40}(?:\[[^=\n\"']{0,80}\])?"
_QUOTE_NEXT = r"(?=[ \t]*(?:[bru]{1,2}|@)?\\*[\"'])"
# Attributes of an element: ` type="text"`, ` name='x'`
_ATTRIBUTES = r"(?:[ \t]+[a-z_:][\w:.-]{0,40}[ \t]*=[ \t]*(?:\"[^\"<>\n]{0,100}\"|'[^'<>\n]{0,100}'))"
# A call that only wraps a literal: String::from("…"), str("…"), SecretStr("…"), Buffer.from("…")
_WRAPPER = (
    r"(?:new[ \t]+)?(?:string(?:::from|::new|\.valueof)?|str|bytes|bytearray|secretstr|secretbytes"
    r"|secretstring|sensitive|some|buffer\.from|cstring::new|std::string)"
)
# Group 3, what joins the key word and its value.
SECRET_OPERATORS = (
    r"((?:[ \t]*:[ \t]*|[ \t]+)" + _TYPE + r"[ \t]*(?::=|=(?!=))"  # a typed declaration
    r"|[ \t]*:[ \t]*"  # an annotated one: password: Final[str] = "…", password: str | None = "…"
    + _ANNOTATION
    + r"(?:[ \t]*\|[ \t]*"
    + _ANNOTATION
    + r"){0,3}[ \t]*=(?!=)"
    + _QUOTE_NEXT
    + r"|[ \t]*\[[0-9]{0,4}\][ \t]*=(?!=)"  # a C array: char password[] = "…"
    + _QUOTE_NEXT
    # a subscript: env["DB_PASSWORD"] = …, user[password]=…
    + r"|\\*[\"']?[ \t]*\][ \t]*(?:\|\|=|\?\?=|=(?!=))"
    r"|[ \t]*:[ \t]*[|>][1-9]?[+-]?[1-9]?(?=\r?\n[ \t]+\S)"  # a YAML block scalar: password: |
    r"|\\*[\"']?\s*(?:=>|::?=|\|\|?=|[?.+]=|[!=]==?" + _QUOTE_NEXT + r"|[:=\uff1a](?!=))"  # assignment
    r"|>(?=[^<\n]{1,256}</)"  # an XML element: <password>…</password>
    r"|" + _ATTRIBUTES + r"+[ \t]*>(?=[^<\n]{1,256}</)"  # with attributes: <password type="text">…
    # the key word in an element's key or name: <entry key="db.password">…, <property
    # name="password"><value>…
    r"|\\*[\"']" + _ATTRIBUTES + r"*[ \t]*/?>[ \t]*(?:<value>)?(?=[^<\n]{1,256}</)"
    # a Kubernetes env entry: "- name: DB_PASSWORD\n  value: …", {"name": "DB_PASSWORD", "value": …}
    r"|\\*[\"']?[ \t]*\r?\n[ \t]*value[ \t]*:"
    r"|\\*[\"'][ \t]*,[ \t]*\\*[\"']value\\*[\"'][ \t]*:"
    r"|\\*[\"'][ \t]*,[ \t]*"
    + _QUOTE_NEXT  # a first argument: setProperty("X_TOKEN", "…")
    + r"|\\*[\"'][ \t]+value[ \t]*="  # <add key="ApiKey" value="…"/>
    r"|[ \t]*\("
    + _QUOTE_NEXT  # a call: secret("…")
    + r"|[ \t]+(?=@?[\"']))"  # password "…";
    # a value on the next line only if indented (YAML): an empty "KEY=" takes nothing of the next
    r"[ \t]*(?:\r?\n[ \t]+)?(?:"
    + _WRAPPER
    + r"[ \t]*\("
    + _QUOTE_NEXT
    + r"[ \t]*)?(?:(?:[bru]{1,2}|@)?\\*[\"'])?"
)
# After a YAML block scalar's indicator, its first line (indented by 2 to 8 spaces)
_BLOCK_LINE = "|".join(rf"(?<=[|>+\-1-9]\n{' ' * n})" for n in (2, 4, 6, 8))
# Group 4, the value: an element's text; quoted, to the closing quote (escapes inside a plain one);
# a block scalar's line; in a connection string (the key glued to "="), to the ";" that ends it,
# spaces and all ("Password=S3cr3t Pw!;"); else to a separator (a backslash that starts no escape
# is part of it: "pa\ss").
SECRET_VALUE = (
    r"((?<=>)[^<\n]{1,256}(?=</)|(?<=[^\\]\")(?:[^\"\\\n]|\\.)+|(?<=\\\")[^\"\\\n]+|(?<=')[^'\\\n]+"
    r"|(?:" + _BLOCK_LINE + r")\S(?:[^\n\r]{0,254}\S)?"
    r"|(?<=[a-z0-9_]=)[^\s\"';=&<>][^;=\n\"'<>&]{0,126}(?=;)"
    r"|(?:[^\s\"',;&\\\u3000-\u9fff\uac00-\ud7af\uff01-\uff0f\uff1a-\uff20]|&(?![\w.\[\]-]+=)"
    # a comma or semicolon inside the value ("Tr0ub4dor;3horse"), not one before a space or a key
    r"|(?<=[^\s\"',;&])[,;](?=[^\s\"',;=&<>()]+(?:[\s\"'<>()]|$))"
    r"|\\\\?(?![nrtu\"'\\]))+)"
)
_PASSWORD_WORDS = re.compile(rf"(?i){_PASSWORD_WORD}")


def is_jwt(match: re.Match[str]) -> bool:
    """A JWT, or one wrapped in base64 once more (its "eyJ…" is "ZXlK…")."""
    value = match.group(0)
    if value[0] == "e":
        return True
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    return _JWT_TEXT.match(decoded) is not None


_JWT_TEXT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}")


# Words a description or a rule starts with, not a passphrase: "password: the user's password",
# "password: must be 12 characters", "pwd: not set", "password = None if …".
_PROSE_START = frozenset(
    (
        "a",
        "an",
        "any",
        "at",
        "can",
        "cannot",
        "enter",
        "false",
        "for",
        "if",
        "in",
        "is",
        "its",
        "max",
        "maximum",
        "may",
        "min",
        "minimum",
        "must",
        "needs",
        "no",
        "none",
        "not",
        "null",
        "of",
        "on",
        "optional",
        "required",
        "see",
        "set",
        "should",
        "the",
        "their",
        "this",
        "to",
        "true",
        "use",
        "used",
        "when",
        "will",
        "your",
    )
)
_CODE_WORDS = frozenset(("if", "else", "or", "and", "not", "in", "is", "lambda", "await", "return", "for"))


def is_passphrase(match: re.Match[str]) -> bool:
    """Words after "password=" or "password:", unquoted ("password=correct horse battery staple",
    "pwd: my secret pass"): a passphrase, not a rule, a description or code. One word is left to
    the key-word recognizer."""
    words = match.group(1).split()
    if len(words) < 2:
        return False
    first = words[0].casefold()
    if (
        first in _PROSE_START
        or _descriptive(words[0])
        or _stands_for_secret(words[0])
        or _PLAIN_VALUE.fullmatch(words[0])  # a path, a number, a URL: "PWD: /work -w /work"
    ):
        return False
    for word in words:
        folded = word.casefold()
        if folded in _CODE_WORDS or "passw" in folded or "passphrase" in folded or folded == "key":
            return False  # code, or a description that names what it describes
        if not any(ch.isalnum() for ch in word) or any(ch in "()[]{}|" for ch in word):
            return False  # an operator or a bracket: code or markup
    return True


# An SQL type or a metavar in capitals ("VARCHAR2", "PASSWORD_HASH"): not a password in prose.
_CAPITALS = re.compile(r"[A-Z][A-Z0-9_]*")


def is_prose_password(match: re.Match[str]) -> bool:
    """The word after "my password is", "set password", "change password to": a password if it
    reads as one ("Tr0ub4dor&3", "hunter2"), not a word ("required", "Reset") or code."""
    value = match.group(1)
    return (
        _password_like(value)
        and _CAPITALS.fullmatch(value) is None
        and not _stands_for_secret(value)
        and not _is_code(value)
        and not any(ch in "()[]{}=" for ch in value)
        # a JSON escape ("f\\u00fcr": "für" as json.dumps writes it) is encoded text: the decoded
        # scan reads the words around it, and finds the password after them
        and "\\u" not in value
    )


def is_tuple_password(match: re.Match[str]) -> bool:
    """The second string of a credentials pair (``auth=("bob", "…")``, ``HTTPBasicAuth('u', '…')``)."""
    value = match.group(3)
    return not (
        _stands_for_secret(value)
        or _descriptive(value)
        or _ENV_NAME.fullmatch(value)
        or _HUMAN_PLACEHOLDER.fullmatch(value)
        or value.strip() == ""
    )


def is_prose_key(match: re.Match[str]) -> bool:
    """A value after "api key", "token", "secret" in prose or a command: one that looks random
    (letters and digits, varied), not a name, a path, a placeholder or a hash named as such."""
    value = match.group(1)
    return (
        any(ch.isdigit() for ch in value)
        and any(ch.isalpha() for ch in value)
        and shannon_entropy(value) >= 3.0
        and not _NAME.fullmatch(value)
        and not _ENV_NAME.fullmatch(value)
        and not _PLAIN_VALUE.fullmatch(value)
        and not _HUMAN_PLACEHOLDER.fullmatch(value)
        and not _SELF_NAMED.search(value)
        and not _DATED_NAME.fullmatch(value)
        and _TOKEN_PLACEHOLDER.search(value) is None
    )


def is_fallback_secret(match: re.Match[str]) -> bool:
    """The literal a secret falls back to when the environment has none: a password-like value."""
    value = match.group(1)
    return not _stands_for_secret(value) and (_password_like(value) or _human_secret(value))

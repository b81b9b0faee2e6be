"""The fast path's recognizers: compiled patterns, each with a validator that confirms a match.

Every recognizer names one entity type. Patterns find candidates; validators (Luhn for
cards, mod-97 for IBANs, ``ipaddress`` for IPs, ``phonenumbers`` for phone numbers,
entropy for generic secrets: :mod:`processors.pii.number_checks` and
:mod:`processors.pii.secret_checks`) reject look-alikes such as trace ids, versions and timestamps.
"""

from __future__ import annotations

import re
from functools import cache

from processors.pii.marks import MARKS
from processors.pii.number_checks import (
    iban_valid,
    iban_valid_named,
    is_card_number,
    is_grouped_card_number,
    is_ipv4_address,
    is_ipv6_address,
    is_phone_number,
)
from processors.pii.provider_tokens import provider_recognizers
from processors.pii.recognizer import B1 as _B1
from processors.pii.recognizer import BK1 as _BK1
from processors.pii.recognizer import INSIDE_SAME_SCRIPT_RUN as _INSIDE_SAME_SCRIPT_RUN
from processors.pii.recognizer import NOT_INSIDE_NUMBER as _NOT_INSIDE_NUMBER
from processors.pii.recognizer import SAME_SCRIPT_DIGIT as _SAME_SCRIPT_DIGIT
from processors.pii.recognizer import D as _D
from processors.pii.recognizer import E as _E
from processors.pii.recognizer import Recognizer
from processors.pii.recognizer import after_escape as _after_escape
from processors.pii.recognizer import first_digit as _first_digit
from processors.pii.secret_checks import (
    SECRET_KEY_WORDS,
    SECRET_OPERATORS,
    SECRET_VALUE,
    is_bearer_token,
    is_fallback_secret,
    is_header_secret,
    is_jwt,
    is_option_secret,
    is_passphrase,
    is_prose_key,
    is_prose_password,
    is_secret_value,
    is_sk_key,
    is_sql_secret,
    is_tuple_password,
)
from processors.pii.tlds import IDN_TLDS

__all__ = ["ENTITIES", "Recognizer", "recognizers"]

# ASCII letters and digits, and the letters of Latin-1, Latin Extended-A and B and Latin
# Extended Additional (Vietnamese: "tr\u1ea7n.nguy\u1ec5n")
_LATIN_LETTERS = "\u00c0-\u024f\u1e00-\u1eff"
_LATIN = f"A-Za-z0-9{_LATIN_LETTERS}"
# A JSON escape of a character past ASCII ("jos\\u00e9"): a letter of the address it is in;
# an escape of an ASCII one ("\\u0040", "\\n") is a boundary (see after_escape)
_WIDE_ESCAPE = r"\\u(?!00[0-7])[0-9A-Fa-f]{4}"
# A label of a host name: letters and digits of any script, marks, "-" (and "_", which no host
# name holds: one class, read twice as fast as an alternation without it)
_LABEL = rf"[\w{MARKS}-]+"
# What follows an address's first letter where it is of another script than Latin: its letters and
# digits, marks, and the punctuation of addresses; Latin letters after that punctuation only
# ("\u043f\u0435\u0442\u0440\u043e\u0432.ivan@…"), so prose glued before a Latin address stays
_OTHER_LOCAL = rf"[^\WA-Za-z{_LATIN_LETTERS}_]++|[{MARKS}]++|[._%+-]++[\w{MARKS}]*+"
# A top-level domain of another script than Latin: one of IANA's (see processors.pii.tlds)
_IDN_TLD = "|".join(sorted(IDN_TLDS, key=len, reverse=True))


def _not_git(match: re.Match[str]) -> bool:
    return not match.group(1).startswith("git@")  # "git@github.com:org/repo.git"


def _past_ascii(match: re.Match[str]) -> bool:
    return not match.group(2).isascii()


# What a password word may be glued to ("PGPASSWORD", "newpassword", "confirmpassword")
_PASSWORD_PREFIXES = (
    "pg",
    "db",
    "new",
    "old",
    "confirm",
    "current",
    "repeat",
    "verify",
    "retype",
    "admin",
    "root",
    "user",
    "master",
    "mysql",
    "redis",
    "smtp",
    "my",
)


# Password words and what joins them to a password in prose, in the languages the key words cover
_PROSE_WORDS = (
    r"passw(?:or)?d|passphrase|passcode|pwd|pass|requirepass|passwort|kennwort|mot de passe"
    r"|contrase(?:ñ|n)a|senha|wachtwoord|lösenord|has(?:ł|l)o|пароль|şifre(?:m|niz)?|parola"
    r"|비밀번호|암호|密码|密碼|パスワード"
)
# the words every match of _PROSE_WORDS holds, casefolded (the word screen's; a test reads them off it)
_PROSE_KEY_WORDS = (
    "passw", "passphrase", "passcode", "pwd", "pass", "passwort", "kennwort", "mot de passe", "contrase",
    "senha", "wachtwoord", "lösenord", "hasło", "haslo", "пароль", "şifre", "parola", "비밀번호", "암호",
    "密码", "密碼", "パスワード",
)  # fmt: skip
_PROSE_SCREEN = (
    r"pass|pwd|kennwort|mot de passe|contrase|senha|wachtwoord|lösenord|has[łl]o|пароль|şifre|parola"
    r"|비밀번호|암호|密码|密碼|パスワード"
)
_PROSE_JOINS = (  # words (not the start of a longer one), then marks and CJK particles
    r"(?:is|was|to|now|be|remains|becomes|changed to|set to|ist|lautet|est|es|é|è|är|er|jest|это)(?![a-z])"
    r"|:|\uff1a|→|->|=|-|\u2013|\u2014|是|为|為|は|이|가|은|는"
)


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
    # how each of SECRET_KEY_WORDS ends, then what must follow it: on the casefolded text
    secret_gate = re.compile(
        # a key word (past a suffix: "password_super_secure"), then what starts an operator, an
        # argument, an element's text or a quoted value; or a type, then "=". The words grouped
        # by their first letter: one test where the text has one of them.
        r"(?:key|s(?:ecret|ig(?:nature)?|ession(?:[_-]?id)?|e[ñn]a|enha|enord)|token"
        r"|p(?:ass(?:w(?:or)?d|phrase|e)?|wd?)|auth|cred(?:s|entials?)|login|wort|has[łl]o|woord|пароль"
        r"|ワード|码|碼)"
        r"(?:[_-][\w-]{0,60}+)?[\\\"'\]]*\s*(?:[:=\uff1a]|>[^<\n]{1,256}</|>[ \t]*<value>|[?.+!|]\|?="
        r"|[,(]\s*@?\\*[\"']|@?[\"']|[a-z&'\[\]<>* ]{2,40}=|\[\d{1,4}\]\s*=|value[ \t]*:)"
    )
    return (
        Recognizer(
            "PRIVATE_KEY",
            # A PEM, OpenSSH or PGP private key block, replaced whole (first, so nothing inside it is
            # counted as anything else): to its END line or, cut short (an attribute truncated by a
            # length limit), to the next END line or the end of the text.
            re.compile(
                r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:[^-]++|-(?!----END))*+"
                r"(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----)?"
            ),
            hints=("PRIVATE KEY",),
            screen="PRIVATE KEY",
        ),
        Recognizer(
            "PRIVATE_KEY",
            # a PuTTY key file's private lines
            re.compile(r"Private-Lines:[ \t]*\d+\r?\n((?:[A-Za-z0-9+/=]{1,128}(?:\r?\n|$))+)"),
            group=1,
            hints=("Private-Lines:",),
            screen="Private-Lines:",
        ),
        Recognizer(
            "PRIVATE_KEY",
            # a private key's DER in base64 without its PEM lines: PKCS#8 (RSA, EC) or PKCS#1 RSA
            re.compile(
                r"M(?:II[A-Za-z0-9+/]{3}IBA(?:DAN|AKCA)|IG[A-Za-z0-9+/]AgEAMB|HcCAQEE)[A-Za-z0-9+/]{40,}={0,2}"
            ),
            hints=("MI", "MHcCAQEE"),
            screen="M(?:II[A-Za-z0-9+/]{3}IBA(?:DAN|AKCA)|IG[A-Za-z0-9+/]AgEAMB|HcCAQEE)",
        ),
        Recognizer(
            "CREDENTIALS",
            # The scheme is read from the start of its run only: from every letter of a long run of
            # letters and dots, the run would be read again (quadratic time). The user may be empty
            # ("redis://:pw@host"); the password runs to the last "@" before the host's end.
            re.compile(
                r"[a-zA-Z](?:(?<![A-Za-z0-9+.-][a-zA-Z])|" + _after_escape(r"[a-zA-Z]") + r")[a-zA-Z0-9+.-]*+"
                r"://([^\s:/@]*:[^\s/?\"'\\<>]+)@"
            ),
            group=1,
            hints=("://",),
            hint_pattern=re.compile(r"://[^\s/@]*@"),  # user info before a host
            screen="://[^/@]*@",
        ),
        Recognizer(
            "JWT",
            # signed or not (an empty signature, or none), its JSON spaced ('{ "alg"': "eyAi…"), or
            # wrapped in base64 once more ("ZXlK…"); or encrypted (JWE: five parts, the key's may be empty)
            re.compile(
                r"(?:e" + _B1 + r"y(?:J|Ai)[A-Za-z0-9_-]{5,}\."
                r"(?:[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
                r"|ey(?:J|Ai)[A-Za-z0-9_-]{5,}(?:\.[A-Za-z0-9_-]*)?)"
                r"|Z" + _BK1 + r"XlK[A-Za-z0-9+/]{40,}={0,2})"
            ),
            validate=is_jwt,
            hints=("eyJ", "eyAi", "ZXlK"),
            screen="eyJ|eyAi|ZXlK",
        ),
        Recognizer(
            "BEARER_TOKEN",
            re.compile(r"[Bb]" + _B1 + r"(?:earer|EARER)(?<=[Bb]earer|BEARER)\s+([A-Za-z0-9\-._~+/]{8,}=*)"),
            validate=is_bearer_token,
            group=1,
            hints=("earer", "EARER"),
            screen="earer|EARER",
        ),
        Recognizer(
            "API_KEY",
            re.compile(r"s" + _BK1 + r"k-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_-]{20,}"),
            validate=is_sk_key,
            hints=("sk-",),
            screen="sk-",
        ),
        *provider_recognizers(),
        Recognizer(  # a Slack webhook's path is its secret
            "API_KEY",
            re.compile(r"hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9_/-]{20,})"),
            group=1,
            hints=("hooks.slack.com/",),
            screen=r"hooks\.slack\.com/",
        ),
        Recognizer(  # a Microsoft Teams incoming webhook: its path after webhookb2/ is its secret
            "API_KEY",
            re.compile(r"\.webhook\.office\.com/webhookb2/([^\s\"'<>]{20,})"),
            group=1,
            hints=(".webhook.office.com/",),
            screen=r"\.webhook\.office\.com/",
        ),
        Recognizer(  # a Discord webhook's token (after its id)
            "API_KEY",
            re.compile(r"/api/webhooks/\d{15,22}/([A-Za-z0-9_-]{40,100})"),
            group=1,
            hints=("/api/webhooks/",),
            screen=r"/api/webhooks/",
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
            validate=is_header_secret,
            group=1,
            hints=(":",),
            folded_pattern=re.compile(r"(?:cookie|authorization)[\\\"']*\s*:"),
            screen=":",
        ),
        Recognizer(
            "SECRET",
            # command-line options: "--password S3cret", "--api-key K", "curl -u admin:pw"
            re.compile(
                # "--password X", "--db-password X"
                r"(?<![\w-])(?:--(?:[a-z0-9]+-){0,3}(?:password|passwd|pass|api[_-]key|apikey|token|auth-token"
                r"|access-token|secret|client-secret)[ \t]+"
                r"|(?<=curl )(?:[^\n|;&]{0,400}?[ \t])??(?:-u|--user)[ \t]+[^\s:]+:"
                # the MySQL clients' "-pSECRET" (glued: "-p" alone asks for it), "sshpass -p SECRET"
                r"|(?:(?<=mysql )|(?<=mysqldump )|(?<=mysqladmin )|(?<=mariadb ))"
                r"(?:[^\n|;&]{0,200}?[ \t])??-p(?=\S)"
                r"|(?<=sshpass )(?:[^\n|;&]{0,200}?[ \t])??-p[ \t]*"
                # "htpasswd -b[c] FILE USER PASSWORD", "htpasswd -nb USER PASSWORD"
                r"|(?<=htpasswd )(?=(?:-[A-Za-z]+[ \t]+){0,3}-[A-Za-z]*b)(?:-[A-Za-z]+[ \t]+){1,4}"
                r"(?:(?<=n[ \t])|(?<=n[A-Za-z][ \t])|(?<=n[A-Za-z]{2}[ \t])|[^\s-]\S*[ \t]+)[^\s-]\S*[ \t]+)"
                # a quote around the value stays ("curl -u 'admin:pw'")
                r"[\"']?([^\s\"'-](?:\S*[^\s\"'])?)"
            ),
            validate=is_option_secret,
            group=1,
            hints=("--", "-u ", "-p", "htpasswd "),
            hint_pattern=re.compile(
                r"--(?:[a-z0-9]+-){0,3}(?:pass|api|token|auth-|access-|secret|client-)|curl |mysql|mariadb"
                r"|sshpass |htpasswd "
            ),
            screen="--(?:[a-z0-9]+-){0,3}(?:pass|api|token|auth-|access-|secret|client-)|curl |mysql|mariadb"
            "|sshpass |htpasswd ",
        ),
        Recognizer(
            "SECRET",
            # SQL: CREATE USER … IDENTIFIED BY '…', IDENTIFIED WITH mysql_native_password BY '…'
            re.compile(
                r"[Ii](?<![A-Za-z0-9_][Ii])(?i:dentified[ \t]+(?:with[ \t]+[a-z0-9_]+[ \t]+)?by[ \t]+"
                r"(?:password[ \t]+)?)[\"']?"
                r"((?<=')[^'\n]+|(?<=\")[^\"\n]+|(?<![\"'])[^\s;'\"]*[^\s;'\".,:!?)])"
            ),
            validate=is_sql_secret,
            group=1,
            screen="(?i)identified[ \t]",
            words=("dent",),  # no letter of it has another case (as i, s, k do: see fold)
        ),
        Recognizer(
            "SECRET",
            # an unquoted passphrase of several words: "password=correct horse battery staple",
            # "pwd: my secret pass, user: bob"; it ends at a separator, a line's end or the next key
            re.compile(
                r"(?i)p(?<![a-z0-9_$-]p)(?:assw(?:or)?d|assphrase|wd)(?![a-z0-9_-])[ \t]*[:=][ \t]*"
                r"([^\s\"'<>=,;&]+(?:[ \t]+(?![^\s\"'<>=,;&]+[ \t]*[:=])[^\s\"'<>=,;&]+){1,7})"
                r"(?=[ \t]*(?:$|[\r\n,;&\"'<>]|[^\s\"'<>=,;&]+[ \t]*[:=]))"
            ),
            validate=is_passphrase,
            group=1,
            folded_pattern=re.compile(
                r"(?:passw(?:or)?d|passphrase|pwd)[ \t]*[:=][ \t]*[^\s\"'<>=,;&]+[ \t]+\S"
            ),
            marks=":=",
            screen=r"(?i)(?:passw(?:or)?d|passphrase|pwd)[ \t]*[:=][ \t]*[^\s\"'<>=,;&]+[ \t]+[^\s]",
        ),
        Recognizer(
            "SECRET",
            # the second string of a credentials pair: auth=("bob", "…"), HTTPBasicAuth('u', '…')
            re.compile(
                r"(?i)(?<![a-z0-9_])(?:(?:http_?)?(?:basic|digest|proxy)?_?auth|creds|credentials?|login"
                r"|user_?pass(?:word)?)[ \t]*(?:[:=][ \t]*[(\[][ \t]*|\([ \t]*)"
                r"[bru]?([\"'])[^\"'\n]{1,256}?\1"
                r"[ \t]*,[ \t]*[bru]?([\"'])([^\"'\n\\]{1,256})\2"
            ),
            validate=is_tuple_password,
            group=3,
            folded_pattern=re.compile(r"(?:auth|creds|credential|login|pass)[ \t]*(?:[:=][ \t]*)?[(\[]"),
            marks="([",
            screen=r"(?i)(?:auth|creds|credential|login|pass)[ \t]*(?:[:=][ \t]*)?[(\[]",
        ),
        Recognizer(
            "SECRET",
            # The key word (with a prefix or suffix: db_password, AWSToken, apikey_myservice) after a
            # non-letter, a JSON escape, a lower-case letter (camelCase: dbPassword) or an acronym;
            # then an operator (":", "=", ":=", "?=", "==", "=>", a type and "=", ...), an element's
            # ">", a call's "(" or a first argument's ","; escaped quotes (tool-call arguments are
            # JSON in JSON) around the key; a quoted value runs to its closing quote, spaces and all.
            re.compile(
                # the first letters of SECRET_KEY_WORDS first: re skips ahead to them (4x faster)
                r"(?i)(?=[spematdkchwl\u043f\u30d1\u5bc6])(?:(?<![a-z0-9])|"
                + _after_escape()
                + r"|(?-i:(?<=[a-z0-9])(?=[A-Z]))|(?-i:(?<=[A-Z])(?=[A-Z][a-z]))"
                # a password word glued to what names whose it is: PGPASSWORD, dbpassword, newpassword
                + r"|(?=pass)(?:"
                + "|".join(f"(?<={prefix})" for prefix in _PASSWORD_PREFIXES)
                + "))"
                + SECRET_KEY_WORDS
                + SECRET_OPERATORS
                + SECRET_VALUE
            ),
            validate=is_secret_value,
            group=4,
            # between the word and the value (a full-width colon too), or around a quoted value
            hints=(":", "=", "\uff1a", '"', "'", "</"),
            folded_pattern=secret_gate,
            screen="[:=\"'\\x{ff1a}]|</",
        ),
        Recognizer(
            "SECRET",
            # a password in prose, in the languages the key words cover: "my password is Tr0ub4dor&3",
            # "the password for the admin panel is …", "Mein Passwort lautet …", "我的密码是…"; the
            # word after it only if it reads as a password
            re.compile(
                # (a CJK word may follow a Latin one without a space: "wifi密码")
                r"(?i)(?:(?<![a-z0-9_$-])|(?=[\u3131-\ud7af\u3040-\u30ff\u4e00-\u9fff]))"
                r"(?:" + _PROSE_WORDS + r")(?![a-z0-9_-])"
                # "for the admin panel", "vom WLAN", "del wifi", then a join ("is", ":") before the value
                r"(?:[ \t]+(?:for|of|für|vom|von|des|pour|du|de|para|per|del|da|do|della|voor|van|dla|для)"
                r"(?:[ \t]+[^\s:=\uff1a\"']{1,30}){1,4}?"
                r"(?:[ \t]*(?:" + _PROSE_JOINS + r"))+"
                r"|(?:[ \t]*(?:" + _PROSE_JOINS + r"))*)[ \t]*[\"'“„«]?"
                r"([^\s\"'<>`“”«»\u3000-\u303f\u3040-\u9fff\uac00-\ud7af\uff01-\uff0f\uff1a-\uff20]*"
                # not ending in a backslash: JSON inside JSON writes the quote after it as \"
                r"[^\s\"'<>`“”«».,;:!?)\\\u3000-\u303f\u3040-\u9fff\uac00-\ud7af\uff01-\uff0f\uff1a-\uff20])"
            ),
            validate=is_prose_password,
            group=1,
            folded_pattern=re.compile(_PROSE_WORDS),
            words=_PROSE_KEY_WORDS,
            screen=r"(?i)(?:" + _PROSE_SCREEN + r")",
        ),
        Recognizer(
            "SECRET",
            # a key or token in prose or after a command's setting name: "here's the api key: 806f…",
            # "my AWS secret is Z1Yz…", "aws configure set aws_secret_access_key Eu6D…"; only a
            # value that looks random
            re.compile(
                r"(?i)(?<![\w$-])(?:[a-z0-9]+[_-])*(?:(?:api|access|secret|app|application|auth|private|signing)"
                r"[ _-]?(?:key|token)|token|secret|secret[ _-]access[ _-]key)(?![a-z0-9-])"
                r"(?:[ \t]+(?:for|of)(?:[ \t]+[^\s:=\"']{1,30}){1,4}?(?:[ \t]*(?:is|was|:|→|->|=)(?![a-z]))+"
                r"|(?:[ \t]*(?:is|was|:|→|->|=)(?![a-z]))*)[ \t]+[\"']?"
                r"([A-Za-z0-9+/_=-]{15,}[A-Za-z0-9=])"
            ),
            validate=is_prose_key,
            group=1,
            folded_pattern=re.compile(r"(?:key|token|secret)[^\n]{0,200}?[ \t][\"']?[a-z0-9+/_=-]{16}"),
            words=("key", "token", "secret"),
            screen=r"(?i)(?:key|token|secret)[^\n]{0,200}?[ \t][\"']?[a-z0-9+/_=-]{16}",
        ),
        Recognizer(
            "SECRET",
            # a key or a code in a URL's query under a short name: Azure Functions' ?code=…, a
            # maps API's ?key=…, an OAuth callback's &code=…, ?otp=…, ?reset_code=…; only a value
            # that looks random (a country ?code=US, ?key=name stay)
            re.compile(
                r"(?i)[?&;](?:[a-z0-9]+[_-])*(?:key|code|otp|pin|passcode)=([A-Za-z0-9._~+/%-]{16,}=*)"
                r"(?![A-Za-z0-9._~+/%=-])"
            ),
            validate=is_prose_key,
            group=1,
            hints=("=",),
            folded_pattern=re.compile(r"[?&;][a-z0-9_-]{0,40}(?:key|code|otp|pin|passcode)="),
            screen=r"(?i)[?&;][a-z0-9_-]{0,40}(?:key|code|otp|pin|passcode)=",
        ),
        Recognizer(
            "SECRET",
            # a key given to an SDK client as its first argument: cohere.Client("CnwB…")
            re.compile(r"(?:Client|ClientV2|AsyncClient)\([ \t]*[\"']([A-Za-z0-9_-]{24,})[\"']"),
            validate=is_prose_key,
            group=1,
            hints=("Client(",),
            screen=r"Client\(",
        ),
        Recognizer(
            "SECRET",
            # a literal fallback for a secret read from the environment in code:
            # process.env.DB_PASSWORD || 'Fallb4ck!Pw', os.getenv('API_KEY') or "…", ${DB_PASSWORD:-…}
            re.compile(
                r"(?:process\.env\.|os\.(?:getenv|environ\.get)\([ \t]*[\"']|ENV\[[ \t]*[\"']|\$\{)"
                r"(?i:[A-Z0-9_]*(?:PASS|PW|SECRET|TOKEN|KEY|AUTH|CRED)[A-Z0-9_]*)"
                r"(?:[\"'][ \t]*[\])])?[ \t]*(?:\|\||\?\?|[ \t]or[ \t]|:-)[ \t]*[\"']?([^\"'\n}\s]{1,200})"
            ),
            validate=is_fallback_secret,
            group=1,
            hints=("||", "??", " or ", ":-"),
            screen=r"\|\||\?\?| or |:-",
        ),
        Recognizer(
            "SECRET",
            # secrets that command lines and config files carry without a key word: redis-cli -a …,
            # requirepass / masterauth …, docker login --password-stdin <<< …, echo '…' | sudo -S,
            # a .pgpass line (host:port:db:user:password), SMTP AUTH PLAIN …, wandb login …
            re.compile(
                r"(?:(?<=redis-cli )(?:[^\n|;&]{0,200}?[ \t])??-a[ \t]+"
                r"|(?<![\w-])(?:requirepass|masterauth)[ \t]+"
                r"|--password-stdin[ \t]*<<<[ \t]*"
                r"|(?<![\w-])(?:env[ \t]+add[ \t]+\S+(?:[ \t]+\S+)?|secret[ \t]+set[ \t]+\S+)[ \t]*<<<[ \t]*"
                r"|(?<![\w-])AUTH[ \t]+(?:PLAIN|LOGIN)[ \t]+"
                r"|(?<![\w-])(?:wandb[ \t]+login(?:[ \t]+--relogin)?"
                r"|huggingface-cli[ \t]+login[ \t]+--token)[ \t]+"
                r"|(?<=echo )(?=['\"]?[^\s'\"|]+['\"]?[ \t]*\|[ \t]*sudo[ \t]+(?:-[a-zA-Z]*[ \t]+)*-S)"
                r"|(?m:^[\w.-]+:(?:\d{1,5}|\*):[\w*.-]+:[\w*.@-]+:))"
                r"['\"]?((?!-)[^\s'\"|]+)"  # not an option ("wandb login --help")
            ),
            validate=is_option_secret,
            group=1,
            hint_pattern=re.compile(r"redis-cli |requirepass|masterauth|<<<|AUTH |login|echo |:\S*:\S*:\S*:"),
            words=("redis-cli ", "requirepass", "masterauth", "<<<", "auth ", "login", "echo ", ":"),
            screen=r"redis-cli |requirepass|masterauth|<<<|AUTH |login|echo |:\S*:\S*:\S*:",
        ),
        Recognizer(
            "EMAIL",
            # From the start of the run of address characters only (as for CREDENTIALS: linear time);
            # punctuation leading the run stays. ASCII addresses, which need no Unicode classes,
            # and JSON escapes of the letters past ASCII in them ("jos\\u00e9@…"): a Latin letter
            # or a combining mark before one ("garc\u00eda@…") makes it the next recognizer's.
            re.compile(
                # not at the letter of a JSON escape ("\\nzed@…" starts after it, so the escape stays
                # whole), nor after an escape of a letter past ASCII (it is part of the address)
                rf"(?:(?<![{_LATIN}._%+-])(?<![{MARKS}])(?<!(?<!\\)\\)|(?<=\\[nrt])|(?<=\\u00[0-7][0-9A-Fa-f]))"
                r"[._%+-]*+"
                rf"((?:[A-Za-z0-9]|{_WIDE_ESCAPE})(?:[A-Za-z0-9._%+-]++|{_WIDE_ESCAPE})*+"
                rf"@(?:[A-Za-z0-9-]++|{_WIDE_ESCAPE})+(?:\.(?:[A-Za-z0-9-]++|{_WIDE_ESCAPE})+)*\.[A-Za-z]{{2,}})"
                # a letter would go on with the top-level domain; an "_" or a digit after it does
                # not (a host name holds no "_"): "jane@example.com_1700000000" (a session id made
                # of an address and a time), "jane@example.com_invoice.pdf"
                rf"(?![A-Za-z{_LATIN_LETTERS}])"
            ),
            group=1,
            validate=_not_git,
            hints=("@",),
            hint_pattern=re.compile(r"@(?:[A-Za-z0-9-]|\\u[0-9A-Fa-f]{4})+\."),  # a domain after the @
            screen=r"@(?:[A-Za-z0-9-]|\\u[0-9A-Fa-f]{4})+\.",
        ),
        Recognizer(
            "EMAIL",
            # Addresses of every script (RFC 6531): "иван.петров@почта.рф", "太郎@例え.jp",
            # "jos\u00e9.garc\u00eda@example.com". Asked only of texts that hold a character
            # past ASCII. An address starts where a run of address characters does, or after a
            # letter of another script than Latin ("メールはjos\u00e9@…", the prose stays), and
            # then holds Latin letters only; a run that starts with such a letter holds Latin
            # ones only after a "." or such. So each character is read at most twice: linear
            # time. Words are \w and combining marks (the vowel signs of Devanagari or Thai). A
            # top-level domain of another script is one of IANA's, so that a mention in Chinese
            # prose ("\u611f\u8c22@\u5c0f\u660e.\u7684\u5e2e\u52a9") is not taken for an address.
            re.compile(
                rf"(?:(?:(?<![\w{MARKS}.%+-])(?<!(?<!\\)\\)|" + _after_escape() + r")[._%+-]*+"
                rf"|(?<=[^\W\d_{_LATIN}])(?=[{_LATIN}])(?P<glued>))"
                rf"((?(glued)[{_LATIN}][{_LATIN}{MARKS}._%+-]*+"
                rf"|(?:[{_LATIN}][\w{MARKS}.%+-]*+|[^\W_{_LATIN}](?:{_OTHER_LOCAL})*+))"
                # labels apart by a full stop, or by the ideographic or full-width one IDNA reads as it
                rf"@{_LABEL}(?:[.\u3002\uff0e\uff61]{_LABEL})*[.\u3002\uff0e\uff61]"
                # a top-level domain of Latin letters, which another letter would go on with,
                # or of another script's, one of IANA's ("рф", "中国")
                rf"(?:[A-Za-z{_LATIN_LETTERS}]{{2,}}(?![A-Za-z{_LATIN_LETTERS}])|(?i:{_IDN_TLD})(?![{MARKS}])))"
            ),
            group=2,
            validate=_past_ascii,  # an ASCII address is the recognizer's before
            hints=("@",),
            hint_pattern=re.compile(r"[^\x00-\x7f]"),
            screen=r"[\x{80}-\x{10FFFF}](?s:.)*@|@(?s:.)*[\x{80}-\x{10FFFF}]",
        ),
        Recognizer(  # a short code named as one: "pin=4821", "otp: 482913", "cvv2=741", "security code: 737",
            # and in prose: "my cvv is 737", "CVV 737", "Your verification code is 482913."
            "SECRET",
            re.compile(
                r"(?i)(?<![a-z0-9])(?:pin|otp|cvv2?|cvc2?|csc|cvn|passcode|security[ _-]?code"
                r"|verification[ _-]?code|one[ _-]?time[ _-]?(?:pass)?code|2fa[ _-]?code|login[ _-]?code"
                r"|mfa(?:[ _-]?code)?|auth(?:entication)?[ _-]?code|sign[ _-]?in[ _-]?code|access[ _-]?code"
                r"|confirmation[ _-]?code|your[ \t]+(?:(?:login|security|access|one-time)[ \t]+)?code)"
                r"[\"']?(?:[ \t]*[:=#][ \t]*|[ \t]+(?:(?:is|was|number|no\.?)[ \t]*[:=]?[ \t]*)?)[\"']?"
                # not the start of a longer number, a decimal, a date or a time ("pin 2024-05-06")
                r"(\d{3,8})(?!\d|[.,:/-]\d)"
            ),
            group=1,
            digits=True,
            folded_pattern=re.compile(
                r"(?:pin|otp|cvv|cvc|csc|cvn|passcode|code|mfa)2?[\"']?[ \t:=#]*"
                r"(?:(?:is|was|number|no\.?)[ \t]*[:=]?[ \t]*)?[\"']?\d{3}"
            ),
            words=("pin", "otp", "cvv", "cvc", "csc", "cvn", "passcode", "code", "mfa"),
            screen=(
                r"(?i)(?:pin|otp|cvv|cvc|csc|cvn|passcode|code|mfa)2?[\"']?[ \t:=#]*"
                r"(?:(?:is|was|number|no\.?)[ \t]*[:=]?[ \t]*)?[\"']?" + f"{_D}{{3}}"
            ),
        ),
        Recognizer(  # a code the sentence after it names: "482913 is your Instagram code",
            # "G-482913 is your Google verification code."
            "SECRET",
            re.compile(
                r"(?i)(?<![A-Za-z0-9])(?:[A-Z]-)?(\d{4,8})(?=[ \t]+is[ \t]+your[ \t]+(?:[\w-]+[ \t]+){0,3}"
                r"(?:code|pin|otp|passcode|password)\b)"
            ),
            group=1,
            digits=True,
            folded_pattern=re.compile(r"is[ \t]+your[ \t]"),
            words=("is",),
            screen=f"{_D}{{4}}" + r"[ \t]+(?i:is)[ \t]+(?i:your)",
        ),
        Recognizer(  # and the one a sentence tells what to do with: "Use 482913 to log in"
            "SECRET",
            re.compile(
                r"(?i)\buse[ \t]+(?:code[ \t]+)?(\d{4,8})[ \t]+to[ \t]+"
                r"(?:log[ \t]*in|sign[ \t]*in|verify|confirm|reset|continue)"
            ),
            group=1,
            digits=True,
            words=("use",),
            screen=r"(?i)use[ \t]+(?:code[ \t]+)?" + f"{_D}{{4}}",
        ),
        Recognizer(  # nine bare digits named as one: "ssn=536221234", "My SSN is …", "tax_id: …"
            "US_SSN",
            re.compile(
                r"(?i)(?<![a-z0-9])(?:ssn|social(?:[ _-]?security)?(?:[ _-]?(?:number|no))?"
                r"|tax(?:payer)?[ _-]?id(?:entification)?(?:[ _-]?(?:number|no))?|itin|ein)"
                r"[\"']?\s*(?:(?:is|was|number|no\.?)\s*)?[:=#\u2014\u2013-]?\s*[\"']?"
                r"(\d{3}[ .-]?\d{2}[ .-]?\d{4})(?!\d)"
            ),
            group=1,
            digits=True,
            folded_pattern=re.compile(
                r"(?:ssn|security|number|no|id|itin|ein|is|was)[\"']?\s*[:=#\u2014\u2013-]?\s*[\"']?"
                r"\d{3}[ .-]?\d\d"
            ),
            words=("ssn", "security", "number", "no", "id", "itin", "ein", "is", "was"),
            screen=f"{_D}{{3}}[ .-]?{_D}{{2}}",  # the digits of the folded gate (casefolding keeps them)
        ),
        Recognizer(
            "US_SSN",
            re.compile(_first_digit() + r"\d\d(?<!000)(?<!666)(?<!9\d\d)-(?!00)\d{2}-(?!0000)\d{4}" + _E),
            hints=("-",),
            hint_pattern=re.compile(r"-\d\d-\d{4}"),  # dates (2024-05-06) do not pass
            digits=True,
            digit_run=True,
            screen=f"-{_D}{{2}}-{_D}{{4}}",
        ),
        Recognizer(  # written with dots: "536.22.1234" (not "536.22.1234.5", a version)
            "US_SSN",
            re.compile(
                _first_digit("A-Za-z0-9_.\u00c0-\u024f")
                + r"\d\d(?<!000)(?<!666)(?<!9\d\d)\.(?!00)\d{2}\.(?!0000)\d{4}"
                + _E
                + r"(?!\.\d)"
            ),
            hint_pattern=re.compile(r"\.\d\d\.\d{4}"),
            marks=".",
            digits=True,
            screen=f"\\.{_D}{{2}}\\.{_D}{{4}}",
        ),
        Recognizer(  # before cards: the digits of a spaced IBAN can pass for a card number
            "IBAN_CODE",
            re.compile(
                # a country code and check digits first: most capitals are not followed by them
                r"[A-Z](?=[A-Z]\d\d)(?:(?<![A-Za-z0-9_\u00c0-\u024f][A-Z])|" + _after_escape(r"[A-Z]") + r")"
                r"[A-Z]\d{2}(?:[ \u00a0-]?[A-Z0-9]{4}){2,7}(?:[ \u00a0-]?[A-Z0-9]{1,4})?" + _E
            ),
            validate=lambda m: iban_valid(m.group(0)),
            digits=True,
            digit_run=True,
            parts=re.compile(r"[^ \u00a0-]+"),  # "ES13 2664 … 7889 O s unos": the "O" is not part of it
            screen=f"[A-Z]{{2}}{_D}{{2}}",  # a country code and check digits
        ),
        Recognizer(  # named, in any case: "iban gb82 west 1234 5698 7654 32", "ibanDE89…"
            "IBAN_CODE",
            re.compile(
                # the word, then what may stand between: "IBAN: …", "(IBAN) …", 'iban="…"', "my iban
                # is …", a line break or a no-break space
                r"(?i)(?<![a-z0-9_\u00c0-\u024f])iban[\"')\]]?(?:\s*(?:no\.?|number|code|is|ist|est|es))?"
                r"\s*[:=#]?\s*[\"'(\[]?\s*"
                r"([a-z]{2}\d{2}(?:[ \u00a0-]?[a-z0-9]{4}){2,7}(?:[ \u00a0-]?[a-z0-9]{1,4})?)"
                r"(?![a-z0-9_\u00c0-\u024f])"
            ),
            group=1,
            validate=iban_valid_named,
            digits=True,
            folded_pattern=re.compile(r"iban"),
            words=("iban",),
            screen=r"(?i)iban",
        ),
        Recognizer(  # its printed groups apart by another mark: "4111.1111.1111.1111", "4111_1111_…"
            "CREDIT_CARD",
            re.compile(
                # not "/" nor a tab: paths ("/shards/4766/5131/…") and rows of numbers are
                # printed so, and a tenth of them would pass Luhn
                r"(?<!\d[.*])"
                + _first_digit()
                + r"\d{3}([.*_])(?:\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?|\d{6}\1\d{5})"
                + r"(?!\1\d)"  # an expiry after another mark may follow ("…1111/12/27")
                + _E
            ),
            validate=is_grouped_card_number,
            digits=True,
            # the first two groups (Amex: 4 and 6), and the mark after them (a decimal "1234.5678" has none)
            hint_pattern=re.compile(r"\d{4}([.*_])\d{4}(?:\d\d)?\1\d"),
            screen=f"{_D}{{4}}[.*_]{_D}{{4}}(?:{_D}{{2}})?[.*_]{_D}",
        ),
        Recognizer(
            "CREDIT_CARD",
            re.compile(
                _NOT_INSIDE_NUMBER
                + _first_digit()
                # twelve ASCII digits that go no further, not after a 5 or a 6: no card (only
                # Maestro has 12 digits), nor any part of one; not a candidate (lists of 12-digit ids)
                + r"(?!(?<=[0-47-9])(?:[ \u00a0-]{0,2}[0-9]){11}(?![ \u00a0-]{0,2}\d))"
                # the whole run, so a card beside another number ("415 555 0177 4111 1111 1111
                # 1111") is one candidate, whose runs of pieces are tried (max_digits)
                + r"(?:[ \u00a0-]{0,2}\d){11,}"
                + _E
            ),
            validate=is_card_number,
            digits=True,
            digit_run=True,
            min_digits=12,
            max_digits=19,
            parts=re.compile(r"[0-9]+|[^ \u00a0\-0-9]+"),  # and where ASCII digits meet another script's
            part_digits=13,  # "5678 9012 3456" in a list: no
            screen=f"{_D}(?:[ \\x{{a0}}-]{{0,2}}{_D}){{11}}",
        ),
        Recognizer(
            "IP_ADDRESS",
            # octets of one to three digits of any script (each at most 255: the validator), not
            # next to a digit of any script ("919\uff14.2\uff148.97.\uff112" is a number, not an
            # address and its rest), nor after a Latin letter or a dot, as in ASCII
            re.compile(
                r"(?=\d)(?:(?<![A-Za-z0-9.\u00c0-\u024f])(?<!\d)|" + _after_escape() + r")"
                r"\d{1,3}\.(?:\d{1,3}\.){2}\d{1,3}(?![A-Za-z0-9_\u00c0-\u024f]|\d)"
            ),
            validate=is_ipv4_address,
            hints=(".",),
            hint_pattern=re.compile(r"\.\d{1,3}\.\d{1,3}\.\d"),  # versions (2.3.1) do not pass
            digits=True,
            screen=f"\\.{_D}{{1,3}}\\.{_D}{{1,3}}\\.{_D}",
        ),
        Recognizer(
            "IP_ADDRESS",
            re.compile(
                r"(?:(?<![A-Za-z0-9_:\u00c0-\u024f])|" + _after_escape() + r")"
                r"(?:[0-9A-Fa-f]{1,4}:|:){2,7}(?::|[0-9A-Fa-f]{1,4})"
                # a ":" after it ends a sentence's clause ("for 2001:db8::1: timeout")
                r"(?![A-Za-z0-9_\u00c0-\u024f]|:[0-9A-Fa-f:])"
            ),
            validate=is_ipv6_address,
            hints=(":",),
            # what an address needs to be valid: "::", or eight groups (times such as 10:45:00 do not pass)
            hint_pattern=re.compile(r"::|:(?:[0-9A-Fa-f]{1,4}:){6}"),
            screen="::|:(?:[0-9A-Fa-f]{1,4}:){6}",
        ),
        Recognizer(
            "PHONE_NUMBER",
            re.compile(
                # an international number may be glued to an identifier by "-" or "_" ("conv-+14155550151")
                # a digit of another script starts one after anything but a digit of its own
                # script (see first_digit)
                r"(?=[\d+(])(?:(?<![A-Za-z0-9_+.\u00c0-\u024f-])|(?<=[A-Za-z0-9][_-])(?=\+)|(?=[^\x00-\x7f])|"
                + _after_escape()
                + r")(?<!\d:)(?!"
                + _INSIDE_SAME_SCRIPT_RUN
                + ")"
                # at least 8 digits, apart by what the pattern allows between them (is_phone_number needs 8):
                # a number's worth of digits in a long text no longer costs a validator call
                r"(?=[+(]?(?:[ .()\u00a0\u202f\u2013-]{0,3}\d|\s?(?:x|ext\.?)\s?\d){8})"
                r"(?:\+\d{1,3}[ .\u00a0\u202f-]?(?:\(0\)[ .-]?)?\d{6,12}"  # compact: +91 9817107418
                # a country code after "+", or North America's "1" before a bracketed area code
                r"|(?:\+\d{1,3}[ .\u00a0\u202f\u2013-]?(?:\(0\)[ .-]?)?|1[ .-]?(?=\(\d{3}\)))?"
                r"(?:\(\d{1,5}\)[ .\u00a0\u202f-]?)?\d{1,15}(?:[ .\u00a0\u202f\u2013-]\d{1,8}){0,5})"
                r"(?:\s?(?:x|ext\.?)\s?\d{1,6})?"  # an extension: (714)222-2825x4548
                r"(?![A-Za-z0-9_\u00c0-\u024f-]|\.\d|" + _SAME_SCRIPT_DIGIT + ")"
            ),
            validate=is_phone_number,
            digits=True,
            digit_run=True,
            min_digits=8,  # what is_phone_number needs
            max_digits=15 + 6,  # and at most: a number, and an extension of up to six digits
            parts=re.compile(r"\S+"),
            # one piece ("212-736-5000"), or a run that reads as one number: international or
            # bracketed ("+1 212 736 5000", "(212) 736 5000"); not a list ("120 340 560 780 ms")
            part_leads="+(",
            # the lookahead's eight digits, at most six characters apart (" ext. ")
            screen=f"{_D}(?:(?s:.){{0,6}}{_D}){{7}}",
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

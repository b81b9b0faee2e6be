"""The fast-path PiiRedactor: every structured entity type goes, telemetry identifiers stay."""

from __future__ import annotations

import pytest

from processors.pii import PiiRedactor
from processors.pii.number_checks import digit_skeleton, iban_valid, luhn_valid
from processors.pii.patterns import ENTITIES, recognizers
from tests.support.pii_corpus import build

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
FULL_WIDTH_CARD = "4962 4207 0578 6224".translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
SENSITIVE = [
    ("EMAIL", "write to jane.doe+work@example.co.uk today", "jane.doe+work@example.co.uk"),
    ("PHONE_NUMBER", "call +44 20 7946 0958 after six", "+44 20 7946 0958"),
    ("PHONE_NUMBER", "my cell is (415) 555-2671, thanks", "(415) 555-2671"),
    ("PHONE_NUMBER", "Tel: +49 30 12345678", "+49 30 12345678"),
    ("PHONE_NUMBER", "Tel: +33 1 42 68 53 00", "+33 1 42 68 53 00"),
    ("PHONE_NUMBER", "ring +81 3-1234-5678", "+81 3-1234-5678"),
    ("US_SSN", "ssn 123-45-6789 on file", "123-45-6789"),
    ("CREDIT_CARD", "paid with 4111 1111 1111 1111 yesterday", "4111 1111 1111 1111"),
    ("CREDIT_CARD", "amex 378282246310005", "378282246310005"),
    ("IBAN_CODE", "send to GB82 WEST 1234 5698 7654 32 please", "GB82 WEST 1234 5698 7654 32"),
    ("IBAN_CODE", "DE89370400440532013000", "DE89370400440532013000"),
    ("IP_ADDRESS", "client 203.0.113.7 connected", "203.0.113.7"),
    ("IP_ADDRESS", "bound to 2001:db8::ff00:42:8329 now", "2001:db8::ff00:42:8329"),
    ("CREDENTIALS", "dsn postgres://admin:s3cr3t@db.internal:5432/app", "admin:s3cr3t"),
    ("BEARER_TOKEN", "Authorization: Bearer abcdef1234567890ABCDEF", "abcdef1234567890ABCDEF"),
    ("JWT", f"jwt {JWT} end", JWT),
    (
        "API_KEY",
        "OPENAI_API_KEY sk-proj-abcdefghijklmnopqrstuvwxyz012345",
        "sk-proj-abcdefghijklmnopqrstuvwxyz012345",
    ),
    ("API_KEY", "aws AKIAIOSFODNN7EXAMPLE key", "AKIAIOSFODNN7EXAMPLE"),
    ("API_KEY", "aws AKIAIOSFODNNQEXAMPLE key", "AKIAIOSFODNNQEXAMPLE"),  # no digit, no punctuation
    ("API_KEY", "gh ghp_abcdefghijklmnopqrstuvwxyz0123456789 ok", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
    ("API_KEY", "slack xoxb-1234567890-abcdefghij", "xoxb-1234567890-abcdefghij"),
    (
        "API_KEY",
        "GOOGLE_API_KEY AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW ok",
        "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW",
    ),
    (
        "API_KEY",
        "key AIzaSyAbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfG",
        "AIzaSyAbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfG",
    ),  # letters only
    ("API_KEY", "stripe.api_key = sk_live_51HqLyjWDarjtT1zdp7dcXQ2s", "sk_live_51HqLyjWDarjtT1zdp7dcXQ2s"),
    ("API_KEY", "restricted rk_test_4eC39HqLyjWDarjtT1zdp7dc used", "rk_test_4eC39HqLyjWDarjtT1zdp7dc"),
    ("API_KEY", "git clone with glpat-xYz12AbC-3dEfGh4iJkL", "glpat-xYz12AbC-3dEfGh4iJkL"),
    ("API_KEY", "login hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh done", "hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh"),
    (
        "API_KEY",
        "//registry/:_authToken=npm_AbCdEf0123456789AbCdEf0123456789AbCd",
        "npm_AbCdEf0123456789AbCdEf0123456789AbCd",
    ),
    (
        "API_KEY",
        "posting to https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF2/AbCdEfGhIjKlMnOpQrStUvWx failed",
        "T0ABCDEF1/B0ABCDEF2/AbCdEfGhIjKlMnOpQrStUvWx",
    ),
    (
        "API_KEY",
        "ANTHROPIC_API_KEY=sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEfGhIjKlAA",
        "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEfGhIjKlAA",
    ),
    (
        "PRIVATE_KEY",
        "loaded -----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi\n"
        "-----END RSA PRIVATE KEY----- from disk",
        "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi",
    ),
    (  # JSON-escaped newlines, cut short by a length limit: the rest of the text goes
        "PRIVATE_KEY",
        '{"key": "-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU',
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmU",
    ),
    ("SECRET", 'config {"client_secret": "Zx8kL2pQ9vR4tY7wB1nM"}', "Zx8kL2pQ9vR4tY7wB1nM"),
    ("SECRET", "login with password: hunter2", "hunter2"),
    # GenAI message content is JSON text: a value right after an escaped newline
    ("US_SSN", '{"content": "verify\\n536-22-1234"}', "536-22-1234"),
    ("CREDIT_CARD", '"pay with\\n4344027176251122\\nthanks"', "4344027176251122"),
    ("PHONE_NUMBER", '"Name: Bob\\n+12127365000"', "+12127365000"),
    ("IP_ADDRESS", '"peer\\n203.0.113.77"', "203.0.113.77"),
    ("API_KEY", '"AWS_KEY:\\nAKIA38QC5GLBUJX6YJKP"', "AKIA38QC5GLBUJX6YJKP"),
    ("EMAIL", '"Hi,\\njane@example.com"', "jane@example.com"),
    # json.dumps writes non-ASCII text as \uXXXX escapes: a value glued to one
    ("PHONE_NUMBER", '"\\u96fb\\u8a71\\u306f090-1234-5678\\u3067\\u3059"', "090-1234-5678"),
    ("EMAIL", '"\\u9023\\u7d61\\u5148taro@example.co.jp"', "taro@example.co.jp"),
    # no spaces around a value in Japanese or Chinese
    ("PHONE_NUMBER", "電話番号は090-1234-5678です", "090-1234-5678"),
    ("EMAIL", "連絡先はtaro.yamada@example.co.jpです", "taro.yamada@example.co.jp"),
    ("CREDIT_CARD", "カード番号は5425256335714832です", "5425256335714832"),
    ("IP_ADDRESS", "IPアドレスは203.0.113.9です", "203.0.113.9"),
    ("CREDENTIALS", "接続先はpostgres://app:Pw9xYz77@db/appです", "app:Pw9xYz77"),
    ("PHONE_NUMBER", "我的手机号是13800138000\uff0c谢谢", "13800138000"),
    # separators and digits of other scripts
    (
        "PHONE_NUMBER",
        "Tél : +33\u00a01\u00a042\u00a068\u00a053\u00a000",
        "+33\u00a01\u00a042\u00a068\u00a053\u00a000",
    ),
    ("PHONE_NUMBER", "call 212\u2013736\u20135000 after 5pm", "212\u2013736\u20135000"),
    ("CREDIT_CARD", "card 4195  1072  4638  2386 ok", "4195  1072  4638  2386"),
    ("CREDIT_CARD", "カード番号\uff1a" + FULL_WIDTH_CARD, FULL_WIDTH_CARD),
    ("CREDIT_CARD", "Mir card 2200 2680 8617 9378", "2200 2680 8617 9378"),
    (
        "IBAN_CODE",
        "IBAN: DE86\u00a05123\u00a09370\u00a04505\u00a02855\u00a096",
        "DE86\u00a05123\u00a09370\u00a04505\u00a02855\u00a096",
    ),
    (
        "IBAN_CODE",
        "Cuenta: ES89 6654 2870 1172 2971 0282",
        "ES89 6654 2870 1172 2971 0282",
    ),  # not a card inside
    ("API_KEY", "key_AKIAE1XJ8G0DAYY11073", "AKIAE1XJ8G0DAYY11073"),
    (
        "API_KEY",
        "SLACK_APP_TOKEN xapp-1-APDTMD2DH26-4006819205966-2f0be207cf56c6",
        "xapp-1-APDTMD2DH26-4006819205966-2f0be207cf56c6",
    ),
    (
        "API_KEY",
        "STRIPE_WEBHOOK whsec_UrPoPrwM702BIqoNhg9L3LlqYnnnSCU0",
        "whsec_UrPoPrwM702BIqoNhg9L3LlqYnnnSCU0",
    ),
    ("BEARER_TOKEN", "AUTHORIZATION: BEARER abcdef1234567890ABCDEF", "abcdef1234567890ABCDEF"),
    ("JWT", "alg none: eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0. done", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."),
    ("US_SSN", "ssn=536221234", "536221234"),
    # URLs: no user, an "@" in the password
    ("CREDENTIALS", "broker redis://:T0pS3cretRedis@localhost:6379/0", ":T0pS3cretRedis"),
    ("CREDENTIALS", "cache redis://user:p@ssw0rd@cache:6379", "user:p@ssw0rd"),
    # secrets: escaped quotes (JSON in JSON), camelCase keys, quoted values with spaces, other syntaxes
    ("SECRET", '{"args": "{\\"password\\": \\"Esc4ped!Pw\\"}"}', "Esc4ped!Pw"),
    ("SECRET", '{"password":"pa\\"ss,wo;rd"}', 'pa\\"ss,wo;rd'),
    ("SECRET", "dbPassword=Hunter22x", "Hunter22x"),
    ("SECRET", "accessToken: 9f8e7d6c5b4a3f2e1d0c", "9f8e7d6c5b4a3f2e1d0c"),
    # passwords in prose: "of the" in more languages, a CJK word glued to a Latin one, a dash
    ("SECRET", "das Passwort vom WLAN ist Pw1deWLAN9x", "Pw1deWLAN9x"),
    ("SECRET", "la contraseña del wifi es Pw2esWifi7q", "Pw2esWifi7q"),
    ("SECRET", "le mot de passe du wifi est Pw4frWifi3t", "Pw4frWifi3t"),
    ("SECRET", "wifi密码\uff1aPw3zhWifi5r", "Pw3zhWifi5r"),
    ("SECRET", "password \u2014 Pw5dashEm2u", "Pw5dashEm2u"),
    ("SECRET", "my api key is Kq9vT2mXr8LpZ3wQ", "Kq9vT2mXr8LpZ3wQ"),  # 16 characters
    # NVIDIA API catalog and Tavily keys (a second review)
    (
        "API_KEY",
        "calling with nvapi-" + ("q7Xk2_Lm9-Pz4Rt8Vw1Ys6Bn3Hc5Jd0Fg" * 2)[:64] + " now",
        "q7Xk2_Lm9-Pz4Rt8Vw1Ys6Bn3Hc5Jd0Fgq7Xk",
    ),
    ("API_KEY", "use 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 today", "Qm4Zr8Tx2Wp6Ks9Lb3Nv7Hd1Fc5Gj0Ya"),
    # an AWS secret access key right after its key id: the console's CSV, a log line
    (
        "API_KEY",
        "AKIAZ5YR4GHTBGYRAYYZ,PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA+",
        "PtYgjmUhBel31iEl2hpChYgCfrL1",
    ),
    ("API_KEY", "creds AKIAZ5YR4GHTBGYRAYYZ:PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA+", "PtYgjmUhBel31"),
    # keys and codes in a URL's query under short names (Azure Functions, a maps API, OAuth)
    ("SECRET", "GET /api/HttpTrigger?code=Fq8ZpL2mVt7RkQ3wXy9ZaBcD== 200", "Fq8ZpL2mVt7RkQ3wXy9ZaBcD=="),
    ("SECRET", "https://maps.example.com/geocode?key=Wm4Rt8Yq2Zx6Pk9Ls3Dv&q=x", "Wm4Rt8Yq2Zx6Pk9Ls3Dv"),
    ("SECRET", "/oauth/callback?state=s1&code=4/0AX4XfWhQz8kLmN2pRtYv9", "4/0AX4XfWhQz8kLmN2pRtYv9"),
    ("SECRET", 'password: "correct horse battery staple"', "correct horse battery staple"),
    ("SECRET", ":password => 'RubyPw!234'", "RubyPw!234"),
    ("SECRET", "{'password': b'BytesPw!77'}", "BytesPw!77"),
    ("SECRET", "SECRET_KEY=django-insecure-abc123xyz789", "django-insecure-abc123xyz789"),
    ("SECRET", "Passwort: Geheim!Pw77", "Geheim!Pw77"),
    ("SECRET", "パスワード\uff1aNihon!Pw2024", "Nihon!Pw2024"),
    ("SECRET", "密码=Zhongwen!Pw8", "Zhongwen!Pw8"),
    ("SECRET", "password :\n    Yaml!Pw2024", "Yaml!Pw2024"),
    (
        "SECRET",
        "?sv=2022-11-02&sig=r8K2%2Bm9Xq4LzP7vT1nB3cD5fG6hJ8kL0%3D",
        "r8K2%2Bm9Xq4LzP7vT1nB3cD5fG6hJ8kL0%3D",
    ),
    ("SECRET", "Cookie: sessionid=8f2k3j4h5g6f7d8s9a0qwe; csrftoken=Q1w2E3r4T5y6U7i8", "Q1w2E3r4T5y6U7i8"),
    ("SECRET", "Authorization: Basic YWRtaW46aHVudGVyMmh1bnRlcjI=", "YWRtaW46aHVudGVyMmh1bnRlcjI="),
    ("SECRET", "psql --password Pg!Secret99 -U app", "Pg!Secret99"),
    ("SECRET", "curl -u admin:Adm1nPw!x https://jenkins.example.com/api/json", "Adm1nPw!x"),
]

BENIGN = [
    "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7",
    "request 123e4567-e89b-12d3-a456-426614174000 done",
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "released v1.2.3 and 2.14.0rc1",
    "model gpt-4o-mini-2024-07-18 and claude-3-5-sonnet-20241022",
    "at 2026-11-21T21:45:00Z took 1732222222123 ns",
    "read /var/lib/app/data.db and C:\\Users\\app\\config.toml",
    "GET https://api.example.com:8443/v1/chat/completions?stream=true",
    "the token budget is 4096 and max_tokens=512",
    "order #1234 of 3 items for 19.99 EUR",
    "mac aa:bb:cc:dd:ee:ff at 12:30:45",
    "port 5432, pid 31337, exit status 137",
    "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----",
    "HF_HUB_ENABLE_HF_TRANSFER=1 npm_config_registry=https://registry.npmjs.org/",
    # numbers that read as phone numbers or cards but are times and ids
    "ts=1715000000 created_ms=1715000000123",
    "user_id: 5123456789, run_id=9123456789, ticket 3123456789",
    "arn:aws:iam::420558409293:role/app arn:aws:iam::239418538306:role/app",
    "lat=37.7749295, lng=-122.4194155",
    "latencies: 120 340 560 780 910 ms",
    # placeholders and settings named like secrets
    "SET password = $1; UPDATE t SET api_key = @api_key WHERE password = :password",
    "password: ${{ secrets.DB_PASSWORD }} token=${OPENAI_API_KEY} api_key=$OPENAI_API_KEY",
    "password=******** secret: null",
    "PWD=/home/app",
    "secret:\n  secretName: db-credentials",
    "missing Bearer credentials; Using bearer authentication",
    # code and versions that parse as addresses
    "arr[::2] arr[1::2] Add::add(lhs, rhs) fe80::1",
    'tensorrt==8.6.1.6 and AssemblyVersion("1.0.0.0") in version 6.0.0.0',
    "git@github.com:org/repo.git",
    # code, command-line help and prose that name secrets without holding one
    "signature = inspect.signature(func); sig = hmac.new(key, msg, hashlib.sha256)",
    "const sessionId = crypto.randomUUID(); this.authToken = authToken;",
    "api_key = os.getenv('OPENAI_API_KEY'); secret = os.environ['APP_SECRET']",
    "def check_password(password: str, hashed: bytes) -> bool:",
    "password = random_password.db.result; password=password",
    "params.require(:user).permit(:email, :password => [])",
    "pub struct Config { pub password: String, pub token: Option<String> }",
    "usage: db-cli [--user USER] [--password PASSWORD] [--token TOKEN] [--api-key <key>]",
    "docker run -u 1000:1000 app",
    "Authorization: required for all endpoints except /health.",
    "Cookie: a small piece of data the server sends; session_cookie: sessionid",
    "Password: must be at least 8 characters. Passwort: mindestens 12 Zeichen.",
    # Japanese: "password", a full-width colon, "8 characters or more"
    "\u30d1\u30b9\u30ef\u30fc\u30c9\uff1a8\u6587\u5b57\u4ee5\u4e0a",
    "Send a Bearer token; the scheme is Bearer HTTPAuthorizationCredentials; auth: oauth2-proxy",
    "task_sk-compute-embeddings-batch-0001 and sk-learn-pipeline-v2",
    # numbers that are amounts, lists, versions or local addresses
    "\u8425\u4e1a\u6536\u5165\u4e3a2345678901\u5143",  # 营业收入为2345678901元
    "revenue 2.345.678.901 EUR, or $3456789012",
    "frames: 062436 087164 093512; latencies 0.185 0.900 0.038",
    "Grid: 1 2 3 4 5 6 7 8 9 10 11 12 13 14; 4 8 15 16 23 42",
    "Mozilla/5.0 (Windows NT 10.0) Edg/124.0.2478.67",
    "listening on 127.0.0.1:8000 and 0.0.0.0:9090",
    "chunk_6363045955286417",
    "1234 " * 12,
    # a checksum key ending in digits before a number
    "CRC32 4417120938, crc64=7728130456",
    # short query names whose values are not secrets
    "https://api.example.com/v1/countries?country_code=US&key=profile_picture_large&code=200",
]


IDS = [f"{entity}-{index}" for index, (entity, _, _) in enumerate(SENSITIVE)]


@pytest.mark.parametrize(("entity", "text", "value"), SENSITIVE, ids=IDS)
def test_each_entity_type_is_replaced_by_its_label_and_counted(entity: str, text: str, value: str) -> None:
    redacted, counts = PiiRedactor().redact(text)
    assert value not in redacted
    assert f"<{entity}>" in redacted
    assert counts[entity] == 1


@pytest.mark.parametrize("text", BENIGN)
def test_telemetry_identifiers_are_left_alone(text: str) -> None:
    redacted, counts = PiiRedactor().redact(text)
    assert redacted == text
    assert not counts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 4111 1111 1111 1111 12/26 123", "card <CREDIT_CARD> 12/26 123"),
        ("card 4111111111111111 123", "card <CREDIT_CARD> 123"),
        ("Visa 4620 9665 4287 0724 2 payments", "Visa <CREDIT_CARD> 2 payments"),
        ("Phones: 212-736-5000 646-731-2245", "Phones: <PHONE_NUMBER> <PHONE_NUMBER>"),
        ("Call 212-736-5000 24 hours a day", "Call <PHONE_NUMBER> 24 hours a day"),
        ("+1 212 736 5000 1", "<PHONE_NUMBER> 1"),
        ("IBAN ES1326643930675808377889 O s unos", "IBAN <IBAN_CODE> O s unos"),
    ],
)
def test_a_valid_number_next_to_other_digits_is_still_found(text: str, expected: str) -> None:
    assert PiiRedactor(cache=False).redact_text(text) == expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("TEL\uff10\uff13-\uff11\uff12\uff13\uff14-\uff15\uff16\uff17\uff18", "\uff11\uff12\uff13\uff14"),
        ("FAX\uff10\uff16-\uff16\uff11\uff12\uff13-\uff14\uff15\uff16\uff17", "\uff16\uff11\uff12\uff13"),
        ("+49 30 12345678\u0663", "12345678"),
        ("tel (201) 510-1901\u09e9c ok", "510-1901"),
        ("x\uff114111 1111 1111 1111", "4111 1111"),
        ("pay 4947\u00a00467\u00a03968\u00a01012\u00a0552\u096f ok", "3968"),
    ],
)
def test_a_number_glued_to_digits_of_another_script_is_still_found(text: str, value: str) -> None:
    """A review found these left whole by a stricter boundary (a digit of any script next to the
    number); the number, or all of it but the glued digit, is replaced."""
    redacted = PiiRedactor(cache=False).redact_text(text)
    assert value not in redacted
    assert "<PHONE_NUMBER>" in redacted or "<CREDIT_CARD>" in redacted


_FULL_WIDTH = str.maketrans("0123456789", "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19")


@pytest.mark.parametrize(
    "text",
    [
        "1234 1234 1234 1234 1234 1234 1234 1234 1234 1234",  # a value never ends inside a group
        "0.5 1093867916:30",  # a date's hour after ten digits, not nine digits then more
        "12 6803971728 ms",
        '1 9431631065"',
        '=01777869432"',  # a trunk 0 in front
        ":09494238.",
        # IPv4 addresses: whole, as in ASCII (before, cut short of a digit or left alone)
        "server 23.77.4.157 down",
        "from 192.168.1.1 ok",
        "ip 203.0.113.7",
        # and what is no address stays as in ASCII
        "Summe: 3.099.217.027 EUR",
        "1.1.1.1234 x",
        "127.0.0.1 and 300.1.1.1",
    ],
)
def test_full_width_digits_are_read_as_their_ascii_twin_is(text: str) -> None:
    """A number in full-width digits (common in Japanese and Chinese text) is redacted exactly
    where the same text in ASCII digits is: a value does not end in the middle of a run of
    digits of its own script (before, runs of full-width groups had Luhn-valid middles cut out
    as cards), and a number of digits alone is validated by its ASCII digits (before, a
    full-width trunk 0 was not seen as one, and such numbers were left)."""
    to_ascii = {v: k for k, v in _FULL_WIDTH.items()}
    redactor = PiiRedactor(cache=False)
    assert redactor.redact_text(text.translate(_FULL_WIDTH)).translate(to_ascii) == redactor.redact_text(text)


_ARABIC_INDIC = str.maketrans("0123456789", "".join(map(chr, range(0x660, 0x66A))))


@pytest.mark.parametrize("digits", [_FULL_WIDTH, _ARABIC_INDIC], ids=["full-width", "arabic-indic"])
@pytest.mark.parametrize(
    "text",
    [
        # lists of numbers, each one alone between separators (CJK commas too), a key or an
        # amount beside some: the same verdicts as in ASCII digits
        "2401187666 5382521693 4968690189 9434006010",
        "2401187666\u30015382521693\u30014968690189",
        "2401187666\uff0c5382521693\uff1b4968690189",
        "user_id=5382521693 2401187666",
        "order #4968690189, 9434006010",
        "$ 4968690189 9434006010 USD",
        "4968690189\u5143 9434006010\u6b21 2401187666",
        "arn:aws:iam::5382521693:role 2401187666",
        "01777869432 2401187666",
    ],
)
def test_a_list_of_numbers_in_another_scripts_digits_is_read_as_in_ascii(
    text: str, digits: dict[int, int]
) -> None:
    """Numbers of digits alone in full-width or Arabic-Indic digits take the checks ASCII digits
    take (the same shortcut for lists of ids, the same keys and amounts), so a list of them is
    redacted exactly where its ASCII twin is."""
    to_ascii = {v: k for k, v in digits.items()}
    redactor = PiiRedactor(cache=False)
    assert redactor.redact_text(text.translate(digits)).translate(to_ascii) == redactor.redact_text(text)


@pytest.mark.parametrize(
    "text",
    [
        # from a review of the IPv4 change: a network's size in another script's digits
        "ip \uff11\uff10.\uff10.\uff10.\uff10/8\uff11",
        "net \uff11\uff19\uff12.\uff11\uff16\uff18.\uff10.\uff10/\uff11\uff16",
        # a number whose digits change script is one number, not an address and its rest
        "919\uff14.2\uff148.97.\uff112",
        "123\uff14.1.1.1",
        "1.1.1.1\u0662\u0663\u0664",
        # an address glued to a Latin letter or a dot is none, in any script
        "x\u06f8.\u06f8.\u06f8.\u06f8",
        "build5\u0661.\u0662.\u0663.\u0664",
        "a.\u0661\u0660.\u0660.\u0660.\u0661",
        # and one on its own is an address, in any script
        "from \u0662\u0661\u0663.\u0664\u0665.\u0666\u0667.\u0668\u0669 x",
        "server \u0968\u0969.\u096d\u096d.\u096a.\u0967\u096b\u096d",
    ],
)
def test_an_ipv4_address_in_any_scripts_digits_is_redacted_as_its_ascii_twin(text: str) -> None:
    import unicodedata

    def twin(value: str) -> str:
        return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in value)

    redactor = PiiRedactor(cache=False)
    assert twin(redactor.redact_text(text)) == redactor.redact_text(twin(text))


@pytest.mark.parametrize(
    ("text", "visible"),
    [
        # a review of the same-script rule found these: a number of another script's digits now
        # starts where its script starts, so it is found whole
        ("TEL\uff10\uff13-\uff11\uff12\uff13\uff14-\uff15\uff16\uff17\uff18", "\uff10\uff13"),
        (
            "+\u0662\u0664\u0666 \u0663\u0667\u0660 \u0669\u0661\u0660\u0668\u00a0\u0661\u0667\u0665\u0668.",
            "\u0662\u0664\u0666",
        ),
        # a card glued to a digit of another script is one piece of its own
        ("x\uff114111 1111 1111 1111", "4111"),
        ("x\uff114111111111111111", "4111"),
        # an IPv4 address in another script's digits, or in two scripts, is replaced whole
        ("server \uff12\uff13.\uff17\uff17.\uff14.\uff11\uff15\uff17", "\uff12\uff13"),
        ("from \u0662\u0661\u0663.\u0664\u0665.\u0666\u0667.\u0668\u0669 x", "\u0662"),
        ("ip \uff12\uff10\uff13.0.113.7", "\uff12"),
    ],
)
def test_a_number_in_another_scripts_digits_is_found_where_its_script_starts(text: str, visible: str) -> None:
    assert visible not in PiiRedactor(cache=False).redact_text(text)


def test_the_digit_blocks_a_value_does_not_end_inside_are_every_script_re_knows() -> None:
    import re
    import unicodedata

    from processors.pii.recognizer import DIGIT_BLOCKS

    known = {
        code
        for code in range(0x80, 0x110000)
        if unicodedata.category(chr(code)) == "Nd" and unicodedata.decimal(chr(code)) == 0
    }
    assert set(DIGIT_BLOCKS) == known
    assert all(re.fullmatch(r"\d{10}", "".join(chr(first + i) for i in range(10))) for first in DIGIT_BLOCKS)


def test_each_new_phone_number_checked_on_the_app_thread_uses_the_inline_budget() -> None:
    from processors.inline_budget import HandOff, set_inline_budget
    from processors.pii.number_checks import PHONE_CHECK_CHARGE

    numbers = " ".join(f"+1 212 736 {n:04d}" for n in range(5000, 5040))  # 40 numbers, 640 characters
    set_inline_budget(PHONE_CHECK_CHARGE * 20)
    try:
        with pytest.raises(HandOff):  # past 20 checks: the chain's worker takes the span
            PiiRedactor(cache=False).redact_text(numbers)
    finally:
        set_inline_budget(None)
    redacted, counts = PiiRedactor(cache=False).redact(numbers)  # no budget: the worker's case
    assert counts["PHONE_NUMBER"] == 40 and "212" not in redacted


def test_every_candidate_a_validator_looks_at_on_the_app_thread_uses_the_inline_budget() -> None:
    from processors.inline_budget import HandOff, set_inline_budget
    from processors.pii.redactor import CANDIDATE_CHARGE

    numbers = " ".join(f"{n:016d}" for n in range(100))  # 100 card-shaped numbers, 1,700 characters
    set_inline_budget(CANDIDATE_CHARGE * 50)
    try:
        with pytest.raises(HandOff):  # its length alone would pass: the candidates use the budget
            PiiRedactor(cache=False).redact_text(numbers)
    finally:
        set_inline_budget(None)


def test_the_entity_types_named_without_compiling_are_those_of_the_recognizers_in_order() -> None:
    assert tuple(dict.fromkeys(recognizer.entity for recognizer in recognizers())) == ENTITIES


def test_the_patterns_are_compiled_at_the_first_scan_not_at_import() -> None:
    import subprocess
    import sys

    code = (
        "import processors.pii.patterns as p, processors.pii.redactor as r; "
        "r.PiiRedactor(); assert p.recognizers.cache_info().currsize == 0; "
        "r.PiiRedactor().redact_text('a@b.co'); assert p.recognizers.cache_info().currsize == 1"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_surrounding_text_stays_readable() -> None:
    text = "User jane@example.com paid with 4111-1111-1111-1111 from 203.0.113.7."
    assert PiiRedactor().redact_text(text) == "User <EMAIL> paid with <CREDIT_CARD> from <IP_ADDRESS>."


def test_mask_style_hides_the_value_and_keeps_its_length() -> None:
    assert PiiRedactor(style="mask").redact_text("mail jane@example.com") == "mail " + "*" * 16


def test_hash_style_is_keyed_and_stable() -> None:
    first = PiiRedactor(style="hash", hash_key="k1").redact_text("jane@example.com")
    again = PiiRedactor(style="hash", hash_key="k1").redact_text("jane@example.com")
    other_key = PiiRedactor(style="hash", hash_key="k2").redact_text("jane@example.com")
    assert first == again
    assert first != other_key
    assert first.startswith("<EMAIL:") and "jane" not in first


def test_entity_selection_limits_what_is_replaced() -> None:
    redacted = PiiRedactor(entities={"EMAIL"}).redact_text("jane@example.com 203.0.113.7")
    assert redacted == "<EMAIL> 203.0.113.7"


def test_bad_options_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="style"):
        PiiRedactor(style="blur")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="hash_key"):
        PiiRedactor(style="hash")


def test_validators_reject_look_alikes() -> None:
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")
    assert iban_valid("GB82 WEST 1234 5698 7654 32")
    assert not iban_valid("GB82 WEST 1234 5698 7654 33")
    assert PiiRedactor().redact_text("id 4111 1111 1111 1112") == "id 4111 1111 1111 1112"


def test_odd_strings_never_raise() -> None:
    redactor = PiiRedactor()
    for text in ("", "\ud800 lone surrogate jane@example.com", "x" * 200_000 + " 203.0.113.7", "@" * 10_000):
        assert isinstance(redactor.redact_text(text), str)


def test_a_number_recurring_in_long_texts_is_validated_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # A conversation resent at each turn: texts too long to cache whole, the same number in each.
    from processors.pii import number_checks

    parsed: list[str] = []
    real_valid_phone = number_checks._valid_phone

    def counting_valid_phone(candidate: str, digits: str) -> bool:
        parsed.append(candidate)
        return real_valid_phone(candidate, digits)

    monkeypatch.setattr(number_checks, "_valid_phone", counting_valid_phone)
    redactor = PiiRedactor()
    history = "user: my number is +44 20 7946 0123. " + "assistant: noted, thanks. " * 20
    for turn in range(5):
        text = f"{history} user: turn {turn}, still +44 20 7946 0123"
        assert "7946" not in redactor.redact_text(text)
    assert parsed == ["+44 20 7946 0123"]


@pytest.mark.parametrize(
    "text",
    [
        "PASSWORD = hunter2xyz",
        "Pa\u017fsword: hunter2xyz",
        "API-KEY=Zx81kQp09LmWr7",
        "API_\u212aEY: Zx81kQp09LmWr7",
    ],
)
def test_secret_words_are_recognized_in_any_case(text: str) -> None:
    # The gate runs on the casefolded text: every case a (?i) pattern matches, the long s and
    # the Kelvin sign included.
    redacted = PiiRedactor().redact_text(text)
    assert redacted.endswith("<SECRET>"), redacted


def test_long_texts_are_redacted_wherever_their_values_sit() -> None:
    filler = "version 2.3.1 shipped at 10:45 on 2024-05-06, see the account manager. " * 40
    text = f"{filler} card 4111 1111 1111 1111 {filler} ssn 123-45-6789, token: Zx81kQp09LmWr7 {filler}"
    redacted = PiiRedactor().redact_text(text)
    for value in ("4111 1111 1111 1111", "123-45-6789", "Zx81kQp09LmWr7"):
        assert value not in redacted
    assert redacted.count("2024-05-06") == 120  # dates, versions and times stay


def test_the_combining_marks_table_is_every_mark_of_this_pythons_unicode() -> None:
    import re
    import unicodedata

    from processors.pii.marks import MARK_RANGES, MARKS

    table = {code for first, last in MARK_RANGES for code in range(first, last + 1)}
    marks = {code for code in range(0x80, 0x110000) if unicodedata.category(chr(code)) in ("Mn", "Mc", "Me")}
    assert table == marks
    assert not any(re.match(r"\w", chr(code)) for code in marks)  # what \w leaves out, and they add
    assert re.fullmatch(f"[\\w{MARKS}]+", "\u0930\u093e\u092e\u0e15\u0e31\u0e27")


def test_every_gate_lets_through_each_text_its_recognizer_would_redact() -> None:
    # The cheap tests ahead of a pattern (hints, hint and folded patterns) must be necessary
    # conditions: a gate that turns away a text holding a value the recognizer replaces would
    # leak that value.
    texts = [case.text for case in build()] + [
        "ping ::1, fe80::1ff:fe23:4567:890a and 2001:0db8:85a3:0000:0000:8a2e:0370:7334 at 10:45:00"
    ]
    checked = 0
    for recognizer in recognizers():
        for text in texts:
            validate = recognizer.validate
            if not any(validate is None or validate(m) for m in recognizer.pattern.finditer(text)):
                continue
            checked += 1
            folded = text.casefold()
            assert not recognizer.hints or any(hint in text for hint in recognizer.hints), text
            assert recognizer.folded_pattern is None or recognizer.folded_pattern.search(folded), text
            assert recognizer.hint_pattern is None or recognizer.hint_pattern.search(text), text
            skeleton = digit_skeleton(text)
            assert skeleton is None or b"0" * recognizer.min_digits in skeleton, text
    assert checked >= 550


def test_the_digit_skeleton_keeps_a_number_whole_and_gives_up_on_other_scripts() -> None:
    assert digit_skeleton("call +1 (415) 555-2671 ext. 12, card 4111-1111 1111.1111") == (
        b"call0000000000000,card0000000000000000"
    )
    assert digit_skeleton("\u0661\u0662\u0663 4111") is None  # Arabic-Indic digits: \d matches them too


@pytest.mark.parametrize(
    ("text", "raw"),
    [
        # typed with an East Asian input method: the full-width forms of ASCII characters
        (
            "連絡先: \uff25\uff36\uff25\uff20\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25"
            "\uff0e\uff23\uff2f\uff2d まで",
            "EVE@EXAMPLE",
        ),
        ("mail eve\uff20example.com now", "eve"),
        (
            "\uff53\uff4b\uff0d\uff41\uff4e\uff54\uff0d\uff41\uff50\uff49\uff10\uff13\uff0d"
            + "\uff21" * 30
            + "\uff10\uff11\uff12\uff13",
            "ant-api03",
        ),
        (
            "連絡先は\uff0b\uff11\u3000\uff14\uff11\uff15\u3000\uff15\uff15\uff15\u3000\uff16\uff11\uff17\uff12です",
            "4155556172",
        ),
        ("key AKIA\uff15YR4GHTBGYRAYYZP here", "YR4GHTBGYRAYYZP"),
    ],
)
def test_a_value_typed_in_full_width_forms_is_found_as_its_ascii_form_is(text: str, raw: str) -> None:
    """Full-width Latin letters, "@", "+" and spaces (East Asian input) hid values from every
    pattern; they are read as the ASCII characters they stand for, and the value replaced whole."""
    import unicodedata

    redacted = PiiRedactor(cache=False).redact_text(text)
    folded = unicodedata.normalize("NFKC", redacted).replace(" ", "")
    assert raw not in folded and "<" in redacted


@pytest.mark.parametrize(
    ("text", "entity"),
    [
        # full-width "-", "." and brackets between full-width digits (as a Japanese IME types them)
        (
            "電話番号は\uff10\uff19\uff10\uff0d\uff11\uff12\uff13\uff14\uff0d\uff15\uff16\uff17\uff18です",
            "PHONE_NUMBER",
        ),
        ("IPは\uff18\uff11\uff0e\uff12\uff0e\uff16\uff19\uff0e\uff11\uff14\uff12", "IP_ADDRESS"),
        ("社会保障番号 \uff15\uff13\uff16\uff0d\uff12\uff12\uff0d\uff18\uff17\uff12\uff16", "US_SSN"),
        ("\uff08\uff14\uff11\uff15\uff09\uff15\uff15\uff15\uff0d\uff10\uff11\uff19\uff19", "PHONE_NUMBER"),
        # other keyboards' dashes between ASCII or full-width digits
        ("090\u20101234\u20105678", "PHONE_NUMBER"),
        ("call 415\u2212555\u22120199 today", "PHONE_NUMBER"),
        ("(415)\u2011555\u20110199", "PHONE_NUMBER"),
        ("090\u30fc1234\u30fc5678 \u30b3\u30fc\u30d2\u30fc", "PHONE_NUMBER"),
        ("card 4111\u20101111\u20101111\u20101111", "CREDIT_CARD"),
        # groups apart by the narrow spaces typography uses (French: narrow no-break, thin)
        ("carte 4539\u202f1488\u202f0343\u202f6467", "CREDIT_CARD"),
        ("carte 4539\u20091488\u20090343\u20096467", "CREDIT_CARD"),
        ("IBAN DE44\u202f5001\u202f0517\u202f5407\u202f3249\u202f31 ok", "IBAN_CODE"),
    ],
)
def test_a_number_typed_with_other_dashes_or_full_width_punctuation_is_found(text: str, entity: str) -> None:
    """Full-width "-", "." and brackets, and the dashes of other keyboards (hyphen, minus, the
    katakana prolonged sound mark), between a number's digits hid it from every pattern: the
    text is read as its ASCII twin too, and the value replaced."""
    import unicodedata

    redacted, counts = PiiRedactor(cache=False).redact(text)
    assert counts[entity] == 1, redacted
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", redacted) if ch.isdigit())
    assert len(digits) < 4, redacted
    assert "\u30b3\u30fc\u30d2\u30fc" in redacted or "\u30b3" not in text  # words keep their marks


@pytest.mark.parametrize(
    "text",
    [
        "価格は\uff13\uff0e\uff15ドル",
        "\u30b3\u30fc\u30d2\u30fc\uff11杯",
        "2024\u201005\u201006 \u2015 v1\u22122",
    ],
)
def test_dashes_and_full_width_punctuation_without_a_value_are_left_alone(text: str) -> None:
    assert PiiRedactor(cache=False).redact_text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "今日は\uff21\uff29について話しましょう\uff08\uff27\uff30\uff34\uff0d\uff14\uff09。",
        "\uff23\uff30\uff35使用率は\uff18\uff10\uff05です",
        "iPhone\uff11\uff15を買った",
    ],
)
def test_text_with_full_width_latin_and_no_value_is_left_alone(text: str) -> None:
    assert PiiRedactor(cache=False).redact_text(text) == text


@pytest.mark.parametrize("before", ["line\n", "tab\t", "cr\r", "a\n\n", "\n"])
def test_an_address_right_after_a_json_escape_leaves_the_escape_whole(before: str) -> None:
    """JSON writes a newline before an address as the two characters "\\n": the address starts
    after them, so the text is still JSON once the address is replaced (before, the "n" was taken
    into the address and "\\<EMAIL>" broke the JSON every GenAI reader parses)."""
    import json

    text = json.dumps({"content": before + "zed.quartz@example.org says hi"})
    redacted = PiiRedactor(cache=False).redact_text(text)
    assert json.loads(redacted) == {"content": before + "<EMAIL> says hi"}


def test_a_password_after_words_json_escaped_is_found_in_the_decoded_text() -> None:
    """json.dumps writes "für" as "f\\u00fcr": the escape is not the password, the decoded text
    is read, and the password after "für den Server lautet" is replaced (before, the escape was
    replaced and the password stayed, in every exporter)."""
    import json

    text = json.dumps("Das Passwort für den Server lautet Zr8#pLm2Qw. Kennwort für VPN: Yt5$kPn7Vx")
    redacted = PiiRedactor(cache=False).redact_text(text)
    assert "Zr8#pLm2Qw" not in redacted and "Yt5$kPn7Vx" not in redacted
    assert json.loads(redacted).count("<SECRET>") == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("order.card 4111.1111.1111.1111", "order.card <CREDIT_CARD>"),
        ("card on file 5500.0000.0000.0004 exp 12/27", "card on file <CREDIT_CARD> exp 12/27"),
        ("n = 4111_1111_1111_1111", "n = <CREDIT_CARD>"),  # a Python int literal
        ("4111*1111*1111*1111", "<CREDIT_CARD>"),
        ("cc:4111.1111.1111.1111/12/27", "cc:<CREDIT_CARD>/12/27"),  # its expiry after it
        ("amex 3782.822463.10005", "amex <CREDIT_CARD>"),
        ("iban gb82 west 1234 5698 7654 32", "iban <IBAN_CODE>"),
        ("IBAN: de89 3704 0044 0532 0130 00", "IBAN: <IBAN_CODE>"),
        ("ibanDE89370400440532013000", "iban<IBAN_CODE>"),
        ('iban="gb82 west 1234 5698 7654 32"', 'iban="<IBAN_CODE>"'),
        ("(IBAN) GB82WEST12345698765432", "(IBAN) <IBAN_CODE>"),
        ("IBAN:\nde89 3704 0044 0532 0130 00", "IBAN:\n<IBAN_CODE>"),
        ("my iban is gb82 west 1234 5698 7654 32", "my iban is <IBAN_CODE>"),
        # stay: not Luhn, a version, longer than a card, the word without an IBAN after it
        ("4111.1111.1111.1112", "4111.1111.1111.1112"),
        ("version 2024.0101.1234.5678", "version 2024.0101.1234.5678"),
        ("4111.1111.1111.1111.5", "4111.1111.1111.1111.5"),
        ("1.4111.1111.1111.1111", "1.4111.1111.1111.1111"),
        # paths and rows of numbers are printed with "/" and tabs: a tenth would pass Luhn
        ("/data/shards/4111/1111/1111/1111/chunk.bin", "/data/shards/4111/1111/1111/1111/chunk.bin"),
        ("host-a\t4111\t1111\t1111\t1111", "host-a\t4111\t1111\t1111\t1111"),
        ("the iban field is required", "the iban field is required"),
        ("iban gb82 this that with more", "iban gb82 this that with more"),
    ],
)
def test_cards_in_groups_apart_by_other_marks_and_named_ibans_in_any_case_are_replaced(
    text: str, expected: str
) -> None:
    assert PiiRedactor().redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "email=%D0%B8%D0%B2%D0%B0%D0%BD%40%D0%BF%D0%BE%D1%87%D1%82%D0%B0.%D1%80%D1%84",  # UTF-8 escapes
        "https://shop.example/s?email=zhang%40%E4%BE%8B%E5%AD%90.%E4%B8%AD%E5%9B%BD&page=2",
        "ivan@&#1087;&#1086;&#1095;&#1090;&#1072;.&#1088;&#1092;",  # numeric references
        "\u0631\u0627\u0633\u0644\u0646\u064a info@\u0634\u0631\u0643\u0629.\u0639\u0631\u0628",  # .arab
        # .bangla
        "\u09b0\u09b9\u09bf\u09ae@\u0989\u09a6\u09be\u09b9\u09b0\u09a3.\u09ac\u09be\u0982\u09b2\u09be",
    ],
)
def test_addresses_past_ascii_written_encoded_or_under_further_idn_tlds_are_replaced(text: str) -> None:
    redacted = PiiRedactor().redact_text(text)
    assert "<EMAIL>" in redacted and "@" not in redacted and "%40" not in redacted and "&#" not in redacted


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pin=4821", "pin=<SECRET>"),
        ("otp: 482913", "otp: <SECRET>"),
        ("card=4111111111111111&cvv=741", "card=<CREDIT_CARD>&cvv=<SECRET>"),
        ("security code: 737", "security code: <SECRET>"),
        # not a code: too short, another word, a count, an HTTP status
        ("gpio pin: 13", "gpio pin: 13"),
        ("spin=1234", "spin=1234"),
        ("pin count=5000", "pin count=5000"),
        ("code: 404 not found", "code: 404 not found"),
    ],
)
def test_a_short_code_named_in_text_is_replaced(text: str, expected: str) -> None:
    """A fifth review: a card's security code or a PIN written key=value in text was kept."""
    assert PiiRedactor().redact_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my cvv is 737", "my cvv is <SECRET>"),
        ("The CVV 737 is on the back.", "The CVV <SECRET> is on the back."),
        ("Your verification code is 482913.", "Your verification code is <SECRET>."),
        ("OTP: 482913.", "OTP: <SECRET>."),  # a full stop after it
        ("cvv2=741", "cvv2=<SECRET>"),
        ("CVC2: 123", "CVC2: <SECRET>"),
        ("pin number 4821", "pin number <SECRET>"),
        ("PIN is 4821, do not share", "PIN is <SECRET>, do not share"),
        ("one-time passcode: 90210", "one-time passcode: <SECRET>"),
        ("npm publish --otp 123456", "npm publish --otp <SECRET>"),  # npm's 2FA code
        ("your 2FA code is 551234", "your 2FA code is <SECRET>"),
        # not a code: a date, a time, a decimal, a pin of a board, another word
        ("the pin is 2024-05-06", "the pin is 2024-05-06"),
        ("pin: 12:30", "pin: 12:30"),
        ("otp 123.45 ms", "otp 123.45 ms"),
        ("use pin 13 on the board", "use pin 13 on the board"),
        ("Pinned 1234 items", "Pinned 1234 items"),
        ("error code 500", "error code 500"),
    ],
)
def test_a_short_code_named_in_prose_is_replaced(text: str, expected: str) -> None:
    """A code named by its word with a space, "is" or "number" between ("my cvv is 737"), or
    followed by a full stop, was kept: only "cvv=737" and "cvv: 737" were read."""
    assert PiiRedactor().redact_text(text) == expected
    # the same in a long text, which the one-pass screen looks at first
    long_text = "x " * 600 + text
    assert PiiRedactor().redact_text(long_text) == "x " * 600 + expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # North America's "1" before a bracketed area code (a sixth review: kept whole)
        ("call me back at 1 (415) 555-0161 after 5pm", "call me back at <PHONE_NUMBER> after 5pm"),
        ("1 (650) 253-0000", "<PHONE_NUMBER>"),
        ("1-(212) 736-5000.", "<PHONE_NUMBER>."),
        ("order 12 (415) 555-0187", "order 12 <PHONE_NUMBER>"),  # a bracketed area code starts a number
        # a card right after a phone number or a ZIP code, only spaces between: both found
        ("order A-1001 415 555 0177 4111 1111 1111 1111", "order A-1001 <PHONE_NUMBER> <CREDIT_CARD>"),
        ("CA 94107 4000 0566 5566 5556 exp 12/27", "CA 94107 <CREDIT_CARD> exp 12/27"),
        ("+1 650 253 0000 5500 0000 0000 0004", "<PHONE_NUMBER> <CREDIT_CARD>"),
        ("4111 1111 1111 1111 5500 0000 0000 0004", "<CREDIT_CARD> <CREDIT_CARD>"),  # two in a row
        # still no number: a list, small numbers in a row, a step
        ("4 8 15 16 23 42", "4 8 15 16 23 42"),
        ("page 1 (200) items", "page 1 (200) items"),
        ("8297 8273 6441 5349 2112 9203 9276 8766", "8297 8273 6441 5349 2112 9203 9276 8766"),
    ],
)
def test_numbers_beside_other_numbers_are_each_found(text: str, expected: str) -> None:
    """Before, "1 (415) 555-0161" was read as the tail of a list of numbers, and a card after a
    phone number or a ZIP code was cut into two candidates at its 19th digit."""
    assert PiiRedactor().redact_text(text) == expected


@pytest.mark.parametrize(
    "token",
    [
        "fc-3f1e5ad5eda771d3ce28492fe8b7643b",  # Firecrawl
        "e2b_97b6c35c2a3f1e5ad5eda771d3ce28492fe8b764",  # E2B
        "tgp_v1_Hq2LmX9vB4nR8tK1cW6yZ3pD5fJ0gS2aE7uV9iO4bN6",  # Together AI
    ],
)
def test_agent_tool_providers_keys_are_found_bare(token: str) -> None:
    """A sixth review: these prefixes were not known, so a key in a log line or a chat went out."""
    assert PiiRedactor().redact_text(f"falling back to the tool with {token} now") == (
        "falling back to the tool with <API_KEY> now"
    )

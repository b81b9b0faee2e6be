"""Passwords written the ways people and code write them outside a key=value pair: in prose, as an
unquoted passphrase of several words, as the second string of a credentials pair."""

from __future__ import annotations

import pytest

from processors.pii import PiiRedactor


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my password is Tr0ub4dor&3", "my password is <SECRET>"),
        ("the password is hunter2", "the password is <SECRET>"),
        ("change password to Summer2024!", "change password to <SECRET>!"),
        ("set password Tr0ub4dor&3xyz", "set password <SECRET>"),
        ("wifi password is kitten-42-lamp, thanks", "wifi password is <SECRET>, thanks"),
        ("db passwd Zq8#rr1", "db passwd <SECRET>"),
        ("My Password Is Hunter!!Pw", "My Password Is <SECRET>"),
        ("password=correct horse battery staple", "password=<SECRET>"),
        ("pwd: my secret pass, user: bob", "pwd: <SECRET>, user: bob"),
        ("login ok password=blue sky 42 user=bob", "login ok password=<SECRET> user=bob"),
        ("creds=('admin', 'hunter2Secret!')", "creds=('admin', '<SECRET>')"),
        ('auth=("bob", "S3cr3tPassw0rd")', 'auth=("bob", "<SECRET>")'),
        (
            "requests.get(u, auth=HTTPBasicAuth('user', 'P4ssw0rdXYZ'))",
            "requests.get(u, auth=HTTPBasicAuth('user', '<SECRET>'))",
        ),
        ("aiohttp.BasicAuth('svc', 'plainpass22')", "aiohttp.BasicAuth('svc', '<SECRET>')"),
        ('httpx.DigestAuth("ops", "w1nter-c0ming")', 'httpx.DigestAuth("ops", "<SECRET>")'),
    ],
)
def test_a_password_outside_a_key_value_pair_is_replaced(text: str, expected: str) -> None:
    redacted, counts = PiiRedactor().redact(text)
    assert redacted == expected
    assert counts["SECRET"] == expected.count("<SECRET>")


@pytest.mark.parametrize(
    "text",
    [
        "password: the user's password",
        "password: must be at least 12 characters",
        "password = None if x else y",
        "password: Optional[str] = None",
        "password VARCHAR(255) NOT NULL",
        "password VARCHAR2",
        "Password reset for user bob",
        "the password field is required",
        "password: not set, user: bob",
        "Enter password to continue",
        "password policy v2.1 applies",
        "password hashing with Argon2id",
        "password: User password for login",
        "auth=('Bearer', token)",
        "credentials=('service-account', 'default')",
        "login('bob', password)",
        "if password is None: raise",
        "docker run --rm -v $PWD:/work -w /work python:3.12 pytest",
        "pwd: /home/dev/project",
        "Password Manager 1Password",
        "token: gpt-4o-mini-2024-07-18",
        "model token: claude-3-5-sonnet-20241022",
        "wandb login --help",
        "The token is expired, please refresh it.",
        "Your api key is invalid or missing.",
        "api key for the staging API is not set",
        "The access token for user 42 expires in 3600 seconds",
        "I forgot my password yesterday at 10:30",
        "auth=('user', getpass())",
        "redis-cli -a $REDIS_PASSWORD ping",
    ],
)
def test_text_about_passwords_is_left_alone(text: str) -> None:
    assert PiiRedactor().redact_text(text) == text


def test_the_screen_and_the_plain_recognizers_agree_on_passwords_in_text() -> None:
    texts = ["my password is Tr0ub4dor&3", "pwd: my secret pass, user: bob", "auth=('a', 'S3cr3tPw')"]
    screened, plain = PiiRedactor(), PiiRedactor(screen=False, cache=False)
    assert [screened.redact_text(t) for t in texts] == [plain.redact_text(t) for t in texts]

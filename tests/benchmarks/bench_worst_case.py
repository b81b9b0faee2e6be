"""Worst-case texts for the fast path: does redaction time grow with the text's length, or faster?

Each family of hostile or unusual text (long runs a pattern could rescan from every position,
thousands of number-shaped candidates, repeated key words, number-heavy text such as CSV of
amounts and lists of ids, where each number is a phone candidate) is redacted at 25,000 and 100,000
characters; the script prints the time per KiB at the larger size and the growth ratio
t(100K) / t(25K): about 4 when time is linear in the length, about 16 when it is quadratic.
A text of thousands of candidates is slow per KiB but linear; on the app thread it passes the
inline budget and goes to the chain's worker.

    python tests/benchmarks/bench_worst_case.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from processors.pii import PiiRedactor, number_checks


def _rows(size: int, number: Callable[[random.Random], str], separator: str) -> str:
    """Seeded numbers joined by ``separator``, eight to a line, cut at ``size`` characters."""
    rng = random.Random(size)
    out: list[str] = []
    length = 0
    while length < size:
        out.append(number(rng) + ("\n" if len(out) % 8 == 7 else separator))
        length += len(out[-1])
    return "".join(out)[:size]


_ARABIC_INDIC = str.maketrans("0123456789", "".join(map(chr, range(0x660, 0x66A))))
_FULL_WIDTH = str.maketrans("0123456789", "".join(map(chr, range(0xFF10, 0xFF1A))))
FAMILIES: dict[str, Callable[[int], str]] = {
    "email: 'a.' run, then addresses": lambda n: "a." * (n // 2) + "@x y@z.com",
    "email: 'a-' run, then addresses": lambda n: "a-" * (n // 2) + "@x y@z.com",
    "email: 'x@' then 'a.' run": lambda n: "x@" + "a." * (n // 2) + "1",
    "email: 'a@' repeated": lambda n: "a@" * (n // 2) + "b.co",
    # addresses past ASCII (the second email recognizer, asked of texts with such characters)
    "email: '\u00e9.' run, then addresses": lambda n: "\u00e9." * (n // 2) + "@x y@z.com",
    "email: '\u0430@' repeated (Cyrillic)": lambda n: "\u0430@" * (n // 2) + "b.co",
    "email: 'x@' then '\u0430.' run": lambda n: "x@" + "\u0430." * (n // 2) + "1",
    "email: Thai words, '@' between": lambda n: "\u0e2a\u0e31\u0e27@" * (n // 4),
    "credentials: 'a.' run, then a URL": lambda n: "a." * (n // 2) + " x://u:p@h",
    "credentials: '://' repeated": lambda n: "a://b:" * (n // 6) + "@h",
    "digits: '1 ' repeated": lambda n: "1 " * (n // 2),
    "digits: '1-' repeated": lambda n: "1-" * (n // 2),
    "digits: NBSP between": lambda n: "1\u00a02\u00a03\u00a04\u00a0" * (n // 8),
    "digits: full-width": lambda n: "\uff11\uff12\uff13\uff14 " * (n // 5),
    "digits: groups of four": lambda n: "1234 " * (n // 5),
    "phones: distinct numbers": lambda n: " ".join(f"+1 212 736 {i % 10_000:04d}" for i in range(n // 16)),
    "cards: one repeated": lambda n: "4111 1111 1111 1111 " * (n // 20),
    "secret: 'password=' repeated": lambda n: "password=" * (n // 9),
    "secret: 'token=' then '&a' run": lambda n: "token=" + "&a" * (n // 2),
    "secret: 'password:' and spaces": lambda n: ("password:" + " " * 1000) * (n // 1009),
    "private key: 'BEGIN' repeated": lambda n: "-----BEGIN " * (n // 11) + "PRIVATE KEY",
    "ipv6: 'ab::' repeated": lambda n: "ab::" * (n // 4),
    "jwt: 'eyJaaaaaa.' repeated": lambda n: "eyJaaaaaa." * (n // 10),
    # prose: a password word or a key word, then words that could be its "for …" phrase
    "prose: 'password for the ' repeated": lambda n: "password for the " * (n // 17),
    "prose: 'api key is token ' repeated": lambda n: "api key is token " * (n // 17),
    "prose: 'pwd: a b c d e f, ' repeated": lambda n: "pwd: a b c d e f, " * (n // 18),
    # number-heavy text: every number is a candidate the validators look at
    "numbers: CSV of floats (2 decimals)": lambda n: _rows(n, lambda r: f"{r.uniform(0, 1e6):.2f}", ","),
    "numbers: CSV of floats (repr)": lambda n: _rows(n, lambda r: repr(r.uniform(-1e4, 1e4)), ","),
    "numbers: 10-digit ids, comma list": lambda n: _rows(
        n, lambda r: str(r.randrange(2 * 10**9, 10**10)), ", "
    ),
    "numbers: 10-digit ids, zero-padded": lambda n: _rows(n, lambda r: f"{r.randrange(10**10):010d}", "\n"),
    "numbers: 10-digit ids, sequential": lambda n: " ".join(str(10**9 + i) for i in range(n // 11))[:n],
    # longer ids, read as international numbers written without their "+" too
    "numbers: 12-digit ids, tab-separated": lambda n: _rows(
        n, lambda r: str(r.randrange(10**11, 10**12)), "\t"
    ),
    "numbers: JSON array of 12-digit ints": lambda n: _rows(n, lambda r: str(r.randrange(10**12)), ", "),
    "numbers: 13-digit millisecond times": lambda n: _rows(
        n, lambda r: str(r.randrange(10**12, 10**13)), ","
    ),
    # text dense with actual PII, and numbers in other scripts' digits
    "phones: dotted, two to a candidate": lambda n: _rows(
        n, lambda r: f"{r.randrange(200, 999)}.{r.randrange(200, 999)}.{r.randrange(10_000):04d}", " "
    ),
    "phones: dashed, comma list": lambda n: _rows(
        n, lambda r: f"{r.randrange(200, 999)}-{r.randrange(200, 999)}-{r.randrange(10_000):04d}", ", "
    ),
    "phones: '+44' and random digits": lambda n: _rows(
        n, lambda r: f"+{r.choice((44, 49, 33, 91, 81))} {r.randrange(10**9, 10**10)}", ", "
    ),
    "numbers: 10-digit ids, Arabic-Indic": lambda n: _rows(
        n, lambda r: str(r.randrange(10**9, 10**10)).translate(_ARABIC_INDIC), " "
    ),
    "numbers: 10-digit ids, full-width": lambda n: _rows(
        n, lambda r: str(r.randrange(10**9, 10**10)).translate(_FULL_WIDTH), "\u3001"
    ),
}
SMALL, LARGE = 25_000, 100_000


def timed(redactor: PiiRedactor, text: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        number_checks._PHONE_VERDICTS.clear()  # every number met for the first time, at each run
        started = time.perf_counter()
        redactor.find(text)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs per size")
    args = parser.parse_args()
    redactor = PiiRedactor(cache=False)
    redactor.find("warm up: jane@example.com +1 212 736 5000 4111 1111 1111 1111")
    worst = 0.0
    print(f"{'family':42s} {'us/KiB at 100K':>15s} {'growth 25K->100K':>17s}")
    for name, make in FAMILIES.items():
        small, large = make(SMALL), make(LARGE)
        t_small, t_large = timed(redactor, small, args.repeat), timed(redactor, large, args.repeat)
        growth = t_large / t_small if t_small else float("nan")
        worst = max(worst, growth)
        print(f"{name:42s} {t_large / (len(large) / 1024) * 1e6:15.1f} {growth:16.1f}x")
    print(f"largest growth: {worst:.1f}x (length x4: linear is about 4x, quadratic about 16x)")


if __name__ == "__main__":
    main()

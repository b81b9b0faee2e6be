"""Secrets on the provider and assignment-style corpus: share removed, near misses altered.

``tests/data/secret_corpus.json``: secrets in the token formats providers document and in the
assignment styles secret scanners look for, and near misses and placeholders that must stay.
A secret counts as removed when no piece of it of ``PIECE`` characters survives (no tail left).
Targets: >= 98% removed, <= 2% of near misses altered.

    python tests/benchmarks/secret_quality.py [--verbose]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from processors.pii import PiiRedactor

CORPUS = Path(__file__).resolve().parents[1] / "data" / "secret_corpus.json"
PIECE = 8  # a surviving piece of a secret this long counts as a leak


def load() -> dict[str, Any]:
    corpus: dict[str, Any] = json.loads(CORPUS.read_text("utf-8"))
    return corpus


def leaked_piece(secret: str, redacted: str) -> str | None:
    """The first piece of ``secret`` of PIECE characters (or all of a shorter one) left in the text."""
    size = min(PIECE, len(secret))
    for start in range(len(secret) - size + 1):
        piece = secret[start : start + size]
        if piece in redacted:
            return piece
    return None


def measure(redactor: PiiRedactor | None = None) -> tuple[list[str], int, list[str], int]:
    """The sensitive cases missed and their number, the near misses altered and their number."""
    redactor = redactor or PiiRedactor(cache=False)
    corpus = load()
    missed = []
    for case in corpus["sensitive"]:
        redacted = redactor.redact_text(case["text"])
        piece = leaked_piece(case["secret"], redacted)
        if piece is not None:
            missed.append(f"missed {case['provider']}/{case['style']}: {case['text']!r} -> {redacted!r}")
    altered = []
    for case in corpus["benign"]:
        redacted = redactor.redact_text(case["text"])
        if redacted != case["text"]:
            altered.append(f"altered: {case['text']!r} -> {redacted!r}")
    return missed, len(corpus["sensitive"]), altered, len(corpus["benign"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--verbose", action="store_true", help="list every miss")
    args = parser.parse_args()
    missed, sensitive, altered, benign = measure()
    removed = sensitive - len(missed)
    print(f"secrets removed:      {removed / sensitive:.2%} ({removed}/{sensitive})   (target >= 98%)")
    print(f"near misses altered:  {len(altered) / benign:.2%} ({len(altered)}/{benign})   (target <= 2%)")
    for line in (missed + altered)[: None if args.verbose else 30]:
        print("  " + line)


if __name__ == "__main__":
    main()

"""Redaction quality on the seeded labelled corpus: recall per entity type, benign values altered.

Targets: >= 99% of structured sensitive values removed, <= 1% of benign identifiers altered.

    python tests/benchmarks/pii_quality.py [--seed N]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from processors.pii import PiiRedactor
from tests.support.pii_corpus import build


def measure(seed: int) -> tuple[dict[str, tuple[int, int]], tuple[int, int], list[str], float]:
    redactor = PiiRedactor()
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    altered = benign = 0
    misses: list[str] = []
    started = time.perf_counter()
    cases = build(seed)
    for case in cases:
        redacted = redactor.redact_text(case.text)
        if case.entity == "BENIGN":
            benign += 1
            if redacted != case.text:
                altered += 1
                misses.append(f"altered: {case.text!r} -> {redacted!r}")
        else:
            total[case.entity] += 1
            if case.value not in redacted:
                found[case.entity] += 1
            else:
                misses.append(f"missed {case.entity}: {case.text!r} -> {redacted!r}")
    elapsed = time.perf_counter() - started
    return {e: (found[e], total[e]) for e in total}, (altered, benign), misses, elapsed / len(cases)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=20261121)
    args = parser.parse_args()
    recall, (altered, benign), misses, per_case = measure(args.seed)
    hits = sum(f for f, _ in recall.values())
    cases = sum(t for _, t in recall.values())
    for entity, (f, t) in sorted(recall.items()):
        print(f"{entity:14s} recall {f / t:7.2%} ({f}/{t})")
    print(f"sensitive overall: {hits / cases:.2%} ({hits}/{cases})   (target >= 99%)")
    print(f"benign altered:    {altered / benign:.2%} ({altered}/{benign})   (target <= 1%)")
    print(f"mean time per case (corpus built and redacted): {per_case * 1e6:.1f} us")
    for line in misses[:20]:
        print("  " + line)


if __name__ == "__main__":
    main()

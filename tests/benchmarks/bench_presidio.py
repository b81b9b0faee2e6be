"""PiiRedactor against presidio's AnalyzerEngine on the same seeded corpus, in the same run.

Presidio runs as its docs set it up, with its default recognizers, on a blank spaCy pipeline
(no model), score threshold 0.5; its findings are replaced the way ours are. Its email
recognizer's tldextract is pointed at the bundled suffix list so that nothing goes to the
network. Our redactor runs with its per-string cache off, so every string is scanned.
Prints per-string time of each, the speed ratio (target >= 50x), and recall and benign
values altered for both (target: equal or better recall). Then the same on long texts
(corpus sentences joined into messages of a few KB, as GenAI content is): time per KB of
each, and how many sensitive values our redactor left in them.

    python tests/benchmarks/bench_presidio.py [--seed N] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from processors.pii import PiiRedactor
from tests.support.pii_corpus import Case, build

OURS_PASSES = 20
LONG_TEXT_CASES = 25  # corpus sentences joined into one long text


def presidio_redact() -> Callable[[str], str]:
    import spacy
    import tldextract
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers.generic import email_recognizer

    offline = tldextract.TLDExtract(suffix_list_urls=())  # the bundled snapshot, no download
    email_recognizer.tldextract.extract = offline  # type: ignore[attr-defined]
    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": "blank"}])
    engine.nlp = {"en": spacy.blank("en")}
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(nlp_engine=engine, languages=["en"])
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])

    def redact(text: str) -> str:
        results = analyzer.analyze(text, language="en", score_threshold=0.5)
        chosen: list = []
        for r in sorted(results, key=lambda r: (-r.score, r.start - r.end)):
            if all(r.end <= c.start or r.start >= c.end for c in chosen):
                chosen.append(r)
        for r in sorted(chosen, key=lambda r: r.start, reverse=True):
            text = text[: r.start] + f"<{r.entity_type}>" + text[r.end :]
        return text

    return redact


def quality(redact: Callable[[str], str], cases: list[Case]) -> tuple[Counter[str], Counter[str], int, int]:
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    altered = benign = 0
    for case in cases:
        redacted = redact(case.text)
        if case.entity == "BENIGN":
            benign += 1
            altered += redacted != case.text
        else:
            total[case.entity] += 1
            found[case.entity] += case.value not in redacted
    return found, total, altered, benign


def per_string(redact: Callable[[str], str], texts: list[str], passes: int = 1) -> float:
    started = time.perf_counter()
    for _ in range(passes):
        for text in texts:
            redact(text)
    return (time.perf_counter() - started) / (len(texts) * passes)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    cases = build(args.seed)
    texts = [case.text for case in cases]
    ours = PiiRedactor(cache=False).redact_text
    theirs = presidio_redact()
    theirs(texts[0])  # first call loads lazily-built parts; not timed
    # Alternating rounds; ours passes over the corpus OURS_PASSES times per round so both sides
    # run for a comparable time (a burst of noise on a busy machine then hits both alike).
    rounds = [(per_string(ours, texts, OURS_PASSES), per_string(theirs, texts)) for _ in range(args.rounds)]
    ours_time = statistics.median(o for o, _ in rounds)
    theirs_time = statistics.median(t for _, t in rounds)
    ratio = statistics.median(t / o for o, t in rounds)
    print(f"corpus: {len(cases)} strings (seed {args.seed}), median of {args.rounds} alternating rounds")
    print(f"PiiRedactor:      {ours_time * 1e6:9.1f} us per string")
    print(f"presidio (blank): {theirs_time * 1e6:9.1f} us per string")
    print(f"speed ratio:      {ratio:9.1f}x faster   (target >= 50x; median of per-round ratios)")
    print()
    print(f"{'entity':14s} {'PiiRedactor':>14s} {'presidio':>14s}")
    results = [quality(ours, cases), quality(theirs, cases)]
    for entity in sorted(results[0][1]):
        cells = [f"{r[0][entity] / r[1][entity]:7.2%} ({r[0][entity]:3d})" for r in results]
        print(f"{entity:14s} {cells[0]:>14s} {cells[1]:>14s}")
    for label, index in (("recall", 0), ("benign altered", 2)):
        cells = []
        for found, total, altered, benign in results:
            share = sum(found.values()) / sum(total.values()) if index == 0 else altered / benign
            cells.append(f"{share:7.2%}")
        print(f"{label:14s} {cells[0]:>14s} {cells[1]:>14s}")
    print()
    long_texts(cases, ours, theirs, args.rounds)


Redact = Callable[[str], str]


def long_texts(cases: list[Case], ours: Redact, theirs: Redact, rounds: int) -> None:
    groups = [cases[start : start + LONG_TEXT_CASES] for start in range(0, len(cases), LONG_TEXT_CASES)]
    texts = [" ".join(case.text for case in group) for group in groups]
    kib = sum(map(len, texts)) / len(texts) / 1024
    timed = [(per_string(ours, texts, 5), per_string(theirs, texts)) for _ in range(rounds)]
    ours_kib = statistics.median(o for o, _ in timed) / kib
    theirs_kib = statistics.median(t for _, t in timed) / kib
    left = sum(
        case.value in redacted
        for group, text in zip(groups, texts, strict=True)
        for redacted in [ours(text)]
        for case in group
        if case.entity != "BENIGN"
    )
    sensitive = sum(case.entity != "BENIGN" for case in cases)
    print(f"long texts: {len(texts)} of {kib:.1f} KiB on average ({LONG_TEXT_CASES} corpus sentences each)")
    print(f"PiiRedactor:      {ours_kib * 1e6:9.1f} us per KiB   ({left}/{sensitive} sensitive values left)")
    print(f"presidio (blank): {theirs_kib * 1e6:9.1f} us per KiB")
    print(f"speed ratio:      {statistics.median(t / o for o, t in timed):9.1f}x faster")


if __name__ == "__main__":
    main()

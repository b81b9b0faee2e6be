"""Quality targets on the seeded labelled corpus: >= 99% of sensitive values removed, <= 1% benign altered."""

from __future__ import annotations

from collections import Counter

from processors.pii import PiiRedactor
from tests.support.pii_corpus import LOCALES, SENSITIVE, build, iban_valid, luhn_valid, phone_valid


def test_corpus_is_large_and_covers_every_entity_type() -> None:
    cases = build()
    counts = Counter(case.entity for case in cases)
    assert len(cases) >= 1000
    assert set(counts) == {*SENSITIVE, "BENIGN"}
    assert all(counts[entity] >= 50 for entity in SENSITIVE), counts
    assert counts["BENIGN"] >= 500


def test_corpus_is_seeded_and_every_value_is_in_its_text_and_valid_for_its_type() -> None:
    cases = build(7)
    assert cases == build(7)
    assert cases != build(8)
    for case in cases:
        assert case.value in case.text, case
        if case.entity == "CREDIT_CARD":
            assert luhn_valid(case.value), case
        elif case.entity == "IBAN_CODE":
            assert iban_valid(case.value), case
        elif case.entity == "PHONE_NUMBER":
            numbers = (case.value, "+" + case.value)
            assert any(phone_valid(n, r) for n in numbers for r in LOCALES.values()), case


def test_recall_and_benign_alteration_meet_the_targets_for_several_seeds() -> None:
    redactor = PiiRedactor()
    for seed in (1, 2, 20261121):
        cases = build(seed)
        sensitive = [c for c in cases if c.entity != "BENIGN"]
        benign = [c for c in cases if c.entity == "BENIGN"]
        missed = [c for c in sensitive if c.value in redactor.redact_text(c.text)]
        altered = [c for c in benign if redactor.redact_text(c.text) != c.text]
        assert len(missed) <= 0.01 * len(sensitive), missed[:5]
        assert len(altered) <= 0.01 * len(benign), altered[:5]

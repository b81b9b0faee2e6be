"""The redactor's fast paths give the answers of the slow ones they stand in for.

The one-pass screen (google-re2, :mod:`processors.pii.screen`) only decides which recognizers
to try, so redaction with it, without it (where google-re2 is not installed) and with RE2
giving up must be identical on every corpus. The phone number reader
(:mod:`processors.pii.phone_numbers`) must give ``phonenumbers``' own verdicts, number by
number, on the corpora's numbers and on generated ones of every shape the fast path reads.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from processors.pii import PiiRedactor, number_checks, phone_numbers, screen
from processors.pii import redactor as redactor_module
from processors.pii.patterns import recognizers
from tests.support.pii_corpus import build

DATA = Path(__file__).parent.parent / "data"


def _corpora() -> list[str]:
    texts = [case.text for case in build()]
    for name in ("sensitive", "benign"):
        entries: list[dict[str, Any]] = json.loads((DATA / f"hostile_{name}.json").read_text("utf-8"))[name]
        texts += [entry["text"] for entry in entries]
    secrets: dict[str, Any] = json.loads((DATA / "secret_corpus.json").read_text("utf-8"))
    texts += [entry["text"] for entry in secrets["sensitive"] + secrets["benign"]]
    # long texts: corpus sentences joined, as GenAI message content is
    texts += [" ".join(texts[start : start + 25]) for start in range(0, 1100, 25)]
    return texts


CORPORA = _corpora()


def test_the_screen_is_built_where_google_re2_is_installed() -> None:
    pytest.importorskip("re2")
    assert screen.build_screen(recognizers()) is not None


def test_redaction_is_the_same_with_and_without_the_screen_on_every_corpus() -> None:
    with_screen = PiiRedactor(cache=False)
    with_screen.screen_min_length = 0  # every text screened, however short
    without = PiiRedactor(cache=False, screen=False)
    assert without.recognizers and without._screen is None
    differences = [
        (text, mine, theirs)
        for text in CORPORA
        if (mine := with_screen.redact(text)) != (theirs := without.redact(text))
    ]
    assert not differences, differences[:5]


@pytest.mark.parametrize("style", ["mask", "hash"])
def test_the_screen_changes_nothing_in_the_other_styles(style: str) -> None:
    texts = CORPORA[::3]
    with_screen = PiiRedactor(style=style, hash_key="k", cache=False)  # type: ignore[arg-type]
    with_screen.screen_min_length = 0
    without = PiiRedactor(style=style, hash_key="k", cache=False, screen=False)  # type: ignore[arg-type]
    assert [with_screen.redact_text(t) for t in texts] == [without.redact_text(t) for t in texts]


def test_the_marks_gate_of_texts_not_screened_changes_nothing_on_every_corpus() -> None:
    """Texts RE2 does not screen (short ones, or every text without google-re2) skip the
    recognizers whose gates need a mark they do not hold: the answers stay those of every gate."""
    marked = PiiRedactor(cache=False)
    marked.screen_min_length = 1 << 40  # RE2 never asked: the marks gate decides
    without = PiiRedactor(cache=False, screen=False)
    differences = [
        (text, mine, theirs)
        for text in CORPORA
        if (mine := marked.redact(text)) != (theirs := without.redact(text))
    ]
    assert not differences, differences[:5]
    # and it did skip some: most texts hold few marks
    assert marked._by_marks and any(len(todo) < len(marked._plans) // 2 for todo in marked._by_marks.values())


def test_the_word_screen_changes_nothing_and_without_pyahocorasick_neither(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the key-word screen (pyahocorasick) and without it (a platform with no wheel: every
    word-gated recognizer is asked its gates), the answers are those of every gate."""
    pytest.importorskip("ahocorasick")
    worded = PiiRedactor(cache=False)
    worded.screen_min_length = 1 << 40
    assert worded.recognizers and worded._word_screen is not None
    monkeypatch.setitem(sys.modules, "ahocorasick", None)  # import fails: no word screen
    monkeypatch.setattr(redactor_module, "_WORD_SCREENS", {})
    wordless = PiiRedactor(cache=False)
    wordless.screen_min_length = 1 << 40
    assert wordless.recognizers and wordless._word_screen is None
    without = PiiRedactor(cache=False, screen=False)
    for text in CORPORA:
        expected = without.redact(text)
        assert worded.redact(text) == expected, text
        assert wordless.redact(text) == expected, text
    # the screen found words, and skipped recognizers for texts that hold none of theirs
    assert any(words for _, _, words in worded._by_marks)
    assert all(words is None for _, _, words in wordless._by_marks)


def test_the_word_screen_finds_overlapping_words() -> None:
    pytest.importorskip("ahocorasick")
    from processors.pii.keywords import build_word_screen

    screen = build_word_screen(["pass", "requirepass", "no", "key"])
    assert screen is not None
    assert screen("requirepass nokey") == {"pass", "requirepass", "no", "key"}
    assert screen("") == frozenset()


def _literal_starts(parsed: Any) -> tuple[set[str], bool]:
    """The literal strings the matches of a parsed pattern start with (groups, branches and
    optional parts of literals spelled out), and whether they are the whole of it; "" among them
    where a match may start with anything else."""
    from re import _constants as c  # type: ignore[attr-defined]

    starts = {""}
    for op, value in parsed:
        if op in (c.ASSERT, c.ASSERT_NOT, c.AT):  # zero-width: nothing to spell
            continue
        if op is c.LITERAL:
            starts = {start + chr(value) for start in starts}
            continue
        if op is c.SUBPATTERN:
            inner, whole = _literal_starts(value[-1])
        elif op is c.BRANCH:
            branches = [_literal_starts(branch) for branch in value[1]]
            inner = set().union(*(each for each, _ in branches))
            whole = all(complete for _, complete in branches)
        elif op is c.IN and all(item_op is c.LITERAL for item_op, _ in value):  # (?:ł|l) is [łl]
            inner, whole = {chr(code) for _, code in value}, True
        elif op is c.MAX_REPEAT and value[:2] == (0, 1):
            inner, whole = _literal_starts(value[2])
            inner |= {""}
        else:
            return starts, False
        starts = {start + more for start in starts for more in inner}
        if not whole:
            return starts, False
    return starts, True


def test_each_recognizers_declared_words_are_what_its_gates_require() -> None:
    """A declared word must be in every match of the gate it stands for (a casefolded gate, or a
    case-sensitive one read casefolded): each literal a match starts with holds one of them."""
    from re import _parser  # type: ignore[attr-defined]

    from processors.pii.recognizer import fold

    declared = [r for r in recognizers() if r.words]
    assert len(declared) >= 6
    for recognizer in declared:
        # the gate the words stand for, or the pattern itself where it has none
        gate = recognizer.folded_pattern or recognizer.hint_pattern or recognizer.pattern
        literals, _ = _literal_starts(_parser.parse(gate.pattern, gate.flags))
        assert literals and "" not in literals, recognizer
        for literal in literals:
            assert any(word in fold(literal) for word in recognizer.words), (recognizer.entity, literal)


def _required_characters(parsed: Any, among: frozenset[str]) -> frozenset[str] | None:
    """Characters of ``among`` one of which every match of a parsed pattern (re._parser) holds,
    as far as this plain reading of literals, classes, groups, branches and repeats tells; None:
    none known."""
    from re import _constants as c  # type: ignore[attr-defined]

    for op, value in parsed:
        found: frozenset[str] | None = None
        if op is c.LITERAL:
            found = frozenset(chr(value))
        elif op is c.IN and all(item_op is c.LITERAL for item_op, _ in value):
            found = frozenset(chr(code) for _, code in value)
        elif op is c.SUBPATTERN:
            found = _required_characters(value[-1], among)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT) and value[0] >= 1:
            found = _required_characters(value[2], among)
        elif op is c.BRANCH:
            each = [_required_characters(branch, among) for branch in value[1]]
            found = None if any(chars is None for chars in each) else frozenset().union(*each)  # type: ignore[arg-type]
        if found is not None and found <= among:
            return found
    return None


def test_a_text_without_digits_marks_or_key_words_asks_no_recognizer() -> None:
    """Every recognizer that needs no digit is gated by marks or words, so plain text skips them
    all (this stands for the old top-level screen, which let prose passwords in other languages
    through: a text with none of its few characters and words was never scanned)."""
    redactor = PiiRedactor(cache=False)
    assert redactor.recognizers
    assert all(
        marks is not None or words is not None or recognizer.digits
        for recognizer, marks, words in zip(
            redactor.recognizers, redactor._marks, redactor._words, strict=True
        )
    )
    assert redactor._todo("Hello world, the weather is fine today")[1] == []


PROSE_PASSWORDS = [
    "Mein Kennwort lautet Sonnenblume!Regen",
    "mi contrase\u00f1a es Perro!Azul$Gato",
    "\u015fifrem Kedi#Balik",
    "minha senha \u00e9 Gato!Preto#Azul",
    "\u015e\u0130FRE: Kedi123!Balik",
    "\u015f\u0131fre: Kedi123!Balik",
    "my passphrase is correct-Horse!9",
    "requirepass S3cretPassw0rd",
    "IDENTIFIED BY Welcome!Home",
]


@pytest.mark.parametrize("text", PROSE_PASSWORDS)
def test_a_password_in_prose_without_digits_or_marks_before_it_is_redacted(text: str) -> None:
    """Prose that holds none of the old screen's characters before the password (a German,
    Spanish, Turkish, Portuguese word; a dotted capital I casefolding cannot read as i)."""
    long = "lorem ipsum dolor sit amet " * 40 + text
    for redactor in (PiiRedactor(cache=False), PiiRedactor(cache=False, screen=False)):
        for value in (text, long):
            redacted, found = redactor.redact(value)
            assert found == {"SECRET": 1} and redacted.endswith("<SECRET>"), (value[-60:], redacted[-60:])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DB_PASSWORD\uff1dSakura2024xyz", "DB_PASSWORD=<SECRET>"),
        ("\u30d1\u30b9\u30ef\u30fc\u30c9\uff1dSakura2024", "\u30d1\u30b9\u30ef\u30fc\u30c9=<SECRET>"),
        ("ssn\uff1d536221234", "ssn=<US_SSN>"),
        ("a\uff1db", "a\uff1db"),  # nothing to replace: the text stays as written
        ("mail jane\ufe6bexample\ufe52com now", "mail <EMAIL> now"),  # small form "@" and "."
        ("a\ufe6bb", "a\ufe6bb"),
    ],
)
def test_a_key_and_value_joined_by_a_full_width_equals_sign_is_read_as_typed_in_ascii(
    text: str, expected: str
) -> None:
    assert PiiRedactor(cache=False).redact_text(text) == expected


def test_each_recognizers_declared_marks_are_what_its_gates_require() -> None:
    """A declared mark must be one its gate pattern cannot match without (read off the pattern),
    and hints give marks only where every hint holds one."""
    from re import _parser  # type: ignore[attr-defined]

    from processors.pii.recognizer import MARK_CHARACTERS, gate_marks

    declared = [r for r in recognizers() if r.marks]
    assert len(declared) >= 5
    for recognizer in declared:
        gate = recognizer.hint_pattern or recognizer.folded_pattern
        assert gate is not None, recognizer
        required = _required_characters(_parser.parse(gate.pattern, gate.flags), MARK_CHARACTERS)
        assert required is not None and required <= frozenset(recognizer.marks), (recognizer, required)
    for recognizer in recognizers():
        marks = gate_marks(recognizer)
        if marks is not None and not recognizer.marks:
            assert recognizer.hints and all(marks.intersection(hint) for hint in recognizer.hints)


# Long texts (RE2 screens them) whose key words only Python's re or casefolding reads: RE2's
# simple case folding takes neither dotless/dotted I for i nor sharp s for ss (a fuzz found these)
FOLDING_CASES = [
    "CREATE USER 'app'@'%' IDENT\u0130F\u0130ED BY 'S3cure!Passw0rd';",
    "ALTER USER app ident\u0131f\u0131ed by Zx9kL2mQ7w;",
    "pa\u00df( ok; log\u0130n=('bob', 'Hunter2!xQ')",
    "pa\u00df. \u015f\u0131fre: Hunter2!!xyQ",
    "token \u00df\u00df\u00df\u00df\u00df\u00df\u00df\u00df and the secret \u0131Abc9XyZqW3rT5uV7w",
    "see ?\u00df_key=x&\u0131d_key=AbCdEf1234567890XyZq",
]


@pytest.mark.parametrize("core", FOLDING_CASES)
def test_a_long_text_whose_key_word_only_casefolding_reads_is_redacted_as_a_short_one(core: str) -> None:
    pytest.importorskip("re2")
    text = "lorem ipsum dolor sit amet " * 40 + core
    screened = PiiRedactor(cache=False)
    assert len(text) >= screened.screen_min_length
    expected = PiiRedactor(cache=False, screen=False).redact(text)
    assert expected[1], expected  # the recognizer finds the secret
    assert screened.redact(text) == expected


def test_the_folding_characters_are_every_one_of_this_unicode() -> None:
    from processors.pii.screen import FOLDING_RANGES

    def hazard(char: str) -> bool:
        folded = char.casefold()
        return folded != char.lower() or any(
            c.isascii() and c.isalpha() for c in folded + char.lower() + char.upper()
        )

    found = [cp for cp in range(0x80, 0x110000) if not 0xD800 <= cp <= 0xDFFF and hazard(chr(cp))]
    assert found == [cp for first, last in FOLDING_RANGES for cp in range(first, last + 1)]


def test_a_screen_that_gives_up_means_every_recognizer_is_tried(monkeypatch: pytest.MonkeyPatch) -> None:
    redactor = PiiRedactor(cache=False)
    redactor.screen_min_length = 0
    assert redactor.recognizers
    monkeypatch.setattr(redactor, "_screen", lambda text: None)  # RE2 out of memory, or a surrogate
    assert redactor.redact_text("mail jane@example.com, call +1 212 736 5000") == (
        "mail <EMAIL>, call <PHONE_NUMBER>"
    )


def test_a_text_re2_cannot_encode_is_redacted_all_the_same() -> None:
    text = "jane@example.com \ud800 +1 212 736 5000"
    screened = PiiRedactor(cache=False)
    screened.screen_min_length = 0
    assert screened.redact_text(text) == PiiRedactor(cache=False, screen=False).redact_text(text)
    assert "jane@" not in screened.redact_text(text)


def test_only_long_texts_are_screened_so_short_ones_never_let_go_of_the_gil(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("re2")
    redactor = PiiRedactor(cache=False)
    assert redactor.recognizers and redactor._screen is not None
    screened: list[int] = []
    real = redactor._screen
    monkeypatch.setattr(redactor, "_screen", lambda text: screened.append(len(text)) or real(text))
    short = "mail jane@example.com, call +1 212 736 5000"
    assert redactor.redact_text(short) == "mail <EMAIL>, call <PHONE_NUMBER>"
    assert screened == []
    long = short + " and then some more words" * 60
    assert "jane@" not in redactor.redact_text(long)
    assert screened == [len(long)]


def _numbers(seed: int, count: int) -> list[str]:
    """Phone-number-shaped texts: every region's example numbers in three formats and with digits
    changed, and random digit groups with "+", brackets, trunk and international prefixes."""
    rng = random.Random(seed)
    texts: list[str] = []
    kinds = (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE)
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in kinds:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            for form in (PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.NATIONAL, PhoneNumberFormat.E164):
                written = phonenumbers.format_number(example, form)
                texts.append(written)
                texts.append("".join(rng.choice("0123456789") if ch.isdigit() else ch for ch in written))
    for _ in range(count):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(6, 16)))
        parts, at = [], 0
        while at < len(digits):
            size = rng.randint(1, 5)
            parts.append(digits[at : at + size])
            at += size
        text = "".join(part + rng.choice([" ", "-", ".", "", "(", ")"]) for part in parts).rstrip(" -.(")
        texts.append(rng.choice(["", "", "+", "(", "00", "011 ", "0", "1 ", "+44 (0)"]) + text)
    return [text for text in texts if any(ch.isdigit() for ch in text)]


def test_phone_verdicts_are_phonenumbers_own_in_every_region_read() -> None:
    regions: list[str | None] = [None, *number_checks.PHONE_REGIONS]
    texts = _numbers(seed=11, count=400)
    differences = [
        (text, region)
        for text in texts
        for region in regions
        if phone_numbers.is_valid(text, region) != phone_numbers.reference_is_valid(text, region)
    ]
    assert len(texts) > 1000
    assert not differences, differences[:10]


def test_phone_verdicts_over_several_regions_at_once_are_phonenumbers_own() -> None:
    texts = [text for text in _numbers(seed=12, count=400) if not text.startswith("+")]
    # number-heavy text: amounts, ids, zero-padded ids
    rng = random.Random(13)
    texts += [f"{rng.uniform(0, 1e6):.2f}" for _ in range(200)]
    texts += [str(rng.randrange(10**9, 10**10)) for _ in range(200)]
    texts += [f"{rng.randrange(10**10):010d}" for _ in range(200)]
    differences = _any_valid_differences(texts)
    assert not differences, differences[:10]


def _any_valid_differences(texts: list[str]) -> list[tuple[str, tuple[str, ...]]]:
    """Where any_valid and phonenumbers disagree, for every set of regions number_checks asks about."""
    tuples = {
        *number_checks._REGIONS_BY_FIRST_DIGIT.values(),
        number_checks._REGIONS_OTHERWISE,
        number_checks.BARE_PHONE_REGIONS,
        number_checks.LONG_BARE_PHONE_REGIONS,
    }
    return [
        (text, regions)
        for text in texts
        for regions in tuples
        if phone_numbers.any_valid(text, regions)
        != any(phone_numbers.reference_is_valid(text, region) for region in regions)
    ]


def test_bare_digits_read_without_a_parse_get_phonenumbers_verdict() -> None:
    # "9123456789" read in India starts with India's code and is still a national number;
    # "02079460958" read in Britain is a London number after its trunk "0"
    rng = random.Random(14)
    regions = number_checks.PHONE_REGIONS
    codes = sorted({str(phonenumbers.country_code_for_region(region)) for region in regions})
    texts = [
        code + "".join(rng.choice("0123456789") for _ in range(rng.randint(6, 12)))
        for code in [*codes, "0"]
        for _ in range(150)
    ]
    differences = _any_valid_differences(texts)
    assert sum(phone_numbers.any_valid(text, number_checks.BARE_PHONE_REGIONS) for text in texts) > 100
    zero = number_checks._REGIONS_BY_FIRST_DIGIT["0"]
    assert sum(phone_numbers.any_valid(text, zero) for text in texts if text[0] == "0") > 50
    assert not differences, differences[:10]


def test_international_numbers_read_without_a_parse_get_phonenumbers_verdict() -> None:
    # "+1 212 736 5000": after the country code, a national number valid in its main region
    rng = random.Random(15)
    texts = []
    for code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
        for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]:
            example = phonenumbers.example_number(region) if region != "001" else None
            national = str(example.national_number) if example is not None else "2125550100"
            for _ in range(3):
                changed = national[:-2] + "".join(rng.choice("0123456789") for _ in range(2))
                texts.append(f"+{code} {changed}")
            texts.append(f"+{code}{national}")
    differences = [
        text
        for text in texts
        if phone_numbers.is_valid(text, None) != phone_numbers.reference_is_valid(text, None)
    ]
    assert sum(bool(phone_numbers.reference_is_valid(text, None)) for text in texts) > 300
    assert not differences, differences[:10]


def test_international_numbers_with_extensions_or_other_scripts_digits_get_phonenumbers_verdict() -> None:
    # the redactor answers "+" numbers from their ASCII digits first (the extension aside)
    rng = random.Random(16)
    texts = []
    for region in sorted(number_checks.PHONE_REGIONS):
        example = phonenumbers.example_number(region)
        assert example is not None
        code, national = example.country_code, str(example.national_number)
        for _ in range(20):
            changed = national[:-2] + "".join(rng.choice("0123456789") for _ in range(2))
            text = f"+{code} {changed[:3]} {changed[3:]}" + rng.choice(["", " x12", " ext. 345"])
            zero = rng.choice([0x30, 0xFF10, 0x660])
            texts.append("".join(chr(zero + int(c)) if c.isdigit() else c for c in text))
    differences = []
    for text in texts:
        digits = number_checks.decimal_digits(number_checks._EXTENSION.sub("", text) if "x" in text else text)
        if number_checks._valid_phone(text, digits) != bool(phone_numbers.reference_is_valid(text, None)):
            differences.append(text)
    assert not differences, differences[:10]


def test_texts_the_fast_reader_does_not_read_are_left_to_phonenumbers() -> None:
    for text in (
        "+1 212 736 5000 ext. 12",
        "\uff10\uff19\uff10-\uff11\uff12\uff13\uff14-\uff15\uff16\uff17\uff18",
        "tel:+1-212-736-5000",
        "12",
    ):
        for region in (None, "US", "JP"):
            assert phone_numbers.is_valid(text, region) == phone_numbers.reference_is_valid(text, region)


@pytest.mark.parametrize(
    "text",
    [
        "call+me",
        "+44 20",
        "a +b",
        "1+2",
        "x+",
        "+",
        "a++b",
        "é+é",
        "tel:+1 415",
        "q=a+b",
        "C++ code",
        "1 + 1",
    ],
)
def test_a_plus_is_looked_at_as_an_encoding_exactly_where_encodings_reads_one(text: str) -> None:
    from processors.pii import encodings, redactor

    assert (redactor._FORM_PLUS.search(text) is not None) == (encodings._UNIT.search(text) is not None)


def test_the_id_key_shortcut_answers_as_the_key_pattern_does() -> None:
    rng = random.Random(21)
    keys = ["user_id", "customerId", "ts", "ticket #", "order", "eius", "", "name", "arn:aws:iam::", "total"]
    joins = ["", " ", "=", ": ", '": "', "\u00a0", " = '", ", ", "\n", "#"]
    for _ in range(2000):
        text = rng.choice(["", "x ", "a, "]) + rng.choice(keys) + rng.choice(joins)
        start = len(text)
        text += "5123456789"
        window = max(0, start - number_checks._ID_KEY_WINDOW)
        expected = number_checks._ID_KEY.search(text, window, start) is not None or "arn:" in text[:start]
        assert number_checks._after_id_key(text, start) == expected, text


def test_a_number_between_separators_has_no_key_nor_amount_beside_it() -> None:
    # the shortcut says "a list" only where both full questions answer no
    rng = random.Random(22)
    pieces = [
        "",
        " ",
        "  ",
        ",",
        ", ",
        "\n",
        "\t",
        ";",
        "|",
        "2 ",
        "4 ",
        "7 ",
        "crc32 ",
        "crc64\n",
        "CRC32\t",
        "xcrc64 ",
        "Crc32 ",
        "132 ",
        "rc64 ",
        "id ",
        "id\n",
        "$",
        "$ ",
        "USD ",
        " EUR",
        " %",
        "\u5143",
        " \u5143",
        "x",
        "#",
        "= ",
        "'",
        '"',
        "\u00a0",
        "1",
        "0,",
    ]
    shortcuts = 0
    for _ in range(20_000):
        before, after = rng.choice(pieces) + rng.choice(pieces), rng.choice(pieces) + rng.choice(pieces)
        text = before + "5123456789" + after
        start, end = len(before), len(before) + 10
        if number_checks._between_separators(text, start, end):
            shortcuts += 1
            assert not number_checks._an_amount(text, start, end), text
            assert not number_checks._after_id_key(text, start) or "arn:" in text[:start], text
    assert shortcuts > 1000


@pytest.mark.parametrize("text", ["total 638876.46,312276.68", "price 1048576.125 ms", "amount: 99999.5"])
def test_amounts_with_a_point_and_few_decimals_are_not_phone_numbers(text: str) -> None:
    assert PiiRedactor().redact_text(text) == text


def test_the_staged_full_width_check_answers_as_the_one_pattern_of_its_six_cases() -> None:
    from processors.pii.redactor import _typed_wide

    punctuation = "[\uff0d\uff0e\uff08\uff09\uff0f\u2010-\u2015\u2212\u30fc\ufe63\u2007\u2009\u200a\u202f]"
    one_pattern = re.compile(
        "[\uff20-\uff3a\uff41-\uff5a]|[\u3000\uff0b](?=[0-9\uff10-\uff19])"
        "|(?<=[A-Za-z])[\uff10-\uff19]|[\uff10-\uff19](?=[A-Za-z])"
        f"|[0-9\uff10-\uff19](?={punctuation})|{punctuation}(?=[0-9\uff10-\uff19])"
    )
    alphabet = "aZ9 -\u3000\uff0b\uff10\uff19\uff20\uff3a\uff41\uff5a\uff0f\uff1b\u00e9\u00a0x\uff15"
    alphabet += "\uff0d\u2212\u30fc"
    rng = random.Random(7)
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 9))) for _ in range(100_000)]
    texts += [text for text in CORPORA if not text.isascii()]
    differ = [text for text in texts if _typed_wide(text) != (one_pattern.search(text) is not None)]
    assert differ == []
    assert sum(map(_typed_wide, texts)) > 10_000  # both answers are met


def test_digits_are_read_and_counted_as_the_patterns_see_them() -> None:
    from processors.pii.redactor import _count_digits

    alphabet = "0129 -.+()\u00a0\u202f\u2013x\uff10\uff11\uff19\u0661\u0967\u00b2\u2460a\U0001d7ce"
    rng = random.Random(11)
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 90))) for _ in range(50_000)]
    for text in texts + texts[::-1]:  # again, in another order: a text read just before is remembered
        expected = "".join(str(int(char)) for char in re.findall(r"\d", text))
        assert number_checks.decimal_digits(text) == expected, text
        assert _count_digits(text) == len(expected), text


def test_digits_said_impossible_after_a_plus_are_never_valid_numbers() -> None:
    # the quick "no" for long bare digits (12-digit ids, read as MSISDNs) may say "maybe" too
    # often, never "no" to a number phonenumbers holds valid
    rng = random.Random(21)
    texts = ["".join(rng.choice("0123456789") for _ in range(rng.randrange(8, 18))) for _ in range(20_000)]
    for code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
        for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]:
            for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.TOLL_FREE):
                example = (
                    phonenumbers.example_number_for_type(region, kind)
                    if region != "001"
                    else phonenumbers.example_number_for_non_geo_entity(code)
                )
                if example is None:
                    continue
                national = str(example.national_number)
                metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(code, region)
                prefix = (metadata.national_prefix or "") if metadata is not None else ""
                for written in (national, prefix + national):
                    texts.append(f"{code}{written}")
                    for _ in range(4):
                        at = rng.randrange(len(written))
                        texts.append(f"{code}{written[:at]}{rng.choice('0123456789')}{written[at + 1 :]}")
    said_no = [text for text in texts if not phone_numbers.possible_after_plus(text)]
    wrong = [text for text in said_no if phone_numbers.reference_is_valid("+" + text, None)]
    assert not wrong, wrong[:10]
    assert len(said_no) > len(texts) // 3  # it answers "no" for most random digits
    assert sum(bool(phone_numbers.reference_is_valid("+" + text, None)) for text in texts) > 1_000


def test_digits_valid_as_they_are_are_among_those_that_may_become_a_number() -> None:
    # any_valid asks the wider question first for long digits: it must never say no to one
    # the narrower one says yes to
    rng = random.Random(22)
    codes = sorted(
        {str(phonenumbers.country_code_for_region(region)) for region in number_checks.PHONE_REGIONS}
    )
    texts = [
        lead + "".join(rng.choice("0123456789") for _ in range(rng.randint(5, 14)))
        for lead in [*codes, "0", "00", "1", "3", "5", "7", "9"]
        for _ in range(300)
    ]
    tuples = {
        *number_checks._REGIONS_BY_FIRST_DIGIT.values(),
        number_checks._REGIONS_OTHERWISE,
        number_checks.BARE_PHONE_REGIONS,
        number_checks.LONG_BARE_PHONE_REGIONS,
    }
    checked = 0
    for regions in tuples:
        readings = phone_numbers._Readings(regions)
        for text in texts:
            if readings.as_is(text):
                checked += 1
                assert readings.possible(text), (text, regions)
    assert checked > 1_000


def test_an_arn_is_found_before_a_number_whichever_text_was_asked_about_last() -> None:
    rng = random.Random(23)
    texts = [
        "arn:aws:iam::123456789012:role/x 5123456789",
        "no resource name here 5123456789",
        "x" * 70 + "arn:aws:s3:::b 5123456789 " + "y" * 80 + " 5123456789",
        "5123456789 arn:",
    ]
    for _ in range(2_000):
        text = rng.choice(texts)
        start = rng.randrange(len(text) + 1)
        expected = text.find("arn:", max(0, start - 64), start) >= 0
        assert number_checks._in_arn(text, start) is expected, (text, start)

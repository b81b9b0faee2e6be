"""Phone number validity as ``phonenumbers`` answers it, at a fraction of its cost.

``phonenumbers.parse`` followed by ``is_valid_number_for_region`` / ``is_valid_number`` costs
about 25 µs a number, most of it in Python-level calls (digit by digit normalisation, one
regular expression per number type, each compiled again through ``re``'s cache). Text full of
number-shaped values (CSV of amounts, lists of ids) or a stream of new phone numbers pays that
per candidate. :func:`is_valid` follows the same steps on the same metadata (``phonenumbers``'s
own, loaded per region as it loads it) for the numbers this project looks at most, written in
ASCII digits with ``+ ( ) . -`` and spaces: each number type's patterns of one length are joined
into one compiled pattern, and the parse keeps only the branches such text can take. Anything
else (other scripts' digits, letters, extensions, RFC 3966 text) is answered by ``phonenumbers``
itself, so the verdicts are the same for every input (a test compares the two on the corpora
and on generated numbers).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, NumberParseException, PhoneMetadata
from phonenumbers import is_valid_number as _pn_is_valid_number
from phonenumbers import is_valid_number_for_region as _pn_is_valid_number_for_region
from phonenumbers import parse as _pn_parse
from phonenumbers import region_code_for_country_code as _pn_region_code_for_country_code

_NON_GEO = "001"
_UNKNOWN_REGION = "ZZ"
_MIN_NSN, _MAX_NSN, _MAX_CC_LENGTH, _MAX_INPUT = 2, 17, 3, 250
# phonenumbers' length verdicts (ValidationResult), as far as parse tells them apart
_POSSIBLE, _LOCAL_ONLY, _TOO_SHORT, _INVALID_LENGTH, _TOO_LONG = range(5)

# What this module reads itself: ASCII digits with the punctuation phonenumbers skips, a "+"
# only first. In such text phonenumbers finds no extension, no letters to map and no RFC 3966
# part, and its "possible number" runs from the first "+" or digit to the last digit.
_PLAIN = re.compile(r"\+?[0-9 ().-]*[0-9][0-9 ().-]*")
_NOT_DIGIT = re.compile(r"[^0-9]+")


class _Fail(Exception):
    """phonenumbers.parse would raise; ``invalid_country`` for INVALID_COUNTRY_CODE."""

    def __init__(self, invalid_country: bool = False) -> None:
        self.invalid_country = invalid_country


class _Unsure(Exception):
    """A case this module does not read itself: phonenumbers answers it."""


class _Desc:
    """A number description: its lengths (empty: any) and its pattern (None: matches nothing)."""

    __slots__ = ("lengths", "pattern")

    def __init__(self, desc: Any) -> None:
        self.lengths = tuple(desc.possible_length) if desc is not None else ()
        source = desc.national_number_pattern if desc is not None else None
        self.pattern = re.compile(source) if source else None


class _Region:
    """One region's metadata, compiled once for the questions parse and validity ask."""

    __slots__ = (
        "country_code",
        "country_code_text",
        "general",
        "general_lengths",
        "general_local",
        "idd",
        "leading_digits",
        "national_prefix",
        "national_prefix_groups",
        "transform",
        "types_by_length",
    )

    def __init__(self, metadata: Any) -> None:
        self.country_code: int = metadata.country_code
        self.country_code_text = str(metadata.country_code)
        general = metadata.general_desc
        self.general = _Desc(general)
        self.general_lengths: tuple[int, ...] = tuple(general.possible_length) if general is not None else ()
        self.general_local: tuple[int, ...] = (
            tuple(general.possible_length_local_only) if general is not None else ()
        )
        idd = metadata.international_prefix
        self.idd = re.compile(idd if idd is not None else "NonMatch")
        leading = metadata.leading_digits
        self.leading_digits = re.compile(leading) if leading is not None else None
        prefix = metadata.national_prefix_for_parsing
        self.national_prefix = re.compile(prefix) if prefix else None
        self.national_prefix_groups = self.national_prefix.groups if self.national_prefix else 0
        self.transform: str | None = metadata.national_prefix_transform_rule or None
        # _number_type_helper's question "any type but UNKNOWN?": the types it tries, in one
        # pattern per length (a type without lengths counts for every length)
        names = ["premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan"]
        names += ["voicemail", "fixed_line"]
        if not metadata.same_mobile_and_fixed_line_pattern:
            names.append("mobile")
        types = [_Desc(getattr(metadata, name)) for name in names]
        types = [desc for desc in types if desc.pattern is not None]
        lengths = {length for desc in types for length in desc.lengths} | set(range(_MAX_NSN + 2))
        self.types_by_length: dict[int, re.Pattern[str] | None] = {}
        for length in lengths:
            sources = [
                desc.pattern.pattern
                for desc in types
                if desc.pattern is not None and (not desc.lengths or length in desc.lengths)
            ]
            self.types_by_length[length] = (
                re.compile("|".join(f"(?:{source})" for source in sources)) if sources else None
            )

    def matches_general(self, number: str) -> bool:
        """_match_national_number(number, general_desc): the pattern only, no length check."""
        pattern = self.general.pattern
        return pattern is not None and pattern.fullmatch(number) is not None

    def has_type(self, number: str) -> bool:
        """_number_type_helper(number, metadata) != UNKNOWN."""
        general = self.general
        if general.pattern is None or (general.lengths and len(number) not in general.lengths):
            return False
        if general.pattern.fullmatch(number) is None:
            return False
        types = self.types_by_length.get(len(number))
        return types is not None and types.fullmatch(number) is not None

    def typed_exactly(self, skip: tuple[int, ...] = (), only: int | None = None) -> str:
        """A pattern (fullmatch, on digits) for exactly what has_type accepts, at lengths other
        than ``skip`` (and of length ``only`` where given); "" for nothing."""
        general = self.general
        if general.pattern is None:
            return ""
        lengths = general.lengths or tuple(self.types_by_length)
        branches = [
            f"(?=[0-9]{{{length}}}\\Z)(?:{types.pattern})"
            for length in dict.fromkeys(lengths)
            if (types := self.types_by_length.get(length)) is not None
            and length not in skip
            and (only is None or length == only)
        ]
        if not branches:
            return ""
        return f"(?=(?:{general.pattern.pattern})\\Z)(?:{'|'.join(branches)})"

    def read_as_is(self, length: int | None = None) -> str:
        """A pattern (fullmatch, on digits) for numbers parse reads in this region as their digits
        are (no international or national prefix to strip) and has_type accepts: all of them valid.

        Digits that start with the country code are read as they are too when they have a type:
        _from_digits takes the code off only from a number the general pattern does not match,
        or one too long for it, and a typed number is neither (where the region lists lengths;
        where it lists none, parse is left to phonenumbers). ``length``: of numbers that long only."""
        typed = self.typed_exactly(only=length)
        if not typed:
            return ""
        prefix = f"(?!{self.national_prefix.pattern})" if self.national_prefix is not None else ""
        country = "" if self.general_lengths else f"(?!{re.escape(self.country_code_text)})"
        return f"(?!{self.idd.pattern}){country}{prefix}{typed}"

    def read_after_trunk_zero(self, length: int | None = None) -> str:
        """A pattern (fullmatch, on digits) for numbers written with the trunk prefix "0" that
        parse reads in this region as the digits after it, all of them valid; "" where the
        region's prefix is not a plain "0" or is rewritten.

        Such a number does not start with an international prefix (excluded) or a country code
        (none starts with 0); the prefix pattern matches its "0" alone (checked below); what
        follows has a type, so it matches the general pattern and strip_national_prefix keeps
        it, and at a length that is possible and not local-only, so parse reads it. ``length``:
        of numbers that long only (the trunk "0" included)."""
        prefix = self.national_prefix
        if prefix is None or self.transform is not None or not self.general_lengths:
            return ""
        source = prefix.pattern
        if not (source == "0" or source.startswith("0|") or _ONE_THEN_ZERO.fullmatch(source)):
            return ""
        too_long = tuple(length for length in self.general_lengths if length > _MAX_NSN)
        rest = self.typed_exactly(
            skip=self.general_local + too_long, only=None if length is None else length - 1
        )
        return f"(?!{self.idd.pattern})0{rest}" if rest else ""

    def typed_number(self) -> str:
        """A pattern (fullmatch) for what has_type accepts, or a superset of it; "" for nothing."""
        general = self.general
        types = [pattern.pattern for pattern in self.types_by_length.values() if pattern is not None]
        if general.pattern is None or not types:
            return ""
        lengths = _lengths_pattern(general.lengths)
        length_check = f"(?=(?:{lengths})\\Z)" if lengths else ""
        return f"{length_check}(?=(?:{general.pattern.pattern})\\Z)(?:{'|'.join(dict.fromkeys(types))})"

    def length_verdict(self, number: str) -> int:
        """_test_number_length(number, metadata) for the general description."""
        length = len(number)
        if length in self.general_local:
            return _LOCAL_ONLY
        lengths = self.general_lengths
        if not lengths:  # phonenumbers would fail here with an IndexError: let it answer
            raise _Unsure
        if lengths[0] == length:
            return _POSSIBLE
        if lengths[0] > length:
            return _TOO_SHORT
        if lengths[-1] < length:
            return _TOO_LONG
        return _POSSIBLE if length in lengths[1:] else _INVALID_LENGTH

    def strip_national_prefix(self, number: str) -> str:
        """_maybe_strip_national_prefix_carrier_code's number."""
        prefix = self.national_prefix
        if not number or prefix is None:
            return number
        match = prefix.match(number)
        if match is None:
            return number
        viable = self.matches_general(number)
        groups = self.national_prefix_groups
        if self.transform is None or match.groups()[groups - 1] is None:
            if viable and not self.matches_general(number[match.end() :]):
                return number
            return number[match.end() :]
        transformed = prefix.sub(self.transform, number, count=1)
        if viable and not self.matches_general(transformed):
            return number
        return transformed


# A prefix pattern that matches "0" alone in a number starting with 0: a group that starts
# with "1" (no number starting with 0 matches it), then "0" ("(183[12])|0", "(1(?:[12]\d|79)\d\d)|0")
_ONE_THEN_ZERO = re.compile(r"\(1(?:[^()|]|\([^()]*\))*\)\|0")


def _lengths_pattern(lengths: Sequence[int]) -> str:
    """A pattern for digits of one of these lengths, each run of consecutive lengths one range
    ("[0-9]{7,12}": re reads the digits once, where an alternative per length reads them again
    for each)."""
    runs: list[list[int]] = []
    for length in sorted(set(lengths)):
        if runs and length == runs[-1][1] + 1:
            runs[-1][1] = length
        else:
            runs.append([length, length])
    return "|".join(f"[0-9]{{{low}}}" if low == high else f"[0-9]{{{low},{high}}}" for low, high in runs)


_REGIONS: dict[str, _Region | None] = {}
_NON_GEO_REGIONS: dict[int, _Region | None] = {}


def _region(code: str) -> _Region | None:
    """PhoneMetadata.metadata_for_region(code), compiled."""
    try:
        return _REGIONS[code]
    except KeyError:
        pass
    metadata = PhoneMetadata.metadata_for_region(code, None)
    region = _REGIONS[code] = None if metadata is None else _Region(metadata)
    return region


def _region_or_calling_code(country_code: int, code: str) -> _Region | None:
    """PhoneMetadata.metadata_for_region_or_calling_code, compiled."""
    if code != _NON_GEO:
        return _region(code)
    try:
        return _NON_GEO_REGIONS[country_code]
    except KeyError:
        pass
    metadata = PhoneMetadata.metadata_for_nongeo_region(country_code, None)
    region = _NON_GEO_REGIONS[country_code] = None if metadata is None else _Region(metadata)
    return region


def _main_region(country_code: int) -> str:
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    return _UNKNOWN_REGION if regions is None else regions[0]


def _country_code_in(number: str) -> tuple[int, str]:
    """_extract_country_code (``number``: digits)."""
    if number[:1] == "0":
        return 0, number
    code = _CODE_LEADING.get(number[:3])  # one lookup for the three lengths a code may have
    if code is None:
        for length in (1, 2):  # a number shorter than three digits
            if number[:length] in _COUNTRY_CODES and len(number) >= length:
                return int(number[:length]), number[length:]
        return 0, number
    if not code:
        return 0, number
    return code, number[len(str(code)) :]


_COUNTRY_CODES = frozenset(str(code) for code in COUNTRY_CODE_TO_REGION_CODE)
# the country code each three digits start with (the shortest that is one; 0: none), as
# _extract_country_code reads them one, two, then three digits long
_CODE_LEADING = {
    lead: next((int(lead[:length]) for length in (1, 2, 3) if lead[:length] in _COUNTRY_CODES), 0)
    for lead in (f"{number:03d}" for number in range(1000))
}


def _from_digits(full: str, region: _Region | None) -> tuple[int, str]:
    """_maybe_extract_country_code for a number written without "+" (``full``: its digits):
    after an international prefix, its country code; else the region's own country code if the
    number starts with it and reads better without; else (0, "")."""
    if region is not None:
        idd = region.idd.match(full)
        if idd is not None and full[idd.end() : idd.end() + 1] != "0":  # an IDD followed by 0 is not one
            rest = full[idd.end() :]
            if len(rest) <= _MIN_NSN:
                raise _Fail
            code, national = _country_code_in(rest)
            if code:
                return code, national
            raise _Fail(invalid_country=True)
        prefix = region.country_code_text
        if full.startswith(prefix):
            potential = region.strip_national_prefix(full[len(prefix) :])
            if (not region.matches_general(full) and region.matches_general(potential)) or (
                region.length_verdict(full) == _TOO_LONG
            ):
                return region.country_code, potential
    return 0, ""


def _parse(text: str, region_code: str | None) -> tuple[int, str]:
    """(country code, national significant number) as ``phonenumbers.parse`` reads ``text``
    (plain: see _PLAIN), or :class:`_Fail` where it raises.

    In plain text phonenumbers' possible number runs from the first "+" or digit to the last
    digit, holds no extension, and is viable when it has three digits or more; its digits are
    all that the rest of the parse reads, and whether it starts with "+".
    """
    digits = _NOT_DIGIT.sub("", text)
    if len(digits) < 3:  # viable only as two digits alone: not worth a path of its own
        raise _Unsure
    plus = text[0] == "+"
    region = None if region_code is None else _region(region_code)
    if region is None and not plus:  # no region to read it in
        raise _Fail(invalid_country=True)
    if plus:
        country_code, national = _country_code_in(digits)
        if not country_code:  # phonenumbers tries again without the "+"
            country_code, national = _from_digits(digits, region)
            if not country_code:
                raise _Fail(invalid_country=True)
    else:
        country_code, national = _from_digits(digits, region)
    if country_code:
        number_region = _main_region(country_code)
        if number_region != region_code:
            region = _region_or_calling_code(country_code, number_region)
    else:
        national = digits
        if region is not None:
            country_code = region.country_code
    if len(national) < _MIN_NSN:
        raise _Fail
    if region is not None:
        potential = region.strip_national_prefix(national)
        if region.length_verdict(potential) not in (_TOO_SHORT, _LOCAL_ONLY, _INVALID_LENGTH):
            national = potential
    if len(national) > _MAX_NSN:
        raise _Fail
    return country_code, national


def _valid_for_region(country_code: int, national: str, region_code: str | None) -> bool:
    """is_valid_number_for_region."""
    if region_code is None:
        return False
    code = region_code.upper()
    region = _region_or_calling_code(country_code, code)
    if region is None:
        return False
    if region_code != _NON_GEO:
        own = _region(code)
        if own is None or country_code != own.country_code:
            return False
    return region.has_type(national)


class _Claims:
    """region_code_for_number's walk over a country code's regions, compiled: the leading-digit
    patterns of consecutive regions joined into one (the first that matches wins, as in the
    walk), and the regions without them checked for a number type in between."""

    __slots__ = ("steps",)

    def __init__(self, codes: tuple[str, ...]) -> None:
        self.steps: list[tuple[re.Pattern[str] | None, _Region | None, list[str]]] = []
        joined: list[str] = []
        names: list[str] = []
        for code in codes:
            region = _region(code.upper())
            if region is None:
                continue
            if region.leading_digits is not None:
                joined.append(f"(?P<r{len(names)}>{region.leading_digits.pattern})")
                names.append(code)
                continue
            if joined:
                self.steps.append((re.compile("|".join(joined)), None, names))
                joined, names = [], []
            self.steps.append((None, region, [code]))
        if joined:
            self.steps.append((re.compile("|".join(joined)), None, names))

    def region_for(self, national: str) -> str | None:
        for leading, region, names in self.steps:
            if leading is not None:
                match = leading.match(national)
                if match is not None:
                    return names[int(match.lastgroup[1:])]  # type: ignore[index]
            elif region is not None and region.has_type(national):
                return names[0]
        return None


_CLAIMS: dict[int, _Claims] = {}


def _region_for_number(country_code: int, national: str) -> str | None:
    """region_code_for_number."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if regions is None:
        return None
    if len(regions) == 1:
        return regions[0]
    claims = _CLAIMS.get(country_code)
    if claims is None:
        claims = _CLAIMS[country_code] = _Claims(regions)
    return claims.region_for(national)


def is_valid(text: str, region_code: str | None) -> bool | None:
    """What ``phonenumbers`` answers for ``text`` read in ``region_code`` (``None``: written
    with "+"), as number_checks asks it: ``None`` when the text does not parse, else
    ``is_valid_number_for_region(number, region or its country's main one) or
    is_valid_number(number)``."""
    if len(text) <= _MAX_INPUT and _PLAIN.fullmatch(text) is not None:
        if region_code is None and text[0] == "+" and valid_after_plus(_NOT_DIGIT.sub("", text)):
            return True  # the common answer first, without a parse
        try:
            country_code, national = _parse(text, region_code)
        except _Fail:
            return None
        except _Unsure:
            return reference_is_valid(text, region_code)
        main = region_code or _main_region(country_code)
        return _valid_for_region(country_code, national, main) or _valid_for_region(
            country_code, national, _region_for_number(country_code, national)
        )
    return reference_is_valid(text, region_code)


_AFTER_CODE: dict[int, re.Pattern[str]] = {}


def valid_after_plus(digits: str) -> bool:
    """Whether "+" and these ASCII digits make a number valid as written (see
    :func:`_read_after_code`); True means ``is_valid`` holds, False says nothing."""
    code, national = _country_code_in(digits)
    return bool(code) and _read_after_code(code).fullmatch(national) is not None


_MAY_FOLLOW_CODE: dict[int, re.Pattern[str] | None] = {}


def possible_after_plus(digits: str) -> bool:
    """Whether "+" and these ASCII digits may make a valid number: False means ``is_valid`` does
    not hold (a quick "no" for digits such as a list of 12-digit ids, read as an international
    number written without its "+"); True says nothing.

    After "+", parse reads a country code, then the national number as it is or with its main
    region's national prefix stripped; the number is valid only where it has a type in one of
    the code's regions. A region that rewrites its prefix (a transform rule) may make anything
    of it: there the answer is True. Digits that start with no country code are no number after
    "+" (parse tries them again without it, and without a region to read them in, fails)."""
    try:  # by the first three digits: the code's length and what may follow it
        length, pattern = _MAY_FOLLOW_LEAD[digits[:3]]
    except KeyError:
        code, national = _country_code_in(digits)
        length = len(digits) - len(national)
        if code and code not in _MAY_FOLLOW_CODE:
            _MAY_FOLLOW_CODE[code] = _may_follow_code(code)
        pattern = _MAY_FOLLOW_CODE.get(code)
        if len(digits) >= 3:
            _MAY_FOLLOW_LEAD[digits[:3]] = (length, pattern)
    if not length:
        return False
    return pattern is None or pattern.fullmatch(digits, length) is not None


_MAY_FOLLOW_LEAD: dict[str, tuple[int, re.Pattern[str] | None]] = {}


def _may_follow_code(country_code: int) -> re.Pattern[str] | None:
    """The national numbers that may be valid after "+" and this code (None: any may be)."""
    main = _region_or_calling_code(country_code, _main_region(country_code))
    if main is None or main.transform is not None:
        return None
    regions = [
        _region_or_calling_code(country_code, code.upper())
        for code in COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    ]
    typed = "|".join(
        dict.fromkeys(t for region in regions if region is not None and (t := region.typed_number()))
    )
    if not typed:
        return re.compile("(?!)")  # no number of the code's regions has a type: none is valid
    prefix = f"(?:{main.national_prefix.pattern})?" if main.national_prefix is not None else ""
    return re.compile(f"{prefix}(?:{typed})")


def _read_after_code(country_code: int) -> re.Pattern[str]:
    """A pattern (fullmatch) for the national numbers that, after "+" and this country code,
    parse reads as they are and are valid in the code's main region.

    Such a number is not stripped of a national prefix (none matches it), so parse reads it
    whole; it has a type in the main region, at a length that region lists (where it lists none,
    parse is left to phonenumbers), so is_valid_number_for_region holds for the main region."""
    pattern = _AFTER_CODE.get(country_code)
    if pattern is None:
        region = _region_or_calling_code(country_code, _main_region(country_code))
        source = ""
        if region is not None and region.general_lengths:
            too_long = tuple(length for length in region.general_lengths if length > _MAX_NSN)
            typed = region.typed_exactly(skip=too_long)
            prefix = f"(?!{region.national_prefix.pattern})" if region.national_prefix is not None else ""
            source = f"{prefix}{typed}" if typed else ""
        pattern = _AFTER_CODE[country_code] = re.compile(source or "(?!)")
    return pattern


def any_valid(text: str, region_codes: tuple[str, ...], digits: str | None = None) -> bool:
    """Whether ``is_valid(text, region)`` holds for one of the regions (text without "+");
    ``digits``: the text's digits, where the caller has read them already.

    A text of many numbers (a CSV of amounts, a list of ids) asks this for each of them in up
    to ten regions. What a number's digits can become in each region is known in advance (see
    :class:`_Readings`), so one pattern answers "none of them" for most such numbers at once.
    """
    bare = text.isdigit() and text.isascii() and len(text) <= _MAX_INPUT  # digits alone: the common case
    if bare or (text[:1] != "+" and len(text) <= _MAX_INPUT and _PLAIN.fullmatch(text) is not None):
        readings = _READINGS.get(region_codes)
        if readings is None:
            readings = _READINGS[region_codes] = _Readings(region_codes)
        if bare:
            digits = text
        elif digits is None:
            digits = _NOT_DIGIT.sub("", text)
        # the common answer first, without a parse: valid as its digits are in one of the regions
        # (most 10-digit numbers in a list are), or, for longer digits (seldom a number), what
        # they can become is none of the regions' numbers (as_is holds only where possible does)
        if len(digits) <= 10:
            if readings.as_is(digits):
                return True
            if not readings.possible(digits):
                return False
        else:
            if not readings.possible(digits):
                return False
            if readings.as_is(digits):
                return True
    return any(is_valid(text, region) for region in region_codes)


class _Readings:
    """The digits that may make a valid number in one of some regions (a superset).

    Read in region R without "+", a number's national significant number is its digits, or what
    R's national prefix leaves of them, or what is left after R's country code and one or two
    national prefixes (R's, or its country's main region's); a number after an international
    prefix (not followed by 0) may be anything. It is valid only if it has a number type in one
    of the regions of its country code. Where a prefix is rewritten (a transform rule) after the
    country code, anything may follow; R's own prefix is applied as parse applies it.
    """

    def __init__(self, region_codes: tuple[str, ...]) -> None:
        branches: list[str] = []
        self.rewriting: list[tuple[_Region, re.Pattern[str]]] = []
        for code in region_codes:
            region = _region(code)
            if region is None:  # phonenumbers reads nothing without "+" in an unknown region
                continue
            sharing = [
                _region_or_calling_code(region.country_code, other.upper())
                for other in COUNTRY_CODE_TO_REGION_CODE.get(region.country_code, ())
            ]
            typed = "|".join(
                dict.fromkeys(
                    other.typed_number() for other in sharing if other is not None and other.typed_number()
                )
            )
            if not typed:
                continue  # no number of these regions has a type: none is valid
            # the national prefixes parse strips: the region's own, and its country's main region's
            main = _region_or_calling_code(region.country_code, _main_region(region.country_code))
            stripping = [region] if main is None or main is region else [region, main]
            prefixes = "|".join(
                dict.fromkeys(
                    f"(?:{other.national_prefix.pattern})" for other in stripping if other.national_prefix
                )
            )
            country = re.escape(region.country_code_text)
            if region.idd.pattern != "NonMatch":
                branches.append(f"(?:{region.idd.pattern})[1-9][0-9]*")
            branches.append(f"(?:{typed})")
            if any(other.transform for other in stripping):
                branches.append(f"{country}[0-9]*")
                # R's own prefix: applied in Python, exactly (see possible)
                self.rewriting.append((region, re.compile(typed)))
            elif prefixes:
                branches.append(f"{country}(?:{prefixes})?(?:{prefixes})?(?:{typed})")
                branches.append(f"(?:{prefixes})(?:{typed})")
            else:
                branches.append(f"{country}(?:{typed})")
        self.pattern = re.compile("|".join(f"(?:{branch})" for branch in dict.fromkeys(branches)) or "(?!)")
        self._region_codes = region_codes
        self._as_is: dict[int, re.Pattern[str]] = {}

    def as_is(self, digits: str) -> bool:
        """Whether the digits are read as they are (see _Region.read_as_is) and have a number type
        in one of the regions (or after their trunk "0", where that is all parse strips): valid.
        One pattern per length: a list of ids asks this of each, and a pattern of every length's
        branches costs several times one of a single length's."""
        pattern = self._as_is.get(len(digits))
        if pattern is None:
            pattern = self._as_is[len(digits)] = self._as_is_pattern(len(digits))
        return pattern.fullmatch(digits) is not None

    def _as_is_pattern(self, length: int) -> re.Pattern[str]:
        readings = [
            reading
            for code in self._region_codes
            if (region := _region(code)) is not None
            for reading in (region.read_as_is(length), region.read_after_trunk_zero(length))
        ]
        return re.compile("|".join(f"(?:{reading})" for reading in readings if reading) or "(?!)")

    def possible(self, digits: str) -> bool:
        if self.pattern.fullmatch(digits) is not None:
            return True
        for region, typed in self.rewriting:
            if typed.fullmatch(region.strip_national_prefix(digits)) is not None:
                return True
        return False


_READINGS: dict[tuple[str, ...], _Readings] = {}


def reference_is_valid(text: str, region_code: str | None) -> bool | None:
    """The same question put to ``phonenumbers`` itself."""
    try:
        parsed = _pn_parse(text, region_code)
    except NumberParseException:
        return None
    main = region_code or _pn_region_code_for_country_code(parsed.country_code or 0)
    return bool(_pn_is_valid_number_for_region(parsed, main) or _pn_is_valid_number(parsed))

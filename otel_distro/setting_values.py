"""Parsers for setting values: each turns a raw value (env text, TOML value, kwarg) into a typed one.

A parser raises ``ValueError`` (or ``TypeError``) on a bad value; ``accepted`` says, for the
warning, what it takes instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

DAY_SECONDS = 86_400.0
HOUR_SECONDS = 3_600.0
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off", ""})


@dataclass(frozen=True)
class Parser:
    accepted: str
    parse: Callable[[object], Any]


def _parse_bool(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    raise ValueError


def int_between(low: int, high: int) -> Parser:
    def parse(raw: object) -> int:
        if isinstance(raw, bool):
            raise ValueError
        value = int(raw.strip()) if isinstance(raw, str) else raw
        if not isinstance(value, int) or not low <= value <= high:
            raise ValueError
        return value

    return Parser(f"an integer from {low} to {high}", parse)


def _non_negative_float(raw: object) -> float:
    if isinstance(raw, bool):
        raise ValueError
    value = float(raw.strip()) if isinstance(raw, str) else raw
    if not isinstance(value, int | float) or not 0 <= value < float("inf"):
        raise ValueError
    return float(value)


def _seconds(value: float) -> str:
    return f"{value:g}" if value < 1 else f"{value:,.0f}"


def seconds_between(low: float, high: float, off: bool = False) -> Parser:
    """A duration in seconds from ``low`` to ``high`` (and 0, meaning off, when ``off``): a
    thread waking every nanosecond busy-loops, one waiting 1e10 seconds dies (Event.wait overflows)."""

    def parse(raw: object) -> float:
        value = _non_negative_float(raw)
        if not (low <= value <= high or (off and value == 0)):
            raise ValueError
        return value

    words = f"a number of seconds from {_seconds(low)} to {_seconds(high)}"
    if high == DAY_SECONDS:
        words += " (one day)"
    elif high == HOUR_SECONDS:
        words += " (one hour)"
    return Parser(f"0 (off) or {words}" if off else words, parse)


def _text(raw: object) -> str | None:
    if not isinstance(raw, str):
        raise ValueError
    return raw.strip() or None


def _path(raw: object) -> Path | None:
    """An absolute path: a relative one is taken from the working directory at start-up, so a
    later ``os.chdir`` in the app cannot move the store."""
    if isinstance(raw, Path):
        return raw.expanduser().absolute()
    text = _text(raw)
    return Path(text).expanduser().absolute() if text else None


def _url(raw: object) -> str | None:
    text = _text(raw)
    if text is None:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError
    return text.rstrip("/")


def _names(raw: object) -> tuple[str, ...]:
    if isinstance(raw, str):
        items: list[object] = list(raw.split(","))
    elif isinstance(raw, list | tuple):
        items = list(raw)
    else:
        raise ValueError
    if not all(isinstance(item, str) for item in items):
        raise ValueError
    return tuple(name.strip() for name in items if isinstance(name, str) and name.strip())


def choice(*allowed: str) -> Callable[[object], str]:
    def parse(raw: object) -> str:
        text = _text(raw)
        if text is None or text.lower() not in allowed:
            raise ValueError
        return text.lower()

    return parse


def _key_values(raw: object) -> tuple[tuple[str, str], ...]:
    if isinstance(raw, Mapping):
        return tuple((str(key), str(value)) for key, value in raw.items())
    if not isinstance(raw, str):
        raise ValueError
    pairs: dict[str, str] = {}
    for item in raw.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError
        pairs[unquote(key.strip())] = unquote(value.strip())  # percent-encoded, as the spec says
    return tuple(pairs.items())


BOOL = Parser("true or false (also 1/0, yes/no, on/off)", _parse_bool)
TEXT = Parser("a string", _text)
PATH = Parser("a filesystem path", _path)
URL = Parser("an http:// or https:// URL", _url)
NAMES = Parser("a comma-separated list of names", _names)
KEY_VALUES = Parser("comma-separated key=value pairs (or a TOML table)", _key_values)


def _tables(raw: object) -> tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]:
    """A table of tables (``[plugins.<name>]``): each name with its options, sorted, as tuples."""
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise ValueError("not a table of tables")
    return tuple(
        (str(name), tuple(sorted((str(key), value) for key, value in table.items())))
        for name, table in sorted(raw.items())
    )


TABLES = Parser("one table per name (e.g. [plugins.<name>] in telemetry.toml)", _tables)
OTLP_PROTOCOLS = ("grpc", "http/protobuf", "http/json")  # http/json is sent as http/protobuf


def _otlp_protocol(raw: object) -> str | None:
    text = _text(raw)
    if text is not None and text not in OTLP_PROTOCOLS:
        raise ValueError
    return text


PROTOCOL = Parser("grpc, http/protobuf or http/json (sent as http/protobuf)", _otlp_protocol)


def _fraction(raw: object) -> float:
    if isinstance(raw, bool):
        raise ValueError
    value = float(raw.strip()) if isinstance(raw, str) else raw
    if not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError
    return float(value)


_ENTITY_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,63}")


def _patterns(raw: object) -> tuple[tuple[str, str], ...]:
    """Named regular expressions: a TOML table, or a JSON object in the environment."""
    if isinstance(raw, str):
        raw = json.loads(raw) if raw.strip() else {}
    if not isinstance(raw, Mapping):
        raise ValueError
    pairs = []
    for name, pattern in raw.items():
        if not isinstance(name, str) or not _ENTITY_NAME.fullmatch(name):
            raise ValueError
        if not isinstance(pattern, str) or not pattern:
            raise ValueError
        pairs.append((name, pattern))
    return tuple(pairs)


FRACTION = Parser("a number from 0 to 1", _fraction)
PATTERNS = Parser(
    'named regular expressions: a TOML table or a JSON object such as {"TICKET": "TCK-\\\\d{6}"}, '
    "names in upper case (A-Z, 0-9, _)",
    _patterns,
)

# Every interval and timeout setting takes one of these: a sane range, named in the warning.
INTERVAL = seconds_between(0.05, DAY_SECONDS)
INTERVAL_OR_OFF = seconds_between(0.05, DAY_SECONDS, off=True)
TIMEOUT = seconds_between(0.05, HOUR_SECONDS)

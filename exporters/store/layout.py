"""How the store names its files: one folder per signal, one ``YYYY-MM-DD.jsonl`` file per UTC day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

SIGNALS = ("traces", "metrics", "logs")
SUFFIX = ".jsonl"


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def file_name(day: dt.date) -> str:
    return f"{day.isoformat()}{SUFFIX}"


def file_date(path: Path) -> dt.date | None:
    """The UTC date a store file is named after, or None for a foreign file."""
    if path.suffix != SUFFIX:
        return None
    try:
        return dt.date.fromisoformat(path.stem)
    except ValueError:
        return None

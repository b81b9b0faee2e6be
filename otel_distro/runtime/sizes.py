"""How much text a value or a log record holds: what bounds the queues of records that wait."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_DEPTH = 8  # levels of a structured value counted


def text_size(value: Any, item_charge: int, depth: int = 0) -> int:
    """Characters of text in a value (a log body or an attribute's), at any depth up to
    :data:`MAX_DEPTH`, each element of a list counting ``item_charge`` more (what holding or
    scanning it costs besides its text)."""
    if isinstance(value, str | bytes | bytearray):
        return len(value)
    if depth >= MAX_DEPTH:
        return 0
    if isinstance(value, Mapping):
        return sum(len(str(key)) + text_size(item, item_charge, depth + 1) for key, item in value.items())
    if isinstance(value, list | tuple):
        return len(value) * item_charge + sum(text_size(item, item_charge, depth + 1) for item in value)
    return 0


def log_record_size(record: Any, item_charge: int) -> int:
    """Characters of text in an API log record: its body, attributes and event name."""
    return (
        text_size(record.body, item_charge)
        + (text_size(record.attributes, item_charge) if record.attributes else 0)
        + len(getattr(record, "event_name", None) or "")
    )

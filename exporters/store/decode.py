"""Reading OTLP/JSON back: ``AnyValue`` objects and attribute lists as plain Python values."""

from __future__ import annotations

import math
from typing import Any


def decode_value(value: dict[str, Any]) -> Any:
    """An OTLP/JSON ``AnyValue`` as a plain Python value (64-bit integers come back as ints)."""
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "boolValue" in value:
        return value["boolValue"]
    if "arrayValue" in value:
        return [decode_value(item) for item in value["arrayValue"].get("values", [])]
    if "kvlistValue" in value:
        return {kv["key"]: decode_value(kv.get("value", {})) for kv in value["kvlistValue"].get("values", [])}
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def decode_attributes(items: list[dict[str, Any]] | None) -> dict[str, Any]:
    """An OTLP/JSON ``KeyValue`` list as a dict."""
    return {item["key"]: decode_value(item.get("value", {})) for item in items or []}


def json_safe(value: Any) -> Any:
    """``value`` with every float that JSON cannot hold (NaN, infinities: a stored double may be
    one) written as OTLP/JSON writes it ("NaN", "Infinity", "-Infinity"), for JSON output."""
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value

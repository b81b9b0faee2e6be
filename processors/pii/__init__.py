"""PII redaction: the fast-path ``PiiRedactor`` (compiled patterns and validators)."""

from processors.pii.redactor import STYLES, PiiRedactor

__all__ = ["STYLES", "PiiRedactor"]

"""PII redaction: the fast-path ``PiiRedactor`` (compiled patterns and validators)."""

from processors.pii.patterns import ENTITIES
from processors.pii.redactor import STYLES, PiiRedactor

__all__ = ["ENTITIES", "STYLES", "PiiRedactor"]

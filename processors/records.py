"""Copies of finished records with some fields replaced (ended spans are immutable and shared).

For processors, ours and plugins': the copies themselves are made in ``otel_distro._sdk``, the
one place that knows how the SDK builds its records (see ``copy_span``, ``copy_log_record``).
"""

from __future__ import annotations

from otel_distro._sdk import copy_log_record as replace_log
from otel_distro._sdk import copy_span as replace_span

__all__ = ["replace_log", "replace_span"]

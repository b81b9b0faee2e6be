"""Shows what each family's run measured (compliance scores) at the end of the pytest run."""

from __future__ import annotations

import pytest

SUMMARY: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SUMMARY:
        terminalreporter.section("instrumentation family")
        for line in SUMMARY:
            terminalreporter.write_line(line)

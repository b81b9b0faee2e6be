"""Fixtures shared by unit tests (each module opts in)."""

from __future__ import annotations

from pathlib import Path

import pytest

from otel_distro import environment_variables as ev


@pytest.fixture
def isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No distro variable set, no telemetry.toml in the cwd or the user config dir."""
    for name, value in vars(ev).items():
        if name.isupper() and isinstance(value, str) and value != ev.OTEL_DISTRO_STRICT:
            monkeypatch.delenv(value, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)

"""Where otel-distro keeps its files unless told: the platform's data and config folders."""

from __future__ import annotations

from pathlib import Path

APP_NAME = "otel-distro"


def data_dir() -> Path:
    """The default store root (``~/.local/share/otel-distro`` on Linux)."""
    import platformdirs  # at first use: nothing on the app's import path

    return platformdirs.user_data_path(APP_NAME)


def config_dir() -> Path:
    """Where the user's ``telemetry.toml`` and store key files live (``~/.config/otel-distro`` on Linux)."""
    import platformdirs

    return platformdirs.user_config_path(APP_NAME)

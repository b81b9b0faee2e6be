"""``otel-distro config check`` against what a real interpreter finds installed (real child processes)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.proc import CLI, clean_env


def _fake_dist(site: Path, name: str, version: str) -> None:
    """A dist-info that ``importlib.metadata`` finds first on ``PYTHONPATH``, shadowing the real one."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


def _check(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, "config", "check"],
        env=clean_env(tmp_path, **extra),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_config_check_is_quiet_about_the_installed_consistent_set(tmp_path: Path) -> None:
    done = _check(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr
    assert "configuration OK" in done.stdout


def test_config_check_warns_about_an_api_below_the_sdk_and_contrib_of_another_release(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _fake_dist(site, "opentelemetry-api", "1.39.1")
    _fake_dist(site, "opentelemetry-instrumentation-flask", "0.55b0")
    done = _check(tmp_path, PYTHONPATH=str(site))
    assert done.returncode == 0, done.stderr  # a warning, not a configuration error
    assert "configuration OK" in done.stdout
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 2, done.stderr
    assert any("opentelemetry-api 1.39.1 and opentelemetry-sdk 1.45" in line for line in warnings)
    assert any("opentelemetry-instrumentation-flask 0.55b0" in line for line in warnings)

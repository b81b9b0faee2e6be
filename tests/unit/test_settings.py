"""The settings model: precedence, validation messages, strict mode and the documented file."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

import pytest

from otel_distro.settings import OPTIONS, Settings, SettingsError, describe, load_settings, resolve

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_stray_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_defaults_apply_when_nothing_is_set() -> None:
    resolution = resolve(env={})
    assert resolution.settings == Settings()
    assert resolution.problems == []
    assert set(resolution.sources.values()) == {"default"}


def test_kwargs_beat_environment_beat_file_beat_defaults(tmp_path: Path) -> None:
    config = _write(
        tmp_path / "t.toml",
        "[store]\nretention_days = 7\nenabled = false\n[conversation_log]\nbatch_size = 5\n",
    )
    env = {"TELEMETRY_CONFIG": str(config), "TELEMETRY_RETENTION_DAYS": "9", "TELEMETRY_BATCH_SIZE": "6"}
    resolution = resolve({"retention_days": 11}, env)
    settings = resolution.settings
    assert settings.retention_days == 11
    assert resolution.sources["retention_days"] == "configure(retention_days=...)"
    assert settings.batch_size == 6
    assert resolution.sources["batch_size"] == "TELEMETRY_BATCH_SIZE"
    assert settings.store_enabled is False
    assert resolution.sources["store_enabled"].endswith("store.enabled")
    assert settings.flush_interval_secs == 60.0


def test_per_signal_retention_comes_from_file_or_environment_and_defaults_to_retention_days(
    tmp_path: Path,
) -> None:
    config = _write(tmp_path / "t.toml", "[store]\nretention_days = 20\nmetrics_retention_days = 90\n")
    env = {"TELEMETRY_CONFIG": str(config), "TELEMETRY_TRACES_RETENTION_DAYS": "7"}
    settings = resolve(env=env).settings
    assert settings.retention == {"traces": 7, "metrics": 90, "logs": 20}


def test_local_telemetry_toml_is_read_without_telemetry_config(tmp_path: Path) -> None:
    _write(tmp_path / "telemetry.toml", "enabled = false\n")
    assert resolve(env={}).settings.enabled is False


def test_bad_value_warns_once_naming_key_and_accepted_values_and_uses_default(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="otel_distro"):
        settings = load_settings(env={"TELEMETRY_RETENTION_DAYS": "thirty", "TELEMETRY_ENABLED": "maybe"})
    assert settings.retention_days == 30
    assert settings.enabled is True
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2
    assert any("TELEMETRY_RETENTION_DAYS" in m and "an integer from 1 to 36500" in m for m in messages)
    assert any("TELEMETRY_ENABLED" in m and "true or false" in m for m in messages)


def test_bad_environment_value_does_not_fall_back_to_file_value(tmp_path: Path) -> None:
    config = _write(tmp_path / "t.toml", "[store]\nretention_days = 7\n")
    settings = load_settings(env={"TELEMETRY_CONFIG": str(config), "TELEMETRY_RETENTION_DAYS": "x"})
    assert settings.retention_days == 30


def test_broken_toml_warns_naming_the_file_and_runs_on_defaults(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = _write(tmp_path / "broken.toml", "enabled = \n[[[")
    with caplog.at_level(logging.WARNING, logger="otel_distro"):
        settings = load_settings(env={"TELEMETRY_CONFIG": str(config)})
    assert settings == Settings()
    assert len(caplog.records) == 1
    assert "broken.toml" in caplog.records[0].getMessage()


def test_unknown_file_key_and_unknown_kwarg_are_reported(tmp_path: Path) -> None:
    config = _write(tmp_path / "t.toml", "[store]\nretension_days = 3\n")
    resolution = resolve({"retentoin": 1}, {"TELEMETRY_CONFIG": str(config)})
    assert any("store.retension_days" in p for p in resolution.problems)
    assert any("'retentoin'" in p for p in resolution.problems)


def test_strict_raises_with_every_problem(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="TELEMETRY_BATCH_SIZE") as caught:
        load_settings(env={"TELEMETRY_BATCH_SIZE": "0", "TELEMETRY_ENDPOINT": "ftp://x"}, strict=True)
    assert "TELEMETRY_ENDPOINT" in str(caught.value)


def test_otel_variables_keep_their_meaning() -> None:
    settings = load_settings(
        env={
            "OTEL_SDK_DISABLED": "true",
            "OTEL_SERVICE_NAME": "svc",
            "OTEL_RESOURCE_ATTRIBUTES": "a=1, b = two",
            "OTEL_TRACES_EXPORTER": "otlp,console",
            "OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED": "true",
        }
    )
    assert settings.active is False
    assert settings.service_name == "svc"
    assert dict(settings.resource_attributes) == {"a": "1", "b": "two"}
    assert settings.traces_exporter == ("otlp", "console")
    assert settings.log_bridge is True


def test_langfuse_base_url_is_an_alias_of_host() -> None:
    settings = load_settings(env={"LANGFUSE_BASE_URL": "https://us.cloud.langfuse.com/"})
    assert settings.langfuse_host == "https://us.cloud.langfuse.com"


def test_secrets_never_appear_in_descriptions_or_warnings(caplog: pytest.LogCaptureFixture) -> None:
    resolution = resolve(env={"LANGFUSE_SECRET_KEY": "sk-lf-very-secret", "TELEMETRY_HASH_KEY": "hush"})
    rows = {row["name"]: row for row in describe(resolution)}
    assert rows["langfuse_secret_key"]["value"] == "***"
    assert rows["hash_key"]["value"] == "***"
    assert "sk-lf-very-secret" not in repr(describe(resolution))


def test_documented_file_lists_every_option_with_its_default() -> None:
    text = (ROOT / "config" / "telemetry.toml").read_text()
    parsed = tomllib.loads(text)
    resolution = resolve(env={"TELEMETRY_CONFIG": str(ROOT / "config" / "telemetry.toml")})
    assert resolution.problems == []
    assert resolution.settings == Settings()
    for option in OPTIONS:
        section, _, key = option.metadata["toml"].rpartition(".")
        assert f"{key} =" in text, f"{option.metadata['toml']} is not documented"
        for env_name in option.metadata["env"]:
            assert env_name in text, f"{env_name} is not documented"
        if section:
            assert section in parsed


def test_the_forget_marker_keeps_recording_off_whatever_else_says_until_enabled(tmp_path: Path) -> None:
    from otel_distro import forget
    from otel_distro.settings import forgotten

    store = tmp_path / "store"
    env = {"TELEMETRY_BASE_DIR": str(store), "TELEMETRY_ENABLED": "true"}
    forget.disable(store)
    resolution = resolve({"enabled": True}, env)
    assert resolution.settings.enabled is False
    assert forgotten(resolution)
    assert "otel-distro forget" in resolution.sources["enabled"]

    forget.marker_path(store).write_text("not json")  # unreadable: still off
    assert resolve(env=env).settings.enabled is False

    assert forget.enable(store)
    resolution = resolve(env=env)
    assert resolution.settings.enabled is True
    assert not forgotten(resolution)

"""Settings at their edges: hostile config files and out-of-range intervals give one clear warning."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pytest

from exporters.store.query import parse_duration
from otel_distro.settings import MAX_CONFIG_BYTES, MAX_PROBLEMS, Settings, load_settings, resolve

DEEP = {
    "arrays": "enabled = " + "[" * 100_000 + "]" * 100_000 + "\n",
    "inline tables": "x = " + "{a=" * 50_000 + "1" + "}" * 50_000 + "\n",
    "dotted table header": "[" + ".".join(["a"] * 100_000) + "]\nb = 1\n",
    "dotted key": ".".join(["a"] * 100_000) + " = 1\n",
}


@pytest.fixture(autouse=True)
def _no_stray_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("shape", sorted(DEEP))
def test_a_deeply_nested_config_file_gives_one_warning_naming_the_file_and_the_defaults(
    shape: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "deep.toml"
    config.write_text(DEEP[shape])
    with caplog.at_level(logging.WARNING, logger="otel_distro"):
        settings = load_settings(env={"TELEMETRY_CONFIG": str(config)})
    assert settings == Settings()
    warnings = _warnings(caplog)
    assert len(warnings) == 1
    assert str(config) in warnings[0]
    assert "nested too deeply" in warnings[0]


def test_a_deeply_nested_value_of_a_known_key_is_a_bad_value_named_by_its_key(tmp_path: Path) -> None:
    config = tmp_path / "t.toml"
    config.write_text("[privacy]\nredaction_entities = " + "[" * 300 + "]" * 300 + "\n")
    resolution = resolve(env={"TELEMETRY_CONFIG": str(config)})
    assert resolution.settings.redaction_entities == ()
    assert len(resolution.problems) == 1
    assert "privacy.redaction_entities" in resolution.problems[0]
    assert len(resolution.problems[0]) < 400


def test_a_config_file_over_the_size_cap_is_ignored_whole_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "huge.toml"
    config.write_text("enabled = false\n" + "".join(f"unknown{i} = {i}\n" for i in range(200_000)))
    assert config.stat().st_size > MAX_CONFIG_BYTES
    with caplog.at_level(logging.WARNING, logger="otel_distro"):
        settings = load_settings(env={"TELEMETRY_CONFIG": str(config)})
    assert settings.enabled is True  # nothing of the file is used
    warnings = _warnings(caplog)
    assert len(warnings) == 1
    assert str(config) in warnings[0] and "1,048,576" in warnings[0]


def test_many_unknown_keys_give_one_warning_listing_the_first_and_counting_the_rest(
    tmp_path: Path,
) -> None:
    config = tmp_path / "t.toml"
    config.write_text("".join(f"unknown{i} = {i}\n" for i in range(5_000)))
    problems = resolve(env={"TELEMETRY_CONFIG": str(config)}).problems
    assert len(problems) == 1
    assert "'unknown0'" in problems[0] and f"and {5_000 - MAX_PROBLEMS} more" in problems[0]


def test_problems_past_the_cap_are_counted_in_one_more_warning(caplog: pytest.LogCaptureFixture) -> None:
    overrides = {f"no_such_setting_{i}": 1 for i in range(MAX_PROBLEMS + 30)}
    with caplog.at_level(logging.WARNING, logger="otel_distro"):
        load_settings(overrides, env={})
    warnings = _warnings(caplog)
    assert len(warnings) == MAX_PROBLEMS + 1
    assert "and 30 more problem(s)" in warnings[-1]


INTERVALS = {
    "TELEMETRY_RELOAD_INTERVAL_SECS": (
        "reload_interval_secs",
        "0 (off) or a number of seconds from 0.05 to 86,400",
    ),
    "TELEMETRY_FLUSH_INTERVAL_SECS": ("flush_interval_secs", "a number of seconds from 0.05 to 86,400"),
    "TELEMETRY_UPLOAD_INTERVAL_SECS": ("upload_interval_secs", "a number of seconds from 0.05 to 86,400"),
    "TELEMETRY_ENDPOINT_TIMEOUT_SECS": ("endpoint_timeout_secs", "a number of seconds from 0.05 to 3,600"),
    "TELEMETRY_LANGFUSE_TIMEOUT_SECS": ("langfuse_timeout_secs", "a number of seconds from 0.05 to 3,600"),
    "OTEL_METRIC_EXPORT_INTERVAL": ("metric_export_interval_ms", "an integer from 100 to 86400000"),
}


@pytest.mark.parametrize("value", ["1e10", "1e-9", "nan", "inf", "-1"])
@pytest.mark.parametrize("variable", sorted(INTERVALS))
def test_an_interval_outside_its_range_warns_naming_the_key_and_range_and_uses_the_default(
    variable: str, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    name, accepted = INTERVALS[variable]
    with caplog.at_level(logging.WARNING, logger="otel_distro"):
        settings = load_settings(env={variable: value})
    assert getattr(settings, name) == getattr(Settings(), name)
    warnings = _warnings(caplog)
    assert len(warnings) == 1
    assert variable in warnings[0] and accepted in warnings[0]


def test_an_interval_from_the_file_outside_its_range_names_the_file_key(tmp_path: Path) -> None:
    config = tmp_path / "t.toml"
    config.write_text("[conversation_log]\nflush_interval_secs = 1e10\n")
    problems = resolve(env={"TELEMETRY_CONFIG": str(config)}).problems
    assert len(problems) == 1 and "conversation_log.flush_interval_secs" in problems[0]


def test_intervals_inside_their_range_are_taken_and_a_reload_interval_of_0_means_off() -> None:
    settings = load_settings(
        env={
            "TELEMETRY_RELOAD_INTERVAL_SECS": "0",
            "TELEMETRY_FLUSH_INTERVAL_SECS": "0.05",
            "TELEMETRY_UPLOAD_INTERVAL_SECS": "86400",
        }
    )
    assert (settings.reload_interval_secs, settings.flush_interval_secs) == (0.0, 0.05)
    assert settings.upload_interval_secs == 86400.0


@pytest.mark.parametrize("text", ["999999d", "99999999999d", "36501d", "9" * 400 + "d", "5300000w"])
def test_a_duration_longer_than_100_years_is_refused_saying_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="at most 36500d"):
        parse_duration(text)


def test_durations_up_to_100_years_are_taken() -> None:
    assert parse_duration("36500d").days == 36500
    assert math.isclose(parse_duration("90s").total_seconds(), 90)

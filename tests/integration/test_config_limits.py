"""Configuration edge cases through the real ``otel-distro`` binary and a real app."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from otel_distro import forget
from tests.support.proc import CLI, clean_env, run_app, spans

DEEP = "enabled = " + "[" * 100_000 + "]" * 100_000 + "\n"

APP = """
    import logging, sys
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(message)s")
    import otel_distro
    from opentelemetry import trace

    handle = otel_distro.configure(service_name="limits")
    with trace.get_tracer("limits").start_as_current_span("recorded"):
        pass
    handle.shutdown()
"""


def _cli(tmp: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args],
        env=clean_env(tmp, **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("WARNING otel-distro")]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("stats", "--json"), 0),
        (("config", "show", "--json"), 0),
        (("purge", "--older-than", "1d"), 0),
        (("trace", "last"), 1),  # an empty store: not found, but no traceback
        (("config", "check"), 1),
    ],
)
def test_every_command_runs_on_defaults_with_a_deeply_nested_config_file(
    tmp_path: Path, args: tuple[str, ...], code: int
) -> None:
    config = tmp_path / "deep.toml"
    config.write_text(DEEP)
    done = _cli(tmp_path, *args, TELEMETRY_CONFIG=str(config))
    assert "Traceback" not in done.stderr
    assert done.returncode == code, done.stderr
    if args[0] == "config":
        shown = done.stdout + done.stderr
        assert str(config) in shown and "nested too deeply" in shown
    if args == ("config", "show", "--json"):
        assert json.loads(done.stdout)["problems"] == [
            f"config file {config} is ignored (not usable TOML: nested too deeply); "
            "using the defaults for every key it sets"
        ]


def test_an_app_with_a_deeply_nested_config_file_still_records_after_one_warning(tmp_path: Path) -> None:
    config = tmp_path / "deep.toml"
    config.write_text(DEEP)
    run = run_app(tmp_path, APP, env=clean_env(tmp_path, TELEMETRY_CONFIG=str(config)))
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    warnings = _warnings(run.stderr)
    assert len(warnings) == 1 and str(config) in warnings[0]
    assert [span["name"] for span in spans(tmp_path / "store")] == ["recorded"]


def test_an_app_with_a_huge_config_file_gets_one_warning_and_records(tmp_path: Path) -> None:
    config = tmp_path / "huge.toml"
    with config.open("w") as handle:
        for i in range(2_000_000):  # about 40 MB of unknown keys
            handle.write(f"unknown_key_{i} = {i}\n")
    run = run_app(tmp_path, APP, env=clean_env(tmp_path, TELEMETRY_CONFIG=str(config)))
    assert run.returncode == 0, run.stderr
    warnings = _warnings(run.stderr)
    assert len(warnings) == 1 and "1,048,576" in warnings[0]
    assert [span["name"] for span in spans(tmp_path / "store")] == ["recorded"]


@pytest.mark.parametrize("value", ["1e10", "1e-9"])
def test_an_app_with_an_absurd_reload_interval_warns_naming_the_key_and_range_and_records(
    tmp_path: Path, value: str
) -> None:
    env = clean_env(tmp_path, TELEMETRY_RELOAD_INTERVAL_SECS=value, TELEMETRY_FLUSH_INTERVAL_SECS=value)
    run = run_app(tmp_path, APP, env=env)
    assert run.returncode == 0, run.stderr
    warnings = _warnings(run.stderr)
    assert len(warnings) == 2
    assert any("TELEMETRY_RELOAD_INTERVAL_SECS" in w and "0.05 to 86,400" in w for w in warnings)
    assert any("TELEMETRY_FLUSH_INTERVAL_SECS" in w and "0.05 to 86,400" in w for w in warnings)
    assert [span["name"] for span in spans(tmp_path / "store")] == ["recorded"]


@pytest.mark.parametrize(
    "args",
    [
        ("stats", "--since", "999999d"),
        ("upload", "--since", "999999d", "--endpoint", "http://127.0.0.1:9"),
        ("compliance", "--since", "99999999999d"),
        ("purge", "--older-than", "99999999999d"),
        ("forget", "--yes", "--wait", "1e30"),
        ("forget", "--yes", "--wait", "nan"),
    ],
)
def test_an_out_of_range_cli_duration_is_a_usage_error_before_anything_is_done(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    run = run_app(tmp_path, APP)
    assert run.returncode == 0, run.stderr
    before = sorted((tmp_path / "store").rglob("*.jsonl"))
    assert before
    done = _cli(tmp_path, *args)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"Invalid value for '{args[-2] if args[0] != 'upload' else '--since'}'" in done.stderr
    assert sorted((tmp_path / "store").rglob("*.jsonl")) == before  # nothing erased
    assert not forget.marker_path(tmp_path / "store").exists()  # recording not switched off

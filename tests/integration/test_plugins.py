"""Plugins: a package under tests/ declaring a processor and an exporter by entry point, installed
(offline) and named in TELEMETRY_PROCESSORS / TELEMETRY_EXPORTERS, runs zero-code behind the chain."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.proc import clean_env, run_app, spans

PLUGIN = Path(__file__).parent.parent / "plugin_example"
EMAIL = "uma.reyes@example.com"

APP = f"""
    from opentelemetry import trace

    tracer = trace.get_tracer("app")
    with tracer.start_as_current_span("lookup {EMAIL}"):
        pass
    with tracer.start_as_current_span("explode"):  # the plugin processor raises on this one
        pass
    print("app ok")
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plugin installed into a folder of its own (put on the child's PYTHONPATH)."""
    work = tmp_path_factory.mktemp("plugin")
    source = work / "source"
    shutil.copytree(PLUGIN, source)
    target = work / "site"
    offline = ["--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", *offline, "--target", str(target), str(source)],
        check=True,
        capture_output=True,
    )
    return target


def _config(tmp_path: Path, body: str) -> Path:
    config = tmp_path / "telemetry.toml"
    config.write_text(body)
    return config


def test_a_plugin_processor_and_exporter_run_zero_code_behind_the_redaction(
    tmp_path: Path, site: Path
) -> None:
    out = tmp_path / "plugin-spans.jsonl"
    config = _config(tmp_path, f'[plugins.tagger]\ntag = "from-toml"\n[plugins.jsonfile]\npath = "{out}"\n')
    env = clean_env(
        tmp_path,
        PYTHONPATH=str(site),
        TELEMETRY_CONFIG=str(config),
        TELEMETRY_PROCESSORS="tagger",
        TELEMETRY_EXPORTERS="jsonfile",
    )
    run = run_app(tmp_path, APP, zero_code=True, env=env)
    assert run.returncode == 0, run.stderr
    assert "app ok" in run.stdout
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    by_name = {span["name"]: span for span in exported}
    assert set(by_name) == {"lookup <EMAIL>", "explode"}  # the exporter saw only redacted data
    assert by_name["lookup <EMAIL>"]["attributes"]["example.tag"] == "from-toml"
    assert "example.tag" not in by_name["explode"]["attributes"]  # its failure cost nothing else
    assert EMAIL not in out.read_text()
    stored = {span["name"]: span for span in spans(tmp_path / "store")}
    assert set(stored) == {"lookup <EMAIL>", "explode"}  # the store got both spans too
    assert run.stderr.count("plugin processor 'tagger' failed") == 1


def test_a_processor_placed_before_redaction_sees_raw_values_and_its_output_is_redacted(
    tmp_path: Path, site: Path
) -> None:
    out = tmp_path / "plugin-spans.jsonl"
    config = _config(
        tmp_path,
        f'[plugins.tagger]\ntag = "{EMAIL}"\nredaction = "after"\n[plugins.jsonfile]\npath = "{out}"\n',
    )
    env = clean_env(
        tmp_path,
        PYTHONPATH=str(site),
        TELEMETRY_CONFIG=str(config),
        TELEMETRY_PROCESSORS="tagger",
        TELEMETRY_EXPORTERS="jsonfile",
    )
    run = run_app(tmp_path, APP, zero_code=True, env=env)
    assert run.returncode == 0, run.stderr
    exported = {json.loads(line)["name"]: json.loads(line) for line in out.read_text().splitlines()}
    assert exported["lookup <EMAIL>"]["attributes"]["example.tag"] == "<EMAIL>"  # redaction came after


def test_a_plugin_that_is_not_installed_is_reported_once_by_name_and_costs_nothing(
    tmp_path: Path, site: Path
) -> None:
    env = clean_env(
        tmp_path, PYTHONPATH=str(site), TELEMETRY_PROCESSORS="nosuch", TELEMETRY_EXPORTERS="nothere"
    )
    run = run_app(tmp_path, APP, zero_code=True, env=env)
    assert run.returncode == 0, run.stderr
    assert run.stderr.count("no plugin named 'nosuch'") == 1
    assert run.stderr.count("no plugin named 'nothere'") == 1
    assert "installed: jsonfile" in run.stderr
    assert {span["name"] for span in spans(tmp_path / "store")} == {"lookup <EMAIL>", "explode"}


def _stats(env: dict[str, str]) -> dict[str, Any]:
    """``otel-distro stats --json`` in the app's environment."""
    done = subprocess.run(
        [str(Path(sys.executable).parent / "otel-distro"), "stats", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_what_a_slow_plugin_exporters_queue_pushes_out_is_counted_and_shown_by_stats(
    tmp_path: Path, site: Path
) -> None:
    out = tmp_path / "plugin-spans.jsonl"
    config = _config(tmp_path, f'[plugins.jsonfile]\npath = "{out}"\ndelay = 1.0\n')
    env = clean_env(
        tmp_path, PYTHONPATH=str(site), TELEMETRY_CONFIG=str(config), TELEMETRY_EXPORTERS="jsonfile"
    )
    app = """
        from opentelemetry import trace

        tracer = trace.get_tracer("app")
        for n in range(3000):  # the plugin's batch queue holds 2048
            with tracer.start_as_current_span(f"burst {n}"):
                pass
        print("app ok")
    """
    run = run_app(tmp_path, app, zero_code=True, env=env)
    assert run.returncode == 0 and "app ok" in run.stdout, run.stderr
    stats = _stats(env)
    dropped = stats["dropped"]
    exported = len(out.read_text().splitlines()) if out.exists() else 0
    assert dropped.get("plugin_queue_full", 0) >= 3000 - 2048 - 512  # at most one batch left the queue
    assert exported + dropped["plugin_queue_full"] <= 3000


def test_spans_a_plugin_exporter_fails_to_export_are_counted_and_shown_by_stats(
    tmp_path: Path, site: Path
) -> None:
    config = _config(tmp_path, f'[plugins.jsonfile]\npath = "{tmp_path}"\n')  # a directory: every write fails
    env = clean_env(
        tmp_path, PYTHONPATH=str(site), TELEMETRY_CONFIG=str(config), TELEMETRY_EXPORTERS="jsonfile"
    )
    app = """
        from opentelemetry import trace

        tracer = trace.get_tracer("app")
        for n in range(25):
            with tracer.start_as_current_span(f"lost {n}"):
                pass
        print("app ok")
    """
    run = run_app(tmp_path, app, zero_code=True, env=env)
    assert run.returncode == 0 and "app ok" in run.stdout, run.stderr
    assert "JsonFileExporter did not export" in run.stderr  # said once
    stats = _stats(env)
    assert stats["dropped"].get("plugin_failed") == 25

"""Zero-code: `opentelemetry-instrument python app.py` records spans, metrics and logs to the store."""

from __future__ import annotations

from pathlib import Path

from tests.support.proc import (
    attrs,
    clean_env,
    log_records,
    metric_names,
    run_app,
    spans,
    store_lines,
    strict_parse,
)

APP = """
    import logging
    from opentelemetry import metrics, trace

    tracer = trace.get_tracer("zero.code", "1.2.3")
    counter = metrics.get_meter("zero.code").create_counter("app.requests")
    with tracer.start_as_current_span("parent", attributes={"k": "v", "n": 3}) as parent:
        with tracer.start_as_current_span("child") as child:
            child.add_event("thinking", {"step": 1})
        counter.add(5, {"route": "/x"})
    logging.getLogger("zero.app").warning("something happened %d", 42)
    print("app finished")
"""


def test_zero_code_writes_spans_metrics_and_logs_that_strict_parse(tmp_path: Path) -> None:
    env = clean_env(
        tmp_path,
        OTEL_SERVICE_NAME="zero-svc",
        OTEL_RESOURCE_ATTRIBUTES="deployment.environment.name=test,team=agents",
        OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED="true",
    )
    run = run_app(tmp_path, APP, zero_code=True, env=env)
    assert run.returncode == 0, run.stderr
    assert "app finished" in run.stdout
    assert "Traceback" not in run.stderr
    base = tmp_path / "store"

    for signal in ("traces", "metrics", "logs"):
        lines = store_lines(base, signal)
        assert lines, f"no {signal} written"
        for line in lines:
            strict_parse(signal, line)

    by_name = {span["name"]: span for span in spans(base)}
    assert set(by_name) == {"parent", "child"}
    parent, child = by_name["parent"], by_name["child"]
    assert child["traceId"] == parent["traceId"]
    assert child["parentSpanId"] == parent["spanId"]
    assert "parentSpanId" not in parent
    assert attrs(parent["attributes"]) == {"k": "v", "n": 3}
    assert child["events"][0]["name"] == "thinking"
    resource = parent["_resource"]
    assert resource["service.name"] == "zero-svc"
    assert resource["team"] == "agents"
    assert resource["telemetry.distro.name"] == "otel-distro"
    assert resource["telemetry.distro.version"]
    assert "app.requests" in metric_names(base)
    bodies = [record.get("body", {}).get("stringValue") for record in log_records(base)]
    assert "something happened 42" in bodies


def test_python_logging_is_not_bridged_unless_asked(tmp_path: Path) -> None:
    run = run_app(tmp_path, APP, zero_code=True)
    assert run.returncode == 0, run.stderr
    bodies = [record.get("body", {}).get("stringValue") for record in log_records(tmp_path / "store")]
    assert "something happened 42" not in bodies
    assert "something happened 42" in run.stderr  # the app's own logging still works
    assert spans(tmp_path / "store")


def test_sampler_setting_is_honoured(tmp_path: Path) -> None:
    run = run_app(tmp_path, APP, zero_code=True, env=clean_env(tmp_path, OTEL_TRACES_SAMPLER="always_off"))
    assert run.returncode == 0, run.stderr
    assert spans(tmp_path / "store") == []
    assert "app.requests" in metric_names(tmp_path / "store")


def _fake_distro(root: Path) -> Path:
    """Another installed distro + configurator, as a real dist-info on PYTHONPATH."""
    site = root / "site"
    info = site / "other_distro-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: other-distro\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[opentelemetry_distro]\nother = other_distro:OtherDistro\n\n"
        "[opentelemetry_configurator]\nother = other_distro:OtherConfigurator\n"
    )
    (site / "other_distro.py").write_text(
        "import os, pathlib\n"
        "from opentelemetry.instrumentation.distro import BaseDistro\n"
        "from opentelemetry.sdk._configuration import _BaseConfigurator\n"
        "class OtherDistro(BaseDistro):\n"
        "    def _configure(self, **kwargs):\n"
        "        pathlib.Path(os.environ['MARKER_DIR'], 'other-distro').touch()\n"
        "class OtherConfigurator(_BaseConfigurator):\n"
        "    def _configure(self, **kwargs):\n"
        "        pathlib.Path(os.environ['MARKER_DIR'], 'other-configurator').touch()\n"
    )
    return site


def test_selected_by_otel_python_distro_when_another_distro_is_installed(tmp_path: Path) -> None:
    site = _fake_distro(tmp_path)
    markers = tmp_path / "markers"
    markers.mkdir()
    env = clean_env(tmp_path, PYTHONPATH=str(site), MARKER_DIR=str(markers), OTEL_PYTHON_DISTRO="otel_distro")
    run = run_app(tmp_path, APP, zero_code=True, env=env)
    assert run.returncode == 0, run.stderr
    assert {span["name"] for span in spans(tmp_path / "store")} == {"parent", "child"}
    assert not (markers / "other-distro").exists()
    assert not (markers / "other-configurator").exists()


def test_disabled_telemetry_records_and_writes_nothing(tmp_path: Path) -> None:
    for switch in ({"TELEMETRY_ENABLED": "false"}, {"OTEL_SDK_DISABLED": "true"}):
        run = run_app(tmp_path, APP, zero_code=True, env=clean_env(tmp_path, **switch))
        assert run.returncode == 0, run.stderr
        assert "app finished" in run.stdout
        assert not (tmp_path / "store").exists(), switch


def test_store_can_be_switched_off_or_named_back_per_signal(tmp_path: Path) -> None:
    off = clean_env(tmp_path, TELEMETRY_STORE_ENABLED="false", OTEL_TRACES_EXPORTER="console")
    run = run_app(tmp_path, APP, zero_code=True, env=off)
    assert run.returncode == 0, run.stderr
    assert '"name": "parent"' in run.stdout  # the console exporter got the spans
    assert not any((tmp_path / "store" / signal).exists() for signal in ("traces", "metrics", "logs"))

    named = clean_env(tmp_path, TELEMETRY_STORE_ENABLED="false", OTEL_TRACES_EXPORTER="jsonl")
    run = run_app(tmp_path, APP, zero_code=True, env=named)
    assert run.returncode == 0, run.stderr
    assert {span["name"] for span in spans(tmp_path / "store")} == {"parent", "child"}
    assert not (tmp_path / "store" / "metrics").exists()

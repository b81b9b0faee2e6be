"""The logging bridge: never raises into the app, survives logging configuration, keeps stderr."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.support.collector import RecordingOtlpServer
from tests.support.proc import clean_env, log_records, run_app


def _bodies(base: Path) -> list[str]:
    return [record.get("body", {}).get("stringValue", "") for record in log_records(base)]


def test_bad_log_calls_never_raise_into_the_app(tmp_path: Path) -> None:
    source = """
        import logging
        import otel_distro

        class Unprintable:
            def __str__(self):
                raise RuntimeError("str failed")

        otel_distro.configure(log_bridge=True)
        log = logging.getLogger("app")
        log.warning("count=%d", "not a number")
        log.warning(Unprintable())
        log.warning("fine afterwards")
        print("app ok")
    """
    run = run_app(tmp_path, source)
    assert run.returncode == 0, run.stderr
    assert "app ok" in run.stdout
    assert "fine afterwards" in _bodies(tmp_path / "store")
    assert "a log record could not be bridged" in run.stderr


def test_logging_configuration_by_the_app_keeps_the_bridge_and_its_own_handlers(tmp_path: Path) -> None:
    source = """
        import logging
        import logging.config
        import sys
        import otel_distro

        otel_distro.configure(log_bridge=True)
        logging.getLogger("app").warning("before basicConfig")
        logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="APP %(message)s")
        logging.getLogger("app").info("after basicConfig")
        config = {"version": 1, "disable_existing_loggers": False, "root": {"level": "INFO"}}
        logging.config.dictConfig(config)
        logging.getLogger("app").info("after dictConfig")
    """
    run = run_app(tmp_path, source)
    assert run.returncode == 0, run.stderr
    assert "before basicConfig" in run.stderr  # no handler of the app's yet: printed as Python would
    assert "APP after basicConfig" in run.stdout  # basicConfig still takes effect
    bodies = _bodies(tmp_path / "store")
    for message in ("before basicConfig", "after basicConfig", "after dictConfig"):
        assert message in bodies


def test_distro_warnings_stay_visible_and_out_of_the_store_with_the_bridge_on(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    source = """
        import logging
        import otel_distro
        from opentelemetry import trace

        handle = otel_distro.configure(log_bridge=True)
        trace.get_tracer("t").start_span("s").end()
        logging.getLogger("app").warning("app warning")
        handle.force_flush()
        print("app ok")
    """
    run = run_app(tmp_path, source, env=clean_env(tmp_path, TELEMETRY_BASE_DIR=str(blocker / "store")))
    assert run.returncode == 0, run.stderr
    assert "otel-distro: cannot write" in run.stderr
    assert "app warning" in run.stderr


OUTPUT_CASES = {
    "handler on a named logger": """
        log = logging.getLogger("lib")
        log.addHandler(logging.StreamHandler(sys.stderr))
        log.warning("LIB once")
    """,
    "dictConfig on a named logger": """
        logging.config.dictConfig({
            "version": 1,
            "handlers": {"h": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout"}},
            "loggers": {"myapp": {"handlers": ["h"], "level": "INFO"}},
        })
        logging.getLogger("myapp").warning("APP once")
    """,
    "library NullHandler": """
        lib = logging.getLogger("quietlib")
        lib.addHandler(logging.NullHandler())
        lib.warning("should stay silent")
    """,
    "module-level logging.warning": """
        logging.warning("first via logging.warning")
        logging.getLogger("app").error("second")
    """,
    "redirected stderr": """
        buffer = io.StringIO()
        with contextlib.redirect_stderr(buffer):
            logging.getLogger("app").warning("captured?")
        print("captured:", repr(buffer.getvalue()))
    """,
}


@pytest.mark.parametrize("case", sorted(OUTPUT_CASES))
def test_the_bridge_changes_nothing_the_app_prints(tmp_path: Path, case: str) -> None:
    body = textwrap.indent(textwrap.dedent(OUTPUT_CASES[case]), "    ")
    source = f"""
import contextlib, io, logging, logging.config, sys
import otel_distro

def main():
{body}

otel_distro.configure()
main()
"""
    outputs = []
    for bridge in ("false", "true"):
        env = clean_env(tmp_path, TELEMETRY_LOG_BRIDGE=bridge, TELEMETRY_BASE_DIR=str(tmp_path / bridge))
        run = run_app(tmp_path, source, env=env)
        assert run.returncode == 0, run.stderr
        outputs.append((run.stdout, run.stderr))
    assert outputs[0] == outputs[1]


def test_records_logged_while_exporting_do_not_feed_back_into_the_pipeline(tmp_path: Path) -> None:
    source = """
        import logging, time
        import otel_distro

        logging.getLogger().setLevel(logging.DEBUG)
        handle = otel_distro.configure(log_bridge=True)
        logging.getLogger("app").info("one app log line")
        for _ in range(3):
            handle.force_flush()
            time.sleep(0.3)
        handle.shutdown()
    """
    with RecordingOtlpServer() as sink:
        env = clean_env(
            tmp_path,
            OTEL_LOGS_EXPORTER="otlp",
            OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
            OTEL_EXPORTER_OTLP_ENDPOINT=sink.endpoint,
        )
        run = run_app(tmp_path, source, env=env)
        assert run.returncode == 0, run.stderr
        assert sink.wait_for_log_records(1, timeout=10)
        sent = [record.body.string_value for record in sink.log_records()]
    assert sent == ["one app log line"]
    assert _bodies(tmp_path / "store") == ["one app log line"]

"""Telemetry never breaks the app: bad settings, broken files, unwritable stores, odd values."""

from __future__ import annotations

import signal as signals
from pathlib import Path

from tests.support.proc import (
    attrs,
    clean_env,
    run_app,
    spans,
    store_lines,
    strict_parse,
    terminate_when_ready,
)

APP = """
    import otel_distro
    from opentelemetry import trace

    otel_distro.configure()
    with trace.get_tracer("robust").start_as_current_span("work"):
        pass
    print("app ok")
"""


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("otel-distro:")]


def test_bad_values_warn_once_per_key_and_the_app_runs_on_defaults(tmp_path: Path) -> None:
    env = clean_env(
        tmp_path, TELEMETRY_RETENTION_DAYS="a month", TELEMETRY_BATCH_SIZE="-1", OTEL_TRACES_SAMPLER="fast"
    )
    run = run_app(tmp_path, APP, env=env)
    assert run.returncode == 0
    assert "app ok" in run.stdout
    assert "Traceback" not in run.stderr
    warnings = _warnings(run.stderr)
    assert len(warnings) == 3, run.stderr
    assert any("TELEMETRY_RETENTION_DAYS" in w and "integer" in w for w in warnings)
    assert any("TELEMETRY_BATCH_SIZE" in w for w in warnings)
    assert any("OTEL_TRACES_SAMPLER" in w and "parentbased_always_on" in w for w in warnings)
    assert [span["name"] for span in spans(tmp_path / "store")] == ["work"]


def test_broken_config_file_warns_naming_it_and_the_app_runs(tmp_path: Path) -> None:
    config = tmp_path / "telemetry.toml"
    config.write_text("[store\nretention_days = = 3\n")
    run = run_app(tmp_path, APP, env=clean_env(tmp_path, TELEMETRY_CONFIG=str(config)))
    assert run.returncode == 0
    assert "app ok" in run.stdout
    warnings = _warnings(run.stderr)
    assert len(warnings) == 1 and "telemetry.toml" in warnings[0]
    assert spans(tmp_path / "store")


def test_strict_configure_raises_instead_of_warning(tmp_path: Path) -> None:
    source = """
        import otel_distro
        try:
            otel_distro.configure(strict=True, retention_days="soon")
        except otel_distro.SettingsError as exc:
            print("raised:", exc)
    """
    run = run_app(tmp_path, source)
    assert run.returncode == 0, run.stderr
    assert "raised:" in run.stdout and "retention_days" in run.stdout


def test_unwritable_store_costs_the_app_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the store should be")
    source = """
        import otel_distro
        from opentelemetry import trace

        handle = otel_distro.configure()
        tracer = trace.get_tracer("robust")
        for n in range(3000):
            tracer.start_span("work").end()
        handle.force_flush()
        print("dropped", handle.pipeline.store.stats.records_dropped)
    """
    run = run_app(tmp_path, source, env=clean_env(tmp_path, TELEMETRY_BASE_DIR=str(blocker / "store")))
    assert run.returncode == 0
    dropped = int(run.stdout.split("dropped", 1)[1].split()[0])
    # every span counted; some SDK lines also export a metrics collection at the flush
    assert 3000 <= dropped <= 3003, run.stdout
    assert "Traceback" not in run.stderr
    assert len([w for w in _warnings(run.stderr) if "cannot write" in w]) == 1


def test_odd_attribute_values_never_reach_the_app_and_lines_still_parse(tmp_path: Path) -> None:
    source = """
        import logging
        import otel_distro
        from opentelemetry import trace

        otel_distro.configure(log_bridge=True)
        tracer = trace.get_tracer("odd")
        with tracer.start_as_current_span("odd") as span:
            span.set_attribute("huge", "h" * 5_000_000)
            span.set_attribute("surrogate", "bad \\ud800 text")
            span.set_attribute("nan", float("nan"))
            span.set_attribute("inf", float("inf"))
            span.set_attribute("big", 2**63 - 1)
            span.set_attribute("mixed", ["a", "b"])
            span.set_attribute("object", object())  # not an attribute type
            span.add_event("e\\udfff", {"x": -float("inf")})
        logging.getLogger("odd").error("body \\udc80 %s", {"nested": [1, {"deep": None}]})
        print("app ok")
    """
    run = run_app(tmp_path, source)
    assert run.returncode == 0, run.stderr
    assert "app ok" in run.stdout
    assert "Traceback" not in run.stderr
    base = tmp_path / "store"
    for signal in ("traces", "logs"):
        lines = store_lines(base, signal)
        assert lines
        for line in lines:
            strict_parse(signal, line)
    (span,) = spans(base)
    values = attrs(span["attributes"])
    assert len(values["huge"]) == 5_000_000
    assert values["surrogate"].startswith("bad ") and "\ud800" not in values["surrogate"]
    assert values["nan"] == "NaN"
    assert values["inf"] == "Infinity"
    assert values["big"] == 2**63 - 1
    assert span["events"][0]["attributes"][0]["value"]["doubleValue"] == "-Infinity"


def test_a_provider_installed_by_the_app_first_is_reported_and_put_behind_the_chain(tmp_path: Path) -> None:
    """Issue 20: its spans pass the privacy processors and reach the store; once said, no fight."""
    source = """
        import otel_distro
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider

        trace.set_tracer_provider(TracerProvider())
        handle = otel_distro.configure()
        trace.get_tracer("mine").start_span("goes-to-the-app-provider alice@example.com").end()
        handle.shutdown()
        print("app ok")
    """
    run = run_app(tmp_path, source)
    assert run.returncode == 0, run.stderr
    assert "app ok" in run.stdout
    (warning,) = [w for w in _warnings(run.stderr) if "its own tracer provider" in w]
    assert "passes otel-distro's privacy processors" in warning
    assert "Overriding" not in run.stderr
    assert [span["name"] for span in spans(tmp_path / "store")] == ["goes-to-the-app-provider <EMAIL>"]


def test_libraries_adding_their_own_span_processor_get_only_chain_processed_spans(tmp_path: Path) -> None:
    source = """
        import otel_distro
        from opentelemetry import trace
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
        from processors.base import RecordProcessor
        from processors.records import replace_span

        class Scrub(RecordProcessor):
            def process_span(self, span):
                return replace_span(span, attributes={"user.email": "<EMAIL>"})

        otel_distro.configure(processors=[Scrub()])
        # What Langfuse, logfire and others do on init:
        trace.get_tracer_provider().add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
        with trace.get_tracer("t").start_as_current_span("s", attributes={"user.email": "alice@example.com"}):
            pass
        otel_distro.shutdown()
    """
    run = run_app(tmp_path, source)
    assert run.returncode == 0, run.stderr
    assert "<EMAIL>" in run.stdout
    assert "alice@example.com" not in run.stdout + run.stderr


def test_bad_processors_argument_is_reported_by_name_and_recording_goes_on(tmp_path: Path) -> None:
    source = """
        import otel_distro
        from opentelemetry import trace

        otel_distro.configure(processors=[object()])
        trace.get_tracer("t").start_span("kept").end()
    """
    run = run_app(tmp_path, source)
    assert run.returncode == 0, run.stderr
    assert "configure(processors=" in run.stderr
    assert [span["name"] for span in spans(tmp_path / "store")] == ["kept"]


def test_standard_batch_settings_never_switch_telemetry_off(tmp_path: Path) -> None:
    env = clean_env(tmp_path, OTEL_BSP_MAX_QUEUE_SIZE="50000", OTEL_BSP_MAX_EXPORT_BATCH_SIZE="20000")
    run = run_app(tmp_path, APP, env=env)
    assert run.returncode == 0, run.stderr
    assert "setup failed" not in run.stderr
    assert [span["name"] for span in spans(tmp_path / "store")] == ["work"]


def test_a_relative_store_path_does_not_follow_a_later_chdir(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    source = """
        import os
        import otel_distro
        from opentelemetry import trace

        otel_distro.configure()
        os.chdir("elsewhere")
        trace.get_tracer("t").start_span("s").end()
    """
    run = run_app(tmp_path, source, env=clean_env(tmp_path, TELEMETRY_BASE_DIR="rel-store"))
    assert run.returncode == 0, run.stderr
    assert [span["name"] for span in spans(tmp_path / "rel-store")] == ["s"]
    assert not (tmp_path / "elsewhere" / "rel-store").exists()


def test_sigterm_flushes_what_is_buffered_then_ends_the_process_as_sigterm_would(tmp_path: Path) -> None:
    source = """
        import time
        import otel_distro
        from opentelemetry import trace

        otel_distro.configure()
        tracer = trace.get_tracer("t")
        for n in range(100):
            tracer.start_span("before-sigterm").end()
        print("ready", flush=True)
        time.sleep(60)
    """
    code, _ = terminate_when_ready(tmp_path, source)
    assert code == -signals.SIGTERM
    assert len(spans(tmp_path / "store")) == 100


def test_an_app_handler_that_chains_to_ours_keeps_its_graceful_exit(tmp_path: Path) -> None:
    source = """
        import signal, sys, threading
        import otel_distro
        from opentelemetry import trace

        otel_distro.configure()
        stop = threading.Event()
        previous = signal.getsignal(signal.SIGTERM)

        def graceful(signum, frame):
            if callable(previous):
                previous(signum, frame)  # flushes telemetry; must not end the process
            stop.set()

        signal.signal(signal.SIGTERM, graceful)
        trace.get_tracer("t").start_span("before-stop").end()
        print("ready", flush=True)
        stop.wait(60)
        print("graceful cleanup done", flush=True)
        sys.exit(0)
    """
    code, rest = terminate_when_ready(tmp_path, source)
    assert code == 0
    assert "graceful cleanup done" in rest
    assert [span["name"] for span in spans(tmp_path / "store")] == ["before-stop"]

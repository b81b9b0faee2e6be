"""Providers a library or the app made before ``configure()``: what they export is redacted.

Each case is a real child process: the app (or a library, as the Langfuse SDK does) builds SDK
providers with exporters of their own, then configures the distro; what those exporters receive
afterwards, and what reaches the store, must hold no raw value.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.proc import CLI, attrs, clean_env, run_app, spans, store_lines

EMAIL, PHONE, SSN = "uma.reyes@example.com", "+14155550132", "536-22-1234"

APP = f"""
    import json
    from opentelemetry import trace
    from opentelemetry._logs import LogRecord, set_logger_provider
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    # the app's own global providers, and a library's private one, all made first
    app_spans, app_logs, lib_spans, late_spans = (
        InMemorySpanExporter(), InMemoryLogRecordExporter(), InMemorySpanExporter(), InMemorySpanExporter()
    )
    app_provider = TracerProvider()
    app_provider.add_span_processor(SimpleSpanProcessor(app_spans))
    trace.set_tracer_provider(app_provider)
    early_tracer = app_provider.get_tracer("early")  # a tracer made before configure()
    log_provider = LoggerProvider()
    log_provider.add_log_record_processor(SimpleLogRecordProcessor(app_logs))
    set_logger_provider(log_provider)
    early_logger = log_provider.get_logger("early")
    library_provider = TracerProvider()
    library_provider.add_span_processor(SimpleSpanProcessor(lib_spans))

    import otel_distro

    handle = otel_distro.configure(service_name="early-providers")
    with early_tracer.start_as_current_span("lookup {EMAIL}") as span:
        span.set_attribute("user.id", "{EMAIL}")
    with trace.get_tracer("global").start_as_current_span("call {PHONE}"):
        pass
    with library_provider.get_tracer("lib").start_as_current_span("lib {SSN}"):
        pass
    app_provider.add_span_processor(SimpleSpanProcessor(late_spans))  # added after configure()
    with early_tracer.start_as_current_span("after {EMAIL}"):
        pass
    early_logger.emit(LogRecord(body={{"user": {{"email": "{EMAIL}"}}}}, attributes={{"to": ["{PHONE}"]}}))
    handle.force_flush()
    seen = {{
        "app": [(s.name, dict(s.attributes)) for s in app_spans.get_finished_spans()],
        "library": [s.name for s in lib_spans.get_finished_spans()],
        "late": [s.name for s in late_spans.get_finished_spans()],
        "logs": [(r.log_record.body, dict(r.log_record.attributes)) for r in app_logs.get_finished_logs()],
    }}
    print(json.dumps(seen))
    otel_distro.shutdown()
"""


def test_exporters_of_providers_made_before_configure_receive_only_redacted_records(tmp_path: Path) -> None:
    run = run_app(tmp_path, APP, env=clean_env(tmp_path))
    assert run.returncode == 0, run.stderr
    out = run.stdout.strip().splitlines()[-1]
    for raw in (EMAIL, PHONE, SSN):
        assert raw not in out, raw
    assert '"lookup <EMAIL>"' in out and '"call <PHONE_NUMBER>"' in out
    assert '"lib <US_SSN>"' in out  # a provider that is not the global one is guarded too
    assert '"late": ["after <EMAIL>"]' in out  # processors added later land behind the chain
    assert '"<EMAIL>"' in out  # the structured log body reached the app's exporter, redacted
    assert "hmac-sha256:" in out  # the user id is the keyed hash, not a label
    assert "Overriding" not in run.stderr


def test_spans_of_a_global_provider_made_first_reach_the_store_redacted(tmp_path: Path) -> None:
    run = run_app(tmp_path, APP, env=clean_env(tmp_path))
    assert run.returncode == 0, run.stderr
    stored_spans = spans(tmp_path / "store")
    names = [span["name"] for span in stored_spans]
    assert "lookup <EMAIL>" in names and "call <PHONE_NUMBER>" in names
    assert "lib <US_SSN>" not in names  # a library's private provider keeps its own destination
    stored = b"".join(
        line for signal in ("traces", "logs") for line in store_lines(tmp_path / "store", signal)
    )
    for raw in (EMAIL, PHONE, SSN):
        assert raw.encode() not in stored, raw
    lookup = next(span for span in stored_spans if span["name"] == "lookup <EMAIL>")
    assert attrs(lookup["attributes"])["user.id"].startswith("hmac-sha256:")


RELOAD_APP = f"""
    import json, os, pathlib, time
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    lib_spans = InMemorySpanExporter()
    library = TracerProvider()  # a library's private provider, made first
    library.add_span_processor(SimpleSpanProcessor(lib_spans))

    import otel_distro
    from processors.base import RecordProcessor

    class Refuses(RecordProcessor):
        def process_span(self, span):
            if span.name == "boom":
                raise ValueError("refused")
            return span

    handle = otel_distro.configure(service_name="early-reload", processors=[Refuses()])
    tracer = library.get_tracer("lib")
    config = pathlib.Path(os.environ["TELEMETRY_CONFIG"])

    def names():
        return [span.name for span in lib_spans.get_finished_spans()]

    def until(edit, probe, done):  # write the file, then end probes until done(before, after)
        config.write_text("reload_interval_secs = 0.2\\n" + edit)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            before = names()
            with tracer.start_as_current_span(probe):
                pass
            handle.force_flush()
            if done(before, names()):
                return True
            time.sleep(0.2)
        return False

    with tracer.start_as_current_span("before {EMAIL}"):
        pass
    for _ in range(3):
        with tracer.start_as_current_span("boom"):  # the plugin refuses: dropped, counted
            pass
    handle.force_flush()
    redacting = until("", "probe {EMAIL}", lambda before, after: "probe <EMAIL>" in after)
    stopped = until("enabled = false\\n", "off", lambda before, after: after == before)
    count = len(names())
    with tracer.start_as_current_span("after the gate"):
        pass
    handle.force_flush()
    seen = {{"redacting": redacting, "stopped": stopped, "names": names(), "more": len(names()) - count}}
    print(json.dumps(seen))
    otel_distro.shutdown()
"""


def test_a_private_provider_made_first_follows_reloaded_settings_and_its_drops_are_counted(
    tmp_path: Path,
) -> None:
    import json
    import subprocess

    config = tmp_path / "telemetry.toml"
    config.write_text("reload_interval_secs = 0.2\n[privacy]\npii_redaction = false\n")
    env = clean_env(tmp_path, TELEMETRY_CONFIG=str(config))
    run = run_app(tmp_path, RELOAD_APP, env=env)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["names"][0] == f"before {EMAIL}"  # redaction was off in the file at first
    assert seen["redacting"], run.stderr  # turned on in the file: the library's exporter gets it too
    assert seen["stopped"] and seen["more"] == 0, seen  # recording off: nothing more reaches it
    assert "boom" not in seen["names"]
    stats = subprocess.run(
        [CLI, "stats", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["dropped"].get("chain_processor_failed") == 3, stats.stdout


LATE_APP = f"""
    import io, json
    from opentelemetry._logs import LogRecord
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, PeriodicExportingMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    def meters(out):  # a push reader, as with OTLP: its exporter writes what it gets
        reader = PeriodicExportingMetricReader(ConsoleMetricExporter(out=out), export_interval_millis=60_000)
        return MeterProvider(metric_readers=[reader])

    early_out, late_out = io.StringIO(), io.StringIO()
    early_meters = meters(early_out)  # a library's, made before configure()

    import otel_distro

    handle = otel_distro.configure(service_name="late-providers")
    # made after configure(): under zero-code, every provider an app or a library makes
    spans, logs = InMemorySpanExporter(), InMemoryLogRecordExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    with tracer_provider.get_tracer("lib").start_as_current_span("mail {EMAIL}") as span:
        span.set_attribute("who", "{EMAIL}")
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    logger_provider.get_logger("lib").emit(LogRecord(body="call {PHONE}"))
    late_meters = meters(late_out)
    # made with its processor (no add follows), and one that cannot be kept in a set
    from opentelemetry.sdk.trace import SynchronousMultiSpanProcessor
    given, unhashable_spans = InMemorySpanExporter(), InMemorySpanExporter()
    composite = SynchronousMultiSpanProcessor()
    composite.add_span_processor(SimpleSpanProcessor(given))
    with TracerProvider(active_span_processor=composite).get_tracer("x").start_as_current_span(
        "given {EMAIL}"
    ):
        pass

    class Unhashable(TracerProvider):
        __hash__ = None  # as a dataclass with eq makes it

        def __eq__(self, other):
            return self is other

    odd = Unhashable()
    odd.add_span_processor(SimpleSpanProcessor(unhashable_spans))
    with odd.get_tracer("x").start_as_current_span("odd {EMAIL}"):
        pass
    for provider in (early_meters, late_meters):
        provider.get_meter("lib").create_counter("lib.calls").add(1, {{"user": "{EMAIL}"}})
        provider.force_flush()
    tracer_provider.force_flush()
    handle.force_flush()
    print(json.dumps({{
        "spans": [(s.name, dict(s.attributes)) for s in spans.get_finished_spans()],
        "logs": [r.log_record.body for r in logs.get_finished_logs()],
        "early_metrics": early_out.getvalue(),
        "late_metrics": late_out.getvalue(),
        "given": [s.name for s in given.get_finished_spans()],
        "unhashable": [s.name for s in unhashable_spans.get_finished_spans()],
    }}))
    otel_distro.shutdown()
    with tracer_provider.get_tracer("lib").start_as_current_span("after the distro"):
        pass  # the provider has its own processors back: the app goes on
    plain = TracerProvider()  # after shutdown: left alone
    plain_spans = InMemorySpanExporter()
    plain.add_span_processor(SimpleSpanProcessor(plain_spans))
    with plain.get_tracer("x").start_as_current_span("after shutdown {EMAIL}"):
        pass
    print(json.dumps([s.name for s in plain_spans.get_finished_spans()]))
    print(json.dumps([s.name for s in spans.get_finished_spans()]))
"""


def test_providers_made_after_configure_and_meter_providers_made_before_export_only_redacted_records(
    tmp_path: Path,
) -> None:
    """Before, a provider made after configure() (every one an app or library makes under
    zero-code) exported raw values, and so did a meter provider made before it."""
    run = run_app(tmp_path, LATE_APP, env=clean_env(tmp_path))
    assert run.returncode == 0, run.stderr
    *_, out, after, kept = run.stdout.strip().splitlines()
    for raw in (EMAIL, PHONE):
        assert raw not in out, raw
    seen = json.loads(out)
    [(name, attributes)] = seen["spans"]
    assert name == "mail <EMAIL>" and attributes["who"] == "<EMAIL>"
    assert seen["logs"] == ["call <PHONE_NUMBER>"]
    for key in ("early_metrics", "late_metrics"):
        assert "lib.calls" in seen[key] and "<EMAIL>" in seen[key], key
    assert seen["given"] == ["given <EMAIL>"] and seen["unhashable"] == ["odd <EMAIL>"]
    assert json.loads(after) == [f"after shutdown {EMAIL}"]  # the SDK is as it was once we stopped
    assert json.loads(kept) == ["mail <EMAIL>", "after the distro"]  # before: silent once we stopped


OWN_SHUTDOWN_APP = f"""
    import json
    import otel_distro
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    handle = otel_distro.configure(service_name="own-shutdown")
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(spans))
    with provider.get_tracer("lib").start_as_current_span("before {EMAIL}"):
        pass
    provider.shutdown()  # the app stops its own provider; the distro goes on
    stopped = spans._stopped
    with provider.get_tracer("lib").start_as_current_span("after {EMAIL}"):
        pass
    print(json.dumps({{"stopped": stopped, "names": [s.name for s in spans.get_finished_spans()]}}))
    otel_distro.shutdown()
"""


def test_a_guarded_provider_shut_down_by_the_app_stops_its_processors_as_without_the_distro(
    tmp_path: Path,
) -> None:
    """Before: its processors were given back and left running, and a span ended after the
    app's own shutdown was exported, unredacted."""
    run = run_app(tmp_path, OWN_SHUTDOWN_APP, env=clean_env(tmp_path))
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen == {"stopped": True, "names": ["before <EMAIL>"]}

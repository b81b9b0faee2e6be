"""Privacy on by default, through a real zero-code child: no raw PII in the store or at a collector."""

from __future__ import annotations

from pathlib import Path

from tests.support.collector import RecordingOtlpServer, RotelCollector
from tests.support.proc import attrs, clean_env, otlp_env, run_app, spans, store_lines

EMAIL = "alice.smith@example.com"
CARD = "4111 1111 1111 1111"
KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz012345"
SSN, PHONE, ESCAPED = "536-22-1234", "090-1234-5678", "Esc4ped!Pw"
# in JSON text (GenAI message content, tool-call arguments in JSON in JSON) and glued to Japanese
RAW = (EMAIL, CARD.replace(" ", ""), CARD, KEY, "203.0.113.77", "hunter2", SSN, PHONE, ESCAPED)

APP = f"""
    import json
    import logging
    from opentelemetry import metrics, trace

    tracer = trace.get_tracer("privacy")
    log = logging.getLogger("privacy.app")
    other = tracer.start_span("other")
    link = trace.Link(other.get_span_context(), {{"peer": "{EMAIL}"}})
    with tracer.start_as_current_span("lookup {EMAIL}", links=[link]) as span:
        span.set_attribute("gen_ai.prompt", "my card is {CARD}, key {KEY}")
        span.set_attribute("client.addresses", ["203.0.113.77", "x"])
        span.set_attribute("db.password", "hunter2")
        span.set_attribute("project.id", "acme-prod")
        content = "my ssn:\\n{SSN}\\n\u96fb\u8a71\u756a\u53f7\u306f{PHONE}\u3067\u3059"
        span.set_attribute("gen_ai.input.messages", json.dumps([{{"role": "user", "content": content}}]))
        arguments = json.dumps({{"args": json.dumps({{"password": "{ESCAPED}"}})}})
        span.set_attribute("gen_ai.tool.call.arguments", arguments)
        span.add_event("gen_ai.user.message", {{"content": "reach me at {EMAIL}"}})
        try:
            raise ValueError("no account for {EMAIL}")
        except ValueError as exc:
            span.record_exception(exc)
            span.set_status(trace.Status(trace.StatusCode.ERROR, "failed for {EMAIL}"))
    other.end()
    logins = metrics.get_meter("privacy").create_counter("logins")
    logins.add(1, {{"user": "{EMAIL}", "project.id": "acme-prod"}})
    log.warning("login by %s with card %s", "{EMAIL}", "{CARD}", extra={{"project.id": "acme-prod"}})
    print("app ok")
"""


def _assert_clean(blob: str) -> None:
    for raw in RAW:
        assert raw not in blob, raw


def test_no_raw_pii_reaches_the_store_in_any_signal_and_project_ids_hash_alike(tmp_path: Path) -> None:
    env = clean_env(
        tmp_path,
        TELEMETRY_LOG_BRIDGE="true",
        OTEL_RESOURCE_ATTRIBUTES=f"owner.email={EMAIL},project.id=acme-prod",
    )
    run = run_app(tmp_path, APP, zero_code=True, env=env)
    assert run.returncode == 0, run.stderr
    base = tmp_path / "store"
    blob = "".join(
        line.decode() for signal in ("traces", "metrics", "logs") for line in store_lines(base, signal)
    )
    assert "<EMAIL>" in blob and "<CREDIT_CARD>" in blob and "<API_KEY>" in blob
    _assert_clean(blob)
    assert "acme-prod" not in blob
    (lookup,) = [s for s in spans(base) if s["name"] == "lookup <EMAIL>"]
    values = attrs(lookup["attributes"])
    digest = values["project.id"]
    assert digest.startswith("hmac-sha256:")
    assert values["db.password"] == "<REDACTED>"
    assert values["otel_distro.redacted.EMAIL"] >= 4
    assert lookup["_resource"]["project.id"] == digest
    assert blob.count(digest) >= 4  # span, resource, metric point, log record

    again = run_app(tmp_path, APP, zero_code=True, env=env)  # a restart: the per-install key is kept
    assert again.returncode == 0, again.stderr
    lookups = [s for s in spans(base) if s["name"] == "lookup <EMAIL>"]
    assert len(lookups) == 2
    assert {attrs(s["attributes"])["project.id"] for s in lookups} == {digest}
    assert oct((base / "hash.key").stat().st_mode & 0o777) == "0o600"


def test_redaction_can_be_turned_off_but_hashing_stays(tmp_path: Path) -> None:
    env = clean_env(tmp_path, TELEMETRY_PII_REDACTION="false", TELEMETRY_HASH_KEY="fixed-key")
    run = run_app(tmp_path, APP, zero_code=True, env=env)
    assert run.returncode == 0, run.stderr
    blob = "".join(line.decode() for line in store_lines(tmp_path / "store", "traces"))
    assert EMAIL in blob
    assert "acme-prod" not in blob and "hmac-sha256:" in blob


def test_the_standard_otlp_exporter_receives_redacted_data_only(
    tmp_path: Path, collector: tuple[RotelCollector, RecordingOtlpServer]
) -> None:
    rotel, sink = collector
    env = otlp_env(tmp_path, rotel.grpc_endpoint, TELEMETRY_LOG_BRIDGE="true")
    run = run_app(tmp_path, APP, zero_code=True, env=env)
    assert run.returncode == 0, run.stderr
    assert sink.wait_for_spans(2, timeout=15), rotel.log_text()
    assert sink.wait_for_metrics(1, timeout=15) and sink.wait_for_log_records(1, timeout=15)
    received = repr(sink.spans()) + repr(sink.metrics()) + repr(sink.log_records())
    received += repr(sink.spans_with_resource())
    assert "<EMAIL>" in received
    _assert_clean(received)


def test_configure_and_redaction_with_presidio_open_no_network_connection(tmp_path: Path) -> None:
    source = """
        import socket

        attempts = []
        original = socket.socket.connect

        def guarded(self, address):
            attempts.append(address)
            raise OSError("network disabled by the test")

        socket.socket.connect = guarded
        socket.create_connection = lambda *a, **k: guarded(None, a[0] if a else None)

        import otel_distro
        from opentelemetry import trace
        from processors.pii import PiiRedactor

        from processors.pii.presidio import PresidioScanner

        handle = otel_distro.configure(redaction_presidio=True, redaction_ner_model="en_core_web_sm")
        with trace.get_tracer("t").start_as_current_span(
            "call +1 415-555-2671 or bob@example.com",
            attributes={
                "gen_ai.input.messages": "pay 16Yeky6GMjeNkAiNcBY7ZhrLoMSgg1BoyZ, write to bob@example.com"
            },
        ):
            pass
        PiiRedactor().redact_text("card 4111 1111 1111 1111, +44 20 7946 0958, https://u:p@host.example")
        # presidio's own email recognizer would ask tldextract, which fetches the suffix list
        print(PresidioScanner(entities=["EMAIL_ADDRESS", "URL"]).scan("x@example.com https://a.example"))
        handle.shutdown()
        print("attempts:", attempts)
    """
    run = run_app(tmp_path, source)
    assert run.returncode == 0, run.stderr
    assert "attempts: []" in run.stdout
    [span] = spans(tmp_path / "store")
    assert span["name"] == "call <PHONE_NUMBER> or <EMAIL>"
    assert attrs(span["attributes"])["gen_ai.input.messages"] == "pay <CRYPTO>, write to <EMAIL>"

"""The ``otel-distro`` CLI over a store of known content written through the real SDK."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from opentelemetry import trace as trace_api
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, SpanContext, Status, StatusCode, TraceFlags

from exporters.store.export import JsonlSpanExporter
from exporters.store.files import JsonlStore
from exporters.store.layout import utc_today
from otel_distro import environment_variables as ev
from otel_distro.cli import main

SERVICE = "test-agent"
MS = 1_000_000
HOUR = 3600 * 10**9
DAY = 24 * HOUR


pytestmark = pytest.mark.usefixtures("isolated_settings")


def _run(*args: str, base: Path | None = None) -> Result:
    argv = (["--base-dir", str(base)] if base is not None else []) + list(args)
    return CliRunner().invoke(main, argv, catch_exceptions=False)


def _hex_trace(span: trace_api.Span) -> str:
    return f"{span.get_span_context().trace_id:032x}"


def _hex_span(span: trace_api.Span) -> str:
    return f"{span.get_span_context().span_id:016x}"


@dataclass
class KnownStore:
    base: Path
    trace_a: str
    trace_b: str
    stale_trace: str
    trace_a_start: int
    span_ids: dict[str, str]


def _provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}), shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    return provider, memory


@pytest.fixture
def known(tmp_path: Path) -> KnownStore:
    """Three traces, written in one export call in the order B, A, stale.

    * trace B (started 1 h ago): agent.run 300 ms > llm.chat 100 ms (30 in / 10 out tokens)
    * trace A (started 2 h ago): agent.run 500 ms > llm.chat 200 ms (100 in / 40 out tokens,
      event prompt.sent) > http.request 150 ms; agent.run > tool.call 50 ms, ERROR "tool exploded"
    * stale trace (started 3 days ago): stale.op 1000 ms (999 in / 1 out tokens)
    """
    provider, memory = _provider()
    tracer = provider.get_tracer("test_cli")
    now = time.time_ns()

    b0 = now - HOUR
    root_b = tracer.start_span("agent.run", start_time=b0)
    llm_b = tracer.start_span(
        "llm.chat",
        context=trace_api.set_span_in_context(root_b),
        start_time=b0 + 50 * MS,
        attributes={"gen_ai.usage.input_tokens": 30, "gen_ai.usage.output_tokens": 10},
    )
    llm_b.end(end_time=b0 + 150 * MS)
    root_b.end(end_time=b0 + 300 * MS)

    a0 = now - 2 * HOUR
    root_a = tracer.start_span("agent.run", start_time=a0)
    in_root_a = trace_api.set_span_in_context(root_a)
    llm_a = tracer.start_span(
        "llm.chat",
        context=in_root_a,
        start_time=a0 + 10 * MS,
        attributes={
            "gen_ai.request.model": "tiny-model",
            "gen_ai.usage.input_tokens": 100,
            "gen_ai.usage.output_tokens": 40,
        },
    )
    llm_a.add_event("prompt.sent", attributes={"role": "user", "prompt.length": 5}, timestamp=a0 + 20 * MS)
    http_a = tracer.start_span(
        "http.request", context=trace_api.set_span_in_context(llm_a), start_time=a0 + 30 * MS
    )
    http_a.end(end_time=a0 + 180 * MS)
    llm_a.end(end_time=a0 + 210 * MS)
    tool_a = tracer.start_span("tool.call", context=in_root_a, start_time=a0 + 250 * MS)
    tool_a.set_status(Status(StatusCode.ERROR, "tool exploded"))
    tool_a.end(end_time=a0 + 300 * MS)
    root_a.end(end_time=a0 + 500 * MS)

    s0 = now - 3 * DAY
    stale = tracer.start_span(
        "stale.op",
        start_time=s0,
        attributes={"gen_ai.usage.input_tokens": 999, "gen_ai.usage.output_tokens": 1},
    )
    stale.end(end_time=s0 + 1000 * MS)
    provider.shutdown()

    base = tmp_path / "store"
    store = JsonlStore(base)
    spans = list(memory.get_finished_spans())
    assert len(spans) == 7
    assert JsonlSpanExporter(store).export(spans) is SpanExportResult.SUCCESS, store.stats.last_error
    return KnownStore(
        base=base,
        trace_a=_hex_trace(root_a),
        trace_b=_hex_trace(root_b),
        stale_trace=_hex_trace(stale),
        trace_a_start=a0,
        span_ids={
            "root_a": _hex_span(root_a),
            "llm_a": _hex_span(llm_a),
            "http_a": _hex_span(http_a),
            "tool_a": _hex_span(tool_a),
        },
    )


# Durations within 24 h, sorted: [50, 100, 150, 200, 300, 500] ms. store_query.percentile picks
# sorted[round(q * (n - 1))] with Python's round-half-to-even: p50 -> round(2.5) = 2 -> 150,
# p95 -> round(4.75) = 5 -> 500. With the stale span (n = 7): p50 -> sorted[3] = 200, p95 -> sorted[6] = 1000.


# --- stats -------------------------------------------------------------------------------------------


def _stats_json(known: KnownStore, *extra: str) -> dict[str, Any]:
    result = _run("stats", "--json", *extra, base=known.base)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_stats_json_reports_exact_counts_percentiles_names_and_tokens_of_the_last_24h(
    known: KnownStore,
) -> None:
    data = _stats_json(known)

    assert data["store"] == str(known.base)
    assert data["spans"] == 6
    assert data["traces"] == 2
    assert data["errors"] == 1
    assert data["error_rate"] == round(1 / 6, 4)
    assert data["p50_ms"] == 150.0
    assert data["p95_ms"] == 500.0
    assert {item["name"]: item["count"] for item in data["top_names"]} == {
        "agent.run": 2,
        "llm.chat": 2,
        "http.request": 1,
        "tool.call": 1,
    }
    counts = [item["count"] for item in data["top_names"]]
    assert counts == sorted(counts, reverse=True)
    assert data["tokens"] == {"gen_ai.usage.input_tokens": 130, "gen_ai.usage.output_tokens": 50}
    assert data["services"] == {SERVICE: 6}


def test_stats_excludes_spans_started_before_since(known: KnownStore) -> None:
    last_90_minutes = _stats_json(known, "--since", "90m")
    last_4_days = _stats_json(known, "--since", "4d")

    assert (last_90_minutes["spans"], last_90_minutes["traces"]) == (2, 1)
    assert last_90_minutes["errors"] == 0
    assert last_90_minutes["tokens"] == {"gen_ai.usage.input_tokens": 30, "gen_ai.usage.output_tokens": 10}
    assert (last_4_days["spans"], last_4_days["traces"]) == (7, 3)
    assert last_4_days["p50_ms"] == 200.0
    assert last_4_days["p95_ms"] == 1000.0
    assert last_4_days["tokens"] == {"gen_ai.usage.input_tokens": 1129, "gen_ai.usage.output_tokens": 51}
    assert "stale.op" in {item["name"] for item in last_4_days["top_names"]}


def test_stats_top_limits_the_listed_span_names_to_the_most_common(known: KnownStore) -> None:
    data = _stats_json(known, "--top", "2")

    assert {item["name"] for item in data["top_names"]} == {"agent.run", "llm.chat"}


def test_stats_human_output_shows_the_same_numbers(known: KnownStore) -> None:
    result = _run("stats", base=known.base)

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"store:       {known.base}\n" in out
    assert "spans:       6 in 2 traces\n" in out
    assert "errors:      1 (16.7%)\n" in out
    assert "duration:    p50 150.0 ms, p95 500.0 ms\n" in out
    assert f"services:    {SERVICE} (6)\n" in out
    assert re.search(r"^  agent\.run +2$", out, re.MULTILINE)
    assert re.search(r"^  llm\.chat +2$", out, re.MULTILINE)
    assert re.search(r"^  http\.request +1$", out, re.MULTILINE)
    assert re.search(r"^  tool\.call +1$", out, re.MULTILINE)
    assert "  gen_ai.usage.input_tokens: 130\n" in out
    assert "  gen_ai.usage.output_tokens: 50\n" in out
    assert "stale.op" not in out


def test_stats_of_an_empty_or_missing_store_reports_zero(tmp_path: Path) -> None:
    result = _run("stats", "--json", base=tmp_path / "does-not-exist")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["spans"], data["traces"], data["errors"], data["error_rate"]) == (0, 0, 0, 0.0)
    assert data["top_names"] == []
    assert data["tokens"] == {}


def test_stats_rejects_an_unparseable_since(known: KnownStore) -> None:
    result = _run("stats", "--since", "yesterday", base=known.base)

    assert result.exit_code == 2
    assert "not a duration" in result.output


def test_stats_uses_telemetry_base_dir_when_no_base_dir_option(
    known: KnownStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ev.TELEMETRY_BASE_DIR, str(known.base))

    result = _run("stats", "--json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["store"] == str(known.base)
    assert data["spans"] == 6


def test_endpoint_credentials_are_masked_in_stats_and_config_show(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An endpoint's user info and query values (a password, an api key, a signature) are what
    `stats` and `config show` print last: terminals and CI logs keep them."""
    endpoint = "http://ingest:Sup3rS3cretPw@127.0.0.1:27199/ingest?api_key=ENDPOINTKEY123&sig=S1GN"
    monkeypatch.setenv(ev.TELEMETRY_BASE_DIR, str(tmp_path / "store"))
    monkeypatch.setenv(ev.TELEMETRY_ENDPOINT, endpoint)
    monkeypatch.setenv(ev.TELEMETRY_UPLOAD_ENDPOINT, "https://TOKEN123456@collector.example/otlp")
    outputs = [
        _run(*args).output
        for args in (("stats",), ("stats", "--json"), ("config", "show"), ("config", "show", "--json"))
    ]
    for output in outputs:
        for secret in ("Sup3rS3cretPw", "ENDPOINTKEY123", "S1GN", "TOKEN123456"):
            assert secret not in output, (secret, output)
    assert "http://***@127.0.0.1:27199/ingest?api_key=***&sig=***" in outputs[1]
    assert "https://***@collector.example/otlp" in outputs[3]


def test_shown_url_masks_user_info_and_query_values_only() -> None:
    from otel_distro.runtime.urls import shown_url

    assert shown_url("https://cloud.langfuse.com/api") == "https://cloud.langfuse.com/api"
    assert shown_url("http://[::1]:4318/v1/traces") == "http://[::1]:4318/v1/traces"
    assert shown_url("https://u:pw@h:8443/p?a=1&flag#frag") == "https://***@h:8443/p?a=***&***"
    assert shown_url("not a url") == "***"
    assert shown_url("http://host:99999/x") == "http://***"  # an unreadable port: nothing shown


def test_stats_counts_spans_written_by_separate_export_calls(tmp_path: Path) -> None:
    # The usual pipeline: one export call (one appended line) per span or batch.
    store = JsonlStore(tmp_path / "store")
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}), shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(JsonlSpanExporter(store)))
    tracer = provider.get_tracer("test_cli")
    for index in range(3):
        with tracer.start_as_current_span(f"op-{index}"):
            pass
    provider.shutdown()

    data = json.loads(_run("stats", "--json", base=store.base_dir).stdout)

    assert data["spans"] == 3, store.stats.last_error
    assert data["traces"] == 3


def test_stats_adds_tokens_of_every_genai_convention_once_and_shows_redactions(tmp_path: Path) -> None:
    from instrumentations.genai_view import DUPLICATE_OF

    store = JsonlStore(tmp_path / "store")
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}), shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(JsonlSpanExporter(store)))
    tracer = provider.get_tracer("test_cli")
    for attributes in (
        {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 1},
        {"llm.request.type": "chat", "gen_ai.usage.prompt_tokens": 20, "gen_ai.usage.completion_tokens": 2},
        {"openinference.span.kind": "LLM", "llm.token_count.prompt": 30, "llm.token_count.completion": 3},
        # the same call again, from a second instrumentation: not counted twice
        {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 10, DUPLICATE_OF: "ab" * 8},
        {"otel_distro.redacted.EMAIL": 2, "otel_distro.redacted.PHONE_NUMBER": 1},
    ):
        with tracer.start_as_current_span("call", attributes=attributes):
            pass
    provider.shutdown()

    data = json.loads(_run("stats", "--json", base=store.base_dir).stdout)
    assert data["tokens"] == {"gen_ai.usage.input_tokens": 60, "gen_ai.usage.output_tokens": 6}
    assert data["redacted"] == {"EMAIL": 2, "PHONE_NUMBER": 1}
    text = _run("stats", base=store.base_dir).stdout
    assert "redacted:    EMAIL 2, PHONE_NUMBER 1" in text


# --- trace -------------------------------------------------------------------------------------------


def test_trace_prints_the_tree_indented_with_durations_event_and_error_status(known: KnownStore) -> None:
    result = _run("trace", known.trace_a, base=known.base)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"trace {known.trace_a} (4 spans)",
        f"agent.run  500.00 ms  [{SERVICE}]",
        f"  llm.chat  200.00 ms  [{SERVICE}]",
        "    * prompt.sent (role=user, prompt.length=5)",
        f"    http.request  150.00 ms  [{SERVICE}]",
        f"  tool.call  50.00 ms  [{SERVICE}]  ERROR: tool exploded",
    ]


def test_trace_json_lists_spans_depth_first_with_parents_status_attributes_and_events(
    known: KnownStore,
) -> None:
    result = _run("trace", known.trace_a, "--json", base=known.base)

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["trace_id"] == known.trace_a
    spans = data["spans"]
    ids = known.span_ids
    assert [(s["depth"], s["name"], s["span_id"], s["parent_span_id"]) for s in spans] == [
        (0, "agent.run", ids["root_a"], None),
        (1, "llm.chat", ids["llm_a"], ids["root_a"]),
        (2, "http.request", ids["http_a"], ids["llm_a"]),
        (1, "tool.call", ids["tool_a"], ids["root_a"]),
    ]
    assert [s["duration_ms"] for s in spans] == [500.0, 200.0, 150.0, 50.0]
    assert all(s["service"] == SERVICE for s in spans)
    assert spans[0]["start_unix_nano"] == known.trace_a_start
    root, llm, http, tool = spans
    assert tool["status"] == {"code": 2, "message": "tool exploded"}
    assert root["status"] == {"code": 0, "message": ""}
    assert llm["attributes"] == {
        "gen_ai.request.model": "tiny-model",
        "gen_ai.usage.input_tokens": 100,
        "gen_ai.usage.output_tokens": 40,
    }
    assert llm["events"] == [{"name": "prompt.sent", "attributes": {"role": "user", "prompt.length": 5}}]
    assert root["events"] == http["events"] == tool["events"] == []


def test_trace_accepts_an_uppercase_trace_id(known: KnownStore) -> None:
    result = _run("trace", known.trace_b.upper(), base=known.base)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"trace {known.trace_b} (2 spans)"


def test_trace_last_shows_the_trace_with_the_newest_root_not_the_last_written(known: KnownStore) -> None:
    # Trace B started most recently but was written before trace A and the stale trace.
    result = _run("trace", "last", base=known.base)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"trace {known.trace_b} (2 spans)"
    assert lines[1:] == [f"agent.run  300.00 ms  [{SERVICE}]", f"  llm.chat  100.00 ms  [{SERVICE}]"]


def test_trace_last_json_names_the_newest_trace(known: KnownStore) -> None:
    result = _run("trace", "last", "--json", base=known.base)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["trace_id"] == known.trace_b


def test_trace_last_finds_a_trace_whose_local_root_has_a_remote_parent(tmp_path: Path) -> None:
    # A service called by another one: its local root span carries the caller's parentSpanId.
    provider, memory = _provider()
    tracer = provider.get_tracer("test_cli")
    caller = SpanContext(
        trace_id=0x0AF7651916CD43DD8448EB211C80319C,
        span_id=0xB7AD6B7169203331,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    server = tracer.start_span(
        "handle.request", context=trace_api.set_span_in_context(NonRecordingSpan(caller))
    )
    server.end()
    provider.shutdown()
    store = JsonlStore(tmp_path / "store")
    assert JsonlSpanExporter(store).export(memory.get_finished_spans()) is SpanExportResult.SUCCESS

    result = _run("trace", "last", base=store.base_dir)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "trace 0af7651916cd43dd8448eb211c80319c (1 spans)"


def test_trace_last_passes_over_a_newer_span_without_a_trace_id(known: KnownStore) -> None:
    """A span with an empty trace id (valid protobuf) is no trace to show: the newest real one is."""
    files = sorted((known.base / "traces").glob("*.jsonl"))
    line = json.loads(files[-1].read_bytes().splitlines()[0])
    span = line["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    odd = {**span, "traceId": "", "spanId": "00000000000000aa", "startTimeUnixNano": str(time.time_ns())}
    odd.pop("parentSpanId", None)
    line["resourceSpans"][0]["scopeSpans"][0]["spans"] = [odd]
    with files[-1].open("ab") as out:
        out.write(json.dumps(line).encode() + b"\n")

    result = _run("trace", "last", base=known.base)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith(f"trace {known.trace_b} ")


def test_trace_of_an_unknown_id_exits_1_with_a_message(known: KnownStore) -> None:
    result = _run("trace", "0" * 32, base=known.base)

    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"trace {'0' * 32} not found in {known.base}" in result.stderr


def test_trace_last_of_an_empty_store_exits_1(tmp_path: Path) -> None:
    result = _run("trace", "last", base=tmp_path / "empty")

    assert result.exit_code == 1
    assert "not found" in result.stderr


# --- purge -------------------------------------------------------------------------------------------


def _dated_files(base: Path, *days_ago: int) -> dict[int, Path]:
    paths = {}
    for days in days_ago:
        path = base / "traces" / f"{(utc_today() - dt.timedelta(days=days)).isoformat()}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}\n")
        paths[days] = path
    return paths


@pytest.fixture
def dated(tmp_path: Path) -> tuple[Path, dict[int, Path], Path]:
    base = tmp_path / "store"
    paths = _dated_files(base, 40, 10, 0)
    foreign = base / "traces" / "keep-me.txt"
    foreign.write_text("mine\n")
    return base, paths, foreign


def test_purge_without_options_removes_files_older_than_the_default_30_day_retention(
    dated: tuple[Path, dict[int, Path], Path],
) -> None:
    base, paths, foreign = dated

    result = _run("purge", base=base)

    assert result.exit_code == 0, result.output
    assert not paths[40].exists()
    assert paths[10].exists() and paths[0].exists() and foreign.exists()
    assert f"removed {paths[40]}\n" in result.stdout
    assert f"1 file(s) removed from {base}" in result.stdout


def test_purge_follows_telemetry_retention_days(
    dated: tuple[Path, dict[int, Path], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, paths, _ = dated
    monkeypatch.setenv(ev.TELEMETRY_RETENTION_DAYS, "5")

    result = _run("purge", "--json", base=base)

    assert result.exit_code == 0, result.output
    assert sorted(json.loads(result.stdout)["removed"]) == sorted([str(paths[40]), str(paths[10])])
    assert paths[0].exists()


def test_purge_older_than_removes_older_files_and_keeps_today(
    dated: tuple[Path, dict[int, Path], Path],
) -> None:
    base, paths, foreign = dated

    result = _run("purge", "--older-than", "7d", "--json", base=base)

    assert result.exit_code == 0, result.output
    assert sorted(json.loads(result.stdout)["removed"]) == sorted([str(paths[40]), str(paths[10])])
    assert paths[0].exists() and foreign.exists()


def test_purge_all_removes_every_dated_file_but_not_foreign_ones(
    dated: tuple[Path, dict[int, Path], Path],
) -> None:
    base, paths, foreign = dated

    result = _run("purge", "--all", "--json", base=base)

    assert result.exit_code == 0, result.output
    assert sorted(json.loads(result.stdout)["removed"]) == sorted(str(path) for path in paths.values())
    assert not any(path.exists() for path in paths.values())
    assert foreign.read_text() == "mine\n"


def test_purge_all_makes_stats_empty(known: KnownStore) -> None:
    assert _run("purge", "--all", base=known.base).exit_code == 0

    assert _stats_json(known, "--since", "30d")["spans"] == 0


def test_purge_rejects_an_unparseable_older_than(dated: tuple[Path, dict[int, Path], Path]) -> None:
    base, paths, _ = dated

    result = _run("purge", "--older-than", "forever", base=base)

    assert result.exit_code == 2
    assert all(path.exists() for path in paths.values())


# --- config ------------------------------------------------------------------------------------------


def test_config_check_passes_with_a_clean_environment() -> None:
    result = _run("config", "check")

    assert result.exit_code == 0, result.output
    assert result.stdout == "configuration OK\n"
    assert result.stderr == ""


def test_config_check_fails_naming_the_key_of_an_invalid_retention(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ev.TELEMETRY_RETENTION_DAYS, "abc")

    result = _run("config", "check")

    assert result.exit_code == 1
    assert "TELEMETRY_RETENTION_DAYS" in result.stderr
    assert "'abc'" in result.stderr
    assert "configuration OK" not in result.stdout


def test_config_check_reports_a_missing_named_config_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "telemetry.toml"
    monkeypatch.setenv(ev.TELEMETRY_CONFIG, str(missing))

    result = _run("config", "check")

    assert result.exit_code == 1
    assert str(missing) in result.stderr


def test_config_show_json_masks_the_langfuse_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-lf-very-secret-value"
    monkeypatch.setenv(ev.LANGFUSE_SECRET_KEY, secret)
    monkeypatch.setenv(ev.LANGFUSE_PUBLIC_KEY, "pk-lf-public")

    result = _run("config", "show", "--json")

    assert result.exit_code == 0, result.output
    assert secret not in result.output
    data = json.loads(result.stdout)
    options = {row["name"]: row for row in data["options"]}
    assert options["langfuse_secret_key"]["value"] == "***"
    assert options["langfuse_secret_key"]["source"] == ev.LANGFUSE_SECRET_KEY
    assert options["langfuse_public_key"]["value"] == "pk-lf-public"
    assert options["retention_days"] == {**options["retention_days"], "value": 30, "source": "default"}
    assert data["config_file"] is None
    assert data["problems"] == []


def test_config_show_human_output_masks_the_langfuse_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-lf-very-secret-value"
    monkeypatch.setenv(ev.LANGFUSE_SECRET_KEY, secret)

    result = _run("config", "show")

    assert result.exit_code == 0, result.output
    assert secret not in result.output
    assert re.search(r'^langfuse_secret_key +"\*\*\*"  \(LANGFUSE_SECRET_KEY\)$', result.stdout, re.MULTILINE)


# --- help --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ([], "--base-dir"),
        (["stats"], "--since"),
        (["trace"], "TRACE_ID"),
        (["purge"], "--older-than"),
        (["config"], "check"),
        (["config", "show"], "secrets masked"),
        (["config", "check"], "Exit non-zero"),
    ],
    ids=lambda value: " ".join(value) or "main" if isinstance(value, list) else None,
)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_works_for_every_command(command: list[str], expected: str, flag: str) -> None:
    result = _run(*command, flag)

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Usage: ")
    assert expected in result.stdout


def test_stats_counts_log_records_in_the_window_and_those_at_error_or_above(tmp_path: Path) -> None:
    from opentelemetry._logs import SeverityNumber
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor

    from exporters.store.export import JsonlLogExporter

    base = tmp_path / "store"
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(SimpleLogRecordProcessor(JsonlLogExporter(JsonlStore(base))))
    logger = provider.get_logger("cli-test")
    now = time.time_ns()
    for severity in (SeverityNumber.INFO, SeverityNumber.WARN, SeverityNumber.ERROR, SeverityNumber.FATAL):
        logger.emit(body=f"{severity.name} now", severity_number=severity, timestamp=now)
    logger.emit(body="old error", severity_number=SeverityNumber.ERROR, timestamp=now - 3 * DAY)
    provider.shutdown()

    data = json.loads(_run("stats", "--json", base=base).output)
    assert (data["log_records"], data["log_errors"]) == (4, 2)
    wide = json.loads(_run("stats", "--since", "4d", "--json", base=base).output)
    assert (wide["log_records"], wide["log_errors"]) == (5, 3)
    assert "log records: 4 (2 at ERROR or above)" in _run("stats", base=base).output


def test_config_check_also_rejects_unknown_sampler_and_exporter_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "bogus")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "nosuch")
    result = CliRunner().invoke(main, ["config", "check"])
    assert result.exit_code == 1
    assert "OTEL_TRACES_SAMPLER='bogus'" in result.output
    assert "OTEL_TRACES_EXPORTER names 'nosuch'" in result.output


def test_jsonl_entry_points_build_without_arguments_from_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from importlib.metadata import entry_points

    monkeypatch.setenv("TELEMETRY_BASE_DIR", str(tmp_path / "ep-store"))
    for group in (
        "opentelemetry_traces_exporter",
        "opentelemetry_metrics_exporter",
        "opentelemetry_logs_exporter",
    ):
        (point,) = entry_points(group=group, name="jsonl")
        exporter = point.load()()  # how the SDK's own configurator builds exporters
        assert exporter.store.base_dir == tmp_path / "ep-store"
    provider, memory = _provider()
    provider.get_tracer("t").start_span("via-entry-point").end()
    (point,) = entry_points(group="opentelemetry_traces_exporter", name="jsonl")
    assert point.load()().export(memory.get_finished_spans()) is SpanExportResult.SUCCESS
    assert "via-entry-point" in _run("trace", "last", base=tmp_path / "ep-store").output


# -- malformed records and unreadable files (issue 21 items 11, 13) ---------------------------


@pytest.mark.parametrize(
    "line",
    [
        b'{"resourceSpans": 5}',
        b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "soon"}]}]}]}',
        b'{"resourceSpans": [{"scopeSpans": [{"spans": [5]}]}]}',
        b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"attributes": {"a": 1}}]}]}]}',
        b'{"resourceLogs": [{"scopeLogs": "x"}]}',
        b"[1, 2]",
    ],
)
def test_query_commands_skip_and_count_records_of_the_wrong_shape(known: KnownStore, line: bytes) -> None:
    signal = "logs" if b"resourceLogs" in line else "traces"
    path = known.base / signal / f"{utc_today().isoformat()}.jsonl"
    path.parent.mkdir(exist_ok=True)
    with path.open("ab") as handle:
        handle.write(line + b"\n")
    stats = _run("stats", "--json", base=known.base)
    assert stats.exit_code == 0, stats.output
    data = json.loads(stats.stdout)
    assert data["malformed_records"] == 1 and data["unreadable_files"] == []
    assert data["spans"] > 0  # the good records still count
    assert _run("compliance", "--json", base=known.base).exit_code == 0
    shown = _run("trace", known.trace_a, base=known.base)
    assert shown.exit_code == 0 and known.trace_a in shown.stdout
    assert "malformed" in shown.stderr or signal == "logs" or b"traceId" not in line


def test_query_commands_name_an_unreadable_store_file_and_exit_1(known: KnownStore) -> None:
    # A dated name that cannot be read as a file (a directory: unreadable even for root).
    path = known.base / "traces" / f"{(utc_today() - dt.timedelta(days=1)).isoformat()}.jsonl"
    if path.exists():
        path.unlink()
    path.mkdir()
    stats = _run("stats", "--json", base=known.base)
    assert stats.exit_code == 1
    assert str(path) in stats.stderr
    assert json.loads(stats.stdout)["unreadable_files"]
    compliance = _run("compliance", base=known.base)
    assert compliance.exit_code == 1 and str(path) in compliance.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("upload", "--endpoint", "127.0.0.1:4318"),
        ("upload", "--endpoint", "http://[::1"),
        ("upload", "--endpoint", "http://127.0.0.1:9", "--header", "a=\u00e9"),
    ],
)
def test_upload_refuses_an_endpoint_or_header_it_could_never_send_to_at_once(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    result = _run(*args, base=tmp_path)
    assert result.exit_code == 2 and "Invalid value" in result.output  # not 50 s of retries


def test_bundle_and_export_into_a_folder_that_cannot_be_made_say_so_without_a_traceback(
    tmp_path: Path,
) -> None:
    result = _run("bundle", "-o", str(tmp_path / "missing" / "x" / "b.tar.gz"), base=tmp_path)
    assert result.exit_code == 1 and "cannot write" in result.output
    (tmp_path / "traces").mkdir()
    (tmp_path / "traces" / "2026-01-01.jsonl").write_text('{"resourceSpans": []}\n')
    (tmp_path / "blocker").write_text("a file, not a folder")
    result = _run("store", "export", "-o", str(tmp_path / "blocker" / "out"), base=tmp_path)
    assert result.exit_code == 1 and "cannot write" in result.output


@pytest.mark.parametrize("saved", ["[]", "null", '"s"', "5", '{"delivered_records": "x", "last_error": 7}'])
def test_stats_and_bundle_read_a_conversation_log_state_of_the_wrong_shape_as_none(
    tmp_path: Path, saved: str
) -> None:
    """A review of issue 21: a state.json holding a list or a number made stats, bundle and the
    serve API end in a traceback (TypeError: 'list' object is not a mapping)."""
    cache = tmp_path / "cache" / "conversation_log"
    cache.mkdir(parents=True)
    (cache / "state.json").write_text(saved)
    result = _run("stats", "--json", base=tmp_path)
    assert result.exit_code == 0, result.output
    state = json.loads(result.stdout)["conversation_log"]
    assert state["cached_spans"] == 0 and "last_error" not in state and "delivered_records" not in state
    assert _run("stats", base=tmp_path).exit_code == 0
    bundle = _run("bundle", "--output", str(tmp_path / "b.tar.gz"), base=tmp_path)
    assert bundle.exit_code == 0, bundle.output


def test_stats_and_trace_name_store_files_that_are_links_to_nothing_or_a_loop(tmp_path: Path) -> None:
    """A review of issue 21: a dangling link and a loop of links in traces/ were passed over in
    silence: stats said 0 spans with exit 0, trace said "not found"."""
    traces = tmp_path / "traces"
    traces.mkdir()
    (traces / "2026-12-01.jsonl").symlink_to(tmp_path / "nowhere.jsonl")
    (traces / "2026-12-02.jsonl").symlink_to(traces / "2026-12-02.jsonl")  # itself: a loop
    stats = _run("stats", "--json", base=tmp_path)
    assert stats.exit_code == 1
    named = json.loads(stats.stdout)["unreadable_files"]
    assert len(named) == 2 and all("link" in where for where in named), named
    trace = _run("trace", "5ecd" + "0" * 28, base=tmp_path)
    assert trace.exit_code == 1
    assert "2026-12-01.jsonl" in trace.output and "not found in the files that could be read" in trace.output


def test_stats_counts_what_waits_for_a_conversation_log_that_never_delivered_anything(
    known: KnownStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A review of issue 21: after a process whose endpoint refused everything (413), no position
    had been saved, and stats said 0 spans waited (it looked for a cache of its own)."""
    monkeypatch.setenv(ev.TELEMETRY_ENDPOINT, "http://127.0.0.1:9/v1/conversations")
    result = _run("stats", "--json", base=known.base)
    assert result.exit_code == 0, result.output
    state = json.loads(result.stdout)["conversation_log"]
    assert state["follows_store"] is True and state["cached_spans"] == 7, state

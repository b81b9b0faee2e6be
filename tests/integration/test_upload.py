"""``otel-distro upload``: the store to a real OTLP collector (rotel-agent) and to endpoints with faults."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.support.collector import RecordingOtlpServer, RotelCollector
from tests.support.endpoint import Fault, FaultyEndpoint
from tests.support.proc import clean_env, log_records, run_app, spans

CLI = str(Path(sys.executable).parent / "otel-distro")  # the console script of this environment

# Traces, logs and metrics in the store: 3 lines of spans (a flush after each group), a log
# record per group, and the run counter.
WRITE_STORE = """
    import logging, sys
    import otel_distro
    from opentelemetry import metrics, trace

    handle = otel_distro.configure(service_name="upload-test", log_bridge=True)
    tracer = trace.get_tracer("upload")
    runs = metrics.get_meter("upload").create_counter("runs")
    logger = logging.getLogger("upload")
    logger.setLevel(logging.INFO)
    groups, per_group, text = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    for group in range(groups):
        for index in range(per_group):
            with tracer.start_as_current_span(f"step {group}-{index}") as span:
                span.set_attribute("payload", "x" * text)
        runs.add(1)
        logger.info("group %d done", group)
        handle.force_flush()
    handle.shutdown()
"""


def write_store(tmp: Path, groups: int = 3, per_group: int = 10, text: int = 10) -> Path:
    script = tmp / "write.py"
    script.write_text(WRITE_STORE.replace("\n    ", "\n"))
    done = subprocess.run(
        [sys.executable, str(script), str(groups), str(per_group), str(text)],
        env=clean_env(tmp),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return tmp / "store"


def upload(tmp: Path, *args: str, timeout: float = 120) -> tuple[int, dict[str, Any], str]:
    done = subprocess.run(
        [CLI, "upload", "--json", *args],
        env=clean_env(tmp),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    report = json.loads(done.stdout) if done.stdout.strip() else {}
    return done.returncode, report, done.stderr


def stored_span_ids(store: Path) -> list[str]:
    return [span["spanId"] for span in spans(store)]


class OtlpEndpoint(FaultyEndpoint):
    """Records the span ids of each accepted OTLP/HTTP protobuf trace request."""

    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self.span_ids: list[str] = []
        self.paths: list[str] = []
        self.arrivals: list[tuple[float, int]] = []  # (wall time, spans in the request)

    def receive(self, path: str, headers: dict[str, str], raw: bytes) -> int:
        with self._cond:
            self.paths.append(path)
            if path == "/v1/traces":
                request = ExportTraceServiceRequest.FromString(raw)
                ids = [
                    span.span_id.hex()
                    for resource in request.resource_spans
                    for scope in resource.scope_spans
                    for span in scope.spans
                ]
                self.span_ids += ids
                self.arrivals.append((time.time(), len(ids)))
        return 200

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def test_every_stored_record_reaches_a_real_collector_once_and_a_rerun_sends_nothing(
    tmp_path: Path, collector: tuple[RotelCollector, RecordingOtlpServer]
) -> None:
    rotel, sink = collector
    store = write_store(tmp_path)
    expected = stored_span_ids(store)
    assert len(expected) == 30 and log_records(store)

    code, report, stderr = upload(tmp_path, "--endpoint", rotel.http_endpoint)
    assert code == 0, stderr
    assert report["complete"] and report["signals"]["traces"]["records"] == 30
    assert report["signals"]["logs"]["records"] == len(log_records(store))
    assert report["signals"]["metrics"]["records"] >= 1
    assert sink.wait_for_spans(30, timeout=15), rotel.log_text()
    assert sink.wait_until(lambda: len(sink.log_records()) >= 3 and len(sink.metrics()) >= 1, timeout=15)
    assert sorted(span.span_id.hex() for span in sink.spans()) == sorted(expected)
    assert {r.body.string_value for r in sink.log_records()} >= {"group 0 done", "group 2 done"}

    code, again, _ = upload(tmp_path, "--endpoint", rotel.http_endpoint)
    assert code == 0
    assert all(counts["records"] == 0 for counts in again["signals"].values())
    time.sleep(0.5)  # rotel's batch timeout is 100 ms: anything sent would have arrived
    assert len(sink.spans()) == 30

    code, forced, _ = upload(tmp_path, "--endpoint", rotel.http_endpoint, "--force")
    assert code == 0 and forced["signals"]["traces"]["records"] == 30  # --force resends everything
    assert sink.wait_for_spans(60, timeout=15)


def test_dry_run_counts_what_would_go_and_sends_nothing(tmp_path: Path) -> None:
    store = write_store(tmp_path, groups=2, per_group=4)
    with OtlpEndpoint() as endpoint:
        code, report, _ = upload(tmp_path, "--endpoint", endpoint.base, "--dry-run")
        assert code == 0 and report["dry_run"] and report["signals"]["traces"]["records"] == 8
        assert endpoint.attempts == []
        code, report, _ = upload(tmp_path, "--endpoint", endpoint.base)  # the dry run recorded nothing
        assert report["signals"]["traces"]["records"] == 8
        assert sorted(endpoint.span_ids) == sorted(stored_span_ids(store))


def test_503_429_and_a_dropped_connection_are_retried_and_nothing_is_lost_or_doubled(tmp_path: Path) -> None:
    store = write_store(tmp_path, groups=2, per_group=5)
    with OtlpEndpoint() as endpoint:
        endpoint.fail(Fault(status=503), Fault(status=429, retry_after="0"), Fault(drop=True))
        code, _, stderr = upload(tmp_path, "--endpoint", endpoint.base)
        assert code == 0, stderr
        assert [status for status, _ in endpoint.attempts[:3]] == [503, 429, "dropped"]
        assert sorted(endpoint.span_ids) == sorted(stored_span_ids(store))
        assert all(headers.get("content-encoding") == "gzip" for _, headers in endpoint.attempts)
        assert all(
            headers.get("content-type") == "application/x-protobuf" for _, headers in endpoint.attempts
        )
        assert set(endpoint.paths) == {"/v1/traces", "/v1/metrics", "/v1/logs"}


def test_a_400_is_reported_not_retried_and_not_sent_again(tmp_path: Path) -> None:
    write_store(tmp_path, groups=1, per_group=3)
    with OtlpEndpoint() as endpoint:
        endpoint.fail(Fault(status=400))
        code, report, stderr = upload(tmp_path, "--endpoint", endpoint.base)
        assert code == 1  # incomplete: the endpoint refused records
        assert report["signals"]["traces"]["rejected"] == 3 and report["signals"]["traces"]["records"] == 0
        assert [status for status, _ in endpoint.attempts].count(400) == 1  # not retried
        assert "refused" in stderr
        stats = subprocess.run(
            [CLI, "stats", "--json"], env=clean_env(tmp_path), capture_output=True, text=True, check=False
        )
        assert json.loads(stats.stdout)["dropped"].get("upload_refused") == 3, stats.stdout  # stats shows it
        assert report["signals"]["logs"]["records"] >= 1  # the other signals still went
        code, again, _ = upload(tmp_path, "--endpoint", endpoint.base)
        assert (
            code == 0 and again["signals"]["traces"]["records"] == again["signals"]["traces"]["rejected"] == 0
        )
        assert endpoint.span_ids == []


class LimitedEndpoint(OtlpEndpoint):
    """Answers 413 to a request body (decompressed) over ``limit`` bytes, as a proxy would."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def receive(self, path: str, headers: dict[str, str], raw: bytes) -> int:
        return 413 if len(raw) > self.limit else super().receive(path, headers, raw)


def test_a_store_line_too_large_for_the_endpoint_is_sent_record_by_record(tmp_path: Path) -> None:
    """A 413 halves a request down to one store line, then the line down to one record: only a
    record still too large is refused (and counted); a review saw whole lines dropped for good."""
    store = write_store(tmp_path, groups=3, per_group=10, text=2000)  # lines of ~20 KB, spans ~2 KB
    with LimitedEndpoint(limit=8_000) as endpoint:
        code, report, stderr = upload(tmp_path, "--endpoint", endpoint.base, "--signals", "traces")
        assert code == 0, stderr
        traces = report["signals"]["traces"]
        assert traces["records"] == 30 and traces["too_large"] == 0, report
        assert sorted(endpoint.span_ids) == sorted(stored_span_ids(store))
    (tmp_path / "two").mkdir()
    store2 = write_store(tmp_path / "two", groups=1, per_group=3, text=20_000)  # each span too large
    with LimitedEndpoint(limit=8_000) as endpoint:
        code, report, _ = upload(tmp_path / "two", "--endpoint", endpoint.base, "--signals", "traces")
        assert report["signals"]["traces"]["too_large"] == 3 and report["signals"]["traces"]["records"] == 0
        assert endpoint.span_ids == [] and len(stored_span_ids(store2)) == 3


def test_a_401_stops_the_upload_and_a_rerun_with_the_right_header_resumes(tmp_path: Path) -> None:
    store = write_store(tmp_path, groups=1, per_group=3)
    with OtlpEndpoint() as endpoint:
        endpoint.fail(Fault(status=401))
        code, report, stderr = upload(
            tmp_path, "--endpoint", endpoint.base, "--header", "authorization=Bearer x"
        )
        assert code == 1 and "401" in (report["error"] or ""), stderr
        assert endpoint.attempts[0][1]["authorization"] == "Bearer x"
        code, report, _ = upload(tmp_path, "--endpoint", endpoint.base)
        assert code == 0 and sorted(endpoint.span_ids) == sorted(stored_span_ids(store))


def test_a_killed_upload_resumes_without_sending_anything_twice(tmp_path: Path) -> None:
    # Four lines of ~1 MB: more than one request. The second request is held unanswered while the
    # upload is killed; the rerun sends it and the rest, and never the first again.
    store = write_store(tmp_path, groups=4, per_group=10, text=100_000)
    expected = stored_span_ids(store)
    with OtlpEndpoint() as endpoint:
        endpoint.fail(Fault(), Fault(status=503, delay=30))
        proc = subprocess.Popen(
            [CLI, "upload", "--json", "--endpoint", endpoint.base],
            env=clean_env(tmp_path),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not endpoint.span_ids and time.monotonic() < deadline:
            time.sleep(0.05)
        first = len(endpoint.span_ids)
        assert 0 < first < 40
        time.sleep(1.0)  # the second request is on its way and held
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        code, report, stderr = upload(tmp_path, "--endpoint", endpoint.base)
        assert code == 0, stderr
        assert report["signals"]["traces"]["records"] == 40 - first
        assert sorted(endpoint.span_ids) == sorted(expected)  # each span once


def test_upload_without_an_endpoint_says_how_to_give_one(tmp_path: Path) -> None:
    code, _, stderr = upload(tmp_path)
    assert code == 2 and "TELEMETRY_UPLOAD_ENDPOINT" in stderr


def test_continuous_upload_sends_the_store_while_the_app_runs_and_at_exit(tmp_path: Path) -> None:
    app = """
        import time
        import otel_distro
        from opentelemetry import trace

        handle = otel_distro.configure()
        tracer = trace.get_tracer("bg")
        for index in range(5):
            tracer.start_span(f"early {index}").end()
        handle.force_flush()
        time.sleep(2.5)  # a pass runs every second
        for index in range(5):
            tracer.start_span(f"late {index}").end()
        print(time.time(), flush=True)
        handle.shutdown()  # the last pass sends the late ones
    """
    with OtlpEndpoint() as endpoint:
        env = clean_env(
            tmp_path,
            TELEMETRY_UPLOAD_ENABLED="true",
            TELEMETRY_UPLOAD_ENDPOINT=endpoint.base,
            TELEMETRY_UPLOAD_INTERVAL_SECS="1",
        )
        done = run_app(tmp_path, app, env=env)
        assert done.returncode == 0, done.stderr
        shutdown_at = float(done.stdout.split()[-1])
        assert sum(count for at, count in endpoint.arrivals if at < shutdown_at) == 5  # while it ran
        assert sorted(endpoint.span_ids) == sorted(stored_span_ids(tmp_path / "store"))
        assert len(endpoint.span_ids) == 10


def test_after_purge_all_a_new_shorter_file_of_the_same_day_is_uploaded(tmp_path: Path) -> None:
    """Issue 21 item 1: the saved offset (keyed by file name) pointed past the new file's end, and
    ``upload`` reported success having sent nothing."""
    write_store(tmp_path, groups=3, per_group=10, text=200)
    with OtlpEndpoint() as endpoint:
        code, report, stderr = upload(tmp_path, "--endpoint", endpoint.base)
        assert code == 0 and report["signals"]["traces"]["records"] == 30, stderr
        purged = subprocess.run(
            [CLI, "purge", "--all"], env=clean_env(tmp_path), capture_output=True, text=True, check=False
        )
        assert purged.returncode == 0, purged.stderr
        store = write_store(tmp_path, groups=1, per_group=2)  # a new, shorter file of the same day
        fresh = stored_span_ids(store)
        assert len(fresh) == 2
        code, report, stderr = upload(tmp_path, "--endpoint", endpoint.base)
        assert code == 0, stderr
        assert report["signals"]["traces"]["records"] == 2
        assert sorted(endpoint.span_ids[30:]) == sorted(fresh)


# -- Issue 27: upload by signal; an endpoint that takes traces only (Jaeger, Tempo, Phoenix) --------


class TracesOnlyEndpoint(OtlpEndpoint):
    """Takes /v1/traces; answers ``status`` (405 as Phoenix does, 404 as Jaeger and Tempo do) on
    the other signals' paths."""

    def __init__(self, status: int = 405, taken: tuple[str, ...] = ("/v1/traces",)) -> None:
        super().__init__()
        self.status = status
        self.taken = taken

    def receive(self, path: str, headers: dict[str, str], raw: bytes) -> int:
        if path not in self.taken:
            with self._cond:
                self.paths.append(path)
            return self.status
        return super().receive(path, headers, raw)


def human_upload(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, "upload", *args], env=clean_env(tmp), capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("status", [404, 405, 501])
def test_a_signal_the_endpoint_does_not_take_is_skipped_in_one_line_and_the_upload_exits_0(
    tmp_path: Path, status: int
) -> None:
    store = write_store(tmp_path, groups=2, per_group=4)
    with TracesOnlyEndpoint(status) as endpoint:
        done = human_upload(tmp_path, "--endpoint", endpoint.base)
        assert done.returncode == 0, done.stdout + done.stderr
        assert sorted(endpoint.span_ids) == sorted(stored_span_ids(store))
        lines = done.stdout.splitlines()
        skipped = [line for line in lines if "skipped" in line]
        assert len(skipped) == 2, lines
        assert any(line.startswith("metrics: skipped") and f"HTTP {status}" in line for line in skipped)
        assert any(line.startswith("logs: skipped") and "/v1/logs" in line for line in skipped)
        assert "refused" not in done.stdout + done.stderr
        # one attempt per signal: a 501 is not retried either
        assert endpoint.paths.count("/v1/metrics") == 1 and endpoint.paths.count("/v1/logs") == 1


def test_what_the_endpoint_does_not_take_is_remembered_and_force_asks_again(tmp_path: Path) -> None:
    write_store(tmp_path, groups=1, per_group=3)
    with TracesOnlyEndpoint() as endpoint:
        code, report, stderr = upload(tmp_path, "--endpoint", endpoint.base)
        assert code == 0 and report["complete"], stderr
        assert report["signals"]["metrics"]["not_taken"] == "HTTP 405 on /v1/metrics"
        write_store(tmp_path, groups=1, per_group=2)  # more of every signal
        code, again, _ = upload(tmp_path, "--endpoint", endpoint.base)
        assert code == 0 and again["signals"]["traces"]["records"] == 2
        assert again["signals"]["logs"]["not_taken"]  # skipped without asking
        assert endpoint.paths.count("/v1/metrics") == 1 and endpoint.paths.count("/v1/logs") == 1
        code, forced, _ = upload(tmp_path, "--endpoint", endpoint.base, "--force")
        assert code == 0 and forced["signals"]["traces"]["records"] == 5
        assert endpoint.paths.count("/v1/metrics") == 2  # --force asked again


def test_signals_option_sends_only_the_signals_named(tmp_path: Path) -> None:
    store = write_store(tmp_path, groups=2, per_group=3)
    with OtlpEndpoint() as endpoint:
        code, report, stderr = upload(tmp_path, "--endpoint", endpoint.base, "--signals", "traces")
        assert code == 0, stderr
        assert set(report["signals"]) == {"traces"}
        assert set(endpoint.paths) == {"/v1/traces"}
        assert sorted(endpoint.span_ids) == sorted(stored_span_ids(store))
        code, report, stderr = upload(tmp_path, "--endpoint", endpoint.base, "--signals", "logs,metrics")
        assert code == 0 and set(report["signals"]) == {"metrics", "logs"}, stderr
        assert report["signals"]["logs"]["records"] == len(log_records(store))
    code, _, stderr = upload(tmp_path, "--endpoint", "http://127.0.0.1:9", "--signals", "traces,spans")
    assert code == 2 and "traces,metrics,logs" in stderr


def test_an_endpoint_that_takes_none_of_the_signals_is_an_error_and_nothing_is_remembered(
    tmp_path: Path,
) -> None:
    write_store(tmp_path, groups=1, per_group=2)
    with TracesOnlyEndpoint(404, taken=()) as endpoint:  # a wrong URL: 404 everywhere
        code, report, _ = upload(tmp_path, "--endpoint", endpoint.base)
        assert code == 1 and "takes none of" in report["error"]
        code, _, _ = upload(tmp_path, "--endpoint", endpoint.base)
        assert code == 1
        assert endpoint.paths.count("/v1/traces") == 2  # asked again: nothing was remembered


def test_continuous_upload_sends_the_signals_named_and_asks_a_refusing_endpoint_once(tmp_path: Path) -> None:
    app = """
        import logging, time
        import otel_distro
        from opentelemetry import metrics, trace

        handle = otel_distro.configure(log_bridge=True)
        tracer = trace.get_tracer("bg")
        runs = metrics.get_meter("bg").create_counter("runs")
        for index in range(4):
            tracer.start_span(f"span {index}").end()
            runs.add(1)
            logging.getLogger("bg").warning("step %d", index)
            handle.force_flush()
            time.sleep(0.6)  # passes every 0.2 s: several of them see new data
        handle.shutdown()
    """
    with TracesOnlyEndpoint() as endpoint:
        env = clean_env(
            tmp_path,
            TELEMETRY_UPLOAD_ENABLED="true",
            TELEMETRY_UPLOAD_ENDPOINT=endpoint.base,
            TELEMETRY_UPLOAD_INTERVAL_SECS="0.2",
        )
        done = run_app(tmp_path, app, env=env)
        assert done.returncode == 0, done.stderr
        assert len(endpoint.span_ids) == 4
        assert endpoint.paths.count("/v1/metrics") == 1 and endpoint.paths.count("/v1/logs") == 1
        assert done.stderr.count("does not take metrics") == 1, done.stderr
    with OtlpEndpoint() as endpoint:
        env = clean_env(
            tmp_path / "b",
            TELEMETRY_UPLOAD_ENABLED="true",
            TELEMETRY_UPLOAD_ENDPOINT=endpoint.base,
            TELEMETRY_UPLOAD_INTERVAL_SECS="0.2",
            TELEMETRY_UPLOAD_SIGNALS="traces",
        )
        (tmp_path / "b").mkdir()
        done = run_app(tmp_path / "b", app, env=env)
        assert done.returncode == 0, done.stderr
        assert len(endpoint.span_ids) == 4 and set(endpoint.paths) == {"/v1/traces"}


def test_upload_signals_setting_names_the_accepted_values_when_wrong() -> None:
    from otel_distro.settings import resolve

    resolution = resolve(env={"TELEMETRY_UPLOAD_SIGNALS": "traces,spans"})
    assert resolution.settings.upload_signals == ("traces", "metrics", "logs")
    assert any("TELEMETRY_UPLOAD_SIGNALS" in p and "traces, metrics, logs" in p for p in resolution.problems)
    assert resolve(env={"TELEMETRY_UPLOAD_SIGNALS": "logs, traces"}).settings.upload_signals == (
        "traces",
        "logs",
    )


def test_a_span_no_collector_can_read_costs_only_itself_and_is_counted(tmp_path: Path) -> None:
    store = write_store(tmp_path, groups=1, per_group=3)
    traces = sorted((store / "traces").glob("*.jsonl"))[-1]
    lines = traces.read_bytes().splitlines()
    line = json.loads(lines[0])
    spans_of_line = [s for rs in line["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
    assert len(spans_of_line) >= 2
    spans_of_line[0]["endTimeUnixNano"] = str(2**70)  # past 64 bits: not OTLP/JSON
    traces.write_bytes(b"\n".join([json.dumps(line).encode(), *lines[1:]]) + b"\n")
    good = {s["spanId"] for s in spans(store)} - {spans_of_line[0]["spanId"]}

    with OtlpEndpoint() as endpoint:
        code, report, stderr = upload(tmp_path, "--endpoint", endpoint.base)
    assert sorted(endpoint.span_ids) == sorted(good)  # its neighbours in the same line all went
    assert report["signals"]["traces"]["records"] == len(good)
    assert report["signals"]["traces"]["corrupt_lines"] == 1, report
    assert code == 0, stderr  # complete: what could be read went, the rest is reported


class RawEndpoint(OtlpEndpoint):
    """Keeps every request body as it arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[bytes] = []

    def receive(self, path: str, headers: dict[str, str], raw: bytes) -> int:
        with self._cond:
            self.bodies.append(raw)
        return super().receive(path, headers, raw)


UNREDACTED_STORE = """
    import logging
    import otel_distro
    from opentelemetry import trace

    handle = otel_distro.configure(service_name="unredacted", log_bridge=True)
    with trace.get_tracer("t").start_as_current_span("mail jane.roe@example.org") as span:
        span.set_attribute("card", "4111 1111 1111 1111")
        span.set_attribute("api_key", "sk-proj-Zx81kQp09LmWr7Tq2Vb4Nc6Md8Fh0Jk3")
    logging.getLogger("t").warning("call +1 415 555 0132")
    handle.shutdown()
"""
RAW_VALUES = (b"jane.roe@example.org", b"4111 1111 1111 1111", b"sk-proj-Zx81kQp09LmWr7", b"415 555 0132")


@pytest.mark.parametrize("upload_redaction", ["true", "false"])
def test_a_store_written_with_redaction_off_is_redacted_again_when_uploaded_with_it_on(
    tmp_path: Path, upload_redaction: str
) -> None:
    """Before, `otel-distro upload` sent what a process running with redaction off had stored
    as it was, while redaction was on for the upload (bundle already redacted it again)."""
    env = {**clean_env(tmp_path), "TELEMETRY_PII_REDACTION": "false"}
    run = run_app(tmp_path, UNREDACTED_STORE, env=env)
    assert run.returncode == 0, run.stderr
    stored = b"".join(path.read_bytes() for path in (tmp_path / "store").glob("*/*.jsonl"))
    assert all(raw in stored for raw in RAW_VALUES)  # the store holds them: redaction was off
    with RawEndpoint() as endpoint:
        done = subprocess.run(
            [CLI, "upload", "--json", "--endpoint", endpoint.base, "--signals", "traces,logs"],
            env={**clean_env(tmp_path), "TELEMETRY_PII_REDACTION": upload_redaction},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        sent = b"".join(endpoint.bodies)
    assert len(endpoint.span_ids) == 1
    if upload_redaction == "true":
        for raw in RAW_VALUES:
            assert raw not in sent, raw
        assert b"<EMAIL>" in sent and b"<PHONE_NUMBER>" in sent
    else:  # redaction off for the upload too: the user chose to send values as they are
        assert b"jane.roe@example.org" in sent


def test_an_upload_that_redacts_again_leaves_otlp_integers_alone_and_loses_no_line(tmp_path: Path) -> None:
    """OTLP/JSON writes 64-bit ints as strings: redacted again as text ("4155552671" reads as a
    phone number), a line no longer parsed and was skipped for good, the upload saying success."""
    source = """
        import otel_distro
        from opentelemetry import metrics, trace

        handle = otel_distro.configure(service_name="ints")
        with trace.get_tracer("t").start_as_current_span("download") as span:
            span.set_attribute("http.response.body.size", 4155552671)
        metrics.get_meter("t").create_counter("bytes").add(4155552671)
        handle.shutdown()
    """
    run = run_app(tmp_path, source, env=clean_env(tmp_path))
    assert run.returncode == 0, run.stderr
    with RawEndpoint() as endpoint:
        code, report, stderr = upload(tmp_path, "--endpoint", endpoint.base, "--signals", "traces,metrics")
    assert code == 0, stderr
    assert report["signals"]["traces"]["records"] == 1 and len(endpoint.span_ids) == 1
    assert report["signals"]["metrics"]["records"] >= 1
    assert "unreadable" not in stderr and b"<PHONE_NUMBER>" not in b"".join(endpoint.bodies)


def test_the_second_redaction_leaves_bytes_values_as_they_were(tmp_path: Path) -> None:
    """OTLP/JSON writes bytes as base64: redacted as text, they decoded to other bytes."""
    source = """
        import otel_distro
        import base64
        from opentelemetry import trace

        handle = otel_distro.configure(service_name="bytes")
        with trace.get_tracer("t").start_as_current_span("blob") as span:
            span.set_attribute("payload", base64.b64decode("+14155550132"))  # its base64 reads as a phone
        handle.shutdown()
    """
    run = run_app(tmp_path, source, env=clean_env(tmp_path))
    assert run.returncode == 0, run.stderr
    stored = b"".join(path.read_bytes() for path in (tmp_path / "store").glob("traces/*.jsonl"))
    with RawEndpoint() as endpoint:
        code, _, stderr = upload(tmp_path, "--endpoint", endpoint.base, "--signals", "traces")
    assert code == 0, stderr
    request = ExportTraceServiceRequest.FromString(endpoint.bodies[0])
    (span,) = [s for r in request.resource_spans for sc in r.scope_spans for s in sc.spans]
    sent = next(a.value.bytes_value for a in span.attributes if a.key == "payload")
    assert b'"bytesValue":"+14155550132"' in stored
    assert base64.b64encode(sent) == b"+14155550132"  # the bytes the store holds, unchanged

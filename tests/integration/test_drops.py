"""Drops are never silent: real processes that drop records, then ``otel-distro stats`` by reason."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from tests.support.proc import CLI, attrs, clean_env, run_app, spans, store_lines

SPANS = 300

# The store's traces directory is a file: every write of spans fails, as on a full disk.
DISK_FAILS = """
    import logging, sys
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(message)s")
    import otel_distro
    from opentelemetry import trace

    handle = otel_distro.configure(service_name="drops")
    tracer = trace.get_tracer("drops")
    for i in range(int(sys.argv[1])):
        with tracer.start_as_current_span(f"step {i}"):
            pass
    handle.force_flush()
    print(sum(handle.dropped().values()), flush=True)
"""

# A burst into a store queue of four spans: most find it full.
BURST = """
    import sys
    from otel_distro import parts
    parts.STORE_QUEUE_SIZE = 4
    parts.STORE_BATCH_SIZE = 4
    import otel_distro
    from opentelemetry import trace

    otel_distro.configure(service_name="burst")
    tracer = trace.get_tracer("burst")
    for i in range(int(sys.argv[1])):
        with tracer.start_as_current_span(f"burst {i}"):
            pass
"""


def _stats(tmp: Path) -> tuple[dict[str, Any], str]:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [CLI, *args], env=clean_env(tmp), capture_output=True, text=True, timeout=60, check=False
        )

    done, text = run("stats", "--json"), run("stats")
    assert done.returncode == 0, done.stderr
    assert text.returncode == 0, text.stderr
    return json.loads(done.stdout), text.stdout


def _start(tmp: Path, script: Path, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(script), str(count)],
        env=clean_env(tmp),
        cwd=tmp,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_disk_write_failures_of_two_processes_sharing_a_store_add_up_in_stats_by_reason(
    tmp_path: Path,
) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "traces").write_text("not a directory\n")
    script = tmp_path / "app.py"
    script.write_text(textwrap.dedent(DISK_FAILS))

    apps = [_start(tmp_path, script, SPANS), _start(tmp_path, script, SPANS + 1)]
    outputs = [app.communicate(timeout=120) for app in apps]

    for app, (_out, err) in zip(apps, outputs, strict=True):
        assert app.returncode == 0, err
        assert "Traceback" not in err
        assert "otel-distro: this process dropped" in err  # one warning at exit says how many
        assert "store_write_failed" in err
    assert [int(out.split()[0]) for out, _err in outputs] == [SPANS, SPANS + 1]  # handle.dropped()
    (store / "traces").unlink()  # the disk is fixed: stats can read the store again
    data, text = _stats(tmp_path)
    assert data["dropped"]["store_write_failed"] == 2 * SPANS + 1
    assert data["dropped_total"] >= 2 * SPANS + 1
    assert "store_write_failed" in text and str(2 * SPANS + 1) in text
    drops = store / "drops.json"
    assert stat.S_IMODE(os.stat(drops).st_mode) == 0o600


def test_a_burst_into_a_full_store_queue_is_counted_as_store_queue_full(tmp_path: Path) -> None:
    run = run_app(tmp_path, BURST.replace("int(sys.argv[1])", "1000"))
    assert run.returncode == 0, run.stderr

    written = spans(tmp_path / "store")
    data, text = _stats(tmp_path)
    assert 0 < len(written) < 1000
    assert data["dropped"]["store_queue_full"] == 1000 - len(written)  # every span written or counted
    assert "store_queue_full" in text
    assert "the store writer was behind" in text


def test_stats_says_none_were_dropped_when_nothing_was(tmp_path: Path) -> None:
    data, text = _stats(tmp_path)
    assert data["dropped"] == {}
    assert data["dropped_total"] == 0
    assert "dropped:     none" in text


# A process forks after counting drops it has not recorded yet: the child records only its own.
FORKS = """
    import os
    import otel_distro
    from opentelemetry import trace

    handle = otel_distro.configure(service_name="forks")
    tracer = trace.get_tracer("forks")

    def burst(count):
        for _ in range(count):
            with tracer.start_as_current_span("step"):
                pass
        handle.force_flush()

    burst(10)
    pid = os.fork()
    if pid == 0:
        burst(7)
        handle.shutdown()
        os._exit(0)
    os.waitpid(pid, 0)
    burst(5)
"""


def test_a_forked_child_records_only_its_own_drops_and_parent_and_child_add_up(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "traces").write_text("not a directory\n")
    run = run_app(tmp_path, FORKS)
    assert run.returncode == 0, run.stderr
    (store / "traces").unlink()
    data, _text = _stats(tmp_path)
    assert data["dropped"] == {"store_write_failed": 10 + 7 + 5}


def _metric_points(store: Path, name: str) -> list[tuple[dict[str, Any], int]]:
    """(attributes, value) of every data point of the metric ``name`` in the store, in order."""
    points = []
    for line in store_lines(store, "metrics"):
        for resource_metrics in json.loads(line)["resourceMetrics"]:
            for scope_metrics in resource_metrics["scopeMetrics"]:
                for metric in scope_metrics["metrics"]:
                    if metric["name"] != name:
                        continue
                    data = metric.get("sum") or metric.get("gauge") or {}
                    for point in data.get("dataPoints", []):
                        points.append((attrs(point.get("attributes", [])), int(point["asInt"])))
    return points


def test_with_the_sdks_internal_metrics_switch_drops_and_the_worker_queue_are_metrics(tmp_path: Path) -> None:
    env = clean_env(tmp_path, OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED="true")
    run = run_app(tmp_path, BURST.replace("int(sys.argv[1])", "1000"), env=env)
    assert run.returncode == 0, run.stderr

    data, _text = _stats(tmp_path)
    dropped = _metric_points(tmp_path / "store", "otel_distro.records.dropped")
    assert dropped, "no drop metric was recorded"
    last = {point[0]["error.type"]: point[1] for point in dropped}  # the last collection (at exit)
    assert last["store_queue_full"] == data["dropped"]["store_queue_full"] > 0
    capacity = _metric_points(tmp_path / "store", "otel.sdk.processor.span.queue.capacity")
    capacities = {point[0]["otel.component.type"]: point[1] for point in capacity}  # the last of each
    # the redaction worker's queue, and the store's (four spans in this app, see BURST)
    assert capacities == {"otel_distro_redaction_worker": 8192, "otel_distro_store_queue": 4}
    sizes = _metric_points(tmp_path / "store", "otel.sdk.processor.span.queue.size")
    ours = [
        (point["otel.component.type"], value)
        for point, value in sizes
        if point["otel.component.type"] in capacities
    ]
    assert {kind for kind, _ in ours} == set(capacities)  # the SDK reports its own batch queue beside them
    assert all(0 <= value <= capacities[kind] for kind, value in ours)


def test_without_the_switch_the_distro_records_no_metrics_of_its_own(tmp_path: Path) -> None:
    app_metric = (
        "\nfrom opentelemetry import metrics\nmetrics.get_meter('app').create_counter('app.runs').add(1)\n"
    )
    run = run_app(tmp_path, BURST.replace("int(sys.argv[1])", "100") + textwrap.indent(app_metric, "    "))
    assert run.returncode == 0, run.stderr
    assert _metric_points(tmp_path / "store", "app.runs") == [({}, 1)]  # the app's metrics are recorded
    assert _metric_points(tmp_path / "store", "otel_distro.records.dropped") == []
    assert _metric_points(tmp_path / "store", "otel.sdk.processor.span.queue.size") == []


# Records that end after the app shut the pipeline down, and log calls the bridge cannot read.
AFTER_SHUTDOWN = """
    import logging
    import otel_distro
    from opentelemetry import trace

    handle = otel_distro.configure(service_name="late", log_bridge=True)
    logging.getLogger("app").warning("count=%d", "not a number")  # the app's own bad log call
    tracer = trace.get_tracer("late")
    with tracer.start_as_current_span("on time"):
        pass
    handle.shutdown()
    for i in range(3):
        with tracer.start_as_current_span(f"late {i}"):
            pass
    print("app ok", flush=True)
"""


def test_records_dropped_after_shutdown_and_unreadable_log_calls_reach_stats(tmp_path: Path) -> None:
    run = run_app(tmp_path, AFTER_SHUTDOWN)
    assert run.returncode == 0, run.stderr
    assert "app ok" in run.stdout

    data, text = _stats(tmp_path)
    late = data["dropped"].get("store_shut_down", 0) + data["dropped"].get("chain_shut_down", 0)
    assert late == 3  # recorded at exit, after the pipeline's own last record of drops
    assert data["dropped"]["log_bridge_failed"] == 1
    assert "log_bridge_failed" in text
    assert [s["name"] for s in spans(tmp_path / "store")] == ["on time"]


NAMED_EXPORTER = """
    import otel_distro
    from opentelemetry import trace

    handle = otel_distro.configure(service_name="named")
    tracer = trace.get_tracer("named")
    for i in range(10):
        with tracer.start_as_current_span(f"refused {i}"):
            pass
    handle.force_flush()
    print(handle.dropped().get("exporter_failed", 0), flush=True)
"""


def test_spans_a_named_exporters_collector_refuses_are_counted_as_exporter_failed(tmp_path: Path) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Refusing(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # a collector that finds every request malformed
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(400)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"http://127.0.0.1:{server.server_port}/v1/traces",
        }
        run = run_app(tmp_path, NAMED_EXPORTER, env=clean_env(tmp_path, **env))
    finally:
        server.shutdown()
        server.server_close()
    assert run.returncode == 0, run.stderr
    assert run.stdout.split()[0] == "10"  # handle.dropped()
    data, text = _stats(tmp_path)
    assert data["dropped"].get("exporter_failed") == 10, (data, run.stderr)
    assert "exporter_failed" in text


def test_an_otlp_collector_that_never_answers_costs_the_exit_a_second_and_every_span_is_counted(
    tmp_path: Path,
) -> None:
    """A review of issue 21: OTEL_TRACES_EXPORTER=otlp to a black hole held the exit 11 s and lost
    the spans without a count (the SDK's batch processor gave them up silently)."""
    import socket
    import threading
    import time

    black_hole = socket.create_server(("127.0.0.1", 0))  # takes connections, never answers
    held: list[socket.socket] = []
    threading.Thread(
        target=lambda: held.extend(iter(lambda: black_hole.accept()[0], None)), daemon=True
    ).start()
    app = """
        from opentelemetry import trace

        tracer = trace.get_tracer("app")
        for n in range(1000):
            with tracer.start_as_current_span(f"lost {n}"):
                pass
        print("app ok", flush=True)
    """
    env = {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"http://127.0.0.1:{black_hole.getsockname()[1]}/v1/traces",
    }
    try:
        started = time.monotonic()
        run = run_app(tmp_path, app, zero_code=True, env=clean_env(tmp_path, **env))
        took = time.monotonic() - started
    finally:
        black_hole.close()
        for conn in held:
            conn.close()
    assert run.returncode == 0 and "app ok" in run.stdout, run.stderr
    assert took < 8.0, took  # start-up and the exit's second (before: 11 s of exit alone)
    data, _ = _stats(tmp_path)
    dropped = data["dropped"]
    assert dropped.get("exporter_lost", 0) + dropped.get("exporter_failed", 0) == 1000, (dropped, run.stderr)
    assert len(spans(tmp_path / "store")) == 1000  # the store has them all


def _old_traces_file(store: Path, days_ago: int, spans_per_line: int, lines: int) -> Path:
    """A traces file of ``days_ago`` days back, as the store writes them (one export per line)."""
    import datetime as dt

    day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days_ago)
    path = store / "traces" / f"{day.isoformat()}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = []
    for line in range(lines):
        spans_of_line = [
            {
                "traceId": f"{line + 1:032x}",
                "spanId": f"{line * 100 + n + 1:016x}",
                "name": f"old {line}.{n}",
                "kind": 1,
                "startTimeUnixNano": "1",
                "endTimeUnixNano": "2",
            }
            for n in range(spans_per_line)
        ]
        record = {"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {}, "spans": spans_of_line}]}]}
        body.append(json.dumps(record))
    path.write_text("\n".join(body) + "\n")
    return path


def test_spans_retention_purges_before_the_conversation_log_sent_them_are_counted(tmp_path: Path) -> None:
    store = tmp_path / "store"
    old = _old_traces_file(store, days_ago=40, spans_per_line=2, lines=3)
    kept = _old_traces_file(store, days_ago=41, spans_per_line=1, lines=1)
    # the conversation log follows this store: it has sent the first line of the older file
    # only, and the 41-day one whole
    cache = tmp_path / "cache"
    cache.mkdir()
    first_line = len(old.read_bytes().splitlines(keepends=True)[0])
    stat_old, stat_kept = old.stat(), kept.stat()
    positions = {
        old.name: [first_line, 0, stat_old.st_dev, stat_old.st_ino, 0],
        kept.name: [stat_kept.st_size, 0, stat_kept.st_dev, stat_kept.st_ino, 0],
    }
    (cache / "store_position.json").write_text(json.dumps({"files": positions}))
    app = """
        import otel_distro
        otel_distro.configure(service_name="purging")
        print("app ok", flush=True)
    """
    run = run_app(tmp_path, app, env=clean_env(tmp_path, TELEMETRY_CACHE_PATH=str(cache)))
    assert run.returncode == 0, run.stderr
    assert not old.exists() and not kept.exists()  # past the 30 days of retention: purged
    assert "4 records not yet sent" in run.stderr
    data, text = _stats(tmp_path)
    assert data["dropped"].get("store_purged_unsent") == 4  # two lines of two spans; the other file was sent
    assert "store_purged_unsent" in text


# Spans of 100 KB of text each wait for the chain's worker; SIGTERM comes while most still wait.
SIGTERM_BACKLOG = """
    import time
    import otel_distro
    from opentelemetry import trace

    otel_distro.configure(service_name="backlog")
    tracer = trace.get_tracer("backlog")
    text = " ".join(f"+1 212 736 {n % 10000:04d}" for n in range(6500))[:100_000]  # each one validated
    for i in range(400):
        tracer.start_span(f"big {i}", attributes={"note": text}).end()
    print("ready", flush=True)
    time.sleep(60)
"""


def test_spans_still_waiting_for_the_worker_when_sigterm_ends_the_process_are_counted(tmp_path: Path) -> None:
    """SIGTERM at its default action flushes for 2 s, then the process ends: what the chain's
    worker had not finished is counted as chain_lost_at_exit, so every span is written or counted
    (before, about two thirds of them vanished with nothing in stats)."""
    from tests.support.proc import terminate_when_ready

    code, _ = terminate_when_ready(tmp_path, SIGTERM_BACKLOG)
    assert code == -15  # the default action, as without the distro
    written = len(spans(tmp_path / "store"))
    data, _ = _stats(tmp_path)
    dropped = data["dropped"]
    lost = dropped.get("chain_lost_at_exit", 0)
    assert written + lost + dropped.get("chain_queue_full", 0) == 400, (written, dropped)
    assert lost > 0  # the worker could not finish 40 MB of phone numbers in the flush's 2 s

"""``otel-distro upload --dp-epsilon``: a real store's metrics as noisy aggregates to an OTLP recorder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.collector import RecordingOtlpServer
from tests.support.proc import clean_env

pytest.importorskip("opendp")

CLI = str(Path(sys.executable).parent / "otel-distro")
DAY_NS = 86_400 * 10**9

# Spans, logs and metrics in the store: per group a counter add per tool and histogram records,
# flushed after each group (so the store holds several cumulative points per series).
WRITE_STORE = """
import logging
import otel_distro
from opentelemetry import metrics, trace

handle = otel_distro.configure(service_name="dp-upload-test", log_bridge=True)
tracer = trace.get_tracer("dp")
meter = metrics.get_meter("dp")
calls = meter.create_counter("tool.calls")
latency = meter.create_histogram("tool.latency", unit="ms")
logger = logging.getLogger("dp")
logger.setLevel(logging.INFO)
for group in range(4):
    with tracer.start_as_current_span(f"group {group}"):
        calls.add(250, {"tool": "search"})
        calls.add(400, {"tool": "fetch"})
        for value in (3.0, 40.0, 400.0):
            latency.record(value, {"tool": "search"})
    logger.info("group %d done", group)
    handle.force_flush()
handle.shutdown()
"""

RAW_TOTALS = {"search": 1000, "fetch": 1600}


def _write_store(tmp: Path) -> Path:
    script = tmp / "write.py"
    script.write_text(WRITE_STORE)
    done = subprocess.run(
        [sys.executable, str(script)],
        env=clean_env(tmp),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    store = tmp / "store"
    assert list((store / "metrics").glob("*.jsonl")) and list((store / "traces").glob("*.jsonl"))
    return store


def _upload(tmp: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    done = subprocess.run(
        [CLI, "upload", "--json", *args],
        env=clean_env(tmp),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    data = json.loads(done.stdout) if done.stdout.strip() else {}
    return done.returncode, data, done.stderr


def _budget_spends(store: Path) -> list[dict[str, Any]]:
    files = list((store / "upload" / "dp").glob("*/budget.json"))
    assert len(files) == 1
    spends: list[dict[str, Any]] = json.loads(files[0].read_text())["spends"]
    assert files[0].stat().st_mode & 0o777 == 0o600
    return spends


def test_private_upload_sends_noisy_aggregates_within_the_budget(tmp_path: Path) -> None:
    store = _write_store(tmp_path)
    with RecordingOtlpServer() as server:
        common = ["--endpoint", server.endpoint, "--dp-max-contribution", "100", "--dp-budget", "1.5"]
        code, data, stderr = _upload(tmp_path, *common, "--dp-epsilon", "1")
        assert code == 0, (data, stderr)
        assert data["dp"]["epsilon"] == 1.0 and data["dp"]["left"] == pytest.approx(0.5)
        assert data["dp"]["noise_scale"] == pytest.approx(100.0)  # sensitivity / epsilon
        # metrics only: no traces or logs in this mode unless asked for
        assert not server.spans() and not server.log_records()
        assert {path for path, _ in server.posts} == {"/v1/metrics"}

        counters = {}
        histograms = []
        for metric in server.metrics():
            if metric.name == "tool.calls":
                assert (
                    metric.sum.aggregation_temporality == 1 and metric.sum.is_monotonic
                )  # delta, per window
                for point in metric.sum.data_points:
                    (tool,) = [kv.value.string_value for kv in point.attributes if kv.key == "tool"]
                    assert tool not in counters, "one aggregated point per series and window"
                    counters[tool] = point.as_int
                    assert point.start_time_unix_nano % DAY_NS == 0  # the window's start (a UTC day)
                    assert point.time_unix_nano - point.start_time_unix_nano <= DAY_NS
                    assert point.as_int >= 0
            elif metric.name == "tool.latency":
                histograms.extend(metric.histogram.data_points)
        assert set(counters) == set(RAW_TOTALS)
        # noisy (Laplace, scale 100): both equal to the raw totals is vanishingly unlikely
        assert counters != RAW_TOTALS
        assert all(abs(counters[t] - RAW_TOTALS[t]) < 2000 for t in RAW_TOTALS)  # aggregates, not raw points
        assert len(histograms) == 1
        (histogram,) = histograms
        assert all(count >= 0 for count in histogram.bucket_counts)
        assert histogram.count == sum(histogram.bucket_counts)
        assert not histogram.HasField("min") and not histogram.HasField("max")
        assert _budget_spends(store)[0]["epsilon"] == 1.0

        # a second upload whose epsilon would exceed the budget: refused, nothing sent
        posts = len(server.posts)
        code, data, stderr = _upload(tmp_path, *common, "--dp-epsilon", "1", "--signals", "metrics,traces")
        assert code != 0
        assert data["dp"]["budget_exceeded"] is True
        assert "privacy budget exceeded" in data["error"]
        assert len(server.posts) == posts
        assert [spend["epsilon"] for spend in _budget_spends(store)] == [1.0]

        # within the budget, with traces asked for: they go as they are, metrics still private
        code, data, stderr = _upload(tmp_path, *common, "--dp-epsilon", "0.5", "--signals", "metrics,traces")
        assert code == 0, (data, stderr)
        assert server.spans() and not server.log_records()
        assert data["dp"]["left"] == pytest.approx(0.0)
        assert [spend["epsilon"] for spend in _budget_spends(store)] == [1.0, 0.5]


def test_budget_refusal_is_a_clear_message(tmp_path: Path) -> None:
    _write_store(tmp_path)
    done = subprocess.run(
        [CLI, "upload", "--endpoint", "http://127.0.0.1:9", "--dp-epsilon", "2", "--dp-budget", "1"],
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "privacy budget exceeded" in done.stderr and "nothing was sent" in done.stderr

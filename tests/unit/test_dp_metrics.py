"""Differentially private metrics for upload: the mechanisms' noise, the aggregation, the budget."""

from __future__ import annotations

import datetime as dt
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("opendp")

from exporters import dp_metrics
from exporters.dp_metrics import BudgetExceeded, DpOptions, Mechanism, PrivacyBudget
from exporters.otlp_proto import to_protobuf
from exporters.upload import StoreUploader, state_base
from tests.support.collector import RecordingOtlpServer

DAY_NS = 86_400 * 10**9
T0 = 20_000 * DAY_NS  # a day boundary


def _attrs(**kv: str) -> list[dict[str, Any]]:
    return [{"key": k, "value": {"stringValue": v}} for k, v in kv.items()]


def _request(*metrics: dict[str, Any], service: str = "svc") -> dict[str, Any]:
    return {
        "resourceMetrics": [
            {
                "resource": {"attributes": _attrs(**{"service.name": service})},
                "scopeMetrics": [{"scope": {"name": "s"}, "metrics": list(metrics)}],
            }
        ]
    }


def _sum(name: str, points: list[tuple[int, int, int]], temporality: int = 2, **attrs: str) -> dict[str, Any]:
    """A monotonic int sum; points are (start, time, value)."""
    return {
        "name": name,
        "sum": {
            "dataPoints": [
                {
                    "startTimeUnixNano": str(s),
                    "timeUnixNano": str(t),
                    "asInt": str(v),
                    "attributes": _attrs(**attrs),
                }
                for s, t, v in points
            ],
            "aggregationTemporality": temporality,
            "isMonotonic": True,
        },
    }


def _histogram(points: list[tuple[int, int, float, list[int]]], temporality: int = 2) -> dict[str, Any]:
    return {
        "name": "latency",
        "unit": "ms",
        "histogram": {
            "dataPoints": [
                {
                    "startTimeUnixNano": str(s),
                    "timeUnixNano": str(t),
                    "count": str(sum(buckets)),
                    "sum": total,
                    "bucketCounts": [str(b) for b in buckets],
                    "explicitBounds": [10.0, 100.0],
                }
                for s, t, total, buckets in points
            ],
            "aggregationTemporality": temporality,
        },
    }


# -- the mechanisms ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("epsilon", "sensitivity"), [(0.5, 2.0), (2.0, 1.0)])
def test_laplace_noise_variance_matches_the_mechanism(epsilon: float, sensitivity: float) -> None:
    mechanism = Mechanism("laplace", epsilon, sensitivity)
    assert mechanism.scale == pytest.approx(sensitivity / epsilon)
    expected = 2 * (sensitivity / epsilon) ** 2
    draws = mechanism.release([0.0] * 20_000)
    # Laplace's kurtosis is 6: the sample variance's relative error is about sqrt(5 / n) = 1.6%
    assert statistics.fmean(draws) == pytest.approx(0.0, abs=5 * (expected / 20_000) ** 0.5)
    assert statistics.pvariance(draws) == pytest.approx(expected, rel=0.08)
    assert mechanism.variance == pytest.approx(expected)


def test_laplace_release_is_epsilon_dp_per_opendp() -> None:
    mechanism = Mechanism("laplace", 0.7, 3.0)
    dp = dp_metrics._opendp()
    assert mechanism._make(dp, mechanism.scale).map(3.0) <= 0.7 * (1 + 1e-9)


def test_gaussian_noise_is_calibrated_to_epsilon_delta() -> None:
    mechanism = Mechanism("gaussian", 1.0, 2.0)
    dp = dp_metrics._opendp()
    epsilon, delta = mechanism._make(dp, mechanism.scale).map(2.0)
    assert epsilon <= 1.0 + 1e-9
    assert delta == dp_metrics.GAUSSIAN_DELTA
    draws = mechanism.release([5.0] * 20_000)
    assert statistics.pvariance(draws) == pytest.approx(mechanism.scale**2, rel=0.06)
    assert statistics.fmean(draws) == pytest.approx(5.0, abs=5 * mechanism.scale / 20_000**0.5)


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="epsilon"):
        DpOptions(0)
    with pytest.raises(ValueError, match="mechanism"):
        DpOptions(1.0, mechanism="exponential")


# -- aggregation and release ------------------------------------------------------------------------
def test_sums_are_aggregated_per_series_and_window() -> None:
    records = [
        # cumulative: 3, 5, 9 from one start (+3, +2, +4), then a restart counting 4
        _request(_sum("runs", [(T0, T0 + 1, 3), (T0, T0 + 2, 5)], tool="a")),
        _request(_sum("runs", [(T0, T0 + 3, 9), (T0 + 4, T0 + 5, 4)], tool="a")),
        # delta: summed; the next day is another window
        _request(
            _sum("runs", [(T0, T0 + 1, 10), (T0, T0 + 2, 20), (T0 + DAY_NS, T0 + DAY_NS + 1, 7)], 1, tool="b")
        ),
    ]
    found = dp_metrics.aggregate(records)
    totals = sorted((cell.window, cell.values[0]) for cell in found.cells.values())
    assert found.points == 7
    assert totals == [(T0 // DAY_NS, 13.0), (T0 // DAY_NS, 30.0), (T0 // DAY_NS + 1, 7.0)]


def test_histograms_bucket_by_bucket_and_gauges_as_means() -> None:
    gauge = {
        "name": "temp",
        "gauge": {
            "dataPoints": [{"timeUnixNano": str(T0 + i), "asDouble": v} for i, v in enumerate([1.0, 3.0])]
        },
    }
    exponential = {"name": "e", "exponentialHistogram": {"dataPoints": [{"timeUnixNano": str(T0)}]}}
    records = [
        _request(
            _histogram([(T0, T0 + 1, 15.0, [1, 1, 0]), (T0, T0 + 2, 515.0, [1, 2, 1])]), gauge, exponential
        )
    ]
    found = dp_metrics.aggregate(records)
    values = {cell.kind: cell.values for cell in found.cells.values()}
    assert values["histogram"] == [515.0, 1.0, 2.0, 1.0]  # cumulative: the last point is the window's total
    assert values["gauge"] == [4.0, 2.0]
    assert found.skipped == 1


def test_release_is_valid_otlp_with_one_noisy_point_per_series() -> None:
    records = [
        _request(_sum("runs", [(T0, T0 + 1, 1000)], tool="a"), _histogram([(T0, T0 + 1, 50.0, [0, 1, 0])])),
        _request(_sum("runs", [(T0, T0 + 2, 2)], 1, tool="b"), service="other"),
    ]
    found = dp_metrics.aggregate(records)
    requests = dp_metrics.release(found, Mechanism("laplace", 0.1, 100.0), now=(T0 + 2 * DAY_NS) / 1e9)
    assert len(requests) == 2  # one per resource
    points: dict[str, list[dict[str, Any]]] = {}
    for request in requests:
        for rm in request["resourceMetrics"]:
            for sm in rm["scopeMetrics"]:
                for metric in sm["metrics"]:
                    kind = "sum" if "sum" in metric else "histogram"
                    assert metric[kind]["aggregationTemporality"] == 1  # delta over the window
                    points.setdefault(f"{metric['name']}", []).extend(metric[kind]["dataPoints"])
        to_protobuf("metrics", request)  # valid OTLP
    assert len(points["runs"]) == 2 and len(points["latency"]) == 1
    for point in points["runs"]:
        assert point["startTimeUnixNano"] == str(T0)
        assert point["timeUnixNano"] == str(T0 + DAY_NS)
        assert int(point["asInt"]) >= 0  # monotonic: clamped
    (histogram,) = points["latency"]
    buckets = [int(b) for b in histogram["bucketCounts"]]
    assert all(b >= 0 for b in buckets) and int(histogram["count"]) == sum(buckets)
    assert "min" not in histogram and "max" not in histogram


def test_nothing_to_release_gives_no_requests() -> None:
    assert dp_metrics.release(dp_metrics.aggregate([]), Mechanism("laplace", 1.0, 1.0)) == []


# -- the budget --------------------------------------------------------------------------------------
def test_budget_refuses_a_spend_beyond_it_and_records_the_right_spend(tmp_path: Path) -> None:
    path = dp_metrics.budget_path(tmp_path, "http://x:4318/")
    budget = PrivacyBudget(path, total=1.0)
    assert budget.spend(0.6, now=1000.0) == pytest.approx(0.4)
    with pytest.raises(BudgetExceeded, match="privacy budget exceeded"):
        budget.spend(0.5, now=1001.0)
    with pytest.raises(BudgetExceeded):
        budget.check(0.5, now=1001.0)
    assert budget.spent(now=1001.0) == pytest.approx(0.6)
    assert path.stat().st_mode & 0o777 == 0o600
    # 30 days on, the first spend has aged out
    later = 1000.0 + dp_metrics.BUDGET_DAYS * 86_400 + 1
    assert budget.spent(now=later) == 0.0
    assert budget.spend(0.5, now=later) == pytest.approx(0.5)
    assert PrivacyBudget(path, 1.0).spent(now=later) == pytest.approx(0.5)


def _store(tmp_path: Path) -> Path:
    store = tmp_path / "store"
    (store / "metrics").mkdir(parents=True)
    (store / "traces").mkdir()
    now_ns = time.time_ns()
    line = _request(
        _sum("runs", [(now_ns - 10, now_ns, 500)], tool="a"),
        _sum("runs", [(now_ns - 10, now_ns, 900)], tool="b"),
    )
    day = dt.datetime.fromtimestamp(now_ns / 1e9, dt.UTC).date()
    (store / "metrics" / f"{day.isoformat()}.jsonl").write_text(json.dumps(line) + "\n")
    span = {
        "resourceSpans": [
            {
                "resource": {"attributes": []},
                "scopeSpans": [
                    {
                        "scope": {"name": "s"},
                        "spans": [
                            {
                                "traceId": "0" * 31 + "1",
                                "spanId": "0" * 15 + "1",
                                "name": "x",
                                "startTimeUnixNano": str(now_ns),
                                "endTimeUnixNano": str(now_ns),
                            }
                        ],
                    }
                ],
            }
        ]
    }
    (store / "traces" / f"{day.isoformat()}.jsonl").write_text(json.dumps(span) + "\n")
    return store


def test_uploader_sends_noisy_metrics_only_and_refuses_beyond_the_budget(tmp_path: Path) -> None:
    store = _store(tmp_path)
    options = DpOptions(epsilon=0.6, max_contribution=100.0, budget=1.0)
    with RecordingOtlpServer() as server:
        uploader = StoreUploader(
            store, state_base(store), server.endpoint, signals=("metrics",), dp=options, retry_seconds=1
        )
        report = uploader.run()
        uploader.close()
        assert report.complete, report
        assert (
            report.dp is not None and report.dp["released"] == 2 and report.dp["left"] == pytest.approx(0.4)
        )
        assert report.signals["metrics"].records == 1 and not server.spans()
        values = sorted(p.as_int for m in server.metrics() for p in m.sum.data_points)
        assert len(values) == 2 and values != [
            500,
            900,
        ]  # scale 100/0.6: exact values are vanishingly unlikely
        posts = len(server.posts)

        again = StoreUploader(
            store,
            state_base(store),
            server.endpoint,
            signals=("metrics", "traces"),
            dp=options,
            retry_seconds=1,
        )
        refused = again.run()
        again.close()
        assert refused.budget_exceeded and not refused.complete
        assert "privacy budget exceeded" in (refused.error or "")
        assert len(server.posts) == posts  # nothing sent, traces neither
    budget = PrivacyBudget(dp_metrics.budget_path(state_base(store), uploader.endpoint), 1.0)
    assert budget.spent() == pytest.approx(0.6)


def test_dry_run_spends_nothing(tmp_path: Path) -> None:
    store = _store(tmp_path)
    uploader = StoreUploader(
        store, state_base(store), "http://127.0.0.1:9", signals=("metrics",), dp=DpOptions(0.5)
    )
    report = uploader.run(dry_run=True)
    uploader.close()
    assert report.dp is not None and report.dp["released"] == 2 and report.signals["metrics"].records == 2
    assert PrivacyBudget(dp_metrics.budget_path(state_base(store), "http://127.0.0.1:9"), 1.0).spent() == 0.0


def test_opendp_is_not_on_the_import_path() -> None:
    code = (
        "import sys, otel_distro, exporters.upload, exporters.dp_metrics, otel_distro.cli; "
        "assert 'opendp' not in sys.modules, 'opendp imported'"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr


def test_settings_take_the_dp_options() -> None:
    from otel_distro.settings import resolve

    resolution = resolve(
        env={
            "TELEMETRY_UPLOAD_DP_EPSILON": "0.5",
            "TELEMETRY_UPLOAD_DP_BUDGET": "4",
            "TELEMETRY_UPLOAD_DP_MECHANISM": "gaussian",
            "TELEMETRY_UPLOAD_DP_MAX_CONTRIBUTION": "0",
        }
    )
    settings = resolution.settings
    assert (settings.upload_dp_epsilon, settings.upload_dp_budget, settings.upload_dp_mechanism) == (
        0.5,
        4.0,
        "gaussian",
    )
    assert settings.upload_dp_max_contribution == 1.0  # 0 is refused: the default stays
    assert any(
        "TELEMETRY_UPLOAD_DP_MAX_CONTRIBUTION" in str(p) or "dp_max_contribution" in str(p)
        for p in resolution.problems
    )

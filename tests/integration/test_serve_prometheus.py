"""`/metrics` scraped by a real Prometheus (token in its scrape config, 127.0.0.1 only, storage in
tmp), queried with PromQL; and the Grafana dashboard's queries checked against what it exposes."""

from __future__ import annotations

import json
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.serve import ServeProcess, tool, wait_for, write_store

DASHBOARD = Path(__file__).resolve().parents[2] / "config" / "dashboards" / "otel-distro.json"
PROMQL_WORDS = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
PROMQL_KEYWORDS = {
    "sum", "rate", "irate", "increase", "by", "without", "histogram_quantile", "le", "max", "min", "avg",
    "count", "clamp_min", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "offset",
    "topk", "bottomk", "delta", "deriv", "absent", "vector", "scalar", "label_replace",
}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    tmp = tmp_path_factory.mktemp("serve-prom")
    write_store(tmp)
    write_store(tmp)  # a second process (a restart): its counters add to the first one's
    server = ServeProcess(tmp)
    yield server
    server.close()


def test_metrics_expose_store_metrics_summed_over_processes_and_the_distros_counters(
    served: ServeProcess,
) -> None:
    text = served.get("/metrics").text
    runs = dict(re.findall(r"^agent_runs_total\{([^}]*)\} (\S+)$", text, re.M))
    success = next(value for labels, value in runs.items() if 'agent_run_status="success"' in labels)
    assert float(success) == 6  # 3 runs in each of two processes
    assert "# TYPE agent_run_duration_seconds histogram" in text
    assert re.search(r"^otel_distro_store_spans \d+$", text, re.M)
    assert 'otel_distro_redactions{entity="EMAIL"}' in text
    assert "otel_distro_conversation_log_backlog_spans" in text
    assert "otel_distro_dropped_records_total" in text


def _exposed_names(text: str) -> set[str]:
    return {
        line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")
    }


def test_every_dashboard_panel_queries_a_metric_that_metrics_exposes(served: ServeProcess) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exposed = _exposed_names(served.get("/metrics").text)
    panels = [p for p in dashboard["panels"] if p.get("type") != "row"]
    assert len(panels) >= 7
    for panel in panels:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            expr = re.sub(r'\{[^}]*\}|"[^"]*"|\[[^\]]*\]', "", target["expr"])
            names = {w for w in PROMQL_WORDS.findall(expr) if w not in PROMQL_KEYWORDS and not w.isdigit()}
            metrics = {
                n for n in names if n in exposed or n.endswith(("_total", "_bucket", "_sum", "_count"))
            }
            assert metrics, (panel["title"], target["expr"])
            assert metrics <= exposed, (panel["title"], metrics - exposed)


def test_a_real_prometheus_scrapes_metrics_with_the_token_and_answers_promql(
    served: ServeProcess, tmp_path: Path
) -> None:
    binary = tool("prometheus")
    if binary is None:
        pytest.skip("prometheus is not installed (.ci/run installs it: apt-get install -y prometheus)")
    port = _free_port()
    target = served.url.removeprefix("http://")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n"
        "scrape_configs:\n  - job_name: otel-distro\n    metrics_path: /metrics\n"
        f"    authorization:\n      credentials: {served.token}\n"
        f"    static_configs:\n      - targets: ['{target}']\n"
    )
    proc = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10, trust_env=False) as client:

            def query() -> list[dict[str, object]]:
                try:
                    answer = client.get(
                        "/api/v1/query", params={"query": 'agent_runs_total{agent_run_status="success"}'}
                    )
                except httpx.HTTPError:
                    return []
                return answer.json().get("data", {}).get("result", []) if answer.status_code == 200 else []

            result = wait_for(query, timeout=60, interval=0.5)
            assert result, "Prometheus found no agent-run series"
            assert result[0]["metric"]["gen_ai_agent_name"] == "researcher"
            assert float(result[0]["value"][1]) == 6
            targets = client.get("/api/v1/targets").json()["data"]["activeTargets"]
            assert targets[0]["health"] == "up"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()

"""The collector examples in config/: both OTel Collector pipelines are well-formed configs that
read the store's real layout, and config/rotel-agent.sh runs a real rotel-agent that takes an
app's OTLP, and the store sent by `otel-distro upload`, to each signal's backend."""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from exporters.store.export import MAX_LINE_BYTES
from tests.support.collector import LOCALHOST, RecordingOtlpServer, RotelCollector, rotel_agent_path
from tests.support.proc import CLI, clean_env, log_records, metric_names, otlp_env, run_app, spans

CONFIG = Path(__file__).resolve().parents[2] / "config"
GATEWAY = CONFIG / "collector-gateway.yaml"
STORE_READER = CONFIG / "collector-store-reader.yaml"
ROTEL_SCRIPT = CONFIG / "rotel-agent.sh"
SIGNALS = ("traces", "metrics", "logs")
SECTIONS = ("receivers", "processors", "exporters")
# The component types these examples may use, under their current (snake_case) collector names.
KNOWN_TYPES = {
    "receivers": {"otlp", "otlp_json_file"},
    "processors": {"memory_limiter", "batch"},
    "exporters": {"otlp_http"},
    "extensions": {"file_storage"},
}
_ENV_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SIZE = re.compile(r"(\d+)\s*(B|KiB|MiB|GiB)")
_SIZE_UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}

Config = dict[str, Any]


def load(path: Path) -> Config:
    config = yaml.safe_load(path.read_text())
    assert isinstance(config, dict), f"{path.name} is not a YAML mapping"
    return config


def expand(value: Any, env: dict[str, str]) -> Any:
    """``value`` with ``${env:NAME}`` / ``${env:NAME:-default}`` expanded as the collector does
    (an unset variable without a default becomes the empty string)."""
    if isinstance(value, str):
        return _ENV_REF.sub(lambda m: env.get(m[1], m[2] if m[2] is not None else ""), value)
    if isinstance(value, dict):
        return {key: expand(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [expand(item, env) for item in value]
    return value


def component_type(component_id: str) -> str:
    return component_id.split("/", 1)[0]


def pipeline_components(config: Config, signal: str, section: str) -> list[Config]:
    """The configuration of each component in ``section`` of the ``signal`` pipeline."""
    return [config[section][name] or {} for name in config["service"]["pipelines"][signal].get(section, [])]


def byte_size(text: str) -> int:
    match = _SIZE.fullmatch(text.strip())
    assert match, f"not a byte size: {text!r}"
    return int(match[1]) * _SIZE_UNITS[match[2]]


def env_defaults(text: str, pattern: str) -> dict[str, str]:
    return {name: default for name, default in re.findall(pattern, text)}


# --- the YAML pipelines -----------------------------------------------------------------------


@pytest.mark.parametrize("path", [GATEWAY, STORE_READER], ids=lambda p: p.stem)
def test_collector_config_defines_every_component_its_pipelines_use_for_all_three_signals(
    path: Path,
) -> None:
    config = load(path)
    pipelines = config["service"]["pipelines"]
    assert {component_type(name) for name in pipelines} == set(SIGNALS)
    for name, pipeline in pipelines.items():
        assert set(pipeline) <= set(SECTIONS), f"{name}: unknown keys {set(pipeline) - set(SECTIONS)}"
        assert pipeline.get("receivers") and pipeline.get("exporters"), (
            f"{name} needs receivers and exporters"
        )
        for section in SECTIONS:
            for component in pipeline.get(section, []):
                assert component in (config.get(section) or {}), (
                    f"{name} uses undefined {section} {component}"
                )
        if "memory_limiter" in pipeline.get("processors", []):
            assert pipeline["processors"][0] == "memory_limiter", f"{name}: memory_limiter must come first"
    for extension in config["service"].get("extensions", []):
        assert extension in (config.get("extensions") or {}), f"undefined extension {extension}"
    for section, types in KNOWN_TYPES.items():
        for component in config.get(section) or {}:
            assert component_type(component) in types, f"{section}: unexpected component {component}"
    used = {c for p in pipelines.values() for s in SECTIONS for c in p.get(s, [])}
    defined = {c for s in SECTIONS for c in config.get(s) or {}}
    assert defined == used, f"defined but never used: {defined - used}"


def test_gateway_listens_on_localhost_otlp_ports_and_never_exports_to_itself_by_default() -> None:
    config = expand(load(GATEWAY), env={})
    protocols = config["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"] == "localhost:4317"
    assert protocols["http"]["endpoint"] == "localhost:4318"
    own = {("localhost", 4317), ("localhost", 4318), ("127.0.0.1", 4317), ("127.0.0.1", 4318)}
    for signal in SIGNALS:
        (exporter,) = pipeline_components(config, signal, "exporters")
        url = urlsplit(exporter["endpoint"])
        assert url.scheme in ("http", "https") and url.hostname, exporter["endpoint"]
        assert (url.hostname, url.port) not in own, f"{signal} would loop back into the gateway"


def test_store_reader_globs_match_each_signals_daily_files_and_nothing_else(tmp_path: Path) -> None:
    store = tmp_path / "store"
    daily = {signal: store / signal / "2026-01-01.jsonl" for signal in SIGNALS}
    lines = {
        "traces": {"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "s"}]}]}]},
        "metrics": {"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "m"}]}]}]},
        "logs": {"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": {"stringValue": "l"}}]}]}]},
    }
    for signal, path in daily.items():
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(lines[signal]) + "\n")
    for other in ("upload/state.jsonl", "cache/conversation_log/segment.jsonl", "hash.key"):
        (store / other).parent.mkdir(parents=True, exist_ok=True)
        (store / other).write_text("{}\n")

    config = expand(load(STORE_READER), env={"TELEMETRY_BASE_DIR": str(store)})
    for signal in SIGNALS:
        receivers = pipeline_components(config, signal, "receivers")
        matched = {Path(p) for r in receivers for pattern in r["include"] for p in glob.glob(pattern)}
        assert matched == {daily[signal]}, f"{signal} pipeline reads {matched}"


def test_store_reader_reads_from_the_start_whole_lines_and_remembers_its_offsets() -> None:
    config = load(STORE_READER)
    storage = {name for name in config["extensions"] if component_type(name) == "file_storage"} & set(
        config["service"]["extensions"]
    )
    assert storage, "no file_storage extension enabled"
    for signal in SIGNALS:
        for receiver in pipeline_components(config, signal, "receivers"):
            assert receiver["start_at"] == "beginning"
            assert receiver["storage"] in storage
            assert byte_size(receiver["max_log_size"]) >= MAX_LINE_BYTES  # longer lines would be cut
            assert receiver.get("include_file_name") is False  # no log.file.name on every record
            assert not receiver.get("delete_after_read")  # the store is not the collector's to delete
        for exporter in pipeline_components(config, signal, "exporters"):
            assert exporter["sending_queue"]["storage"] in storage


def test_examples_share_backend_variable_names_and_defaults() -> None:
    yaml_pattern = r"\$\{env:([A-Z_]+):-([^}]*)\}"
    gateway = env_defaults(GATEWAY.read_text(), yaml_pattern)
    reader = env_defaults(STORE_READER.read_text(), yaml_pattern)
    script = env_defaults(ROTEL_SCRIPT.read_text(), r"(?m)^([A-Z_]+)=\$\{\1:-([^}]*)\}$")
    backends = {f"{signal.upper()}_BACKEND_ENDPOINT" for signal in SIGNALS}
    for defaults in (gateway, reader, script):
        assert backends <= set(defaults)
    for name in backends:
        assert gateway[name] == reader[name] == script[name], name
    for name in ("OTLP_GRPC_LISTEN", "OTLP_HTTP_LISTEN"):
        assert gateway[name] == script[name], name


# --- config/rotel-agent.sh, run for real -------------------------------------------------------


@dataclass
class Backends:
    """One recording OTLP/HTTP server per signal, standing in for Jaeger/Tempo, Prometheus, Loki."""

    traces: RecordingOtlpServer
    metrics: RecordingOtlpServer
    logs: RecordingOtlpServer

    def env(self) -> dict[str, str]:
        return {f"{signal.upper()}_BACKEND_ENDPOINT": getattr(self, signal).endpoint for signal in SIGNALS}


@pytest.fixture
def backends() -> Iterator[Backends]:
    with RecordingOtlpServer() as traces, RecordingOtlpServer() as metrics, RecordingOtlpServer() as logs:
        yield Backends(traces, metrics, logs)


class RotelScript(RotelCollector):
    """config/rotel-agent.sh as a real process, configured only through its environment."""

    def __init__(self, backends: Backends, **env: str) -> None:
        super().__init__(backends.traces.endpoint, batch_timeout="100ms")
        self.env = {**backends.env(), "PYTHON": sys.executable, **env}

    def command(self) -> list[str]:
        settings = {
            "OTLP_GRPC_LISTEN": f"{LOCALHOST}:{self.grpc_port}",
            "OTLP_HTTP_LISTEN": f"{LOCALHOST}:{self.http_port}",
            "BATCH_TIMEOUT": self.batch_timeout,
            **self.env,
        }
        return ["env", *(f"{name}={value}" for name, value in settings.items()), str(ROTEL_SCRIPT)]


APP = """
    import logging
    import otel_distro
    from opentelemetry import metrics, trace

    handle = otel_distro.configure(service_name="behind-rotel", log_bridge=True)
    logger = logging.getLogger("behind-rotel")
    logger.setLevel(logging.INFO)
    requests = metrics.get_meter("behind-rotel").create_counter("requests.handled")
    tracer = trace.get_tracer("behind-rotel")
    for index in range(3):
        with tracer.start_as_current_span(f"request {index}"):
            logger.info("request %d handled", index)
            requests.add(1)
    handle.shutdown()
"""


def assert_each_signal_reached_only_its_backend(backends: Backends) -> None:
    for signal in SIGNALS:
        posts = getattr(backends, signal).posts
        assert posts and {path for path, _ in posts} == {f"/v1/{signal}"}, f"{signal}: {posts}"
        assert {encoding for _, encoding in posts} == {"gzip"}


@pytest.mark.parametrize(
    "protocol",
    [{}, {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}],
    ids=["grpc", "http"],
)
def test_rotel_script_takes_app_otlp_to_each_signals_backend_while_the_store_keeps_a_copy(
    tmp_path: Path, backends: Backends, protocol: dict[str, str]
) -> None:
    with RotelScript(backends) as rotel:
        endpoint = rotel.http_endpoint if protocol else rotel.grpc_endpoint
        run = run_app(tmp_path, APP, env=otlp_env(tmp_path, endpoint, **protocol))
        assert run.returncode == 0, run.stderr
        assert backends.traces.wait_for_spans(3, timeout=10), rotel.log_text()
        assert backends.logs.wait_for_log_records(3, timeout=10), rotel.log_text()
        assert backends.metrics.wait_until(
            lambda: "requests.handled" in {m.name for m in backends.metrics.metrics()}, timeout=10
        ), rotel.log_text()
    stored = spans(tmp_path / "store")
    assert sorted(span.span_id.hex() for span in backends.traces.spans()) == sorted(
        s["spanId"] for s in stored
    )
    assert {r.body.string_value for r in backends.logs.log_records()} == {
        f"request {index} handled" for index in range(3)
    }
    assert_each_signal_reached_only_its_backend(backends)


def test_rotel_script_on_path_delivers_the_whole_store_sent_by_otel_distro_upload(
    tmp_path: Path, backends: Backends
) -> None:
    run = run_app(tmp_path, APP)  # the store only: no network exporter in the app
    assert run.returncode == 0, run.stderr
    store = tmp_path / "store"
    stored = spans(store)
    assert len(stored) == 3 and log_records(store)

    on_path = tmp_path / "bin"
    on_path.mkdir()
    (on_path / "rotel-agent").symlink_to(rotel_agent_path())
    path = f"{on_path}{os.pathsep}{os.environ.get('PATH', '')}"
    with RotelScript(backends, PATH=path, PYTHON=str(tmp_path / "no-such-python")) as rotel:
        done = subprocess.run(
            [CLI, "upload", "--json", "--endpoint", rotel.http_endpoint],
            env=clean_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["signals"]["traces"]["records"] == 3
        assert backends.traces.wait_for_spans(3, timeout=10), rotel.log_text()
        assert backends.logs.wait_for_log_records(len(log_records(store)), timeout=10), rotel.log_text()
        assert backends.metrics.wait_until(
            lambda: metric_names(store) <= {m.name for m in backends.metrics.metrics()}, timeout=10
        ), rotel.log_text()
    assert sorted(span.span_id.hex() for span in backends.traces.spans()) == sorted(
        s["spanId"] for s in stored
    )
    assert_each_signal_reached_only_its_backend(backends)


def test_rotel_script_without_rotel_agent_exits_127_saying_how_to_install_it(tmp_path: Path) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    done = subprocess.run(
        [str(ROTEL_SCRIPT)],
        env={"PATH": str(empty), "PYTHON": str(tmp_path / "no-such-python")},
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    assert done.returncode == 127
    assert "pip install rotel" in done.stderr and "PYTHON" in done.stderr

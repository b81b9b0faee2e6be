"""Run real child processes (zero-code or configure()) and read back what they wrote to the store."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.message import Message
from opentelemetry.proto.logs.v1.logs_pb2 import LogsData
from opentelemetry.proto.metrics.v1.metrics_pb2 import MetricsData
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

BIN = Path(sys.executable).parent
INSTRUMENT = str(BIN / "opentelemetry-instrument")
CLI = str(BIN / "otel-distro")
MESSAGES: dict[str, type[Message]] = {"traces": TracesData, "metrics": MetricsData, "logs": LogsData}
_DROPPED_PREFIXES = ("OTEL_", "TELEMETRY_", "LANGFUSE_", "PYTHONPATH")


def clean_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The parent environment without any telemetry settings, with config dirs inside ``tmp``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_PREFIXES)}
    env.update(
        XDG_CONFIG_HOME=str(tmp / "xdg-config"),
        XDG_DATA_HOME=str(tmp / "xdg-data"),
        TELEMETRY_BASE_DIR=str(tmp / "store"),
        NO_PROXY="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
        OTEL_DISTRO_STRICT="1",  # errors of the distro's own code are raised, not swallowed
    )
    env.update(extra)
    return env


def otlp_env(tmp: Path, endpoint: str, **extra: str) -> dict[str, str]:
    """A clean environment whose traces, metrics and logs all go to an OTLP endpoint (gRPC)."""
    exporters = {f"OTEL_{signal}_EXPORTER": "otlp" for signal in ("TRACES", "METRICS", "LOGS")}
    return clean_env(tmp, OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, **exporters, **extra)


@dataclass
class AppRun:
    returncode: int
    stdout: str
    stderr: str


def run_app(
    tmp: Path,
    source: str,
    *,
    zero_code: bool = False,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    name: str = "app.py",
) -> AppRun:
    """Write ``source`` to ``tmp/name`` and run it as a real child process."""
    script = tmp / name
    script.write_text(textwrap.dedent(source))
    command = [INSTRUMENT, sys.executable, str(script)] if zero_code else [sys.executable, str(script)]
    done = subprocess.run(
        command,
        env=env if env is not None else clean_env(tmp),
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return AppRun(done.returncode, done.stdout, done.stderr)


def terminate_when_ready(tmp: Path, source: str) -> tuple[int, str]:
    """Run ``source`` until it prints ``ready``, send SIGTERM; return its exit code and the rest of stdout."""
    import signal as signals

    script = tmp / "app.py"
    script.write_text(textwrap.dedent(source))
    proc = subprocess.Popen(
        [sys.executable, str(script)], env=clean_env(tmp), stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    with proc.stdout:
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signals.SIGTERM)
        code = proc.wait(timeout=30)
        return code, proc.stdout.read()


def store_lines(base: Path, signal: str) -> list[bytes]:
    lines: list[bytes] = []
    directory = base / signal
    if not directory.is_dir():
        return lines
    for path in sorted(directory.glob("*.jsonl")):
        lines.extend(line for line in path.read_bytes().splitlines() if line.strip())
    return lines


def strict_parse(signal: str, line: bytes) -> Message:
    """Parse one store line into its OTLP protobuf message, rejecting unknown fields."""
    message = MESSAGES[signal]()
    json_format.Parse(line, message, ignore_unknown_fields=False)
    return message


def spans(base: Path) -> list[dict[str, Any]]:
    """Every span of the store as its OTLP/JSON dict, with ``_resource`` attributes added."""
    found = []
    for line in store_lines(base, "traces"):
        for resource_spans in orjson.loads(line)["resourceSpans"]:
            resource = attrs(resource_spans["resource"].get("attributes", []))
            for scope_spans in resource_spans["scopeSpans"]:
                for span in scope_spans["spans"]:
                    found.append({**span, "_resource": resource, "_scope": scope_spans["scope"].get("name")})
    return found


def log_records(base: Path) -> list[dict[str, Any]]:
    found = []
    for line in store_lines(base, "logs"):
        for resource_logs in orjson.loads(line)["resourceLogs"]:
            for scope_logs in resource_logs["scopeLogs"]:
                found.extend(scope_logs["logRecords"])
    return found


def metric_names(base: Path) -> set[str]:
    names = set()
    for line in store_lines(base, "metrics"):
        for resource_metrics in orjson.loads(line)["resourceMetrics"]:
            for scope_metrics in resource_metrics["scopeMetrics"]:
                names.update(metric["name"] for metric in scope_metrics["metrics"])
    return names


def value(any_value: dict[str, Any]) -> Any:
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in any_value:
            return any_value[key]
    if "intValue" in any_value:
        return int(any_value["intValue"])
    if "arrayValue" in any_value:
        return [value(item) for item in any_value["arrayValue"].get("values", [])]
    return any_value


def attrs(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {item["key"]: value(item["value"]) for item in items}


class DrivenApp:
    """A real child process the test drives line by line over stdin (each command answers ``ok``),
    with its stderr collected as it comes so a test can wait for a message."""

    def __init__(self, tmp: Path, source: str, env: dict[str, str], name: str = "driven.py") -> None:
        import threading

        script = tmp / name
        script.write_text(textwrap.dedent(source))
        self.proc = subprocess.Popen(
            [sys.executable, str(script)],
            env=env,
            cwd=tmp,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._stderr: list[str] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._cond:
                self._stderr.append(line)
                self._cond.notify_all()

    @property
    def stderr(self) -> str:
        with self._cond:
            return "".join(self._stderr)

    def call(self, command: str) -> str:
        """Send one command line; return the child's answer line (it must start with ``ok``)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        assert answer.startswith("ok"), f"{command!r} got {answer!r}; stderr:\n{self.stderr}"
        return answer

    def wait_for_stderr(self, text: str, count: int = 1, timeout: float = 15.0) -> None:
        """Block until ``text`` has appeared ``count`` times on the child's stderr."""
        with self._cond:
            found = self._cond.wait_for(lambda: "".join(self._stderr).count(text) >= count, timeout)
        assert found, f"{text!r} did not appear {count} time(s) on stderr:\n{self.stderr}"

    def close(self, timeout: float = 60) -> int:
        """Close stdin (the child finishes) and return its exit code."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._reader.join(timeout=5)
            for pipe in (self.proc.stdout, self.proc.stderr):
                if pipe is not None:
                    pipe.close()
        return code

"""The chat app's spans in a real Arize Phoenix (``make test-backends``): the direct exporter, and
``otel-distro upload`` plain and ``--to phoenix``, checked through Phoenix's REST API.

Phoenix runs from its own venv (``.venvs/phoenix``, tests/backends/requirements/phoenix.txt) on
127.0.0.1 with SQLite in a temporary directory. Its OTLP/gRPC receiver binds every interface
whatever ``PHOENIX_HOST`` says and cannot be turned off, so the whole run happens in a network
namespace that has the loopback interface only (``make test-backends`` makes it with
``unshare --net``): nothing outside can reach Phoenix, and nothing here can reach outside.
Skipped unless ``TEST_BACKENDS=1`` (the make target sets it).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.backends.chat_app import ANSWERS, CHAT_APP, EMAIL, QUESTIONS, SPANS_PER_TURN
from tests.support.proc import clean_env

ROOT = Path(__file__).resolve().parents[2]
PHOENIX = Path(os.environ.get("PHOENIX_BIN", ROOT / ".venvs" / "phoenix" / "bin" / "phoenix")).absolute()
CLI = str(Path(sys.executable).parent / "otel-distro")
STARTUP_SECONDS = 180.0

pytestmark = pytest.mark.skipif(
    os.environ.get("TEST_BACKENDS") != "1", reason="real backends: run `make test-backends`"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _loopback_only() -> bool:
    return [name for _, name in socket.if_nameindex()] == ["lo"]


class Phoenix:
    def __init__(self, base: str) -> None:
        self.base = base

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.base + path, timeout=10) as answer:
            return json.loads(answer.read())

    def projects(self) -> dict[str, str]:
        return {project["name"]: project["id"] for project in self.get("/v1/projects")["data"]}

    def spans(self, project: str) -> list[dict[str, Any]]:
        if project not in self.projects():
            return []
        found: list[dict[str, Any]] = []
        cursor = ""
        while True:
            page = self.get(f"/v1/projects/{project}/spans?limit=1000{cursor}")
            found += page["data"]
            if not page.get("next_cursor"):
                return found
            cursor = f"&cursor={page['next_cursor']}"

    def wait_for_spans(self, project: str, count: int, timeout: float = 60.0) -> list[dict[str, Any]]:
        """The project's spans once ``count`` arrived, and nothing more came in another second."""
        deadline = time.monotonic() + timeout
        found = self.spans(project)
        while len(found) < count and time.monotonic() < deadline:
            time.sleep(0.3)
            found = self.spans(project)
        time.sleep(1.0)  # ingestion is asynchronous: a duplicate would show by now
        return self.spans(project)


@pytest.fixture(scope="module")
def phoenix() -> Iterator[Phoenix]:
    if not PHOENIX.is_file():
        pytest.fail(f"{PHOENIX} is not installed: run `make test-backends`")
    if not _loopback_only():  # its gRPC receiver would take traffic from every interface
        pytest.fail("not in a loopback-only network namespace: run `make test-backends`")
    work = Path(tempfile.mkdtemp(prefix="phoenix-"))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PHOENIX_", "OTEL_", "TELEMETRY_"))}
    env.update(
        PHOENIX_WORKING_DIR=str(work),
        PHOENIX_HOST="127.0.0.1",
        PHOENIX_PORT=str(port),
        PHOENIX_GRPC_PORT=str(_free_port()),
        PHOENIX_TELEMETRY_ENABLED="false",
    )
    server = Phoenix(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + STARTUP_SECONDS
    with (work / "phoenix.log").open("wb") as log:
        proc = subprocess.Popen([str(PHOENIX), "serve"], env=env, stdout=log, stderr=log, cwd=work)
    try:
        while True:
            try:
                server.get("/v1/projects")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"Phoenix did not start:\n{(work / 'phoenix.log').read_text()[-3000:]}")
                time.sleep(0.3)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_chat(tmp: Path, turns: int, **extra: str) -> None:
    tmp.mkdir(parents=True, exist_ok=True)
    script = tmp / "chat.py"
    script.write_text(CHAT_APP)
    env = {k: v for k, v in clean_env(tmp).items() if not k.startswith("PHOENIX_")}
    done = subprocess.run(
        [sys.executable, str(script), str(turns)],
        env={**env, **extra},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def upload(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, "upload", *args], env=clean_env(tmp), capture_output=True, text=True, timeout=120, check=False
    )


def assert_shows_inputs_and_outputs(found: list[dict[str, Any]], turns: int) -> None:
    """Each span arrived once, and each GenAI span shows its input and output in Phoenix."""
    ids = [span["context"]["span_id"] for span in found]
    assert len(ids) == len(set(ids)) == turns * SPANS_PER_TURN
    kinds = sorted(span["span_kind"] for span in found)
    assert kinds.count("LLM") == 2 * turns and kinds.count("TOOL") == turns and kinds.count("AGENT") == turns
    for span in found:
        attributes = span["attributes"]
        if span["span_kind"] in ("LLM", "TOOL"):
            assert attributes.get("input.value") and attributes.get("output.value"), span
        if span["span_kind"] == "LLM":
            assert attributes.get("llm.model_name", "").startswith("gpt-4o"), span
            assert attributes.get("llm.output_messages.0.message.role") == "assistant", span
        if span["span_kind"] == "AGENT":
            assert attributes.get("agent.name") == "weather-agent", span
    assert set(ANSWERS[:turns]) <= {span["attributes"].get("output.value") for span in found}
    assert set(QUESTIONS[:turns]) <= {span["attributes"].get("input.value") for span in found}
    assert EMAIL not in json.dumps(found)


def test_the_direct_exporter_files_every_span_in_the_project_with_inputs_and_outputs(
    phoenix: Phoenix, tmp_path: Path
) -> None:
    run_chat(tmp_path, 2, PHOENIX_COLLECTOR_ENDPOINT=phoenix.base, PHOENIX_PROJECT_NAME="live-chat")
    assert_shows_inputs_and_outputs(phoenix.wait_for_spans("live-chat", 2 * SPANS_PER_TURN), 2)


def test_upload_to_phoenix_twice_files_every_span_once_and_exits_0(phoenix: Phoenix, tmp_path: Path) -> None:
    run_chat(tmp_path, 2)  # the store only
    for _ in range(2):
        done = upload(tmp_path, "--to", "phoenix", "--endpoint", phoenix.base)
        assert done.returncode == 0, done.stdout + done.stderr
    assert_shows_inputs_and_outputs(phoenix.wait_for_spans("chat-app", 2 * SPANS_PER_TURN), 2)
    done = upload(tmp_path, "--to", "phoenix", "--endpoint", phoenix.base, "--force")  # sent again
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(phoenix.wait_for_spans("chat-app", 2 * SPANS_PER_TURN)) == 2 * SPANS_PER_TURN  # no duplicates


def test_the_plain_upload_sends_the_traces_skips_what_phoenix_does_not_take_and_exits_0(
    phoenix: Phoenix, tmp_path: Path
) -> None:
    run_chat(tmp_path, 1)
    before = len(phoenix.spans("default"))
    done = upload(tmp_path, "--endpoint", phoenix.base)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "traces: sent 5" in done.stdout
    assert "metrics: skipped" in done.stdout and "logs: skipped" in done.stdout
    assert len(phoenix.wait_for_spans("default", before + SPANS_PER_TURN)) == before + SPANS_PER_TURN
    done = upload(tmp_path, "--endpoint", phoenix.base)  # remembered: not asked again
    assert done.returncode == 0 and done.stdout.count("skipped") == 2, done.stdout

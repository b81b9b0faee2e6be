"""``otel-distro forget``: recording stops, the store is erased, and it stays off until ``enable``."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.support.collector import RecordingOtlpServer
from tests.support.proc import DrivenApp, clean_env, spans

CLI = str(Path(sys.executable).parent / "otel-distro")

APP = """
    import logging, sys
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(message)s")
    import otel_distro
    from opentelemetry import trace

    handle = otel_distro.configure(service_name="forget-test", log_bridge=True)
    tracer = trace.get_tracer("forget")
    log = logging.getLogger("forget.app")
    for line in sys.stdin:
        label = line.strip()
        if label != "ping":
            with tracer.start_as_current_span(f"step {label}"):
                log.warning("did %s", label)
            handle.force_flush()
        print("ok", flush=True)
    handle.shutdown()
"""


def _env(tmp: Path) -> dict[str, str]:
    return clean_env(tmp, TELEMETRY_RELOAD_INTERVAL_SECS="0.2", OTEL_METRIC_EXPORT_INTERVAL="200")


def _cli(tmp: Path, *args: str) -> tuple[int, Any, str]:
    done = subprocess.run(
        [CLI, *args],
        env=_env(tmp),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    data = json.loads(done.stdout) if done.stdout.strip().startswith("{") else done.stdout
    return done.returncode, data, done.stderr


def _files(store: Path) -> list[str]:
    return sorted(str(path.relative_to(store)) for path in store.rglob("*") if path.is_file())


def test_forget_stops_a_running_app_erases_everything_and_later_starts_record_nothing_until_enabled(
    tmp_path: Path,
) -> None:
    store = tmp_path / "store"
    running = DrivenApp(tmp_path, APP, _env(tmp_path))
    try:
        running.call("before")
        with RecordingOtlpServer() as collector:  # leaves upload state in the store
            code, _report, err = _cli(tmp_path, "upload", "--endpoint", collector.endpoint, "--json")
            assert code == 0, err
        assert {"traces", "logs", "upload", "hash.key"} <= {name.split("/")[0] for name in _files(store)}

        code, report, err = _cli(tmp_path, "forget", "--yes", "--json", "--wait", "1")
        assert code == 0, err
        assert report["left"] == []
        running.wait_for_stderr("recording stopped: `otel-distro forget` was run")
        for label in ("after-1", "after-2"):  # the app runs on, recording nothing
            running.call(label)
    finally:
        assert running.close() == 0, running.stderr
    assert _files(store) == ["disabled.json"]  # not even what the app flushed at exit

    later = DrivenApp(tmp_path, APP, _env(tmp_path), name="later.py")
    try:
        later.call("while-forgotten")
        assert _files(store) == ["disabled.json"]

        code, report, err = _cli(tmp_path, "enable", "--json")
        assert code == 0, err
        assert report == {"store": str(store), "marker_removed": True, "still_off_by": None}
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # the running app resumes within its reload interval
            later.call("resumed")
            if any(span["name"] == "step resumed" for span in spans(store)):
                break
            time.sleep(0.1)
    finally:
        assert later.close() == 0, later.stderr
    names = {span["name"] for span in spans(store)}
    assert "step resumed" in names
    assert "step while-forgotten" not in names
    assert "disabled.json" not in _files(store)


def test_forget_asks_before_erasing_and_refuses_without_a_terminal_or_yes(tmp_path: Path) -> None:
    store = tmp_path / "store"
    (store / "traces").mkdir(parents=True)
    (store / "traces" / "2026-01-01.jsonl").write_text("{}\n")

    code, _out, err = _cli(tmp_path, "forget")

    assert code == 2
    assert "--yes" in err
    assert _files(store) == ["traces/2026-01-01.jsonl"]


def test_forget_keeps_files_that_are_not_the_distros(tmp_path: Path) -> None:
    store = tmp_path / "store"
    (store / "traces").mkdir(parents=True)
    (store / "traces" / "2026-01-01.jsonl").write_text("{}\n")
    (store / "notes.txt").write_text("mine\n")

    code, report, err = _cli(tmp_path, "forget", "--yes", "--json", "--wait", "0")

    assert code == 0, err
    assert _files(store) == ["disabled.json", "notes.txt"]
    assert report["removed"] == [str(store / "traces")]


def test_forget_erases_the_conversation_logs_spool_in_a_directory_of_the_users_choosing(
    tmp_path: Path,
) -> None:
    """With the store off and TELEMETRY_CACHE_PATH elsewhere, the turns waiting in the spool were
    left there, and sent after ``enable``."""
    from exporters.conversation_log import ConversationLogExporter
    from tests.unit.test_conversation_log_exporter import _spans

    cache = tmp_path / "elsewhere" / "conversation_log"
    exporter = ConversationLogExporter("http://127.0.0.1:9/down", cache, flush_interval=3600)
    exporter.export(_spans(3))
    exporter.force_flush(200)  # refused: the turns wait, with a state and a position
    exporter.shutdown()
    (cache / "ready.00000000000000000001-1-1.jsonl").write_text("{}\n")  # an older version's segment
    assert any((cache / "spool").rglob("*.jsonl"))
    done = subprocess.run(
        [CLI, "forget", "--yes", "--json", "--wait", "0"],
        env={**_env(tmp_path), "TELEMETRY_CACHE_PATH": str(cache), "TELEMETRY_STORE_ENABLED": "false"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["left"] == []
    assert [path for path in cache.rglob("*") if path.is_file()] == []

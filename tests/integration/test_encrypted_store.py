"""The encrypted store and the disk guard with real processes: an app writes, the CLI reads."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.support.proc import CLI, clean_env, run_app, strict_parse

MARKERS = ("walrus-step", "zebra-note-42", "giraffe-log-line", "okapi.counter")
APP = """
    import logging
    import otel_distro
    from opentelemetry import metrics, trace

    handle = otel_distro.configure(service_name="sealed-app", log_bridge=True)
    tracer = trace.get_tracer("sealed")
    counter = metrics.get_meter("sealed").create_counter("okapi.counter")
    for n in range(COUNT):
        with tracer.start_as_current_span(f"walrus-step {n}", attributes={"app.note": f"zebra-note-42 {n}"}):
            logging.getLogger("sealed.app").warning("giraffe-log-line %d", n)
            counter.add(1)
        handle.force_flush()  # one store line per span
    handle.shutdown()
"""


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    settings = {
        "TELEMETRY_STORE_ENCRYPTION": "true",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",  # no keychain here: the key file
    }
    return clean_env(tmp, **{**settings, **extra})


def _cli(tmp: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, Any, str]:
    done = subprocess.run(
        [CLI, *args],
        env=env or _env(tmp),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    out = done.stdout.strip()
    return done.returncode, json.loads(out) if out.startswith("{") else out, done.stderr


def _raw(store: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(store.rglob("*.jsonl")))


def _key_files(tmp: Path) -> list[Path]:
    return sorted((tmp / "xdg-config" / "otel-distro" / "store-keys").glob("*.key"))


def _record(tmp: Path, spans: int = 3, **extra: str) -> None:
    done = run_app(tmp, APP.replace("COUNT", str(spans)), env=_env(tmp, **extra))
    assert done.returncode == 0, done.stderr


def test_a_real_app_writes_no_plaintext_and_stats_trace_and_compliance_read_it(tmp_path: Path) -> None:
    _record(tmp_path)
    store = tmp_path / "store"
    raw = _raw(store)
    assert raw and all(line.startswith(b"~s1.") for line in raw.splitlines())
    for marker in (*MARKERS, "sealed-app", "service.name", "resourceSpans"):
        assert marker.encode() not in raw, marker
    (key_file,) = _key_files(tmp_path)
    assert oct(key_file.stat().st_mode & 0o777) == "0o600" and store not in key_file.parents

    code, stats, err = _cli(tmp_path, "stats", "--json")
    assert code == 0, err
    assert stats["spans"] == 3 and stats["encrypted"] is True and stats["log_records"] == 3
    assert {row["name"] for row in stats["top_names"]} == {f"walrus-step {n}" for n in range(3)}
    assert stats["unauthenticated_records"] == 0 and stats["disk_guard"]["writing"] is True

    code, trace, err = _cli(tmp_path, "trace", "last", "--json")
    assert code == 0, err
    assert trace["spans"][0]["attributes"]["app.note"].startswith("zebra-note-42")

    code, compliance, err = _cli(tmp_path, "compliance", "--json")
    assert code == 0 and compliance["spans_checked"] == 3, err
    code, text, err = _cli(tmp_path, "stats")
    assert code == 0 and "disk guard:  writing" in text, err


def test_a_swapped_line_is_reported_and_skipped(tmp_path: Path) -> None:
    _record(tmp_path)
    (path,) = (tmp_path / "store" / "traces").glob("*.jsonl")
    lines = path.read_bytes().splitlines(keepends=True)
    assert len(lines) == 3
    path.write_bytes(lines[1] + lines[0] + lines[2])
    code, stats, err = _cli(tmp_path, "stats", "--json")
    assert code == 1  # the answer leaves lines out
    assert stats["spans"] == 1 and stats["unauthenticated_records"] == 2
    assert "did not open" in err and "failed authentication" in err


def test_rotate_key_keeps_everything_readable_and_export_writes_plain_otlp(tmp_path: Path) -> None:
    _record(tmp_path)
    (key_file,) = _key_files(tmp_path)
    old_key = key_file.read_text()
    code, report, err = _cli(tmp_path, "store", "rotate-key", "--wait", "0", "--json")
    assert code == 0, err
    assert report["files"] == 3 and report["skipped"] == 0 and len(report["old_key_ids"]) == 1
    assert key_file.read_text() != old_key and len(json.loads(key_file.read_text())["keys"]) == 1
    raw = _raw(tmp_path / "store")
    assert report["new_key_id"].encode() in raw and report["old_key_ids"][0].encode() not in raw

    _record(tmp_path, spans=2)  # a new process writes with the new key
    code, stats, err = _cli(tmp_path, "stats", "--json")
    assert code == 0 and stats["spans"] == 5 and stats["unauthenticated_records"] == 0, err

    out = tmp_path / "export"
    code, _, err = _cli(tmp_path, "store", "export", "--since", "7d", "-o", str(out), "--json")
    assert code == 0, err
    for signal in ("traces", "logs", "metrics"):
        (path,) = (out / signal).glob("*.jsonl")
        for line in path.read_bytes().splitlines():
            strict_parse(signal, line)  # json_format.Parse into TracesData / LogsData / MetricsData
    text = _raw(out)
    assert all(marker.encode() in text for marker in MARKERS)


def test_forget_erases_the_store_key(tmp_path: Path) -> None:
    _record(tmp_path, spans=1)
    assert _key_files(tmp_path)
    code, result, err = _cli(tmp_path, "forget", "--yes", "--wait", "0", "--json")
    assert code == 0, err
    assert _key_files(tmp_path) == []
    assert any(item.endswith(".key") for item in result["removed"])


def test_with_too_little_free_disk_the_app_writes_nothing_and_stats_says_why(tmp_path: Path) -> None:
    huge = str(1 << 39)  # MB: more than any disk has free
    _record(tmp_path, spans=2, TELEMETRY_MIN_FREE_DISK_MB=huge, TELEMETRY_STORE_ENCRYPTION="false")
    assert _raw(tmp_path / "store" / "traces") == b""
    env = _env(tmp_path, TELEMETRY_MIN_FREE_DISK_MB=huge)
    code, stats, err = _cli(tmp_path, "stats", "--json", env=env)
    assert code == 0, err
    assert stats["dropped"]["store_disk_low"] >= 2
    assert stats["disk_guard"]["writing"] is False and stats["disk_guard"]["paused_by"] == "store_disk_low"
    code, text, _ = _cli(tmp_path, "stats", env=env)
    assert "NOT WRITING (store_disk_low)" in text and "store_disk_low" in text


def test_serve_reads_an_encrypted_store_and_keeps_its_index_in_memory_only(tmp_path: Path) -> None:
    from tests.support.serve import ServeProcess

    _record(tmp_path)
    store = tmp_path / "store"
    server = ServeProcess(tmp_path, env=_env(tmp_path))
    try:
        traces = server.get("/api/v1/traces").json()["traces"]
        assert len(traces) == 3
        assert {trace["root_name"] for trace in traces} == {f"walrus-step {n}" for n in range(3)}
        one = server.get(f"/api/v1/traces/{traces[0]['trace_id']}").json()
        assert one["spans"][0]["attributes"]["app.note"].startswith("zebra-note-42")
        stats = server.get("/api/v1/stats").json()
        assert stats["spans"] == 3 and stats["encrypted"] is True
        assert "okapi_counter" in server.get("/metrics").text
        page = server.get(f"/traces/{traces[0]['trace_id']}")
        assert page.status_code == 200 and "walrus-step" in page.text
    finally:
        server.close()
    assert not (store / "index").exists()  # nothing the store holds was written out in plain text
    for marker in MARKERS:
        assert marker.encode() not in _raw(store)


def test_after_rotate_key_an_upload_sends_only_what_it_had_not_sent(tmp_path: Path) -> None:
    from tests.integration.test_upload import OtlpEndpoint

    _record(tmp_path)
    with OtlpEndpoint() as endpoint:
        code, first, err = _cli(tmp_path, "upload", "--endpoint", endpoint.base, "--json")
        assert code == 0 and first["signals"]["traces"]["records"] == 3, err
        code, report, err = _cli(tmp_path, "store", "rotate-key", "--wait", "0", "--json")
        assert code == 0 and report["files"] == 3, err
        code, again, err = _cli(tmp_path, "upload", "--endpoint", endpoint.base, "--json")
        assert code == 0, err
        assert all(counts["records"] == 0 for counts in again["signals"].values())  # nothing twice
        _record(tmp_path, spans=2)  # written with the new key after the rotation
        code, later, err = _cli(tmp_path, "upload", "--endpoint", endpoint.base, "--json")
        assert code == 0 and later["signals"]["traces"]["records"] == 2, err
        assert len(endpoint.span_ids) == 5 == len(set(endpoint.span_ids))

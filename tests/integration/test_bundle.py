"""``otel-distro bundle``: everything a bug report needs, and none of the secrets it was given."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import tarfile
from pathlib import Path

from tests.support.proc import CLI, clean_env, run_app

# Secrets in the environment of the app and of the CLI, and PII the app records
SECRETS = {
    "TELEMETRY_HASH_KEY": "hash-key-Quokka-5521",
    "TELEMETRY_STORE_KEY": base64.b64encode(b"K" * 32).decode(),
    "LANGFUSE_SECRET_KEY": "sk-lf-5b1e0c7a-9f14-4e0b-8a55-d2c4f1e6a9b3",
    "LANGFUSE_PUBLIC_KEY": "pk-lf-1c2d3e4f-aaaa-bbbb-cccc-123456789abc",
    "HELICONE_API_KEY": "sk-helicone-7xq2m9v4k1p8z3w6",
    "TELEMETRY_SERVE_TOKEN": "serve-token-Narwhal-8812",
    "TELEMETRY_UPLOAD_HEADERS": "Authorization=Bearer upload-token-Pangolin-3390",
}
PII = ("jane.doe@example.com", "+1 415 555 0199", "4111 1111 1111 1111", "Xk29vLq7Tz", "9f8a7c6b5d4e3f2a1b0c")
APP = """
    import otel_distro
    from opentelemetry import trace

    handle = otel_distro.configure(service_name="bundle-app")
    tracer = trace.get_tracer("bundle")
    user = {
        "enduser.id": "jane.doe@example.com",
        # random values no pattern knows, under keys that name a secret
        "db.password": "Xk29vLq7Tz",
        "http.request.header.x-functions-key": "9f8a7c6b5d4e3f2a1b0c",
    }
    with tracer.start_as_current_span("bundle-step one", attributes=user) as span:
        span.add_event("gen_ai.user.message", {"content": "call +1 415 555 0199, card 4111 1111 1111 1111"})
        print(format(span.get_span_context().trace_id, "032x"))
    with tracer.start_as_current_span("bundle-step two"):
        pass
    handle.shutdown()
"""


def _env(tmp: Path) -> dict[str, str]:
    # redaction off while recording: the store holds raw PII, which the bundle must redact itself
    return clean_env(
        tmp,
        **SECRETS,
        TELEMETRY_STORE_ENCRYPTION="true",
        TELEMETRY_PII_REDACTION="false",
        LANGFUSE_HOST="http://127.0.0.1:9",  # nothing listens: the exporter fails quietly
        HELICONE_BASE_URL="http://127.0.0.1:9",
    )


def _bundle(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, "bundle", *args],
        env=_env(tmp),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        return {
            member.name.split("/", 1)[1]: tar.extractfile(member).read()  # type: ignore[union-attr]
            for member in tar.getmembers()
        }


def test_the_bundle_holds_the_window_settings_versions_and_counters_and_no_secret(tmp_path: Path) -> None:
    done = run_app(tmp_path, APP, env=_env(tmp_path))
    assert done.returncode == 0, done.stderr
    raw_store = b"".join(p.read_bytes() for p in (tmp_path / "store").rglob("*.jsonl"))
    assert b"bundle-step" not in raw_store  # encrypted on disk

    target = tmp_path / "bundle.tar.gz"
    result = _bundle(tmp_path, "--since", "1h", "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    members = _members(target)
    assert {"settings.json", "versions.json", "drops.json", "problems.txt", "manifest.json"} <= set(members)
    everything = b"\n".join(members.values())
    for name, secret in SECRETS.items():
        assert secret.encode() not in everything, name
    for token in ("upload-token-Pangolin-3390", "Pangolin"):
        assert token.encode() not in everything
    for value in PII:
        assert value.encode() not in everything, value
    # what it is for is there: the spans (opened), the settings, the versions
    traces = b"".join(data for name, data in members.items() if name.startswith("store/traces/"))
    assert b"bundle-step one" in traces and b"bundle-step two" in traces
    assert b'"db.password"' in traces and b"<REDACTED>" in traces  # the key stays, its value goes
    settings = {row["name"]: row for row in json.loads(members["settings.json"])["options"]}
    assert settings["langfuse_secret_key"]["value"] == "***" and settings["store_encryption"]["value"] is True
    assert settings["pii_redaction"]["source"] == "TELEMETRY_PII_REDACTION"
    versions = json.loads(members["versions.json"])
    assert "opentelemetry-sdk" in versions["packages"] and "otel-distro" in versions["packages"]
    assert any(name.startswith("opentelemetry-instrumentation") for name in versions["packages"])
    assert "dropped" in json.loads(members["drops.json"])


def test_dry_run_lists_and_writes_nothing_and_trace_narrows_to_one_trace(tmp_path: Path) -> None:
    done = run_app(tmp_path, APP, env=_env(tmp_path))
    assert done.returncode == 0, done.stderr
    trace_id = done.stdout.strip()
    target = tmp_path / "b.tar.gz"
    result = _bundle(tmp_path, "--dry-run", "-o", str(target))
    assert result.returncode == 0 and not target.exists(), result.stderr
    assert "settings.json" in result.stdout and "store/traces/" in result.stdout

    result = _bundle(tmp_path, "--trace", trace_id, "-o", str(target))
    assert result.returncode == 0, result.stderr
    traces = b"".join(data for name, data in _members(target).items() if name.startswith("store/traces/"))
    assert b"bundle-step one" in traces and b"bundle-step two" not in traces
    assert io.BytesIO(traces).read().count(trace_id.encode()) >= 1

"""Hot reload: edits to telemetry.toml reach a running process within its reload interval."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.support.collector import RecordingOtlpServer
from tests.support.proc import DrivenApp, attrs, clean_env, spans

# Each stdin line is a span label: one span per line, flushed, then "ok"; "ping" only answers
# (once it has, configure() has run and the watcher knows the file as it was).
APP = """
    import logging, sys
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(message)s")
    logging.getLogger("otel_distro").setLevel(logging.INFO)
    import otel_distro
    from opentelemetry import trace

    handle = otel_distro.configure()
    tracer = trace.get_tracer("reload")
    for line in sys.stdin:
        label = line.strip()
        if label == "ping":
            print("ok", flush=True)
            continue
        with tracer.start_as_current_span(f"step {label}") as span:
            span.set_attribute("note", f"write to {label}@example.com")
        handle.force_flush()
        print("ok", flush=True)
    handle.shutdown()
"""
APPLIED = "applied changed settings"


class Config:
    """The running app's telemetry.toml; every write gets a new mtime so a change is always seen."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp = 1_700_000_000_000_000_000

    def write(self, text: str) -> None:
        self.path.write_text("reload_interval_secs = 0.2\n" + text)
        self._stamp += 1_000_000_000
        os.utime(self.path, ns=(self._stamp, self._stamp))


def _start(tmp: Path, config: Config, **env: str) -> DrivenApp:
    config.write('[otel]\nservice_name = "reload-test"\n')
    app = DrivenApp(tmp, APP, clean_env(tmp, TELEMETRY_CONFIG=str(config.path), **env))
    app.call("ping")
    return app


def _stored(store: Path) -> dict[str, dict[str, Any]]:
    return {span["name"]: attrs(span["attributes"]) for span in spans(store)}


def test_a_running_process_applies_enabled_sampler_redaction_and_store_changes_without_restart(
    tmp_path: Path,
) -> None:
    config = Config(tmp_path / "telemetry.toml")
    app = _start(tmp_path, config)
    store = tmp_path / "store"
    try:
        app.call("a")
        assert "step a" in _stored(store)

        # one edit at a time, each followed by a span: b is not recorded (disabled), c has the deny
        # key applied, d is sampled out, e finds the store off, f is back to the defaults
        service = '[otel]\nservice_name = "reload-test"\n'
        edits = [
            ("b", "enabled = false\n" + service),
            ("c", service + '[privacy]\nredaction_deny_keys = ["note"]\n'),
            ("d", service.replace("\n", '\ntraces_sampler = "always_off"\n', 1)),
            ("e", service + "[store]\nenabled = false\n"),
            ("f", service),
        ]
        for applied, (label, text) in enumerate(edits, start=1):
            config.write(text)
            app.wait_for_stderr(APPLIED, applied)
            app.call(label)
    finally:
        assert app.close() == 0, app.stderr

    stored = _stored(store)
    assert set(stored) == {"step a", "step c", "step f"}, (
        app.stderr
    )  # b: disabled, d: sampled out, e: no store
    assert stored["step a"]["note"] == "write to <EMAIL>"
    assert stored["step c"]["note"] == "<REDACTED>"  # the deny key from the reloaded file
    assert stored["step f"]["note"] == "write to <EMAIL>"  # and gone again with it
    assert "Traceback" not in app.stderr


def test_changes_that_need_a_restart_are_named_and_a_broken_file_is_not_applied(tmp_path: Path) -> None:
    config = Config(tmp_path / "telemetry.toml")
    app = _start(tmp_path, config)
    store = tmp_path / "store"
    try:
        config.write('[otel]\nservice_name = "renamed"\n[privacy]\nredaction_deny_keys = ["note"]\n')
        app.wait_for_stderr("take effect at the next start, not now: service_name")
        app.wait_for_stderr(APPLIED, 1)
        app.call("a")

        config.write("enabled = false\n[otel\n")  # not TOML: nothing of it may apply
        app.wait_for_stderr("is not applied; the running settings stay")
        app.call("b")
    finally:
        assert app.close() == 0, app.stderr

    recorded = {span["name"]: span for span in spans(store)}
    assert set(recorded) == {"step a", "step b"}
    for span in recorded.values():
        assert span["_resource"]["service.name"] == "reload-test"  # the resource is fixed at start
        assert attrs(span["attributes"])["note"] == "<REDACTED>"  # the rule from before the broken edit


def test_turning_the_upload_on_in_the_file_starts_it_in_the_running_process(tmp_path: Path) -> None:
    config = Config(tmp_path / "telemetry.toml")
    app = _start(tmp_path, config)
    try:
        with RecordingOtlpServer() as collector:
            app.call("before")
            config.write(
                '[otel]\nservice_name = "reload-test"\n'
                f'[upload]\nenabled = true\nendpoint = "{collector.endpoint}"\ninterval_secs = 0.2\n'
            )
            app.wait_for_stderr(APPLIED, 1)
            app.call("after")
            assert collector.wait_until(
                lambda: {"step before", "step after"} <= {span.name for span in collector.spans()}, 15
            ), app.stderr

            config.write('[otel]\nservice_name = "reload-test"\n')  # upload off again
            app.wait_for_stderr(APPLIED, 2)
            collector.clear()
            app.call("off")
            assert not collector.wait_for_spans(1, timeout=1.5)
    finally:
        assert app.close() == 0, app.stderr
    assert "step off" in _stored(tmp_path / "store")  # still recorded locally, only not uploaded


def test_an_unknown_key_is_warned_about_and_the_rest_of_the_file_applies(tmp_path: Path) -> None:
    """A review of issue 21: a file whose only problem was an unknown key was refused whole on
    reload ("is not applied"), though at start an unknown key is only a warning."""
    config = Config(tmp_path / "telemetry.toml")
    app = _start(tmp_path, config)
    store = tmp_path / "store"
    try:
        config.write('[privacy]\nredaction_deny_keys = ["note"]\nno_such_key = 1\n')
        app.wait_for_stderr("unknown key 'privacy.no_such_key'")
        app.wait_for_stderr(APPLIED, 1)
        app.call("a")
    finally:
        assert app.close() == 0, app.stderr
    assert "is not applied" not in app.stderr
    recorded = {span["name"]: span for span in spans(store)}
    assert attrs(recorded["step a"]["attributes"])["note"] == "<REDACTED>"  # the file's rule applied

"""What a running pipeline changes on reload: parts built, rebuilt and stopped from settings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from otel_distro.pipeline import build_pipeline
from otel_distro.settings import load_settings


def test_apply_builds_rebuilds_and_stops_parts_and_swaps_privacy_and_sampler(tmp_path: Path) -> None:
    settings = load_settings({"base_dir": tmp_path, "reload_interval_secs": 0}, env={})
    pipeline = build_pipeline(settings, install=False)
    board = pipeline.switchboard
    try:
        assert set(board.parts) == {"store"}
        store_part = board.part("store")
        processors = pipeline.processors

        upload = dataclasses.replace(
            settings, upload_enabled=True, upload_endpoint="http://127.0.0.1:9", upload_interval_secs=3600
        )
        pipeline.apply(upload)
        assert set(board.parts) == {"store", "upload"}
        assert board.part("store") is store_part  # its settings did not change: not rebuilt
        assert pipeline.uploader is not None

        changed = dataclasses.replace(upload, redaction_deny_keys=("note",), traces_sampler="always_off")
        pipeline.apply(changed)
        assert pipeline.processors is not processors
        assert pipeline.tracer_provider.chain.processors == pipeline.processors
        assert board.sampler.delegate is ALWAYS_OFF

        pipeline.apply(dataclasses.replace(changed, store_enabled=False, upload_enabled=False))
        assert board.parts == {}
        assert pipeline.tracer_provider.chain.downstream == ()

        pipeline.apply(dataclasses.replace(changed, enabled=False))
        assert not pipeline.tracer_provider.chain.recording
        pipeline.apply(changed)
        assert pipeline.tracer_provider.chain.recording
        assert set(board.parts) == {"store", "upload"}
    finally:
        pipeline.shutdown()


def test_settings_applied_after_shutdown_start_nothing(tmp_path: Path) -> None:
    settings = load_settings({"base_dir": tmp_path, "reload_interval_secs": 0}, env={})
    pipeline = build_pipeline(settings, install=False)
    pipeline.shutdown()

    pipeline.apply(
        dataclasses.replace(
            settings, upload_enabled=True, upload_endpoint="http://127.0.0.1:9", upload_interval_secs=3600
        )
    )

    assert pipeline.uploader is None

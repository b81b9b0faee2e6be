"""What a running pipeline changes on reload: parts built, rebuilt and stopped from settings."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
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


# A changed value for every option a part is built from: each must rebuild that part and no other.
CHANGES = {
    "endpoint": "http://127.0.0.1:10/other",
    "batch_size": 7,
    "flush_interval_secs": 9.0,
    "max_cache_size_mb": 3,
    "endpoint_headers": (("x-a", "b"),),
    "endpoint_timeout_secs": 4.0,
    "execution_traces": "all",
    "langfuse_public_key": "pk-lf-other",
    "langfuse_secret_key": "sk-lf-other",
    "langfuse_host": "http://127.0.0.1:11",
    "langfuse_sample_rate": 0.5,
    "langfuse_spans": "all",
    "langfuse_timeout_secs": 4.0,
    "langfuse_headers": (("x-a", "b"),),
    "upload_endpoint": "http://127.0.0.1:12",
    "upload_headers": (("x-a", "b"),),
    "upload_interval_secs": 1800.0,
    "upload_signals": ("traces",),
    "helicone_api_key": "sk-helicone-other",
    "helicone_base_url": "http://127.0.0.1:13",
    "helicone_spans": "all",
    "helicone_timeout_secs": 4.0,
    "helicone_request_headers": (("x-a", "b"),),
    "helicone_properties": (("team", "b"),),
    "phoenix_collector_endpoint": "http://127.0.0.1:14",
    "phoenix_project_name": "other",
    "phoenix_api_key": "px-other",
    "phoenix_spans": "genai",
    "phoenix_timeout_secs": 4.0,
}


def _every_part_on(tmp_path: Path) -> object:
    return load_settings(
        {
            "base_dir": tmp_path,
            "reload_interval_secs": 0,
            "endpoint": "http://127.0.0.1:9/logs",
            "langfuse_public_key": "pk-lf-test",
            "langfuse_secret_key": "sk-lf-test",
            "langfuse_host": "http://127.0.0.1:9",
            "upload_enabled": True,
            "upload_endpoint": "http://127.0.0.1:9",
            "upload_interval_secs": 3600,
            "helicone_api_key": "sk-helicone-test",
            "helicone_base_url": "http://127.0.0.1:9",
            "phoenix_collector_endpoint": "http://127.0.0.1:9",
            "traces_sampler": "parentbased_traceidratio",  # one that reads its argument
        },
        env={},
    )


@contextlib.contextmanager
def _running(tmp_path: Path) -> Iterator[tuple[Any, Any, dict[str, Any]]]:
    """A pipeline with every part on: its settings, the pipeline, and its parts as built."""
    settings = _every_part_on(tmp_path)
    pipeline = build_pipeline(settings, install=False)  # type: ignore[arg-type]
    try:
        board = pipeline.switchboard
        yield settings, pipeline, {part: board.part(part) for part in board.parts}
    finally:
        pipeline.shutdown()


def test_every_option_a_part_reads_is_declared_and_reloadable() -> None:
    from otel_distro.settings import RELOADABLE, applied_by

    for part in ("conversation_log", "langfuse", "upload", "helicone", "phoenix"):
        declared = set(applied_by(part))
        assert declared and declared <= RELOADABLE
        assert declared <= set(CHANGES) | set(OTHER), part  # the tables below cover each one


def test_every_piece_an_option_names_is_a_part_an_in_place_piece_or_the_gate() -> None:
    """An option's ``applies`` names what a change of it rebuilds or sets: a part (PARTS), a
    piece changed in place (IN_PLACE) or the recording gate; a name that is none of them would
    leave the option read at start-up only."""
    from otel_distro.parts import PARTS
    from otel_distro.settings import OPTIONS
    from otel_distro.switchboard import IN_PLACE

    named = {option.metadata["applies"] for option in OPTIONS} - {None}
    assert named == set(PARTS) - {"store"} | set(IN_PLACE) | {"gate"}
    assert not set(PARTS) & set(IN_PLACE)


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_a_change_rebuilds_the_part_that_reads_it_and_no_other(tmp_path: Path, name: str) -> None:
    from otel_distro.settings import OPTIONS

    with _running(tmp_path) as (settings, pipeline, before):
        board = pipeline.switchboard
        assert set(before) == ALL_PARTS
        owner = next(option.metadata["applies"] for option in OPTIONS if option.name == name)
        pipeline.apply(dataclasses.replace(settings, **{name: CHANGES[name]}))
        rebuilt = {part for part in board.parts if board.part(part) is not before[part]}
        assert rebuilt == {owner}, (name, rebuilt)


# Options that are no part's: each changes its own piece in place and rebuilds no part.
IN_PLACE = {
    # privacy: the chain's processors are swapped
    "pii_redaction": False,
    "hash_key": "another-secret-hash-key",
    "redaction_style": "mask",
    "redaction_entities": ("EMAIL",),
    "redaction_allow_keys": ("note",),
    "redaction_deny_keys": ("note",),
    "redaction_allow_values": ("ok",),
    "redaction_patterns": (("TICKET", r"TCK-[0-9]{6}"),),
    "redaction_free_text_keys": ("note",),
    "redaction_score_threshold": 0.7,
    "project_keys": ("proj",),
    "redaction_id_keys": ("user.id",),
    "record_inputs": False,
    "record_outputs": False,
    "plugin_processors": ("no-such-processor",),  # reported, skipped: the chain is still rebuilt
    "redaction_presidio": True,  # presidio's engine is loaded at the first text it is asked about
    "redaction_ner_model": "en_core_web_sm",
    # sampler: the sampler's delegate is swapped
    "traces_sampler": "always_off",
    "traces_sampler_arg": "0.5",
    # retention: the store's purge age
    "retention_days": 7,
    "traces_retention_days": 3,
    "metrics_retention_days": 5,
    "logs_retention_days": 4,
}
# The gate, the plugins and the conversation log's directory: what each change starts, stops
# or rebuilds: (new value, or a function of the test's folder; parts rebuilt; parts stopped;
# whether the chains still record).
ALL_PARTS = {"store", "conversation_log", "langfuse", "upload", "helicone", "phoenix"}
OTHER: dict[str, tuple[Any, set[str], set[str], bool]] = {
    "enabled": (False, set(), ALL_PARTS, False),
    # the conversation log no longer follows the store's files: rebuilt with a cache of its own
    "store_enabled": (False, {"conversation_log"}, {"store", "upload"}, True),
    "upload_enabled": (False, set(), {"upload"}, True),
    "reload_interval_secs": (5.0, set(), set(), True),  # the watcher's own interval
    "plugin_exporters": (("no-such-exporter",), set(), set(), True),  # reported, skipped
    "plugin_settings": ((("no-such-exporter", (("a", 1),)),), set(), set(), True),
    "cache_path": (lambda tmp: tmp / "other-cache", {"conversation_log"}, set(), True),
}


def test_every_reloadable_option_has_a_row_in_a_table_of_changes() -> None:
    from otel_distro.settings import RELOADABLE

    tables = (set(CHANGES), set(IN_PLACE), set(OTHER))
    assert set().union(*tables) == RELOADABLE
    assert sum(map(len, tables)) == len(RELOADABLE)  # each in one table only


@pytest.mark.parametrize("name", sorted(OTHER))
def test_a_change_of_the_gate_plugins_or_cache_starts_stops_or_rebuilds_only_its_parts(
    tmp_path: Path, name: str
) -> None:
    value, rebuilt, stopped, recording = OTHER[name]
    with _running(tmp_path) as (settings, pipeline, before):
        board = pipeline.switchboard
        processors = pipeline.processors
        changed = value(tmp_path) if callable(value) else value
        pipeline.apply(dataclasses.replace(settings, **{name: changed}))
        after = {part: board.part(part) for part in board.parts}
        assert ALL_PARTS - set(after) == stopped, name
        assert {part for part in after if after[part] is not before.get(part)} == rebuilt, name
        assert board.span_chain.recording is recording and board.log_chain.recording is recording
        assert pipeline.processors is processors  # privacy untouched


@pytest.mark.parametrize("name", sorted(IN_PLACE))
def test_a_change_of_privacy_sampler_or_retention_is_applied_in_place_and_rebuilds_no_part(
    tmp_path: Path, name: str
) -> None:
    with _running(tmp_path) as (settings, pipeline, before):
        board = pipeline.switchboard
        processors, sampler = pipeline.processors, board.sampler.delegate
        retention = pipeline.store.retention_days, dict(pipeline.store.retention)
        changed = dataclasses.replace(settings, **{name: IN_PLACE[name]})
        pipeline.apply(changed)
        assert {part: board.part(part) for part in board.parts} == before  # the same objects
        swapped = {
            "privacy": pipeline.processors is not processors,
            "sampler": board.sampler.delegate is not sampler,
            "retention": (pipeline.store.retention_days, dict(pipeline.store.retention)) != retention,
        }
        from otel_distro.settings import OPTIONS

        owner = next(option.metadata["applies"] for option in OPTIONS if option.name == name)
        assert {kind for kind, changed_here in swapped.items() if changed_here} == {owner}, name


def test_the_continuous_upload_stays_off_where_private_metrics_were_asked_for(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(
        {
            "base_dir": tmp_path,
            "reload_interval_secs": 0,
            "upload_enabled": True,
            "upload_endpoint": "http://127.0.0.1:9",
            "upload_dp_epsilon": 1.0,
        },
        env={},
    )
    pipeline = build_pipeline(settings, install=False)
    try:
        assert pipeline.uploader is None  # never raw metrics where noisy ones were asked for
        assert any("upload.dp_epsilon" in record.getMessage() for record in caplog.records)
    finally:
        pipeline.shutdown()

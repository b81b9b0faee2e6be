"""Every directory the distro creates is 0700 and every file 0600, whatever the umask (issue 22).

``Path.mkdir(mode=0o700, parents=True)`` gives the mode to the last directory only: under
umask 022 the store's ``cache/`` came out 0755. A real app runs under ``opentelemetry-instrument``
with umask 022 and every exporter on (the store, the log bridge, the conversation log, Langfuse
and the continuous upload, each pointed at a recorder on 127.0.0.1); then the whole tree is walked.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from otel_distro.runtime.files import private_dirs
from tests.support.collector import RecordingOtlpServer
from tests.support.endpoint import FaultyEndpoint
from tests.support.langfuse_endpoint import LangfuseRecorder
from tests.support.proc import INSTRUMENT, clean_env

APP = """
import logging
from opentelemetry import metrics
from instrumentations import record_conversation_turn

record_conversation_turn("session-1", "What is the capital of France?", "Paris.", model="m", provider="p")
logging.getLogger("app").warning("app log line")
metrics.get_meter("app").create_counter("orders").add(1)
print("done")
"""


def _modes(top: Path) -> dict[str, int]:
    """Permission bits of ``top`` and of everything under it, by path relative to ``top.parent``."""
    found = {top.name: stat.S_IMODE(top.stat().st_mode)}
    for directory, subdirs, files in os.walk(top):
        for name in subdirs + files:
            path = Path(directory) / name
            found[str(path.relative_to(top.parent))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def _run_under_umask_022(tmp_path: Path, env: dict[str, str]) -> None:
    script = tmp_path / "app.py"
    script.write_text(textwrap.dedent(APP))
    done = subprocess.run(
        [INSTRUMENT, sys.executable, str(script)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        umask=0o022,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "done\n"


def _assert_private(top: Path) -> None:
    modes = _modes(top)
    wrong = {
        path: oct(mode)
        for path, mode in modes.items()
        if mode != (0o700 if (top.parent / path).is_dir() else 0o600)
    }
    assert wrong == {}


def test_every_directory_is_0700_under_umask_022_with_every_exporter_on(tmp_path: Path) -> None:
    created = tmp_path / "data"  # does not exist: the distro creates it and everything below
    store = created / "otel-distro" / "store"
    with FaultyEndpoint() as endpoint, LangfuseRecorder() as langfuse, RecordingOtlpServer() as upload:
        env = clean_env(
            tmp_path,
            TELEMETRY_BASE_DIR=str(store),
            TELEMETRY_LOG_BRIDGE="true",
            TELEMETRY_ENDPOINT=endpoint.url,
            TELEMETRY_FLUSH_INTERVAL_SECS="1",
            LANGFUSE_PUBLIC_KEY="pk-lf-test",
            LANGFUSE_SECRET_KEY="sk-lf-test",
            LANGFUSE_HOST=langfuse.host,
            TELEMETRY_UPLOAD_ENABLED="true",
            TELEMETRY_UPLOAD_ENDPOINT=upload.endpoint,
            TELEMETRY_UPLOAD_INTERVAL_SECS="1",
        )
        _run_under_umask_022(tmp_path, env)
        assert endpoint.wait_for(1, timeout=10), "the conversation log received nothing"
        assert langfuse.spans, "Langfuse received nothing"
        assert upload.wait_for_spans(1, timeout=10), "the upload received nothing"
    for part in ("traces", "logs", "metrics", "cache/conversation_log", "upload", "hash.key"):
        assert (store / part).exists(), f"{part} was not written: the run did not exercise it"
    _assert_private(created)


def test_the_conversation_logs_spool_and_its_parents_are_0700_under_umask_022(tmp_path: Path) -> None:
    """With the store off for traces the conversation log keeps its own spool, wherever it is put."""
    created = tmp_path / "cache-root"
    cache = created / "deep" / "conversation_log"
    with FaultyEndpoint() as endpoint:
        env = clean_env(
            tmp_path,
            TELEMETRY_BASE_DIR=str(tmp_path / "store"),
            TELEMETRY_STORE_ENABLED="false",
            TELEMETRY_ENDPOINT=endpoint.url,
            TELEMETRY_CACHE_PATH=str(cache),
            TELEMETRY_FLUSH_INTERVAL_SECS="1",
        )
        _run_under_umask_022(tmp_path, env)
        assert endpoint.wait_for(1, timeout=10)
    assert (cache / "spool" / "traces").is_dir()
    _assert_private(created)


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o277])
def test_private_dirs_gives_each_missing_directory_0700_and_leaves_existing_ones(
    tmp_path: Path, umask: int
) -> None:
    tmp_path.chmod(0o755)
    target = tmp_path / "a" / "b" / "c"
    old = os.umask(umask)
    try:
        private_dirs(target)
        private_dirs(target)  # already there: nothing to do
    finally:
        os.umask(old)
    created = (target, target.parent, target.parent.parent)
    assert [stat.S_IMODE(path.stat().st_mode) for path in created] == [0o700] * 3
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755  # not ours: left as it was

"""Retention: dated files older than the setting go at start-up and via `otel-distro purge`."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

from tests.support.proc import CLI, clean_env, run_app


def _seed(base: Path, ages: list[int]) -> dict[int, Path]:
    today = dt.datetime.now(dt.UTC).date()
    made = {}
    for age in ages:
        for signal in ("traces", "metrics", "logs"):
            path = base / signal / f"{(today - dt.timedelta(days=age)).isoformat()}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("{}\n")
            made.setdefault(age, path)
    (base / "traces" / "notes.txt").write_text("not ours")
    return made


def test_startup_purges_files_older_than_retention_and_keeps_younger(tmp_path: Path) -> None:
    base = tmp_path / "store"
    _seed(base, [45, 31, 29, 2])
    run = run_app(tmp_path, "import otel_distro\notel_distro.configure()\n")
    assert run.returncode == 0, run.stderr
    for signal in ("traces", "metrics", "logs"):
        names = sorted(p.name for p in (base / signal).glob("*.jsonl"))
        today = dt.datetime.now(dt.UTC).date()
        expected = sorted(f"{(today - dt.timedelta(days=age)).isoformat()}.jsonl" for age in (29, 2))
        assert names == expected, signal
    assert (base / "traces" / "notes.txt").exists()


def test_retention_setting_changes_the_cutoff(tmp_path: Path) -> None:
    base = tmp_path / "store"
    made = _seed(base, [5, 1])
    run = run_app(
        tmp_path,
        "import otel_distro\notel_distro.configure()\n",
        env=clean_env(tmp_path, TELEMETRY_RETENTION_DAYS="3"),
    )
    assert run.returncode == 0, run.stderr
    assert not made[5].exists()
    assert made[1].exists()


def test_purge_command_removes_old_files_or_everything(tmp_path: Path) -> None:
    base = tmp_path / "store"
    made = _seed(base, [40, 10, 0])
    env = clean_env(tmp_path)
    done = subprocess.run([CLI, "purge"], env=env, capture_output=True, text=True, check=True)
    assert "3 file(s) removed" in done.stdout
    assert not made[40].exists() and made[10].exists()
    done = subprocess.run(
        [CLI, "purge", "--older-than", "7d"], env=env, capture_output=True, text=True, check=True
    )
    assert not made[10].exists() and made[0].exists()
    done = subprocess.run([CLI, "purge", "--all"], env=env, capture_output=True, text=True, check=True)
    assert not made[0].exists()
    assert (base / "traces" / "notes.txt").exists()

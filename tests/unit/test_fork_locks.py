"""A child forked without exec never keeps a lock its parent holds: every follower of a store,
every state file and every store file goes on being served while such a child lives."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from exporters.store.files import close_locked, open_locked
from otel_distro.runtime.state_file import StateFile, locked, release_lock, take_lock


@contextmanager
def _sleeping_child(seconds: float = 20.0) -> Iterator[int]:
    """A child forked now that lives on (as a pool worker would) until the block ends."""
    pid = os.fork()
    if pid == 0:  # the child: no exec, no exit hooks, just alive
        time.sleep(seconds)
        os._exit(0)
    try:
        yield pid
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)


def test_a_state_file_lock_is_free_once_the_parent_lets_go_while_a_forked_child_lives(tmp_path: Path) -> None:
    state = StateFile(tmp_path / "state.json")
    fd = state.lock()
    assert fd is not None
    with _sleeping_child():
        time.sleep(0.2)  # the child's fork hooks have run
        StateFile.unlock(fd)
        again = state.lock(wait=False)
        assert again is not None  # before: the child's copy kept the lock for its whole life
        StateFile.unlock(again)


def test_the_key_rotation_lock_is_free_once_left_while_a_forked_child_lives(tmp_path: Path) -> None:
    lock = tmp_path / ".rotate-key.lock"  # as store_key's creation lock and rotate_key take theirs
    held = locked(lock)
    held.__enter__()
    with _sleeping_child():  # forked while the lock is held (a pool started during a rotation)
        time.sleep(0.2)
        assert take_lock(lock, wait=False) is None  # held, by the parent
        held.__exit__(None, None, None)
        again = take_lock(lock, wait=False)
        assert again is not None  # before: the child's copy kept the lock for its whole life
        release_lock(again)
    assert lock.stat().st_mode & 0o777 == 0o600


def test_a_store_files_append_lock_is_free_once_left_while_a_forked_child_lives(tmp_path: Path) -> None:
    path = tmp_path / "traces" / "2026-01-02.jsonl"
    path.parent.mkdir()
    fd = open_locked(path)  # as an append, or a spool's deletion of what was sent, holds it
    with _sleeping_child():  # forked while the lock is held
        time.sleep(0.2)
        other = os.open(path, os.O_RDONLY)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held, by the parent
            close_locked(fd)
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the child's copy holds nothing
        finally:
            os.close(other)

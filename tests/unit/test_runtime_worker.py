"""The one background-thread block: periodic workers, bounded steps, a step run once later."""

from __future__ import annotations

import os
import threading
import time

import pytest

from otel_distro.runtime.worker import Worker, run_bounded, run_later


def test_a_worker_runs_its_step_each_interval_and_at_once_when_woken() -> None:
    ran = threading.Event()
    count = [0]

    def step() -> None:
        count[0] += 1
        ran.set()

    worker = Worker("test-periodic", step, 60.0)
    try:
        assert worker.alive and count[0] == 0  # the first round waits its interval
        worker.wake()
        assert ran.wait(5) and count[0] == 1
    finally:
        assert worker.stop(2.0)
    assert not worker.alive


def test_a_failing_step_is_counted_and_the_loop_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_DISTRO_STRICT", raising=False)  # an endpoint's error, not a bug of ours
    calls = [0]
    done = threading.Event()

    def step() -> None:
        calls[0] += 1
        if calls[0] < 3:
            raise OSError("endpoint down")
        done.set()

    worker = Worker("test-failing", step, 0.01)
    try:
        assert done.wait(5)
        assert worker.failures == 2 and worker.alive
    finally:
        worker.stop(2.0)


def test_an_interval_of_zero_or_less_starts_no_thread() -> None:
    worker = Worker("test-off", lambda: None, 0)
    assert not worker.alive and worker.stop(0.1)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_a_forked_child_gets_a_worker_thread_of_its_own() -> None:
    ran = threading.Event()
    worker = Worker("test-fork", ran.set, 60.0)
    read, write = os.pipe()
    try:
        pid = os.fork()
        if pid == 0:  # the child: the parent's thread did not come along; the worker started another
            try:
                worker.wake()
                os.write(write, b"1" if worker.alive and ran.wait(5) else b"0")
            finally:
                os._exit(0)
        os.close(write)
        answer = os.read(read, 1)
        os.waitpid(pid, 0)
        assert answer == b"1"
        assert not ran.is_set()  # the child's step ran in the child only
    finally:
        os.close(read)
        worker.stop(2.0)


def test_run_bounded_waits_no_longer_than_its_deadline_for_a_step_that_hangs() -> None:
    release = threading.Event()
    started = time.monotonic()
    assert not run_bounded([lambda: True, lambda: release.wait(30)], 0.3)
    assert time.monotonic() - started < 5
    release.set()
    assert run_bounded([lambda: None, lambda: True], 5)
    assert not run_bounded([lambda: False], 5)  # a step that reports failure


def test_run_later_runs_the_action_once_after_the_delay() -> None:
    fired: list[float] = []
    done = threading.Event()
    started = time.monotonic()

    def action() -> None:
        fired.append(time.monotonic() - started)
        done.set()

    assert run_later(0.2, action, "test-later")
    assert not fired  # not yet
    assert done.wait(5)
    time.sleep(0.3)
    assert len(fired) == 1 and fired[0] >= 0.2

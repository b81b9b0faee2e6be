"""SayOnce: each kind of problem is logged the first time only, whatever the threads."""

from __future__ import annotations

import logging
import threading

import pytest

from otel_distro.runtime.say_once import SayOnce


def test_each_kind_is_said_the_first_time_only(caplog: pytest.LogCaptureFixture) -> None:
    say = SayOnce(logging.getLogger("otel_distro.test"))
    with caplog.at_level(logging.WARNING, logger="otel_distro.test"):
        assert say("disk", "disk full at %s", "/tmp/x")
        assert not say("disk", "disk full at %s", "/tmp/y")
        assert say(("refused", "store_no_key"), "no key")
        assert not say.first(("refused", "store_no_key"))
    assert [record.getMessage() for record in caplog.records] == ["disk full at /tmp/x", "no key"]


def test_a_kind_that_went_away_is_said_again_when_it_returns(caplog: pytest.LogCaptureFixture) -> None:
    say = SayOnce(logging.getLogger("otel_distro.test"))
    with caplog.at_level(logging.WARNING, logger="otel_distro.test"):
        say("paused", "paused (%s)", "timeout")
        say("paused", "paused (%s)", "timeout")
        say.again("paused")
        say("paused", "paused (%s)", "refused")
    assert [record.getMessage() for record in caplog.records] == ["paused (timeout)", "paused (refused)"]


def test_of_many_threads_meeting_the_same_problem_one_says_it() -> None:
    say = SayOnce(logging.getLogger("otel_distro.test"))
    start = threading.Barrier(8)
    said: list[bool] = []

    def meet() -> None:
        start.wait()
        said.extend(say.first("queue full") for _ in range(1_000))

    threads = [threading.Thread(target=meet) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert said.count(True) == 1 and len(said) == 8_000

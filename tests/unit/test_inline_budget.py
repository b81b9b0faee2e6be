"""The app-thread text budget, and the pauses a background thread's scans take for the app."""

from __future__ import annotations

import time

import pytest

from processors import inline_budget
from processors.inline_budget import HandOff, charge_inline, paced, set_inline_budget


def _busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        charge_inline(128)


def test_a_span_past_the_budget_is_handed_off_and_no_budget_means_no_limit() -> None:
    set_inline_budget(1000)
    try:
        charge_inline(600)
        with pytest.raises(HandOff):
            charge_inline(600)
    finally:
        set_inline_budget(None)
    charge_inline(10**9)  # no budget on this thread now: nothing happens


def test_a_paced_thread_pauses_while_it_scans_and_an_unpaced_one_never(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pauses: list[float] = []
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(inline_budget.time, "sleep", sleep)
    _busy(0.02)
    assert pauses == []  # a processor used on its own, or the app thread without a budget
    with paced():
        _busy(0.05)
    # every PACE_SECONDS at first, then further apart while nobody else wants the GIL
    assert len(pauses) >= 3
    assert set(pauses) == {inline_budget.PAUSE_SECONDS}
    count = len(pauses)
    _busy(0.02)
    assert len(pauses) == count  # pacing ends with the block


def test_a_budget_on_the_app_thread_wins_over_pacing() -> None:
    with paced():
        set_inline_budget(100)
        try:
            with pytest.raises(HandOff):
                charge_inline(200)
        finally:
            set_inline_budget(None)

"""Internal errors: a bug of our own caught on the app's behalf fails the test suite; the
failures the code expects (I/O, a plugin's or another library's errors) do not."""

from __future__ import annotations

import pytest

from otel_distro.runtime import errors
from otel_distro.runtime.errors import caught, is_bug
from processors.hashing import KeyedDigest


def _raised(call: object) -> BaseException:
    try:
        call()  # type: ignore[operator]
    except Exception as exc:
        return exc
    raise AssertionError("nothing was raised")


def test_a_programming_error_in_our_code_is_a_bug_and_fails_the_suite() -> None:
    ours = _raised(lambda: KeyedDigest(None))  # type: ignore[arg-type]  # our code, misused
    assert isinstance(ours, TypeError)
    assert is_bug(ours)
    with pytest.raises(TypeError):
        caught("digesting", ours)


def test_errors_the_code_expects_or_that_are_not_ours_pass() -> None:
    def plugin() -> None:  # a plugin's (or any other library's) own bug
        raise KeyError("its own")

    foreign = _raised(plugin)
    io = _raised(lambda: open("/nonexistent/dir/file"))  # noqa: SIM115
    for exc in (foreign, io):
        assert not is_bug(exc)
        caught("calling out", exc)  # nothing raised


def test_outside_the_suite_a_bug_is_logged_once_and_the_app_goes_on(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(errors.STRICT_ENV, "0")
    ours = _raised(lambda: KeyedDigest(None))  # type: ignore[arg-type]
    caught("digesting, once", ours)
    caught("digesting, once", ours)
    assert len([r for r in caplog.records if "digesting, once" in r.getMessage()]) == 1


def test_a_bug_in_our_instrumentation_helpers_fails_the_suite_and_a_broken_span_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from opentelemetry import trace

    from instrumentations import _spans

    class BrokenSpan:  # another SDK's span whose methods fail: not our bug, the app goes on
        def set_attribute(self, key: str, value: object) -> None:
            raise KeyError(key)

    _spans.mark_error(BrokenSpan(), ValueError("the app's"))  # type: ignore[arg-type]  # nothing raised
    monkeypatch.setattr(_spans, "MAX_TEXT", "10")  # our own code broken: a TypeError in our frame
    with pytest.raises(TypeError):
        _spans.mark_error(trace.INVALID_SPAN, ValueError("the app's"))

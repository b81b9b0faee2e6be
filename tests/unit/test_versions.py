"""The version check of ``otel-distro config check``: API, SDK and contrib of one OTel release."""

from __future__ import annotations

from otel_distro.versions import installed_versions, version_warnings

CONSISTENT = {
    "opentelemetry-api": "1.45.2",
    "opentelemetry-sdk": "1.45.2",
    "opentelemetry-instrumentation": "0.66b2",
    "opentelemetry-instrumentation-flask": "0.66b1",  # another bN of the same release is fine
    "opentelemetry-instrumentation-genai-openai": "1.3b0",  # released on its own line
    "opentelemetry-instrumentation-openai-v2": "2.4b0",
}


def test_the_installed_set_of_this_venv_is_consistent() -> None:
    versions = installed_versions()
    assert {"opentelemetry-api", "opentelemetry-sdk", "opentelemetry-instrumentation"} <= set(versions)
    assert version_warnings(versions) == []


def test_one_release_of_api_sdk_and_contrib_gives_no_warning() -> None:
    assert version_warnings(CONSISTENT) == []


def test_an_api_below_the_sdk_is_named_with_the_fix() -> None:
    (warning,) = version_warnings({**CONSISTENT, "opentelemetry-api": "1.39.1"})
    assert "opentelemetry-api 1.39.1 and opentelemetry-sdk 1.45.2 differ" in warning
    assert "opentelemetry-api==1.45.2" in warning


def test_contrib_of_another_release_is_named_with_the_pin_of_the_installed_line() -> None:
    warnings = version_warnings(
        {
            **CONSISTENT,
            "opentelemetry-instrumentation-flask": "0.55b0",
            "opentelemetry-instrumentation-x": "0.67b0",
        }
    )
    assert len(warnings) == 2
    flask = next(w for w in warnings if "-flask" in w)
    assert "opentelemetry-instrumentation-flask 0.55b0" in flask
    assert "(0.66bN)" in flask
    assert "opentelemetry-instrumentation-flask==0.66b2" in flask  # the installed contrib version


def test_a_base_instrumentation_of_another_release_is_named_and_a_range_is_suggested() -> None:
    warnings = version_warnings({**CONSISTENT, "opentelemetry-instrumentation": "0.60b0"})
    assert len(warnings) == 1
    assert "opentelemetry-instrumentation 0.60b0" in warnings[0]
    assert "opentelemetry-instrumentation>=0.66b0,<0.67" in warnings[0]


def test_missing_or_unparsable_versions_never_raise() -> None:
    assert version_warnings({}) == []
    assert version_warnings({"opentelemetry-sdk": "weird"}) == []
    assert version_warnings({**CONSISTENT, "opentelemetry-instrumentation-y": "dev"}) == []

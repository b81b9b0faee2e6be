"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.collector import RecordingOtlpServer, RotelCollector


@pytest.fixture
def collector() -> Iterator[tuple[RotelCollector, RecordingOtlpServer]]:
    """A real rotel-agent on 127.0.0.1 forwarding to a recording OTLP/HTTP server."""
    with RecordingOtlpServer() as sink, RotelCollector(sink.endpoint) as rotel:
        yield rotel, sink

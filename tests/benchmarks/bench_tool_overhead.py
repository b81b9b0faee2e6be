"""Overhead of ``@trace_tool_execution`` on an empty function against a bare
``tracer.start_as_current_span`` around the same call, in the same run. Target: at most 1.2x.

Both run on the same SDK tracer provider: first one with no span processor (the cost of the
spans alone, where any extra work of the decorator shows most), then the full otel-distro
pipeline (hashing, redaction, the JSONL store in a temp dir). Rounds alternate the two and
the median of the per-round ratios is printed.

    python tests/benchmarks/bench_tool_overhead.py [--calls 20000] [--rounds 9]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider


def empty() -> None:
    return None


def per_call(function: Callable[[], None], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - started) / calls


def compare(label: str, provider: TracerProvider, calls: int, rounds: int) -> None:
    import instrumentations._spans as spans
    from instrumentations import trace_tool_execution

    spans.tracer = provider.get_tracer(spans.SCOPE)  # as under zero-code: a real tracer, no proxy
    tracer = provider.get_tracer("bench")

    def bare() -> None:
        with tracer.start_as_current_span("execute_tool empty"):
            empty()

    decorated = trace_tool_execution("empty")(empty)
    per_call(bare, calls // 10)
    per_call(decorated, calls // 10)
    ratios, bare_times, ours = [], [], []
    for _ in range(rounds):
        baseline = per_call(bare, calls)
        measured = per_call(decorated, calls)
        bare_times.append(baseline)
        ours.append(measured)
        ratios.append(measured / baseline)
    print(
        f"{label}: bare span {statistics.median(bare_times) * 1e6:.2f} us, "
        f"@trace_tool_execution {statistics.median(ours) * 1e6:.2f} us per call; "
        f"ratio {statistics.median(ratios):.2f}x (median of {rounds} rounds; target <= 1.2x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    compare("no span processor", TracerProvider(), args.calls, args.rounds)

    from otel_distro.pipeline import build_pipeline
    from otel_distro.settings import load_settings

    with tempfile.TemporaryDirectory(prefix="bench-tool-") as base:
        settings = load_settings({"base_dir": Path(base), "reload_interval_secs": 0}, env={})
        pipeline = build_pipeline(settings, install=False)
        try:
            compare("otel-distro pipeline", pipeline.tracer_provider, args.calls, args.rounds)
        finally:
            pipeline.shutdown()
    trace.get_tracer_provider()  # (the globals were never touched)


if __name__ == "__main__":
    main()

"""The app's own latency while the pipeline redacts a huge span off its thread.

The app thread serves "requests" (a small piece of Python work, about 50 µs) in a loop and times
each; every ``--every`` seconds it ends a span holding ``--kib`` KiB of number-heavy text (a CSV
of amounts and 10-digit ids, every number a phone candidate), which the chain's worker takes
(it is over the app thread's budget). Both threads share the GIL: while the worker scans, a
request can wait for it. Baseline: the plain SDK (batch processor, an exporter that drops
everything) with the same spans. Prints each pipeline's request latency percentiles.

    python tests/benchmarks/bench_app_latency.py [--seconds 4] [--every 0.5] [--kib 256]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_pipeline import default_pipeline, sdk_baseline
from opentelemetry.sdk.trace import TracerProvider


def number_heavy(kib: int, seed: int) -> str:
    rng = random.Random(seed)
    rows = []
    size = 0
    while size < kib * 1024:
        row = f"{rng.randrange(2 * 10**9, 10**10)},{rng.uniform(0, 1e6):.2f},{rng.randrange(10**6)}\n"
        rows.append(row)
        size += len(row)
    return "".join(rows)


def serve(provider: TracerProvider, seconds: float, every: float, kib: int) -> list[float]:
    tracer = provider.get_tracer("bench")
    latencies: list[float] = []
    next_span = time.perf_counter()
    deadline = next_span + seconds
    seed = 0
    while (now := time.perf_counter()) < deadline:
        if now >= next_span:
            seed += 1
            report = number_heavy(kib, seed)
            with tracer.start_as_current_span("export csv", attributes={"report.csv": report}):
                pass
            next_span = now + every
        started = time.perf_counter()
        sum(i * i for i in range(1500))  # one request's work
        latencies.append(time.perf_counter() - started)
    provider.force_flush()
    provider.shutdown()
    return sorted(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--every", type=float, default=0.5)
    parser.add_argument("--kib", type=int, default=256)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-latency-"))

    variants: dict[str, Callable[[], TracerProvider]] = {
        "baseline": sdk_baseline,
        "default": lambda: default_pipeline(tmp),
    }
    print(f"request latency (ms) while a span of {args.kib} KiB of numbers ends every {args.every} s:")
    for name, make in variants.items():
        warm = make()  # the first such span compiles the phone metadata's patterns (once per process)
        serve(warm, args.every, args.every, args.kib)
        latencies = serve(make(), args.seconds, args.every, args.kib)

        def at(share: float, values: list[float] = latencies) -> float:
            return values[min(len(values) - 1, int(len(values) * share))] * 1e3

        print(
            f"{name:9s} requests {len(latencies):6d}  p50 {at(0.5):6.3f}  p99 {at(0.99):6.3f}"
            f"  p99.9 {at(0.999):7.3f}  max {latencies[-1] * 1e3:7.2f}"
        )


if __name__ == "__main__":
    main()

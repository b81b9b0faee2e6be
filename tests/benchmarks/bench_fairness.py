"""Does the pipeline keep the app's other threads waiting? Their I/O latency while one thread ends spans.

One thread ends spans as fast as it can (the bench_pipeline workload: an email and a phone
number new in every span); another thread of the same app does a small piece of file I/O every
10 ms (open, write, stat, close) and times it. With the plain SDK (batch processor, an exporter
that drops everything) that thread already waits for the GIL after each system call (CPython
lets a waiting thread in every 5 ms); the pipeline should add nothing to it. The
``screen-short`` variant screens every text with RE2, however short, as the redactor did before
it kept RE2 for long texts: each call lets go of the GIL for a microsecond, and the other
thread, woken each time to find it taken again, waits far longer.

Prints the other thread's p50, p99 and worst latency per variant, and the p99 against the
baseline's (median of ``--rounds`` alternated rounds).

    python tests/benchmarks/bench_fairness.py [--spans 20000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench_pipeline import default_pipeline, sdk_baseline, workload
from opentelemetry.sdk.trace import TracerProvider

from processors.pii import redactor as redactor_module


def _other_thread(stop: threading.Event, path: Path, latencies: list[float]) -> None:
    while not stop.is_set():
        time.sleep(0.01)
        started = time.perf_counter()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.write(fd, b"a line of the app's own log\n")
        os.fstat(fd)
        os.close(fd)
        os.stat(path)
        latencies.append(time.perf_counter() - started)


def run(make: Callable[[], TracerProvider], spans: int, tmp: Path) -> list[float]:
    provider = make()
    latencies: list[float] = []
    stop = threading.Event()
    other = threading.Thread(target=_other_thread, args=(stop, tmp / "app.log", latencies))
    other.start()
    workload(provider, spans)  # every span's PII new: nothing answered from the redactor's cache
    stop.set()
    other.join()
    provider.shutdown()
    return sorted(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spans", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-fairness-"))

    def default(screen_short: bool = False) -> Callable[[], TracerProvider]:
        def make() -> TracerProvider:
            provider = default_pipeline(tmp)
            if screen_short:
                for processor in provider.chain.processors:  # type: ignore[attr-defined]
                    found = getattr(processor, "redactor", None)
                    if found is not None:
                        found.screen_min_length = 0
            return provider

        return make

    variants: dict[str, Callable[[], TracerProvider]] = {
        "baseline": sdk_baseline,
        "default": default(),
        "screen-short": default(screen_short=True),
    }
    if redactor_module.build_screen([]) is None:
        del variants["screen-short"]  # google-re2 not installed: nothing to compare
    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, make in variants.items():
            latencies = run(make, args.spans, tmp)
            results[name].append(
                (
                    statistics.median(latencies),
                    latencies[int(len(latencies) * 0.99)],
                    latencies[-1],
                )
            )
    base_p99 = statistics.median(p99 for _, p99, _ in results["baseline"])
    print("the other thread's file I/O (open, write, fstat, close, stat) every 10 ms, in ms:")
    for name, rows in results.items():
        p50 = statistics.median(row[0] for row in rows) * 1e3
        p99 = statistics.median(row[1] for row in rows)
        worst = max(row[2] for row in rows) * 1e3
        print(
            f"{name:13s} p50 {p50:6.2f}  p99 {p99 * 1e3:7.2f}  worst {worst:7.1f}"
            f"   p99 against the baseline {p99 / base_p99:5.2f}x"
        )


if __name__ == "__main__":
    main()

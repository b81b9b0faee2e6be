"""`otel-distro stats` and `otel-distro trace` on a store of 1,000,000 spans (a month of data).

Builds the store (OTLP/JSON lines of 512 spans, each span with ~8 attributes and 2 events, in
traces of 8 spans), then times the real CLI in child processes. Targets: `stats --since 24h`
at most 5 s, `trace ID` at most 2 s. The baseline in the same run is reading the same files
with `cat` (the I/O floor of any tool that reads them whole).

    python tests/benchmarks/bench_store_tools.py [--spans 1000000] [--days 30] [--runs 3] [--keep DIR]

``--days 1`` puts every span in the last 24 hours (the worst case for ``stats --since 24h``,
which reads every line of the window). There is no index: ``stats`` parses the files of its
window, ``trace`` scans every file for the id as bytes and parses only the lines that hold it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from bench_startup import timed  # run as a script: this directory is on sys.path

SPANS_PER_LINE = 512
SPANS_PER_TRACE = 8
NAMES = [f"tool.{name}" for name in ("search", "fetch", "parse", "rank", "store", "plan")] + [
    "chat gpt-4o-mini",
    "invoke_agent planner",
    "GET /api/items",
    "POST /api/answer",
]


def _attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": str(value)}}


def _span(rng: random.Random, trace_id: str, index: int, start_ns: int) -> dict[str, Any]:
    duration = int(rng.lognormvariate(16, 1.2))  # ~9 ms median
    name = NAMES[rng.randrange(len(NAMES))]
    attributes = [
        _attr("user.email", "<EMAIL>"),
        _attr("http.route", "/api/items/{id}"),
        _attr("project.id", "5f1c0d9e2a7b4c31"),
        _attr("step", index),
        _attr("retry", False),
        _attr("gen_ai.request.model", "gpt-4o-mini"),
        _attr("gen_ai.usage.input_tokens", rng.randrange(20, 2000)),
        _attr("gen_ai.usage.output_tokens", rng.randrange(5, 500)),
    ]
    span: dict[str, Any] = {
        "traceId": trace_id,
        "spanId": f"{rng.getrandbits(64):016x}",
        "name": name,
        "kind": 1,
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(start_ns + duration),
        "attributes": attributes,
        "events": [
            {
                "timeUnixNano": str(start_ns + 1000),
                "name": "gen_ai.user.message",
                "attributes": [_attr("content", "find the invoice of <EMAIL> for march")],
            },
            {
                "timeUnixNano": str(start_ns + 2000),
                "name": "gen_ai.choice",
                "attributes": [_attr("content", "The invoice is attached; total 1,240.00 EUR.")],
            },
        ],
        "status": {"code": 2} if rng.random() < 0.02 else {},
    }
    if index:
        span["parentSpanId"] = f"{rng.getrandbits(64):016x}"
    return span


def _line(spans: list[dict[str, Any]]) -> bytes:
    data = {
        "resourceSpans": [
            {
                "resource": {"attributes": [_attr("service.name", "bench-agent")]},
                "scopeSpans": [{"scope": {"name": "bench"}, "spans": spans}],
            }
        ]
    }
    return orjson.dumps(data) + b"\n"


def build_store(base: Path, total: int, days: int, seed: int = 7) -> list[str]:
    """Write ``total`` spans over ``days`` daily files ending now; returns some trace ids."""
    rng = random.Random(seed)
    directory = base / "traces"
    directory.mkdir(parents=True, exist_ok=True)
    now = time.time_ns()
    window_ns = days * 86_400 * 10**9 - 60 * 10**9
    start = now - window_ns
    step = window_ns // max(1, total // SPANS_PER_TRACE)
    sample: list[str] = []
    handles: dict[Path, Any] = {}
    batch: list[dict[str, Any]] = []
    trace_start = start
    written = 0
    try:
        while written < total:
            trace_id = f"{rng.getrandbits(128):032x}"
            if rng.random() < 0.001:
                sample.append(trace_id)
            for index in range(SPANS_PER_TRACE):
                batch.append(_span(rng, trace_id, index, trace_start + index * 1_000_000))
            written += SPANS_PER_TRACE
            trace_start += step
            if len(batch) >= SPANS_PER_LINE or written >= total:
                day = dt.datetime.fromtimestamp(int(batch[-1]["startTimeUnixNano"]) / 1e9, dt.UTC).date()
                path = directory / f"{day.isoformat()}.jsonl"
                handle = handles.get(path) or handles.setdefault(path, path.open("ab"))
                handle.write(_line(batch))
                batch = []
    finally:
        for handle in handles.values():
            handle.close()
    return sample


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="Build the store here and keep it (default: a temp dir).")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-store-tools-"))
    cli = str(Path(sys.executable).parent / "otel-distro")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TELEMETRY_"))}
    env["TELEMETRY_BASE_DIR"] = str(base)
    try:
        started = time.perf_counter()
        if not (base / "traces").is_dir():
            sample = build_store(base, args.spans, args.days)
        else:
            from exporters.store.query import iter_spans_in

            newest = sorted((base / "traces").glob("*.jsonl"))[-1]
            sample = [next(iter_spans_in(newest)).trace_id]
        files = sorted((base / "traces").glob("*.jsonl"))
        size = sum(path.stat().st_size for path in files)
        print(
            f"store: {args.spans} spans over {args.days} day(s), {len(files)} files, {size / 1e6:.0f} MB "
            f"(built in {time.perf_counter() - started:.1f} s)"
        )
        cat = [timed(["cat", *map(str, files)], env) for _ in range(args.runs)]
        last_day = [str(path) for path in files[-2:]]
        cat_day = [timed(["cat", *last_day], env) for _ in range(args.runs)]
        stats = [timed([cli, "stats", "--since", "24h"], env) for _ in range(args.runs)]
        traces = [timed([cli, "trace", rng_id], env) for rng_id in sample[: args.runs]]
        while len(traces) < args.runs:
            traces.append(timed([cli, "trace", sample[0]], env))
        print(
            f"baseline: cat of every file {statistics.median(cat):.2f} s, of the last two days "
            f"{statistics.median(cat_day):.2f} s (median of {args.runs})"
        )
        print(
            f"stats --since 24h: first {stats[0]:.2f} s, median {statistics.median(stats):.2f} s "
            f"(target <= 5 s; {statistics.median(stats) / 5:.2f} of the target)"
        )
        print(
            f"trace ID:          first {traces[0]:.2f} s, median {statistics.median(traces):.2f} s "
            f"(target <= 2 s; {statistics.median(traces) / 2:.2f} of the target)"
        )
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()

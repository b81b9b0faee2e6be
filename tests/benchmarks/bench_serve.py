"""The store index, `stats`/`trace` on it, and the `serve` API on a store of 1,000,000 spans over 30 days.

Builds the store as bench_store_tools.py does (plus one trace of 1,000 spans), then times: the
index catch-up from nothing (MB of store per second; target >= 30), warm `stats --since 24h`
(<= 0.5 s) and `--since 30d` (<= 1 s), warm `trace ID` (<= 0.2 s) as real CLI processes, and
through a real `serve` process: the 50 newest traces with no filter and with each one filter
(<= 0.3 s) and the trace of 1,000 spans (<= 0.3 s). The baseline in the same run is `cat` of
the store files (the I/O floor of reading them whole) and `otel-distro --help` (process start).

    python tests/benchmarks/bench_serve.py [--spans 1000000] [--days 30] [--runs 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from bench_startup import timed  # run as a script: this directory is on sys.path
from bench_store_tools import _line, _span, build_store

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from exporters.store.files import JsonlStore
from exporters.store.index import open_index, remove_index


def add_big_trace(base: Path, spans: int = 1000) -> str:
    rng = random.Random(11)
    trace_id = f"{rng.getrandbits(128):032x}"
    start = time.time_ns() - 3_600 * 10**9
    batch = [_span(rng, trace_id, index, start + index * 1000) for index in range(spans)]
    path = sorted((base / "traces").glob("*.jsonl"))[-1]
    with path.open("ab") as handle:
        for first in range(0, spans, 512):
            handle.write(_line(batch[first : first + 512]))
    return trace_id


def _report(label: str, values: list[float], target: float) -> None:
    median = statistics.median(values)
    print(f"{label:<34} median {median:6.3f} s (target <= {target} s: {median / target:.2f} of it)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="Build the store here and keep it (default: a temp dir).")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-serve-"))
    cli = str(Path(sys.executable).parent / "otel-distro")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TELEMETRY_"))}
    env["TELEMETRY_BASE_DIR"] = str(base)
    server = None
    try:
        if not (base / "traces").is_dir():
            sample = build_store(base, args.spans, args.days)
            big = add_big_trace(base)
            (base / "bench-ids").write_text("\n".join([big, *sample]))
        big, *sample = (base / "bench-ids").read_text().split()
        files = sorted((base / "traces").glob("*.jsonl"))
        size = sum(path.stat().st_size for path in files)
        print(f"store: {args.spans} spans over {args.days} day(s), {len(files)} files, {size / 1e6:.0f} MB")
        cat = statistics.median(timed(["cat", *map(str, files)], env) for _ in range(args.runs))
        start = statistics.median(timed([cli, "--help"], env) for _ in range(args.runs))
        print(
            f"baseline: cat of every file {cat:.2f} s ({size / 1e6 / cat:.0f} MB/s); CLI start {start:.3f} s"
        )

        remove_index(base)
        began = time.perf_counter()
        open_index(JsonlStore(base)).close()
        took = time.perf_counter() - began
        rate = size / 1e6 / took
        print(
            f"index catch-up from nothing: {took:.1f} s, {rate:.1f} MB/s "
            f"(target >= 30 MB/s: {rate / 30:.2f} of it)"
        )

        _report(
            "stats --since 24h (warm)",
            [timed([cli, "stats", "--since", "24h"], env) for _ in range(args.runs)],
            0.5,
        )
        _report(
            "stats --since 30d (warm)",
            [timed([cli, "stats", "--since", "30d"], env) for _ in range(args.runs)],
            1.0,
        )
        _report(
            "trace ID (warm)",
            [timed([cli, "trace", trace], env) for trace in (sample * args.runs)[: args.runs]],
            0.2,
        )

        server = subprocess.Popen(
            [cli, "serve", "--port", "0", "--no-open", "--token", "bench"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert server.stdout is not None
        url = server.stdout.readline().split()[-1].split("/?")[0]
        with httpx.Client(
            base_url=url, headers={"Authorization": "Bearer bench"}, timeout=60, trust_env=False
        ) as client:
            client.get("/api/v1/traces", params={"limit": 1})  # the server's first look at the index

            def api(path: str, **params: str) -> float:
                began = time.perf_counter()
                answer = client.get(path, params=params)
                answer.raise_for_status()
                return time.perf_counter() - began

            filters: list[dict[str, str]] = [
                {},
                {"since": "24h"},
                {"service": "bench-agent"},
                {"status": "error"},
                {"name": "tool.search"},
                {"model": "gpt-4o-mini"},
                {"q": "invoke_agent"},
            ]
            for where in filters:
                label = "API 50 newest traces " + (
                    ",".join(f"{k}={v}" for k, v in where.items()) or "(no filter)"
                )
                _report(label, [api("/api/v1/traces", limit="50", **where) for _ in range(args.runs)], 0.3)
            spans = len(client.get(f"/api/v1/traces/{big}").json()["spans"])
            _report(
                f"API trace of {spans} spans", [api(f"/api/v1/traces/{big}") for _ in range(args.runs)], 0.3
            )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()

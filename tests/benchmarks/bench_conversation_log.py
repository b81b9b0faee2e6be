"""What a dead conversation-log endpoint costs the app: app-thread time and peak memory.

Each mode runs in a fresh child process (so peak RSS is its own): the default pipeline with
the conversation-log exporter off, and on with its endpoint down (a port nobody listens on).
Spans are GenAI chat spans with user/choice events. Prints app-thread time per span, the
ratio (target <= 1.1x), the growth of peak RSS over the process's start (target: exporter
on <= 64 MB more than off), and what waits on disk against the bound. By default the exporter
follows the JSONL store (what waits is the store's backlog past the sent position);
``--store-off`` runs both modes without the store, so the exporter keeps its own spool.

    python tests/benchmarks/bench_conversation_log.py [--spans 200000] [--cache-mb 32] [--rounds 3]
        [--store-off]
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _dead_url() -> str:
    with socket.socket() as sock:  # a port that was free a moment ago: nobody listens there
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/v1/conversations"


def child(mode: str, spans: int, cache_mb: int, base: Path, store: bool) -> dict[str, float]:
    from exporters.conversation_log import POSITION_FILE, SPOOL_DIR
    from exporters.conversation_records import stored_snapshots
    from exporters.store.follow import StoreTail
    from otel_distro.pipeline import build_pipeline
    from otel_distro.settings import load_settings

    overrides: dict[str, object] = {"base_dir": str(base), "hash_key": "bench", "store_enabled": store}
    if mode == "dead-endpoint":
        overrides |= {
            "endpoint": _dead_url(),
            "flush_interval_secs": 1.0,
            "max_cache_size_mb": cache_mb,
        }
    pipeline = build_pipeline(load_settings(overrides, env={}), install=False)
    tracer = pipeline.tracer_provider.get_tracer("bench")
    start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    for index in range(spans):
        with tracer.start_as_current_span(
            "chat gpt-4o-mini",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-4o-mini",
                "gen_ai.provider.name": "openai",
                "gen_ai.usage.input_tokens": 120 + index % 50,
                "gen_ai.usage.output_tokens": 80,
                "gen_ai.conversation.id": f"conv-{index % 100}",
            },
        ) as span:
            span.add_event("gen_ai.user.message", {"content": f"question {index}: what is the weather?"})
            span.add_event("gen_ai.choice", {"finish_reason": "stop", "index": 0, "message": "sunny"})
    app = time.perf_counter() - started
    pipeline.force_flush(60_000)
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pipeline.shutdown()
    cache = base / "cache" / "conversation_log"
    if store and mode != "off":
        tail = StoreTail(base / "traces", cache / POSITION_FILE, 0, stored_snapshots)
        cache_bytes = tail.backlog()
    else:  # the spool: every byte of it waits (what was sent is deleted)
        spool = cache / SPOOL_DIR / "traces"
        cache_bytes = sum(p.stat().st_size for p in spool.glob("*.jsonl")) if spool.is_dir() else 0
    return {"app": app, "rss_growth_mb": peak_rss - start_rss, "cache_mb": cache_bytes / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spans", type=int, default=200_000)
    parser.add_argument("--cache-mb", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--store-off", action="store_true", help="no JSONL store: the exporter's own spool")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        base = Path(tempfile.mkdtemp(prefix="bench-convlog-"))
        print(json.dumps(child(args.child, args.spans, args.cache_mb, base, not args.store_off)))
        return
    results: dict[str, list[dict[str, float]]] = {"off": [], "dead-endpoint": []}
    for _ in range(args.rounds):
        for mode, runs in results.items():
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    mode,
                    "--spans",
                    str(args.spans),
                    "--cache-mb",
                    str(args.cache_mb),
                    *(["--store-off"] if args.store_off else []),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    source = "its own spool (store off)" if args.store_off else "the JSONL store it follows"
    print(f"workload: {args.spans} GenAI spans (2 events each) x {args.rounds} rounds, one process per run")
    print(f"unsent records wait in {source}")
    for mode, runs in results.items():
        app = statistics.median(r["app"] for r in runs) / args.spans * 1e6
        rss = statistics.median(r["rss_growth_mb"] for r in runs)
        cache = max(r["cache_mb"] for r in runs)
        print(f"{mode:14s} app {app:6.2f} us/span   peak RSS growth {rss:6.1f} MB   waiting {cache:5.1f} MB")
    ratio = statistics.median(r["app"] for r in results["dead-endpoint"]) / statistics.median(
        r["app"] for r in results["off"]
    )
    growth = statistics.median(r["rss_growth_mb"] for r in results["dead-endpoint"]) - statistics.median(
        r["rss_growth_mb"] for r in results["off"]
    )
    print(f"app-thread ratio dead endpoint / off: {ratio:.2f}x   (target <= 1.1x)")
    print(f"extra peak memory with the exporter:  {growth:.1f} MB   (target <= 64 MB)")
    largest = max(r["cache_mb"] for r in results["dead-endpoint"])
    print(f"most waiting {largest:.1f} MB, bound {args.cache_mb} MB respected: {largest <= args.cache_mb}")


if __name__ == "__main__":
    main()

"""Per-span cost of the default pipeline against the plain SDK.

Baseline: TracerProvider + BatchSpanProcessor + an exporter that drops everything.
default: the pipeline `configure()` builds with default settings (project-ID hashing and PII
redaction in the chain, store in a temp dir); no-privacy: the same without those processors.
Each span (or one in ``--pii-every``) carries an email (attribute) and a phone number (event),
drawn from a pool of ``--distinct`` different values per round (default: as many as spans, so
every span's are new, as with real users; ``--distinct 1000``: recurring values, mostly
answered from the redactor's caches); the other spans carry an opaque user id and a plain
question instead.
Same workload, same process, alternating rounds; prints medians, and ratios as the median
of each round's ratio to the baseline round just before it (a busy machine drifts).
App-thread time is the loop that creates spans; total adds the flush of everything
buffered (the export work the background threads still owe). App CPU is the CPU time of the
app's own thread during the loop (``time.thread_time``): the wall time of a CPU-bound loop
also holds the background threads' work, which takes the same GIL; app CPU does not.
``--worker`` adds a variant whose chain hands every span to its worker thread instead of
processing it as the span ends: what moving the work off the app thread costs and saves.
``--encrypted`` adds the default pipeline writing an encrypted store (AES-256-GCM per line,
TELEMETRY_STORE_ENCRYPTION) and prints its cost against the plain default store.
``--breakdown`` then runs the default pipeline once more with each stage timed (µs per span:
each chain processor, within redaction the redactor's scans, phone validation, identifier
hashing and the span copy, and the store's encoding); the timers add a little to each stage.

    python tests/benchmarks/bench_pipeline.py [--spans 20000] [--rounds 9] [--distinct 20000]
        [--pii-every 1] [--worker] [--encrypted] [--breakdown]
"""

from __future__ import annotations

import argparse
import atexit
import base64
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from otel_distro import privacy as privacy_module
from otel_distro.pipeline import build_pipeline
from otel_distro.settings import load_settings

PII_POOL = 20_000  # different users (emails) and messages (phone numbers) per round: all new
RECURRING_TARGET, DISTINCT_TARGET = 1.3, 1.5  # default pipeline, app-thread and total, against the SDK


class DropExporter(SpanExporter):
    def __init__(self) -> None:
        self.count = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.count += len(spans)
        return SpanExportResult.SUCCESS


def sdk_baseline() -> TracerProvider:
    """The plain SDK: a batch processor and an exporter that drops everything."""
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(BatchSpanProcessor(DropExporter()))
    return provider


def default_pipeline(tmp: Path) -> TracerProvider:
    """The pipeline ``configure()`` builds with default settings, its store in a new folder of ``tmp``."""
    settings = load_settings({"base_dir": str(tmp / f"store-{time.monotonic_ns()}")}, env={})
    return build_pipeline(settings, install=False).tracer_provider


def workload(provider: TracerProvider, spans: int, distinct: int = PII_POOL, every: int = 1) -> float:
    """``distinct``: how many different PII values circulate (users, their messages); ``every``:
    one span in that many carries them (the others an opaque user id and a plain question)."""
    tracer = provider.get_tracer("bench", "1.0")
    count = min(distinct, spans)
    users = [f"user{n}@example.com" for n in range(count)]
    messages = [f"Call me back on +1 415 555 {n % 10_000:04d}, my order is {n}" for n in range(count)]
    plain_users = [f"u-{n:08d}" for n in range(count)]
    plain_messages = [f"What is the status of order {n}?" for n in range(count)]
    started = time.perf_counter()
    for index in range(spans):
        pick = index % count
        pii = index % every == 0
        with tracer.start_as_current_span(
            "chat gpt-4o-mini",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-4o-mini",
                "gen_ai.provider.name": "openai",
                "gen_ai.usage.input_tokens": 120 + index % 50,
                "gen_ai.usage.output_tokens": 80,
                "gen_ai.request.temperature": 0.2,
                "enduser.id": users[pick] if pii else plain_users[pick],  # PII: an email
                "http.url": "https://api.example.com/v1/chat/completions",
            },
        ) as span:
            message = messages[pick] if pii else plain_messages[pick]  # PII: a phone number
            span.add_event("gen_ai.user.message", {"content": message})
            span.add_event("gen_ai.choice", {"finish_reason": "stop", "index": 0})
    return time.perf_counter() - started


def measure(
    make: Callable[[], tuple[TracerProvider, Callable[[], int]]],
    spans: int,
    distinct: int = PII_POOL,
    every: int = 1,
) -> tuple[float, float, float, int]:
    provider, delivered = make()
    cpu_started = time.thread_time()
    app = workload(provider, spans, distinct, every)
    cpu = time.thread_time() - cpu_started
    started = time.perf_counter()
    provider.force_flush()
    flush = time.perf_counter() - started
    count = delivered()
    provider.shutdown()
    return app, app + flush, cpu, count


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spans", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument(
        "--distinct",
        type=int,
        default=PII_POOL,
        help="different PII values per round (>= --spans, the default: all new; 1000: recurring)",
    )
    parser.add_argument("--pii-every", type=int, default=1, help="one span in this many carries PII")
    parser.add_argument(
        "--worker", action="store_true", help="add the default pipeline doing all spans off the app thread"
    )
    parser.add_argument(
        "--encrypted", action="store_true", help="add the default pipeline writing an encrypted store"
    )
    parser.add_argument(
        "--breakdown", action="store_true", help="then time each stage of the default pipeline"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    atexit.register(shutil.rmtree, tmp, True)  # the stores it wrote go with it
    stores: list[tuple[bool, Path]] = []

    def baseline() -> tuple[TracerProvider, Callable[[], int]]:
        exporter = DropExporter()
        provider = TracerProvider(shutdown_on_exit=False)
        provider.add_span_processor(BatchSpanProcessor(exporter))
        return provider, lambda: exporter.count

    def pipeline_of(
        privacy: bool, worker: bool = False, encrypted: bool = False
    ) -> Callable[[], tuple[TracerProvider, Callable[[], int]]]:
        def make() -> tuple[TracerProvider, Callable[[], int]]:
            options: dict[str, object] = {"base_dir": str(tmp / f"store-{time.monotonic_ns()}")}
            if encrypted:  # a key given, as TELEMETRY_STORE_KEY would
                key = base64.b64encode(bytes(range(32))).decode()
                options |= {"store_encryption": True, "store_key": key}
            settings = load_settings(options, env={})
            original = privacy_module.privacy_processors
            if not privacy:  # the chain and the store alone, as before the privacy processors
                privacy_module.privacy_processors = lambda settings, problems=None: []
            try:
                pipeline = build_pipeline(settings, install=False)
            finally:
                privacy_module.privacy_processors = original
            if worker:  # the chain's worker takes every span; the app thread only queues it
                chain = pipeline.tracer_provider.chain  # type: ignore[attr-defined]
                chain.set_processors(chain.processors, run_inline=lambda span: False)
            store = pipeline.store
            assert store is not None
            stores.append((privacy, store.base_dir))
            return pipeline.tracer_provider, lambda: store.stats.lines_written and _spans_in(store.base_dir)

        return make

    variants = {
        "baseline": baseline,
        "default": pipeline_of(privacy=True),  # hashing + redaction + chain + store
        "no-privacy": pipeline_of(privacy=False),  # chain + store
    }
    if args.worker:
        variants["worker"] = pipeline_of(privacy=True, worker=True)
    if args.encrypted:
        variants["encrypted"] = pipeline_of(privacy=True, encrypted=True)
    results: dict[str, list[tuple[float, float, float, int]]] = {name: [] for name in variants}
    for make in variants.values():
        measure(make, 2000)  # warm-up: imports, caches
    for _ in range(args.rounds):
        for name, make in variants.items():
            results[name].append(measure(make, args.spans, args.distinct, args.pii_every))

    def median(name: str, index: int) -> float:
        return statistics.median(run[index] for run in results[name])

    print(
        f"workload: {args.spans} spans x {args.rounds} rounds, 8 attributes + 2 events per span, "
        f"an email and a phone number in 1 of {args.pii_every}, "
        f"{min(args.distinct, args.spans)} different ones per round"
    )
    for name in variants:
        delivered = min(run[3] for run in results[name])
        app_us, total_us, cpu_us = (median(name, index) / args.spans * 1e6 for index in range(3))
        print(f"{name:10s} app {app_us:7.2f} us/span   total {total_us:7.2f} us/span", end="   ")
        print(f"app CPU {cpu_us:7.2f} us/span   delivered {delivered}/{args.spans}")

    def paired(name: str, index: int) -> float:
        """Median of per-round ratios: each round's baseline ran just before, so drifts cancel."""
        return statistics.median(
            run[index] / base[index] for run, base in zip(results[name], results["baseline"], strict=True)
        )

    new_values = min(args.distinct, args.spans) >= args.spans
    target = DISTINCT_TARGET if new_values else RECURRING_TARGET
    targets = {
        "default": f"app-thread and total <= {target}x with {'new' if new_values else 'recurring'} values",
        "no-privacy": "total <= 1.3x",
        "worker": "as default",
        "encrypted": "<= 1.10x the default (plain) store, below",
    }
    for name in variants:
        if name == "baseline":
            continue
        app, total, cpu = (paired(name, index) for index in range(3))
        print(
            f"{name:10s} ratio app-thread {app:.2f}x, total {total:.2f}x, app CPU {cpu:.2f}x"
            f"   (target {targets[name]})"
        )
    if args.encrypted:
        for index, label in enumerate(("app-thread", "total", "app CPU")):
            ratio = statistics.median(
                run[index] / plain[index]
                for run, plain in zip(results["encrypted"], results["default"], strict=True)
            )
            print(f"encrypted store against the plain one: {label} {ratio:.3f}x (target <= 1.10x)")
    leaked = [base for privacy, base in stores if privacy and _raw_pii_in(base)]
    print(f"default stores holding a raw email or phone number: {len(leaked)} of {sum(p for p, _ in stores)}")
    if args.breakdown:
        breakdown(pipeline_of(privacy=True), args.spans, args.distinct, args.pii_every)


def breakdown(
    make: Callable[[], tuple[TracerProvider, Callable[[], int]]], spans: int, distinct: int, every: int
) -> None:
    """One more round of the default pipeline with its stages timed: µs per span in each."""
    from processors import redaction, rewrite
    from processors.pii import number_checks, redactor

    spent: dict[str, float] = {}  # in the order the stages are registered
    undo: list[tuple[object, str, object]] = []

    def timed(owner: object, name: str, label: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args: object, **kwargs: object) -> object:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - started

        undo.append((owner, name, original))
        spent[label] = 0.0
        setattr(owner, name, wrapper)

    provider, _ = make()
    for processor in provider.chain.processors:  # type: ignore[attr-defined]
        kind = type(processor)
        if not any(owner is kind for owner, _, _ in undo):
            timed(kind, "process_span", f"chain: {kind.__name__}")
    timed(redaction.RedactionProcessor, "_identifier", "  of which identifiers (their scan, the keyed hash)")
    timed(
        redactor.PiiRedactor,
        "find",
        "  of which scans (PiiRedactor.find, identifiers' too: strings not cached)",
    )
    timed(number_checks, "_valid_phone", "    of which phone validation")
    timed(rewrite, "replace_span", "  of which the span copy")
    for target in provider.chain.downstream:  # type: ignore[attr-defined]
        if type(target).__name__ == "JsonlSpanProcessor":  # the store's: it encodes as spans end
            timed(type(target), "on_end", "store: encode to OTLP/JSON and queue")
    try:
        started = time.perf_counter()
        workload(provider, spans, distinct, every)
        loop = time.perf_counter() - started
        provider.force_flush()
    finally:
        for owner, name, original in reversed(undo):
            setattr(owner, name, original)
        provider.shutdown()
    print(f"breakdown (one timed round, timers included): {loop / spans * 1e6:.1f} us per span in all")
    for label, seconds in spent.items():
        print(f"  {label:58s} {seconds / spans * 1e6:7.2f} us/span")


def _raw_pii_in(base: Path) -> bool:
    return any(
        b"@example.com" in text or b"415 555" in text
        for text in (path.read_bytes() for path in (base / "traces").glob("*.jsonl"))
    )


def _spans_in(base: Path) -> int:
    from exporters.store.files import read_records

    total = 0
    for path in (base / "traces").glob("*.jsonl"):
        for record in read_records(path):  # sealed lines opened
            for resource_spans in record["resourceSpans"]:
                for scope_spans in resource_spans["scopeSpans"]:
                    total += len(scope_spans["spans"])
    return total


if __name__ == "__main__":
    main()

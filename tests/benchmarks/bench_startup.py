"""Zero-code start-up cost: `opentelemetry-instrument python -c pass` against `python -c pass`.

Alternating runs in the same session; prints medians, the time added and the ratio.
Target: at most 0.3 s added (nothing heavy such as presidio or spaCy on the import path).

    python tests/benchmarks/bench_startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    instrument = str(Path(sys.executable).parent / "opentelemetry-instrument")
    # Bytecode caching on, as on a user's machine: with PYTHONDONTWRITEBYTECODE set, every changed
    # module would be compiled again at each start and the figure would measure the compiler.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OTEL_", "TELEMETRY_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    env["TELEMETRY_BASE_DIR"] = tempfile.mkdtemp(prefix="bench-startup-")
    plain_cmd = [sys.executable, "-c", "pass"]
    zero_code_cmd = [instrument, sys.executable, "-c", "pass"]
    timed(plain_cmd, env)
    timed(zero_code_cmd, env)
    disabled_env = {**env, "TELEMETRY_ENABLED": "false"}
    plain, zero_code, disabled = [], [], []
    for _ in range(args.runs):
        plain.append(timed(plain_cmd, env))
        zero_code.append(timed(zero_code_cmd, env))
        disabled.append(timed(zero_code_cmd, disabled_env))
    base, ours, machinery = (
        statistics.median(plain),
        statistics.median(zero_code),
        statistics.median(disabled),
    )
    print(f"python -c pass:                          {base * 1000:7.1f} ms (median of {args.runs})")
    print(f"opentelemetry-instrument python -c pass: {ours * 1000:7.1f} ms")
    print(f"  the same with TELEMETRY_ENABLED=false: {machinery * 1000:7.1f} ms (launcher, loader, settings)")
    print(f"added: {(ours - base) * 1000:.0f} ms (target <= 300 ms), ratio {ours / base:.1f}x")
    print(f"  of which the pipeline itself (SDK providers, store): {(ours - machinery) * 1000:.0f} ms")
    heavy = subprocess.run(
        [
            instrument,
            sys.executable,
            "-c",
            "import sys; heavy = ('presidio_analyzer', 'spacy', 'openai'); "
            "print(sorted(m for m in heavy if m in sys.modules))",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"heavy modules imported at start-up: {heavy}")


if __name__ == "__main__":
    main()

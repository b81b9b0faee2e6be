"""configure(): the same pipeline as zero-code, idempotent, flushed at exit and across forks."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.support.proc import clean_env, run_app, spans, store_lines, strict_parse

CONFIGURE_TWICE = """
    import logging
    import otel_distro
    from opentelemetry import trace

    handle = otel_distro.configure(service_name="manual-svc")
    again = otel_distro.configure(service_name="other")
    assert again is handle
    assert handle.active
    tracer = trace.get_tracer("manual")
    with tracer.start_as_current_span("outer"):
        with tracer.start_as_current_span("inner"):
            pass
    assert handle.force_flush()
    print("flushed", len(list((handle.settings.store_dir / "traces").glob("*.jsonl"))))
    handle.shutdown()
    otel_distro.shutdown()
"""


def test_configure_writes_the_same_otlp_lines_and_a_second_call_is_harmless(tmp_path: Path) -> None:
    run = run_app(tmp_path, CONFIGURE_TWICE)
    assert run.returncode == 0, run.stderr
    assert "flushed 1" in run.stdout
    assert "already configured" in run.stderr
    found = spans(tmp_path / "store")
    assert sorted(span["name"] for span in found) == ["inner", "outer"]
    assert {span["_resource"]["service.name"] for span in found} == {"manual-svc"}
    for line in store_lines(tmp_path / "store", "traces"):
        strict_parse("traces", line)


FORKING = """
    import multiprocessing
    import os
    import sys
    import otel_distro
    from opentelemetry import trace

    otel_distro.configure()
    tracer = trace.get_tracer("forks")

    def work(index):
        for n in range(50):
            tracer.start_span(f"mp-{index}").end()

    with tracer.start_as_current_span("before-fork"):
        pass

    pid = os.fork()
    if pid == 0:
        for n in range(30):
            tracer.start_span("forked-child").end()
        sys.exit(0)
    os.waitpid(pid, 0)

    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=work, args=(i,)) for i in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    with ctx.Pool(2) as pool:  # leaving the block terminates the workers (SIGTERM)
        pool.map(work, [10, 11])
    tracer.start_span("after-fork").end()
    print("parent done")
"""


TERMINATED_WHILE_STARTING = """
    import os
    import signal
    import otel_distro
    from opentelemetry import trace

    def terminated_while_starting():  # runs in the child before the pipeline's after-fork hooks
        os.kill(os.getpid(), signal.SIGTERM)

    os.register_at_fork(after_in_child=terminated_while_starting)
    otel_distro.configure()
    trace.get_tracer("forks").start_span("parent-span").end()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    print("child exit", os.waitstatus_to_exitcode(status))
"""


def test_a_child_terminated_before_its_after_fork_hooks_writes_nothing_of_its_parents(
    tmp_path: Path,
) -> None:
    # A pool worker told to stop while it is still starting holds its parent's queued spans:
    # the parent writes them, the child must not write them again.
    run = run_app(tmp_path, TERMINATED_WHILE_STARTING)
    assert run.returncode == 0, run.stderr
    assert "child exit -15" in run.stdout
    assert Counter(span["name"] for span in spans(tmp_path / "store")) == {"parent-span": 1}


def test_spans_from_forked_children_and_multiprocessing_workers_are_written(tmp_path: Path) -> None:
    run = run_app(tmp_path, FORKING)
    assert run.returncode == 0, run.stderr
    counts = Counter(span["name"] for span in spans(tmp_path / "store"))
    assert counts["before-fork"] == 1
    assert counts["after-fork"] == 1
    assert counts["forked-child"] == 30
    for index in range(3):
        assert counts[f"mp-{index}"] == 50, counts
    assert counts["mp-10"] == counts["mp-11"] == 50, counts


FORKSERVER = """
    import multiprocessing
    import otel_distro
    from opentelemetry import trace

    otel_distro.configure()  # at import: a forkserver or spawn worker runs it too, before it starts

    def work(index):
        tracer = trace.get_tracer("workers")
        for n in range(2000):
            tracer.start_span(f"{METHOD}-{index}").end()

    if __name__ == "__main__":
        ctx = multiprocessing.get_context(METHOD)
        procs = [ctx.Process(target=work, args=(i,)) for i in range(3)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        with ctx.Pool(2) as pool:
            pool.map(work, [10, 11])
        print("parent done")
"""


@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_workers_that_configure_when_importing_the_main_module_write_every_span(
    tmp_path: Path, method: str
) -> None:
    """A forkserver worker (Python 3.14's default on Linux) runs the main module's configure()
    before it starts, and leaves through os._exit: its last spans were lost, nothing counted."""
    run = run_app(tmp_path, f"    METHOD = {method!r}\n" + FORKSERVER)
    assert run.returncode == 0, run.stderr
    counts = Counter(span["name"] for span in spans(tmp_path / "store"))
    assert {name: counts[f"{method}-{name}"] for name in (0, 1, 2, 10, 11)} == dict.fromkeys(
        (0, 1, 2, 10, 11), 2000
    )


WRITER = """
    import sys
    import otel_distro
    from opentelemetry import trace

    otel_distro.configure()
    tracer = trace.get_tracer("writer")
    worker = sys.argv[1]
    for n in range(2000):
        with tracer.start_as_current_span(f"w{worker}", attributes={"n": n, "payload": "x" * (n % 300)}):
            pass
"""


def test_four_processes_share_one_store_without_losing_or_corrupting_a_line(tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER.replace("\n    ", "\n"))
    env = clean_env(tmp_path)
    procs = [
        subprocess.Popen([sys.executable, str(script), str(worker)], env=env, stderr=subprocess.PIPE)
        for worker in range(4)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    lines = store_lines(tmp_path / "store", "traces")
    for line in lines:
        strict_parse("traces", line)
    found = spans(tmp_path / "store")
    counts = Counter(span["name"] for span in found)
    assert counts == {f"w{worker}": 2000 for worker in range(4)}
    assert len({span["spanId"] for span in found}) == 8000

"""The conversation-log exporter in real child processes against a real, faulty endpoint on 127.0.0.1.

Every turn must arrive (by ``log_id``), whatever the endpoint does: 5xx, 429 with Retry-After,
dropped connections, slow answers, refused connections, a wrong key, or a process killed while
the endpoint was down. None may carry raw PII, and the app must never wait on the endpoint.
"""

from __future__ import annotations

import json
import signal
import stat
import subprocess
import sys
import textwrap
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from exporters.conversation_records import stored_snapshots
from exporters.store.follow import StoreTail
from tests.support import waiting
from tests.support.endpoint import ClosingEndpoint, Fault, FaultyEndpoint, free_port
from tests.support.proc import CLI, clean_env, run_app

EMAIL = "alice.smith@example.com"
CARD = "4111 1111 1111 1111"
RAW_PII = (EMAIL, CARD, CARD.replace(" ", ""))
FLUSH = "0.3"
WAIT = 40.0  # generous: polling ends as soon as the condition holds

# One GenAI turn per call, in the three forms the conventions use, with PII in every text.
APP = f"""
    import json
    import os
    import sys
    import time

    import otel_distro
    from opentelemetry import trace

    handle = otel_distro.configure(service_name="chat-app")
    tracer = trace.get_tracer("chat")
    EMAIL, CARD = {EMAIL!r}, {CARD!r}
    count = 0

    def turn(fail=False):
        global count
        index, count = count, count + 1
        form = index % 3
        with tracer.start_as_current_span("chat gpt-4o") as span:
            span.set_attribute("gen_ai.operation.name", "chat")
            span.set_attribute("gen_ai.provider.name", "openai")
            span.set_attribute("gen_ai.request.model", "gpt-4o")
            span.set_attribute("gen_ai.conversation.id", f"conv-{{index % 2}}")
            question = f"turn {{index}}: mail me at {{EMAIL}}, card {{CARD}}"
            answer = f"answer {{index}}: I wrote to {{EMAIL}}"
            if form == 0:
                span.add_event("gen_ai.system.message", {{"content": "be brief"}})
                span.add_event("gen_ai.user.message", {{"content": question}})
                message = json.dumps({{"role": "assistant", "content": answer}})
                span.add_event("gen_ai.choice", {{"finish_reason": "stop", "message": message}})
            else:
                inputs = json.dumps([{{"role": "user", "parts": [{{"type": "text", "content": question}}]}}])
                output = {{"role": "assistant", "parts": [{{"type": "text", "content": answer}}]}}
                outputs = json.dumps([{{**output, "finish_reason": "stop"}}])
                if form == 1:
                    span.add_event(
                        "gen_ai.client.inference.operation.details",
                        {{"gen_ai.input.messages": inputs, "gen_ai.output.messages": outputs}},
                    )
                else:
                    span.set_attribute("gen_ai.input.messages", inputs)
                    span.set_attribute("gen_ai.output.messages", outputs)
            if fail:
                span.set_status(trace.Status(trace.StatusCode.ERROR, f"quota exceeded for {{EMAIL}}"))
            context = span.get_span_context()
            print("turn", f"{{context.trace_id:032x}}", f"{{context.span_id:016x}}", flush=True)

    with tracer.start_as_current_span("GET /health"):
        pass  # not GenAI: no record
"""


def app(body: str) -> str:
    return textwrap.dedent(APP) + textwrap.dedent(body)


def env_for(tmp: Path, url: str, **extra: str) -> dict[str, str]:
    settings = {
        "TELEMETRY_ENDPOINT": url,
        "TELEMETRY_FLUSH_INTERVAL_SECS": FLUSH,
        "TELEMETRY_BATCH_SIZE": "4",
        "TELEMETRY_CACHE_PATH": str(tmp / "cache"),
    }
    return clean_env(tmp, **{**settings, **extra})


def turns_of(stdout: str) -> list[tuple[str, str]]:
    found = []
    for line in stdout.splitlines():
        if line.startswith("turn "):
            _, trace_id, span_id = line.split()
            found.append((trace_id, span_id))
    return found


def logs(endpoint: FaultyEndpoint) -> list[dict[str, Any]]:
    return [r for r in endpoint.records() if r.get("type") == "conversation_log"]


def traces(endpoint: FaultyEndpoint) -> list[dict[str, Any]]:
    return [r for r in endpoint.records() if r.get("type") == "execution_trace"]


def traced_spans(records: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(record["trace_id"], record["request_id"]) for record in records}


def by_turn(records: list[dict[str, Any]]) -> dict[tuple[str, str], set[str]]:
    ids: dict[tuple[str, str], set[str]] = defaultdict(set)
    for record in records:
        ids[(record["metadata"]["trace_id"], record["metadata"]["span_id"])].add(record["log_id"])
    return ids


def assert_each_turn_arrived(records: list[dict[str, Any]], turns: list[tuple[str, str]]) -> None:
    """Every turn arrived, under one log_id of its own; no record of a turn that was not made.
    A repeat (same log_id) is allowed only as the very same record, for the receiver to drop."""
    ids = by_turn(records)
    assert sorted(ids) == sorted(turns), (len(ids), len(turns))
    assert all(len(found) == 1 for found in ids.values())
    assert len({next(iter(found)) for found in ids.values()}) == len(turns)
    first: dict[str, dict[str, Any]] = {}
    for record in records:
        same = first.setdefault(record["log_id"], record)
        assert same == record


def wait_until(condition: Callable[[], object], timeout: float = WAIT) -> bool:
    return waiting.wait_until(condition, timeout)


# The exporter follows the JSONL store when it keeps traces (the default), else a spool of its own.
MODES = {"store": {}, "cache": {"TELEMETRY_STORE_ENABLED": "false"}}


def spool_files(tmp: Path) -> list[Path]:
    """The files of the exporter's own spool (a JSONL store under its cache directory)."""
    directory = tmp / "cache" / "spool" / "traces"
    return sorted(directory.glob("*.jsonl")) if directory.is_dir() else []


def unsent_bytes(tmp: Path, mode: str) -> int:
    """What waits on disk for the endpoint: store (or spool) bytes past the sent position."""
    if mode == "cache":
        traces, position = tmp / "cache" / "spool" / "traces", tmp / "cache" / "spool_position.json"
    else:
        traces, position = tmp / "store" / "traces", tmp / "cache" / "store_position.json"
    return StoreTail(traces, position, 1 << 40, stored_snapshots).backlog()


def waiting_files(tmp: Path, mode: str) -> list[Path]:
    """The files holding what waits for the endpoint."""
    if mode == "cache":
        return spool_files(tmp)
    return sorted((tmp / "store" / "traces").glob("*.jsonl"))


def stats(env: dict[str, str]) -> dict[str, Any]:
    """``otel-distro stats --json``'s conversation-log section."""
    command = [CLI, "stats", "--json"]
    done = subprocess.run(command, check=False, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    section: dict[str, Any] = json.loads(done.stdout)["conversation_log"]
    return section


def cache_state(tmp: Path) -> dict[str, Any]:
    try:
        state: dict[str, Any] = json.loads((tmp / "cache" / "state.json").read_text())
    except (OSError, ValueError):
        return {}
    return state


class RunningApp:
    """A real child process that runs until its stdin is closed; its stdout is read line by line."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self.stderr = ""
        self.done = False

    def finish(self, timeout: float = 60) -> int:
        """Close its stdin (the app's cue to end) and wait for it to exit."""
        out, self.stderr = self.proc.communicate(timeout=timeout)
        self.done = True
        self.lines += out.splitlines()
        return self.proc.returncode

    def read_until(self, marker: str) -> None:
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            assert line, f"the app ended before {marker!r}: {self.lines}"
            self.lines.append(line.rstrip("\n"))
            if line.strip() == marker:
                return

    def say(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    @property
    def turns(self) -> list[tuple[str, str]]:
        return turns_of("\n".join(self.lines))


@contextmanager
def running(tmp: Path, source: str, env: dict[str, str]) -> Iterator[RunningApp]:
    script = tmp / "app.py"
    script.write_text(textwrap.dedent(source))
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        env=env,
        cwd=tmp,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    child = RunningApp(proc)
    try:
        yield child
    finally:
        if not child.done:
            proc.kill()
            proc.communicate(timeout=60)


# -- delivery through every fault ------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_every_turn_arrives_through_errors_throttling_drops_slow_answers_and_refusals(
    tmp_path: Path, mode: str
) -> None:
    endpoint = ClosingEndpoint().start()
    # A success between faults resets the backoff, so the test stays short.
    endpoint.fail(
        Fault(status=503),
        Fault(),
        Fault(status=429, retry_after="1"),
        Fault(),
        Fault(drop=True),
        Fault(),
        Fault(status=503, delay=2.5),  # slower than the client's timeout
        Fault(),
        Fault(status=502),
    )
    source = app(
        """
        for burst in range(4):
            for _ in range(3):
                turn()
            time.sleep(0.4)
        print("phase1", flush=True)
        sys.stdin.readline()  # the test stops the endpoint
        for _ in range(5):
            turn()
        print("phase2", flush=True)
        sys.stdin.read()
        """
    )
    env = env_for(
        tmp_path,
        endpoint.url,
        TELEMETRY_ENDPOINT_TIMEOUT_SECS="1",
        TELEMETRY_EXECUTION_TRACES="none",
        **MODES[mode],
    )
    try:
        with running(tmp_path, source, env) as child:
            child.read_until("phase1")
            first = child.turns
            assert len(first) == 12
            arrived = wait_until(lambda: len(by_turn(logs(endpoint))) >= len(first))
            assert arrived, (len(by_turn(logs(endpoint))), endpoint.attempts, cache_state(tmp_path))
            endpoint.stop()  # connection refused from here on
            child.say("go")
            child.read_until("phase2")
            refused = wait_until(lambda: "Connect" in str(cache_state(tmp_path).get("last_error")))
            assert refused, cache_state(tmp_path)
            assert unsent_bytes(tmp_path, mode)  # kept on disk meanwhile
            endpoint.start()  # back on the same port
            assert wait_until(lambda: len(by_turn(logs(endpoint))) >= len(child.turns))
            assert child.finish() == 0, child.stderr
            turns = child.turns
        assert len(turns) == 17
        assert_each_turn_arrived(logs(endpoint), turns)
        assert traces(endpoint) == []  # TELEMETRY_EXECUTION_TRACES=none
        assert unsent_bytes(tmp_path, mode) == 0
        assert spool_files(tmp_path) == []  # the spool keeps what waits only; the store is the user's
        assert not endpoint.faults  # every fault was met on the way
        statuses = Counter(status for status, _ in endpoint.attempts)
        assert statuses[503] >= 2 and statuses[429] >= 1 and statuses["dropped"] >= 1
    finally:
        endpoint.stop()


def test_records_carry_the_turn_and_no_raw_pii_and_the_auth_header_arrives(tmp_path: Path) -> None:
    with FaultyEndpoint() as endpoint:
        env = env_for(
            tmp_path,
            endpoint.url,
            TELEMETRY_ENDPOINT_HEADERS="Authorization=Bearer s3cret-token,X-Client=tests",
        )
        source = app("for index in range(6):\n    turn(fail=index >= 4)\n")
        run = run_app(tmp_path, source, env=env, timeout=60)
        assert run.returncode == 0, run.stderr
        turns = turns_of(run.stdout)
        assert len(turns) == 6
        assert wait_until(lambda: len(by_turn(logs(endpoint))) >= 6, timeout=5)
        records = logs(endpoint)
        assert_each_turn_arrived(records, turns)
        assert Counter(r["log_id"] for r in records).most_common(1)[0][1] == 1  # no repeats
        executions = traces(endpoint)
        assert traced_spans(executions) == set(turns)  # GenAI spans also give execution traces
        assert len(executions) == 6  # and not the plain HTTP span
        failed = [r for r in executions if not r["success"]]
        assert len(failed) == 2
        assert all(r["error"] == "quota exceeded for <EMAIL>" for r in failed)
        assert {r["method"] for r in executions} == {"chat gpt-4o"}
        assert {r["service"] for r in executions} == {"chat-app"}
        blob = json.dumps(endpoint.accepted)
        for raw in RAW_PII:
            assert raw not in blob, raw
        assert "<EMAIL>" in blob and "<CREDIT_CARD>" in blob
        for record in records:
            index = int(record["user_query"].split(":")[0].removeprefix("turn "))
            assert record["user_query"] == f"turn {index}: mail me at <EMAIL>, card <CREDIT_CARD>"
            assert record["system_response"] == f"answer {index}: I wrote to <EMAIL>"
            assert record["session_id"] == f"conv-{index % 2}"
            assert record["metadata"]["model"] == "gpt-4o"
            assert record["metadata"]["provider"] == "openai"
            assert record["metadata"]["operation"] == "chat"
            assert record["metadata"]["finish_reasons"] == ["stop"]
        for status, headers in endpoint.attempts:
            assert status == 200
            assert headers["authorization"] == "Bearer s3cret-token"
            assert headers["x-client"] == "tests"
            assert headers["content-encoding"] == "gzip"
        for body in endpoint.accepted:
            assert 0 < len(body["records"]) <= 4  # TELEMETRY_BATCH_SIZE
            assert body["source"]["distro"] == "otel-distro"
            assert body["sent_at"]
        assert "s3cret-token" not in run.stderr + run.stdout


def test_the_envelope_names_the_service_as_the_records_do_redacted(tmp_path: Path) -> None:
    """Each request's "source" names the sending service: as every record does, redacted (it
    was built from the raw resource, so a service name holding an email reached the endpoint)."""
    with FaultyEndpoint() as endpoint:
        env = env_for(tmp_path, endpoint.url)
        source = app("for index in range(2):\n    turn()\n").replace(
            'service_name="chat-app"', 'service_name="chat-app ops.lead@example.com"'
        )
        run = run_app(tmp_path, source, env=env, timeout=60)
        assert run.returncode == 0, run.stderr
        assert wait_until(lambda: len(by_turn(logs(endpoint))) >= 2, timeout=5)
    blob = json.dumps(endpoint.accepted)
    assert "ops.lead@example.com" not in blob
    assert {body["source"]["service"] for body in endpoint.accepted} == {"chat-app <EMAIL>"}
    assert {r["service"] for r in traces(endpoint)} == {"chat-app <EMAIL>"}


def test_an_endpoint_failing_every_other_request_still_gets_every_turn(tmp_path: Path) -> None:
    """A flapping endpoint (a bad node behind a load balancer) answers 503 to every other request.
    Progress must be kept: records it acknowledged need not go again and again, and the ones
    after them must get through."""
    with FaultyEndpoint() as endpoint:
        for _ in range(300):
            endpoint.fail(Fault(status=503), Fault())
        source = app(
            """
            for burst in range(4):
                turn()
                turn()
                time.sleep(0.4)
            print("made", flush=True)
            sys.stdin.read()
            """
        )
        env = env_for(tmp_path, endpoint.url, TELEMETRY_BATCH_SIZE="2")
        with running(tmp_path, source, env) as child:
            child.read_until("made")
            turns = child.turns
            assert len(turns) == 8
            arrived = wait_until(lambda: len(by_turn(logs(endpoint))) >= 8, timeout=20)
            repeats = Counter(r["log_id"] for r in endpoint.records() if "log_id" in r).most_common(1)
            assert arrived, (
                f"{len(by_turn(logs(endpoint)))} of 8 turns arrived",
                f"most repeated: {repeats}",
            )
            assert child.finish() == 0, child.stderr
        assert_each_turn_arrived(logs(endpoint), turns)


# -- what the endpoint refuses ---------------------------------------------------------------


def test_a_400_drops_the_batch_with_a_warning_and_a_count(tmp_path: Path) -> None:
    with FaultyEndpoint() as endpoint:
        endpoint.fail(Fault(status=400))
        source = app(
            """
            turn()
            turn()
            deadline = time.monotonic() + 30
            state = os.environ["TELEMETRY_CACHE_PATH"] + "/state.json"
            while not os.path.exists(state) and time.monotonic() < deadline:
                time.sleep(0.05)  # the first batch was answered
            turn()
            """
        )
        env = env_for(tmp_path, endpoint.url, TELEMETRY_EXECUTION_TRACES="none")
        run = run_app(tmp_path, source, env=env, timeout=60)
        assert run.returncode == 0, run.stderr
        turns = turns_of(run.stdout)
        assert [status for status, _ in endpoint.attempts][:1] == [400]
        assert "400" in run.stderr and "dropped" in run.stderr
        delivered = by_turn(logs(endpoint))
        assert turns[2] in delivered  # the later turn still arrives
        lost = [t for t in turns if t not in delivered]
        assert lost  # the rejected batch is not sent again
        assert cache_state(tmp_path)["rejected_records"] == len(lost)
        assert unsent_bytes(tmp_path, "store") == 0  # nothing kept of the rejected batch
    # stats shows the refusal among the store's drops, run without the app's cache setting
    stats = subprocess.run(
        [CLI, "stats", "--json"], env=clean_env(tmp_path), capture_output=True, text=True, check=False
    )
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["dropped"].get("conversation_log_refused") == len(lost)


def test_rejections_by_processes_sharing_the_cache_are_all_counted(tmp_path: Path) -> None:
    """gunicorn workers share one cache and one state.json: each one's count must add up."""
    with FaultyEndpoint() as endpoint:
        endpoint.fail(*[Fault(status=400)] * 20)
        source = app(
            """
            print("configured", flush=True)
            sys.stdin.read()  # the test says when
            turn()
            turn()
            """
        )
        env = env_for(tmp_path, endpoint.url, TELEMETRY_EXECUTION_TRACES="none")
        with running(tmp_path, source, env) as first, running(tmp_path, source, env) as second:
            first.read_until("configured")
            second.read_until("configured")
            assert first.finish() == 0, first.stderr
            assert second.finish() == 0, second.stderr
        assert endpoint.accepted == []
        assert {status for status, _ in endpoint.attempts} == {400}
        assert cache_state(tmp_path)["rejected_records"] == 4


@pytest.mark.parametrize("mode", MODES)
def test_a_401_keeps_the_records_on_disk_until_a_later_run_delivers_them(tmp_path: Path, mode: str) -> None:
    with FaultyEndpoint() as endpoint:
        endpoint.fail(*[Fault(status=401)] * 50)
        env = env_for(tmp_path, endpoint.url, TELEMETRY_BATCH_SIZE="50", **MODES[mode])
        first = run_app(tmp_path, app("for _ in range(5):\n    turn()\n"), env=env, timeout=60)
        assert first.returncode == 0, first.stderr
        turns = turns_of(first.stdout)
        assert len(turns) == 5
        assert endpoint.attempts and {status for status, _ in endpoint.attempts} == {401}
        assert endpoint.accepted == []
        assert "401" in first.stderr and "credentials" in first.stderr
        files = waiting_files(tmp_path, mode)
        assert files and unsent_bytes(tmp_path, mode)
        assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files)
        assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700
        assert stat.S_IMODE((tmp_path / "cache" / "state.json").stat().st_mode) == 0o600
        shown = stats(env)
        assert shown["cached_spans"] >= 5 and shown["follows_store"] is (mode == "store")
        assert "401" in shown["last_error"] and shown["last_success"] is None

        endpoint.faults.clear()  # the key was fixed
        later = run_app(tmp_path, app(""), env=env, timeout=60, name="later.py")
        assert later.returncode == 0, later.stderr
        assert wait_until(lambda: len(by_turn(logs(endpoint))) >= 5, timeout=5)
        records = logs(endpoint)
        assert_each_turn_arrived(records, turns)
        assert len(records) == 5  # each exactly once
        assert unsent_bytes(tmp_path, mode) == 0
        shown = stats(env)
        assert shown["cached_spans"] == 0 and shown["last_success"]
        assert shown["delivered_records"] >= 10  # 5 turns and their 5 execution traces


# -- a killed process ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_process_killed_while_the_endpoint_is_down_loses_nothing(tmp_path: Path, mode: str) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1/conversations"
    env = env_for(tmp_path, url, TELEMETRY_BATCH_SIZE="3", **MODES[mode])
    source = app(
        """
        for _ in range(7):
            turn()
        time.sleep(4 * float(os.environ["TELEMETRY_FLUSH_INTERVAL_SECS"]))  # past its flush interval
        print("ready", flush=True)
        sys.stdin.read()
        """
    )
    with running(tmp_path, source, env) as child:
        child.read_until("ready")
        child.proc.send_signal(signal.SIGKILL)
        child.proc.wait(30)
        turns = child.turns
    assert len(turns) == 7
    files = waiting_files(tmp_path, mode)
    assert files and unsent_bytes(tmp_path, mode), "nothing was on disk when the process was killed"
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files)
    on_disk = "".join(path.read_text() for path in files)
    for raw in RAW_PII:
        assert raw not in on_disk, raw

    with FaultyEndpoint(port) as endpoint:
        later = run_app(tmp_path, app(""), env=env, timeout=60, name="later.py")
        assert later.returncode == 0, later.stderr
        assert wait_until(lambda: len(by_turn(logs(endpoint))) >= 7, timeout=5)
        records = logs(endpoint)
        assert_each_turn_arrived(records, turns)
        assert len(records) == 7
        assert traced_spans(traces(endpoint)) == set(turns)
        assert unsent_bytes(tmp_path, mode) == 0
        assert spool_files(tmp_path) == []


# -- the app never waits on the endpoint -----------------------------------------------------


def test_the_app_exits_promptly_with_an_endpoint_that_never_answers(tmp_path: Path) -> None:
    with FaultyEndpoint() as endpoint:
        endpoint.fail(*[Fault(delay=120.0)] * 20)  # accepts the connection, never answers in time
        env = env_for(tmp_path, endpoint.url)
        env.pop("TELEMETRY_ENDPOINT_TIMEOUT_SECS", None)  # the default timeout
        source = app(
            """
            for _ in range(5):
                turn()
            time.sleep(1)  # the sender is now stuck on a request
            print("done", flush=True)
            """
        )
        run = run_app(tmp_path, source, env=env, timeout=30)  # would raise TimeoutExpired
        assert run.returncode == 0, run.stderr
        assert "done" in run.stdout
        assert len(turns_of(run.stdout)) == 5
        assert unsent_bytes(tmp_path, "store")  # what was not acknowledged stays on disk
        assert endpoint.accepted == []


def test_the_app_exits_promptly_with_an_endpoint_answering_503_and_keeps_the_turns(tmp_path: Path) -> None:
    with FaultyEndpoint() as endpoint:
        endpoint.fail(*[Fault(status=503)] * 200)  # reachable, and refusing everything for now
        env = env_for(tmp_path, endpoint.url)
        env.pop("TELEMETRY_ENDPOINT_TIMEOUT_SECS", None)
        run = run_app(tmp_path, app("for _ in range(5):\n    turn()\n"), env=env, timeout=30)
        assert run.returncode == 0, run.stderr
        assert len(turns_of(run.stdout)) == 5
        assert len(endpoint.attempts) <= 2  # at exit: one short attempt, no retry loop
        assert endpoint.accepted == []
        assert unsent_bytes(tmp_path, "store")  # sent by a later process


@pytest.mark.parametrize("mode", MODES)
def test_the_app_exits_promptly_with_a_refused_endpoint(tmp_path: Path, mode: str) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1/conversations"
    env = env_for(tmp_path, url, **MODES[mode])
    run = run_app(tmp_path, app("for _ in range(5):\n    turn()\n"), env=env, timeout=30)
    assert run.returncode == 0, run.stderr
    assert len(turns_of(run.stdout)) == 5
    assert unsent_bytes(tmp_path, mode)


# -- resume positions follow the file, not its name -----------------------------------------


def test_turns_written_after_purge_all_into_a_new_shorter_file_are_all_delivered(tmp_path: Path) -> None:
    """Issue 21 item 1: after `purge --all`, a later process of the same day wrote a new, shorter
    traces file; the saved offset pointed past its end: 0 of its turns went, stats showed nothing
    waiting."""
    with FaultyEndpoint() as endpoint:
        env = env_for(tmp_path, endpoint.url)
        first = run_app(tmp_path, app("for _ in range(12):\n    turn()\n"), env=env)
        assert first.returncode == 0, first.stderr
        assert wait_until(lambda: len(logs(endpoint)) >= 12)
        purged = subprocess.run([CLI, "purge", "--all"], env=env, capture_output=True, text=True, check=False)
        assert purged.returncode == 0, purged.stderr
        # The next process is stopped before it sends: `stats` must show its turns waiting.
        down = env_for(tmp_path, f"http://127.0.0.1:{free_port()}/v1/conversations")
        second = run_app(tmp_path, app("for _ in range(2):\n    turn()\n"), env=down)
        assert second.returncode == 0, second.stderr
        assert stats(env)["cached_spans"] >= 2
        third = run_app(tmp_path, app("turn()\n"), env=env)
        assert third.returncode == 0, third.stderr
        new_turns = turns_of(second.stdout) + turns_of(third.stdout)
        assert wait_until(lambda: len(logs(endpoint)) >= 15)
    arrived = by_turn(logs(endpoint))
    assert all(turn in arrived for turn in new_turns)

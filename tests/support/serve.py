"""A real `otel-distro serve` process over a store written by a real instrumented app."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.proc import CLI, clean_env, run_app

AGENT_APP = """
import otel_distro
from instrumentations import (
    record_conversation_turn, record_model_interaction, track_run, trace_tool_execution,
)

handle = otel_distro.configure(service_name="serve-test-agent")

@trace_tool_execution("lookup")
def lookup(query):
    return query.upper()

for n in range(3):
    with track_run("researcher", "question", conversation_id="session-7") as run:
        lookup(f"query {n}")
        prompt = f"question {n}: mail jane.doe@example.com please"
        record_model_interaction("gpt-4o-mini", provider="openai",
            input_messages=[{"role": "system", "content": "You are terse."}, prompt],
            output_messages=f"answer {n}", input_tokens=11, output_tokens=7, conversation_id="session-7",
            duration_s=0.01)
        record_conversation_turn("session-7", prompt, f"answer {n}", model="gpt-4o-mini", provider="openai")
        run.set_metrics(items_discovered=2, items_succeeded=2)
        run.associate_commit("9fceb02d0ae598e95dc970b74767f19372d61af8", repo="https://example.com/agent.git")
try:
    with track_run("researcher", "cleanup"):
        raise RuntimeError("cleanup failed")
except RuntimeError:
    pass
handle.shutdown()
"""


def write_store(tmp: Path) -> Path:
    done = run_app(tmp, AGENT_APP)
    assert done.returncode == 0, done.stderr
    return tmp / "store"


class ServeProcess:
    """`otel-distro serve` on a free port; ``url`` and ``token`` once it is listening."""

    def __init__(
        self, tmp: Path, *args: str, token: str | None = "test-token", env: dict[str, str] | None = None
    ):
        command = [CLI, "serve", "--port", "0", "--no-open", *args]
        if token is not None:
            command += ["--token", token]
        self.proc = subprocess.Popen(
            command, env=env or clean_env(tmp), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        match = re.search(r"(http://\S+?)/\?token=(\S+)", line)
        if not match:
            self.close()
            raise AssertionError(f"serve printed {line!r}; stderr: {self.stderr()}")
        self.url, self.token = match.group(1), match.group(2)
        self.client = httpx.Client(base_url=self.url, timeout=30, trust_env=False)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.client.get(path, headers=headers, **kwargs)

    def stderr(self) -> str:
        if self.proc.poll() is None:
            return ""
        assert self.proc.stderr is not None
        return self.proc.stderr.read()

    def close(self) -> None:
        if hasattr(self, "client"):
            self.client.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()


def wait_for(check: Any, timeout: float = 30.0, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)


def tool(name: str) -> str | None:
    """A system tool (chromium, prometheus), or None when it is not installed; in CI (where
    .ci/run installs them) a missing one fails the test rather than skipping it."""
    found = shutil.which(name)
    if found is None and os.environ.get("CI"):
        raise AssertionError(f"{name} is not installed: .ci/run should have installed it")
    return found

"""Helicone's gateway headers (TELEMETRY_HELICONE_HEADERS=true): requests an app sends to the
gateway carry its run's session, user and agent; requests to any other host carry none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.endpoint import FaultyEndpoint
from tests.support.proc import clean_env, run_app

EMAIL = "uma.reyes@example.com"


class HeaderRecorder(FaultyEndpoint):
    """Takes any POST and keeps its headers."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[str, dict[str, str]]] = []

    def receive(self, path: str, headers: dict[str, str], raw: bytes) -> int:
        with self._cond:
            self.requests.append((path, headers))
        return 200


APP = f"""
    import os
    import httpx
    import requests
    from instrumentations import track_run

    port = os.environ["GATEWAY_PORT"]
    with track_run("support", "question", conversation_id="chat-{EMAIL}", user_id="u-7"):
        httpx.post(f"http://localhost:{{port}}/v1/chat/completions", json={{}})  # the gateway
        requests.post(f"http://localhost:{{port}}/v1/messages", json={{}}, timeout=5)
        httpx.post(f"http://127.0.0.1:{{port}}/elsewhere", json={{}})  # another host
        requests.post(f"http://127.0.0.1:{{port}}/elsewhere-too", json={{}}, timeout=5)
    httpx.post(f"http://localhost:{{port}}/outside-a-run", json={{}})
    # an id of another script, no PII in it: a header is ASCII, so it goes percent-encoded
    with track_run("support", "question", conversation_id="\u4f1a\u8bdd-42"):
        httpx.post(f"http://localhost:{{port}}/cjk-session", json={{}})
    print("app ok")
"""


def _helicone(headers: dict[str, Any]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items() if key.lower().startswith("helicone-")}


def test_gateway_requests_carry_the_runs_session_user_and_agent_and_no_other_host_does(
    tmp_path: Path,
) -> None:
    with HeaderRecorder() as recorder:
        env = clean_env(
            tmp_path,
            TELEMETRY_HELICONE_HEADERS="true",
            TELEMETRY_HELICONE_GATEWAY_HOSTS="localhost",
            GATEWAY_PORT=str(recorder.port),
        )
        run = run_app(tmp_path, APP, zero_code=True, env=env)
        assert run.returncode == 0, run.stderr
        seen = {path: _helicone(headers) for path, headers in recorder.requests}
    for path in ("/v1/chat/completions", "/v1/messages"):  # httpx and requests
        headers = seen[path]
        assert headers["helicone-user-id"] == "u-7"
        assert headers["helicone-property-agent"] == "support"
        assert headers["helicone-session-id"].startswith("hmac-sha256:")  # it held an email
    assert seen["/elsewhere"] == {} and seen["/elsewhere-too"] == {}  # never to another host
    assert seen["/outside-a-run"] == {}  # no run, nothing to say
    assert seen["/cjk-session"]["helicone-session-id"] == "%E4%BC%9A%E8%AF%9D-42"  # before: no header
    assert "internal error" not in run.stderr
    assert EMAIL not in repr(recorder.requests)


def test_without_the_switch_no_helicone_header_is_added(tmp_path: Path) -> None:
    with HeaderRecorder() as recorder:
        env = clean_env(
            tmp_path, TELEMETRY_HELICONE_GATEWAY_HOSTS="localhost", GATEWAY_PORT=str(recorder.port)
        )
        run = run_app(tmp_path, APP, zero_code=True, env=env)
        assert run.returncode == 0, run.stderr
        assert all(_helicone(headers) == {} for _, headers in recorder.requests)
        assert len(recorder.requests) == 6

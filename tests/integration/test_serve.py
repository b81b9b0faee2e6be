"""`otel-distro serve`: the JSON API and its security, against a real serve process over a store
written by a real instrumented app."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.proc import CLI, clean_env
from tests.support.serve import ServeProcess, write_store


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    tmp = tmp_path_factory.mktemp("serve")
    write_store(tmp)
    server = ServeProcess(tmp)
    yield server
    server.close()


def test_traces_lists_every_trace_newest_first_with_root_span_and_counts(served: ServeProcess) -> None:
    body = served.get("/api/v1/traces").json()
    traces = body["traces"]
    assert len(traces) == 4 and body["next_cursor"] is None
    starts = [t["start_unix_nano"] for t in traces]
    assert starts == sorted(starts, reverse=True)
    assert {t["root_name"] for t in traces} == {"invoke_agent researcher"}
    assert [t["errors"] > 0 for t in traces] == [True, False, False, False]


def test_traces_cursor_pages_through_all_traces_once(served: ServeProcess) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        body = served.get("/api/v1/traces", params=params).json()
        seen += [t["trace_id"] for t in body["traces"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 4


@pytest.mark.parametrize(
    ("params", "count"),
    [
        ({"status": "error"}, 1),
        ({"status": "ok"}, 3),
        ({"model": "gpt-4o-mini"}, 3),
        ({"operation": "execute_tool"}, 3),
        ({"name": "execute_tool lookup"}, 3),
        ({"service": "serve-test-agent"}, 4),
        ({"service": "no-such-service"}, 0),
        ({"q": "lookup"}, 3),
        ({"since": "1h"}, 4),
        ({"until": "2000-01-01T00:00:00"}, 0),
    ],
)
def test_traces_filters_narrow_the_list(served: ServeProcess, params: dict[str, str], count: int) -> None:
    assert len(served.get("/api/v1/traces", params=params).json()["traces"]) == count


def test_trace_returns_every_span_with_genai_conversation_and_marks_of_redaction(
    served: ServeProcess,
) -> None:
    trace_id = served.get("/api/v1/traces", params={"status": "ok", "limit": 1}).json()["traces"][0][
        "trace_id"
    ]
    body = served.get(f"/api/v1/traces/{trace_id}").json()
    names = sorted(span["name"] for span in body["spans"])
    assert (
        names
        == sorted(["invoke_agent researcher", "execute_tool lookup", "chat gpt-4o-mini", "chat gpt-4o-mini"])
        or len(names) >= 4
    )
    chat = next(s for s in body["spans"] if s["genai"] and s["genai"]["input"])
    assert chat["genai"]["model"] == "gpt-4o-mini"
    roles = [m["role"] for m in chat["genai"]["input"]] + [m["role"] for m in chat["genai"]["output"]]
    assert "user" in roles and "assistant" in roles
    assert "jane.doe@example.com" not in json.dumps(body)
    assert "<EMAIL>" in json.dumps(body)
    assert body["spans"][0]["depth"] == 0 and all(s["depth"] >= 1 for s in body["spans"][1:])


def test_unknown_trace_is_404(served: ServeProcess) -> None:
    assert served.get("/api/v1/traces/0123456789abcdef0123456789abcdef").status_code == 404


def test_runs_give_agent_job_status_duration_items_and_commit(served: ServeProcess) -> None:
    runs = served.get("/api/v1/runs").json()["runs"]
    assert len(runs) == 4
    assert runs[0]["status"] == "failed" and runs[0]["job"] == "cleanup"
    ok = runs[1]
    assert ok["agent"] == "researcher" and ok["status"] == "success" and ok["duration_ms"] > 0
    assert ok["items"] == {"discovered": 2, "succeeded": 2}
    assert ok["commit"]["revision"] == "9fceb02d0ae598e95dc970b74767f19372d61af8"


def test_conversations_group_turns_by_session(served: ServeProcess) -> None:
    sessions = served.get("/api/v1/conversations").json()["sessions"]
    assert [s["session"] for s in sessions] == ["session-7"]
    turns = sessions[0]["turns"]
    assert len(turns) >= 3 and all(t["user"].startswith("question") for t in turns)
    assert any(t["assistant"] == "answer 0" for t in turns)


def test_stats_answers_what_stats_json_prints(served: ServeProcess, tmp_path: Path) -> None:
    api = served.get("/api/v1/stats", params={"since": "24h"}).json()
    store = Path(api["store"])
    cli = subprocess.run(
        [CLI, "--base-dir", str(store), "stats", "--json"], capture_output=True, text=True, check=True,
        env=clean_env(tmp_path),
    )  # fmt: skip
    printed = json.loads(cli.stdout)
    for key in (
        "spans",
        "traces",
        "errors",
        "p50_ms",
        "p95_ms",
        "top_names",
        "tokens",
        "redacted",
        "dropped",
    ):
        assert api[key] == printed[key], key
    assert api["redacted"].get("EMAIL", 0) >= 3


def test_health_and_version_answer(served: ServeProcess) -> None:
    assert served.client.get("/health").json() == {"status": "ok"}
    assert served.get("/version").json()["api"] == "v1"


# -- security --------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/v1/traces", "/api/v1/runs", "/api/v1/stats", "/metrics", "/traces"])
def test_data_routes_refuse_requests_without_the_token(served: ServeProcess, path: str) -> None:
    assert served.client.get(path).status_code == 401


def test_a_wrong_token_is_refused(served: ServeProcess) -> None:
    response = served.client.get("/api/v1/traces", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401
    assert served.client.get("/traces", params={"token": "wrong"}).status_code == 401


def test_query_token_sets_an_httponly_samesite_cookie_that_then_suffices(served: ServeProcess) -> None:
    with httpx.Client(base_url=served.url, trust_env=False) as browser:
        first = browser.get("/traces", params={"token": served.token})
        assert first.status_code == 303 and "token" not in first.headers["location"]
        cookie = first.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert browser.get("/api/v1/traces").status_code == 200


def test_a_foreign_host_header_is_refused_even_with_the_token(served: ServeProcess) -> None:
    assert served.get("/api/v1/traces", headers={"Host": "attacker.example"}).status_code == 421
    port = served.url.rsplit(":", 1)[1]
    assert served.get("/api/v1/traces", headers={"Host": f"localhost:{port}"}).status_code == 200


def test_every_answer_carries_a_strict_csp_and_no_route_writes(served: ServeProcess) -> None:
    response = served.get("/traces")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "http" not in csp
    assert "<script>" not in response.text and " style=" not in response.text
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        answer = served.client.request(
            method, "/api/v1/traces", headers={"Authorization": f"Bearer {served.token}"}
        )
        assert answer.status_code == 405


def test_serve_binds_loopback_by_default(served: ServeProcess) -> None:
    assert served.url.startswith("http://127.0.0.1:")


def test_binding_all_addresses_without_a_token_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [CLI, "serve", "--host", "0.0.0.0", "--port", "0", "--no-open"],
        env=clean_env(tmp_path), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode != 0 and "--token" in done.stderr


def test_binding_all_addresses_with_a_token_warns(tmp_path: Path) -> None:
    (tmp_path / "store").mkdir()
    server = ServeProcess(tmp_path, "--host", "0.0.0.0")
    try:
        assert server.get("/api/v1/traces").status_code in (200, 421)  # Host is 0.0.0.0: an IP literal
        with socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=5):
            pass
    finally:
        server.close()
    assert (
        "warning" in server.proc.stderr.read()
        if server.proc.stderr and not server.proc.stderr.closed
        else True
    )


def test_a_generated_token_is_printed_in_the_url(tmp_path: Path) -> None:
    (tmp_path / "store").mkdir()
    server = ServeProcess(tmp_path, token=None)
    try:
        assert len(server.token) >= 20
        assert server.get("/api/v1/traces").status_code == 200
    finally:
        server.close()


def test_the_printed_url_accepts_connections_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the URL is printed (and a browser opened on it) the socket is already listening: a
    connection made right then is queued, not refused, however long uvicorn takes to start."""
    import uvicorn

    import otel_distro.serve as serve_module
    import otel_distro.serve.app as serve_app

    connected: list[bool] = []

    def printed(line: str, **_: object) -> None:
        port = int(line.rsplit(":", 1)[1].split("/", 1)[0])
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            connected.append(True)
        except OSError:
            connected.append(False)

    monkeypatch.setattr(serve_module, "print", printed, raising=False)
    monkeypatch.setattr(serve_app, "create_app", lambda config: None)
    # uvicorn never starts: the socket is closed at once
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=(): [sock.close() for sock in sockets])
    serve_module.run(None, "127.0.0.1", 0, "t0ken", open_browser=False)  # type: ignore[arg-type]
    assert connected == [True]


def test_the_environment_token_is_used(tmp_path: Path) -> None:
    (tmp_path / "store").mkdir()
    server = ServeProcess(
        tmp_path, token=None, env=clean_env(tmp_path, TELEMETRY_SERVE_TOKEN="from-env-token")
    )
    try:
        assert server.token == "from-env-token"
        assert server.get("/api/v1/traces").status_code == 200
    finally:
        server.close()

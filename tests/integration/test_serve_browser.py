"""The viewer's pages in a real headless Chromium (the system package, no browser download)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.support.serve import ServeProcess, tool, write_store


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    tmp = tmp_path_factory.mktemp("serve-browser")
    write_store(tmp)
    server = ServeProcess(tmp)
    yield server
    server.close()


def chromium(tmp: Path, url: str, *extra: str) -> str:
    binary = tool("chromium") or tool("chromium-browser")
    if binary is None:
        pytest.skip("chromium is not installed (.ci/run installs it: apt-get install -y chromium)")
    done = subprocess.run(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp / 'profile'}",
            "--virtual-time-budget=5000",
            *extra,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def page(served: ServeProcess, path: str, **params: str) -> str:
    return f"{served.url}{path}?{urlencode({**params, 'token': served.token})}"


def test_trace_page_shows_every_span_and_the_conversation_with_redactions_marked(
    served: ServeProcess, tmp_path: Path
) -> None:
    trace_id = served.get("/api/v1/traces", params={"status": "ok", "limit": 1}).json()["traces"][0][
        "trace_id"
    ]
    spans = served.get(f"/api/v1/traces/{trace_id}").json()["spans"]
    dom = chromium(tmp_path, page(served, f"/traces/{trace_id}"), "--dump-dom")
    shown = re.findall(r'data-span-id="([0-9a-f]{16})"', dom)
    assert sorted(shown) == sorted(span["span_id"] for span in spans)
    assert 'class="conversation"' in dom and 'class="msg user"' in dom and 'class="msg assistant"' in dom
    assert 'class="msg system"' in dom and "You are terse." in dom
    assert re.search(r'<mark class="redacted"[^>]*>&lt;EMAIL&gt;</mark>', dom)
    assert "jane.doe@example.com" not in dom


@pytest.mark.parametrize(("params", "rows"), [({}, 4), ({"status": "error"}, 1), ({"q": "lookup"}, 3)])
def test_trace_list_filters_work_in_the_browser(
    served: ServeProcess, tmp_path: Path, params: dict[str, str], rows: int
) -> None:
    dom = chromium(tmp_path, page(served, "/traces", **params), "--dump-dom")
    body = dom.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in dom else ""
    assert body.count("<tr") == rows


def test_runs_conversations_and_dashboard_pages_render(served: ServeProcess, tmp_path: Path) -> None:
    runs = chromium(tmp_path, page(served, "/runs"), "--dump-dom")
    assert runs.count("researcher") >= 4 and "/commit/9fceb02d0ae5" in runs
    talks = chromium(tmp_path, page(served, "/conversations"), "--dump-dom")
    assert "session-7" in talks and "answer 2" in talks
    dashboard = chromium(tmp_path, page(served, "/dashboard"), "--dump-dom")
    assert (
        'id="chart-spans"' in dashboard and 'data-loaded="true"' in dashboard
    )  # its script ran under the CSP

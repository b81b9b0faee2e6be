"""The logging bridge with real web servers: what they print is unchanged, what they log is stored.

werkzeug adds its console handler (and sets INFO) only when ``logging.root.handlers`` is empty,
and Flask adds its default handler only when no handler takes the level; uvicorn's and
gunicorn's loggers do not propagate to the root logger. Real Flask and uvicorn apps, run under
``opentelemetry-instrument``, serve one request on 127.0.0.1 with the bridge off and on.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.support.endpoint import free_port
from tests.support.proc import clean_env, run_app, store_lines

pytest.importorskip("flask")
pytest.importorskip("uvicorn")
pytest.importorskip("starlette")


def _stored_logs(base: Path) -> list[tuple[str, str]]:
    """(logger name, body) of every log record in the store."""
    found = []
    for line in store_lines(base, "logs"):
        for resource_logs in orjson.loads(line)["resourceLogs"]:
            for scope_logs in resource_logs["scopeLogs"]:
                scope = scope_logs.get("scope", {}).get("name", "")
                for record in scope_logs["logRecords"]:
                    found.append((scope, record.get("body", {}).get("stringValue", "")))
    return found


def _run_both(tmp_path: Path, source: str, **extra: str) -> dict[str, Any]:
    """Run ``source`` zero-code with the bridge off and on (a fresh port and store each time)."""
    runs = {}
    for bridge in ("false", "true"):
        port = free_port()
        env = clean_env(
            tmp_path, TELEMETRY_LOG_BRIDGE=bridge, TELEMETRY_BASE_DIR=str(tmp_path / bridge), **extra
        )
        run = run_app(tmp_path, source.replace("PORT", str(port)), zero_code=True, env=env, timeout=90)
        assert run.returncode == 0, run.stderr
        runs[bridge] = (run, port)
    return runs


def _normalized(text: str, port: int) -> str:
    text = text.replace(str(port), "<port>")
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", text)  # the client's port in access logs
    text = re.sub(r"\[\d{2}/\w{3}/\d{4} \d{2}:\d{2}:\d{2}\]", "[<date>]", text)  # werkzeug access log
    text = re.sub(r"\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}\]", "[<asctime>]", text)  # Flask's format
    return re.sub(r"process \[\d+\]", "process [<pid>]", text)  # uvicorn's start-up line


FLASK_APP = """
import logging, signal, threading, urllib.request
from flask import Flask

app = Flask("shop")

@app.get("/hello")
def hello():
    app.logger.warning("flask app warning")
    return "hi"

def one_request():
    for _ in range(200):
        try:
            print(urllib.request.urlopen("http://127.0.0.1:PORT/hello", timeout=5).read().decode())
            break
        except OSError:
            threading.Event().wait(0.05)
    signal.raise_signal(signal.SIGINT)  # werkzeug's serve_forever returns on KeyboardInterrupt

# Python leaves SIGINT ignored where the parent ignored it (a CI job started in the background
# by a shell without job control): put the KeyboardInterrupt handler back so the stop arrives
signal.signal(signal.SIGINT, signal.default_int_handler)
threading.Thread(target=one_request, daemon=True).start()
app.run(host="127.0.0.1", port=PORT)
"""


def test_flask_and_werkzeug_print_the_same_bytes_with_the_bridge_on(tmp_path: Path) -> None:
    runs = _run_both(tmp_path, FLASK_APP)
    (off, off_port), (on, on_port) = runs["false"], runs["true"]
    assert "Running on http://127.0.0.1:" in off.stderr  # werkzeug's own console handler
    assert '"GET /hello HTTP/1.1" 200' in off.stderr
    assert "WARNING in app: flask app warning" in off.stderr  # Flask's default format (module name)
    assert _normalized(on.stderr, on_port) == _normalized(off.stderr, off_port)
    assert _normalized(on.stdout, on_port) == _normalized(off.stdout, off_port)
    stored = _stored_logs(tmp_path / "true")
    assert ("shop", "flask app warning") in stored
    werkzeug = [body for name, body in stored if name == "werkzeug"]
    assert any("Running on http://127.0.0.1:" in body for body in werkzeug), stored
    assert any('"GET /hello HTTP/1.1" 200' in body for body in werkzeug), stored
    assert _stored_logs(tmp_path / "false") == []


UVICORN_APP = """
import logging, threading, urllib.request
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

audit = logging.getLogger("shop.audit")  # the app's own logger that does not propagate
audit.propagate = False
audit.addHandler(logging.StreamHandler())
audit.setLevel(logging.INFO)
hidden = logging.getLogger("shop.hidden")  # not named in TELEMETRY_LOG_BRIDGE_LOGGERS
hidden.propagate = False
hidden.addHandler(logging.StreamHandler())

async def home(request):
    audit.info("audit: order placed")
    hidden.warning("hidden: stays out of the store")
    return PlainTextResponse("ok")

server = uvicorn.Server(
    uvicorn.Config(Starlette(routes=[Route("/", home)]), host="127.0.0.1", port=PORT, log_level="info")
)

def one_request():
    for _ in range(200):
        try:
            print(urllib.request.urlopen("http://127.0.0.1:PORT/", timeout=5).read().decode())
            break
        except OSError:
            threading.Event().wait(0.05)
    server.should_exit = True

threading.Thread(target=one_request, daemon=True).start()
server.run()
"""


def test_uvicorn_access_and_error_logs_and_named_loggers_reach_the_store(tmp_path: Path) -> None:
    runs = _run_both(tmp_path, UVICORN_APP, TELEMETRY_LOG_BRIDGE_LOGGERS="shop.audit")
    (off, off_port), (on, on_port) = runs["false"], runs["true"]
    assert "Uvicorn running on http://127.0.0.1:" in off.stderr
    assert _normalized(on.stderr, on_port) == _normalized(off.stderr, off_port)
    assert _normalized(on.stdout, on_port) == _normalized(off.stdout, off_port)
    assert '"GET / HTTP/1.1" 200 OK' in off.stdout  # uvicorn's access log goes to stdout
    stored = _stored_logs(tmp_path / "true")
    names = {name for name, _ in stored}
    assert {"uvicorn.error", "uvicorn.access", "shop.audit"} <= names, stored
    assert any("Uvicorn running on" in body for name, body in stored if name == "uvicorn.error")
    assert any("Application startup complete" in body for name, body in stored)
    access = [body for name, body in stored if name == "uvicorn.access"]
    assert len(access) == 1, access  # bridged once, not once per logger on its way up
    assert ("shop.audit", "audit: order placed") in stored
    assert "shop.hidden" not in names  # a non-propagating logger nobody named stays out
    assert _stored_logs(tmp_path / "false") == []


def test_the_bridge_is_no_root_handler_and_shutdown_puts_logging_back(tmp_path: Path) -> None:
    source = """
        import logging
        import otel_distro

        original = logging.Logger.callHandlers
        handle = otel_distro.configure(log_bridge=True)
        print("root handlers:", logging.root.handlers)
        lib = logging.getLogger("lib")
        if not logging.root.handlers:  # what werkzeug does
            lib.addHandler(logging.StreamHandler())
            lib.setLevel(logging.INFO)
        lib.info("lib banner")
        handle.shutdown()
        print("restored:", logging.Logger.callHandlers is original)
        lib.info("after shutdown")
    """
    run = run_app(tmp_path, source, env=clean_env(tmp_path))
    assert run.returncode == 0, run.stderr
    assert run.stdout == "root handlers: []\nrestored: True\n"
    assert run.stderr == "lib banner\nafter shutdown\n"
    assert _stored_logs(tmp_path / "store") == [("lib", "lib banner")]

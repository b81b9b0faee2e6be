"""``otel-distro serve``: a local, read-only web viewer and JSON API over the store.

Starlette on uvicorn (the ``serve`` extra), imported only by this command. Pages and
``/api/v1`` answer from the store's side index and the JSONL files it points at; ``/metrics``
is the Prometheus text exposition of the store's metrics and the distro's own counters.
"""

from __future__ import annotations

import logging
import secrets
import sys
import webbrowser
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from otel_distro.store_context import StoreContext

_logger = logging.getLogger("otel_distro.serve")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def run(obj: StoreContext, host: str, port: int, token: str | None, open_browser: bool = True) -> None:
    """Serve until interrupted; prints the URL (with the token) on stdout."""
    import socket

    import uvicorn

    from otel_distro.serve.app import ServeConfig, create_app

    if host not in LOCAL_HOSTS:
        print(
            f"warning: serving on {host}: the store is reachable from other machines (token required)",
            file=sys.stderr,
        )
    token = token or secrets.token_urlsafe(24)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    # listening before the URL is printed: a browser opened on it at once (or a script that read
    # it) is queued by the kernel until uvicorn accepts, not refused
    sock.listen(socket.SOMAXCONN)
    bound_port = sock.getsockname()[1]
    app = create_app(ServeConfig(obj, host, bound_port, token))
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{bound_port}/?token={token}"
    print(f"otel-distro serve: {url}", flush=True)
    if open_browser:
        webbrowser.open(url)
    config = uvicorn.Config(app, log_level="warning", access_log=False, server_header=False)
    uvicorn.Server(config).run(sockets=[sock])

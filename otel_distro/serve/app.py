"""The Starlette application of ``otel-distro serve``: routes, the token, Host checks, headers."""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from otel_distro.serve import api, pages
from otel_distro.serve.data import StoreReader
from otel_distro.serve.metrics import StoreMetrics

if TYPE_CHECKING:
    from otel_distro.store_context import StoreContext

COOKIE = "otel_distro_token"
PUBLIC = ("/health", "/static/")
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


@dataclass
class ServeConfig:
    context: StoreContext
    host: str
    port: int
    token: str


def allowed_host(header: str, bound: str) -> bool:
    """True for a Host header naming the bound address or localhost (DNS rebinding defence).
    Bound to every address, any IP literal is accepted, but no other name."""
    host = header.strip().lower()
    if host.startswith("["):
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.rsplit(":", 1)[0]
    if host in ("localhost", bound.lower().strip("[]")):
        return True
    if bound in ("0.0.0.0", "::"):  # noqa: S104 - the bound address, not a bind
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return False
        return True
    return False


class Guard:
    """Refuses foreign Hosts, requests without the token, and anything but GET/HEAD; adds the
    security headers to every answer; a valid ``?token=`` sets the cookie (and a page
    redirects to its URL without it)."""

    def __init__(self, app: ASGIApp, host: str, token: str) -> None:
        self.app = app
        self.host = host
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)

        async def send_secured(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)

        response = self._check(request)
        if response is not None:
            await response(scope, receive, send_secured)
            return
        query_token = request.query_params.get("token")
        if (
            query_token is not None
            and not request.url.path.startswith("/api/")
            and request.url.path != "/metrics"
        ):
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            path = "/" + request.url.path.lstrip("/")  # never "//host": no open redirect
            target = path + ("?" + urlencode(rest) if rest else "")
            redirect = RedirectResponse(target, status_code=303)
            self._set_cookie(redirect)
            await redirect(scope, receive, send_secured)
            return
        if query_token is not None:

            async def send_with_cookie(message: Any) -> None:
                if message["type"] == "http.response.start":
                    holder = Response()
                    self._set_cookie(holder)
                    message["headers"] = list(message.get("headers", [])) + [
                        (k, v) for k, v in holder.raw_headers if k == b"set-cookie"
                    ]
                await send_secured(message)

            await self.app(scope, receive, send_with_cookie)
            return
        await self.app(scope, receive, send_secured)

    def _set_cookie(self, response: Response) -> None:
        response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict", path="/")

    def _check(self, request: Request) -> Response | None:
        if not allowed_host(request.headers.get("host", ""), self.host):
            return PlainTextResponse("host not allowed\n", status_code=421)
        if request.method not in ("GET", "HEAD"):
            return PlainTextResponse("read-only\n", status_code=405, headers={"allow": "GET, HEAD"})
        path = request.url.path
        if path == "/health" or path.startswith("/static/"):
            return None
        if self._authorized(request):
            return None
        if path.startswith("/api/") or path == "/metrics":
            return JSONResponse(
                {"error": "token required"}, status_code=401, headers={"www-authenticate": "Bearer"}
            )
        return PlainTextResponse(
            "token required: open the URL `otel-distro serve` printed (…/?token=…)\n", status_code=401
        )

    def _authorized(self, request: Request) -> bool:
        given = []
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            given.append(header[7:].strip())
        if COOKIE in request.cookies:
            given.append(request.cookies[COOKIE])
        if "token" in request.query_params:
            given.append(request.query_params["token"])
        expected = self.token.encode()
        return any(hmac.compare_digest(value.encode(), expected) for value in given)


def create_app(config: ServeConfig) -> Starlette:
    store = config.context.store()
    reader = StoreReader(store)
    metrics = StoreMetrics(store)
    state = {"context": config.context, "reader": reader, "metrics": metrics}
    routes = [
        Route("/", lambda request: RedirectResponse("/traces", status_code=303)),
        Route("/health", api.health),
        Route("/version", api.version),
        Route("/metrics", api.prometheus),
        Route("/api/v1/traces", api.traces),
        Route("/api/v1/traces/{trace_id}", api.trace),
        Route("/api/v1/runs", api.runs),
        Route("/api/v1/conversations", api.conversations),
        Route("/api/v1/stats", api.stats),
        Route("/api/v1/series", api.series),
        Route("/traces", pages.traces_page),
        Route("/traces/{trace_id}", pages.trace_page),
        Route("/runs", pages.runs_page),
        Route("/conversations", pages.conversations_page),
        Route("/dashboard", pages.dashboard_page),
        Mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        reader.close()

    app = Starlette(
        routes=routes,
        middleware=[Middleware(Guard, host=config.host, token=config.token)],
        lifespan=lifespan,
    )
    app.state.serve = state
    return app

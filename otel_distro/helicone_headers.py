"""Helicone's gateway headers on an app's own LLM requests (``TELEMETRY_HELICONE_HEADERS=true``).

Apps that send their LLM calls through Helicone's gateway group them in Helicone by headers:
``Helicone-Session-Id``, ``Helicone-User-Id``, ``Helicone-Property-<name>``. With the switch on,
the distro hands the httpx and requests instrumentations a request hook that adds them, from
the agent run the request is made in (``track_run(..., conversation_id=, user_id=)`` and its
agent name), to requests whose host is one of the gateway's; never to any other host, and an
id that holds PII goes as its keyed hash, as it would in any exported record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import Any
from urllib.parse import quote, urlsplit

from instrumentations._spans import run_facts
from otel_distro.runtime.errors import internal_error
from otel_distro.settings import Settings

_logger = logging.getLogger("otel_distro.helicone_headers")
INSTRUMENTATIONS = ("httpx", "requests")  # entry-point names whose request hooks are used


class GatewayHeaders:
    """Builds the headers for one request and adds them where the host is the gateway's."""

    def __init__(self, hosts: Collection[str], protect: Callable[[str, str], str]) -> None:
        self.hosts = frozenset(host.lower() for host in hosts)
        self.protect = protect  # (key, value) -> the value, or its keyed hash where it holds PII

    def headers(self) -> dict[str, str]:
        facts = run_facts()
        found = {}
        for header, fact, key in (
            ("Helicone-Session-Id", "session", "session.id"),
            ("Helicone-User-Id", "user", "user.id"),
            ("Helicone-Property-Agent", "agent", "gen_ai.agent.name"),
        ):
            value = facts.get(fact)
            if value:
                value = self.protect(key, value)
                # a header is ASCII: another script's id goes percent-encoded, as in a URL
                found[header] = value if value.isascii() else quote(value, safe="")
        return found

    def add(self, host: str | None, headers: Any) -> None:
        """Add the headers to a request's (mutable) headers when its host is the gateway's."""
        try:
            if host is None or host.lower() not in self.hosts:
                return
            for name, value in self.headers().items():
                if name not in headers:  # the app's own headers win
                    headers[name] = value
        except Exception as exc:  # noqa: BLE001 - a header costs the request nothing
            internal_error("adding Helicone headers", exc)

    # -- the instrumentations' hooks ---------------------------------------------------------
    def httpx_hook(self, span: Any, request: Any) -> None:
        self.add(getattr(request.url, "host", None), request.headers)

    async def httpx_async_hook(self, span: Any, request: Any) -> None:
        self.add(getattr(request.url, "host", None), request.headers)

    def requests_hook(self, span: Any, request: Any) -> None:
        self.add(urlsplit(str(request.url)).hostname, request.headers)

    def hook_arguments(self, instrumentation: str) -> dict[str, Any]:
        """The keyword arguments for an instrumentor's ``instrument()``."""
        if instrumentation == "httpx":
            return {"request_hook": self.httpx_hook, "async_request_hook": self.httpx_async_hook}
        if instrumentation == "requests":
            return {"request_hook": self.requests_hook}
        return {}


def gateway_headers(settings: Settings) -> GatewayHeaders | None:
    """The header hooks these settings ask for, or None (the switch is off, or no privacy key)."""
    if not (settings.active and settings.helicone_gateway_headers):
        return None

    from otel_distro.privacy import hash_key
    from processors.hashing import KeyedDigest
    from processors.redaction import RedactionProcessor

    ids = RedactionProcessor(id_keys=("session.id", "user.id"), id_digest=KeyedDigest(hash_key(settings)))

    def protect(key: str, value: str) -> str:
        from collections import Counter

        if not settings.pii_redaction:
            return value
        rewritten = ids.rewrite_attributes({key: value}, Counter())
        return str(rewritten[key]) if rewritten else value

    return GatewayHeaders(settings.helicone_gateway_hosts, protect)

"""An endpoint's URL as messages show it: its user info and its query's values masked.

An endpoint may carry credentials (``https://user:pw@host/``, ``?api_key=…&sig=…``); warnings,
``stats``, ``config show`` and upload reports name the endpoint, and what they print ends up in
terminals, CI logs and log collectors, so they print it through :func:`shown_url`.
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit, urlunsplit

MASK = "***"


def shown_url(url: str) -> str:
    """``url`` with its user info and every query value replaced by ``***`` (the fragment
    dropped); a text that is not a URL with a host is masked after its scheme."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        host, port, parts = None, None, SplitResult("", "", "", "", "")
    if not host:
        scheme, separator, _ = url.partition("://")
        return f"{scheme}{separator}{MASK}" if separator else MASK
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    if parts.username is not None:  # a user name may be the token itself (https://TOKEN@host/)
        netloc = f"{MASK}@{netloc}"
    query = "&".join(
        f"{name}={MASK}" if separator else MASK
        for name, separator, _ in (pair.partition("=") for pair in parts.query.split("&") if pair)
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))

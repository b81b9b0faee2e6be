"""Records every network address a process connects to or looks up, other than the loopback.

Installed into a test venv (``python tests/support/connect_audit.py`` copies this file into the
venv's site-packages with a ``.pth`` that imports it), it does nothing unless
``CONNECT_AUDIT_LOG`` names a file: then an audit hook, set before ``sitecustomize`` (so before
``opentelemetry-instrument`` loads the distro and the instrumentations), appends one line per
``socket.connect`` / ``socket.getaddrinfo`` to a host that is not 127.0.0.1, ``localhost`` or
``::1``. A test reads the file with :func:`reached` and expects it empty: nothing phoned home.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

ENV = "CONNECT_AUDIT_LOG"
MODULE = "otel_distro_test_connect_audit"
_LOOPBACK = ("127.", "::1", "localhost", "::ffff:127.")


def _host(event: str, args: tuple[Any, ...]) -> str | None:
    if event == "socket.connect":
        address = args[1]
        if not isinstance(address, tuple):
            return None  # a Unix socket: not the network
        return str(address[0])
    if event == "socket.getaddrinfo":
        host = args[0]
        if host is None:
            return None
        return host.decode() if isinstance(host, bytes) else str(host)
    return None


def _hook_for(path: str) -> Any:
    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event not in ("socket.connect", "socket.getaddrinfo"):
            return
        try:
            host = _host(event, args)
            if host is None or host == "" or host.lower().startswith(_LOOPBACK):
                return
            line = f"{os.getpid()} {event} {host} {args[1] if event == 'socket.getaddrinfo' else ''}\n"
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)
        except Exception:
            pass  # an audit hook must never break the process it watches

    return hook


_active: list[str] = []


def activate() -> None:
    """Set the hook (once: a venv's ``lib64`` link can have site read the ``.pth`` twice)."""
    path = os.environ.get(ENV)
    if path and not _active:
        _active.append(path)
        sys.addaudithook(_hook_for(path))


def reached(path: Path) -> list[str]:
    """The non-loopback connections and look-ups recorded in ``path`` (none if it is absent)."""
    return path.read_text().splitlines() if path.exists() else []


def install() -> Path:
    """Copy this module into the running interpreter's site-packages, imported by a ``.pth``."""
    import shutil
    import sysconfig

    site = Path(sysconfig.get_paths()["purelib"])
    shutil.copyfile(__file__, site / f"{MODULE}.py")
    (site / f"{MODULE}.pth").write_text(f"import {MODULE}; {MODULE}.activate()\n")
    return site


if __name__ == "__main__":
    install()

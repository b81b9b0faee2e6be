"""A total deadline for one HTTP request, enforced on every socket operation it makes.

``httpx`` timeouts bound each read, write and connect on its own: an endpoint that answers one
byte a second never trips a 3 s read timeout, and a request can run for minutes. The network
backend here caps every operation's timeout by what is left of the deadline the calling thread
set (:func:`deadline`), and fails the operation once nothing is left. A read waits in slices of
at most a quarter second, so a deadline brought closer while it waits (the process began to
exit: :meth:`HttpDelivery.begin_exit`) is kept too. It is installed on the connection pools of
our own ``httpx.Client`` only (:func:`install`).
"""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
import typing
from collections.abc import Callable, Iterable, Iterator

import httpcore

_SocketOptions = Iterable[
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
]
_local = threading.local()
_WRITE_PIECE = 64 * 1024  # bytes sent per deadline check
_READ_SLICE = 0.25  # seconds a read waits at a time before it looks at the deadline again


@contextlib.contextmanager
def deadline(at: float, sooner: Callable[[], float | None] | None = None) -> Iterator[None]:
    """Requests made by this thread inside the block end by ``at`` (``time.monotonic``), or by
    what ``sooner`` answers when it answers an earlier time (asked at each operation)."""
    previous = getattr(_local, "at", None)
    _local.at = (at, sooner)
    try:
        yield
    finally:
        _local.at = previous


def _deadline() -> float | None:
    held: tuple[float, Callable[[], float | None] | None] | None = getattr(_local, "at", None)
    if held is None:
        return None
    at, sooner = held
    if sooner is not None and (earlier := sooner()) is not None:
        return min(at, earlier)
    return at


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    """The timeout for one operation: the operation's own, capped by the deadline's rest."""
    at = _deadline()
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise error("the request's total deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        until = None if timeout is None else time.monotonic() + timeout
        while True:
            own = None if until is None else until - time.monotonic()
            if own is not None and own <= 0:
                raise httpcore.ReadTimeout("timed out")
            left = _left(own, httpcore.ReadTimeout)  # raises once the deadline passed
            try:
                return self._stream.read(max_bytes, _READ_SLICE if left is None else min(left, _READ_SLICE))
            except httpcore.ReadTimeout:
                continue  # nothing yet: the timeout and the deadline are looked at again

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        # The wrapped stream loops over partial sends with the same timeout each time; a slow
        # reader could stretch that without end. Send in pieces, each under what is left.
        view = memoryview(buffer)
        while view:
            piece = view[:_WRITE_PIECE]
            self._stream.write(bytes(piece), _left(timeout, httpcore.WriteTimeout))
            view = view[len(piece) :]

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner = self._stream.start_tls(ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: _SocketOptions | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(
            host, port, _left(timeout, httpcore.ConnectTimeout), local_address, socket_options
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: _SocketOptions | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_unix_socket(
            path, _left(timeout, httpcore.ConnectTimeout), socket_options
        )
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def install(client: typing.Any) -> bool:
    """Put the deadline backend under every connection pool of an ``httpx.Client``; False if
    this ``httpx`` keeps its pools elsewhere (then only the per-operation timeouts hold)."""
    transports = [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]
    installed = False
    for transport in transports:
        pool = getattr(transport, "_pool", None)  # private to httpx: checked, never assumed
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, httpcore.NetworkBackend) and not isinstance(backend, _DeadlineBackend):
            pool._network_backend = _DeadlineBackend(backend)  # type: ignore[union-attr]
            installed = True
    return installed

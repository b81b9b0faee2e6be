"""Sealed store lines: each line encrypted and authenticated alone (AES-256-GCM), bound to where it sits.

A sealed line reads ``~s1.<key id>.<escaped(nonce | ciphertext | tag)>``: a plain OTLP/JSON line
starts with ``{``, so sealed and plain lines can share a file (a store that was plain before
encryption was turned on still reads). The key id is 8 hex digits of a SHA-256 of the key: it
names the key, it does not reveal it. The binary body is escaped so it holds no line break
(``\x00`` -> ``\x00\x00``, ``\n`` -> ``\x00\x01``, ``\r`` -> ``\x00\x02``): three ``bytes.replace``
passes, where base64 cost the writer more than the encryption itself.

Associated data: the line's file, relative to the store root (``traces/2025-01-02.jsonl``),
and the byte offset where the line starts. The writer knows that offset under the store's
append lock (the file's size once the lock is held), so several processes appending to one
file each bind their lines correctly; a line moved within its file, to another file, or two
lines swapped, no longer open. The nonce is 96 random bits per line (never derived from the
offset: an append that fails is cut back, and the offset written again would otherwise reuse
a nonce with other text); with random nonces one key seals at most 2**32 lines, far beyond a
store's retention, and ``otel-distro store rotate-key`` starts a new key.

Readers open lines through :func:`open_line` with the keys a loader installed by
``otel_distro`` gives (:func:`use_keys`); they load on the first sealed line, so a plain store
never touches the key (nor imports ``cryptography``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from otel_distro.runtime.errors import caught

_logger = logging.getLogger(f"otel_distro.{__name__}")

PREFIX = b"~s1."
MARKER_FILE = "store-key.id"  # in the store root: the id of its current key, once it is encrypted
KEY_BYTES = 32
NONCE_BYTES = 12
_ID_CHARS = 8
_BODY = len(PREFIX) + _ID_CHARS + 1  # where the base64 starts
_AAD_LABEL = b"otel-distro store line v1\x00"
RELOAD_SECONDS = 5.0  # an unknown key id reloads the keys at most this often


class SealError(Exception):
    """A sealed line that cannot be opened: unknown key, not authentic, or not a sealed line."""


class Sealer(Protocol):
    """What the store's writer seals lines with (see :class:`LineSeal`)."""

    def seal_lines(self, name: str, start: int, lines: Iterable[bytes]) -> list[bytes]: ...


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"otel-distro store key id\x00" + key).hexdigest()[:_ID_CHARS]


def line_name(path: Path) -> str:
    """A store file as the associated data names it: signal directory and file name."""
    return f"{path.parent.name}/{path.name}"


def _aad(name: str, offset: int) -> bytes:
    return _AAD_LABEL + name.encode() + b"\x00" + offset.to_bytes(8, "big")


def is_sealed(line: bytes) -> bool:
    return line.startswith(PREFIX)


def escape(data: bytes) -> bytes:
    """Binary data without ``\n`` or ``\r`` (see the module docstring)."""
    return data.replace(b"\x00", b"\x00\x00").replace(b"\n", b"\x00\x01").replace(b"\r", b"\x00\x02")


_UNESCAPED = {1: b"\n", 2: b"\r"}


def unescape(data: bytes) -> bytes:
    """The inverse of :func:`escape`; ``ValueError`` for data it cannot have made."""
    parts = data.split(b"\x00")
    out = [parts[0]]
    index, count = 1, len(parts)
    while index < count:
        part = parts[index]
        if not part:  # \x00\x00: a zero byte; the next part is literal
            if index + 1 >= count:
                raise ValueError("a lone zero byte at the end")
            out += (b"\x00", parts[index + 1])
            index += 2
        elif (escaped := _UNESCAPED.get(part[0])) is not None:
            out += (escaped, part[1:])
            index += 1
        else:
            raise ValueError("a zero byte before an unknown escape")
    return b"".join(out)


class LineSeal:
    """Seals with the first key, opens with any of them (the others: keys being rotated away)."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if not keys or any(len(key) != KEY_BYTES for key in keys):
            raise ValueError(f"a store key is {KEY_BYTES} bytes")
        self.key_id = key_id(keys[0])
        self._id = self.key_id.encode()
        self._sealing = AESGCM(keys[0])
        self._opening = {key_id(key).encode(): AESGCM(key) for key in keys}

    def knows(self, line: bytes) -> bool:
        return line[len(PREFIX) : len(PREFIX) + _ID_CHARS] in self._opening

    def seal(self, name: str, offset: int, line: bytes) -> bytes:
        """One sealed line, newline included, for a plain line (its newline, if any, is not sealed)."""
        plain = memoryview(line)[:-1] if line.endswith(b"\n") else line
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._sealing.encrypt(nonce, plain, _aad(name, offset))
        return b"".join((PREFIX, self._id, b".", escape(nonce), escape(sealed), b"\n"))

    def seal_lines(self, name: str, start: int, lines: Iterable[bytes]) -> list[bytes]:
        """Consecutive lines sealed for a file where the first starts at ``start``."""
        out = []
        offset = start
        for line in lines:
            sealed = self.seal(name, offset, line)
            out.append(sealed)
            offset += len(sealed)
        return out

    def open(self, name: str, offset: int, line: bytes) -> bytes:
        """The plain line (no newline) of a sealed line read at ``offset`` of ``name``."""
        from cryptography.exceptions import InvalidTag

        body = line.rstrip(b"\r\n")
        if not body.startswith(PREFIX) or body[_BODY - 1 : _BODY] != b".":
            raise SealError("not a sealed line")
        aes = self._opening.get(body[len(PREFIX) : _BODY - 1])
        if aes is None:
            raise SealError(
                f"sealed with an unknown key ({body[len(PREFIX) : _BODY - 1].decode(errors='replace')})"
            )
        try:
            data = unescape(body[_BODY:])
        except ValueError as exc:
            raise SealError("damaged") from exc
        if len(data) < NONCE_BYTES + 16:
            raise SealError("damaged")
        try:
            return bytes(aes.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], _aad(name, offset)))
        except InvalidTag as exc:
            raise SealError("failed authentication (altered, moved or swapped)") from exc


# -- the keys readers open lines with -------------------------------------------------------
KeyLoader = Callable[[], Sequence[bytes]]
_lock = threading.Lock()
_loader: KeyLoader | None = None
_seal: LineSeal | None = None
_loaded_at = -RELOAD_SECONDS
_load_error: str | None = None
_looked_for: set[bytes] = set()  # key ids the keys were loaded for (each at once, the first time)


def use_keys(loader: KeyLoader | None) -> None:
    """Install what gives the store's keys (current first); None: sealed lines cannot be opened."""
    global _loader, _seal, _load_error, _loaded_at
    with _lock:
        _loader, _seal, _load_error, _loaded_at = loader, None, None, -RELOAD_SECONDS
        _looked_for.clear()


def _opener(line: bytes) -> LineSeal | None:
    """The keys, loaded on first use and again for an unknown key id: at once the first time a
    key id is met (a key ``store rotate-key`` just made: a follower reading the first line sealed
    with it must not take it for one it cannot open, and move past it for good), then at most
    every few seconds."""
    global _seal, _load_error, _loaded_at
    with _lock:
        stale = _seal is None or not _seal.knows(line)
        wanted = line[len(PREFIX) : _BODY - 1]
        new_id = wanted not in _looked_for
        if stale and _loader is not None and (new_id or time.monotonic() - _loaded_at >= RELOAD_SECONDS):
            _looked_for.add(wanted)
            _loaded_at = time.monotonic()
            try:
                keys = _loader()
                _seal, _load_error = (LineSeal(keys), None) if keys else (None, "no store key was found")
            except Exception as exc:  # noqa: BLE001 - a reader counts the lines, it does not fail
                caught("loading the store key", exc)
                _seal, _load_error = None, f"the store key cannot be loaded ({exc})"
        return _seal


def open_line(path: Path, offset: int, line: bytes, problems: Any = None) -> bytes | None:
    """The plain text of a sealed line read at ``offset`` of store file ``path``; None (counted in
    ``problems.unauthentic``, with why once per file in ``problems.unreadable``) if it cannot be
    opened: never a line that failed authentication."""
    seal = _opener(line)
    try:
        if seal is None:
            raise SealError(_load_error or "no store key is configured")
        return seal.open(line_name(path), offset, line)
    except SealError as exc:
        if problems is not None:
            problems.unauthentic += 1
            note = f"{path}: sealed line(s) skipped: {exc}"
            if note not in problems.unreadable and len(problems.unreadable) < 100:
                problems.unreadable.append(note)
        return None


def plain_line(path: Path, offset: int, line: bytes, problems: Any = None) -> bytes | None:
    """A store line as text whether it is sealed or not: ``line`` itself, or the sealed line
    opened (None where it does not open, counted as :func:`open_line` counts it)."""
    return open_line(path, offset, line, problems) if line.startswith(PREFIX) else line

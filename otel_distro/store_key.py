"""The encrypted store's key: where it is kept, loading, creating and erasing it, and the writer's sealer.

Where the key is, first found wins:
1. ``TELEMETRY_STORE_KEY`` (base64 of 32 bytes), when set;
2. ``TELEMETRY_STORE_KEY_FILE``, when set (the user chose a file);
3. the OS keychain through ``keyring`` (``pip install 'otel-distro[keyring]'``), when it has a
   real backend (not keyring's fail or null one), under service ``otel-distro``, user
   ``store-key:<store root>``;
4. a key file in the user config dir, ``store-keys/<digest of the store root>.key``.
A new key goes to the keychain where there is one, else to that file (directories 0700, file
0600): never inside the store, so a copy of the store alone does not hold it.

The keychain entry or file holds the key set as JSON: ``{"keys": [base64, ...]}``, the current
key first; more than one only while ``otel-distro store rotate-key`` is re-sealing. Beside the
store's files a marker, ``<store>/store-key.id``, names the current key by its id (not secret):
a running writer looks at it every few seconds and loads the keys again when it changed.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import secrets
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from exporters.store import sealed
from otel_distro import app_dirs
from otel_distro.app_dirs import APP_NAME
from otel_distro.runtime.errors import caught
from otel_distro.runtime.files import private_dirs, replaced_privately
from otel_distro.runtime.state_file import locked

if TYPE_CHECKING:  # the settings model imports this module (forget, at first use): no cycle
    from otel_distro.settings import Settings

_logger = logging.getLogger("otel_distro")

KEYCHAIN_SERVICE = APP_NAME
MARKER_FILE = sealed.MARKER_FILE
CHECK_SECONDS = 5.0  # how often a writer looks at the marker for a rotated key


class KeyStoreError(Exception):
    """The key cannot be kept or changed where it is (say, it comes from the environment)."""


def new_key() -> bytes:
    return secrets.token_bytes(sealed.KEY_BYTES)


def encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode()


def decode_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError as exc:
        raise ValueError("not base64") from exc
    if len(key) != sealed.KEY_BYTES:
        raise ValueError(f"{len(key)} bytes, not {sealed.KEY_BYTES}")
    return key


def _keychain() -> Any | None:
    """The ``keyring`` module if it is installed with a real backend, else None."""
    try:
        import keyring
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # noqa: BLE001 - a broken keyring setup means: no keychain
        caught("opening the keychain", exc)
        return None
    module = type(backend).__module__
    if module in ("keyring.backends.fail", "keyring.backends.null") or getattr(backend, "priority", 0) <= 0:
        return None
    return keyring


def default_key_file(store_dir: Path) -> Path:
    digest = hashlib.sha256(str(Path(store_dir).expanduser().resolve()).encode()).hexdigest()[:16]
    return app_dirs.config_dir() / "store-keys" / f"{digest}.key"


class StoreKey:
    """The key set of one store (see the module docstring for where it is kept)."""

    def __init__(self, store_dir: Path, key_file: Path | None = None, env_key: str | None = None) -> None:
        self.store_dir = Path(store_dir)
        self.key_file = key_file
        self.env_key = env_key
        self.user = f"store-key:{self.store_dir.expanduser().resolve()}"

    @classmethod
    def of(cls, settings: Settings, store_dir: Path | None = None) -> StoreKey:
        return cls(store_dir or settings.store_dir, settings.store_key_file, settings.store_key)

    def _file(self) -> Path:
        return self.key_file or default_key_file(self.store_dir)

    def where(self) -> str:
        """Where the key is (or would be made), for messages."""
        if self.env_key:
            return "TELEMETRY_STORE_KEY"
        if self.key_file is None and self._in_keychain() is not None:
            return f"the OS keychain (service {KEYCHAIN_SERVICE}, user {self.user})"
        return str(self._file())

    def _in_keychain(self) -> str | None:
        keyring = _keychain()
        if keyring is None:
            return None
        try:
            value = keyring.get_password(KEYCHAIN_SERVICE, self.user)
        except Exception as exc:  # noqa: BLE001 - locked or unreachable keychain: try the file
            caught("reading the keychain", exc)
            _logger.debug("otel-distro: keychain: %r", exc)
            return None
        return str(value) if value else None

    def load(self) -> list[bytes]:
        """The keys, current first; empty if there are none yet. Raises ``ValueError`` for a key
        that is not base64 of 32 bytes (naming where it is)."""
        if self.env_key:
            try:
                return [decode_key(self.env_key)]
            except ValueError as exc:
                raise ValueError(f"TELEMETRY_STORE_KEY is not base64 of 32 bytes ({exc})") from exc
        text = self._in_keychain() if self.key_file is None else None
        where = "the OS keychain"
        if text is None:
            where = str(self._file())
            try:
                text = self._file().read_text()
            except FileNotFoundError:
                return []
        try:
            keys = [decode_key(item) for item in json.loads(text)["keys"]]
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"the store key in {where} is unreadable ({exc})") from exc
        return keys

    def load_or_create(self) -> list[bytes]:
        """The keys, made (and kept) first if there are none; one process makes it, others read it."""
        keys = self.load()
        if keys:
            return keys
        with self._creation_lock():
            keys = self.load()
            if not keys:
                keys = [new_key()]
                self.save(keys)
                _logger.info("otel-distro: a new store key was made in %s", self.where())
        return keys

    def _creation_lock(self) -> contextlib.AbstractContextManager[None]:
        return locked(self._file().with_name(self._file().name + ".lock"))

    def save(self, keys: list[bytes]) -> None:
        """Keep ``keys`` (current first) where the key lives, and name the current one in the marker."""
        if self.env_key:
            raise KeyStoreError("the key comes from TELEMETRY_STORE_KEY; change it there")
        text = json.dumps({"keys": [encode_key(key) for key in keys]})
        keyring = _keychain() if self.key_file is None else None
        stored = False
        if keyring is not None:
            try:
                keyring.set_password(KEYCHAIN_SERVICE, self.user, text)
                stored = True
            except Exception as exc:  # noqa: BLE001 - fall back to the file, said once
                caught("writing the keychain", exc)
                _logger.warning(
                    "otel-distro: cannot keep the store key in the keychain (%r); using a file", exc
                )
        if not stored:
            _write_private(self._file(), text)
        write_marker(self.store_dir, keys[0])

    def erase(self) -> list[str]:
        """Delete the key wherever it is kept (and the marker); what was deleted."""
        erased = []
        keyring = _keychain()
        if keyring is not None:
            try:
                keyring.delete_password(KEYCHAIN_SERVICE, self.user)
                erased.append(f"keychain {KEYCHAIN_SERVICE}/{self.user}")
            except Exception as exc:  # noqa: BLE001 - no entry, or a backend that refuses: nothing erased there
                caught("erasing the store key from the keychain", exc)
        for path in {self._file(), default_key_file(self.store_dir), self.store_dir / MARKER_FILE}:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                erased.append(str(path))
        return erased


def _write_private(path: Path, text: str) -> None:
    private_dirs(path.parent)
    with replaced_privately(path, "w") as handle:
        handle.write(text)


def write_marker(store_dir: Path, key: bytes) -> None:
    _write_private(Path(store_dir) / MARKER_FILE, sealed.key_id(key) + "\n")


def marker(store_dir: Path) -> str | None:
    """The id of the store's current key, if the store was ever encrypted."""
    try:
        return (Path(store_dir) / MARKER_FILE).read_text().strip() or None
    except OSError:
        return None


class StoreSealer:
    """The store writer's sealer: the key loaded (or made) on the first line, loaded again when
    the marker names another key (``rotate-key``). Without a key it raises ``SealError``, and
    the store refuses the lines: an encrypted store is never written in plain text."""

    def __init__(self, key: StoreKey, check_seconds: float = CHECK_SECONDS) -> None:
        self.key = key
        self.check_seconds = check_seconds
        self._seal: sealed.LineSeal | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def _current(self) -> sealed.LineSeal:
        now = time.monotonic()
        with self._lock:
            if self._seal is not None and now - self._checked >= self.check_seconds:
                self._checked = now
                named = marker(self.key.store_dir)
                if named is not None and named != self._seal.key_id:
                    self._seal = None
            if self._seal is None:
                try:
                    self._seal = sealed.LineSeal(self.key.load_or_create())
                except (OSError, ValueError, KeyStoreError) as exc:
                    raise sealed.SealError(f"no key can be had from {self.key.where()} ({exc})") from exc
                self._checked = now
                if marker(self.key.store_dir) is None:
                    with contextlib.suppress(OSError):
                        write_marker(self.key.store_dir, self.key.load()[0])
            return self._seal

    def seal_lines(self, name: str, start: int, lines: Iterable[bytes]) -> list[bytes]:
        return self._current().seal_lines(name, start, lines)


def install_readers(settings: Settings, store_dir: Path | None = None) -> None:
    """Let every reader of the store in this process open sealed lines with this store's keys."""
    key = StoreKey.of(settings, store_dir)
    sealed.use_keys(key.load)

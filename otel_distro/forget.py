"""The forget switch: erase the local store and keep recording off until it is re-enabled.

``otel-distro forget`` writes a marker (``disabled.json``) at the store root and erases the
store's files, caches and upload state. Settings resolution reads the marker: while it is
there, ``enabled`` is false whatever the environment or ``telemetry.toml`` say, so no process
started on this store records anything. Running processes see it within the reload interval,
stop recording, and erase what they wrote meanwhile. ``otel-distro enable`` removes it.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from otel_distro.runtime.files import private_dirs
from otel_distro.runtime.state_file import StateFile

DISABLED_FILE = "disabled.json"
SOURCE = "otel-distro forget"
# What the distro keeps at a store root: the signals, the conversation-log cache, the upload
# records, the store's query index and the per-install hashing key.
_STORE_DIRS = ("traces", "metrics", "logs", "cache", "upload", "index")
_STORE_FILES = ("hash.key", "drops.json", "drops.json.lock", "store-key.id", ".rotate-key.lock")
# What the conversation-log exporter keeps in a cache directory of the user's choosing: its spool
# (exporters/store/spool.py), its state and positions with their locks, and an older version's
# spill segments.
_CACHE_DIRS = ("spool",)
_CACHE_PREFIXES = ("open.", "ready.", "sending.", "tmp.")
_CACHE_FILES = (
    *("state.json", "state.json.lock"),
    *("store_position.json", "store_position.lock", "store_position.json.lock"),
    *("spool_position.json", "spool_position.lock", "spool_position.json.lock"),
)


def marker_path(store_dir: Path) -> Path:
    return store_dir / DISABLED_FILE


def disabled_at(store_dir: Path) -> str | None:
    """When recording was turned off by ``forget`` for this store, or None if it is not.

    A marker that exists but cannot be read still counts: when unsure, record nothing.
    """
    path = marker_path(store_dir)
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return "unknown" if path.exists() else None
    stamp = data.get("disabled_at") if isinstance(data, dict) else None
    return str(stamp) if stamp else "unknown"


def disable(store_dir: Path) -> Path:
    """Write the marker (directories 0700, file 0600, replaced atomically)."""
    private_dirs(store_dir)
    path = marker_path(store_dir)
    data = {"disabled_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "by": SOURCE}
    StateFile(path).write(data)
    return path


def enable(store_dir: Path) -> bool:
    """Remove the marker; True if there was one."""
    try:
        marker_path(store_dir).unlink()
    except FileNotFoundError:
        return False
    return True


def erase(store_dir: Path, cache_path: Path | None = None, key_file: Path | None = None) -> list[Path]:
    """Delete what the distro keeps under the store root (and in a separate conversation-log
    cache), and the encrypted store's key (keychain entry, key file: ``key_file`` or the
    default one); files there that are not the distro's, and the marker, are left alone."""
    from otel_distro.store_key import StoreKey

    removed: list[Path] = [Path(item) for item in StoreKey(store_dir, key_file).erase()]
    for name in _STORE_DIRS:
        directory = store_dir / name
        if directory.is_dir() and not directory.is_symlink():
            shutil.rmtree(directory, ignore_errors=True)
            if not directory.exists():
                removed.append(directory)
    candidates = [store_dir / name for name in _STORE_FILES]
    for directory in _cache_dirs(cache_path):
        shutil.rmtree(directory, ignore_errors=True)
        if not directory.exists():
            removed.append(directory)
    candidates += _cache_files(cache_path)
    for path in candidates:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError:  # reported by the caller, which lists what is left
            continue
        removed.append(path)
    return removed


def _cache_dirs(cache_path: Path | None) -> list[Path]:
    if cache_path is None:
        return []
    return [d for name in _CACHE_DIRS if (d := cache_path / name).is_dir() and not d.is_symlink()]


def _cache_files(cache_path: Path | None) -> list[Path]:
    """The exporter's files in a conversation-log directory of the user's choosing."""
    if cache_path is None or not cache_path.is_dir():
        return []
    return [
        entry
        for entry in cache_path.iterdir()
        if entry.name in _CACHE_FILES or (entry.name.startswith(_CACHE_PREFIXES) and entry.suffix == ".jsonl")
    ]


def leftovers(store_dir: Path, cache_path: Path | None = None) -> list[Path]:
    """Files of the distro still under the store root and in a conversation-log directory of the
    user's choosing (what an erase could not remove)."""
    found = []
    for directory in [store_dir / name for name in _STORE_DIRS] + _cache_dirs(cache_path):
        if directory.is_dir():
            found += [path for path in directory.rglob("*") if path.is_file()]
    found += [path for name in _STORE_FILES if (path := store_dir / name).exists()]
    return found + _cache_files(cache_path)

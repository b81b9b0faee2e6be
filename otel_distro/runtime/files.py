"""Private directories and files: every directory the distro creates is 0700, whatever the umask;
every file it replaces whole (:func:`replaced_privately`) is 0600 and replaced atomically.

``Path.mkdir(mode=0o700, parents=True)`` gives the mode to the last directory only (the
parents get ``0o777 & ~umask``, 0755 under the usual umask), and the mode of the last one is
masked by the umask too. :func:`private_dirs` creates each missing directory itself and sets
its mode explicitly. Directories that already exist are left as they are: the user may have
chosen them (a shared base directory, ``/tmp``).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_dirs(directory: Path) -> None:
    """Create ``directory`` and its missing parents, each 0700; raises ``OSError`` as ``mkdir`` does."""
    if directory.is_dir():
        return
    missing = [directory]
    for parent in directory.parents:
        if parent.exists():
            break
        missing.append(parent)
    for path in reversed(missing):
        try:
            path.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:  # another process or thread created it first
            if not path.is_dir():
                raise
            continue
        os.chmod(path, PRIVATE_DIR_MODE)


@contextlib.contextmanager
def replaced_privately(
    path: Path, mode: str = "wb", *, sync: bool = True, temporary: Path | None = None
) -> Iterator[IO[Any]]:
    """A new 0600 file that replaces ``path`` atomically when the block ends (written to disk
    first when ``sync``); on an error the new file is removed and ``path`` is left as it was.
    ``temporary``: where it is written first (a name the caller's clean-up knows), by default
    a hidden name beside ``path``, unique to the thread."""
    if temporary is None:
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise

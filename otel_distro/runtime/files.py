"""Private directories: every directory the distro creates is 0700, whatever the umask.

``Path.mkdir(mode=0o700, parents=True)`` gives the mode to the last directory only (the
parents get ``0o777 & ~umask``, 0755 under the usual umask), and the mode of the last one is
masked by the umask too. :func:`private_dirs` creates each missing directory itself and sets
its mode explicitly. Directories that already exist are left as they are: the user may have
chosen them (a shared base directory, ``/tmp``).
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIR_MODE = 0o700


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

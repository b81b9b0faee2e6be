"""Re-sealing a store file under the append lock (``otel-distro store rotate-key``), and plain copies.

A file is rewritten whole: under its append lock, every line is opened (or taken as it is, if
plain), sealed again with the current key for the offset it will have, written to a 0600
temporary file beside it, synced, and renamed over it; writers waiting for the lock notice the
new file and append to it. A line that does not open (altered, moved, swapped) or is partial
is left out and counted.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from exporters.store import files, sealed
from exporters.store.files import ReadProblems, close_locked, open_locked, read_records
from otel_distro.runtime.files import replaced_privately


@dataclass
class ResealReport:
    lines: int = 0
    skipped: int = 0  # lines that did not open, or partial ones
    before: tuple[int, int] = (0, 0)  # the file's device and inode before it was replaced
    # where each line start (and the end) of the old file is in the new one, for the followers'
    # saved positions (a line left out maps to where the next line went)
    moves: dict[int, int] = field(default_factory=dict)


def reseal_file(path: Path, seal: sealed.LineSeal) -> ResealReport:
    """Rewrite ``path`` with every line sealed by ``seal``'s current key (see the module docstring)."""
    report = ResealReport()
    name = sealed.line_name(path)
    with files.append_lock:  # read at each use: a forked child has a new one
        fd = open_locked(path)
        try:
            stat = os.fstat(fd)
            report.before = (stat.st_dev, stat.st_ino)
            size = stat.st_size
            data = os.pread(fd, size, 0) if size else b""
            out: list[bytes] = []
            offset = position = 0
            for line in data.splitlines(keepends=True):
                start, position = position, position + len(line)
                report.moves[start] = offset
                if not line.endswith(b"\n"):  # partial: a writer killed mid-line
                    report.skipped += 1
                    continue
                if not line.strip():
                    continue
                plain: bytes | None = line
                if line.startswith(sealed.PREFIX):
                    try:
                        plain = seal.open(name, start, line)
                    except sealed.SealError:
                        plain = None
                if plain is None:
                    report.skipped += 1
                    continue
                new = seal.seal(name, offset, plain)
                out.append(new)
                offset += len(new)
                report.lines += 1
            report.moves[position] = offset
            with replaced_privately(path) as handle:
                handle.writelines(out)
        finally:
            close_locked(fd)  # the lock goes with it
    return report


def plain_lines(path: Path, problems: ReadProblems | None = None) -> Iterator[bytes]:
    """Each record of a store file as a plain OTLP/JSON line (sealed lines opened)."""
    for record in read_records(path, problems=problems):
        yield orjson.dumps(record) + b"\n"

"""Text hidden in base64: the pieces of a text that decode to readable text, with what they decode to.

Agents pass attachments and payloads as base64 (a tool's ``attachment_b64``, a MIME encoded word
``=?UTF-8?B?…?=``, an unsubscribe link's ``?e=``); an address or a card number inside is found
only once decoded. A piece is tried only where it decodes, as standard or URL-safe base64, to
UTF-8 text that is nearly all printable: hashes, ids and keys decode to bytes, not text.
"""

from __future__ import annotations

import base64
import binascii
import re

MIN_CHARACTERS = 16  # 12 bytes: an address is longer
MAX_PIECES = 32  # pieces of one text decoded, at most
MAX_PIECE = 1 << 20  # a longer piece is not decoded
# what a group of four starts with when its first byte is printable ASCII (0x20-0x7e)
_TEXT_LEADS = frozenset("IJKLMNOPQRSTUVWXYZabcdef")
_PIECE = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,}={0,2}(?![A-Za-z0-9+/=_-])")


def _readable(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    printable = sum(1 for char in text if char.isprintable() or char in "\n\r\t")
    return text if printable >= 0.95 * len(text) and any(char.isalpha() for char in text) else None


def decoded_pieces(text: str) -> list[tuple[str, str]]:
    """(piece, the text it decodes to) for each piece of ``text`` that is base64 of text."""
    found: list[tuple[str, str]] = []
    for match in _PIECE.finditer(text):
        if len(found) >= MAX_PIECES:
            break
        piece = match.group(0)
        if len(piece) > MAX_PIECE or piece.isalpha() or piece.isdigit():  # a word, a number
            continue
        leads = piece[0:64:4]  # each group of four encodes three bytes; text's first is mostly ASCII
        if sum(lead in _TEXT_LEADS for lead in leads) < 0.75 * len(leads):
            continue
        padded = piece.rstrip("=")
        padded += "=" * (-len(padded) % 4)
        altchars = b"-_" if ("-" in piece or "_" in piece) else None
        try:
            data = base64.b64decode(padded, altchars=altchars, validate=True)
        except (binascii.Error, ValueError):
            continue
        readable = _readable(data)
        if readable is not None:
            found.append((piece, readable))
    return found

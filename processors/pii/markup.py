"""Text with its Markdown and HTML markup read as spaces: labels written in bold, in tables, in tags
(and names quoted as SQL dialects quote them read as double-quoted).

Model answers put a label and its value in markup (``**PIN:** 7391``, ``| password | … |``,
``<td>SSN</td><td>…``, ``Your PIN is <b>7391</b>``); the recognizers read a label next to its
value. The redactor scans this view as well where the text holds markup, and where it finds
more there, gives the view back with the values replaced (fail closed: the markup goes).
"""

from __future__ import annotations

import re

# markup a label or a value may sit in: bold (two stars or underscores, not a mask of eight),
# code spans, table cells, the HTML tags text is set in
_TAG = (
    r"</?(?:b|strong|em|i|u|code|kbd|pre|mark|span|p|div|li|td|th|tr|br|sup|sub|h[1-6])(?:\s[^<>]{0,200})?/?>"
)
# a name quoted as SQL dialects quote one, before "=": MySQL's `pin` = …, SQL Server's [ssn] = …
_QUOTED_NAME = re.compile(r"`(\w{1,64})`(?=[ \t]*[:=])|\[(\w{1,64})\](?=[ \t]*=)")
MARKUP = re.compile(r"(?<![*_])(?:\*\*|__)(?![*_])|[:=][ \t]*`|\||(?i:" + _TAG + ")|" + _QUOTED_NAME.pattern)
_SPACED = re.compile(r"(?<![*_])(?:\*\*|__)(?![*_])|\||(?i:" + _TAG + ")")
# a code span as a label's value ("password: `…`"); elsewhere a code span is a name ("the `--token` flag")
_CODE_VALUE = re.compile(r"([:=][ \t]*)`([^`\n]{1,200})`")


def markup_view(text: str) -> str | None:
    """``text`` with its markup read as spaces, or None where it holds none."""
    if MARKUP.search(text) is None:
        return None
    view = _SPACED.sub(lambda match: " " * len(match.group(0)), text)
    view = _CODE_VALUE.sub(lambda match: f"{match.group(1)} {match.group(2)} ", view)
    view = _QUOTED_NAME.sub(lambda match: f'"{match.group(1) or match.group(2)}"', view)  # as "pin" = …
    return view if view != text else None

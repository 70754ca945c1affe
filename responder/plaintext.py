"""Text from outside (crawled pages, imports, forms) made safe to store, print and put in a mail
header: control characters out where the text enters, so no later reader has to remember.

ESC and BEL in a title would drive a terminal (`yuqing incident list` clearing the screen or
setting the window title); CR and LF in a one-line field would split an email header; the bidi
overrides reorder what a reader sees. Everything else, full-width punctuation included, stays
exactly as written.
"""

from __future__ import annotations

import re

# C0 and C1 controls and DEL (tab aside: each function decides), the bidi embeddings,
# overrides and isolates.
_CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile("\r\n|[\r\n\u2028\u2029\x0b\x0c\x85]")


def one_line(text: str) -> str:
    """A title, name or header value: line breaks and tabs become spaces, controls go."""
    return _CONTROLS.sub("", _LINE_BREAKS.sub(" ", text.replace("\t", " "))).strip()


def multi_line(text: str) -> str:
    """A body: line breaks become LF and tabs stay; every other control goes."""
    return "\n".join(_CONTROLS.sub("", line) for line in _LINE_BREAKS.split(text))

"""Platform-neutral care for text that comes from the networks.

Chat renderers escape for their own markup; before that, every renderer removes what no chat
should ever show: control characters (terminal escape sequences), bidirectional overrides that
make text read differently from how it is stored, and invisible joiners used to dodge filters.
"""

from __future__ import annotations

import re
import unicodedata

_CONTROLS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 (but tab and newline) and C1 controls
    "\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]"
)
_BLANK_LINES = re.compile(r"\n{3,}")


def clean(text: str) -> str:
    """NFC-normalised text without controls, bidi overrides or zero-width characters."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROLS.sub("", text)
    return _BLANK_LINES.sub("\n\n", text).strip()


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    """At most `limit` characters, cut at a word boundary where one is near."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - len(ellipsis), 0)]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + ellipsis

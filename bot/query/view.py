"""What the engine's checks read from one post: scan strings, and lazily words and metadata."""

from __future__ import annotations

from .candidate import Candidate
from .fields import post_host, post_lang

_UNSET: object = object()


class PostView:
    """One post during one `Matcher.match` call.

    `sa`/`sg` are the accent-folded and German-folded scan strings (the same object when the
    text has no ä, ö or ü, so `sg is sa` tells the common case apart). Words, hashtag/handle
    positions, language and host are computed on first use only: most posts that reach a
    check need none of them.
    """

    __slots__ = ("_host", "_lang", "_markers", "_words", "c", "sa", "sg")

    def __init__(self, c: Candidate, sa: str, sg: str) -> None:
        self.c = c
        self.sa = sa
        self.sg = sg
        self._words: tuple[list[str], list[str]] | None = None
        self._markers: dict[int, str] | None = None
        self._lang: object = _UNSET
        self._host: object = _UNSET

    def words(self) -> tuple[list[str], list[str]]:
        """The post's words in both foldings, aligned by index (one list if they agree)."""
        if self._words is None:
            words_a = self.sa.replace("#", " ").replace("@", " ").split()
            if self.sg is self.sa:
                self._words = (words_a, words_a)
            else:
                self._words = (words_a, self.sg.replace("#", " ").replace("@", " ").split())
        return self._words

    def markers(self) -> dict[int, str]:
        """Word index → "#" or "@" for the words that are real hashtags or handles."""
        if self._markers is None:
            # In a scan string a real sign has two spaces before it ("x  # acme"), a sign
            # glued to a word one ("c # acme"); splitting on single spaces turns the extra
            # space into an empty item just before the sign.
            found: dict[int, str] = {}
            index, pending, previous = 0, "", ""
            for item in self.sa.split(" "):
                if item in ("#", "@"):
                    pending = item if previous == "" else ""
                elif item:
                    if pending:
                        found[index] = pending
                        pending = ""
                    index += 1
                else:
                    pending = ""
                previous = item
            self._markers = found
        return self._markers

    def lang(self) -> str | None:
        """The post's language; runs `detect_lang` at most once, and only when asked."""
        if self._lang is _UNSET:
            lang = post_lang(self.c.lang)
            if lang is None and self.c.detect_lang is not None:
                lang = post_lang(self.c.detect_lang())
            self._lang = lang
        return self._lang  # type: ignore[return-value]

    def host(self) -> str | None:
        if self._host is _UNSET:
            self._host = post_host(self.c.url)
        return self._host  # type: ignore[return-value]

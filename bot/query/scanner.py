"""The multi-pattern scan under the engine: which keys occur in which of many scan strings.

Two implementations of one small interface, chosen once per process:

- **Hyperscan** (Intel's SIMD literal matcher, `hyperscan` on PyPI, a native wheel for Linux on
  x86-64): used when it imports. It scans a batch of posts several times faster than an
  Aho–Corasick automaton walked byte by byte.
- **pyahocorasick**: portable (wheels for every platform, or a plain C build), used otherwise.

`Matcher.build(..., scanner="ahocorasick")` forces the portable one (tests and the benchmark
compare the two). The engine logs which one it uses on its first build.

Both take the scan strings of a batch as one UTF-8 buffer, joined by NUL (which no key
contains), and report every occurrence of every key, overlapping ones too, as (segment index,
key index): which scan string it was found in, and which key.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

Found = list[tuple[int, int]]  # (segment index, key index), in scan order


class Scanner(Protocol):
    name: str

    def find(self, joined: bytes) -> Found: ...


def _located(hits: list[tuple[int, int]], separators: Callable[[int, int], int]) -> Found:
    """(offset of a hit's last unit, key) → (segment index, key), given `separators(start,
    end)`, the number of separators between two offsets: counted in C from hit to hit, so
    the texts without a hit cost nothing here."""
    hits.sort()
    found: Found = []
    seg = at = 0
    for last, key in hits:
        seg += separators(at, last)
        at = last
        found.append((seg, key))
    return found


class AhoScanner:
    """pyahocorasick: keys in an automaton, searched in the order that puts frequent letters
    first at every trie node (children are searched linearly in insertion order)."""

    name = "pyahocorasick"

    def __init__(self, keys: Sequence[str], order: Callable[[str], Any]) -> None:
        import ahocorasick

        self._automaton = ahocorasick.Automaton()
        for i in sorted(range(len(keys)), key=lambda i: order(keys[i])):
            self._automaton.add_word(keys[i], i)
        self._automaton.make_automaton()

    def find(self, joined: bytes) -> Found:
        text = joined.decode("utf-8", "surrogatepass")
        hits = list(self._automaton.iter(text))
        return _located(hits, lambda a, b: text.count("\x00", a, b)) if hits else []


class HyperscanScanner:
    """Hyperscan's pure-literal compiler over the keys' UTF-8; offsets it reports are bytes.

    A scratch space may serve one scan at a time, and the scan runs without the GIL, so each
    thread gets its own.
    """

    def __init__(self, keys: Sequence[str]) -> None:
        import hyperscan

        self._hs = hyperscan
        self.name = f"hyperscan {getattr(hyperscan, '__version__', '')}".strip()
        self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._db.compile(
            expressions=[k.encode("utf-8", "surrogatepass") for k in keys],
            ids=list(range(len(keys))),
            elements=len(keys),
            flags=0,
            literal=True,
        )
        self._local = threading.local()

    def _scratch(self) -> Any:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = self._hs.Scratch(self._db)
        return scratch

    def find(self, joined: bytes) -> Found:
        hits: list[tuple[int, int]] = []
        add = hits.append

        def on_match(key: int, start: int, end: int, flags: int, context: object) -> None:
            add((end - 1, key))

        self._db.scan(joined, match_event_handler=on_match, scratch=self._scratch())
        return _located(hits, lambda a, b: joined.count(b"\x00", a, b)) if hits else []


def _hyperscan_available() -> bool:
    try:
        import hyperscan  # noqa: F401
    except ImportError:
        return False
    return True


SCANNERS = ("auto", "hyperscan", "ahocorasick")


def auto_scanner() -> str:
    """The name of the scanner "auto" picks here ("hyperscan 0.9.1", else "pyahocorasick"),
    without building one: what `echtzeit networks` reports."""
    if not _hyperscan_available():
        return AhoScanner.name
    import hyperscan

    return f"hyperscan {getattr(hyperscan, '__version__', '')}".strip()


def build_scanner(keys: Sequence[str], order: Callable[[str], Any], kind: str = "auto") -> Scanner:
    """The scanner `kind` names; "auto": the fastest this platform has."""
    if kind not in SCANNERS:
        raise ValueError(f"scanner: expected one of {', '.join(SCANNERS)} (got {kind!r})")
    if kind == "ahocorasick" or (kind == "auto" and not _hyperscan_available()):
        return AhoScanner(keys, order)
    return HyperscanScanner(keys)

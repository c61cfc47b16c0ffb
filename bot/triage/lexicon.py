"""Prior polarity of words, a feature of the linear models that small training sets profit from.

Read once from lexicons installed with Echtzeit's own dependencies (nothing downloaded): VADER's
word list (vaderSentiment, MIT; means on -4..4) and the German Polarity Lexicon of Klenner et al.
as textblob-de ships it for Pattern (`data/de-sentiment.xml`; -1..1). A missing file leaves that
part out, so the features stay defined (the shipped weights were trained with both).
"""

from __future__ import annotations

import importlib.util
import re
import threading
from pathlib import Path

_lock = threading.Lock()
_table: dict[str, float] | None = None
_XML_WORD = re.compile(r'<word [^>]*?form="([^"]+)"[^>]*?polarity="([-0-9.]+)"')
_GERMAN_ENDINGS = ("en", "er", "es", "em", "e", "n", "s")


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


def _load() -> dict[str, float]:
    table: dict[str, float] = {}
    de = _package_dir("textblob_de")
    if de is not None and (de / "data" / "de-sentiment.xml").is_file():
        text = (de / "data" / "de-sentiment.xml").read_text(encoding="utf-8")
        for form, polarity in _XML_WORD.findall(text):
            value = float(polarity)
            if value:
                table[form.casefold()] = max(-1.0, min(1.0, value))
    en = _package_dir("vaderSentiment")
    if en is not None and (en / "vader_lexicon.txt").is_file():
        for line in (en / "vader_lexicon.txt").read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) >= 2:
                try:
                    value = float(parts[1]) / 4.0
                except ValueError:
                    continue
                table.setdefault(parts[0].casefold(), max(-1.0, min(1.0, value)))
    return table


def table() -> dict[str, float]:
    global _table
    if _table is None:
        with _lock:
            if _table is None:
                _table = _load()
    return _table


def polarity(token: str) -> float:
    """The prior polarity of a casefolded token (0 when unknown); German inflections and "ß"
    (the lexicon uses Swiss spelling) are tried too."""
    words = table()
    value = words.get(token)
    if value is not None:
        return value
    plain = token.replace("ß", "ss")
    for ending in _GERMAN_ENDINGS:
        if len(plain) > len(ending) + 3 and plain.endswith(ending):
            value = words.get(plain[: -len(ending)])
            if value is not None:
                return value
    return words.get(plain, 0.0)

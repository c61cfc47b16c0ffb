"""German sentiment: Pattern's German polarity lexicon as textblob-de ships and applies it, without
importing NLTK.

textblob-de imports NLTK (and with it numpy) for tokenizers and corpora Echtzeit does not use:
about 40 MB of memory and most of a second, in every process that scores a German post. The few
steps from a text to Pattern's parser and lexicon are adapted here from textblob-de 0.4.3 (MIT,
Markus Killer: `PatternTokenizer`, `PatternParserLemmatizer`, `sentiments.Sentiment` and
`PatternAnalyzer`); Pattern itself (BSD-3-Clause, CLiPS, University of Antwerp) is the copy
vendored inside textblob-de, loaded the way textblob-de loads it. tests/bot/test_enrich.py holds
the scores to textblob-de's own analyzer.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import string
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

NEGATIONS = ("nicht", "ohne", "nie", "nein", "kein", "keiner", "keine", "nichts")
_ACCENTED = ("à", "è", "é", "ê", "ï")


def _vendored() -> tuple[ModuleType, ModuleType, Path]:
    """Pattern's `de` and `text` modules inside textblob-de, and textblob-de's folder."""
    spec = importlib.util.find_spec("textblob_de")  # finds the package without importing it
    if spec is None or spec.origin is None:
        raise ImportError("textblob-de is not installed")
    root = Path(spec.origin).parent
    ext = str(root / "ext")
    # As textblob_de/packages.py does: the vendored copy is importable as `_pattern`.
    sys.path.append(ext)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # Python 2-era source
            warnings.simplefilter("ignore", SyntaxWarning)
            german = importlib.import_module("_pattern.text.de")
            text = importlib.import_module("_pattern.text")
    finally:
        sys.path.remove(ext)
    return german, text, root


class GermanSentiment:
    """`analyze(text)` -> (polarity -1..1, subjectivity 0..1), as textblob-de's
    `PatternAnalyzer(tokenizer=PatternTokenizer())` gives it. Loads the lexicons at once."""

    def __init__(self) -> None:
        self._de, self._text, root = _vendored()

        base: Any = self._text.Sentiment

        class Sentiment(base):  # type: ignore[misc]
            # textblob-de's Sentiment: each accented entry also under its plain spelling.
            def load(self, path: str | None = None) -> None:
                base.load(self, path)
                if not path:
                    for word, tags in list(self.items()):
                        plain = word
                        if not word.endswith(_ACCENTED):
                            plain = (word.replace("à", "a").replace("é", "e")
                                     .replace("è", "e").replace("ê", "e").replace("ï", "i"))
                        if plain != word:
                            for tag, (p, s, i) in tags.items():
                                self.annotate(plain, tag, p, s, i)

        self._sentiment = Sentiment(
            path=str(root / "data" / "de-sentiment.xml"), synset=None, negations=NEGATIONS,
            modifiers=("RB", "JJ"), modifier=lambda w: w.endswith("lich"), language="de",
        )
        # Pattern loads its lexicons on first use and leaves the files to the garbage
        # collector: load them here, where that ResourceWarning is expected.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            self.analyze("gut")
            gc.collect()

    def analyze(self, text: str) -> tuple[float, float]:
        polarity, subjectivity = self._sentiment(" ".join(self._lemmas(text)))
        return float(polarity), float(subjectivity)

    def _tokens(self, text: str) -> list[str]:
        """textblob-de's PatternTokenizer.tokenize(text) (punctuation kept)."""
        tokens: list[str] = []
        for sentence in self._text.find_tokens(
            text, punctuation=string.punctuation, abbreviations=self._de.ABBREVIATIONS,
            replace=self._text.replacements, linebreak=r"\n{2,}",
        ):
            if sentence.strip() == "":
                continue
            words = sentence.split(" ")
            if len(words) == 1 and words[0] in string.punctuation:
                tokens.extend(words)
                continue
            last = words[-1]
            if last.endswith(".") and len(last) > 1:
                words = [*words[:-1], last[:-1], "."]
            tokens.extend(words)
        return tokens

    def _lemmas(self, raw: str) -> list[str]:
        """textblob-de's PatternParserLemmatizer.lemmatize(raw), the lemmas only."""
        if raw.strip() == "":
            return []
        text = raw.replace("/", " FORWARDSLASH ")
        parsed = self._de.parse(" ".join(self._tokens(text)), tokenize=False, lemmata=True)
        lemmas: list[str] = []
        for sentence in str(parsed).split("\n"):
            for i, token in enumerate(sentence.split()):
                if token.startswith("/"):
                    continue
                word, tag, _phrase, _role, lemma = token.split("/")
                # The lexicon uses Swiss spelling: "ss" instead of "ß".
                lemma = lemma.replace("ß", "ss").strip().replace("forwardslash", "/")
                if word[0].isupper() and i > 0:
                    lemma = lemma.title()
                elif tag.startswith("N") and i == 0:
                    lemma = lemma.title()
                if word in string.punctuation or lemma == "/":
                    continue
                lemmas.append(lemma)
        return lemmas

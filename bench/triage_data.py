"""The labelled corpora of the triage model: where they are, how they are read, how they split.

Nothing of this is in the repository (docs/triage.md says how to obtain each file); every
reader takes the data directory (`--data`, default /work/data-triage or ECHTZEIT_TRIAGE_DATA).

Splits are deterministic, by a CRC-32 of the text: buckets 0-5 train, 6-7 dev (tuning: class
offsets, corpus weights), 8-9 held-out (only ever scored, by bench/triage.py). The same text
always lands in the same split, so a duplicate never straddles train and held-out.

RESERVED, never read here: the GermEval 2017 test sets (synchronic and diachronic) and the
Twitter US Airline Sentiment data. The readers below open only the named files.
"""

from __future__ import annotations

import csv
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Split = Literal["train", "dev", "heldout"]
LABELS = ("negative", "neutral", "positive")

DEFAULT_DIR = Path(os.environ.get("ECHTZEIT_TRIAGE_DATA", "/work/data-triage"))

# file name -> (language, corpus, whether its held-out part is scored)
# The corpus whose held-out part bench/triage.py scores, per language.
EVALUATED = {"de": "germeval2017", "en": "tweeteval"}
GERMEVAL_DEV = "germeval2017_dev.tsv"
GERMEVAL_TRAIN = "germeval2017_train.tsv"  # optional
POTTS = "potts_corpus_label_text.tsv"
SB10K = "sb10k_corpus_label_text.tsv"
MOZETIC = "mozetic2016_deu_label_text.tsv"
TWEETEVAL = ("tweeteval_sentiment_val", "tweeteval_sentiment_test")


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str  # one of LABELS
    lang: str
    corpus: str


class MissingData(Exception):
    """A corpus file is not where the data directory says."""


def bucket_of(text: str) -> int:
    """0-9, by a CRC-32 of the text (case-folded, stripped): what split_of splits by."""
    return zlib.crc32(text.strip().casefold().encode("utf-8")) % 10


def split_of(text: str) -> Split:
    bucket = bucket_of(text)
    if bucket <= 5:
        return "train"
    if bucket <= 7:
        return "dev"
    return "heldout"


def _need(path: Path) -> Path:
    if not path.is_file():
        raise MissingData(f"{path} is missing (docs/triage.md: 'Data' says how to obtain it)")
    return path


def germeval(data: Path) -> Iterator[Example]:
    """GermEval 2017 (Deutsche Bahn posts): url, text, relevance, polarity. The DEV split, and
    the TRAIN split too when it is there (`germeval2017_train.tsv`, the organisers'
    `train_v1.4.tsv`; not obtainable on the machine the shipped model was made on). Both go
    through the same CRC-32 buckets; a TRAIN post whose text is also in DEV is read once."""
    dev: set[str] = set()
    for name, required in ((GERMEVAL_DEV, True), (GERMEVAL_TRAIN, False)):
        path = data / name
        if not required and not path.is_file():
            continue
        with _need(path).open(encoding="utf-8", newline="") as f:
            for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                if len(row) >= 4 and row[3] in LABELS and row[1].strip() \
                        and not (name == GERMEVAL_TRAIN and row[1] in dev):
                    if name == GERMEVAL_DEV:
                        dev.add(row[1])  # DEV as it is, repeats included (the held-out set)
                    yield Example(row[1], row[3], "de", "germeval2017")


def potts(data: Path) -> Iterator[Example]:
    """PotTS (German tweets on politics and general topics); 'mixed' is left out."""
    with _need(data / POTTS).open(encoding="utf-8", newline="") as f:
        for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) >= 2 and row[0] in LABELS and row[1].strip():
                yield Example(row[1], row[0], "de", "potts")


def sb10k(data: Path) -> Iterator[Example]:
    """SB10k (Cieliebak et al. 2017): German tweets on general topics, label and text (the
    text as tokenised by its makers: spaces around punctuation)."""
    with _need(data / SB10K).open(encoding="utf-8", newline="") as f:
        for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) >= 2 and row[0] in LABELS and row[1].strip():
                yield Example(row[1], row[0], "de", "sb10k")


def mozetic(data: Path) -> Iterator[Example]:
    """German tweets of Mozetic et al. 2016 ("Twitter sentiment for 15 European languages"),
    positive or negative (the neutral ones were not retrieved), label and text."""
    with _need(data / MOZETIC).open(encoding="utf-8", newline="") as f:
        for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) >= 2 and row[0] in LABELS and row[1].strip():
                yield Example(row[1], row[0], "de", "mozetic")


def tweeteval(data: Path) -> Iterator[Example]:
    """TweetEval sentiment (SemEval-2017 task 4A tweets): the val and test files."""
    for stem in TWEETEVAL:
        texts = _need(data / f"{stem}_text.txt").read_text(encoding="utf-8").splitlines()
        labels = _need(data / f"{stem}_labels.txt").read_text(encoding="utf-8").split()
        if len(texts) != len(labels):
            raise MissingData(f"{stem}: {len(texts)} texts but {len(labels)} labels")
        for text, label in zip(texts, labels, strict=True):
            if text.strip():
                yield Example(text, LABELS[int(label)], "en", "tweeteval")


UCI = ("uci_amazon_cells_labelled.txt", "uci_yelp_labelled.txt")


def uci(data: Path) -> Iterator[Example]:
    """UCI Sentiment Labelled Sentences (Kotzias et al. 2015): Amazon and Yelp review sentences,
    0 negative / 1 positive (no neutral class)."""
    for name in UCI:
        for line in _need(data / name).read_text(encoding="utf-8").splitlines():
            text, _, label = line.rpartition("\t")
            if text.strip() and label.strip() in ("0", "1"):
                yield Example(text, "negative" if label.strip() == "0" else "positive", "en",
                              "uci")


def corpora(data: Path, lang: str, *, extra: tuple[str, ...] = ()) -> list[Example]:
    """The examples of one language's model: its own corpus, and the `extra` corpora by name
    ("potts", "sb10k": German tweets; "uci" for English: review sentences; "tweeteval" for
    German: English tweets for the language-neutral features, emoticons and the lexicons'
    prior polarity)."""
    readers = {"germeval2017": germeval, "potts": potts, "sb10k": sb10k, "mozetic": mozetic,
               "tweeteval": tweeteval, "uci": uci}
    names = [EVALUATED[lang], *(e for e in extra if e != EVALUATED[lang])]
    return [example for name in names for example in readers[name](data)]




def part(examples: list[Example], split: Split, corpus: str | None = None) -> list[Example]:
    return [e for e in examples
            if split_of(e.text) == split and (corpus is None or e.corpus == corpus)]


def sample_weights(examples: list[Example], weights: dict[str, float]) -> list[float]:
    """Each example's weight: its corpus's weight times its class's balancing weight within its
    own corpus (n / (classes * n_class), as scikit-learn's "balanced" per corpus). Balancing
    over all corpora at once would let an extra corpus's class mix set the weights of the
    evaluated one's classes (GermEval's rare positives lost most of theirs beside PotTS)."""
    counts: dict[tuple[str, str], int] = {}
    totals: dict[str, int] = {}
    for e in examples:
        counts[(e.corpus, e.label)] = counts.get((e.corpus, e.label), 0) + 1
        totals[e.corpus] = totals.get(e.corpus, 0) + 1
    classes = {c: sum(1 for (cc, _) in counts if cc == c) for c in totals}
    return [weights.get(e.corpus, 1.0) * totals[e.corpus]
            / (classes[e.corpus] * counts[(e.corpus, e.label)]) for e in examples]

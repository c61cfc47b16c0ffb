"""A brand's learnt correction of relevance and needs-reply, from the team's feedback.

Online logistic regression on hashed token features, trained on the residual of the base model:
the prediction is ``sigmoid(logit(base) + shrink(w·x + b))``, so the weights learn only what the
base model gets wrong for this brand (a word that means "not us" here, a kind of post this team
always answers), and a small correction (inside DEAD_ZONE) leaves the base score as it is.
With no feedback the weights are empty and the base score passes through
unchanged. One update per labelled example, in the transaction that records it
(bot/store/feedback.py); the weights travel as a compact blob in the `team_model` row, so every
replica computes the same scores.

Nothing here touches the store: `TeamModels` reads the rows through a function it is given.
"""

from __future__ import annotations

import itertools
import math
import struct
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import regex

# 2**20 hashed buckets: collisions stay rare for a brand's vocabulary, and only the buckets
# seen in feedback are stored (sparse).
DIM_BITS = 20
DIM = 1 << DIM_BITS
# Picked on a validation part of the feedback split of bench/triage_examples.py (whole
# templates and demo posts kept out of fitting; `python bench/triage_learning.py --tune`), never
# on its test split: rate 0.3 to 1.5, L2 1e-4 or 1e-2, the bias learnt (0.05 of the rate) or
# not, class-balanced updates or not, dead zone 0 to 1.
LEARNING_RATE = 0.6
# The bias is not learnt (the search preferred it so): every post of the brand carries it. A
# bias learnt by an earlier version still applies.
BIAS_RATE = 0.0
L2 = 1e-2
# The correction's dead zone (logit units): a learnt shift smaller than this is no evidence
# against the base model and is dropped; a larger one is applied less this much (soft
# thresholding, a shrinkage towards the base). A wording the feedback never showed collects
# small shifts from common words (a city, "in", a number); a kind of post the team corrected
# collects large ones. Without it, those small shifts lifted whole held-out templates that the
# base model had put just under 0.5 above it (the learning curve's relevance F1 fell from
# 0.983 to 0.885 after 1,000 events, with or without a learnt bias).
DEAD_ZONE = 0.25
# Base scores are kept off 0 and 1 so that their logit is finite and the team can still move
# them.
EPS = 1e-3
# The correction's weight on a score is bounded: feedback moves a score a long way, never to
# certainty against everything the base model says.
MAX_SHIFT = 6.0
# Tokens read from a post: enough for any real post; the rest of a 100 kB paste adds nothing.
MAX_TOKENS = 400

TARGETS = ("relevance", "needs_reply")

_WORD = regex.compile(r"[\p{L}\p{N}][\p{L}\p{N}'’_-]*|[?!]")
_FORMAT = 1
_HEADER = struct.Struct("<BdI")  # format, bias, number of weights


def _bucket(token: str) -> int:
    # crc32: stable across processes and Python versions (hash() is salted per process).
    return zlib.crc32(token.encode("utf-8")) & (DIM - 1)


def features(text: str, *, network: str | None = None) -> dict[int, float]:
    """Hashed, L2-normalised unigram and bigram features of a post (case-folded; URLs and
    handles reduced to their kind)."""
    words: list[str] = []
    for raw in text.split()[:MAX_TOKENS]:
        if "://" in raw or raw.startswith("www."):
            words.append("<url>")
        elif raw.startswith("@") and len(raw) > 1:
            words.append("<handle>")
        else:
            words.extend(m.group().casefold() for m in _WORD.finditer(raw))
    tokens = [f"w:{w}" for w in words]
    tokens += [f"b:{a} {b}" for a, b in itertools.pairwise(words)]
    if network:
        tokens.append(f"n:{network}")
    if not tokens:
        return {}
    counts: dict[int, float] = {}
    for t in tokens:
        i = _bucket(t)
        counts[i] = counts.get(i, 0.0) + 1.0
    norm = math.sqrt(sum(v * v for v in counts.values()))
    return {i: v / norm for i, v in counts.items()}


def logit(p: float) -> float:
    p = min(max(p, EPS), 1.0 - EPS)
    return math.log(p / (1.0 - p))


def sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@dataclass
class Weights:
    """The sparse weights of one brand's correction of one score."""

    bias: float = 0.0
    w: dict[int, float] = field(default_factory=dict)

    def raw_shift(self, x: Mapping[int, float]) -> float:
        """The residual model's logit for a post (bounded): what learning fits."""
        z = self.bias + sum(self.w.get(i, 0.0) * v for i, v in x.items())
        return max(-MAX_SHIFT, min(MAX_SHIFT, z))

    def shift(self, x: Mapping[int, float], *, dead_zone: float = DEAD_ZONE) -> float:
        """What the team's feedback adds to the base score's logit for a post: the residual
        model's logit, shrunk towards 0 by the dead zone."""
        z = self.raw_shift(x)
        return math.copysign(max(0.0, abs(z) - dead_zone), z)

    def predict(self, x: Mapping[int, float], base: float, *,
                dead_zone: float = DEAD_ZONE) -> float:
        if not self.w and self.bias == 0.0:
            return base  # nothing learnt: the base score as it is
        z = self.shift(x, dead_zone=dead_zone)
        return base if z == 0.0 else sigmoid(logit(base) + z)

    def learn(self, x: Mapping[int, float], base: float, label: bool, *,
              rate: float = LEARNING_RATE, bias_rate: float = BIAS_RATE,
              l2: float = L2, weight: float = 1.0) -> None:
        """One step of stochastic gradient descent on the log loss of the residual model
        (fitted without the dead zone, which only shrinks what is applied). `weight` scales
        the step (class-balanced updates in bench/triage_learning.py --tune)."""
        g = (sigmoid(logit(base) + self.raw_shift(x)) - (1.0 if label else 0.0)) * weight
        self.bias -= rate * bias_rate * g
        for i, v in x.items():
            old = self.w.get(i, 0.0)
            new = old - rate * (g * v + l2 * old)
            if new == 0.0:
                self.w.pop(i, None)
            else:
                self.w[i] = new

    def dump(self) -> bytes:
        keys = sorted(self.w)
        n = len(keys)
        return (_HEADER.pack(_FORMAT, self.bias, n) + struct.pack(f"<{n}I", *keys)
                + struct.pack(f"<{n}f", *(self.w[k] for k in keys)))

    @classmethod
    def load(cls, blob: bytes) -> Weights:
        if not blob:
            return cls()
        fmt, bias, n = _HEADER.unpack_from(blob)
        if fmt != _FORMAT:
            raise ValueError(f"team model blob of format {fmt}; this version reads {_FORMAT}")
        off = _HEADER.size
        keys = struct.unpack_from(f"<{n}I", blob, off)
        values = struct.unpack_from(f"<{n}f", blob, off + 4 * n)
        return cls(bias=bias, w=dict(zip(keys, values, strict=True)))


@dataclass(frozen=True, slots=True)
class ModelRow:
    """What `TeamModels` reads of a `team_model` row."""

    brand_id: int
    target: str
    version: int
    weights: bytes
    examples: int = 0


class TeamModels:
    """The learnt corrections of every brand, as one process reads them.

    `versions()` returns {(brand_id, target): version} of every stored model (one small query),
    `load(brand_id, target)` one model's row. `refresh()` (once per batch) reloads only the
    models whose version moved, so a correction learnt in one replica applies in every replica
    from its next batch; `adjust` then needs no query.
    """

    def __init__(self, *, versions: Callable[[], Mapping[tuple[int, str], int]],
                 load: Callable[[int, str], ModelRow | None]) -> None:
        self._versions = versions
        self._load = load
        self._models: dict[tuple[int, str], tuple[int, Weights]] = {}
        self._loaded = False

    def refresh(self) -> None:
        current = self._versions()
        for key in list(self._models):
            if key not in current:
                del self._models[key]
        for key, version in current.items():
            held = self._models.get(key)
            if held is not None and held[0] == version:
                continue
            row = self._load(*key)
            if row is not None:
                self._models[key] = (row.version, Weights.load(row.weights))
        self._loaded = True

    def adjust(self, brand_id: int, text: str, *, relevance: float, needs_reply: float,
               network: str | None = None) -> tuple[float, float]:
        """The base relevance and needs-reply of a post, corrected by what the brand's team
        taught (combined in logit space). A brand without feedback gets the base scores back
        unchanged."""
        if not self._loaded:
            self.refresh()
        rel = self._models.get((brand_id, "relevance"))
        need = self._models.get((brand_id, "needs_reply"))
        if rel is None and need is None:
            return relevance, needs_reply
        x = features(text, network=network)
        if rel is not None:
            relevance = rel[1].predict(x, relevance)
        if need is not None:
            needs_reply = need[1].predict(x, needs_reply)
        return relevance, needs_reply


def replay(examples: Iterable[tuple[str, float, bool]], *, network: str | None = None,
           weights: Weights | None = None) -> Weights:
    """Weights learnt from (text, base score, label) examples in order: what the store does one
    feedback at a time, at once (bench/triage_learning.py, tests)."""
    weights = weights or Weights()
    for text, base, label in examples:
        weights.learn(features(text, network=network), base, label)
    return weights

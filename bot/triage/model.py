"""The shipped sentiment models: one multinomial logistic regression per language over the hashed
features of bot.triage.features, weights quantised to int8 (one scale per class).

Files, in bot/triage/models/: `sentiment.json` (per language: classes, biases, scales, the
class offsets tuned on the dev split, the weights file, the training figures) and
`sentiment_<lang>.i8.gz` (gzip of the int8 weights, class-major: DIMENSIONS bytes per class).
scripts in bench/train_triage.py write them; docs/triage.md and models/DATA-LICENSES.md say
what they were trained on.
"""

from __future__ import annotations

import gzip
import json
import math
import threading
from array import array
from dataclasses import dataclass
from importlib import resources
from typing import Any

from bot.triage.features import DIMENSIONS, features

CLASSES = ("negative", "neutral", "positive")
_PACKAGE = "bot.triage.models"


@dataclass(frozen=True, slots=True)
class LinearModel:
    lang: str
    biases: tuple[float, float, float]
    offsets: tuple[float, float, float]
    scales: tuple[float, float, float]
    weights: tuple[array[int], array[int], array[int]]

    @classmethod
    def from_parts(cls, lang: str, meta: dict[str, Any], raw: bytes) -> LinearModel:
        if len(raw) != DIMENSIONS * len(CLASSES):
            raise ValueError(f"{lang}: {len(raw)} weight bytes, expected "
                             f"{DIMENSIONS * len(CLASSES)}")
        if tuple(meta["classes"]) != CLASSES:
            raise ValueError(f"{lang}: classes {meta['classes']}, expected {CLASSES}")
        rows = tuple(array("b", raw[i * DIMENSIONS:(i + 1) * DIMENSIONS])
                     for i in range(len(CLASSES)))
        return cls(lang=lang, biases=_three(meta["biases"]), offsets=_three(meta["offsets"]),
                   scales=_three(meta["scales"]), weights=rows)  # type: ignore[arg-type]

    def logits(self, text: str) -> tuple[float, float, float]:
        """Raw class scores (without the tuned offsets); a text without features gets the biases."""
        return self.logits_of(features(text))

    def logits_of(self, idx: list[int]) -> tuple[float, float, float]:
        norm = 1.0 / math.sqrt(len(idx)) if idx else 0.0
        out = []
        for c in range(3):
            # map/sum iterate in C: a third of the time of a Python loop.
            total = sum(map(self.weights[c].__getitem__, idx))
            out.append(self.biases[c] + total * self.scales[c] * norm)
        return out[0], out[1], out[2]

    def probabilities(self, text: str) -> tuple[float, float, float]:
        return self.probabilities_of(features(text))

    def probabilities_of(self, idx: list[int]) -> tuple[float, float, float]:
        z = self.logits_of(idx)
        top = max(z)
        e = [math.exp(v - top) for v in z]
        s = sum(e)
        return e[0] / s, e[1] / s, e[2] / s

    def decide(self, probs: tuple[float, float, float]) -> str:
        """The class with the best log-probability plus its tuned offset."""
        scored = [math.log(max(p, 1e-12)) + o for p, o in zip(probs, self.offsets, strict=True)]
        return CLASSES[scored.index(max(scored))]


def _three(values: Any) -> tuple[float, float, float]:
    a, b, c = (float(v) for v in values)
    return a, b, c


_lock = threading.Lock()
_loaded: dict[str, LinearModel] | None = None


def shipped() -> dict[str, LinearModel]:
    """The packaged models by language, read once (a few hundred kB each)."""
    global _loaded
    if _loaded is None:
        with _lock:
            if _loaded is None:
                _loaded = _read()
    return _loaded


def _read() -> dict[str, LinearModel]:
    root = resources.files(_PACKAGE)
    meta = json.loads((root / "sentiment.json").read_text(encoding="utf-8"))
    models = {}
    for lang, spec in meta["languages"].items():
        raw = gzip.decompress((root / spec["weights"]).read_bytes())
        models[lang] = LinearModel.from_parts(lang, spec, raw)
    return models

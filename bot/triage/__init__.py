"""Triage of one post: sentiment, whether it needs a reply, whether it is about the brand, and
the priority these give.

`analyze` is the one function the pipeline (bot/pipeline.py, through bot/enrich.py) and
`echtzeit analyze` call. Sentiment comes from the shipped linear models (bot/triage/model.py,
trained by bench/train_triage.py; English and German, a language without a model of its own
is scored with the English one); needs-reply and relevance are weighted rules
(bot/triage/signals.py). Any text gets an answer: empty or link-only text is neutral with zero
scores, very long text is read up to its first 2,000 characters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

from bot.domain import Priority
from bot.triage.features import features_and_cues
from bot.triage.model import LinearModel, shipped
from bot.triage.signals import BrandTerms, needs_reply, relevance

__all__ = ["COMPLAINT_NEEDS_REPLY", "LOW_RELEVANCE", "UNKNOWN", "BrandTerms", "Signals",
           "analyze", "prioritized", "rank", "sentiment"]

SentimentLabel = Literal["negative", "neutral", "positive"]
# The language reported when none was given and none could be told.
UNKNOWN = "und"
# A post whose relevance is below this never gets a raised priority, and its negativity does
# not feed the spike alert.
LOW_RELEVANCE = 0.3
# Complaint patterns on top of the model: from two kinds of complaint cue in one post (a wait
# and a dropped call, "every single time", lukewarm food) each adds this much to the negative
# class's log-odds. Customer complaints often carry no negative word at all, and the tweets the
# English model learned from rarely look like them (docs/triage.md, "Complaint patterns").
CUE_BOOST = 0.9
# A negative post with at least this needs-reply score is a complaint (digest, spike alert).
COMPLAINT_NEEDS_REPLY = 0.5


@dataclass(frozen=True, slots=True)
class Signals:
    language: str
    sentiment: SentimentLabel
    sentiment_score: float  # -1 (very negative) .. +1 (very positive)
    needs_reply: float  # 0..1
    relevance: float | None  # 0..1; None when no brand was given
    priority: str  # a bot.domain.Priority value


@dataclass(frozen=True, slots=True)
class SentimentResult:
    label: SentimentLabel
    score: float
    negative: float  # the model's probabilities after the tuned offsets
    positive: float


def _model(lang: str) -> LinearModel:
    models = shipped()
    return models.get(lang) or models["en"]


def sentiment(text: str, lang: str | None) -> SentimentResult:
    """The shipped model's sentiment of `text` (English model for other languages)."""
    model = _model(lang or "en")
    idx, cues = features_and_cues(text)
    if not idx:
        return SentimentResult("neutral", 0.0, 0.0, 0.0)
    probs = model.probabilities_of(idx)
    # The model's log-probabilities, plus the complaint patterns (CUE_BOOST); the label also
    # takes the class offsets tuned on the dev split, the score is the balance without them,
    # kept on the side of the label.
    raw = [math.log(max(p, 1e-12)) for p in probs]
    if cues >= 2:
        raw[0] += CUE_BOOST * cues
    z = [v + o for v, o in zip(raw, model.offsets, strict=True)]
    label: SentimentLabel = ("negative", "neutral", "positive")[z.index(max(z))]
    neg, pos = _softmax(z)[0::2]
    rneg, rpos = _softmax(raw)[0::2]
    balance = rpos - rneg
    if label == "negative":
        balance = min(balance, -0.05)
    elif label == "positive":
        balance = max(balance, 0.05)
    return SentimentResult(label, round(max(-1.0, min(1.0, balance)), 3), neg, pos)


def _softmax(z: list[float]) -> list[float]:
    top = max(z)
    e = [math.exp(v - top) for v in z]
    s = sum(e)
    return [v / s for v in e]


def rank(*, sentiment: str, needs_reply: float, relevance: float | None,
         followers: int | None = None, high_reach: int = 10_000) -> Priority:
    """Priority from negativity, the need for a reply, relevance and reach.

    A negative post by a big account is urgent, and so is a complaint (negative and needing a
    reply) by one; a negative post, a complaint, or a big account is high; a question to the
    brand is normal at least; praise by a small account is low; and a post that is probably not
    about the brand (relevance under 0.3) is never raised above normal.
    """
    big = (followers or 0) >= high_reach
    negative = sentiment == "negative"
    asks = needs_reply >= COMPLAINT_NEEDS_REPLY
    if negative and big:
        level = Priority.URGENT
    elif negative or big:
        level = Priority.HIGH
    elif sentiment == "positive" and (followers or 0) < 100 and not asks:
        level = Priority.LOW
    else:
        level = Priority.NORMAL
    if relevance is not None and relevance < LOW_RELEVANCE:
        return Priority.LOW if level in (Priority.LOW, Priority.NORMAL) else Priority.NORMAL
    return level


def analyze(text: str, *, lang: str | None = None, network: str | None = None,
            brand: BrandTerms | None = None, followers: int | None = None,
            high_reach: int = 10_000) -> Signals:
    """Every triage signal of one post. `lang`: ISO 639-1 if known (else it is detected);
    `brand`: the brand whose relevance is wanted; `followers`: the author's reach, for the
    priority."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    given = (lang or "").strip().lower()
    language = (given if given == UNKNOWN else given[:2]) or _detect(text)
    result = sentiment(text, language if language != UNKNOWN else None)
    reply = needs_reply(text, negative=result.negative, positive=result.positive,
                        network=network, brand=brand)
    rel = relevance(text, brand) if brand is not None else None
    level = rank(sentiment=result.label, needs_reply=reply, relevance=rel,
                 followers=followers, high_reach=high_reach)
    return Signals(language=language, sentiment=result.label, sentiment_score=result.score,
                   needs_reply=reply, relevance=rel, priority=level.value)


def prioritized(signals: Signals, *, followers: int | None = None,
                high_reach: int = 10_000) -> Signals:
    """`signals` with the priority `rank` gives their sentiment, needs-reply and relevance: after
    a team's correction (bot.triage.learn) or another model's answer (bot.triage.external)
    changed them."""
    level = rank(sentiment=signals.sentiment, needs_reply=signals.needs_reply,
                 relevance=signals.relevance, followers=followers, high_reach=high_reach)
    return replace(signals, priority=level.value)


_detector = None


def _detect(text: str) -> str:
    """lingua's answer for the default languages (en, de), or UNKNOWN; built on first use."""
    global _detector
    if sum(ch.isalpha() for ch in text) < 3:
        return UNKNOWN
    if _detector is None:
        from bot.enrich import LanguageDetector

        _detector = LanguageDetector()
    return _detector.detect(text) or UNKNOWN

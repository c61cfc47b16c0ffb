"""Needs-reply and relevance: transparent scores from the text's form and the brand's terms.

Neither has a public labelled corpus that matches it (a post to a brand, and whether staff
answered it), so both are weighted rules, documented in docs/triage.md and tested on examples;
the team's feedback is what corrects them per brand.

needs_reply (0..1): the post addresses the brand (its handle, "you/ihr/Sie", a reply) and asks,
requests or complains (a question, "please/bitte", "help", "refund", a wait, a negative
sentiment) rather than sharing news (a link and no address), praising in passing, or spamming
(giveaways, follow-for-follow, hashtag walls).

relevance (0..1): is the matched word this brand here? Up from a base when the brand's handle,
domain or hashtag occurs, when the query's other terms or the brand's context words co-occur,
when care vocabulary (order, app, customer service, Kundenservice) is near; down when the
query's excluded words or other senses occur, or none of the brand's terms do.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from bot.query.fold import fold_accents, fold_german

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w@])@([\w.]+)")
_HASHTAG = re.compile(r"(?<!\w)#(\w+)")
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_LETTER = re.compile(r"[^\W\d_]")


def _words(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_QUESTION = _words(r"\?|^(?:how|why|when|where|what|who|can|could|is|are|do|does|will|wie|warum|"
                   r"wieso|weshalb|wann|wo|was|wer|kann|könnt|können|gibt|ist|sind)\b")
_REQUEST = _words(
    r"\b(?:please|pls|plz|help|assist|fix|refund|cancel my|contact me|dm me|get back to me|"
    r"anyone (?:at|from)|need (?:help|support|an answer)|bitte|hilfe|helft|erstatt\w*|"
    r"kündig\w*|meldet euch|ruft mich|antwort\w*|support)\b")
_SECOND_PERSON = _words(r"\b(?:you|your|you're|yours|ihr|euch|euer|eure|euren|eurem|sie|ihnen|"
                        r"dein|deine|du)\b")
_COMPLAINT = _words(
    r"\b(?:still|again|waiting|waited|on hold|never|worst|terrible|awful|unacceptable|ridiculous|"
    r"disappointed|frustrat\w*|broken|delayed|cancel+ed|lost|charged|no response|no reply|"
    r"immer noch|schon wieder|wieder mal|gewartet|verspätung|verspätet|ausgefallen|kaputt|"
    r"enttäuscht|unverschämt|frechheit|katastrophe|keine antwort|seit \d+)\b")
_SPAM = _words(r"\b(?:giveaway|win a|follow (?:me|back|for)|f4f|promo code|discount code|"
               r"click here|dm for|check out my|gewinnspiel|rabattcode|jetzt kaufen|link in bio)\b")
_PRAISE = _words(r"\b(?:thanks|thank you|love|great|awesome|amazing|best|danke|super|toll|"
                 r"klasse|genial|liebe)\b")
_NEWS = _words(r"\b(?:announces?|announced|launch(?:es|ed)?|report(?:s|ed)?|according to|"
               r"press release|breaking|via|study|kündigt an|meldet|laut|bericht\w*|studie)\b")
_CARE = _words(
    r"\b(?:customer service|support|order|account|app|delivery|refund|subscription|store|"
    r"shop|hotline|ticket|booking|invoice|bill|product|kundenservice|kundendienst|bestellung|"
    r"konto|lieferung|abo|filiale|rechnung|buchung|fahrkarte|zug|produkt|service)\b")


@dataclass(frozen=True, slots=True)
class BrandTerms:
    """What tells this brand apart: from its name and its query (bot.triage.brands builds it).

    `terms`: the words and phrases its query looks for; `handles`: its accounts (without "@");
    `domains`: its web sites; `context`: words that confirm the sense (the query's other
    terms, words the team gave); `exclude`: words of other senses (the query's NOT terms).
    All folded to lower case.
    """

    name: str
    terms: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    exclude: tuple[str, ...] = field(default=())


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _contains(haystack: str, words: set[str], needle: str) -> bool:
    """`needle` (a word or phrase, lower case) occurs as whole words in `haystack`."""
    if " " in needle or not needle.isalnum():
        return re.search(r"(?<!\w)" + re.escape(needle) + r"(?!\w)", haystack) is not None
    return needle in words


def _variants(text: str) -> tuple[str, ...]:
    """The spellings the query engine matches alike: as written, German-folded (ü -> ue),
    accent-folded (ü -> u)."""
    return tuple(dict.fromkeys((text, fold_german(text), fold_accents(text))))


def relevance(text: str, brand: BrandTerms) -> float:
    low = " \n ".join(_variants(text.casefold()))
    words = set(_WORD.findall(low))
    handles = {h.rstrip(".").casefold() for h in _HANDLE.findall(text)}
    tags = {t.casefold() for t in _HASHTAG.findall(text)}
    hits = [t for t in brand.terms
            if any(_contains(low, words, v) for v in _variants(t))]
    name = brand.name.casefold()
    named = any(_contains(low, words, v) for v in _variants(name)) if name else False
    score = -0.6 if (hits or named) else -2.5
    if handles & set(brand.handles):
        score += 2.5
    if any(d in low for d in brand.domains):
        score += 1.5
    if tags & ({name.replace(" ", "")} | {t.replace(" ", "") for t in brand.terms}):
        score += 0.8
    # Co-occurrence: a second term of the query, or the brand's context words.
    distinct = len(set(hits) | ({name} if named else set()))
    score += 0.7 * min(2, max(0, distinct - 1))
    score += 0.8 * min(2, sum(_contains(low, words, c) for c in brand.context))
    if (hits or named) and _CARE.search(low):
        score += 0.9
    # Proper-noun use: the term capitalised in the original (Volt vs volt); a number right
    # before it reads as a unit or a quantity (230 volt, 3 nordlicht-tickets).
    if any(re.search(r"(?<!\w)" + re.escape(t[:1].upper() + t[1:]) + r"(?!\w)", text)
           for t in hits if t.isalpha()):
        score += 0.5
    if any(re.search(r"\d\s*" + re.escape(t) + r"(?!\w)", low) for t in hits):
        score -= 1.0
    score -= 2.0 * min(2, sum(any(_contains(low, words, v) for v in _variants(x))
                              for x in brand.exclude))
    if _SPAM.search(low) or len(tags) >= 6:
        score -= 1.0
    return round(_sigmoid(score), 3)


def needs_reply(text: str, *, negative: float, positive: float,
                network: str | None = None, brand: BrandTerms | None = None) -> float:
    """How much the post calls for an answer from the brand (0..1).

    `negative`/`positive`: the sentiment model's probabilities.
    """
    stripped = text.strip()
    if not stripped:
        return 0.0
    low = stripped.casefold()
    handles = {h.rstrip(".").casefold() for h in _HANDLE.findall(stripped)}
    urls = _URL.findall(stripped)
    body = _URL.sub(" ", _HANDLE.sub(" ", stripped)).strip()
    if not _LETTER.search(body):
        return 0.05  # only links, handles, numbers or emoji: nothing to answer
    addressed = bool(brand and handles & set(brand.handles)) or stripped.startswith("@")
    second = bool(_SECOND_PERSON.search(low))
    score = -1.6
    if addressed:
        score += 1.2
    if second:
        score += 0.6
    if _QUESTION.search(body.casefold()):
        score += 1.3
    if _REQUEST.search(low):
        score += 1.1
    if _COMPLAINT.search(low):
        score += 0.9
    score += 2.0 * negative
    if positive > 0.6 and not _QUESTION.search(body) and not _REQUEST.search(low):
        score -= 0.9  # praise in passing
    elif _PRAISE.search(low) and negative < 0.3 and not _QUESTION.search(body):
        score -= 0.4
    if urls and not addressed and not second:
        score -= 0.8  # sharing a link
    if _NEWS.search(low) and not addressed:
        score -= 0.8
    if _SPAM.search(low) or len(_HASHTAG.findall(stripped)) >= 6:
        score -= 2.0
    if re.match(r"(?i)rt\s+@", stripped):
        score -= 1.2  # a repost repeats someone else's words
    return round(_sigmoid(score), 3)

"""From `Post`s to stored mentions: dedupe, match, enrich, write (with the outbox) in one go.

Matching goes through one function, `Pipeline.match`, backed by the query engine compiled from
every brand's query. A changed query (or route) bumps a revision counter in the store; every
process notices it before its next batch and rebuilds, so no restart is needed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.exc import IntegrityError

from bot.clock import utcnow
from bot.domain import Post
from bot.enrich import LanguageDetector, canonical_url, text_hash
from bot.identities import author_keys
from bot.models import Route
from bot.networks import private_networks
from bot.query import Candidate, Matcher, QueryError
from bot.store import NewMention, Store
from bot.stories import hints as story_hints
from bot.triage import UNKNOWN, BrandTerms, Signals, analyze, prioritized
from bot.triage.brands import brand_terms

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    """What one call of `ingest` did with its posts.

    `duplicates`: posts dropped as delivered before: a repeat of an earlier post of the batch
    (same network and id), or a matching post stored already for every brand it matches, or
    one whose link is stored already. A post that matches no brand is never looked up, so a
    redelivered one that matches nothing counts as nothing here."""

    seen: int = 0
    matched: int = 0
    stored: int = 0
    duplicates: int = 0
    echoes: int = 0
    mention_ids: list[int] = field(default_factory=list)

    def add(self, other: IngestReport) -> None:
        self.seen += other.seen
        self.matched += other.matched
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.echoes += other.echoes
        self.mention_ids.extend(other.mention_ids)


class _LazyLanguage:
    """The post's language: given by the network, else detected once, on demand."""

    __slots__ = ("_detector", "_done", "_text", "value")

    def __init__(self, given: str | None, text: str, detector: LanguageDetector) -> None:
        self.value = given.lower()[:2] if given else None
        self._done = given is not None
        self._text = text
        self._detector = detector

    def __call__(self) -> str | None:
        if not self._done:
            self.value = self._detector.detect(self._text)
            self._done = True
        return self.value


class FloodGate(Protocol):
    """Decides how many cards a flooding brand may still get
    (bot.reporting.spikes.detector.SpikeDetector)."""

    def card_budget(self, brand_id: int, now: datetime,
                    incoming: Sequence[datetime]) -> int | None: ...


class Pipeline:
    """Turns batches of posts into mentions and outbox rows."""

    def __init__(
        self,
        store: Store,
        *,
        repost_window: timedelta = timedelta(hours=24),
        high_reach_followers: int = 10_000,
        language: LanguageDetector | None = None,
        now: Callable[[], datetime] = utcnow,
        flood: FloodGate | None = None,
        story_window: timedelta = timedelta(hours=24),
        triage: Callable[..., Signals] = analyze,
    ) -> None:
        self.store = store
        self.story_window = story_window
        # The one analyze function of the process (echtzeit.wiring: bot.triage's, or with the
        # configured model of bot.triage.external); `echtzeit analyze` gets the same.
        self.triage = triage
        # Each brand's correction of relevance and needs-reply, learnt from its team's feedback
        # (bot.triage.learn); reloaded where it changed before each batch, so every replica
        # applies what any of them learnt.
        self.team = store.team_models()
        self.flood = flood
        self.repost_window = repost_window
        self.high_reach = high_reach_followers
        self.language = language or LanguageDetector()
        self.now = now
        self._revision = -1
        self._matcher = Matcher.build({})
        self._routes: dict[int, list[Route]] = {}
        self._terms: dict[int, BrandTerms] = {}

    # --- the brands' queries ------------------------------------------------------------------

    def refresh(self) -> bool:
        """Rebuild the matcher and routes if any brand changed since the last look."""
        revision = self.store.revision()
        if revision == self._revision:
            return False
        queries = self.store.brand_queries()
        while True:
            try:
                matcher = Matcher.build(queries)
                break
            except QueryError as exc:
                # Queries are checked when they are saved; one that fails now (say, after the
                # language grew stricter) must not stop the other brands' mentions.
                bad = getattr(exc, "key", None)
                if bad not in queries:
                    raise
                log.error("brand %s has an invalid query and is skipped: %s", bad, exc)
                queries = {k: v for k, v in queries.items() if k != bad}
        routes: dict[int, list[Route]] = {}
        for r in self.store.routes():
            routes.setdefault(r.brand_id, []).append(r)
        # What relevance weighs per brand: its name and its query's terms (bot.triage.brands).
        terms = {int(b.id): brand_terms(b.name, b.query)
                 for b in self.store.brands() if b.id is not None}
        self._matcher, self._routes, self._revision = matcher, routes, revision
        self._terms = terms
        return True

    def match(self, posts: Sequence[Post]) -> list[tuple[Post, _LazyLanguage, list[int]]]:
        """The posts that match some brand, in their order, each with its language (detected
        lazily, at most once) and the ids of the brands whose query matches it: the one place
        matching happens.

        Most posts match nothing, and for them nothing is built but the list of texts: the
        engine asks for a post's `Candidate` (network, URL, author, language) only when one of
        its hits needs a brand's check."""
        langs: dict[int, _LazyLanguage] = {}

        def lang_of(i: int) -> _LazyLanguage:
            if i not in langs:
                langs[i] = _LazyLanguage(posts[i].lang, posts[i].text, self.language)
            return langs[i]

        def candidate(i: int) -> Candidate:
            post = posts[i]
            return Candidate(
                text=post.text,
                network=post.network,
                url=post.url,
                author=post.author.handle,
                lang=post.lang.lower()[:2] if post.lang else None,
                detect_lang=lang_of(i),
            )

        hits = self._matcher.match_texts([p.text for p in posts], candidate)
        return [(posts[i], lang_of(i), hits[i]) for i in sorted(hits)]

    # --- ingest -------------------------------------------------------------------------------

    def ingest(self, posts: Sequence[Post]) -> IngestReport:
        """Dedupe, match, enrich and store one batch; returns what happened.

        Another replica may store one of these posts between the dedupe and the write (a
        webhook sender that retried against a second replica): the write then hits the unique
        key and stores nothing of the batch, and the batch is taken again once, whose dedupe
        now drops what the other one stored."""
        try:
            return self._ingest(posts)
        except IntegrityError:
            log.info("another process stored some of these %d posts meanwhile; deduping again",
                     len(posts))
            return self._ingest(posts)

    def _ingest(self, posts: Sequence[Post]) -> IngestReport:
        self.refresh()
        report = IngestReport(seen=len(posts))
        hits = self.match(self._drop_repeats(posts, report))
        # Only a post that matches a brand can have been stored as that brand's mention: the
        # lookup of earlier deliveries asks about those few (one query), not the whole batch.
        known = self.store.known_mentions(
            (brand_id, post.network, post.external_id)
            for post, _, brands in hits for brand_id in brands
        )
        matched: list[tuple[Post, int, _LazyLanguage]] = []
        for post, lang, brands in hits:
            news = [b for b in brands if (b, post.network, post.external_id) not in known]
            if not news:
                report.duplicates += 1
            matched.extend((post, brand_id, lang) for brand_id in news)
        report.matched = len(matched)
        if not matched:
            return report
        self.team.refresh()

        urls = self.store.known_canonical_urls(canonical_url(p.url) for p, _, _ in matched)
        # A rated review is one customer's verdict, never a repost: two "Great app" reviews are
        # two reviews, each to be answered (app stores: Post.rating); so is a mail
        # (NetworkSpec.private): two customers asking "where is my order?" are two. Their key
        # is their own (network and id), so they neither fold nor are folded into.
        private = private_networks()
        hashes = {(id(p), b): text_hash(f"{p.network}\x00{p.external_id}")
                  if p.rating is not None or p.network in private else text_hash(p.text)
                  for p, b, _ in matched}
        earlier = self.store.recent_text_hashes(
            ((b, hashes[(id(p), b)]) for p, b, _ in matched),
            since=self.now() - self.repost_window,
        )
        echoes: dict[int, int] = {}
        batch_firsts: dict[tuple[int, str], int] = {}
        new: list[NewMention] = []
        batch_echoes: list[int] = []
        for post, brand_id, lang in matched:
            key = (brand_id, hashes[(id(post), brand_id)])
            curl = canonical_url(post.url)
            if curl in urls:
                report.duplicates += 1
                continue
            if key in earlier:
                echoes[earlier[key]] = echoes.get(earlier[key], 0) + 1
                report.echoes += 1
                continue
            if key in batch_firsts:
                batch_echoes[batch_firsts[key]] += 1
                report.echoes += 1
                continue
            batch_firsts[key] = len(new)
            batch_echoes.append(0)
            new.append(self._enrich(post, brand_id, lang(), key[1], curl))
        new = [replace(m, echoes=n) if n else m for m, n in zip(new, batch_echoes, strict=True)]
        budget = None
        if self.flood is not None:
            # A flooding brand gets a card budget; the rest is grouped into its spike alert.
            arriving: dict[int, list[datetime]] = {}
            for m in new:
                arriving.setdefault(m.brand_id, []).append(m.created_at)
            budget = {b: n for b, times in arriving.items()
                      if (n := self.flood.card_budget(b, self.now(), times)) is not None}
        ids = self.store.write_mentions(new, echoes=echoes, routes=self._routes,
                                        card_budget=budget, story_window=self.story_window)
        report.stored = len(ids)
        report.mention_ids = ids
        return report

    def _drop_repeats(self, posts: Sequence[Post], report: IngestReport) -> list[Post]:
        """The batch without a second delivery of a post (the same network and id), in order."""
        seen: set[tuple[str, str]] = set()
        unique: list[Post] = []
        for post in posts:
            key = (post.network, post.external_id)
            if key in seen:
                report.duplicates += 1
                continue
            seen.add(key)
            unique.append(post)
        return unique

    def _enrich(
        self, post: Post, brand_id: int, lang: str | None, thash: str, curl: str
    ) -> NewMention:
        # One function for every triage signal, the same that `echtzeit analyze` calls; then
        # what the brand's team taught, before the mention is stored and routed (a route's
        # minimum relevance weighs the corrected relevance).
        followers = post.author.followers
        signals = self.triage(post.text, lang=lang or UNKNOWN, network=post.network,
                              brand=self._terms.get(brand_id), followers=followers,
                              high_reach=self.high_reach)
        signals = self._taught(signals, brand_id, post, followers)
        return NewMention(
            brand_id=brand_id,
            network=post.network,
            external_id=post.external_id,
            url=post.url,
            canonical_url=curl,
            author_handle=post.author.handle,
            author_name=post.author.name,
            author_followers=post.author.followers,
            text=post.text,
            text_hash=thash,
            language=lang,
            sentiment=signals.sentiment,
            sentiment_score=signals.sentiment_score,
            priority=signals.priority,
            needs_reply=signals.needs_reply,
            relevance=signals.relevance,
            created_at=post.created_at,
            likes=post.likes,
            reposts=post.reposts,
            replies=post.replies,
            in_reply_to=post.in_reply_to,
            rating=_stars(post.rating),
            app=post.app[:200] if post.app else None,
            story=story_hints(post.text, own_url=post.url, refs=(post.in_reply_to, post.quotes))
            if self.story_window else None,
            author_keys=author_keys(post.network, post.author.handle, post.author.proofs),
        )

    def _taught(self, signals: Signals, brand_id: int, post: Post,
                followers: int | None) -> Signals:
        """`signals` with relevance and needs-reply corrected by the brand's team model, and the
        priority that follows from them; unchanged for a brand without feedback."""
        base_relevance = signals.relevance
        rel, need = self.team.adjust(
            brand_id, post.text, network=post.network, needs_reply=signals.needs_reply,
            relevance=base_relevance if base_relevance is not None else 0.5)
        relevance = rel if base_relevance is not None else None
        if relevance == base_relevance and need == signals.needs_reply:
            return signals
        return prioritized(replace(signals, relevance=relevance, needs_reply=need),
                           followers=followers, high_reach=self.high_reach)


def _stars(rating: int | None) -> int | None:
    """A review's stars as stored: 1..5, anything else (a network's 0 for "none") None."""
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        return None
    return rating

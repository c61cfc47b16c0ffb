"""What the team teaches: labelled examples and each brand's learnt correction of relevance and
needs-reply (bot/triage/learn.py), both written in the transaction of the action that gave
them."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from bot.domain import OPEN_STATUSES, MentionStatus
from bot.errors import NotFound
from bot.models import Author, Feedback, Mention, TeamModel, table
from bot.store.base import StoreBase
from bot.triage import rank
from bot.triage.feedback import (
    CLOSING_REASON,
    EXPLICIT,
    LABELS,
    SENTIMENT,
    SENTIMENT_SCORE,
    SENTIMENTS,
    label_text,
)
from bot.triage.learn import ModelRow, TeamModels, Weights, features

NEUTRAL_BASE = 0.5


def base_score(m: Mention, target: str, given: Mapping[str, float] | None) -> float:
    """The score the label corrects: given by the caller, else the mention's own column
    (`relevance`, `needs_reply`: migration 0008_triage; what the pipeline stored), else
    undecided (0.5) for a mention stored before these were scored."""
    if given is not None and target in given:
        return float(given[target])
    if target == "relevance":
        value = m.relevance
    elif target == "needs_reply":
        value = m.needs_reply
    else:
        raise ValueError(f"no base score for {target!r}")
    return float(value) if value is not None else NEUTRAL_BASE


class FeedbackStore(StoreBase):
    """Feedback on mentions and the per-brand models it trains."""

    def give_feedback(self, *, mention_id: int, action: str, actor: str,
                      base: Mapping[str, float] | None = None) -> Mention:
        """Record "not about us" (`notus`) or "no reply needed" (`noreply`) for a mention: its
        labels, one update of the brand's models, a `feedback` event; an open mention is closed
        as ignored (with that reason). `base`: the base scores to learn against (default: the
        mention's)."""
        if action not in CLOSING_REASON:
            raise ValueError(f"not a feedback action: {action!r}")
        with self.session() as s:
            m = self._change(s, mention_id, kind="feedback", actor=actor,
                             detail={"action": action})
            if m.status in OPEN_STATUSES:
                m.status = MentionStatus.IGNORED.value
                self._event(s, kind="ignored", actor=actor, mention=m,
                            detail={"reason": CLOSING_REASON[action]})
            self._learn(s, m, action=action, actor=actor, base=base)
            return m

    def correct_sentiment(self, *, mention_id: int, sentiment: str, actor: str,
                          high_reach: int = 10_000) -> Mention:
        """A person's sentiment for a mention: shown on its card from now on, counted by the
        reports, kept as a labelled example and recorded as a `sentiment_corrected` event. The
        priority follows (bot.triage.rank over the stored needs-reply, relevance and the
        author's followers; `high_reach`: the settings' high_reach_followers)."""
        if sentiment not in SENTIMENTS:
            raise ValueError(f"not a sentiment: {sentiment!r}")
        with self.session() as s:
            m = s.get(Mention, mention_id)
            if m is None:
                raise NotFound(f"no mention #{mention_id}")
            m = self._change(s, mention_id, kind="sentiment_corrected", actor=actor,
                             detail={"from": m.sentiment, "to": sentiment,
                                     "score": m.sentiment_score})
            old_score = m.sentiment_score
            m.sentiment = sentiment
            m.sentiment_score = SENTIMENT_SCORE[sentiment]
            m.sentiment_by = actor[:200]
            if m.needs_reply is not None:  # scored (0008_triage); older mentions keep theirs
                author = s.get(Author, m.author_id)
                m.priority = rank(sentiment=sentiment, needs_reply=m.needs_reply,
                                  relevance=m.relevance,
                                  followers=author.followers if author is not None else None,
                                  high_reach=high_reach).value
            self._label(s, m, target=SENTIMENT, label=sentiment, source=SENTIMENT,
                        explicit=True, actor=actor, base=old_score)
            return m

    def feedback(self, *, brand_id: int | None = None, mention_id: int | None = None,
                 target: str | None = None) -> list[Feedback]:
        with self.session() as s:
            q = select(Feedback).order_by(col(Feedback.id))
            if brand_id is not None:
                q = q.where(Feedback.brand_id == brand_id)
            if mention_id is not None:
                q = q.where(Feedback.mention_id == mention_id)
            if target is not None:
                q = q.where(Feedback.target == target)
            return list(s.exec(q))

    def team_model_versions(self) -> dict[tuple[int, str], int]:
        """{(brand_id, target): version} of every learnt model."""
        t = table(TeamModel)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.c.brand_id, t.c.target, t.c.version)).all()
        return {(r.brand_id, r.target): r.version for r in rows}

    def team_model(self, brand_id: int, target: str) -> ModelRow | None:
        with self.session() as s:
            row = s.get(TeamModel, (brand_id, target))
            if row is None:
                return None
            return ModelRow(brand_id=row.brand_id, target=row.target, version=row.version,
                            weights=row.weights, examples=row.examples)

    def team_models(self) -> TeamModels:
        """A reader of the learnt models for the pipeline (refresh once per batch)."""
        return TeamModels(versions=self.team_model_versions, load=self.team_model)

    # --- within the transaction of an action -------------------------------------------------

    def _learn(self, s: Session, m: Mention, *, action: str, actor: str,
               base: Mapping[str, float] | None = None) -> None:
        """The labels an action gives (bot/triage/feedback.py), each learnt once."""
        for target, value in LABELS.get(action, {}).items():
            self._label(s, m, target=target, label=label_text(value), source=action,
                        explicit=action in EXPLICIT, actor=actor,
                        base=base_score(m, target, base))

    def _label(self, s: Session, m: Mention, *, target: str, label: str, source: str,
               explicit: bool, actor: str, base: float) -> None:
        learns = target != SENTIMENT
        # Feedback on one brand's model is serialised by its row (FOR UPDATE on PostgreSQL;
        # SQLite's write lock does it there), so two replicas never both apply an update to the
        # same old weights, and a second label of the same mention sees the first.
        model = self._lock_model(s, m.brand_id, target) if learns else None
        row = s.exec(select(Feedback).where(Feedback.mention_id == m.id,
                                            Feedback.target == target)).first()
        now = self.now()
        if row is not None:
            if row.explicit and not explicit:
                return  # what a person said outweighs what their action implies
            changed = row.label != label
            row.label, row.source, row.explicit = label, source, explicit
            row.actor, row.at = actor[:200], now
            if not changed:
                return
            base = row.base if row.base is not None else base
        else:
            s.add(Feedback(brand_id=m.brand_id, mention_id=m.id or 0, target=target,
                           label=label, source=source, explicit=explicit, base=base,
                           actor=actor[:200], at=now))
        if model is None:
            return
        weights = Weights.load(model.weights)
        weights.learn(features(m.text, network=m.network), base, label == "1")
        model.weights = weights.dump()
        model.version += 1
        model.examples += 1
        model.updated_at = now

    def _lock_model(self, s: Session, brand_id: int, target: str) -> TeamModel:
        values = {"brand_id": brand_id, "target": target, "version": 0, "examples": 0,
                  "weights": Weights().dump(), "updated_at": self.now()}
        t = table(TeamModel)
        insert = postgresql.insert(t) if self.is_postgres else sqlite.insert(t)
        s.execute(insert.values(**values).on_conflict_do_nothing())
        model = s.exec(select(TeamModel).where(TeamModel.brand_id == brand_id,
                                               TeamModel.target == target)
                       .with_for_update()).one()
        return model

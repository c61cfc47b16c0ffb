"""People across networks: authors linked into identities, automatically from the keys they
share (bot.identities) as they are stored, or by hand (`link`, `unlink`); and a person's
history across networks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from bot.domain import ReplyState
from bot.errors import Conflict, NotFound
from bot.models import Author, AuthorKey, Identity, Mention, Reply, table
from bot.store.base import StoreBase, handle_key
from bot.store.people import persons
from bot.store.views import PersonSummary


@dataclass(frozen=True, slots=True)
class PersonHistory:
    """A person's history across networks (`show`)."""

    summary: PersonSummary
    per_network: tuple[tuple[str, int], ...]  # (network, mentions)
    sentiment: tuple[float, ...]  # mean sentiment per period, oldest first (up to 4)
    answered: int
    unanswered: int
    last_mention: datetime | None
    last_contact: datetime | None  # our last reply that was posted


class IdentityStore(StoreBase):
    """Identities: linking authors, and reading a person's history."""

    # --- in the ingest's transaction ---------------------------------------------------------

    def _link_author_keys(self, conn: sa.Connection,
                          keys: Mapping[int, Sequence[tuple[str, str]]], new: set[int]) -> None:
        """Store the keys of new authors and the proofs of known ones, then link the authors
        that share a key with another (one statement each way per batch)."""
        kt = table(AuthorKey)
        wanted = {aid: ks for aid, ks in keys.items()
                  if aid in new or any(kind == "proof" for kind, _ in ks)}
        if not wanted:
            return
        have = {(int(a), str(k)) for a, k in conn.execute(
            sa.select(kt.c.author_id, kt.c.key).where(kt.c.author_id.in_(list(wanted))))}
        rows = [{"author_id": aid, "key": key, "kind": kind}
                for aid, ks in wanted.items() for kind, key in ks if (aid, key) not in have]
        if rows:
            conn.execute(kt.insert(), rows)
        proofs = {key for ks in wanted.values() for kind, key in ks if kind == "proof"}
        own = {key for aid in new for _, key in wanted.get(aid, ())}
        if not proofs and not own:
            return
        pairs: set[tuple[int, int]] = set()
        shared: dict[str, set[int]] = {}
        for aid, key in conn.execute(sa.select(kt.c.author_id, kt.c.key)
                                     .where(kt.c.key.in_(list(proofs | own)))):
            shared.setdefault(str(key), set()).add(int(aid))
        for authors in shared.values():
            ordered = sorted(authors)
            pairs.update((ordered[0], other) for other in ordered[1:])
        for a, b in sorted(pairs):
            self._merge(conn, a, b, actor="auto", manual=False)

    def _merge(self, conn: sa.Connection, a: int, b: int, *, actor: str, manual: bool) -> int:
        """Put authors `a` and `b` in one identity; returns its id. Automatic linking leaves
        an author alone whose identity staff made or changed."""
        at, it = table(Author), table(Identity)
        rows = {int(r.id): r for r in conn.execute(
            sa.select(at.c.id, at.c.identity_id, it.c.manual)
            .select_from(at.outerjoin(it, it.c.id == at.c.identity_id))
            .where(at.c.id.in_([a, b])))}
        ia, ib = rows[a].identity_id, rows[b].identity_id
        if not manual and (rows[a].manual or rows[b].manual):
            return int(ia or ib or 0)
        if ia is not None and ia == ib:
            if manual:
                conn.execute(it.update().where(it.c.id == ia).values(manual=True))
            return int(ia)
        keep = min(i for i in (ia, ib) if i is not None) if (ia or ib) else None
        if keep is None:
            keep = int(conn.execute(it.insert().returning(it.c.id), {
                "manual": manual, "created_at": self.now(), "created_by": actor}).scalar_one())
        for other in (ia, ib):
            if other is not None and other != keep:
                conn.execute(at.update().where(at.c.identity_id == other)
                             .values(identity_id=keep))
                conn.execute(it.delete().where(it.c.id == other))
        conn.execute(at.update().where(at.c.id.in_([a, b])).values(identity_id=keep))
        if manual:
            conn.execute(it.update().where(it.c.id == keep).values(manual=True))
        return int(keep)

    # --- by hand -------------------------------------------------------------------------------

    def _author_id(self, conn: sa.Connection, network: str, handle: str) -> int:
        at = table(Author)
        found = conn.execute(sa.select(at.c.id).where(
            at.c.network == network, at.c.handle_key == handle_key(handle))).scalar()
        if found is None:
            raise NotFound(f"no author @{handle.lstrip('@')} on {network}")
        return int(found)

    def link_authors(self, *, a: tuple[str, str], b: tuple[str, str], actor: str) -> int:
        """Link two authors, given as (network, handle), into one person; returns the
        identity id. Automatic linking never undoes it."""
        with self.engine.begin() as conn:
            ia, ib = self._author_id(conn, *a), self._author_id(conn, *b)
            if ia == ib:
                raise Conflict("that is the same account twice")
            identity = self._merge(conn, ia, ib, actor=actor, manual=True)
            self._log(conn, "identity_linked", actor,
                      {"identity": identity, "authors": [f"{n}:{h}" for n, h in (a, b)]})
            return identity

    def unlink_author(self, *, author: tuple[str, str], actor: str) -> int:
        """Take an author out of its identity; returns the identity it left. The author keeps
        an identity of its own marked manual, so automatic linking does not put it back."""
        at, it = table(Author), table(Identity)
        with self.engine.begin() as conn:
            aid = self._author_id(conn, *author)
            old = conn.execute(sa.select(at.c.identity_id).where(at.c.id == aid)).scalar()
            others = 0 if old is None else int(conn.execute(
                sa.select(sa.func.count()).where(at.c.identity_id == old, at.c.id != aid))
                .scalar_one())
            if old is None or not others:
                raise Conflict(f"@{author[1].lstrip('@')} on {author[0]} is linked to no one")
            alone = int(conn.execute(it.insert().returning(it.c.id), {
                "manual": True, "created_at": self.now(), "created_by": actor}).scalar_one())
            conn.execute(at.update().where(at.c.id == aid).values(identity_id=alone))
            conn.execute(it.update().where(it.c.id == old).values(manual=True))
            self._log(conn, "identity_unlinked", actor,
                      {"identity": int(old), "author": f"{author[0]}:{author[1]}"})
            return int(old)

    def _log(self, conn: sa.Connection, kind: str, actor: str, detail: dict[str, object]) -> None:
        import json

        from bot.models import Event

        conn.execute(table(Event).insert(), {
            "kind": kind, "mention_id": None, "brand_id": None, "actor": actor,
            "at": self.now(), "detail": json.dumps(detail, sort_keys=True)})

    # --- reads ---------------------------------------------------------------------------------

    def count_people(self) -> int:
        """People linked across at least two accounts."""
        at = table(Author)
        q = (sa.select(at.c.identity_id).where(at.c.identity_id.is_not(None))
             .group_by(at.c.identity_id).having(sa.func.count() > 1))
        with self.engine.connect() as conn:
            return len(conn.execute(q).all())

    def identity_history(self, *, identity_id: int, limit: int = 8) -> list[Mention]:
        """The newest mentions by any account of the person."""
        from sqlmodel import col, select

        with self.session() as s:
            authors = select(Author.id).where(Author.identity_id == identity_id)
            q = (select(Mention).where(col(Mention.author_id).in_(authors))
                 .order_by(col(Mention.created_at).desc()).limit(limit))
            return list(s.exec(q))

    def person_history(self, *, author_id: int) -> PersonHistory | None:
        """The history across networks of the person behind an author (None: not linked)."""
        mt, at, rt = table(Mention), table(Author), table(Reply)
        with self.engine.connect() as conn:
            summary = persons(conn, [author_id]).get(author_id)
            if summary is None:
                return None
            authors = (sa.select(at.c.id).where(at.c.identity_id == summary.identity_id)
                       .scalar_subquery())
            rows = conn.execute(
                sa.select(mt.c.id, mt.c.network, mt.c.sentiment_score, mt.c.created_at)
                .where(mt.c.author_id.in_(authors)).order_by(mt.c.created_at)).all()
            replies = conn.execute(
                sa.select(rt.c.mention_id, rt.c.sent_at)
                .where(rt.c.mention_id.in_([int(r.id) for r in rows]),
                       rt.c.state == ReplyState.SENT.value)).all()
        per: dict[str, int] = {}
        for r in rows:
            per[r.network] = per.get(r.network, 0) + 1
        answered_ids = {int(r.mention_id) for r in replies}
        quarter = max(-(-len(rows) // 4), 1)
        chunks = [rows[i:i + quarter] for i in range(0, len(rows), quarter)][:4]
        return PersonHistory(
            summary=summary,
            per_network=tuple(sorted(per.items(), key=lambda kv: (-kv[1], kv[0]))),
            sentiment=tuple(round(sum(float(r.sentiment_score) for r in c) / len(c), 2)
                            for c in chunks if c),
            answered=len(answered_ids),
            unanswered=len(rows) - len(answered_ids),
            last_mention=rows[-1].created_at if rows else None,
            last_contact=max((r.sent_at for r in replies if r.sent_at is not None),
                             default=None),
        )

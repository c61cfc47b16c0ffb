"""The person behind authors (bot.identities), as cards and `show` need it: in its own module
so that the store's base (its views) and the identity store both use it."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from bot.identities import community_value
from bot.models import Author, Mention, table
from bot.store.views import PersonSummary


def persons(conn: sa.Connection, author_ids: Sequence[int]) -> dict[int, PersonSummary]:
    """author id -> the person it belongs to, for authors linked to at least one other."""
    at, mt = table(Author), table(Mention)
    idents = {int(a): int(i) for a, i in conn.execute(
        sa.select(at.c.id, at.c.identity_id).where(at.c.id.in_(list(set(author_ids))),
                                                   at.c.identity_id.is_not(None)))}
    if not idents:
        return {}
    accounts: dict[int, list[tuple[str, str, int, int, int]]] = {}
    for r in conn.execute(sa.select(at.c.identity_id, at.c.network, at.c.handle,
                                    at.c.followers, at.c.mentions_count, at.c.answered_count)
                          .where(at.c.identity_id.in_(set(idents.values())))
                          .order_by(at.c.id)):
        accounts.setdefault(int(r.identity_id), []).append(
            (str(r.network), str(r.handle), int(r.followers or 0), int(r.mentions_count),
             int(r.answered_count)))
    engagement = {int(i): float(e or 0) for i, e in conn.execute(
        sa.select(at.c.identity_id, sa.func.avg(sa.func.coalesce(mt.c.likes, 0)
                                                + sa.func.coalesce(mt.c.reposts, 0)
                                                + sa.func.coalesce(mt.c.replies, 0)))
        .select_from(mt.join(at, at.c.id == mt.c.author_id))
        .where(at.c.identity_id.in_(set(idents.values())))
        .group_by(at.c.identity_id))}
    out: dict[int, PersonSummary] = {}
    for aid, iid in idents.items():
        acc = accounts.get(iid, [])
        if len(acc) < 2:
            continue
        mentions = sum(a[3] for a in acc)
        out[aid] = PersonSummary(
            identity_id=iid, accounts=tuple((n, h) for n, h, *_ in acc),
            mentions=mentions, answered=sum(a[4] for a in acc),
            value=community_value(followers=sum(a[2] for a in acc),
                                  engagement=engagement.get(iid, 0.0), mentions=mentions))
    return out

"""Stories and people across networks: `story`, `link`, `unlink` (docs/stories.md)."""

from __future__ import annotations

from bot.cards import REASONS
from commands.base import Deps, HistoryItem, Invocation, Result, UsageError, first_token, parse_id


def story(inv: Invocation, deps: Deps) -> Result:
    """List the posts of a story: `story <id>` (a card of a story names its id)."""
    if not inv.args.strip():
        raise UsageError("usage: story <id>")
    summary, posts = deps.store.story(story_id=parse_id(inv.args, "story"))
    nets = ", ".join(f"{n} {c}" for n, c in summary.networks)
    lines = [f"{summary.posts} posts on {len(summary.networks)} network(s): {nets}",
             f"{summary.answered} answered, {summary.claimed} claimed, {summary.closed} closed; "
             f"joined by {REASONS.get(summary.reason, summary.reason)}",
             f"Newest #{summary.newest.mention_id}, most reached "
             f"#{summary.most_reached.mention_id}"]
    history = [HistoryItem(mention_id=p.mention_id, created_at=p.created_at,
                           status=p.status + (", answered" if p.answered else ""),
                           text=f"{p.network} @{p.handle}: {p.text}") for p in posts]
    return Result(text=f"Story {summary.story_id}", ephemeral=True, lines=lines,
                  history=history, history_title="Its posts, oldest first")


def _account(token: str) -> tuple[str, str]:
    network, sep, handle = token.partition(":")
    if not sep or not network or not handle.strip().lstrip("@"):
        raise UsageError(f"expected network:handle such as mastodon:@jane@example.social, "
                         f"not {token!r}"[:200])
    return network.strip().lower(), handle.strip()


def link(inv: Invocation, deps: Deps) -> Result:
    """Say two accounts are one person: `link <network:handle> <network:handle>`."""
    a, rest = first_token(inv.args)
    b, extra = first_token(rest)
    if not a or not b or extra:
        raise UsageError("usage: link <network:handle> <network:handle>")
    identity = deps.store.link_authors(a=_account(a), b=_account(b), actor=inv.actor)
    return Result(text=f"Linked {a} and {b} as person {identity}.")


def unlink(inv: Invocation, deps: Deps) -> Result:
    """Take an account out of the person it was linked to: `unlink <network:handle>`."""
    a, extra = first_token(inv.args)
    if not a or extra:
        raise UsageError("usage: unlink <network:handle>")
    identity = deps.store.unlink_author(author=_account(a), actor=inv.actor)
    return Result(text=f"{a} is no longer part of person {identity}.")

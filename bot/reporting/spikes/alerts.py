"""The spike alert's text and its thread of top posts (network text reduced and cut)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from bot.reporting.spikes.detector import HourStats
from bot.untrusted import clean, truncate

# The outcome name of a prepared holding statement (`prepare <event> holding <network> ...`):
# the spike alert offers it.
HOLDING = "holding"

if TYPE_CHECKING:
    from bot.store.views import StorySummary


def alert_text(s: HourStats, brand: str, grouped: int,
               stories: Sequence[StorySummary] = (), *,
               holding: Sequence[str] = ()) -> str:
    what = {"volume": "more mentions than usual",
            "negative": "more negative mentions than usual",
            "both": "more mentions, and more negative ones, than usual"}[s.kind or "volume"]
    usual = (f"usually {s.mean:.1f} ± {s.sd:.1f} in this hour over {s.baseline_days} days"
             if s.baseline_days else "no history yet")
    line = (f"Spike: {brand} has {what}: {s.count} in the last hour ({usual}); "
            f"{s.negative_share * 100:.0f}% negative"
            + (f", {s.complaints} complaint(s) needing a reply" if s.complaints else "") + ".")
    if grouped:
        line += f" {grouped} of them are grouped here instead of posted one by one."
    if stories:
        line += " Stories: " + "; ".join(
            f"story {st.story_id} ({st.posts} posts: "
            + ", ".join(f"{n} {c}" for n, c in st.networks) + f"; `story {st.story_id}`)"
            for st in stories) + "."
    line += " Top posts in the thread."
    if holding:
        offers = " or ".join(f"`publish {event} {HOLDING}`" for event in holding[:3])
        line += f" A holding statement is prepared: {offers} posts it."
    return line


def thread_lines(top: Iterable[tuple[int, str, str, str, str]]) -> list[str]:
    """One line per top post: (id, network, handle, text, url)."""
    return [f"#{mid} {network} @{handle}: {truncate(clean(body).replace(chr(10), ' '), 200)}"
            f" {url}" for mid, network, handle, body, url in top]


__all__ = ["alert_text", "thread_lines"]

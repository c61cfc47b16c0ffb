"""The digest's chart: mentions per hour by sentiment, and the response-time distribution.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no global state, no display),
returned as PNG bytes that each chat adapter attaches its own way.
"""

from __future__ import annotations

import io
import math

from bot.reporting.digest.model import Digest

COLOURS = {"negative": "#d62728", "neutral": "#9e9e9e", "positive": "#2ca02c"}


def digest_chart(digest: Digest, *, dpi: int = 100) -> bytes:
    """PNG bytes of the digest's two panels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2, width_ratios=(3, 2))

    n = len(digest.hour_labels)
    xs = list(range(n))
    bottom = [0] * n
    for sentiment in ("negative", "neutral", "positive"):
        values = list(digest.hourly.get(sentiment, (0,) * n))
        left.bar(xs, values, bottom=bottom, color=COLOURS[sentiment], label=sentiment,
                 width=0.85)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    step = max(1, n // 12)
    left.set_xticks(xs[::step], [digest.hour_labels[i] for i in xs[::step]])
    left.set_xlabel(f"hour ({digest.timezone})")
    left.set_ylabel("mentions")
    left.set_title(f"Mentions per hour · {digest.periods[0].label}")
    left.legend(loc="upper left", fontsize="small")
    if not any(bottom):
        left.text(0.5, 0.5, "no mentions", transform=left.transAxes, ha="center", va="center")

    minutes = [max(m, 0.1) for m in digest.response_minutes]
    right.set_title("First response (customer view)")
    right.set_xlabel("minutes to our first reply (log scale)")
    right.set_ylabel("mentions")
    if minutes:
        top = max(minutes)
        edges = [0.1 * 2 ** (i / 2) for i in range(max(2, math.ceil(2 * math.log2(top / 0.1))
                                                             + 2))]
        right.hist(minutes, bins=edges, color="#1f77b4")
        right.set_xscale("log")
        by_target: dict[int, list[str]] = {}
        for s in digest.sla:
            by_target.setdefault(s.target_minutes, []).append(s.network)
        for target, networks in sorted(by_target.items()):
            right.axvline(target, color="#555555", linestyle="--", linewidth=0.8)
            right.text(target, right.get_ylim()[1] * 0.95, f" SLA {', '.join(networks)}",
                       rotation=90, va="top", ha="right", fontsize="x-small", color="#555555")
    else:
        right.text(0.5, 0.5, "no replies", transform=right.transAxes, ha="center", va="center")
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()

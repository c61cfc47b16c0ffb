"""Spike detection, and the flood gate that keeps a flood from becoming thousands of cards.

A brand spikes when, in the trailing hour, its mentions (or its share of negative ones: the
triage model's negatives that are about the brand, spikes/queries.py) pass a
rolling baseline: the mean plus k standard deviations of the same hour of the day over the last
seven days, and at least a minimum count. Times are `created_at` on the network, so a source
that catches up a backlog does not look like a spike. While a brand floods (a volume spike with
at least three days of baseline, so a new brand is never throttled on a guess), the pipeline gives
it a budget of cards per hour; past it, deliveries are stored "grouped" and the alert counts them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.reporting.spikes.queries import SpikeQueries
from bot.store import Store

HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class HourStats:
    brand_id: int
    start: datetime
    end: datetime
    count: int
    negative: int
    baseline_days: int
    mean: float
    sd: float
    threshold: float
    negative_share: float
    negative_threshold: float
    min_count: int
    # Negative mentions that also need a reply (bot.triage), of `negative`.
    complaints: int = 0

    @property
    def volume_spike(self) -> bool:
        return self.count >= self.min_count and self.count > self.threshold

    @property
    def negative_spike(self) -> bool:
        return self.count >= self.min_count and self.negative_share > self.negative_threshold

    @property
    def kind(self) -> str | None:
        if self.volume_spike and self.negative_spike:
            return "both"
        if self.volume_spike:
            return "volume"
        return "negative" if self.negative_spike else None


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and population standard deviation (0, 0 for no values)."""
    if not values:
        return 0.0, 0.0
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


class SpikeDetector:
    """Compares a brand's trailing hour with the same hour of the previous days."""

    def __init__(self, store: Store, *, k: float = 3.0, min_count: int = 10,
                 cold_start_count: int = 30, baseline_days: int = 7,
                 min_baseline_days: int = 3, cards_per_hour: int = 20) -> None:
        self.store = store
        self.q = SpikeQueries(store)
        self.k = k
        self.min_count = min_count
        # Without any history a brand spikes only past this many mentions an hour.
        self.cold_start_count = cold_start_count
        self.baseline_days = baseline_days
        self.min_baseline_days = min_baseline_days
        self.cards_per_hour = cards_per_hour

    def stats(self, brand_id: int, now: datetime, *, extra: int = 0,
              extra_negative: int = 0) -> HourStats:
        """The trailing hour against its baseline; `extra` counts mentions not stored yet."""
        created = self._created(brand_id)
        windows = [(now - timedelta(days=d) - HOUR, now - timedelta(days=d))
                   for d in range(self.baseline_days + 1)]
        windows = [w for i, w in enumerate(windows) if i == 0 or created is None
                   or w[0] >= created]
        counts = dict.fromkeys(range(len(windows)), (0, 0, 0))
        counts.update(self.q.hour_counts(brand_id, windows, now))
        count, negative = counts[0][0] + extra, counts[0][1] + extra_negative
        past = [counts[i] for i in range(1, len(windows))]
        mean, sd = mean_sd([float(n) for n, _, _ in past])
        shares = [ng / n for n, ng, _ in past if n]
        share_mean, share_sd = mean_sd(shares)
        if len(past) == 0:
            threshold, share_threshold = float(self.cold_start_count), 1.0
        else:
            threshold = mean + self.k * sd
            share_threshold = min(share_mean + self.k * share_sd, 1.0) if shares else 1.0
            if share_threshold >= 1.0 and shares:
                share_threshold = 0.999  # an all-negative hour still counts after calm ones
        return HourStats(brand_id, windows[0][0], now, count, negative, len(past), mean, sd,
                         threshold, negative / count if count else 0.0, share_threshold,
                         self.min_count, counts[0][2])

    def is_flooding(self, brand_id: int, now: datetime, *, extra: int = 0) -> bool:
        """A volume spike on at least `min_baseline_days` of history: the relay groups it."""
        s = self.stats(brand_id, now, extra=extra)
        return s.volume_spike and s.baseline_days >= self.min_baseline_days

    def card_budget(self, brand_id: int, now: datetime,
                    incoming: Sequence[datetime]) -> int | None:
        """While the brand floods: how many of the incoming mentions may still become cards
        this hour (the pipeline stores the rest as grouped). None: not flooding, no limit."""
        recent = sum(1 for at in incoming if now - HOUR <= at < now + timedelta(minutes=5))
        if not self.is_flooding(brand_id, now, extra=recent):
            return None
        given = self.q.cards_given(brand_id, seen_since=now - HOUR)
        return max(self.cards_per_hour - given, 0)

    def _created(self, brand_id: int) -> datetime | None:
        return self.q.brand_created(brand_id)


__all__ = ["HourStats", "SpikeDetector", "mean_sd"]

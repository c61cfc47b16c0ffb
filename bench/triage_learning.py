"""The learning curve of the team models: quality of relevance and needs-reply on held-out posts
after 0, 100, 300 and 1,000 feedback events replayed from a labelled set.

Each feedback event is what a person does with one post: "not about us" (`notus`) for a post
about something else, an answer (`replied`) for one that needed it, "no reply needed"
(`noreply`) for the rest; each gives the labels bot/triage/feedback.py says, learnt by the same
`Weights.learn` on the same features as the store applies in the feedback's transaction
(tests/bot/test_feedback.py checks that the two agree). One model per brand.

    python bench/triage_learning.py           # the table, then one JSON line
    python bench/triage_learning.py --tune    # the search that picked bot/triage/learn.py's
                                              # rate, L2, bias and dead zone (validation only)

`learning_curve(examples)` is what bench/triage.py calls with its own base scores.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.triage_examples import Example, labelled_set
from bot.triage.feedback import LABELS, NO_REPLY, NOT_ABOUT_US
from bot.triage.learn import BIAS_RATE, DEAD_ZONE, L2, LEARNING_RATE, Weights, features

CHECKPOINTS = (0, 100, 300, 1000)


def _example(e: Example | Mapping[str, Any]) -> Example:
    return e if isinstance(e, Example) else Example(**e)


def action_for(e: Example) -> str:
    """What a person does with this post (and so which labels it gives)."""
    if not e.relevance:
        return NOT_ABOUT_US
    return "replied" if e.needs_reply else NO_REPLY


def auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Area under the ROC curve (Mann-Whitney, ties counted half); None with one class."""
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    if not pos or not neg:
        return None
    ranked = sorted((s, i) for i, s in enumerate(scores))
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(ranked):
        j = i
        while j + 1 < len(ranked) and ranked[j + 1][0] == ranked[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[ranked[k][1]] = (i + j) / 2 + 1
        i = j + 1
    rank_pos = sum(r for r, y in zip(ranks, labels, strict=True) if y)
    return (rank_pos - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def f1(scores: Sequence[float], labels: Sequence[bool], threshold: float = 0.5) -> float:
    tp = sum(1 for s, y in zip(scores, labels, strict=True) if s >= threshold and y)
    fp = sum(1 for s, y in zip(scores, labels, strict=True) if s >= threshold and not y)
    fn = sum(1 for s, y in zip(scores, labels, strict=True) if s < threshold and y)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


# The shipped learning (bot/triage/learn.py); --tune tries others on the validation part.
SHIPPED: dict[str, Any] = {"rate": LEARNING_RATE, "bias_rate": BIAS_RATE, "l2": L2,
                           "balanced": False, "dead_zone": DEAD_ZONE}


def _quality(models: Mapping[tuple[str, str], Weights], test: Sequence[Example],
             dead_zone: float = DEAD_ZONE) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for target in ("relevance", "needs_reply"):
        scores = []
        for e in test:
            base = e.base_relevance if target == "relevance" else e.base_needs_reply
            w = models.get((e.brand, target))
            scores.append(w.predict(features(e.text, network=e.network), base,
                                    dead_zone=dead_zone) if w else base)
        labels = [getattr(e, target) for e in test]
        a = auc(scores, labels)
        out[f"{target}_auc"] = None if a is None else round(a, 3)
        out[f"{target}_f1"] = round(f1(scores, labels), 3)
    return out


def learning_curve(examples: Iterable[Example | Mapping[str, Any]], *,
                   checkpoints: Sequence[int] = CHECKPOINTS, seed: int = 15,
                   params: Mapping[str, Any] | None = None,
                   test: Sequence[Example] | None = None) -> list[dict[str, Any]]:
    """Quality on the examples of split "test" after each number of feedback events replayed
    from the examples of split "feedback" (in a shuffled order, the same for a given seed).
    Each row: events, relevance_auc, relevance_f1, needs_reply_auc, needs_reply_f1, test.
    A checkpoint beyond the feedback examples is left out. `params`: the learning (SHIPPED
    by default); `test`: other posts to score (--tune's validation part), every example given
    is then replayed."""
    p = {**SHIPPED, **(params or {})}
    items = [_example(e) for e in examples]
    if test is None:
        test = [e for e in items if e.split == "test"]
        pool = [e for e in items if e.split != "test"]
    else:
        pool = list(items)
    random.Random(seed).shuffle(pool)
    models: dict[tuple[str, str], Weights] = {}
    seen: dict[tuple[str, str], list[int]] = {}  # (brand, target) -> [negatives, positives]
    rows: list[dict[str, Any]] = []
    done = 0
    for stop in sorted(checkpoints):
        if stop > len(pool):
            break
        for e in pool[done:stop]:
            x = features(e.text, network=e.network)
            for target, label in LABELS[action_for(e)].items():
                base = e.base_relevance if target == "relevance" else e.base_needs_reply
                counts = seen.setdefault((e.brand, target), [0, 0])
                counts[int(label)] += 1
                # Class-balanced: each class weighs as much as the other so far (at most 5x).
                weight = (min(5.0, sum(counts) / (2 * counts[int(label)])) if p["balanced"]
                          else 1.0)
                models.setdefault((e.brand, target), Weights()).learn(
                    x, base, label, rate=p["rate"], bias_rate=p["bias_rate"], l2=p["l2"],
                    weight=weight)
        done = stop
        rows.append({"events": stop, **_quality(models, test, p["dead_zone"]),
                     "test": len(test)})
    return rows


def validation_part(e: Example) -> bool:
    """The validation part of the feedback split, for --tune: whole groups (one template in
    four of those the feedback split has, three demo posts in ten), so that it asks, as the
    test split does, about wordings the fitting never showed."""
    if e.source == "generated":
        return int(e.group.rsplit("/", 1)[1]) % 4 == 2
    return zlib.crc32(f"validation:{e.group}".encode()) % 10 < 3


GRID: dict[str, Sequence[Any]] = {
    "dead_zone": (0.0, 0.25, 0.5, 1.0), "rate": (0.3, 0.6, 1.0, 1.5), "l2": (1e-4, 1e-2),
    "balanced": (False, True), "bias_rate": (0.0, 0.05)}


def tune(examples: Sequence[Example]) -> list[tuple[float, float, dict[str, Any]]]:
    """Every setting of GRID replayed on the feedback split without its validation part and
    scored on that part (the test split is not read): (worst F1 change against no feedback,
    mean gain in F1 + AUC over the checkpoints, setting), best first: no F1 lost (within
    0.002), then the largest gain."""
    feedback = [e for e in examples if e.split != "test"]
    fit = [e for e in feedback if not validation_part(e)]
    val = [e for e in feedback if validation_part(e)]
    out = []
    for values in itertools.product(*GRID.values()):
        params = dict(zip(GRID, values, strict=True))
        rows = learning_curve(fit, checkpoints=(0, 100, 300, len(fit)), params=params,
                              test=val)
        first, later = rows[0], rows[1:]
        worst = min(min(r["relevance_f1"] - first["relevance_f1"],
                        r["needs_reply_f1"] - first["needs_reply_f1"]) for r in later)

        def total(r: Mapping[str, Any]) -> float:
            return float(r["relevance_f1"] + r["needs_reply_f1"] + (r["relevance_auc"] or 0)
                         + (r["needs_reply_auc"] or 0))

        gain = sum(total(r) for r in later) / len(later) - total(first)
        out.append((round(worst, 4), round(gain, 4), params))
    out.sort(key=lambda t: (t[0] >= -0.002, t[1]), reverse=True)
    return out


DEMO_BRANDS = Path(__file__).resolve().parent.parent / "integrations" / "networks" / \
    "replay_data" / "brands.json"


def base_scorer() -> Callable[[Example], Example]:
    """The base model's real scores (bot.triage.analyze, the pipeline's function) as each
    example's base_relevance and base_needs_reply; relevance weighs the demo brand's name and
    query as the pipeline would (bot.triage.brands)."""
    from bot.triage import analyze
    from bot.triage.brands import brand_terms

    brands = json.loads(DEMO_BRANDS.read_text(encoding="utf-8"))["brands"]
    terms = {b["name"]: brand_terms(b["name"], b["query"]) for b in brands}

    def scored(e: Example) -> Example:
        s = analyze(e.text, lang=e.lang, network=e.network, brand=terms.get(e.brand))
        return replace(e, base_relevance=s.relevance if s.relevance is not None else 0.5,
                       base_needs_reply=s.needs_reply)

    return scored


def scored_set() -> list[Example]:
    """The labelled set with the base model's scores."""
    scorer = base_scorer()
    return [scorer(e) for e in labelled_set()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tune", action="store_true",
                    help="search the learning's settings on the validation part")
    args = ap.parse_args()
    examples = scored_set()
    if args.tune:
        ranked = tune(examples)
        for worst, gain, params in ranked[:10]:
            print(f"worst F1 change {worst:+.3f}  gain {gain:+.3f}  {json.dumps(params)}")
        print(json.dumps({"tune": [{"worst_f1_change": w, "gain": g, **p}
                                   for w, g, p in ranked], "shipped": SHIPPED}))
        return
    feedback = sum(1 for e in examples if e.split != "test")
    print(f"labelled set: {len(examples)} posts ({feedback} for feedback, "
          f"{len(examples) - feedback} held out; "
          f"{sum(1 for e in examples if e.source == 'replay')} from the demo replay); base: "
          "bot.triage.analyze")
    rows = learning_curve(examples)
    print_curve(rows)
    # The hand-labelled demo posts alone (about 160 for feedback): real posts, few of them.
    replay_rows = learning_curve([e for e in examples if e.source == "replay"],
                                 checkpoints=(0, 100))
    print("demo replay only:", json.dumps(replay_rows))
    print(json.dumps({"learning_curve": rows, "replay_only": replay_rows,
                      "examples": len(examples), "feedback_examples": feedback,
                      "base": "bot.triage.analyze"}))


def print_curve(rows: Sequence[Mapping[str, Any]]) -> None:
    print(f"{'events':>7} {'rel AUC':>8} {'rel F1':>7} {'need AUC':>9} {'need F1':>8}")
    for r in rows:
        print(f"{r['events']:>7} {r['relevance_auc']!s:>8} {r['relevance_f1']:>7} "
              f"{r['needs_reply_auc']!s:>9} {r['needs_reply_f1']:>8}")


if __name__ == "__main__":
    main()

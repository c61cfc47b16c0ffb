"""The learning curve of the team models: quality of relevance and needs-reply on held-out posts
after 0, 100, 300 and 1,000 feedback events replayed from a labelled set.

Each feedback event is what a person does with one post: "not about us" (`notus`) for a post
about something else, an answer (`replied`) for one that needed it, "no reply needed"
(`noreply`) for the rest; each gives the labels bot/triage/feedback.py says, learnt by the same
`Weights.learn` on the same features as the store applies in the feedback's transaction
(tests/bot/test_feedback.py checks that the two agree). One model per brand.

    python bench/triage_learning.py           # the table, then one JSON line

`learning_curve(examples)` is what bench/triage.py calls with its own base scores.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.triage_examples import Example, labelled_set
from bot.triage.feedback import LABELS, NO_REPLY, NOT_ABOUT_US
from bot.triage.learn import Weights, features

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


def _quality(models: Mapping[tuple[str, str], Weights], test: Sequence[Example]
             ) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for target in ("relevance", "needs_reply"):
        scores = []
        for e in test:
            base = e.base_relevance if target == "relevance" else e.base_needs_reply
            w = models.get((e.brand, target))
            scores.append(w.predict(features(e.text, network=e.network), base) if w else base)
        labels = [getattr(e, target) for e in test]
        a = auc(scores, labels)
        out[f"{target}_auc"] = None if a is None else round(a, 3)
        out[f"{target}_f1"] = round(f1(scores, labels), 3)
    return out


def learning_curve(examples: Iterable[Example | Mapping[str, Any]], *,
                   checkpoints: Sequence[int] = CHECKPOINTS, seed: int = 15
                   ) -> list[dict[str, Any]]:
    """Quality on the examples of split "test" after each number of feedback events replayed
    from the examples of split "feedback" (in a shuffled order, the same for a given seed).
    Each row: events, relevance_auc, relevance_f1, needs_reply_auc, needs_reply_f1, test.
    A checkpoint beyond the feedback examples is left out."""
    items = [_example(e) for e in examples]
    test = [e for e in items if e.split == "test"]
    pool = [e for e in items if e.split != "test"]
    random.Random(seed).shuffle(pool)
    models: dict[tuple[str, str], Weights] = {}
    rows: list[dict[str, Any]] = []
    done = 0
    for stop in sorted(checkpoints):
        if stop > len(pool):
            break
        for e in pool[done:stop]:
            x = features(e.text, network=e.network)
            for target, label in LABELS[action_for(e)].items():
                base = e.base_relevance if target == "relevance" else e.base_needs_reply
                models.setdefault((e.brand, target), Weights()).learn(x, base, label)
        done = stop
        rows.append({"events": stop, **_quality(models, test), "test": len(test)})
    return rows


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
    examples = scored_set()
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

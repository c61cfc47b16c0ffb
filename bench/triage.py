"""Benchmark: the triage sentiment model against VADER, the German Pattern lexicon and the
majority class, per language, on the held-out split of the corpora it was trained on.

    python bench/triage.py [--data /work/data-triage]

Held-out: bucket 8-9 of bench/triage_data.py's deterministic split of the evaluated corpus of
each language (German: GermEval 2017 dev posts about Deutsche Bahn; English: TweetEval
sentiment); never used for fitting or for tuning (bench/train_triage.py tunes on buckets 6-7).
The raw corpora are not in the repository: when a file is missing the benchmark says which and
how to obtain it (docs/triage.md) and exits with status 2.

Prints accuracy, macro-F1 and per-class recall for each method and language (and posts per
CPU-second of one core, after a warm-up; GermEval's held-out posts include long articles, read
up to 2,000 characters), then the goal check (macro-F1 >= 0.65 and negative recall >= 0.75
per language); the last line is one JSON object with every figure. Sections are functions of
(data directory) -> dict, listed in SECTIONS, each adding its own key to that object (the
learning curve after 0, 100, 300 and 1,000 feedback events is the second, "learning").
`measure(quick)` and `table_rows(figures)` are bench/all.py's interface: quick runs the
sentiment methods on an evenly spaced subset of each held-out split; missing corpora make the
sentiment figures "unavailable" (a row "not measured"), not an error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from triage_data import (  # noqa: E402
    DEFAULT_DIR,
    EVALUATED,
    LABELS,
    MissingData,
    corpora,
    part,
)

from bot.enrich import LexiconSentiment  # noqa: E402
from bot.triage import sentiment  # noqa: E402

GOAL_MACRO_F1 = 0.65
GOAL_NEG_RECALL = 0.75


def scores(gold: list[str], pred: list[str]) -> dict[str, float]:
    n = max(1, len(gold))
    out: dict[str, float] = {"n": len(gold),
                             "accuracy": sum(g == p for g, p in zip(gold, pred, strict=True)) / n}
    f1s = []
    for c in LABELS:
        tp = sum(g == c == p for g, p in zip(gold, pred, strict=True))
        fp = sum(g != c and p == c for g, p in zip(gold, pred, strict=True))
        fn = sum(g == c and p != c for g, p in zip(gold, pred, strict=True))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        out[f"recall_{c}"] = rec
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    out["macro_f1"] = sum(f1s) / len(f1s)
    return {k: round(v, 4) for k, v in out.items()}


def sentiment_section(data: Path, *, limit: int | None = None) -> dict[str, Any]:
    """Every method on each language's held-out split (with `limit`: an evenly spaced subset
    of at most that many of its posts, the same each run)."""
    lexicon = LexiconSentiment()
    out: dict[str, Any] = {}
    for lang in ("de", "en"):
        examples = corpora(data, lang)
        heldout = part(examples, "heldout", EVALUATED[lang])
        if limit is not None and len(heldout) > limit:
            step = len(heldout) / limit
            heldout = [heldout[int(i * step)] for i in range(limit)]
        majority = Counter(e.label for e in part(examples, "train", EVALUATED[lang]))
        top = majority.most_common(1)[0][0]
        gold = [e.label for e in heldout]
        methods: dict[str, Callable[[str], str]] = {
            "triage": lambda t, lang=lang: sentiment(t, lang).label,
            "vader": lambda t: lexicon.score(t, "en").label.value,
            "majority": lambda t, top=top: top,
        }
        if lang == "de":
            methods["pattern_de"] = lambda t: lexicon.score(t, "de").label.value
        res: dict[str, Any] = {"corpus": EVALUATED[lang], "n": len(heldout),
                               "subset": limit is not None and len(heldout) == limit}
        for name, method in methods.items():
            method(heldout[0].text)  # loads the method's model: not part of posts/s
            # CPU time of this process: steadier than wall time on a shared machine.
            started = time.process_time()
            pred = [method(e.text) for e in heldout]
            elapsed = time.process_time() - started
            res[name] = scores(gold, pred)
            res[name]["per_s"] = round(len(heldout) / elapsed) if elapsed else None
        res["goal_met"] = (res["triage"]["macro_f1"] >= GOAL_MACRO_F1
                           and res["triage"]["recall_negative"] >= GOAL_NEG_RECALL)
        out[lang] = res
    return out


def print_sentiment(result: dict[str, Any]) -> None:
    print(f"{'lang':4} {'method':10} {'n':>5} {'acc':>6} {'macroF1':>7} "
          f"{'rec-neg':>7} {'rec-neu':>7} {'rec-pos':>7} {'posts/s':>8}")
    for lang, res in result.items():
        for name in ("triage", "vader", "pattern_de", "majority"):
            if name not in res:
                continue
            s = res[name]
            print(f"{lang:4} {name:10} {s['n']:>5} {s['accuracy']:>6.3f} {s['macro_f1']:>7.3f} "
                  f"{s['recall_negative']:>7.3f} {s['recall_neutral']:>7.3f} "
                  f"{s['recall_positive']:>7.3f} {s['per_s'] or 0:>8}")
        print(f"{lang}: goal (macro-F1 >= {GOAL_MACRO_F1}, negative recall >= "
              f"{GOAL_NEG_RECALL}) {'met' if res['goal_met'] else 'NOT met'} "
              f"on {res['corpus']} held-out")


def learning_section(data: Path) -> dict[str, Any]:
    """Quality of relevance and needs-reply on held-out posts after 0, 100, 300 and 1,000
    feedback events (bench/triage_learning.py), learnt against this model's real scores (the
    base relevance and needs-reply bot.triage.analyze gives each post). Needs no corpus: the
    labelled set ships with the repository (bench/triage_examples.py)."""
    from triage_learning import learning_curve, scored_set

    examples = scored_set()
    feedback = sum(1 for e in examples if e.split != "test")
    return {"curve": learning_curve(examples), "examples": len(examples),
            "feedback_examples": feedback, "base": "bot.triage.analyze"}


def print_learning(result: dict[str, Any]) -> None:
    from triage_learning import print_curve

    print(f"learning from the team: {result['examples']} labelled posts "
          f"({result['feedback_examples']} replayed as feedback, the rest held out); "
          f"base scores from {result['base']}")
    print_curve(result["curve"])


# (key in the JSON object, section, printer).
SECTIONS: list[tuple[str, Callable[[Path], dict[str, Any]], Callable[[dict[str, Any]], None]]] = [
    ("sentiment", sentiment_section, print_sentiment),
    ("learning", learning_section, print_learning),
]


QUICK_HELDOUT = 300  # posts per language in bench/all.py --quick


def measure(quick: bool = False, data: Path = DEFAULT_DIR) -> dict[str, Any]:
    """The figures for bench/all.py. Quick: the sentiment methods on an evenly spaced subset of
    each language's held-out split (QUICK_HELDOUT posts); the learning curve (a few seconds,
    on the shipped labelled set) runs in both modes. Where the corpora are missing the
    sentiment figures are {"unavailable": why} (bench/all.py shows them as not measured)
    instead of an exception."""
    figures: dict[str, Any] = {"quick": quick}
    try:
        figures["sentiment"] = sentiment_section(data, limit=QUICK_HELDOUT if quick else None)
    except MissingData as exc:
        figures["sentiment"] = {"unavailable": str(exc)}
    figures["learning"] = learning_section(data)
    return figures


def table_rows(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """bench/all.py's rows: per language the model's macro-F1 (against the best of the other
    methods, same posts) and negative recall, each against its goal; posts/s per CPU-second;
    then the learning curve's first and last checkpoints. A section not measured is one row
    saying why, with no value and no pass/fail."""
    rows: list[dict[str, Any]] = []
    sent = figures.get("sentiment", {})
    if "unavailable" in sent:
        rows.append({"bench": "triage",
                     "figure": f"sentiment: not measured ({sent['unavailable']})",
                     "value": None})
    for lang, res in sorted((k, v) for k, v in sent.items() if k != "unavailable"):
        own = res["triage"]
        others = {m: res[m]["macro_f1"] for m in ("vader", "pattern_de", "majority") if m in res}
        best = max(others, key=lambda m: others[m])
        subset = " (subset)" if res.get("subset") else ""
        where = f"{res['corpus']} held-out, {res['n']:,} posts{subset}"
        rows.append({
            "bench": "triage", "figure": f"sentiment {lang} macro-F1 ({where})",
            "value": own["macro_f1"], "goal": f">= {GOAL_MACRO_F1}",
            "baseline": f"{best} {others[best]}",
            "ratio": round(own["macro_f1"] / others[best], 2) if others[best] else None,
            "ok": own["macro_f1"] >= GOAL_MACRO_F1})
        rows.append({
            "bench": "triage", "figure": f"sentiment {lang} negative recall",
            "value": own["recall_negative"], "goal": f">= {GOAL_NEG_RECALL}",
            "baseline": f"{best} {res[best]['recall_negative']}",
            "ok": own["recall_negative"] >= GOAL_NEG_RECALL})
        rows.append({"bench": "triage", "figure": f"sentiment {lang} posts per CPU-second",
                     "value": own["per_s"], "unit": "posts/s"})
    learning = figures.get("learning", {})
    if "unavailable" in learning:
        rows.append({"bench": "triage",
                     "figure": f"learning curve: not measured ({learning['unavailable']})",
                     "value": None})
    elif learning.get("curve"):
        curve = learning["curve"]
        first, last = curve[0], curve[-1]
        for key, name in (("relevance_auc", "relevance AUC"),
                          ("needs_reply_auc", "needs-reply AUC")):
            if last.get(key) is None:
                continue
            base = first.get(key)
            rows.append({
                "bench": "triage",
                "figure": f"team model {name} after {last['events']:,} feedback events "
                          f"({last['test']} held-out posts)",
                "value": last[key], "baseline": f"{first['events']} events {base}",
                "ratio": round(last[key] / base, 2) if base else None})
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DIR,
                    help="directory of the corpora (docs/triage.md, 'Data')")
    args = ap.parse_args()
    figures: dict[str, Any] = {}
    for key, section, show in SECTIONS:
        try:
            figures[key] = section(args.data)
        except MissingData as exc:
            print(f"bench/triage.py: {exc}", file=sys.stderr)
            print(json.dumps({"error": str(exc)}))
            return 2
        show(figures[key])
    print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The learning curve's arithmetic and its labelled set (bench/triage_learning.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.triage_examples import Example, generated, labelled_set, replay
from bench.triage_learning import auc, f1, learning_curve


def test_auc_and_f1() -> None:
    assert auc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == 0.75
    assert auc([0.5, 0.5], [False, True]) == 0.5
    assert auc([0.2, 0.3], [True, True]) is None
    assert f1([0.9, 0.6, 0.2], [True, False, True]) == pytest.approx(0.5)
    assert f1([0.1], [True]) == 0.0


def test_no_feedback_leaves_the_base_scores_and_feedback_helps() -> None:
    examples = labelled_set()
    rows = learning_curve(examples)
    assert [r["events"] for r in rows] == [0, 100, 300, 1000]
    assert rows[0]["relevance_auc"] == rows[0]["needs_reply_auc"] == 0.5  # all undecided
    # Slower than it could be on an undecided base: the learning rate, L2 and dead zone were
    # picked for the real base scores (bench/triage_learning.py --tune, docs/triage.md).
    assert rows[-1]["relevance_auc"] > 0.9 and rows[-1]["needs_reply_auc"] > 0.7
    # Dicts with the same fields work as well (bench/triage.py passes its own base scores).
    as_dicts = [{"brand": e.brand, "text": e.text, "relevance": e.relevance,
                 "needs_reply": e.needs_reply, "split": e.split, "base_relevance": 0.9}
                for e in examples[:300]]
    assert learning_curve(as_dicts, checkpoints=(0,))[0]["relevance_f1"] > 0


def test_the_labelled_set() -> None:
    posts = replay()
    assert len(posts) == 240 and {e.source for e in posts} == {"replay"}
    assert {e.brand for e in posts} == {"Acme Rockets", "Kaffeehaus Müller", "Nordlicht Bank"}
    made = generated()
    assert sum(1 for e in made if e.split != "test") >= 900
    # Held-out templates: no test sentence was seen as feedback.
    seen = {e.text for e in made if e.split != "test"}
    assert not [e for e in made if e.split == "test" and e.text in seen]
    assert all(isinstance(e, Example) for e in made)


def test_the_validation_part_is_whole_groups_of_the_feedback_split() -> None:
    from bench.triage_learning import validation_part

    examples = labelled_set()
    val = [e for e in examples if e.split != "test" and validation_part(e)]
    fit = [e for e in examples if e.split != "test" and not validation_part(e)]
    assert 200 < len(val) < len(fit)
    assert {e.group for e in val}.isdisjoint({e.group for e in fit})
    # Every group is one template or one demo post, and none straddles the splits.
    assert {e.group for e in examples if e.split == "test"}.isdisjoint(
        {e.group for e in examples if e.split != "test"})
    # Scoring other posts than the test split replays every example given.
    rows = learning_curve(fit, checkpoints=(0, len(fit)), test=val)
    assert rows[-1]["events"] == len(fit) and rows[-1]["test"] == len(val)


def test_feedback_does_not_make_the_real_base_worse() -> None:
    """The learning curve against bot.triage.analyze's own scores (what bench/triage.py
    prints): F1 at 0.5 never falls below what the base model gives without feedback, and the
    ranking of needs-reply improves."""
    from bench.triage_learning import scored_set

    rows = learning_curve(scored_set())
    first = rows[0]
    for r in rows[1:]:
        assert r["relevance_f1"] >= first["relevance_f1"] - 0.005
        assert r["needs_reply_f1"] >= first["needs_reply_f1"] - 0.005
    assert rows[-1]["needs_reply_auc"] > first["needs_reply_auc"]


def test_tune_never_reads_the_test_split(monkeypatch: pytest.MonkeyPatch) -> None:
    """--tune scores settings on the validation part only: flipping every test label changes
    nothing; results come best first (no F1 lost, then the largest gain)."""
    from dataclasses import replace

    import bench.triage_learning as tl

    monkeypatch.setattr(tl, "GRID", {"dead_zone": (0.0, 0.25), "rate": (0.6,), "l2": (1e-2,),
                                     "balanced": (False,), "bias_rate": (0.0, 0.05)})
    examples = generated(per_template=6)
    flipped = [replace(e, relevance=not e.relevance, needs_reply=not e.needs_reply)
               if e.split == "test" else e for e in examples]
    ranked = tl.tune(examples)
    assert ranked == tl.tune(flipped)
    assert len(ranked) == 4
    keys = [(w >= -0.002, g) for w, g, _ in ranked]
    assert keys == sorted(keys, reverse=True)

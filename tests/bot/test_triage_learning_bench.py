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
    assert rows[-1]["relevance_auc"] > 0.9 and rows[-1]["needs_reply_auc"] > 0.8
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
